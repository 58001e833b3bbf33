package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// The fuzz targets run the import parsers on arbitrary bytes. Each must fail
// only with ErrBadInput, never panic, and pass on only what it checked. Seed
// corpora are in testdata/fuzz/<target>; the real files in testdata are added
// as well.

func quiet() *warner { return &warner{log: slog.New(slog.DiscardHandler), source: "fuzz"} }

func FuzzZip(f *testing.F) {
	files, _ := filepath.Glob("testdata/osv/*/*.json")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range files[:min(len(files), 8)] {
		b, _ := os.ReadFile(p)
		w, _ := zw.Create(filepath.Base(p))
		w.Write(b)
	}
	zw.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		bud := &budget{left: 64 << 20, limit: 64 << 20}
		_, err = readZip(context.Background(), zr, "fuzz.zip", bud, quiet(), func(r *record) error {
			if r.v.ID == "" {
				t.Fatal("record without ID")
			}
			v, _, err := decodeDoc(r.doc)
			if err != nil || v.ID != r.v.ID {
				t.Fatalf("stored doc does not decode back: %v", err)
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrBadInput) {
			t.Fatalf("error %v does not match ErrBadInput", err)
		}
	})
}

func FuzzKEV(f *testing.F) {
	if b, err := os.ReadFile("testdata/kev/known_exploited_vulnerabilities.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		es, _, err := parseKEV(bytes.NewReader(b), "fuzz.json", quiet())
		if err != nil {
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("error %v does not match ErrBadInput", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range es {
			if !isCVE(e.CVE) || seen[e.CVE] || e.DateAdded.IsZero() {
				t.Fatalf("bad entry passed: %+v", e)
			}
			seen[e.CVE] = true
		}
	})
}

func FuzzEPSS(f *testing.F) {
	if b, err := os.ReadFile("testdata/epss/epss_scores-2025-08-25.csv"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		seen := map[string]bool{}
		_, _, err := parseEPSS(context.Background(), bytes.NewReader(b), "fuzz.csv", quiet(), func(s EPSSScore) error {
			if !isCVE(s.CVE) || seen[s.CVE] || s.Score < 0 || s.Score > 1 || s.Percentile < 0 || s.Percentile > 1 {
				t.Fatalf("bad row passed: %+v", s)
			}
			seen[s.CVE] = true
			return nil
		})
		if err != nil && !errors.Is(err, ErrBadInput) {
			t.Fatalf("error %v does not match ErrBadInput", err)
		}
	})
}

// TestReadAllLimit covers the bound the parsers rely on.
func TestReadAllLimit(t *testing.T) {
	b, err := readAllLimit(bytes.NewReader(make([]byte, 100)), nil, 100)
	if err != nil || len(b) != 100 {
		t.Errorf("at the limit: %d, %v", len(b), err)
	}
	if _, err := readAllLimit(bytes.NewReader(make([]byte, 101)), nil, 100); !errors.Is(err, errTooLarge) {
		t.Errorf("past the limit: %v", err)
	}
	if _, err := readAllLimit(io.MultiReader(bytes.NewReader(make([]byte, 10)), errReader{}), nil, 100); err == nil || errors.Is(err, errTooLarge) {
		t.Errorf("read error: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }
