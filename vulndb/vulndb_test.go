package vulndb_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite"

	"github.com/tether-sec/tether/vulndb"
)

func TestImportStatus(t *testing.T) {
	_, st, dir := importTestdata(t)
	if st.Dir != dir {
		t.Errorf("Dir = %q, want %q", st.Dir, dir)
	}
	// 119 records, 12 withdrawn (4 Go, 3 PyPI, 5 crates.io); 29 KEV entries; 120 EPSS rows.
	if st.Advisories != 107 || st.Withdrawn != 12 || st.KEV != 29 || st.EPSS != 120 || st.Warnings != 0 {
		t.Errorf("counts = %d advisories, %d withdrawn, %d KEV, %d EPSS, %d warnings; want 107, 12, 29, 120, 0",
			st.Advisories, st.Withdrawn, st.KEV, st.EPSS, st.Warnings)
	}
	if diff := cmp.Diff(map[string]int{"AlmaLinux": 20, "Go": 33, "PyPI": 30, "crates.io": 24}, st.ByEcosystem); diff != "" {
		t.Errorf("ByEcosystem (-want +got):\n%s", diff)
	}
	var names []string
	for _, s := range st.Sources {
		names = append(names, s.Name)
		if len(s.SHA256) != 64 || s.Fetched.IsZero() || s.Location == "" || s.Records == 0 {
			t.Errorf("source %+v: missing sha256, time, location or records", s)
		}
	}
	if diff := cmp.Diff([]string{"osv/AlmaLinux", "osv/Go", "osv/PyPI", "osv/crates.io", "kev", "epss"}, names); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	if v := st.Sources[4].Version; v != "2025.08.25" {
		t.Errorf("KEV version %q", v)
	}
	if v := st.Sources[5].Version; v != "v2025.03.14 2025-08-25T12:55:00+0000" {
		t.Errorf("EPSS version %q", v)
	}

	// Status reads back what Import returned.
	db, err := vulndb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("Status (-import +read):\n%s", diff)
	}
}

