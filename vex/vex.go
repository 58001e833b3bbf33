// Package vex reads Vulnerability Exploitability eXchange documents — OpenVEX and
// CycloneDX VEX — and decides which findings they suppress, with the justification.
package vex

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tether-sec/tether/purl"
)

// ErrNotVEX is matched by the error of a document that is neither OpenVEX nor
// CycloneDX with vulnerabilities.
var ErrNotVEX = errors.New("vex: not an OpenVEX or CycloneDX VEX document")

// MaxDocument bounds a VEX document.
const MaxDocument = 64 << 20

// Status is a statement's status, in OpenVEX's words.
type Status string

// Statuses.
const (
	NotAffected        Status = "not_affected"
	Affected           Status = "affected"
	Fixed              Status = "fixed"
	UnderInvestigation Status = "under_investigation"
)

// Statement says how one vulnerability concerns some products.
type Statement struct {
	// Vulnerability is the ID the statement names; Aliases more IDs for it.
	Vulnerability string   `json:"vulnerability"`
	Aliases       []string `json:"aliases,omitempty"`
	// Products are purls (pkg:npm/lodash@4.17.20, pkg:oci/app@sha256:…) or other
	// identifiers the document uses. Empty means every product.
	Products []string `json:"products,omitempty"`
	// Subcomponents narrow the products to packages inside them (purls).
	Subcomponents []string `json:"subcomponents,omitempty"`
	Status        Status   `json:"status"`
	Justification string   `json:"justification,omitempty"`
	Impact        string   `json:"impact,omitempty"`
	// Source names the document (its @id or serial number) and format.
	Source string `json:"source"`
}

// Suppresses reports whether the statement, when it applies, removes a finding:
// not_affected and fixed do; affected and under_investigation do not.
func (s Statement) Suppresses() bool { return s.Status == NotAffected || s.Status == Fixed }

