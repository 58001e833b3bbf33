package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/osv"
)

func TestDSARecords(t *testing.T) {
	list := `[20 Mar 2023] DSA-5376-1 apache2 - security update
	{CVE-2006-20001 CVE-2022-36760}
	[bullseye] - apache2 2.4.56-1~deb11u1
	[buster] - apache2 <not-affected> (Vulnerable code not present)
[17 Mar 2023] DSA-5356-2 sox - regression update
	[bullseye] - sox 14.4.2+git20190427-2+deb11u2
[01 Jan 2003] DSA-200-1 nothing - no version
	[woody] - nothing <end-of-life>
`
	p := filepath.Join(t.TempDir(), "list")
	if err := os.WriteFile(p, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := dsaRecords(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2 (one has no fixed version)", len(recs))
	}
	v, err := osv.DecodeBytes(recs["DSA-5376-1.json"])
	if err != nil {
		t.Fatal(err)
	}
	want := []osv.Affected{{
		Package: osv.Package{Ecosystem: "Debian:11", Name: "apache2"},
		Ranges:  []osv.Range{{Type: "ECOSYSTEM", Events: []osv.Event{{Introduced: "0"}, {Fixed: "2.4.56-1~deb11u1"}}}},
	}}
	if diff := cmp.Diff(want, v.Affected); diff != "" {
		t.Errorf("affected (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"CVE-2006-20001", "CVE-2022-36760"}, v.Aliases); diff != "" || v.Summary != "apache2 - security update" {
		t.Errorf("aliases (-want +got):\n%s; summary %q", diff, v.Summary)
	}
	var raw map[string]any
	json.Unmarshal(recs["DSA-5356-2.json"], &raw)
	if _, ok := raw["aliases"]; ok {
		t.Error("a regression update without CVEs has aliases")
	}
}

func TestCompare(t *testing.T) {
	k := newKey("PyPI", "Django_Rest", "1.0")
	if k != (pkgKey{"PyPI", "django-rest", "1.0"}) {
		t.Errorf("PyPI key = %v", k)
	}
	if k := newKey("AlmaLinux:9", "tar", "2:1.34-6.el9_1"); k.version != "1.34-6.el9_1" {
		t.Errorf("rpm epoch kept: %v", k)
	}
	if k := newKey("Go", "stdlib", "v1.22.0"); k.version != "1.22.0" {
		t.Errorf("Go v kept: %v", k)
	}
	a, b := findingSet{}, findingSet{}
	a.add(k, []string{"GO-2", "GO-1"})
	a.add(k, []string{"GO-1", "GO-2"}) // the same package listed twice
	a.add(k, []string{"GO-3"})
	b.add(k, []string{"GO-1", "GO-2"})
	b.add(k, []string{"GO-4"})
	if a.pairs() != 2 {
		t.Errorf("pairs = %d, want 2", a.pairs())
	}
	got := map[string]string{}
	for _, l := range compare(a, b) {
		got[l.group] = l.who()
	}
	want := map[string]string{"GO-1 GO-2": "both", "GO-3": "tether only", "GO-4": "osv-scanner only"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("compare (-want +got):\n%s", diff)
	}
}

// The written records are OSV records osv.Decode accepts, each with the note.
func TestWrittenRecords(t *testing.T) {
	for _, eco := range []string{"npm", "Maven"} {
		entries, err := written.ReadDir("records/" + eco)
		if err != nil || len(entries) == 0 {
			t.Fatalf("records/%s: %v", eco, err)
		}
		for _, e := range entries {
			b, _ := written.ReadFile("records/" + eco + "/" + e.Name())
			v, err := osv.DecodeBytes(b)
			if err != nil {
				t.Errorf("%s: %v", e.Name(), err)
				continue
			}
			if v.ID+".json" != e.Name() || v.Affected[0].Package.Ecosystem != eco || len(v.Aliases) != 1 {
				t.Errorf("%s: id %s, ecosystem %s, aliases %v", e.Name(), v.ID, v.Affected[0].Package.Ecosystem, v.Aliases)
			}
			var ds struct {
				Note string `json:"tether_bench_note"`
			}
			if json.Unmarshal(v.DatabaseSpecific, &ds) != nil || ds.Note == "" {
				t.Errorf("%s: no tether_bench_note", e.Name())
			}
		}
	}
}
