// Package cyclonedx encodes a tether SBOM as a CycloneDX 1.6 BOM (JSON or XML) and
// decodes CycloneDX 1.4 to 1.7 BOMs, tether's and other tools' (Syft, Trivy).
package cyclonedx

import (
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/sbom/spdx"
)

// SpecVersion is the CycloneDX version the encoders write.
const SpecVersion = "1.6"

// subjectRef is the bom-ref of metadata.component.
const subjectRef = "tether:subject"

// EncodeJSON writes s as a CycloneDX 1.6 JSON BOM. The same s gives the same bytes.
func EncodeJSON(w io.Writer, s *sbom.SBOM) error {
	bom, err := toBOM(s)
	if err != nil {
		return err
	}
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("cyclonedx: encoding JSON: %w", err)
	}
	return nil
}

// EncodeXML writes s as a CycloneDX 1.6 XML BOM. The same s gives the same bytes.
func EncodeXML(w io.Writer, s *sbom.SBOM) error {
	bom, err := toBOM(s)
	if err != nil {
		return err
	}
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatXML)
	enc.SetPretty(true)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("cyclonedx: encoding XML: %w", err)
	}
	_, err = io.WriteString(w, "\n")
	return err
}

func toBOM(s *sbom.SBOM) (*cdx.BOM, error) {
	if s == nil {
		return nil, fmt.Errorf("cyclonedx: nil SBOM")
	}
	serial, err := serialNumber(s)
	if err != nil {
		return nil, err
	}
	bom := cdx.NewBOM()
	bom.SerialNumber = serial
	tool := s.Tool
	if tool.Name == "" {
		tool.Name = "tether"
	}
	bom.Metadata = &cdx.Metadata{
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: tool.Name, Version: tool.Version,
		}}},
		Component: subjectComponent(s.Subject),
	}
	if !s.Created.IsZero() {
		bom.Metadata.Timestamp = s.Created.UTC().Format(time.RFC3339)
	}
	if ps := toProperties(sbom.ProblemProperties(s.Problems)); ps != nil {
		bom.Properties = ps
	}

	pkgs := slices.Clone(s.Packages)
	sort.SliceStable(pkgs, func(i, j int) bool { return pkgs[i].ID < pkgs[j].ID })
	rels := slices.Clone(s.Relationships)
	sbom.SortRelationships(rels)
	known := make(map[string]bool, len(pkgs))
	for _, p := range pkgs {
		known[p.ID] = true
	}
	extra := map[string][]sbom.Property{}
	deps := map[string][]string{}
	for _, r := range rels {
		if !known[r.From] || !known[r.To] {
			continue
		}
		switch r.Type {
		case sbom.DependsOn:
			deps[r.From] = append(deps[r.From], r.To)
		case sbom.DevDependsOn:
			deps[r.From] = append(deps[r.From], r.To)
			extra[r.From] = append(extra[r.From], sbom.Property{Name: sbom.PropDevDependsOn, Value: r.To})
		case sbom.Contains:
			extra[r.From] = append(extra[r.From], sbom.Property{Name: sbom.PropContains, Value: r.To})
		}
	}

	comps := make([]cdx.Component, 0, len(pkgs))
	var dependencies []cdx.Dependency
	seen := map[string]bool{}
	for _, p := range pkgs {
		if seen[p.ID] {
			return nil, fmt.Errorf("cyclonedx: two packages with ID %q", p.ID)
		}
		seen[p.ID] = true
		comps = append(comps, toComponent(p, extra[p.ID]))
		if d := slices.Compact(deps[p.ID]); len(d) > 0 {
			dependencies = append(dependencies, cdx.Dependency{Ref: p.ID, Dependencies: &d})
		}
	}
	if len(comps) > 0 {
		bom.Components = &comps
	}
	if len(dependencies) > 0 {
		bom.Dependencies = &dependencies
	}
	return bom, nil
}

