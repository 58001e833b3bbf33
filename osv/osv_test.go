package osv_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-sec/tether/osv"
)

func TestDecodeReal(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) < 6 {
		t.Fatalf("testdata: %v, %d files", err, len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			v, err := osv.Decode(fh)
			if err != nil {
				t.Fatal(err)
			}
			// File names replace ":" (not allowed in Go module files) with "-".
			if strings.TrimSuffix(filepath.Base(f), ".json") != strings.ReplaceAll(v.ID, ":", "-") {
				t.Errorf("id %q from %s", v.ID, f)
			}
			if len(v.Affected) == 0 {
				t.Error("no affected packages")
			}
		})
	}
	b, _ := os.ReadFile("testdata/GO-2022-0969.json")
	v, err := osv.DecodeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if v.Affected[0].Package.Name != "stdlib" || v.Affected[0].Package.Ecosystem != "Go" || len(v.Aliases) != 2 {
		t.Errorf("GO-2022-0969 = %+v", v)
	}
	if eco, rel := osv.Ecosystem("Debian:7"); eco != "Debian" || rel != "7" {
		t.Errorf("Ecosystem(Debian:7) = %q, %q", eco, rel)
	}
}

func TestDecodeBad(t *testing.T) {
	for name, in := range map[string]string{
		"not json":       `{"id":`,
		"no id":          `{"affected":[]}`,
		"no package":     `{"id":"X-1","affected":[{"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`,
		"unknown range":  `{"id":"X-1","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"DATE","events":[{"introduced":"0"}]}]}]}`,
		"two in event":   `{"id":"X-1","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}`,
		"empty event":    `{"id":"X-1","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[{}]}]}]}`,
		"bad time":       `{"id":"X-1","modified":"yesterday"}`,
		"array, not obj": `[{"id":"X-1"}]`,
	} {
		if _, err := osv.DecodeBytes([]byte(in)); !errors.Is(err, osv.ErrNotOSV) {
			t.Errorf("%s: err = %v, want ErrNotOSV", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := osv.DecodeBytes(b)
		if err != nil {
			if !errors.Is(err, osv.ErrNotOSV) {
				t.Fatalf("error %v does not match ErrNotOSV", err)
			}
			return
		}
		if v.ID == "" {
			t.Fatal("decoded a record without an id")
		}
	})
}
