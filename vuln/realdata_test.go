package vuln_test

import (
	"archive/zip"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/vuln"
)

// sharedOSV is the real OSV dumps beside the repository (shared/data/osv); tests
// that read them skip when they are absent.
const sharedOSV = "../../shared/data/osv/"

func openShared(t testing.TB, eco string) *zip.ReadCloser {
	t.Helper()
	zr, err := zip.OpenReader(sharedOSV + eco + "/all.zip")
	if err != nil {
		if os.IsNotExist(err) {
			t.Skipf("no shared data: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { zr.Close() })
	return zr
}

func readShared(t testing.TB, eco string) []*osv.Vulnerability {
	t.Helper()
	zr := openShared(t, eco)
	var out []*osv.Vulnerability
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		r, err := osv.DecodeBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out = append(out, r)
	}
	return out
}

// TestRealEventVersions checks that every range event version in the real dumps
// parses in its ecosystem, except the few that are not versions of it at all.
func TestRealEventVersions(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the shared OSV dumps")
	}
	want := map[string][]string{
		"Go":        nil,
		"PyPI":      {"0.2.0-n653", "2019-09-12"}, // not PEP 440
		"crates.io": nil,
		"AlmaLinux": nil,
	}
	for eco, wantBad := range want {
		t.Run(eco, func(t *testing.T) {
			var bad []string
			n := 0
			for _, r := range readShared(t, eco) {
				for _, a := range r.Affected {
					for _, rg := range a.Ranges {
						if rg.Type == osv.RangeGit {
							continue
						}
						for _, ev := range rg.Events {
							for _, s := range []string{ev.Introduced, ev.Fixed, ev.LastAffected, ev.Limit} {
								if s == "" || s == "0" {
									continue
								}
								n++
								if _, err := vuln.Compare(rg.Type, a.Package.Ecosystem, s, s); err != nil {
									bad = append(bad, s)
								}
							}
						}
					}
				}
			}
			slices.Sort(bad)
			if d := cmp.Diff(wantBad, bad); d != "" {
				t.Errorf("%d event versions; unparsable ones (-want +got):\n%s", n, d)
			}
		})
	}
}
