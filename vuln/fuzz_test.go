package vuln_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/osv-scalibr/purl"
	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/vuln"
)

// anySource returns the same records whatever is asked.
type anySource []*osv.Vulnerability

func (s anySource) Advisories(context.Context, string, string) ([]*osv.Vulnerability, error) {
	return s, nil
}

// packageFor makes an SBOM package that Match maps to the ecosystem and name of
// an affected entry, at the given version.
func packageFor(a osv.Affected, version string) (sbom.Package, bool) {
	base, suffix := osv.Ecosystem(a.Package.Ecosystem)
	pu := purl.PackageURL{Name: a.Package.Name, Version: version}
	src := ""
	switch base {
	case "Go":
		pu.Type = "golang"
		if i := strings.LastIndexByte(a.Package.Name, '/'); i > 0 {
			pu.Namespace, pu.Name = a.Package.Name[:i], a.Package.Name[i+1:]
		}
	case "npm":
		pu.Type = "npm"
	case "PyPI":
		pu.Type = "pypi"
	case "crates.io":
		pu.Type = "cargo"
	case "Maven":
		pu.Type = "maven"
		g, n, ok := strings.Cut(a.Package.Name, ":")
		if !ok {
			return sbom.Package{}, false
		}
		pu.Namespace, pu.Name = g, n
	case "Debian":
		pu.Type, pu.Namespace, src = "deb", "debian", a.Package.Name
		pu.Qualifiers = purl.QualifiersFromMap(map[string]string{"distro": "debian-" + suffix})
	case "Alpine":
		pu.Type, pu.Namespace, src = "apk", "alpine", a.Package.Name
		pu.Qualifiers = purl.QualifiersFromMap(map[string]string{"distro": strings.TrimPrefix(suffix, "v")})
	case "AlmaLinux":
		pu.Type, pu.Namespace, src = "rpm", "almalinux", a.Package.Name
		pu.Qualifiers = purl.QualifiersFromMap(map[string]string{"distro": "almalinux-" + suffix})
	default:
		return sbom.Package{}, false
	}
	s := pu.String()
	return sbom.Package{ID: s, PURL: s, Type: pu.Type, Name: a.Package.Name, Version: version, SourceName: src, SourceVersion: version}, true
}

func FuzzMatch(f *testing.F) {
	for _, dir := range []string{"testdata/osv/*/*.json", "testdata/written/*.json"} {
		files, _ := filepath.Glob(dir)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			for _, v := range []string{"0", "1.0.0", "2.14.1", "1:3.0.7-27.el9", "3.0.7-r2", "1.9rc1", "v0.16.0", "latest", ""} {
				f.Add(b, v)
			}
		}
	}
	f.Fuzz(func(t *testing.T, record []byte, version string) {
		r, err := osv.DecodeBytes(record)
		if err != nil {
			return
		}
		var pkgs []sbom.Package
		for _, a := range r.Affected {
			if p, ok := packageFor(a, version); ok {
				pkgs = append(pkgs, p)
			}
		}
		if len(pkgs) == 0 {
			return
		}
		fs, err := vuln.Match(context.Background(), anySource{r}, &sbom.SBOM{Packages: pkgs}, vuln.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range fs {
			if fd.ID == "" || !slices.Equal(fd.Advisories, []string{r.ID}) {
				t.Errorf("finding %q from record %q lists advisories %q", fd.ID, r.ID, fd.Advisories)
			}
			if slices.Contains(fd.Aliases, fd.ID) {
				t.Errorf("finding %q lists itself as an alias", fd.ID)
			}
			if r.IsWithdrawn() {
				t.Errorf("withdrawn record %q matched", r.ID)
			}
			if len(slices.Compact(slices.Clone(fd.Fixed))) != len(fd.Fixed) {
				t.Errorf("fixed versions repeat: %q", fd.Fixed)
			}
		}
	})
}
