package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tether-sec/tether/report"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/sbom/sbomtest"
	"github.com/tether-sec/tether/vuln"

	"github.com/tether-sec/tether/internal/golden"
)

var tool = report.ToolInfo{Version: "0.1.0"}

func cvss3(vector string, score float64, l vuln.Level) *vuln.CVSS {
	return &vuln.CVSS{Version: "3.1", Vector: vector, Score: score, Level: l}
}

// imageCase is sbomtest.Rich with golang.org/x/net at an affected version in the
// layer lineage traced to build/Dockerfile, and findings written from the public
// facts of the advisories (IDs, aliases, fixed versions, CVSS vectors):
// GO-2023-2102 (vuln/testdata/osv/Go), DEBIAN-CVE-2024-5535 (vuln/testdata/written)
// and GHSA-9wx4-h78v-vm56 for requests.
func imageCase() (*sbom.SBOM, []vuln.Finding) {
	s := sbomtest.Rich()
	for i := range s.Packages {
		p := &s.Packages[i]
		if p.ID == "golang-x-net" {
			p.Version, p.PURL = "v0.15.0", "pkg:golang/golang.org/x/net@v0.15.0"
			p.Locations[0].Dockerfile = &sbom.DockerfileRef{Path: "build/Dockerfile", Instruction: "COPY", StartLine: 12, EndLine: 13}
		}
	}
	return s, []vuln.Finding{
		{
			ID: "CVE-2024-35195", Aliases: []string{"GHSA-9wx4-h78v-vm56"}, Advisories: []string{"GHSA-9wx4-h78v-vm56"},
			PackageID: "pypi-requests", Package: "requests", Version: "2.31.0", PURL: "pkg:pypi/requests@2.31.0", Ecosystem: "PyPI",
			Summary:  "Requests `Session` object does not verify requests after making first request with verify=False",
			Severity: vuln.Severity{Level: vuln.LevelMedium, Score: 5.6, V3: cvss3("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N", 5.6, vuln.LevelMedium), Database: "MODERATE"},
			Fixed:    []string{"2.32.0"}, CVEs: []string{"CVE-2024-35195"},
		},
		{
			ID: "CVE-2023-39325", Aliases: []string{"GHSA-4374-p667-p6c8", "GO-2023-2102"}, Advisories: []string{"GO-2023-2102"},
			PackageID: "golang-x-net", Package: "golang.org/x/net", Version: "0.15.0", PURL: "pkg:golang/golang.org/x/net@v0.15.0", Ecosystem: "Go",
			Summary:  "HTTP/2 rapid reset can cause excessive work in net/http",
			Severity: vuln.Severity{Level: vuln.LevelHigh, Score: 7.5, V3: cvss3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, vuln.LevelHigh)},
			Fixed:    []string{"0.17.0"}, CVEs: []string{"CVE-2023-39325"},
		},
		{
			ID: "DEBIAN-CVE-2024-5535", Advisories: []string{"DEBIAN-CVE-2024-5535"},
			PackageID: "deb-openssl", Package: "openssl", Version: "3.0.11-1~deb12u2", PURL: "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12", Ecosystem: "Debian:12",
			Summary: "OpenSSL: SSL_select_next_proto buffer overread",
			Fixed:   []string{"3.0.15-1~deb12u1"}, CVEs: []string{"CVE-2024-5535"},
		},
	}
}

// dirCase is a source directory whose package-lock.json (testdata/sarif-app) pins
// lodash 4.17.20, with CVE-2021-23337 as vuln/testdata/written/GHSA-35jh-r3h4-6jhm.json
// gives it, minimist 1.2.5 with CVE-2021-44906 (GHSA-xvch-5gv4-984h: < 1.2.6, CVSS
// 3.1 9.8), and a package found without a location (as from an SBOM file).
func dirCase() (*sbom.SBOM, []vuln.Finding) {
	s := &sbom.SBOM{
		Subject: sbom.Subject{Kind: sbom.SubjectDirectory, Name: filepath.Join("testdata", "sarif-app")},
		Tool:    sbom.Tool{Name: "tether", Version: "0.1.0"},
		Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Packages: []sbom.Package{
			{ID: "npm-lodash", Name: "lodash", Version: "4.17.20", Type: "npm", PURL: "pkg:npm/lodash@4.17.20", FoundBy: "javascript/packagelockjson",
				Locations: []sbom.Location{{Path: "package-lock.json"}}},
			{ID: "npm-lodash-merge", Name: "lodash.merge", Version: "4.6.2", Type: "npm", PURL: "pkg:npm/lodash.merge@4.6.2", FoundBy: "javascript/packagelockjson",
				Locations: []sbom.Location{{Path: "package-lock.json"}}},
			{ID: "npm-minimist", Name: "minimist", Version: "1.2.5", Type: "npm", PURL: "pkg:npm/minimist@1.2.5", FoundBy: "javascript/packagelockjson",
				Locations: []sbom.Location{{Path: "package-lock.json"}}},
			{ID: "npm-left-pad", Name: "left-pad", Version: "1.3.0", Type: "npm", PURL: "pkg:npm/left-pad@1.3.0"},
		},
	}
	lodash := vuln.Finding{
		ID: "CVE-2021-23337", Aliases: []string{"GHSA-35jh-r3h4-6jhm"}, Advisories: []string{"GHSA-35jh-r3h4-6jhm"},
		PackageID: "npm-lodash", Package: "lodash", Version: "4.17.20", PURL: "pkg:npm/lodash@4.17.20", Ecosystem: "npm",
		Summary:  "Command Injection in lodash",
		Severity: vuln.Severity{Level: vuln.LevelHigh, Score: 7.2, V3: cvss3("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2, vuln.LevelHigh), Database: "HIGH"},
		Fixed:    []string{"4.17.21"}, CVEs: []string{"CVE-2021-23337"},
	}
	// minimist 1.2.5 is in the lockfile after a nested minimist 0.0.8: the result
	// goes to its own entry.
	minimist := vuln.Finding{
		ID: "CVE-2021-44906", Aliases: []string{"GHSA-xvch-5gv4-984h"}, Advisories: []string{"GHSA-xvch-5gv4-984h"},
		PackageID: "npm-minimist", Package: "minimist", Version: "1.2.5", PURL: "pkg:npm/minimist@1.2.5", Ecosystem: "npm",
		Summary:  "Prototype Pollution in minimist",
		Severity: vuln.Severity{Level: vuln.LevelCritical, Score: 9.8, V3: cvss3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, vuln.LevelCritical), Database: "CRITICAL"},
		Fixed:    []string{"1.2.6"}, CVEs: []string{"CVE-2021-44906"},
	}
	// A made-up advisory with no severity and no fix, for the note level and the
	// package without a location.
	leftPad := vuln.Finding{
		ID: "GHSA-xxxx-xxxx-xxxx", Advisories: []string{"GHSA-xxxx-xxxx-xxxx"},
		PackageID: "npm-left-pad", Package: "left-pad", Version: "1.3.0", PURL: "pkg:npm/left-pad@1.3.0", Ecosystem: "npm",
		Summary: "Test advisory without severity | with *markdown* characters",
	}
	return s, []vuln.Finding{leftPad, minimist, lodash}
}

type sarifCase struct {
	name      string
	make      func() (*sbom.SBOM, []vuln.Finding)
	sarifFile string
	cdxFile   string
}

var sarifCases = []sarifCase{
	{"image", imageCase, "vuln-image.sarif", "vuln-image.cdx.json"},
	{"directory", dirCase, "vuln-dir.sarif", "vuln-dir.cdx.json"},
}

func writeSARIF(t *testing.T, s *sbom.SBOM, fs []vuln.Finding) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := report.SARIF(&b, s, fs, tool); err != nil {
		t.Fatalf("SARIF: %v", err)
	}
	return b.Bytes()
}

func writeCDX(t *testing.T, s *sbom.SBOM, fs []vuln.Finding) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := report.CycloneDXVulns(&b, s, fs); err != nil {
		t.Fatalf("CycloneDXVulns: %v", err)
	}
	return b.Bytes()
}

