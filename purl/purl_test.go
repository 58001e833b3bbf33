package purl_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/purl"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]purl.PURL{
		"pkg:npm/%40babel/core@7.0.0":                          {Type: "npm", Namespace: "@babel", Name: "core", Version: "7.0.0", Qualifiers: map[string]string{}},
		"pkg:npm/@babel/core@7.0.0":                            {Type: "npm", Namespace: "@babel", Name: "core", Version: "7.0.0", Qualifiers: map[string]string{}},
		"pkg:deb/debian/bash@5.2.15-2+b8?arch=amd64&Distro=x":  {Type: "deb", Namespace: "debian", Name: "bash", Version: "5.2.15-2+b8", Qualifiers: map[string]string{"arch": "amd64", "distro": "x"}},
		"pkg:Golang/github.com/Masterminds/goutils@v1.1.0#sub": {Type: "golang", Namespace: "github.com/Masterminds", Name: "goutils", Version: "v1.1.0", Qualifiers: map[string]string{}},
		"pkg:oci/app@sha256%3Aabc":                             {Type: "oci", Name: "app", Version: "sha256:abc", Qualifiers: map[string]string{}},
	} {
		got, err := purl.Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", in, diff)
		}
	}
	for _, bad := range []string{"npm/lodash@1", "pkg:", "pkg:npm", "pkg:npm/", "pkg:npm/a%zz@1", "pkg:npm/a@1?x=%zz"} {
		if _, err := purl.Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("pkg:deb/debian/bash@5.2.15-2+b8?arch=amd64")
	f.Add("pkg:npm/%40babel/core@7.0.0#x")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := purl.Parse(s)
		if err == nil && (p.Type == "" || p.Name == "") {
			t.Fatalf("Parse(%q) = %+v without a type or name", s, p)
		}
	})
}
