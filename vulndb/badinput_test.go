package vulndb_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/vulndb"
)

// TestBadInputFails: input that cannot be read whole fails the import with
// ErrBadInput, names the file, and leaves the old database as it was.
func TestBadInputFails(t *testing.T) {
	ctx := context.Background()
	zips, err := bucketZips()
	if err != nil {
		t.Fatal(err)
	}
	goZip := zips["Go"]
	flipped := bytes.Clone(goZip)
	flipped[len(flipped)/3] ^= 0xff // inside some entry's deflate stream
	notOSV := mustZip(t, map[string][]byte{"A.json": []byte(`{"foo": 1}`), "B.json": []byte(`[1, 2]`)})

	for _, tc := range []struct {
		name  string
		files map[string][]byte // path under the import folder → content
		opts  vulndb.Options
		msg   string // the error names this
	}{
		{"truncated zip", map[string][]byte{"Go/all.zip": goZip[:len(goZip)/2]}, vulndb.Options{}, "all.zip"},
		{"corrupt entry", map[string][]byte{"Go/all.zip": flipped}, vulndb.Options{}, "all.zip"},
		{"zip of no OSV record", map[string][]byte{"Go/all.zip": notOSV}, vulndb.Options{}, "none of its 2 entries"},
		{"more unpacked than allowed", map[string][]byte{"Go/all.zip": goZip}, vulndb.Options{MaxUnpacked: 20000}, "zip bomb"},
		{"KEV that is not the catalog", map[string][]byte{"Go/all.zip": goZip, kevName: []byte(`{"vulnerabilities": "no"}`)}, vulndb.Options{}, kevName},
		{"KEV without catalogVersion", map[string][]byte{"Go/all.zip": goZip, kevName: []byte(`{"vulnerabilities": []}`)}, vulndb.Options{}, "not the CISA KEV catalog"},
		{"KEV count off", map[string][]byte{"Go/all.zip": goZip, kevName: []byte(`{"catalogVersion": "1", "count": 2, "vulnerabilities": []}`)}, vulndb.Options{}, "count says 2"},
		{"EPSS header changed", map[string][]byte{"Go/all.zip": goZip, "epss_scores-2025-08-25.csv": []byte("#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000\ncve,epss,percentile,kev\nCVE-2024-3400,0.9,0.99,1\n")}, vulndb.Options{}, `want "cve,epss,percentile"`},
		{"EPSS not gzip", map[string][]byte{"Go/all.zip": goZip, "epss_scores-2025-08-25.csv.gz": {0x1f, 0x8b, 1, 2, 3}}, vulndb.Options{}, "epss_scores-2025-08-25.csv.gz"},
		{"no OSV data", map[string][]byte{kevName: readFile(t, filepath.Join("testdata", "kev", kevName))}, vulndb.Options{}, "holds no OSV data"},
		{"only JSON that is not OSV", map[string][]byte{"PyPI/X-1.json": []byte(`{"affected": []}`)}, vulndb.Options{}, "no OSV record could be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, before, dir := importTestdata(t)
			src := t.TempDir()
			for p, b := range tc.files {
				writeFile(t, filepath.Join(src, p), b)
			}
			_, err := vulndb.Import(ctx, dir, src, tc.opts)
			if !errors.Is(err, vulndb.ErrBadInput) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want ErrBadInput naming %q", err, tc.msg)
			}
			checkUnchanged(t, dir, before)
		})
	}
}

