package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/internal/testenv"
	"github.com/tether-sec/tether/internal/testgit"
	"github.com/tether-sec/tether/store"
)

// advisoryDir lays out advisories like the OSV bucket: npm/GHSA….json (written from
// the public advisory, see vuln/testdata) and Go/GO-2022-0969.json (real, see
// osv/testdata).
func advisoryDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for src, dst := range map[string]string{
		"../../vuln/testdata/written/GHSA-35jh-r3h4-6jhm.json": "npm/GHSA-35jh-r3h4-6jhm.json",
		"../../osv/testdata/GO-2022-0969.json":                 "Go/GO-2022-0969.json",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		full := filepath.Join(dir, filepath.FromSlash(dst))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestVuln(t *testing.T) {
	tmp := t.TempDir()
	dbDir, db := filepath.Join(tmp, "advisories"), filepath.Join(tmp, "tether.db")

	// Without a database, a clear error.
	app := t.TempDir()
	if err := os.WriteFile(filepath.Join(app, "package-lock.json"), []byte(packageLock(map[string]string{"lodash": "4.17.20", "left-pad": "1.3.0"})), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "vuln", app, "--db-dir", dbDir, "--db", db)
	if code != 2 || !strings.Contains(stderr, "tether db update") {
		t.Errorf("no database: exit %d: %s", code, stderr)
	}

	code, out, stderr := run(t, "db", "import", advisoryDir(t), "--db-dir", dbDir)
	if code != 0 || !strings.Contains(out, "2 advisories") {
		t.Fatalf("db import: exit %d: %s%s", code, out, stderr)
	}
	code, out, _ = run(t, "db", "status", "--db-dir", dbDir, "-o", "json")
	var st struct{ Advisories int }
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Advisories != 2 {
		t.Errorf("db status: exit %d: %s", code, out)
	}

	code, out, stderr = run(t, "vuln", app, "--db-dir", dbDir, "--db", db, "-o", "json")
	if code != 0 {
		t.Fatalf("vuln: exit %d: %s", code, stderr)
	}
	var res struct {
		Findings []struct {
			ID, Package, Version string
			Fixed                []string
			Severity             struct{ Level string }
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("vuln -o json: %v\n%s", err, out)
	}
	if len(res.Findings) != 1 || res.Findings[0].ID != "CVE-2021-23337" || res.Findings[0].Package != "lodash" ||
		strings.Join(res.Findings[0].Fixed, ",") != "4.17.21" || res.Findings[0].Severity.Level != "HIGH" {
		t.Errorf("findings = %+v, want lodash CVE-2021-23337 (high) fixed in 4.17.21", res.Findings)
	}

	// -o sarif: one result for the one finding, at the lockfile line naming lodash.
	code, out, stderr = run(t, "vuln", app, "--db-dir", dbDir, "--db", db, "-o", "sarif")
	if code != 0 {
		t.Fatalf("vuln -o sarif: exit %d: %s", code, stderr)
	}
	var log struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string
					Rules []struct{ ID string }
				}
			}
			Results []struct {
				RuleID    string
				Level     string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatalf("vuln -o sarif: %v\n%s", err, out)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "tether" ||
		len(log.Runs[0].Results) != 1 || log.Runs[0].Results[0].RuleID != "CVE-2021-23337" || log.Runs[0].Results[0].Level != "error" ||
		len(log.Runs[0].Tool.Driver.Rules) != 1 || len(log.Runs[0].Results[0].Locations) != 1 {
		t.Fatalf("vuln -o sarif = %+v, want one error result for CVE-2021-23337", log)
	}
	loc := log.Runs[0].Results[0].Locations[0].PhysicalLocation
	lines := strings.Split(packageLock(map[string]string{"lodash": "4.17.20", "left-pad": "1.3.0"}), "\n")
	if loc.ArtifactLocation.URI != "package-lock.json" || loc.Region.StartLine < 1 || loc.Region.StartLine > len(lines) ||
		!strings.Contains(lines[loc.Region.StartLine-1], `"node_modules/lodash"`) {
		t.Errorf("SARIF location = %+v, want the package-lock.json line of lodash's entry", loc)
	}

	// -o cyclonedx-json: the BOM with a vulnerability that affects lodash's component.
	code, out, stderr = run(t, "vuln", app, "--db-dir", dbDir, "--db", db, "-o", "cyclonedx-json")
	if code != 0 {
		t.Fatalf("vuln -o cyclonedx-json: exit %d: %s", code, stderr)
	}
	var bom struct {
		BOMFormat, SpecVersion string
		Components             []struct {
			BOMRef string `json:"bom-ref"`
			Name   string
		}
		Vulnerabilities []struct {
			ID      string
			Affects []struct{ Ref string }
		}
	}
	if err := json.Unmarshal([]byte(out), &bom); err != nil {
		t.Fatalf("vuln -o cyclonedx-json: %v\n%s", err, out)
	}
	lodashRef := ""
	for _, c := range bom.Components {
		if c.Name == "lodash" {
			lodashRef = c.BOMRef
		}
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.6" || lodashRef == "" || len(bom.Vulnerabilities) != 1 ||
		bom.Vulnerabilities[0].ID != "CVE-2021-23337" || len(bom.Vulnerabilities[0].Affects) != 1 || bom.Vulnerabilities[0].Affects[0].Ref != lodashRef {
		t.Errorf("vuln -o cyclonedx-json = %+v, want CVE-2021-23337 affecting lodash (%q)", bom, lodashRef)
	}

	// --fail-on: high fails, critical passes.
	if code, _, stderr := run(t, "vuln", app, "--db-dir", dbDir, "--db", db, "--fail-on", "high", "-q"); code != 1 {
		t.Errorf("--fail-on high: exit %d, want 1: %s", code, stderr)
	}
	if code, _, stderr := run(t, "vuln", app, "--db-dir", dbDir, "--db", db, "--fail-on", "critical", "-q"); code != 0 {
		t.Errorf("--fail-on critical: exit %d, want 0: %s", code, stderr)
	}
	if code, _, _ := run(t, "vuln", app, "--db-dir", dbDir, "--db", db, "--fail-on", "severe"); code != 2 {
		t.Errorf("--fail-on severe: exit %d, want 2", code)
	}

	// The finding is in the graph: package → vulnerability.
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	edges, err := s.Edges(context.Background(), store.EdgeQuery{From: graph.PackageID("pkg:npm/lodash@4.17.20"), Kind: graph.EdgeAffectedBy})
	if err != nil || len(edges) != 1 || edges[0].To != graph.VulnerabilityID("CVE-2021-23337") {
		t.Errorf("affected_by edges = %+v, %v", edges, err)
	}

	// A VEX statement suppresses the finding, and says why.
	vexFile := filepath.Join(tmp, "app.openvex.json")
	os.WriteFile(vexFile, []byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://acme.example/vex/1",
  "statements": [{"vulnerability": {"name": "GHSA-35jh-r3h4-6jhm"}, "products": [{"@id": "pkg:npm/lodash@4.17.20"}],
  "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}`), 0o644)
	code, out, stderr = run(t, "vuln", app, "--db-dir", dbDir, "--db", db, "--vex", vexFile, "--fail-on", "low")
	if code != 0 || strings.Contains(out, "CVE-2021-23337") || !strings.Contains(stderr, "vulnerable_code_not_in_execute_path") {
		t.Errorf("--vex: exit %d:\n%s%s", code, out, stderr)
	}
	if code, _, stderr := run(t, "vuln", app, "--db-dir", dbDir, "--db", db, "--vex", advisoryDir(t)+"/npm/GHSA-35jh-r3h4-6jhm.json"); code != 2 || !strings.Contains(stderr, "not an OpenVEX") {
		t.Errorf("--vex with an OSV record: exit %d: %s", code, stderr)
	}

	// An SBOM file as the target.
	sbomFile := filepath.Join(tmp, "app.cdx.json")
	if code, _, stderr := run(t, "sbom", app, "--db", db, "-o", "cyclonedx-json="+sbomFile); code != 0 {
		t.Fatalf("sbom: %s", stderr)
	}
	code, out, stderr = run(t, "vuln", "sbom:"+sbomFile, "--db-dir", dbDir, "--db", db)
	if code != 0 || !strings.Contains(out, "CVE-2021-23337") {
		t.Errorf("vuln sbom:FILE: exit %d:\n%s%s", code, out, stderr)
	}
}

// TestVulnGoBinaryCode builds two real Go binaries of one module tagged v1.0.0
// (the go command stamps the tag as the main module's version), one that calls
// the function an advisory names and one that does not, and checks that tether
// vuln tells them apart in its table, JSON and graph. The advisory is written
// for the test (testdata/TETHER-TEST-0001.json).
func TestVulnGoBinaryCode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go binaries")
	}
	gobin := testenv.LookPath(t, "go", "install Go")
	repo := testgit.New(t)
	repo.Commit("app", map[string]string{
		"go.mod":            "module example.com/app\n\ngo 1.22\n",
		"lib/lib.go":        "package lib\n\nimport \"strings\"\n\nfunc Parse(s string) []string { return strings.Fields(s) }\n\nfunc Count(s string) int { return len(s) }\n",
		"cmd/parse/main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\t\"example.com/app/lib\"\n)\n\nfunc main() { fmt.Println(lib.Parse(os.Args[0])) }\n",
		"cmd/count/main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\t\"example.com/app/lib\"\n)\n\nfunc main() { fmt.Println(lib.Count(os.Args[0])) }\n",
	})
	repo.Run("tag", "v1.0.0")
	src := repo.Dir
	target := t.TempDir()
	for _, name := range []string{"parse", "count"} {
		cmd := exec.Command(gobin, "build", "-o", filepath.Join(target, "bin", name), "./cmd/"+name)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=true")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, b)
		}
	}

	adv := t.TempDir()
	rec, err := os.ReadFile("testdata/TETHER-TEST-0001.json")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(adv, "Go"), 0o755)
	if err := os.WriteFile(filepath.Join(adv, "Go", "TETHER-TEST-0001.json"), rec, 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	dbDir, db := filepath.Join(tmp, "advisories"), filepath.Join(tmp, "tether.db")
	if code, out, stderr := run(t, "db", "import", adv, "--db-dir", dbDir); code != 0 {
		t.Fatalf("db import: %s%s", out, stderr)
	}

	code, out, stderr := run(t, "vuln", target, "--db-dir", dbDir, "--db", db, "-o", "json")
	if code != 0 {
		t.Fatalf("vuln: exit %d: %s", code, stderr)
	}
	var res struct {
		Findings []struct {
			ID, PackageID, PURL string
			Code                string
			Present             []string
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("vuln -o json: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, f := range res.Findings {
		if f.ID != "TETHER-TEST-0001" || f.PURL != "pkg:golang/example.com/app@v1.0.0" {
			continue
		}
		got[f.PackageID] = f.Code + " " + strings.Join(f.Present, ",")
	}
	var codes []string
	for _, c := range got {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	if want := []string{"absent ", "present example.com/app/lib.Parse"}; !slices.Equal(codes, want) {
		t.Fatalf("code of the two binaries = %q, want %q (findings: %+v)", codes, want, res.Findings)
	}

	code, out, _ = run(t, "vuln", target, "--db-dir", dbDir, "--db", db)
	if code != 0 || !strings.Contains(out, "VULN CODE") {
		t.Fatalf("table: exit %d\n%s", code, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "TETHER-TEST-0001") {
			continue
		}
		if strings.Contains(line, "bin/parse") != strings.Contains(line, "present") || strings.Contains(line, "bin/count") != strings.Contains(line, "absent") {
			t.Errorf("table line %q: bin/parse calls Parse, bin/count does not", line)
		}
	}

	// The graph edge says present: one of the binaries holds the code.
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	edges, err := s.Edges(context.Background(), store.EdgeQuery{From: graph.PackageID("pkg:golang/example.com/app@v1.0.0"), Kind: graph.EdgeAffectedBy})
	if err != nil || len(edges) != 1 || edges[0].Attrs["code"] != "present" {
		t.Errorf("affected_by edges = %+v, %v; want one with code present", edges, err)
	}
}
