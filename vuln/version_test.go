package vuln_test

import (
	"fmt"
	"testing"

	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/vuln"
)

// orderings are version lists in ascending order, taken from each ecosystem's
// own documentation. Versions inside one inner list are equal.
var orderings = []struct {
	rangeType, ecosystem, source string
	chain                        [][]string
}{
	{osv.RangeSemver, "", "semver.org 2.0.0, §11 precedence examples", [][]string{
		{"1.0.0-alpha"}, {"1.0.0-alpha.1"}, {"1.0.0-alpha.beta"}, {"1.0.0-beta"}, {"1.0.0-beta.2"},
		{"1.0.0-beta.11"}, {"1.0.0-rc.1"}, {"1.0.0", "1.0.0+20130313144700"}, {"2.0.0"}, {"2.1.0"}, {"2.1.1"},
	}},
	{osv.RangeSemver, "", "semver.org 2.0.0, §11.2 numeric identifiers", [][]string{
		{"1.9.0"}, {"1.10.0"}, {"1.11.0"},
	}},
	{osv.RangeEcosystem, "Go", "go.dev/ref/mod: pseudo-versions sort between the previous release and the next", [][]string{
		{"v0.0.0-20191109021931-daa7c04131f5"}, {"v0.1.0"}, {"v1.2.3"},
		{"v1.2.4-0.20191109021931-daa7c04131f5"}, {"v1.2.4-pre"}, {"v1.2.4-pre.0.20191109021931-daa7c04131f5"}, {"v1.2.4", "1.2.4", "v1.2.4+incompatible"},
	}},
	{osv.RangeEcosystem, "npm", "node-semver README: prerelease ordering", [][]string{
		{"1.2.3-alpha.3"}, {"1.2.3-alpha.7"}, {"1.2.3-beta"}, {"1.2.3"}, {"3.4.5-alpha.9"}, {"3.4.5"},
	}},
	{osv.RangeEcosystem, "crates.io", "semver crate / Cargo: SemVer 2.0 precedence", [][]string{
		{"0.0.0-0"}, {"0.0.0"}, {"0.4.0-0"}, {"0.4.0"}, {"0.4.5"}, {"1.0.0-alpha"}, {"1.0.0"},
	}},
	{osv.RangeEcosystem, "PyPI", "PEP 440, Summary of permitted suffixes and relative ordering", [][]string{
		{"1.dev0"}, {"1.0.dev456"}, {"1.0a1"}, {"1.0a2.dev456"}, {"1.0a12.dev456"}, {"1.0a12"}, {"1.0b1.dev456"},
		{"1.0b2"}, {"1.0b2.post345.dev456"}, {"1.0b2.post345"}, {"1.0rc1.dev456"}, {"1.0rc1"}, {"1.0"},
		{"1.0+abc.5"}, {"1.0+abc.7"}, {"1.0+5"}, {"1.0.post456.dev34"}, {"1.0.post456"}, {"1.0.15"}, {"1.1.dev1"},
	}},
	{osv.RangeEcosystem, "PyPI", "PEP 440: normalization and epochs", [][]string{
		{"1.0a1", "1.0alpha1", "1.0-a1", "1.0.a.1", "1.0A1"}, {"1.0b1", "1.0beta1"}, {"1.0rc1", "1.0c1", "1.0pre1", "1.0preview1"},
		{"1.0", "1.0.0", "v1.0", "01.0"}, {"1.0.post1", "1.0-1", "1.0-post1", "1.0.rev1", "1.0r1"}, {"2013.10"}, {"1!1.0"},
	}},
	{osv.RangeEcosystem, "Debian", "Debian policy 5.6.12: ~ sorts before anything, even the end of a part", [][]string{
		{"1.0~~"}, {"1.0~~a"}, {"1.0~"}, {"1.0", "1.0-0", "0:1.0"}, {"1.0a"},
	}},
	{osv.RangeEcosystem, "Debian", "Debian policy 5.6.12: 1.0~rc1 < 1.0 < 1.0+b1", [][]string{
		{"1.0~rc1"}, {"1.0"}, {"1.0+b1"},
	}},
	{osv.RangeEcosystem, "Debian", "Debian policy 5.6.12: revisions (backports, binNMUs, stable updates), then epochs", [][]string{
		{"1.0-1~bpo11+1"}, {"1.0-1"}, {"1.0-1+b1"}, {"1.0-1+deb11u1"}, {"1.0-2"}, {"1.0-10"}, {"1.0+b1-1"},
		{"1.2.1-2.2+wheezy3"}, {"3.0.15-1~deb11u1"}, {"3.0.15-1~deb12u1"}, {"3.0.15-1"}, {"1:0.1"}, {"2:0.0.1"},
	}},
	{osv.RangeEcosystem, "Ubuntu", "Ubuntu uses dpkg's order", [][]string{
		{"3.0.2-0ubuntu1"}, {"3.0.2-0ubuntu1.8"}, {"3.0.2-0ubuntu1.9"}, {"3.0.2-0ubuntu1.10"}, {"3.0.2-0ubuntu2"},
	}},
	{osv.RangeEcosystem, "Maven", "Maven POM reference, Version Order Specification", [][]string{
		{"1-alpha-1", "1-a1"}, {"1-beta-1"}, {"1-milestone-1", "1-m1"}, {"1-rc-1", "1-cr-1"}, {"1-snapshot"},
		{"1", "1.0", "1-ga", "1.ga", "1-0", "1.final", "1-release"}, {"1-sp"}, {"1-foo2"}, {"1-foo10"}, {"1.1"},
	}},
	{osv.RangeEcosystem, "Maven", "Maven POM reference: \"1-foo\" < \"1-1\" < \"1.1\"", [][]string{
		{"1-foo"}, {"1-1"}, {"1.1"},
	}},
	{osv.RangeEcosystem, "Maven", "Maven POM reference: \"1-sp-1\" < \"1-ga-1\" = \"1-1\"", [][]string{
		{"1-sp-1"}, {"1-ga-1", "1-1"},
	}},
	{osv.RangeEcosystem, "Maven", "Maven POM reference: \"1-ga.1\" < \"1-sp.1\"", [][]string{
		{"1-ga.1"}, {"1-sp.1"},
	}},
	{osv.RangeEcosystem, "Maven", "log4j-core release order", [][]string{
		{"2.0-alpha1"}, {"2.0-beta8"}, {"2.0-beta9"}, {"2.0-rc1"}, {"2.0"}, {"2.3"}, {"2.3.1"}, {"2.4"}, {"2.12.1"}, {"2.12.2"}, {"2.13.0"}, {"2.15.0-SNAPSHOT"}, {"2.15.0"},
	}},
	{osv.RangeEcosystem, "Alpine", "apk-tools apk-package(5): suffix order, letters, -r revisions", [][]string{
		{"1.0_alpha"}, {"1.0_beta"}, {"1.0_pre"}, {"1.0_rc1"}, {"1.0"}, {"1.0-r1"}, {"1.0_svn"}, {"1.0_git"}, {"1.0_hg"}, {"1.0_p1"}, {"1.0a"}, {"1.0b"}, {"1.1"},
	}},
	{osv.RangeEcosystem, "AlmaLinux", "rpm versioning (Fedora packaging guidelines): ~ before, ^ after, epoch first", [][]string{
		{"1.0~rc1"}, {"1.0"}, {"1.0^git1"}, {"1.0.1"}, {"0:2.0", "2.0"}, {"1:1.0"},
	}},
	{osv.RangeEcosystem, "AlmaLinux", "rpm release parts", [][]string{
		{"1:3.0.7-25.el9_3"}, {"1:3.0.7-27.el9"}, {"1:3.0.7-28.el9_4"}, {"1:3.2.2-6.el9_5"},
	}},
	{osv.RangeEcosystem, "NuGet", "NuGet package versioning: SemVer 2.0 with a fourth part, case-insensitive labels", [][]string{
		{"1.0.0-alpha"}, {"1.0.0-beta", "1.0.0-BETA"}, {"1.0.0", "1.0", "1.0.0.0"}, {"1.0.0.1"}, {"1.0.1"},
	}},
	{osv.RangeEcosystem, "RubyGems", "RubyGems Gem::Version: a letter makes a prerelease", [][]string{
		{"1.0.0.a"}, {"1.0.0.b1"}, {"1.0.0.pre"}, {"1.0.0.rc1"}, {"1.0.0", "1.0"}, {"1.0.1"}, {"1.1"},
	}},
	{osv.RangeEcosystem, "Packagist", "Composer: dev < alpha < beta < RC < stable < patch", [][]string{
		{"1.0.0-dev"}, {"1.0.0-alpha1"}, {"1.0.0-beta2"}, {"1.0.0-RC1"}, {"1.0.0"}, {"1.0.0-p1"}, {"1.0.1"},
	}},
}