// checkUnchanged: dir still holds the database with status before, and no
// temporary file is left.
func checkUnchanged(t *testing.T, dir string, before vulndb.Status) {
	t.Helper()
	db, err := vulndb.Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("old database no longer opens: %v", err)
	}
	defer db.Close()
	st, err := db.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, st); diff != "" {
		t.Errorf("database changed (-before +after):\n%s", diff)
	}
	if got, err := db.Advisories(context.Background(), "Go", "stdlib"); err != nil || len(got) != 7 {
		t.Errorf("old database: Go stdlib = %d records, %v", len(got), err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestBadInputWarns: bad records, entries and rows are warnings that name them;
// the rest is imported.
func TestBadInputWarns(t *testing.T) {
	ctx := context.Background()
	rs, err := records("crates.io")
	if err != nil {
		t.Fatal(err)
	}
	// A bomb entry: 17 MiB of spaces deflate to a few KB.
	bomb := append([]byte(`{"id": "BOMB-1",`), bytes.Repeat([]byte(" "), osv.MaxRecordSize+1)...)
	bomb = append(bomb, `"affected": []}`...)
	rs["BOMB-1.json"] = bomb
	rs["NOT-OSV.json"] = []byte(`{"schema_version": "1.6.0", "affected": [{"package": {"name": "x"}}]}`)
	rs["BAD-RANGE.json"] = []byte(`{"id": "BAD-RANGE", "affected": [{"package": {"ecosystem": "crates.io", "name": "x"}, "ranges": [{"type": "DATE", "events": [{"introduced": "0"}]}]}]}`)
	rs["README.txt"] = []byte("hello")
	rs["MARS-1.json"] = []byte(`{"id": "MARS-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Martian:2", "name": "Rover"}}]}`)
	rs["MISSPELT-1.json"] = []byte(`{"id": "MISSPELT-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "pypi", "name": "Some_Thing"}}]}`)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "crates.io", "all.zip"), mustZip(t, rs))
	writeFile(t, filepath.Join(src, kevName), []byte(`{"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "1", "count": 3, "vulnerabilities": [
		{"cveID": "CVE-2024-3400", "dateAdded": "2024-04-12", "dueDate": "2024-04-19", "knownRansomwareCampaignUse": "Known"},
		{"cveID": "not-a-cve", "dateAdded": "2024-04-12"},
		{"cveID": "CVE-2024-0001", "dateAdded": "yesterday"}]}`))
	writeFile(t, filepath.Join(src, "epss_scores-2025-08-25.csv"), []byte("#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000\ncve,epss,percentile\n"+
		"CVE-2024-3400,0.94,0.99\nCVE-2024-3400,0.5,0.5\nCVE-X,0.1,0.1\nCVE-2023-4863,1.5,0.9\nCVE-2023-44487,0.8\nCVE-2022-27664,abc,0.1\n"))
	logger, logs := captureLogger()
	dir := t.TempDir()
	st, err := vulndb.Import(ctx, dir, src, vulndb.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{
		"BOMB-1.json", "NOT-OSV.json", "BAD-RANGE.json", `unknown type \"DATE\"`, "README.txt",
		"record=MARS-1", "Martian:2", "record=MISSPELT-1",
		"cveID=not-a-cve", "cve=CVE-2024-0001",
		"cve=CVE-X", "cve=CVE-2023-4863", "row=6", "cve=CVE-2022-27664", "repeats a CVE",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("warnings do not name %s:\n%s", want, out)
		}
	}
	if st.Advisories != 24+2 || st.KEV != 1 || st.EPSS != 1 || st.Warnings != 13 {
		t.Errorf("status: %d advisories, %d KEV, %d EPSS, %d warnings; want 26, 1, 1, 13", st.Advisories, st.KEV, st.EPSS, st.Warnings)
	}
	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// An ecosystem OSV does not know is kept and matched exactly, names as written.
	if got, err := db.Advisories(ctx, "Martian:2", "Rover"); err != nil || len(got) != 1 {
		t.Errorf("Martian:2 Rover: %v, %v", ids(got), err)
	}
	if got, err := db.Advisories(ctx, "Martian", "rover"); err != nil || len(got) != 0 {
		t.Errorf("Martian rover: %v, %v", ids(got), err)
	}
	if _, err := db.Advisories(ctx, "Venusian", "x"); !errors.Is(err, vulndb.ErrUnknownEcosystem) {
		t.Errorf("Venusian: err = %v", err)
	}
	// A misspelt known ecosystem is read as OSV spells it.
	if got, err := db.Advisories(ctx, "PyPI", "some-thing"); err != nil || len(got) != 1 {
		t.Errorf("PyPI some-thing: %v, %v", ids(got), err)
	}
}

func TestWarningsAreBounded(t *testing.T) {
	rs := map[string][]byte{"GOOD-1.json": []byte(`{"id": "GOOD-1", "affected": [{"package": {"ecosystem": "Go", "name": "m"}}]}`)}
	for i := range 100 {
		rs[strings.Repeat("x", i+1)+".json"] = []byte(`not json`)
	}
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "Go", "all.zip"), mustZip(t, rs))
	logger, logs := captureLogger()
	st, err := vulndb.Import(context.Background(), t.TempDir(), src, vulndb.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if st.Warnings != 100 {
		t.Errorf("%d warnings, want 100", st.Warnings)
	}
	if n := strings.Count(logs.String(), "\n"); n != 21 {
		t.Errorf("%d log lines, want 20 warnings and a summary:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "count=80") {
		t.Errorf("no summary of the rest:\n%s", logs)
	}
}

func TestImportCancelled(t *testing.T) {
	_, before, dir := importTestdata(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := vulndb.Import(ctx, dir, writeBucket(t), vulndb.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	checkUnchanged(t, dir, before)
}

func TestImportMissingPath(t *testing.T) {
	_, before, dir := importTestdata(t)
	_, err := vulndb.Import(context.Background(), dir, filepath.Join(dir, "nope"), vulndb.Options{})
	if !errors.Is(err, vulndb.ErrBadInput) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
	checkUnchanged(t, dir, before)
}
