package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-sec/tether/graph"
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