func TestAdvisories(t *testing.T) {
	db, _, _ := importTestdata(t)
	ctx := context.Background()
	for _, tc := range []struct {
		eco, name string
		want      []string
	}{
		// PyPI names compare after PEP 503 normalisation; the ecosystem base is case-insensitive.
		{"PyPI", "pillow", []string{"PYSEC-2014-10", "PYSEC-2014-22", "PYSEC-2014-23", "PYSEC-2014-87", "PYSEC-2015-15", "PYSEC-2015-16", "PYSEC-2016-19", "PYSEC-2016-5", "PYSEC-2023-175"}},
		{"PyPI", "Pillow", []string{"PYSEC-2014-10", "PYSEC-2014-22", "PYSEC-2014-23", "PYSEC-2014-87", "PYSEC-2015-15", "PYSEC-2015-16", "PYSEC-2016-19", "PYSEC-2016-5", "PYSEC-2023-175"}},
		{"PyPI", "OpenCV_contrib.Python", []string{"PYSEC-2023-181"}},
		{"pypi", "jw-util", []string{"PYSEC-2020-341"}},
		{"PyPI", "JW__Util", []string{"PYSEC-2020-341"}},
		{"PyPI", "Django", []string{"PYSEC-2007-1", "PYSEC-2008-1", "PYSEC-2008-2", "PYSEC-2009-3", "PYSEC-2009-4", "PYSEC-2010-12", "PYSEC-2011-1", "PYSEC-2011-10"}},
		// Withdrawn records are left out: flask-caching's only record is withdrawn.
		{"PyPI", "flask-caching", []string{}},
		{"PyPI", "redis", []string{}},
		// Go compares module paths as written; records name several modules.
		{"Go", "golang.org/x/net", []string{"GO-2020-0014", "GO-2021-0078", "GO-2021-0238", "GO-2022-0192", "GO-2022-0193", "GO-2022-0197", "GO-2022-0236", "GO-2022-0288", "GO-2022-0969", "GO-2023-2102"}},
		{"Go", "stdlib", []string{"GO-2022-0229", "GO-2022-0236", "GO-2022-0288", "GO-2022-0535", "GO-2022-0969", "GO-2023-1840", "GO-2023-2102"}},
		{"Go", "Golang.org/x/net", []string{}},
		{"Go", "github.com/gorilla/sessions", []string{}}, // GO-2024-2730 is withdrawn
		{"Go", "k8s.io/kubernetes", []string{}},           // GO-2022-0617 is withdrawn
		// crates.io names as written.
		{"crates.io", "hyper", []string{"RUSTSEC-2016-0002", "RUSTSEC-2017-0002", "RUSTSEC-2020-0008", "RUSTSEC-2021-0020", "RUSTSEC-2021-0078", "RUSTSEC-2021-0079", "RUSTSEC-2022-0022"}},
		{"crates.io", "Hyper", []string{}},
		{"crates.io", "ring", []string{}}, // RUSTSEC-2025-0007 is withdrawn
		// An ecosystem suffix matches exactly that release; a bare base all of them.
		{"AlmaLinux:8", "memcached", []string{"ALEA-2020:4664"}},
		{"AlmaLinux:9", "memcached", []string{"ALSA-2026:27862"}},
		{"AlmaLinux:10", "memcached", []string{"ALSA-2026:27842"}},
		{"AlmaLinux", "memcached", []string{"ALEA-2020:4664", "ALSA-2026:27842", "ALSA-2026:27862"}},
		{"almalinux:9", "memcached", []string{"ALSA-2026:27862"}},
		{"AlmaLinux:7", "memcached", []string{}},
		{"AlmaLinux:9", "icu", []string{"ALSA-2025:12083"}},
		{"AlmaLinux:8", "java-1.8.0-openjdk", []string{"ALSA-2024:0265", "ALSA-2024:1818", "ALSA-2024:4563"}},
		{"AlmaLinux:9", "java-1.8.0-openjdk", []string{"ALSA-2024:0265", "ALSA-2024:1818", "ALSA-2024:4563"}},
		// A known ecosystem without data matches nothing, without error.
		{"Debian:12", "openssl", []string{}},
		{"npm", "lodash", []string{}},
	} {
		got, err := db.Advisories(ctx, tc.eco, tc.name)
		if err != nil {
			t.Errorf("Advisories(%q, %q): %v", tc.eco, tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
			t.Errorf("Advisories(%q, %q) (-want +got):\n%s", tc.eco, tc.name, diff)
		}
		for _, v := range got {
			if v.IsWithdrawn() {
				t.Errorf("Advisories(%q, %q) returned withdrawn %s", tc.eco, tc.name, v.ID)
			}
		}
	}
	if _, err := db.Advisories(ctx, "NoSuchEcosystem", "x"); !errors.Is(err, vulndb.ErrUnknownEcosystem) {
		t.Errorf("unknown ecosystem: err = %v, want ErrUnknownEcosystem", err)
	}
}

func TestAdvisory(t *testing.T) {
	db, _, _ := importTestdata(t)
	ctx := context.Background()
	for _, tc := range []struct {
		id, want  string
		withdrawn bool
	}{
		{"GO-2022-0969", "GO-2022-0969", false},
		{"ALSA-2024:0256", "ALSA-2024:0256", false},
		{"CVE-2022-27664", "GO-2022-0969", false},
		{"GHSA-69cg-p879-7622", "GO-2022-0969", false},
		// An alias of two records: the lowest ID.
		{"CVE-2023-4863", "RUSTSEC-2023-0060", false},
		// By ID or alias, a withdrawn record is returned, marked withdrawn.
		{"PYSEC-2021-13", "PYSEC-2021-13", true},
		{"CVE-2021-33026", "PYSEC-2021-13", true},
	} {
		v, err := db.Advisory(ctx, tc.id)
		if err != nil {
			t.Errorf("Advisory(%q): %v", tc.id, err)
			continue
		}
		if v.ID != tc.want || v.IsWithdrawn() != tc.withdrawn {
			t.Errorf("Advisory(%q) = %s (withdrawn %v), want %s (withdrawn %v)", tc.id, v.ID, v.IsWithdrawn(), tc.want, tc.withdrawn)
		}
	}
	// The record reads back whole.
	v, err := db.Advisory(ctx, "GO-2022-0969")
	if err != nil {
		t.Fatal(err)
	}
	if v.Summary == "" || len(v.Affected) != 2 || v.Affected[0].Package.Name != "stdlib" || len(v.Affected[0].Ranges[0].Events) == 0 {
		t.Errorf("GO-2022-0969 = %+v", v)
	}
	// related is not an alias.
	for _, id := range []string{"CVE-2024-3400", "NOPE-1", ""} {
		if _, err := db.Advisory(ctx, id); !errors.Is(err, vulndb.ErrNotFound) {
			t.Errorf("Advisory(%q): err = %v, want ErrNotFound", id, err)
		}
	}
}

func TestAliasGroup(t *testing.T) {
	db, _, _ := importTestdata(t)
	ctx := context.Background()
	for id, want := range map[string][]string{
		"CVE-2023-4863":       {"RUSTSEC-2023-0060", "RUSTSEC-2023-0061"},
		"RUSTSEC-2023-0060":   {"RUSTSEC-2023-0060", "RUSTSEC-2023-0061"},
		"GHSA-69cg-p879-7622": {"GO-2022-0969"},
		"GO-2022-0969":        {"GO-2022-0969"},
		"CVE-2021-33026":      {}, // withdrawn
		"CVE-1999-0001":       {},
	} {
		got, err := db.AliasGroup(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, ids(got)); diff != "" {
			t.Errorf("AliasGroup(%q) (-want +got):\n%s", id, diff)
		}
	}
}

func TestKEVAndEPSS(t *testing.T) {
	db, _, _ := importTestdata(t)
	ctx := context.Background()
	e, ok, err := db.KEV(ctx, "CVE-2024-3400")
	if err != nil || !ok {
		t.Fatalf("KEV(CVE-2024-3400) = %v, %v", ok, err)
	}
	want := vulndb.KEVEntry{
		CVE: "CVE-2024-3400", VendorProject: "Palo Alto Networks", Product: "PAN-OS",
		Name:      "Palo Alto Networks PAN-OS Command Injection Vulnerability",
		DateAdded: time.Date(2024, 4, 12, 0, 0, 0, 0, time.UTC), DueDate: time.Date(2024, 4, 19, 0, 0, 0, 0, time.UTC),
		KnownRansomware: true,
	}
	if e.CVE != want.CVE || e.VendorProject != want.VendorProject || e.Product != want.Product || e.Name != want.Name ||
		!e.DateAdded.Equal(want.DateAdded) || !e.DueDate.Equal(want.DueDate) || e.KnownRansomware != want.KnownRansomware ||
		e.RequiredAction == "" || e.ShortDescription == "" || len(e.CWEs) == 0 {
		t.Errorf("KEV(CVE-2024-3400) = %+v", e)
	}
	e, ok, err = db.KEV(ctx, "cve-2023-44487")
	if err != nil || !ok || e.KnownRansomware || e.VendorProject != "IETF" {
		t.Errorf("KEV(cve-2023-44487) = %+v, %v, %v", e, ok, err)
	}
	if _, ok, err := db.KEV(ctx, "CVE-2022-27664"); ok || err != nil {
		t.Errorf("KEV(CVE-2022-27664) = %v, %v; want absent", ok, err)
	}

	s, ok, err := db.EPSS(ctx, "CVE-2024-3400")
	if err != nil || !ok {
		t.Fatalf("EPSS(CVE-2024-3400) = %v, %v", ok, err)
	}
	if s.CVE != "CVE-2024-3400" || s.Score < 0 || s.Score > 1 || s.Percentile <= 0 || s.Percentile > 1 || !s.Date.Equal(time.Date(2025, 8, 25, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("EPSS(CVE-2024-3400) = %+v", s)
	}
	if _, ok, err := db.EPSS(ctx, "CVE-1999-0001"); ok || err != nil {
		t.Errorf("EPSS(CVE-1999-0001) = %v, %v; want absent", ok, err)
	}
}

// TestImportLayouts imports a folder of <Ecosystem>/*.json, a single zip and a
// gzipped EPSS file.
func TestImportLayouts(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	for _, e := range []string{"PyPI", "crates.io"} {
		rs, err := records(e)
		if err != nil {
			t.Fatal(err)
		}
		for n, b := range rs {
			writeFile(t, filepath.Join(src, e, n), b)
		}
	}
	writeFile(t, filepath.Join(src, "README.md"), []byte("ignored"))
	writeFile(t, filepath.Join(src, "kev", "known_exploited_vulnerabilities_schema.json"), []byte(`{"$schema":"x"}`))
	writeFile(t, filepath.Join(src, "epss_scores-2025-08-25.csv.gz"), gz(t, readFile(t, filepath.Join("testdata", "epss", epssName))))
	dir := t.TempDir()
	logger, logs := captureLogger()
	st, err := vulndb.Import(ctx, dir, src, vulndb.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if st.Advisories != 54 || st.Withdrawn != 8 || st.EPSS != 120 || st.KEV != 0 || st.Warnings != 0 {
		t.Errorf("status %+v", st)
	}
	if logs.String() != "" {
		t.Errorf("warnings:\n%s", logs)
	}

	// A single all.zip.
	zips, _ := bucketZips()
	one := filepath.Join(t.TempDir(), "all.zip")
	writeFile(t, one, zips["Go"])
	st, err = vulndb.Import(ctx, dir, one, vulndb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Advisories != 33 || st.Withdrawn != 4 || len(st.Sources) != 1 || st.Sources[0].Name != "osv/all.zip" {
		t.Errorf("single zip: %+v", st)
	}
	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, _ := db.Advisories(ctx, "PyPI", "pillow"); len(got) != 0 {
		t.Errorf("import replaced the database, yet PyPI records remain: %v", ids(got))
	}
}

// TestDuplicates: a record in two inputs is kept once, the newest copy.
func TestDuplicates(t *testing.T) {
	ctx := context.Background()
	orig := readFile(t, filepath.Join("testdata", "osv", "PyPI", "PYSEC-2023-74.json"))
	newer := strings.Replace(string(orig), `"details"`, `"summary": "newer copy", "details"`, 1)
	if !strings.Contains(string(orig), `"modified"`) {
		t.Fatal("record has no modified")
	}
	newer = replaceModified(t, newer, "2099-01-01T00:00:00Z")
	for _, order := range [][2]string{{"a", "b"}, {"b", "a"}} {
		src := t.TempDir()
		writeFile(t, filepath.Join(src, order[0], "all.zip"), mustZip(t, map[string][]byte{"PYSEC-2023-74.json": orig}))
		writeFile(t, filepath.Join(src, order[1], "all.zip"), mustZip(t, map[string][]byte{"PYSEC-2023-74.json": []byte(newer)}))
		dir := t.TempDir()
		st, err := vulndb.Import(ctx, dir, src, vulndb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Advisories != 1 {
			t.Errorf("%d advisories, want 1", st.Advisories)
		}
		db, err := vulndb.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Advisories(ctx, "PyPI", "Requests")
		db.Close()
		if err != nil || len(got) != 1 || got[0].Summary != "newer copy" {
			t.Errorf("order %v: got %v, %v; want the newer copy", order, got, err)
		}
	}
}

func replaceModified(t *testing.T, doc, ts string) string {
	t.Helper()
	i := strings.Index(doc, `"modified"`)
	j := strings.Index(doc[i:], ",")
	return doc[:i] + `"modified": "` + ts + `"` + doc[i+j:]
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, err := vulndb.Open(ctx, dir)
	if !errors.Is(err, vulndb.ErrNoDatabase) || !strings.Contains(err.Error(), "tether db update") || !strings.Contains(err.Error(), "tether db import PATH") {
		t.Errorf("empty dir: err = %v, want ErrNoDatabase saying what to run", err)
	}
	writeFile(t, filepath.Join(dir, "advisories.db"), []byte("not a database, not at all, not even close to one"))
	if _, err := vulndb.Open(ctx, dir); !errors.Is(err, vulndb.ErrSchema) {
		t.Errorf("junk file: err = %v, want ErrSchema", err)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if d, err := vulndb.DefaultDir(); err != nil || d != "/x/cache/tether/db" {
		t.Errorf("DefaultDir = %q, %v", d, err)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, err := vulndb.DefaultDir(); err != nil || d != "/home/u/.cache/tether/db" {
		t.Errorf("DefaultDir = %q, %v", d, err)
	}
}

func TestDefaultEcosystems(t *testing.T) {
	e := vulndb.DefaultEcosystems()
	for _, want := range []string{"Go", "npm", "PyPI", "Maven", "crates.io", "RubyGems", "Packagist", "NuGet", "Debian", "Ubuntu", "Alpine", "AlmaLinux", "Rocky Linux", "Red Hat", "Bitnami"} {
		found := false
		for _, x := range e {
			found = found || x == want
		}
		if !found {
			t.Errorf("DefaultEcosystems lacks %s", want)
		}
	}
	e[0] = "changed"
	if vulndb.DefaultEcosystems()[0] == "changed" {
		t.Error("DefaultEcosystems returns shared storage")
	}
}

// TestSwapWhileOpen: an open DB keeps reading the file it opened while an
// import swaps in a new one; a new Open sees the new one.
func TestSwapWhileOpen(t *testing.T) {
	ctx := context.Background()
	old, _, dir := importTestdata(t)
	zips, _ := bucketZips()
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "Go", "all.zip"), zips["Go"])
	if _, err := vulndb.Import(ctx, dir, src, vulndb.Options{}); err != nil {
		t.Fatal(err)
	}
	if got, err := old.Advisories(ctx, "PyPI", "pillow"); err != nil || len(got) != 9 {
		t.Errorf("old handle: %d records, %v", len(got), err)
	}
	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, err := db.Advisories(ctx, "PyPI", "pillow"); err != nil || len(got) != 0 {
		t.Errorf("new handle: %d records, %v", len(got), err)
	}
}

// TestImportShared imports the real dumps in ../shared/data, when present, and
// checks the counts its README gives.
func TestImportShared(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	root := filepath.Join(sharedData, "osv")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("no shared data at %s", root)
	}
	src := t.TempDir()
	for _, e := range []string{"Go", "PyPI", "crates.io", "AlmaLinux", "Bitnami"} {
		abs, _ := filepath.Abs(filepath.Join(root, e, "all.zip"))
		os.MkdirAll(filepath.Join(src, e), 0o755)
		if err := os.Symlink(abs, filepath.Join(src, e, "all.zip")); err != nil {
			t.Fatal(err)
		}
	}
	abs, _ := filepath.Abs(filepath.Join(sharedData, "kev", kevName))
	os.Symlink(abs, filepath.Join(src, kevName))
	logger, logs := captureLogger()
	st, err := vulndb.Import(context.Background(), t.TempDir(), src, vulndb.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	// shared/data/README.md: Go 4,291 (17 withdrawn), PyPI 2,661 (10),
	// crates.io 1,206 (13), AlmaLinux 5,637, Bitnami 7,444; KEV 1,404.
	if st.Advisories+st.Withdrawn != 4291+2661+1206+5637+7444 || st.Withdrawn != 17+10+13 || st.KEV != 1404 {
		t.Errorf("%d advisories, %d withdrawn, %d KEV", st.Advisories, st.Withdrawn, st.KEV)
	}
	want := map[string]int{"Go": 4291 - 17, "PyPI": 2661 - 10, "crates.io": 1206 - 13, "AlmaLinux": 5637, "Bitnami": 7444}
	for e, n := range want {
		if st.ByEcosystem[e] != n {
			t.Errorf("ByEcosystem[%s] = %d, want %d", e, st.ByEcosystem[e], n)
		}
	}
	if st.Warnings != 0 {
		t.Errorf("%d warnings:\n%s", st.Warnings, logs)
	}
}

// TestOpenOtherSchema: a database of another schema version, or another
// program's SQLite file, is ErrSchema with what to do.
func TestOpenOtherSchema(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		pragma, want string
	}{
		{"PRAGMA user_version = 99", "newer tether"},
		{"PRAGMA user_version = 0", "older tether"},
		{"PRAGMA application_id = 7", "not a tether advisory database"},
	} {
		_, _, dir := importTestdata(t)
		p := filepath.Join(dir, "advisories.db")
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(tc.pragma); err != nil {
			t.Fatal(err)
		}
		db.Close()
		_, err = vulndb.Open(ctx, dir)
		if !errors.Is(err, vulndb.ErrSchema) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "tether db update") {
			t.Errorf("%s: err = %v", tc.pragma, err)
		}
	}
}
