package spdx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/tagvalue"

	"github.com/tether-sec/tether/sbom"
)

// Decode errors.
var (
	// ErrUnknownFormat means the input is neither SPDX JSON nor SPDX tag-value.
	ErrUnknownFormat = errors.New("spdx: not an SPDX JSON or tag-value document")
	// ErrUnsupportedVersion means the document is SPDX but of a version tether does
	// not read (it reads SPDX-2.2 and SPDX-2.3).
	ErrUnsupportedVersion = errors.New("spdx: unsupported SPDX version")
)

// maxInput bounds what Decode reads.
const maxInput = 1 << 30

// Decode reads an SPDX 2.2 or 2.3 document, JSON or tag-value (detected), as written
// by tether, Syft or Trivy.
func Decode(r io.Reader) (*sbom.SBOM, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("spdx: reading: %w", err)
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("spdx: document larger than %d bytes", maxInput)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	var doc *spdx.Document
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{':
		var head struct {
			SPDXVersion *string `json:"spdxVersion"`
		}
		if err := json.Unmarshal(trimmed, &head); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, err)
		}
		if head.SPDXVersion == nil {
			return nil, fmt.Errorf("%w: JSON without spdxVersion", ErrUnknownFormat)
		}
		if err := checkVersion(*head.SPDXVersion); err != nil {
			return nil, err
		}
		doc, err = safeRead(func() (*spdx.Document, error) { return spdxjson.Read(bytes.NewReader(trimmed)) })
	case bytes.Contains(data, []byte("SPDXVersion:")):
		v := tagValueVersion(data)
		if err := checkVersion(v); err != nil {
			return nil, err
		}
		doc, err = safeRead(func() (*spdx.Document, error) { return tagvalue.Read(bytes.NewReader(data)) })
	default:
		return nil, ErrUnknownFormat
	}
	if err != nil {
		return nil, fmt.Errorf("spdx: parsing: %w", err)
	}
	return fromDocument(doc)
}

func checkVersion(v string) error {
	switch v {
	case "SPDX-2.2", "SPDX-2.3":
		return nil
	}
	return fmt.Errorf("%w %q: tether reads SPDX-2.2 and SPDX-2.3", ErrUnsupportedVersion, v)
}

func tagValueVersion(data []byte) string {
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("SPDXVersion:")); ok {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}

// safeRead turns a panic in the SPDX parser on hostile input into an error.
func safeRead(read func() (*spdx.Document, error)) (doc *spdx.Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("malformed document: %v", r)
		}
	}()
	return read()
}

func fromDocument(doc *spdx.Document) (*sbom.SBOM, error) {
	if doc == nil {
		return nil, ErrUnknownFormat
	}
	s := &sbom.SBOM{}
	if ci := doc.CreationInfo; ci != nil {
		if t, err := time.Parse(time.RFC3339, ci.Created); err == nil {
			s.Created = t
		}
		for _, c := range ci.Creators {
			if c.CreatorType == "Tool" {
				s.Tool = parseTool(c.Creator)
				break
			}
		}
	}
	ps, _ := sbom.ParseComment(doc.DocumentComment)
	for _, p := range ps {
		s.Problems = sbom.ApplyProblemProperty(s.Problems, p.Name, p.Value)
	}

	// The subject: what the document DESCRIBES.
	described := map[common.ElementID]bool{}
	for _, r := range doc.Relationships {
		if r == nil {
			continue
		}
		switch r.Relationship {
		case common.TypeRelationshipDescribe:
			if r.RefA.ElementRefID == "DOCUMENT" && r.RefA.DocumentRefID == "" {
				described[r.RefB.ElementRefID] = true
			}
		case common.TypeRelationshipDescribeBy:
			if r.RefB.ElementRefID == "DOCUMENT" {
				described[r.RefA.ElementRefID] = true
			}
		}
	}
	licenseNames := map[string]string{}
	for _, o := range doc.OtherLicenses {
		if o == nil {
			continue
		}
		name := o.LicenseName
		if name == "" || name == noAssertion {
			name = o.ExtractedText
		}
		licenseNames[o.LicenseIdentifier] = name
	}

	ids := map[common.ElementID]string{} // SPDX package → sbom.Package.ID
	var subjectID common.ElementID
	subjectFound := false
	for _, p := range doc.Packages {
		if p == nil {
			continue
		}
		if described[p.PackageSPDXIdentifier] && !subjectFound {
			subjectFound = true
			subjectID = p.PackageSPDXIdentifier
			s.Subject = subjectFrom(p)
			continue
		}
		if p.PrimaryPackagePurpose == "OPERATING-SYSTEM" || trivyGroup(p) {
			continue
		}
		pkg := packageFrom(p, licenseNames)
		ids[p.PackageSPDXIdentifier] = pkg.ID
		s.Packages = append(s.Packages, pkg)
	}
	if s.Subject.Name == "" {
		s.Subject.Name = doc.DocumentName
	}
	// Tag-value writers reorder packages; give one order whatever the format.
	sort.SliceStable(s.Packages, func(i, j int) bool { return s.Packages[i].ID < s.Packages[j].ID })

	// Relationships between packages.
	index := map[string]int{}
	for i, p := range s.Packages {
		index[p.ID] = i
	}
	seen := map[sbom.Relationship]bool{}
	addRel := func(r sbom.Relationship) {
		if !seen[r] && r.From != r.To {
			seen[r] = true
			s.Relationships = append(s.Relationships, r)
		}
	}
	for _, r := range doc.Relationships {
		if r == nil || r.RefA.DocumentRefID != "" || r.RefB.DocumentRefID != "" {
			continue
		}
		a, aok := ids[r.RefA.ElementRefID]
		b, bok := ids[r.RefB.ElementRefID]
		if subjectFound && r.RefB.ElementRefID == subjectID && aok {
			if r.Relationship == common.TypeRelationshipDevDependencyOf {
				s.Packages[index[a]].Dev = true
			}
			continue
		}
		if !aok || !bok {
			continue
		}
		switch r.Relationship {
		case common.TypeRelationshipDependsOn:
			addRel(sbom.Relationship{From: a, To: b, Type: sbom.DependsOn})
		case common.TypeRelationshipDependencyOf, common.TypeRelationshipRuntimeDependencyOf:
			addRel(sbom.Relationship{From: b, To: a, Type: sbom.DependsOn})
		case common.TypeRelationshipDevDependencyOf:
			addRel(sbom.Relationship{From: b, To: a, Type: sbom.DevDependsOn})
		case common.TypeRelationshipContains:
			addRel(sbom.Relationship{From: a, To: b, Type: sbom.Contains})
		case common.TypeRelationshipContainedBy:
			addRel(sbom.Relationship{From: b, To: a, Type: sbom.Contains})
		}
	}
	sbom.SortRelationships(s.Relationships)
	return s, nil
}

