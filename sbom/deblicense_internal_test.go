package sbom

import (
	"strings"
	"testing"
)

// FuzzDebLicenses: any copyright file gives a sorted, unique list without empty
// entries, never a panic.
func FuzzDebLicenses(f *testing.F) {
	f.Add("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+ or Artistic\n")
	f.Add("see /usr/share/common-licenses/GPL-3 and /usr/share/common-licenses/LGPL-2.1.\n")
	f.Add("License: LGPLv3+_or_GPLv2+\nLicense:\nLicense: BSD-3-clause and MIT or Expat\n")
	f.Fuzz(func(t *testing.T, in string) {
		out := debLicenses(strings.NewReader(in))
		for i, l := range out {
			if l == "" || l != strings.TrimSpace(l) {
				t.Fatalf("licence %q", l)
			}
			if i > 0 && out[i-1] >= l {
				t.Fatalf("not sorted and unique: %q", out)
			}
		}
	})
}

func TestDebToSPDX(t *testing.T) {
	for in, want := range map[string]string{
		"GPL-2":                     "GPL-2.0-only",
		"GPL-2+":                    "GPL-2.0-or-later",
		"GPL-2.0+":                  "GPL-2.0-or-later",
		"GPLv3+":                    "GPL-3.0-or-later",
		"LGPL-2.1+":                 "LGPL-2.1-or-later",
		"LGPLv2.1+":                 "LGPL-2.1-or-later",
		"AGPL-3":                    "AGPL-3.0-only",
		"GFDL-1.3+":                 "GFDL-1.3-or-later",
		"Expat":                     "MIT",
		"BSD-3-clause":              "BSD-3-Clause",
		"GPL-1+ or Artistic":        "GPL-1.0-or-later OR Artistic-1.0-Perl",
		"BSL-1.0 and MIT":           "BSL-1.0 AND MIT",
		"LGPL-3+ or GPL-2+":         "LGPL-3.0-or-later OR GPL-2.0-or-later",
		"public-domain":             "public-domain",
		"GPL-2+ with OpenSSL excep": "GPL-2+ with OpenSSL excep",
		"permissive or MIT":         "permissive or MIT",
	} {
		if got := debToSPDX(in); got != want {
			t.Errorf("debToSPDX(%q) = %q, want %q", in, got, want)
		}
	}
}