func TestSARIFGolden(t *testing.T) {
	for _, c := range sarifCases {
		t.Run(c.name, func(t *testing.T) {
			s, fs := c.make()
			golden.Check(t, filepath.Join("testdata", c.sarifFile), writeSARIF(t, s, fs))
		})
	}
}

func TestCycloneDXVulnsGolden(t *testing.T) {
	for _, c := range sarifCases {
		t.Run(c.name, func(t *testing.T) {
			s, fs := c.make()
			golden.Check(t, filepath.Join("testdata", c.cdxFile), writeCDX(t, s, fs))
		})
	}
}

// TestVulnReportsDeterministic: the same findings in another order, and the same packages in
// another order, give the same bytes.
func TestVulnReportsDeterministic(t *testing.T) {
	for _, c := range sarifCases {
		t.Run(c.name, func(t *testing.T) {
			s, fs := c.make()
			a, ac := writeSARIF(t, s, fs), writeCDX(t, s, fs)
			s2, fs2 := c.make()
			slices.Reverse(fs2)
			slices.Reverse(s2.Packages)
			if b := writeSARIF(t, s2, fs2); !bytes.Equal(a, b) {
				t.Errorf("SARIF depends on input order:\n%s", cmp.Diff(string(a), string(b)))
			}
			if b := writeCDX(t, s2, fs2); !bytes.Equal(ac, b) {
				t.Errorf("CycloneDX depends on input order:\n%s", cmp.Diff(string(ac), string(b)))
			}
		})
	}
}

// sarifSchema compiles the OASIS SARIF 2.1.0 schema (testdata/README.md) under its
// own URI, so nothing is fetched, with format assertions on.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(report.SARIFSchemaURI, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(report.SARIFSchemaURI)
	if err != nil {
		t.Fatalf("compiling the SARIF schema: %v", err)
	}
	return sch
}

func validate(t *testing.T, sch *jsonschema.Schema, b []byte) error {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(doc)
}

func TestSARIFSchema(t *testing.T) {
	sch := sarifSchema(t)
	cases := map[string]func() (*sbom.SBOM, []vuln.Finding){
		"empty":    func() (*sbom.SBOM, []vuln.Finding) { return &sbom.SBOM{}, nil },
		"enriched": enrichedCase,
	}
	for _, c := range sarifCases {
		cases[c.name] = c.make
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			s, fs := mk()
			if err := validate(t, sch, writeSARIF(t, s, fs)); err != nil {
				t.Errorf("output is not valid SARIF 2.1.0: %v", err)
			}
		})
	}
}

func TestSARIFSchemaRejectsInvalid(t *testing.T) {
	// The validator must have teeth: each of these breaks one rule of the schema.
	sch := sarifSchema(t)
	s, fs := dirCase()
	good := string(writeSARIF(t, s, fs))
	for name, bad := range map[string]string{
		"no version":          strings.Replace(good, `"version": "2.1.0",`, ``, 1),
		"level fatal":         strings.Replace(good, `"level": "error"`, `"level": "fatal"`, 1),
		"line 0":              strings.Replace(good, "\"startLine\": 1\n", "\"startLine\": 0\n", 1),
		"result no message":   `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"tether"}},"results":[{"ruleId":"X"}]}]}`,
		"driver without name": `{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}`,
		"bad helpUri":         strings.Replace(good, `"helpUri": "https://`, `"helpUri": "not a uri`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			if bad == good {
				t.Fatal("the replacement changed nothing")
			}
			if validate(t, sch, []byte(bad)) == nil {
				t.Error("schema accepted a broken document")
			}
		})
	}
}

// sarifDoc is the part of a SARIF log the checks below read.
type sarifDoc struct {
	Schema string `json:"$schema"`
	Runs   []struct {
		Tool struct {
			Driver struct {
				Name, Version, InformationURI string
				Rules                         []struct {
					ID               string
					ShortDescription struct{ Text string }
					HelpURI          string
					Properties       struct {
						Tags             []string
						SecuritySeverity string `json:"security-severity"`
						Precision        string
					}
				}
			}
		}
		Results []struct {
			RuleID    string
			RuleIndex int
			Level     string
			Message   struct{ Text string }
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct{ URI string }
					Region           struct{ StartLine, EndLine int }
				}
			}
			PartialFingerprints map[string]string
		}
	}
}