// parseTool splits "syft-1.4.1" or "tether-0.1.0" into name and version.
func parseTool(s string) sbom.Tool {
	s = strings.TrimSpace(s)
	for i := len(s) - 1; i > 0; i-- {
		if s[i] == '-' && i+1 < len(s) && (s[i+1] >= '0' && s[i+1] <= '9' || s[i+1] == 'v') {
			return sbom.Tool{Name: s[:i], Version: s[i+1:]}
		}
	}
	return sbom.Tool{Name: s}
}

func subjectFrom(p *spdx.Package) sbom.Subject {
	sub := sbom.Subject{Name: p.PackageName, Kind: sbom.SubjectDirectory}
	id := string(p.PackageSPDXIdentifier)
	switch {
	case p.PrimaryPackagePurpose == "CONTAINER" || strings.Contains(id, "Image"):
		sub.Kind = sbom.SubjectImage
	case p.PrimaryPackagePurpose == "SOURCE" && strings.Contains(id, "Git"):
		sub.Kind = sbom.SubjectGit
	}
	if sub.Kind == sbom.SubjectImage {
		if strings.HasPrefix(p.PackageVersion, "sha256:") {
			sub.ImageDigest = p.PackageVersion
		}
		for _, c := range p.PackageChecksums {
			if sub.ImageDigest == "" && c.Algorithm == common.SHA256 {
				sub.ImageDigest = "sha256:" + c.Value
			}
		}
		for _, ref := range p.PackageExternalReferences {
			if ref != nil && sub.ImageDigest == "" && isPURLRef(ref) {
				if _, d, ok := strings.Cut(ref.Locator, "@"); ok {
					d, _, _ = strings.Cut(d, "?")
					d = strings.ReplaceAll(d, "%3A", ":")
					d = strings.ReplaceAll(d, "%3a", ":")
					if strings.HasPrefix(d, "sha256:") {
						sub.ImageDigest = d
					}
				}
			}
		}
	}
	if loc, ok := strings.CutPrefix(p.PackageDownloadLocation, "git+"); ok {
		sub.RepoURL = loc
		if i := strings.LastIndex(loc, "@"); i > strings.Index(loc, "://")+2 {
			sub.RepoURL, sub.Commit = loc[:i], loc[i+1:]
		}
	}
	ps, _ := sbom.ParseComment(p.PackageComment)
	for _, pr := range ps {
		sbom.ApplySubjectProperty(&sub, pr.Name, pr.Value)
	}
	return sub
}

func isPURLRef(ref *spdx.PackageExternalReference) bool {
	cat := strings.ReplaceAll(ref.Category, "_", "-")
	return cat == common.CategoryPackageManager && ref.RefType == common.TypePackageManagerPURL
}

