package cyclonedx

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/tether-sec/tether/sbom"
)

// Decode errors.
var (
	// ErrUnknownFormat means the input is neither CycloneDX JSON nor CycloneDX XML.
	ErrUnknownFormat = errors.New("cyclonedx: not a CycloneDX JSON or XML BOM")
	// ErrUnsupportedVersion means the BOM is CycloneDX but of a spec version tether
	// does not read (it reads 1.4 to 1.7).
	ErrUnsupportedVersion = errors.New("cyclonedx: unsupported CycloneDX spec version")
)

// maxInput bounds what Decode reads.
const maxInput = 1 << 30

const xmlNamespacePrefix = "http://cyclonedx.org/schema/bom/"

// Decode reads a CycloneDX 1.4 to 1.7 BOM, JSON or XML (detected), as written by
// tether, Syft or Trivy.
func Decode(r io.Reader) (*sbom.SBOM, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("cyclonedx: reading: %w", err)
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("cyclonedx: BOM larger than %d bytes", maxInput)
	}
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrUnknownFormat)
	}
	var bom cdx.BOM
	switch data[0] {
	case '{':
		var head struct {
			BOMFormat   string  `json:"bomFormat"`
			SpecVersion *string `json:"specVersion"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, err)
		}
		if head.BOMFormat != cdx.BOMFormat || head.SpecVersion == nil {
			return nil, fmt.Errorf("%w: JSON without bomFormat CycloneDX and a specVersion", ErrUnknownFormat)
		}
		if err := checkVersion(*head.SpecVersion); err != nil {
			return nil, err
		}
		err = safe(func() error { return cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom) })
	case '<':
		ns, err := xmlRoot(data)
		if err != nil {
			return nil, err
		}
		if err := checkVersion(strings.TrimPrefix(ns, xmlNamespacePrefix)); err != nil {
			return nil, err
		}
		err = safe(func() error { return cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatXML).Decode(&bom) })
		if err != nil {
			return nil, fmt.Errorf("cyclonedx: parsing XML: %w", err)
		}
	default:
		return nil, ErrUnknownFormat
	}
	if err != nil {
		return nil, fmt.Errorf("cyclonedx: parsing: %w", err)
	}
	return fromBOM(&bom), nil
}

func checkVersion(v string) error {
	switch v {
	case "1.4", "1.5", "1.6", "1.7":
		return nil
	}
	return fmt.Errorf("%w %q: tether reads 1.4 to 1.7", ErrUnsupportedVersion, v)
}

// xmlRoot returns the namespace of the root element, which must be a CycloneDX bom.
func xmlRoot(data []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrUnknownFormat, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "bom" || !strings.HasPrefix(se.Name.Space, xmlNamespacePrefix) {
				return "", fmt.Errorf("%w: XML root is not a CycloneDX bom", ErrUnknownFormat)
			}
			return se.Name.Space, nil
		}
	}
}

// safe turns a panic in the CycloneDX library on hostile input into an error.
func safe(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed BOM: %v", r)
		}
	}()
	return f()
}

func fromBOM(bom *cdx.BOM) *sbom.SBOM {
	s := &sbom.SBOM{}
	for _, p := range props(bom.Properties) {
		s.Problems = sbom.ApplyProblemProperty(s.Problems, p.Name, p.Value)
	}
	if md := bom.Metadata; md != nil {
		if t, err := time.Parse(time.RFC3339, md.Timestamp); err == nil {
			s.Created = t
		}
		if tc := md.Tools; tc != nil {
			switch {
			case tc.Components != nil && len(*tc.Components) > 0:
				t := (*tc.Components)[0]
				s.Tool = sbom.Tool{Name: t.Name, Version: t.Version}
			case tc.Tools != nil && len(*tc.Tools) > 0:
				t := (*tc.Tools)[0]
				s.Tool = sbom.Tool{Name: t.Name, Version: t.Version}
			}
		}
		if md.Component != nil {
			s.Subject = subjectFrom(md.Component)
		}
	}

	var subject string
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		subject = bom.Metadata.Component.BOMRef
	}
	ids := map[string]bool{}
	extra := map[string][]cdx.Property{}
	var walk func(cs *[]cdx.Component, depth int)
	walk = func(cs *[]cdx.Component, depth int) {
		if cs == nil || depth > 32 {
			return
		}
		for _, c := range *cs {
			if keep(c) {
				p := packageFrom(c)
				base := p.ID
				if base == "" {
					base = p.PURL
				}
				if base == "" {
					base = p.Name + "@" + p.Version
				}
				p.ID = base
				for n := 2; ids[p.ID] || p.ID == subject; n++ {
					p.ID = base + "#" + strconv.Itoa(n)
				}
				ids[p.ID] = true
				extra[p.ID] = props(c.Properties)
				s.Packages = append(s.Packages, p)
			}
			walk(c.Components, depth+1)
		}
	}
	walk(bom.Components, 0)

	seen := map[sbom.Relationship]bool{}
	add := func(r sbom.Relationship) {
		if ids[r.From] && ids[r.To] && r.From != r.To && !seen[r] {
			seen[r] = true
			s.Relationships = append(s.Relationships, r)
		}
	}
	for id, ps := range extra {
		for _, p := range ps {
			switch p.Name {
			case sbom.PropDevDependsOn:
				add(sbom.Relationship{From: id, To: p.Value, Type: sbom.DevDependsOn})
			case sbom.PropContains:
				add(sbom.Relationship{From: id, To: p.Value, Type: sbom.Contains})
			}
		}
	}
	if bom.Dependencies != nil {
		for _, d := range *bom.Dependencies {
			if d.Dependencies == nil {
				continue
			}
			for _, to := range *d.Dependencies {
				if seen[sbom.Relationship{From: d.Ref, To: to, Type: sbom.DevDependsOn}] {
					continue
				}
				add(sbom.Relationship{From: d.Ref, To: to, Type: sbom.DependsOn})
			}
		}
	}
	sbom.SortRelationships(s.Relationships)
	return s
}

func props(ps *[]cdx.Property) []cdx.Property {
	if ps == nil {
		return nil
	}
	return *ps
}

// keep reports whether a component is a package: operating systems and files are
// not, unless they carry a purl, nor are the groups Trivy adds.
func keep(c cdx.Component) bool {
	for _, p := range props(c.Properties) {
		if p.Name == "aquasecurity:trivy:Class" { // Trivy's grouping of an OS or a lockfile
			return false
		}
	}
	if c.PackageURL != "" {
		return true
	}
	switch c.Type {
	case cdx.ComponentTypeOS, cdx.ComponentTypeFile, cdx.ComponentTypeContainer, cdx.ComponentTypeData:
		return false
	}
	return c.Name != ""
}

func subjectFrom(c *cdx.Component) sbom.Subject {
	sub := sbom.Subject{Name: c.Name, Kind: sbom.SubjectDirectory}
	if c.Type == cdx.ComponentTypeContainer {
		sub.Kind = sbom.SubjectImage
		if strings.HasPrefix(c.Version, "sha256:") {
			sub.ImageDigest = c.Version
		}
		if sub.ImageDigest == "" && c.Hashes != nil {
			for _, h := range *c.Hashes {
				if h.Algorithm == cdx.HashAlgoSHA256 {
					sub.ImageDigest = "sha256:" + h.Value
					break
				}
			}
		}
	}
	if c.ExternalReferences != nil {
		for _, r := range *c.ExternalReferences {
			if r.Type == cdx.ERTypeVCS && sub.RepoURL == "" {
				sub.RepoURL = r.URL
				if commit, ok := strings.CutPrefix(r.Comment, "commit "); ok {
					sub.Commit = commit
				}
			}
		}
	}
	for _, p := range props(c.Properties) {
		if sbom.ApplySubjectProperty(&sub, p.Name, p.Value) {
			continue
		}
		if p.Name == "aquasecurity:trivy:RepoDigest" {
			if _, d, ok := strings.Cut(p.Value, "@"); ok && sub.ImageDigest == "" {
				sub.ImageDigest = d
			}
		}
	}
	return sub
}

func packageFrom(c cdx.Component) sbom.Package {
	p := sbom.Package{
		ID:      c.BOMRef,
		Name:    c.Name,
		Version: c.Version,
		PURL:    c.PackageURL,
	}
	if c.Group != "" && !strings.HasPrefix(c.PackageURL, "pkg:") {
		p.Name = c.Group + "/" + c.Name
	}
	if c.CPE != "" {
		p.CPEs = append(p.CPEs, c.CPE)
	}
	if c.Licenses != nil {
		for _, l := range *c.Licenses {
			switch {
			case l.Expression != "":
				p.Licenses = append(p.Licenses, l.Expression)
			case l.License != nil && l.License.ID != "":
				p.Licenses = append(p.Licenses, l.License.ID)
			case l.License != nil && l.License.Name != "":
				p.Licenses = append(p.Licenses, l.License.Name)
			}
		}
	}
	tether := false
	var syftLocs, trivyLoc []sbom.Property
	for _, pr := range props(c.Properties) {
		if sbom.ApplyPackageProperty(&p, pr.Name, pr.Value) {
			tether = true
			continue
		}
		switch name := pr.Name; {
		case name == sbom.PropCPE, name == "syft:cpe23":
			if pr.Value != c.CPE {
				p.CPEs = append(p.CPEs, pr.Value)
			}
		case name == "syft:package:foundBy":
			p.FoundBy = pr.Value
		case strings.HasPrefix(name, "syft:location:"):
			syftLocs = append(syftLocs, sbom.Property{Name: name, Value: pr.Value})
		case name == "syft:metadata:source", name == "syft:metadata:originPackage":
			p.SourceName = pr.Value
		case name == "syft:metadata:sourceVersion":
			p.SourceVersion = pr.Value
		case name == "aquasecurity:trivy:PkgType":
			if p.FoundBy == "" {
				p.FoundBy = pr.Value
			}
		case name == "aquasecurity:trivy:SrcName":
			p.SourceName = pr.Value
		case name == "aquasecurity:trivy:SrcVersion":
			p.SourceVersion = pr.Value
		case name == "aquasecurity:trivy:LayerDiffID", name == "aquasecurity:trivy:LayerDigest", name == "aquasecurity:trivy:FilePath":
			trivyLoc = append(trivyLoc, sbom.Property{Name: name, Value: pr.Value})
		}
	}
	if !tether || len(p.Locations) == 0 {
		for _, l := range syftLocs {
			rest := strings.TrimPrefix(l.Name, "syft:location:")
			idx, field, ok := strings.Cut(rest, ":")
			i, err := strconv.Atoi(idx)
			if !ok || err != nil || i < 0 || i > 10000 {
				continue
			}
			for len(p.Locations) <= i {
				p.Locations = append(p.Locations, sbom.Location{})
			}
			switch field {
			case "path":
				p.Locations[i].Path = strings.TrimPrefix(l.Value, "/")
			case "layerID":
				p.Locations[i].LayerDiffID = l.Value
			}
		}
		if len(trivyLoc) > 0 {
			var loc sbom.Location
			for _, l := range trivyLoc {
				switch l.Name {
				case "aquasecurity:trivy:LayerDiffID":
					loc.LayerDiffID = l.Value
				case "aquasecurity:trivy:LayerDigest":
					loc.LayerDigest = l.Value
				case "aquasecurity:trivy:FilePath":
					loc.Path = strings.TrimPrefix(l.Value, "/")
				}
			}
			p.Locations = append(p.Locations, loc)
		}
	}
	if p.Type == "" {
		p.Type = sbom.PURLType(p.PURL)
	}
	return p
}
