package vulndb_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/vulndb"
)

// ecosystems are the folders of testdata/osv.
var ecosystems = []string{"AlmaLinux", "Go", "PyPI", "crates.io"}

const (
	kevName  = "known_exploited_vulnerabilities.json"
	epssName = "epss_scores-2025-08-25.csv"
)

// zipTime is the entry time the OSV bucket zips in shared/data carry.
var zipTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// makeZip builds an OSV bucket zip: one <ID>.json per record at the root,
// deflated, in name order.
func makeZip(files map[string][]byte) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: zipTime})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func mustZip(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	b, err := makeZip(files)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// records reads testdata/osv/<eco>/*.json as entry name → bytes.
func records(eco string) (map[string][]byte, error) {
	files, err := filepath.Glob(filepath.Join("testdata", "osv", eco, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no records in testdata/osv/%s", eco)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out[filepath.Base(f)] = b
	}
	return out, nil
}

// bucketZips builds the test zips by ecosystem, once.
var bucketZips = sync.OnceValues(func() (map[string][]byte, error) {
	m := map[string][]byte{}
	for _, e := range ecosystems {
		rs, err := records(e)
		if err != nil {
			return nil, err
		}
		if m[e], err = makeZip(rs); err != nil {
			return nil, err
		}
	}
	return m, nil
})

// writeBucket writes a folder laid out like the OSV bucket, with the KEV
// catalog and the EPSS CSV, and returns it.
func writeBucket(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	zips, err := bucketZips()
	if err != nil {
		t.Fatal(err)
	}
	for e, z := range zips {
		writeFile(t, filepath.Join(dir, e, "all.zip"), z)
	}
	writeFile(t, filepath.Join(dir, kevName), readFile(t, filepath.Join("testdata", "kev", kevName)))
	writeFile(t, filepath.Join(dir, "epss", epssName), readFile(t, filepath.Join("testdata", "epss", epssName)))
	return dir
}

func writeFile(t testing.TB, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// importTestdata imports the test bucket into a new directory and opens it.
func importTestdata(t testing.TB) (*vulndb.DB, vulndb.Status, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := vulndb.Import(ctx, dir, writeBucket(t), vulndb.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, st, dir
}

// logBuf collects log output; safe for concurrent use.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func captureLogger() (*slog.Logger, *logBuf) {
	lb := &logBuf{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelWarn})), lb
}

// testLogger sends warnings to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ids(vs []*osv.Vulnerability) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}