func TestVersionOrdering(t *testing.T) {
	for _, o := range orderings {
		t.Run(o.ecosystem+o.rangeType+" "+o.source, func(t *testing.T) {
			type at struct {
				v   string
				pos int
			}
			var all []at
			for i, group := range o.chain {
				for _, v := range group {
					all = append(all, at{v, i})
				}
			}
			for _, a := range all {
				for _, b := range all {
					got, err := vuln.Compare(o.rangeType, o.ecosystem, a.v, b.v)
					if err != nil {
						t.Fatalf("Compare(%q, %q): %v", a.v, b.v, err)
					}
					if want := sign(a.pos - b.pos); got != want {
						t.Errorf("Compare(%q, %q) = %d, want %d", a.v, b.v, got, want)
					}
				}
			}
		})
	}
}

// deviations are documented orderings that osv-scalibr's semantic package (the
// order osv-scanner uses too) does not follow. The test pins today's answer so a
// change upstream is noticed; Match inherits these.
var deviations = []struct {
	ecosystem, a, b string
	documented, got int
	source          string
}{
	{"Maven", "1.foo", "1-foo", 0, -1, `Maven POM reference: "1.foo" = "1-foo"`},
	{"Alpine", "1.0", "1.0_cvs", -1, 0, "apk-package(5): <no suffix> < cvs"},
}

