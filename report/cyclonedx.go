package report

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/sbom/cyclonedx"
	"github.com/tether-sec/tether/vuln"
)

// CycloneDXVulns writes s as a CycloneDX 1.6 JSON BOM, the components as
// cyclonedx.EncodeJSON writes them, with one vulnerability per advisory group:
// its ID and source, the other IDs as references, the OSV records as advisories,
// CVSS v4.0/v3.x/v2 ratings (or the database's severity word), the affected
// components by bom-ref and version, the fixed versions as a recommendation and
// as "tether:fixed-version:<bom-ref>" properties, whether a Go binary holds the
// affected code as "tether:vulnerable-code:<bom-ref>", and KEV and EPSS as properties.
// No analysis is given: these are findings, not a VEX statement. The serial
// number is derived from the SBOM and the findings. The same input gives the
// same bytes.
func CycloneDXVulns(w io.Writer, s *sbom.SBOM, findings []vuln.Finding) error {
	bom, err := cyclonedx.BOM(s)
	if err != nil {
		return err
	}
	pkgs := packagesByID(s)
	sorted := sortedFindings(findings)
	vulns := make([]cdx.Vulnerability, 0, len(sorted))
	for _, g := range groupByID(sorted) {
		vulns = append(vulns, cdxVulnerability(g, pkgs))
	}
	if len(vulns) > 0 {
		bom.Vulnerabilities = &vulns
	}
	serial, err := vulnSerial(bom.SerialNumber, sorted)
	if err != nil {
		return err
	}
	bom.SerialNumber = serial
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON)
	enc.SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("report: encoding CycloneDX: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// Property names of a CycloneDX vulnerability.
const (
	propFixedVersion   = "tether:fixed-version:" // + bom-ref
	propEcosystem      = "tether:ecosystem:"     // + bom-ref
	propKEVDateAdded   = "tether:kev:date-added"
	propKEVRansomware  = "tether:kev:known-ransomware"
	propEPSSScore      = "tether:epss:score"
	propEPSSPercentile = "tether:epss:percentile"
	propCode           = "tether:vulnerable-code:" // + bom-ref: present or absent in a Go binary
)

func cdxVulnerability(g []vuln.Finding, pkgs map[string]sbom.Package) cdx.Vulnerability {
	f := g[0]
	v := cdx.Vulnerability{
		ID:          f.ID,
		Source:      cdxSource(f.ID),
		Description: f.Summary,
	}
	if len(f.Aliases) > 0 {
		refs := make([]cdx.VulnerabilityReference, len(f.Aliases))
		for i, a := range f.Aliases {
			refs[i] = cdx.VulnerabilityReference{ID: a, Source: cdxSource(a)}
		}
		v.References = &refs
	}
	if len(f.Advisories) > 0 {
		advs := make([]cdx.Advisory, len(f.Advisories))
		for i, a := range f.Advisories {
			advs[i] = cdx.Advisory{Title: a, URL: "https://osv.dev/vulnerability/" + url.PathEscape(a)}
		}
		v.Advisories = &advs
	}
	if r := cdxRatings(f.Severity); len(r) > 0 {
		v.Ratings = &r
	}

	var affects []cdx.Affects
	var recs []string
	var props []cdx.Property
	for _, x := range g {
		p, ok := pkgs[x.PackageID]
		if !ok {
			continue // no component to point at
		}
		a := cdx.Affects{Ref: p.ID}
		if p.Version != "" {
			a.Range = &[]cdx.AffectedVersions{{Version: p.Version, Status: cdx.VulnerabilityStatusAffected}}
		}
		affects = append(affects, a)
		name := cmp.Or(p.Name, x.Package)
		if len(x.Fixed) > 0 {
			recs = append(recs, fmt.Sprintf("Upgrade %s %s to %s.", name, cmp.Or(p.Version, x.Version), strings.Join(x.Fixed, " or ")))
		} else {
			recs = append(recs, fmt.Sprintf("No fixed version of %s is known.", name))
		}
		if x.Ecosystem != "" {
			props = append(props, cdx.Property{Name: propEcosystem + p.ID, Value: x.Ecosystem})
		}
		for _, fx := range x.Fixed {
			props = append(props, cdx.Property{Name: propFixedVersion + p.ID, Value: fx})
		}
		if x.Code != "" {
			props = append(props, cdx.Property{Name: propCode + p.ID, Value: string(x.Code)})
		}
	}
	if len(affects) > 0 {
		v.Affects = &affects
	}
	v.Recommendation = strings.Join(recs, " ")
	if f.KEV != nil {
		props = append(props, cdx.Property{Name: propKEVDateAdded, Value: f.KEV.DateAdded.UTC().Format("2006-01-02")})
		if f.KEV.KnownRansomware {
			props = append(props, cdx.Property{Name: propKEVRansomware, Value: "true"})
		}
	}
	if f.EPSS != nil {
		props = append(props,
			cdx.Property{Name: propEPSSScore, Value: strconv.FormatFloat(f.EPSS.Score, 'f', -1, 64)},
			cdx.Property{Name: propEPSSPercentile, Value: strconv.FormatFloat(f.EPSS.Percentile, 'f', -1, 64)})
	}
	if len(props) > 0 {
		v.Properties = &props
	}
	return v
}

func cdxSource(id string) *cdx.Source {
	if strings.HasPrefix(id, "CVE-") {
		return &cdx.Source{Name: "NVD", URL: advisoryURL(id)}
	}
	return &cdx.Source{Name: "OSV", URL: advisoryURL(id)}
}

// cdxRatings lists the CVSS vectors of a severity, newest version first, or the
// database's word when there is no vector.
func cdxRatings(sev vuln.Severity) []cdx.VulnerabilityRating {
	var out []cdx.VulnerabilityRating
	for _, c := range []*vuln.CVSS{sev.V4, sev.V3, sev.V2} {
		if c == nil {
			continue
		}
		score := c.Score
		out = append(out, cdx.VulnerabilityRating{
			Score: &score, Severity: cdxSeverity(c.Level), Method: cdxMethod(c.Version), Vector: c.Vector,
		})
	}
	if len(out) == 0 && sev.Level != vuln.LevelUnknown {
		r := cdx.VulnerabilityRating{Severity: cdxSeverity(sev.Level), Method: cdx.ScoringMethodOther}
		if sev.Database != "" {
			r.Justification = "severity given by the advisory database: " + sev.Database
		}
		out = append(out, r)
	}
	return out
}

func cdxMethod(version string) cdx.ScoringMethod {
	switch version {
	case "4.0":
		return cdx.ScoringMethodCVSSv4
	case "3.1":
		return cdx.ScoringMethodCVSSv31
	case "3.0":
		return cdx.ScoringMethodCVSSv3
	case "2.0":
		return cdx.ScoringMethodCVSSv2
	}
	return cdx.ScoringMethodOther
}

func cdxSeverity(l vuln.Level) cdx.Severity {
	switch l {
	case vuln.LevelCritical:
		return cdx.SeverityCritical
	case vuln.LevelHigh:
		return cdx.SeverityHigh
	case vuln.LevelMedium:
		return cdx.SeverityMedium
	case vuln.LevelLow:
		return cdx.SeverityLow
	case vuln.LevelNone:
		return cdx.SeverityNone
	}
	return cdx.SeverityUnknown
}

// vulnSerial derives a urn:uuid from the SBOM's serial number and the findings:
// a BOM with vulnerabilities is another document than the SBOM alone.
func vulnSerial(sbomSerial string, findings []vuln.Finding) (string, error) {
	b, err := json.Marshal(findings)
	if err != nil {
		return "", fmt.Errorf("report: hashing findings: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(sbomSerial + "\x00"))
	h.Write(b)
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5 layout (name-based)
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	x := hex.EncodeToString(u)
	return "urn:uuid:" + x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32], nil
}
