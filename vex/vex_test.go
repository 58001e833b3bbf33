package vex_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tether-sec/tether/vex"
)

func decodeFile(t *testing.T, name string) []vex.Statement {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := vex.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return st
}

const image = "sha256:48a115f95a343582ecaab062502a9335a161696941c373c5804f651316448007"

func TestOpenVEX(t *testing.T) {
	st := decodeFile(t, "testdata/openvex.json")
	if len(st) != 4 {
		t.Fatalf("%d statements, want 4", len(st))
	}
	lodash := vex.Finding{IDs: []string{"CVE-2021-23337"}, PURL: "pkg:npm/lodash@4.17.20", Image: image}
	for _, tc := range []struct {
		name       string
		f          vex.Finding
		applies    bool
		suppressed bool
		why        string
	}{
		{"image subcomponent", lodash, true, true, "vulnerable_code_not_in_execute_path"},
		{"by alias", vex.Finding{IDs: []string{"GHSA-35jh-r3h4-6jhm"}, PURL: "pkg:npm/lodash@4.17.20", Image: image}, true, true, ""},
		{"other image", vex.Finding{IDs: []string{"CVE-2021-23337"}, PURL: "pkg:npm/lodash@4.17.20", Image: "sha256:0000"}, false, false, ""},
		{"other version", vex.Finding{IDs: []string{"CVE-2021-23337"}, PURL: "pkg:npm/lodash@4.17.19", Image: image}, false, false, ""},
		{"no image given", vex.Finding{IDs: []string{"CVE-2021-23337"}, PURL: "pkg:npm/lodash@4.17.20"}, false, false, ""},
		{"under investigation keeps it", vex.Finding{IDs: []string{"CVE-2023-39325"}, PURL: "pkg:golang/golang.org/x/net@v0.7.0"}, true, false, ""},
		{"a later affected overrides fixed", vex.Finding{IDs: []string{"CVE-2024-24790"}, PURL: "pkg:golang/stdlib@1.21.0"}, true, false, ""},
		{"unrelated CVE", vex.Finding{IDs: []string{"CVE-2000-0001"}, PURL: "pkg:npm/lodash@4.17.20", Image: image}, false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, suppressed := vex.First(st, tc.f)
			applies := s.Vulnerability != ""
			if applies != tc.applies || suppressed != tc.suppressed {
				t.Errorf("applies %v suppressed %v, want %v %v (statement %+v)", applies, suppressed, tc.applies, tc.suppressed, s)
			}
			if tc.why != "" && s.Justification != tc.why {
				t.Errorf("justification %q, want %q", s.Justification, tc.why)
			}
		})
	}
}

func TestCycloneDXVEX(t *testing.T) {
	st := decodeFile(t, "testdata/cyclonedx-vex.json")
	if len(st) != 2 {
		t.Fatalf("%d statements, want 2 (a vulnerability without analysis states nothing)", len(st))
	}
	s, sup := vex.First(st, vex.Finding{IDs: []string{"GHSA-35jh-r3h4-6jhm"}, PURL: "pkg:npm/lodash@4.17.20"})
	if !sup || s.Justification != "code_not_reachable" || !strings.HasPrefix(s.Source, "cyclonedx urn:uuid:") {
		t.Errorf("lodash: %+v suppressed %v", s, sup)
	}
	if _, sup := vex.First(st, vex.Finding{IDs: []string{"CVE-2018-18074"}, PURL: "pkg:pypi/requests@2.19.0"}); sup {
		t.Error("an exploitable analysis suppressed a finding")
	}
}

func TestDecodeBad(t *testing.T) {
	for name, in := range map[string]string{
		"not json":       `{`,
		"neither":        `{"statements": []}`,
		"bad status":     `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"status":"fine"}]}`,
		"no vuln":        `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"status":"fixed"}]}`,
		"no reason":      `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"status":"not_affected"}]}`,
		"cdx bad state":  `{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"CVE-1","analysis":{"state":"meh"}}]}`,
		"cdx no id":      `{"bomFormat":"CycloneDX","vulnerabilities":[{"analysis":{"state":"resolved"}}]}`,
		"wrong type vex": `{"@context":"https://openvex.dev/ns/v0.2.0","statements":{"a":1}}`,
	} {
		if _, err := vex.Decode(strings.NewReader(in)); !errors.Is(err, vex.ErrNotVEX) {
			t.Errorf("%s: err = %v, want ErrNotVEX", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, p := range []string{"testdata/openvex.json", "testdata/cyclonedx-vex.json"} {
		b, _ := os.ReadFile(p)
		f.Add(b, "CVE-2021-23337", "pkg:npm/lodash@4.17.20")
	}
	f.Fuzz(func(t *testing.T, b []byte, id, purl string) {
		st, err := vex.Decode(strings.NewReader(string(b)))
		if err != nil {
			if !errors.Is(err, vex.ErrNotVEX) {
				t.Fatalf("error %v does not match ErrNotVEX", err)
			}
			return
		}
		vex.First(st, vex.Finding{IDs: []string{id}, PURL: purl, Image: purl})
	})
}