func TestVersionDeviations(t *testing.T) {
	for _, d := range deviations {
		got, err := vuln.Compare(osv.RangeEcosystem, d.ecosystem, d.a, d.b)
		if err != nil {
			t.Fatal(err)
		}
		if got != d.got {
			t.Errorf("%s Compare(%q, %q) = %d; was %d against the documented %d (%s): update the deviation list",
				d.ecosystem, d.a, d.b, got, d.got, d.documented, d.source)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// TestVersionSyntax checks what each ecosystem refuses to order.
func TestVersionSyntax(t *testing.T) {
	bad := map[string][]string{
		"Go":        {"", "latest", "(devel)", "1.x", "v1.2.3.4", "^1.2.3", "1.2.3 ", "master"},
		"npm":       {"", "latest", "*", "~1.2.3", "1.2.3 || 2.0.0", "file:../lib", "git+https://example.com/x.git"},
		"PyPI":      {"", "not-a-version", "1.0-foo", "2004d", "1.0.0-beta-2-x", "dev"},
		"Debian":    {"", "abc", "a:1.0", "1.0-", "1.0 1", "1.0-r_1"},
		"Alpine":    {"", "abc", "1.0-r", "1.0_foo1", "1.0-1", "1.0 "},
		"AlmaLinux": {"", "abc", "1.0 1", "1:"},
		"Maven":     {"", "${project.version}", "1.0 beta", "-1"},
		"Packagist": {"dev-master", "1.0.x-dev", "*"},
		"NuGet":     {"", "1.0.0.0.0", "latest"},
		"RubyGems":  {"", "abc", "1.0 "},
	}
	for eco, vs := range bad {
		for _, v := range vs {
			if _, err := vuln.Compare(osv.RangeEcosystem, eco, v, v); err == nil {
				t.Errorf("%s accepts %q", eco, v)
			}
		}
	}
	if _, err := vuln.Compare(osv.RangeEcosystem, "Hackage-unknown", "1.0", "1.0"); err == nil {
		t.Error("an ecosystem without an order compared")
	}
}

func ExampleCompare() {
	c, _ := vuln.Compare("ECOSYSTEM", "Debian:12", "3.0.15-1~deb12u1", "3.0.15-1")
	fmt.Println(c)
	c, _ = vuln.Compare("ECOSYSTEM", "PyPI", "1.0rc1", "1.0")
	fmt.Println(c)
	_, err := vuln.Compare("ECOSYSTEM", "npm", "latest", "1.0.0")
	fmt.Println(err != nil)
	// Output:
	// -1
	// -1
	// true
}
