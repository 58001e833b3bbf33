// Package spdx encodes a tether SBOM as an SPDX 2.3 document (JSON or tag-value) and
// decodes SPDX 2.2 and 2.3 documents, tether's and other tools' (Syft, Trivy).
package spdx

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/tagvalue"

	"github.com/tether-sec/tether/sbom"
)

const (
	noAssertion = "NOASSERTION"
	// NamespacePrefix starts the documentNamespace of every document tether writes.
	NamespacePrefix = "https://tether.dev/spdxdocs/"
)

// EncodeJSON writes s as an SPDX 2.3 JSON document. The same s gives the same bytes.
func EncodeJSON(w io.Writer, s *sbom.SBOM) error {
	doc, err := toDocument(s)
	if err != nil {
		return err
	}
	return spdxjson.Write(doc, w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false))
}

// EncodeTagValue writes s as an SPDX 2.3 tag-value document. The same s gives the
// same bytes.
func EncodeTagValue(w io.Writer, s *sbom.SBOM) error {
	doc, err := toDocument(s)
	if err != nil {
		return err
	}
	return tagvalue.Write(doc, w)
}

func toDocument(s *sbom.SBOM) (*spdx.Document, error) {
	if s == nil {
		return nil, fmt.Errorf("spdx: nil SBOM")
	}
	sum, err := contentHash(s)
	if err != nil {
		return nil, err
	}
	tool := s.Tool
	if tool.Name == "" {
		tool.Name = "tether"
	}
	creator := tool.Name
	if tool.Version != "" {
		creator += "-" + tool.Version
	}
	name := s.Subject.Name
	if name == "" {
		name = "unnamed"
	}
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: NamespacePrefix + sanitize(name) + "-" + sum[:32],
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: creator}},
			Created:  s.Created.UTC().Format(time.RFC3339),
		},
		DocumentComment: sbom.FormatComment(sbom.ProblemProperties(s.Problems)),
	}

	used := map[common.ElementID]bool{"DOCUMENT": true}
	unique := func(id string) common.ElementID {
		base := common.ElementID(sanitize(id))
		e := base
		for n := 2; used[e]; n++ {
			e = common.ElementID(fmt.Sprintf("%s-%d", base, n))
		}
		used[e] = true
		return e
	}

	root := subjectPackage(s.Subject, unique)
	doc.Packages = append(doc.Packages, root)
	rel := func(a common.ElementID, typ string, b common.ElementID) {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", string(a)), RefB: common.MakeDocElementID("", string(b)), Relationship: typ,
		})
	}
	rel("DOCUMENT", common.TypeRelationshipDescribe, root.PackageSPDXIdentifier)

	pkgs := slices.Clone(s.Packages)
	sort.SliceStable(pkgs, func(i, j int) bool { return pkgs[i].ID < pkgs[j].ID })
	ids := make(map[string]common.ElementID, len(pkgs))
	others := map[string]*spdx.OtherLicense{}
	hasDevEdge := map[string]bool{}
	for _, r := range s.Relationships {
		if r.Type == sbom.DevDependsOn {
			hasDevEdge[r.To] = true
		}
	}
	for _, p := range pkgs {
		id := unique(p.ID)
		ids[p.ID] = id
		doc.Packages = append(doc.Packages, toPackage(p, id, others))
		rel(root.PackageSPDXIdentifier, common.TypeRelationshipContains, id)
		if p.Dev && !hasDevEdge[p.ID] {
			rel(id, common.TypeRelationshipDevDependencyOf, root.PackageSPDXIdentifier)
		}
	}
	rels := slices.Clone(s.Relationships)
	sbom.SortRelationships(rels)
	for _, r := range rels {
		from, ok1 := ids[r.From]
		to, ok2 := ids[r.To]
		if !ok1 || !ok2 {
			continue
		}
		switch r.Type {
		case sbom.DependsOn:
			rel(from, common.TypeRelationshipDependsOn, to)
		case sbom.DevDependsOn:
			rel(to, common.TypeRelationshipDevDependencyOf, from)
		case sbom.Contains:
			rel(from, common.TypeRelationshipContains, to)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(others)) {
		doc.OtherLicenses = append(doc.OtherLicenses, others[id])
	}
	return doc, nil
}