func packageFrom(p *spdx.Package, licenseNames map[string]string) sbom.Package {
	pkg := sbom.Package{
		ID:      string(p.PackageSPDXIdentifier),
		Name:    p.PackageName,
		Version: p.PackageVersion,
	}
	for _, ref := range p.PackageExternalReferences {
		if ref == nil {
			continue
		}
		switch {
		case isPURLRef(ref):
			if pkg.PURL == "" {
				pkg.PURL = ref.Locator
			}
		case ref.Category == common.CategorySecurity && (ref.RefType == common.TypeSecurityCPE23Type || ref.RefType == common.TypeSecurityCPE22Type):
			pkg.CPEs = append(pkg.CPEs, ref.Locator)
		}
	}
	lic := p.PackageLicenseDeclared
	if lic == "" || lic == noAssertion || lic == "NONE" {
		lic = p.PackageLicenseConcluded
	}
	if lic != "" && lic != noAssertion && lic != "NONE" {
		for _, part := range splitAnd(lic) {
			if name, ok := licenseNames[part]; ok && name != "" {
				part = name
			}
			pkg.Licenses = append(pkg.Licenses, part)
		}
	}

	tether := false
	ps, _ := sbom.ParseComment(p.PackageComment)
	for _, pr := range ps {
		if sbom.ApplyPackageProperty(&pkg, pr.Name, pr.Value) {
			tether = true
		}
	}
	// Trivy puts its facts in annotations "Key: value".
	for _, a := range p.Annotations {
		k, v, ok := strings.Cut(a.AnnotationComment, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "PkgType":
			if pkg.FoundBy == "" {
				pkg.FoundBy = v
			}
		case "SrcName":
			pkg.SourceName = v
		case "SrcVersion":
			pkg.SourceVersion = v
		case "LayerDiffID":
			firstLocation(&pkg).LayerDiffID = v
		case "LayerDigest":
			firstLocation(&pkg).LayerDigest = v
		case "FilePath":
			firstLocation(&pkg).Path = strings.TrimPrefix(v, "/")
		}
	}
	if !tether && len(pkg.Locations) == 0 {
		pkg.FoundBy, pkg.Locations = parseSourceInfo(p.PackageSourceInfo, pkg.FoundBy)
	}
	if pkg.Type == "" {
		pkg.Type = sbom.PURLType(pkg.PURL)
	}
	return pkg
}

// trivyGroup reports whether p is the grouping Trivy adds for an OS or a lockfile.
func trivyGroup(p *spdx.Package) bool {
	for _, a := range p.Annotations {
		if strings.HasPrefix(a.AnnotationComment, "Class: ") {
			return true
		}
	}
	return false
}

func firstLocation(p *sbom.Package) *sbom.Location {
	if len(p.Locations) == 0 {
		p.Locations = append(p.Locations, sbom.Location{})
	}
	return &p.Locations[0]
}

// parseSourceInfo reads Syft's "acquired package info from LABEL: /a, /b" and
// Trivy's "package found in: /a".
func parseSourceInfo(info, foundBy string) (string, []sbom.Location) {
	var paths string
	if rest, ok := strings.CutPrefix(info, "acquired package info from "); ok {
		label, ps, ok := strings.Cut(rest, ": ")
		if !ok {
			return foundBy, nil
		}
		if foundBy == "" {
			foundBy = label
		}
		paths = ps
	} else if rest, ok := strings.CutPrefix(info, "package found in: "); ok {
		paths = rest
	} else {
		return foundBy, nil
	}
	var locs []sbom.Location
	for p := range strings.SplitSeq(paths, ", ") {
		p = strings.TrimSpace(p)
		if p != "" {
			locs = append(locs, sbom.Location{Path: strings.TrimPrefix(p, "/")})
		}
	}
	return foundBy, locs
}

// splitAnd splits an expression at its top-level ANDs and drops the parentheses
// around each part: "MIT AND (Apache-2.0 OR BSD-3-Clause)" gives "MIT" and
// "Apache-2.0 OR BSD-3-Clause".
func splitAnd(expr string) []string {
	toks, ok := tokenize(expr)
	if !ok {
		return []string{strings.TrimSpace(expr)}
	}
	var parts []string
	var cur []string
	depth := 0
	flush := func() {
		if len(cur) > 0 {
			parts = append(parts, unwrap(cur))
		}
		cur = nil
	}
	for _, t := range toks {
		switch {
		case t == "(":
			depth++
		case t == ")":
			depth--
		case depth == 0 && strings.EqualFold(t, "AND"):
			flush()
			continue
		}
		cur = append(cur, t)
	}
	flush()
	return parts
}

// unwrap joins tokens back into an expression, dropping one pair of parentheses
// that encloses it all.
func unwrap(toks []string) string {
	if len(toks) >= 2 && toks[0] == "(" && toks[len(toks)-1] == ")" {
		depth, whole := 0, true
		for i, t := range toks {
			if t == "(" {
				depth++
			} else if t == ")" {
				depth--
				if depth == 0 && i != len(toks)-1 {
					whole = false
				}
			}
		}
		if whole {
			toks = toks[1 : len(toks)-1]
		}
	}
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && t != ")" && toks[i-1] != "(" {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}