func subjectComponent(sub sbom.Subject) *cdx.Component {
	c := &cdx.Component{BOMRef: subjectRef, Type: cdx.ComponentTypeApplication, Name: sub.Name}
	if c.Name == "" {
		c.Name = "unnamed"
	}
	if sub.Kind == sbom.SubjectImage {
		c.Type = cdx.ComponentTypeContainer
		c.Version = sub.ImageDigest
		if alg, sum, ok := strings.Cut(sub.ImageDigest, ":"); ok && alg == "sha256" && isHex(sum, 64) {
			c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: sum}}
		}
	}
	if sub.RepoURL != "" {
		ref := cdx.ExternalReference{Type: cdx.ERTypeVCS, URL: sub.RepoURL}
		if sub.Commit != "" {
			ref.Comment = "commit " + sub.Commit
		}
		c.ExternalReferences = &[]cdx.ExternalReference{ref}
	}
	var ps []sbom.Property
	add := func(n, v string) {
		if v != "" {
			ps = append(ps, sbom.Property{Name: n, Value: v})
		}
	}
	add(sbom.PropSubjectKind, string(sub.Kind))
	add(sbom.PropSubjectDigest, sub.ImageDigest)
	add(sbom.PropSubjectPlatform, sub.Platform)
	add(sbom.PropSubjectRepo, sub.RepoURL)
	add(sbom.PropSubjectCommit, sub.Commit)
	c.Properties = toProperties(ps)
	return c
}

func toComponent(p sbom.Package, extra []sbom.Property) cdx.Component {
	c := cdx.Component{
		BOMRef:     p.ID,
		Type:       cdx.ComponentTypeLibrary,
		Name:       p.Name,
		Version:    p.Version,
		PackageURL: p.PURL,
		Licenses:   toLicenses(p.Licenses),
	}
	if c.Name == "" {
		c.Name = "unnamed"
	}
	ps := sbom.PackageProperties(p, p.ID)
	cpes := p.CPEs
	if len(cpes) > 0 && cpePattern.MatchString(cpes[0]) {
		c.CPE, cpes = cpes[0], cpes[1:]
	}
	for _, cpe := range cpes { // the rest, and a first one the schema would refuse
		ps = append(ps, sbom.Property{Name: sbom.PropCPE, Value: cpe})
	}
	ps = append(ps, extra...)
	c.Properties = toProperties(ps)
	return c
}

// cpePattern is the pattern of the cpe element in bom-1.6.xsd: a CPE 2.2 URI or a
// CPE 2.3 formatted string.
var cpePattern = regexp.MustCompile(`^(?:([c][pP][eE]:/[AHOaho]?(:[A-Za-z0-9\._\-~%]*){0,6})|(cpe:2\.3:[aho\*\-](:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#$%&'\(\)\+,/:;<=>@\[\]\^` + "`" + `\{\|}~]))+(\?*|\*?))|[\*\-])){5}(:(([a-zA-Z]{2,3}(-([a-zA-Z]{2}|[0-9]{3}))?)|[\*\-]))(:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#$%&'\(\)\+,/:;<=>@\[\]\^` + "`" + `\{\|}~]))+(\?*|\*?))|[\*\-])){4}))$`)

// toLicenses maps each licence to an SPDX id, or to a name when it is not one; a
// single compound SPDX expression becomes an expression (CycloneDX allows an
// expression only on its own).
func toLicenses(licenses []string) *cdx.Licenses {
	var out cdx.Licenses
	for _, l := range licenses {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if len(licenses) == 1 && spdx.CompoundExpression(l) && spdx.ValidExpression(l) {
			out = append(out, cdx.LicenseChoice{Expression: l})
			continue
		}
		if id, ok := spdx.LicenseID(l); ok && id == l {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{ID: id}})
			continue
		}
		out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: l}})
	}
	if len(out) == 0 {
		return nil
	}
	return &out
}

func toProperties(ps []sbom.Property) *[]cdx.Property {
	if len(ps) == 0 {
		return nil
	}
	out := make([]cdx.Property, len(ps))
	for i, p := range ps {
		out[i] = cdx.Property{Name: p.Name, Value: p.Value}
	}
	return &out
}

// serialNumber is a urn:uuid derived from everything in s, so that the same SBOM
// gets the same serial number.
func serialNumber(s *sbom.SBOM) (string, error) {
	h, err := sbom.ContentHash(s)
	if err != nil {
		return "", fmt.Errorf("cyclonedx: %w", err)
	}
	u := h[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5 layout (name-based)
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	x := hex.EncodeToString(u)
	return "urn:uuid:" + x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32], nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