func parseSARIF(t *testing.T, b []byte) sarifDoc {
	t.Helper()
	var d sarifDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(d.Runs))
	}
	return d
}

type resultSummary struct {
	Rule, Level, URI string
	Start, End       int
}

// TestSARIFContent checks what GitHub code scanning relies on: a rule for every
// result, levels, security-severity, locations with lines, fingerprints.
func TestSARIFContent(t *testing.T) {
	lock, err := os.ReadFile(filepath.Join("testdata", "sarif-app", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	lodashLine, minimistLine := 0, 0
	for i, l := range strings.Split(string(lock), "\n") {
		switch {
		case strings.Contains(l, `"lodash": "^4.17.20"`):
			lodashLine = i + 1
		case strings.Contains(l, `"node_modules/minimist"`):
			minimistLine = i + 1
		}
	}
	tests := []struct {
		name     string
		make     func() (*sbom.SBOM, []vuln.Finding)
		want     []resultSummary
		severity map[string]string
	}{
		{"image", imageCase, []resultSummary{
			{"CVE-2023-39325", "error", "build/Dockerfile", 12, 13},
			{"CVE-2024-35195", "warning", "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", 1, 0},
			{"DEBIAN-CVE-2024-5535", "note", "var/lib/dpkg/status", 1, 0},
		}, map[string]string{"CVE-2023-39325": "7.5", "CVE-2024-35195": "5.6", "DEBIAN-CVE-2024-5535": ""}},
		{"directory", dirCase, []resultSummary{
			{"CVE-2021-23337", "error", "package-lock.json", lodashLine, 0},
			{"CVE-2021-44906", "error", "package-lock.json", minimistLine, 0},
			{"GHSA-xxxx-xxxx-xxxx", "note", ".", 1, 0},
		}, map[string]string{"CVE-2021-23337": "7.2", "CVE-2021-44906": "9.8", "GHSA-xxxx-xxxx-xxxx": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, fs := tt.make()
			d := parseSARIF(t, writeSARIF(t, s, fs))
			run := d.Runs[0]
			drv := run.Tool.Driver
			if d.Schema != report.SARIFSchemaURI || drv.Name != "tether" || drv.Version != "0.1.0" || drv.InformationURI != "https://github.com/tether-sec/tether" {
				t.Errorf("schema %q, driver %q %q %q", d.Schema, drv.Name, drv.Version, drv.InformationURI)
			}
			var got []resultSummary
			seen := map[string]bool{}
			for _, r := range run.Results {
				if r.RuleIndex < 0 || r.RuleIndex >= len(drv.Rules) || drv.Rules[r.RuleIndex].ID != r.RuleID {
					t.Errorf("result %s: ruleIndex %d does not point at its rule", r.RuleID, r.RuleIndex)
				}
				if len(r.Locations) != 1 {
					t.Fatalf("result %s: %d locations, want 1", r.RuleID, len(r.Locations))
				}
				pl := r.Locations[0].PhysicalLocation
				got = append(got, resultSummary{r.RuleID, r.Level, pl.ArtifactLocation.URI, pl.Region.StartLine, pl.Region.EndLine})
				fp := r.PartialFingerprints["tether/v1"]
				if fp == "" || seen[fp] {
					t.Errorf("result %s: fingerprint %q missing or repeated", r.RuleID, fp)
				}
				seen[fp] = true
				if !strings.Contains(r.Message.Text, r.RuleID) {
					t.Errorf("message %q does not name %s", r.Message.Text, r.RuleID)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if len(drv.Rules) != len(tt.severity) {
				t.Errorf("%d rules, want %d", len(drv.Rules), len(tt.severity))
			}
			for _, r := range drv.Rules {
				if sev, ok := tt.severity[r.ID]; !ok || r.Properties.SecuritySeverity != sev {
					t.Errorf("rule %s: security-severity %q, want %q", r.ID, r.Properties.SecuritySeverity, sev)
				}
				if sev := r.Properties.SecuritySeverity; sev != "" {
					if f, err := strconv.ParseFloat(sev, 64); err != nil || f < 0 || f > 10 {
						t.Errorf("rule %s: security-severity %q is not a score", r.ID, sev)
					}
				}
				if len(r.Properties.Tags) < 2 || r.Properties.Tags[0] != "security" || r.Properties.Precision == "" || r.ShortDescription.Text == "" {
					t.Errorf("rule %s: properties %+v, short description %q", r.ID, r.Properties, r.ShortDescription.Text)
				}
				wantHelp := "https://osv.dev/vulnerability/" + r.ID
				if strings.HasPrefix(r.ID, "CVE-") {
					wantHelp = "https://nvd.nist.gov/vuln/detail/" + r.ID
				}
				if r.HelpURI != wantHelp {
					t.Errorf("rule %s: helpUri %q, want %q", r.ID, r.HelpURI, wantHelp)
				}
			}
		})
	}
}

// TestSARIFFingerprintStable: an upgrade that does not fix the advisory keeps the
// fingerprint, so code scanning keeps the alert; another package changes it.
func TestSARIFFingerprintStable(t *testing.T) {
	fingerprint := func(version string) string {
		s, fs := dirCase()
		s.Packages[0].Version, s.Packages[0].PURL = version, "pkg:npm/lodash@"+version
		fs[2].Version, fs[2].PURL = version, "pkg:npm/lodash@"+version
		d := parseSARIF(t, writeSARIF(t, s, fs))
		for _, r := range d.Runs[0].Results {
			if r.RuleID == "CVE-2021-23337" {
				return r.PartialFingerprints["tether/v1"]
			}
		}
		t.Fatal("no CVE-2021-23337 result")
		return ""
	}
	if a, b := fingerprint("4.17.20"), fingerprint("4.17.19"); a != b {
		t.Errorf("fingerprint changed with the version: %s, %s", a, b)
	}
}

// enrichedCase has KEV and EPSS data and one advisory group on two packages. The
// KEV date is the CISA catalog's for CVE-2023-44487; the EPSS numbers are made up.
func enrichedCase() (*sbom.SBOM, []vuln.Finding) {
	s := sbomtest.Rich()
	sev := vuln.Severity{Level: vuln.LevelHigh, Score: 7.5, V3: cvss3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, vuln.LevelHigh)}
	kev := &vuln.KEV{DateAdded: time.Date(2023, 10, 10, 0, 0, 0, 0, time.UTC)}
	epss := &vuln.EPSS{Score: 0.5, Percentile: 0.9}
	base := vuln.Finding{ID: "CVE-2023-44487", Aliases: []string{"GHSA-qppj-fm5r-hxr3"}, Advisories: []string{"GHSA-qppj-fm5r-hxr3"},
		Ecosystem: "Go", Summary: "HTTP/2 Stream Cancellation Attack", Severity: sev, CVEs: []string{"CVE-2023-44487"}, KEV: kev, EPSS: epss}
	a, b := base, base
	a.PackageID, a.Package, a.Version, a.PURL, a.Fixed = "golang-x-net", "golang.org/x/net", "0.20.0", "pkg:golang/golang.org/x/net@v0.20.0", []string{"0.17.0"}
	b.PackageID, b.Package, b.Version, b.PURL = "go-shop", "github.com/acme/shop", "1.2.3", "pkg:golang/github.com/acme/shop@v1.2.3"
	return s, []vuln.Finding{a, b}
}

func TestSARIFGroupsAdvisory(t *testing.T) {
	s, fs := enrichedCase()
	d := parseSARIF(t, writeSARIF(t, s, fs))
	if n, m := len(d.Runs[0].Tool.Driver.Rules), len(d.Runs[0].Results); n != 1 || m != 2 {
		t.Errorf("%d rules and %d results, want 1 rule for 2 results", n, m)
	}
	for _, r := range d.Runs[0].Results {
		if !strings.Contains(r.Message.Text, "CISA KEV") {
			t.Errorf("message %q does not say the CVE is exploited", r.Message.Text)
		}
	}
}

func TestCycloneDXVulnsSchema(t *testing.T) {
	sch := sbomtest.CycloneDXSchema(t, filepath.Join("..", "sbom", "cyclonedx", "testdata", "schema"))
	cases := map[string]func() (*sbom.SBOM, []vuln.Finding){
		"no findings": func() (*sbom.SBOM, []vuln.Finding) { return sbomtest.Rich(), nil },
		"enriched":    enrichedCase,
	}
	for _, c := range sarifCases {
		cases[c.name] = c.make
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			s, fs := mk()
			if err := validate(t, sch, writeCDX(t, s, fs)); err != nil {
				t.Errorf("output is not valid CycloneDX 1.6: %v", err)
			}
		})
	}
}

func TestCycloneDXVulnsContent(t *testing.T) {
	s, fs := enrichedCase()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(writeCDX(t, s, fs)), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatal(err)
	}
	if bom.Vulnerabilities == nil || len(*bom.Vulnerabilities) != 1 {
		t.Fatalf("vulnerabilities = %+v, want one", bom.Vulnerabilities)
	}
	v := (*bom.Vulnerabilities)[0]
	refs := map[string]bool{}
	for _, c := range *bom.Components {
		refs[c.BOMRef] = true
	}
	var affected []string
	for _, a := range *v.Affects {
		if !refs[a.Ref] {
			t.Errorf("affects %q, which is no component's bom-ref", a.Ref)
		}
		affected = append(affected, a.Ref)
	}
	if diff := cmp.Diff([]string{"go-shop", "golang-x-net"}, affected); diff != "" {
		t.Errorf("affects (-want +got):\n%s", diff)
	}
	if v.ID != "CVE-2023-44487" || v.Source == nil || v.Source.Name != "NVD" || v.Ratings == nil || len(*v.Ratings) != 1 {
		t.Fatalf("vulnerability = %+v", v)
	}
	r := (*v.Ratings)[0]
	if r.Method != cdx.ScoringMethodCVSSv31 || r.Score == nil || *r.Score != 7.5 || r.Severity != cdx.SeverityHigh || !strings.HasPrefix(r.Vector, "CVSS:3.1/") {
		t.Errorf("rating = %+v", r)
	}
	props := map[string]string{}
	for _, p := range *v.Properties {
		props[p.Name] = p.Value
	}
	for name, want := range map[string]string{
		"tether:fixed-version:golang-x-net": "0.17.0",
		"tether:kev:date-added":             "2023-10-10",
		"tether:epss:score":                 "0.5",
		"tether:ecosystem:go-shop":          "Go",
	} {
		if props[name] != want {
			t.Errorf("property %s = %q, want %q", name, props[name], want)
		}
	}
	if !strings.Contains(v.Recommendation, "Upgrade golang.org/x/net v0.20.0 to 0.17.0") || v.Analysis != nil {
		t.Errorf("recommendation %q, analysis %+v", v.Recommendation, v.Analysis)
	}
	// Another set of findings, another document: another serial number.
	var plain bytes.Buffer
	if err := report.CycloneDXVulns(&plain, s, nil); err != nil {
		t.Fatal(err)
	}
	var pbom cdx.BOM
	if err := cdx.NewBOMDecoder(&plain, cdx.BOMFileFormatJSON).Decode(&pbom); err != nil {
		t.Fatal(err)
	}
	if pbom.SerialNumber == bom.SerialNumber {
		t.Errorf("BOMs with and without findings share serial number %s", bom.SerialNumber)
	}
}

func TestVulnReportsNilSBOM(t *testing.T) {
	if err := report.SARIF(&bytes.Buffer{}, nil, nil, tool); err == nil {
		t.Error("SARIF(nil SBOM): no error")
	}
	if err := report.CycloneDXVulns(&bytes.Buffer{}, nil, nil); err == nil {
		t.Error("CycloneDXVulns(nil SBOM): no error")
	}
}