// Decode reads an OpenVEX or a CycloneDX (JSON) document.
func Decode(r io.Reader) ([]Statement, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotVEX, err)
	}
	if len(b) > MaxDocument {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrNotVEX, MaxDocument)
	}
	var probe struct {
		Context   string          `json:"@context"`
		BOMFormat string          `json:"bomFormat"`
		Vulns     json.RawMessage `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotVEX, err)
	}
	switch {
	case strings.HasPrefix(probe.Context, "https://openvex.dev/ns"):
		return decodeOpenVEX(b)
	case probe.BOMFormat == "CycloneDX":
		return decodeCycloneDX(b)
	}
	return nil, fmt.Errorf("%w: no OpenVEX @context and no CycloneDX bomFormat", ErrNotVEX)
}

type openVEX struct {
	ID         string `json:"@id"`
	Statements []struct {
		Vulnerability struct {
			Name    string   `json:"name"`
			ID      string   `json:"@id"`
			Aliases []string `json:"aliases"`
		} `json:"vulnerability"`
		Products []struct {
			ID            string            `json:"@id"`
			Identifiers   map[string]string `json:"identifiers"`
			Subcomponents []struct {
				ID          string            `json:"@id"`
				Identifiers map[string]string `json:"identifiers"`
			} `json:"subcomponents"`
		} `json:"products"`
		Status          Status `json:"status"`
		Justification   string `json:"justification"`
		ImpactStatement string `json:"impact_statement"`
		ActionStatement string `json:"action_statement"`
	} `json:"statements"`
}

func decodeOpenVEX(b []byte) ([]Statement, error) {
	var d openVEX
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%w: OpenVEX: %v", ErrNotVEX, err)
	}
	var out []Statement
	for i, st := range d.Statements {
		name := st.Vulnerability.Name
		if name == "" {
			name = st.Vulnerability.ID
		}
		if name == "" {
			return nil, fmt.Errorf("%w: OpenVEX statement %d names no vulnerability", ErrNotVEX, i)
		}
		switch st.Status {
		case NotAffected, Affected, Fixed, UnderInvestigation:
		default:
			return nil, fmt.Errorf("%w: OpenVEX statement %d (%s) has status %q", ErrNotVEX, i, name, st.Status)
		}
		if st.Status == NotAffected && st.Justification == "" && st.ImpactStatement == "" {
			return nil, fmt.Errorf("%w: OpenVEX statement %d (%s) is not_affected without a justification or impact statement", ErrNotVEX, i, name)
		}
		s := Statement{Vulnerability: name, Aliases: st.Vulnerability.Aliases, Status: st.Status,
			Justification: st.Justification, Impact: st.ImpactStatement, Source: "openvex " + d.ID}
		for _, p := range st.Products {
			s.Products = append(s.Products, ids(p.ID, p.Identifiers)...)
			for _, sc := range p.Subcomponents {
				s.Subcomponents = append(s.Subcomponents, ids(sc.ID, sc.Identifiers)...)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func ids(id string, identifiers map[string]string) []string {
	var out []string
	if id != "" {
		out = append(out, id)
	}
	if p := identifiers["purl"]; p != "" && p != id {
		out = append(out, p)
	}
	return out
}

type cdxVEX struct {
	SerialNumber string `json:"serialNumber"`
	Components   []struct {
		BOMRef string `json:"bom-ref"`
		PURL   string `json:"purl"`
	} `json:"components"`
	Vulnerabilities []struct {
		ID       string `json:"id"`
		BOMRef   string `json:"bom-ref"`
		Analysis *struct {
			State         string `json:"state"`
			Justification string `json:"justification"`
			Detail        string `json:"detail"`
		} `json:"analysis"`
		Affects []struct {
			Ref string `json:"ref"`
		} `json:"affects"`
		References []struct {
			ID string `json:"id"`
		} `json:"references"`
	} `json:"vulnerabilities"`
}

// cdxStates maps CycloneDX analysis states to statuses.
var cdxStates = map[string]Status{
	"not_affected":           NotAffected,
	"false_positive":         NotAffected,
	"resolved":               Fixed,
	"resolved_with_pedigree": Fixed,
	"exploitable":            Affected,
	"in_triage":              UnderInvestigation,
}

func decodeCycloneDX(b []byte) ([]Statement, error) {
	var d cdxVEX
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%w: CycloneDX: %v", ErrNotVEX, err)
	}
	purlOf := map[string]string{}
	for _, c := range d.Components {
		if c.BOMRef != "" && c.PURL != "" {
			purlOf[c.BOMRef] = c.PURL
		}
	}
	var out []Statement
	for i, v := range d.Vulnerabilities {
		if v.Analysis == nil || v.Analysis.State == "" {
			continue // a vulnerability without an analysis states nothing
		}
		if v.ID == "" {
			return nil, fmt.Errorf("%w: CycloneDX vulnerability %d has no id", ErrNotVEX, i)
		}
		st, ok := cdxStates[v.Analysis.State]
		if !ok {
			return nil, fmt.Errorf("%w: CycloneDX vulnerability %d (%s) has analysis state %q", ErrNotVEX, i, v.ID, v.Analysis.State)
		}
		s := Statement{Vulnerability: v.ID, Status: st, Justification: v.Analysis.Justification,
			Impact: v.Analysis.Detail, Source: "cyclonedx " + d.SerialNumber}
		for _, r := range v.References {
			if r.ID != "" {
				s.Aliases = append(s.Aliases, r.ID)
			}
		}
		for _, a := range v.Affects {
			ref := a.Ref
			if p, ok := purlOf[ref]; ok {
				ref = p
			} else if i := strings.Index(ref, "#"); strings.HasPrefix(ref, "urn:cdx:") && i >= 0 {
				// A BOM-Link to a component of another BOM: the part after # is
				// its bom-ref; keep it, it may be a purl.
				ref = ref[i+1:]
			}
			s.Products = append(s.Products, ref)
		}
		out = append(out, s)
	}
	return out, nil
}

// Finding is what a VEX statement is checked against.
type Finding struct {
	// IDs are the finding's ID and aliases.
	IDs []string
	// PURL is the affected package's purl.
	PURL string
	// Image is the purl or digest of the image the package is in, if any.
	Image string
}

// Applies reports whether s speaks about f: it names one of f's IDs, and either
// names no products, or a product matches f's package, or a product matches f's
// image and (when it lists subcomponents) a subcomponent matches the package.
func (s Statement) Applies(f Finding) bool {
	ids := append([]string{s.Vulnerability}, s.Aliases...)
	named := false
	for _, id := range ids {
		if slices.ContainsFunc(f.IDs, func(x string) bool { return strings.EqualFold(x, id) }) {
			named = true
			break
		}
	}
	if !named {
		return false
	}
	if len(s.Products) == 0 {
		return len(s.Subcomponents) == 0 || slices.ContainsFunc(s.Subcomponents, func(p string) bool { return purlMatches(p, f.PURL) })
	}
	for _, p := range s.Products {
		if purlMatches(p, f.PURL) {
			return true
		}
		if f.Image != "" && imageMatches(p, f.Image) {
			if len(s.Subcomponents) == 0 || slices.ContainsFunc(s.Subcomponents, func(sc string) bool { return purlMatches(sc, f.PURL) }) {
				return true
			}
		}
	}
	return false
}

// First returns the first statement that applies to f, and whether it suppresses
// f. A later statement about the same finding overrides an earlier one, as VEX
// documents are read in order.
func First(statements []Statement, f Finding) (Statement, bool) {
	var hit Statement
	found := false
	for _, s := range statements {
		if s.Applies(f) {
			hit, found = s, true
		}
	}
	return hit, found && hit.Suppresses()
}

// purlMatches compares a statement's purl with a package's: type, namespace and
// name must be equal; the version too when the statement gives one; qualifiers
// the statement gives must be present with the same value.
func purlMatches(stmt, pkg string) bool {
	a, err1 := purl.Parse(stmt)
	b, err2 := purl.Parse(pkg)
	if err1 != nil || err2 != nil {
		return stmt != "" && stmt == pkg
	}
	if a.Type != b.Type || !strings.EqualFold(a.Namespace, b.Namespace) || !strings.EqualFold(a.Name, b.Name) {
		return false
	}
	if a.Version != "" && a.Version != b.Version {
		return false
	}
	for k, v := range a.Qualifiers {
		if b.Qualifiers[k] != v {
			return false
		}
	}
	return true
}

// imageMatches compares a statement's product with an image given as a digest
// ("sha256:…") or a purl: an OCI purl's version is the digest.
func imageMatches(product, image string) bool {
	if product == image {
		return true
	}
	digest := image
	if p, err := purl.Parse(image); err == nil {
		digest = p.Version
	}
	if p, err := purl.Parse(product); err == nil && p.Type == "oci" {
		return p.Version != "" && p.Version == digest
	}
	return strings.HasSuffix(product, "@"+digest)
}