func subjectPackage(sub sbom.Subject, unique func(string) common.ElementID) *spdx.Package {
	kind := "Directory"
	purpose := "FILE"
	switch sub.Kind {
	case sbom.SubjectImage:
		kind, purpose = "Image", "CONTAINER"
	case sbom.SubjectGit:
		kind, purpose = "Git", "SOURCE"
	}
	name := sub.Name
	if name == "" {
		name = "unnamed"
	}
	p := &spdx.Package{
		PackageName:               name,
		PackageSPDXIdentifier:     unique("DocumentRoot-" + kind + "-" + name),
		PackageVersion:            sub.ImageDigest,
		PackageSupplier:           &common.Supplier{Supplier: noAssertion},
		PackageDownloadLocation:   noAssertion,
		IsFilesAnalyzedTagPresent: true,
		PackageLicenseConcluded:   noAssertion,
		PackageLicenseDeclared:    noAssertion,
		PackageCopyrightText:      noAssertion,
		PrimaryPackagePurpose:     purpose,
	}
	if alg, hexsum, ok := strings.Cut(sub.ImageDigest, ":"); ok && alg == "sha256" && isHex(hexsum, 64) {
		p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: hexsum}}
	}
	if sub.RepoURL != "" && (strings.HasPrefix(sub.RepoURL, "https://") || strings.HasPrefix(sub.RepoURL, "http://")) {
		loc := "git+" + sub.RepoURL
		if sub.Commit != "" {
			loc += "@" + sub.Commit
		}
		p.PackageDownloadLocation = loc
	}
	var ps []sbom.Property
	add := func(n, v string) {
		if v != "" {
			ps = append(ps, sbom.Property{Name: n, Value: v})
		}
	}
	add(sbom.PropSubjectKind, string(sub.Kind))
	add(sbom.PropSubjectName, sub.Name)
	add(sbom.PropSubjectDigest, sub.ImageDigest)
	add(sbom.PropSubjectPlatform, sub.Platform)
	add(sbom.PropSubjectRepo, sub.RepoURL)
	add(sbom.PropSubjectCommit, sub.Commit)
	p.PackageComment = sbom.FormatComment(ps)
	return p
}

func toPackage(p sbom.Package, id common.ElementID, others map[string]*spdx.OtherLicense) *spdx.Package {
	out := &spdx.Package{
		PackageName:               p.Name,
		PackageSPDXIdentifier:     id,
		PackageVersion:            p.Version,
		PackageSupplier:           &common.Supplier{Supplier: noAssertion},
		PackageDownloadLocation:   noAssertion,
		IsFilesAnalyzedTagPresent: true,
		PackageLicenseConcluded:   noAssertion,
		PackageLicenseDeclared:    declaredLicense(p.Licenses, others),
		PackageCopyrightText:      noAssertion,
		PackageSourceInfo:         sourceInfo(p),
		PackageComment:            sbom.FormatComment(sbom.PackageProperties(p, string(id))),
	}
	if out.PackageName == "" {
		out.PackageName = "unnamed"
	}
	if validLocator(p.PURL) {
		out.PackageExternalReferences = append(out.PackageExternalReferences, &spdx.PackageExternalReference{
			Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p.PURL,
		})
	}
	for _, c := range p.CPEs {
		if !validLocator(c) {
			continue
		}
		typ := common.TypeSecurityCPE23Type
		if strings.HasPrefix(c, "cpe:/") {
			typ = common.TypeSecurityCPE22Type
		}
		out.PackageExternalReferences = append(out.PackageExternalReferences, &spdx.PackageExternalReference{
			Category: common.CategorySecurity, RefType: typ, Locator: c,
		})
	}
	return out
}

// validLocator reports whether s can be an external reference locator, which SPDX
// requires to be a non-empty string without spaces. Others are left out: tag-value
// cannot carry them.
func validLocator(s string) bool {
	return s != "" && strings.IndexFunc(s, unicode.IsSpace) < 0
}

// declaredLicense joins the licences with AND; a licence that is not an SPDX
// expression becomes a LicenseRef- with an extracted licensing info entry.
func declaredLicense(licenses []string, others map[string]*spdx.OtherLicense) string {
	var parts []string
	for _, l := range licenses {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if ValidExpression(l) {
			if len(licenses) > 1 && CompoundExpression(l) {
				l = "(" + l + ")"
			}
			parts = append(parts, l)
			continue
		}
		ref := "LicenseRef-" + sanitize(l)
		if prev, ok := others[ref]; ok && prev.ExtractedText != l {
			h := sha256.Sum256([]byte(l))
			ref += "-" + hex.EncodeToString(h[:4])
		}
		others[ref] = &spdx.OtherLicense{LicenseIdentifier: ref, ExtractedText: l, LicenseName: l}
		parts = append(parts, ref)
	}
	if len(parts) == 0 {
		return noAssertion
	}
	return strings.Join(parts, " AND ")
}

// sourceInfo says in words where the package was found.
func sourceInfo(p sbom.Package) string {
	var locs []string
	for _, l := range p.Locations {
		var b strings.Builder
		b.WriteString("found")
		if l.LayerDigest != "" || l.LayerDiffID != "" {
			b.WriteString(" in layer ")
			if l.LayerDigest != "" {
				b.WriteString(l.LayerDigest)
			} else {
				b.WriteString(l.LayerDiffID)
			}
		}
		b.WriteString(" at path /")
		b.WriteString(strings.TrimPrefix(l.Path, "/"))
		if l.CreatedBy != "" {
			b.WriteString(" (layer created by: " + l.CreatedBy + ")")
		}
		locs = append(locs, b.String())
	}
	if len(locs) == 0 {
		return ""
	}
	s := strings.Join(locs, "; ")
	if p.FoundBy != "" {
		s = "acquired package info from " + p.FoundBy + ": " + s
	}
	return s
}

// sanitize maps s onto the characters an SPDX identifier may hold ([A-Za-z0-9.-]).
func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "unnamed"
	}
	return string(b)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// contentHash is a hex SHA-256 over everything in s, so that the same SBOM gets the
// same document namespace.
func contentHash(s *sbom.SBOM) (string, error) {
	h, err := sbom.ContentHash(s)
	if err != nil {
		return "", fmt.Errorf("spdx: %w", err)
	}
	return hex.EncodeToString(h[:]), nil
}
