package vuln_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/vuln"
)

// brief is the part of a finding the table compares.
type brief struct {
	ID         string
	Aliases    []string
	Advisories []string
	Package    string
	Version    string
	Ecosystem  string
	Fixed      []string
	Level      vuln.Level
}

func briefs(fs []vuln.Finding) []brief {
	var out []brief
	for _, f := range fs {
		out = append(out, brief{f.ID, f.Aliases, f.Advisories, f.Package, f.Version, f.Ecosystem, f.Fixed, f.Severity.Level})
	}
	return out
}

func TestMatchRealRecords(t *testing.T) {
	const (
		log4j = "pkg:maven/org.apache.logging.log4j/log4j-core@"
		alma  = "?arch=x86_64&epoch=1&distro=almalinux-9.3&sourcerpm=openssl-3.0.7-27.el9.src.rpm"
	)
	lodash := []string{"GHSA-35jh-r3h4-6jhm"}
	log4jIDs := []string{"GHSA-jfh8-c2jp-5v3q"}
	log4jFinding := func(v string, fixed ...string) []brief {
		return []brief{{"CVE-2021-44228", log4jIDs, log4jIDs, "org.apache.logging.log4j:log4j-core", v, "Maven", fixed, vuln.LevelCritical}}
	}
	rapidReset := func(name, v string, advisories []string, fixed ...string) brief {
		aliases := []string{"GHSA-4374-p667-p6c8", "GO-2023-2102"}
		level := vuln.LevelHigh // from the GHSA record; Go records carry no severity
		if name == "stdlib" {
			level = vuln.LevelUnknown
		}
		return brief{"CVE-2023-39325", aliases, advisories, name, v, "Go", fixed, level}
	}
	django := func(v string, fixed ...string) []brief {
		return []brief{{"CVE-2015-8213", []string{"PYSEC-2015-11"}, []string{"PYSEC-2015-11"}, "django", v, "PyPI", fixed, vuln.LevelUnknown}}
	}
	smallvec := func(v string, fixed ...string) []brief {
		return []brief{{"CVE-2018-20991", []string{"GHSA-rxr4-x558-x7hw", "RUSTSEC-2018-0003"}, []string{"RUSTSEC-2018-0003"}, "smallvec", v, "crates.io", fixed, vuln.LevelCritical}}
	}
	dsa5343 := func(v string) []brief {
		return []brief{{"CVE-2022-2097", []string{"CVE-2022-4304", "CVE-2022-4450", "CVE-2023-0215", "CVE-2023-0286", "DSA-5343-1"}, []string{"DSA-5343-1"}, "openssl", v, "Debian:11", []string{"1.1.1n-0+deb11u4"}, vuln.LevelUnknown}}
	}
	deb12 := func(v string) []brief {
		return []brief{{"DEBIAN-CVE-2024-5535", nil, []string{"DEBIAN-CVE-2024-5535"}, "openssl", v, "Debian:12", []string{"3.0.15-1~deb12u1"}, vuln.LevelUnknown}}
	}
	tests := []struct {
		name string
		pkg  sbom.Package
		want []brief
	}{
		// npm, SEMVER range.
		{"npm below fix", pkg("pkg:npm/lodash@4.17.20"), []brief{{"CVE-2021-23337", lodash, lodash, "lodash", "4.17.20", "npm", []string{"4.17.21"}, vuln.LevelHigh}}},
		{"npm exactly fixed", pkg("pkg:npm/lodash@4.17.21"), nil},
		{"npm after fix", pkg("pkg:npm/lodash@4.17.22-beta.1"), nil},
		{"npm prerelease of fix", pkg("pkg:npm/lodash@4.17.21-rc.1"), []brief{{"CVE-2021-23337", lodash, lodash, "lodash", "4.17.21-rc.1", "npm", []string{"4.17.21"}, vuln.LevelHigh}}},

		// Maven: three branches, each with its own fix; qualifiers.
		{"log4j 2.14.1", pkg(log4j + "2.14.1"), log4jFinding("2.14.1", "2.15.0")},
		{"log4j 2.13.0 introduced", pkg(log4j + "2.13.0"), log4jFinding("2.13.0", "2.15.0")},
		{"log4j 2.12.1", pkg(log4j + "2.12.1"), log4jFinding("2.12.1", "2.12.2")},
		{"log4j 2.12.2 fixed branch", pkg(log4j + "2.12.2"), nil},
		{"log4j 2.12.3 between branches", pkg(log4j + "2.12.3"), nil},
		{"log4j 2.3 branch", pkg(log4j + "2.3"), log4jFinding("2.3", "2.3.1")},
		{"log4j 2.3.1 fixed", pkg(log4j + "2.3.1"), nil},
		{"log4j 2.0-rc1 qualifier", pkg(log4j + "2.0-rc1"), log4jFinding("2.0-rc1", "2.3.1")},
		{"log4j 2.0-beta9 introduced", pkg(log4j + "2.0-beta9"), log4jFinding("2.0-beta9", "2.3.1")},
		{"log4j 2.0-beta8 before introduced", pkg(log4j + "2.0-beta8"), nil},
		{"log4j 2.0-alpha1 before introduced", pkg(log4j + "2.0-alpha1"), nil},
		{"log4j 2.15.0", pkg(log4j + "2.15.0"), nil},
		{"log4j 2.15.0-SNAPSHOT", pkg(log4j + "2.15.0-SNAPSHOT"), log4jFinding("2.15.0-SNAPSHOT", "2.15.0")},

		// Go modules: GO + GHSA records merged through their shared aliases.
		{"x/net merged", pkg("pkg:golang/golang.org/x/net@v0.16.0"), []brief{rapidReset("golang.org/x/net", "0.16.0", []string{"GHSA-4374-p667-p6c8", "GO-2023-2102"}, "0.17.0")}},
		{"x/net fixed", pkg("pkg:golang/golang.org/x/net@v0.17.0"), nil},
		{"x/net pseudo-version in range", pkg("pkg:golang/golang.org/x/net@v0.1.0"), []brief{
			{"CVE-2022-41721", []string{"GHSA-fxg5-wq6x-vr4w", "GO-2023-1495"}, []string{"GO-2023-1495"}, "golang.org/x/net", "0.1.0", "Go", []string{"0.1.1-0.20221104162952-702349b0e862"}, vuln.LevelUnknown},
			rapidReset("golang.org/x/net", "0.1.0", []string{"GHSA-4374-p667-p6c8", "GO-2023-2102"}, "0.17.0"),
		}},
		{"x/net pseudo-version before introduced", pkg("pkg:golang/golang.org/x/net@v0.0.0-20220101000000-0123456789ab"), []brief{
			rapidReset("golang.org/x/net", "0.0.0-20220101000000-0123456789ab", []string{"GHSA-4374-p667-p6c8", "GO-2023-2102"}, "0.17.0"),
		}},
		{"x/net exactly the fixing pseudo-version", pkg("pkg:golang/golang.org/x/net@v0.1.1-0.20221104162952-702349b0e862"), []brief{
			rapidReset("golang.org/x/net", "0.1.1-0.20221104162952-702349b0e862", []string{"GHSA-4374-p667-p6c8", "GO-2023-2102"}, "0.17.0"),
		}},
		{"withdrawn Go record", pkg("pkg:golang/k8s.io/kubernetes@v1.18.0"), nil},

		// Go standard library by toolchain version.
		{"stdlib 1.21.1", pkg("pkg:golang/stdlib@1.21.1"), []brief{rapidReset("stdlib", "1.21.1", []string{"GO-2023-2102"}, "1.21.3")}},
		{"stdlib 1.20.4 two branches", pkg("pkg:golang/stdlib@1.20.4"), []brief{
			{"CVE-2023-29403", []string{"GO-2023-1840"}, []string{"GO-2023-1840"}, "stdlib", "1.20.4", "Go", []string{"1.20.5"}, vuln.LevelUnknown},
			rapidReset("stdlib", "1.20.4", []string{"GO-2023-2102"}, "1.20.10"),
		}},
		{"stdlib go1.19.9 from a binary", pkg("pkg:golang/stdlib@go1.19.9"), []brief{
			{"CVE-2023-29403", []string{"GO-2023-1840"}, []string{"GO-2023-1840"}, "stdlib", "1.19.9", "Go", []string{"1.19.10"}, vuln.LevelUnknown},
			rapidReset("stdlib", "1.19.9", []string{"GO-2023-2102"}, "1.20.10"),
		}},
		{"stdlib 1.21rc2", pkg("pkg:golang/stdlib@1.21rc2"), []brief{rapidReset("stdlib", "1.21.0-rc.2", []string{"GO-2023-2102"}, "1.21.3")}},
		{"stdlib 1.21.3 fixed", pkg("pkg:golang/stdlib@1.21.3"), nil},
		{"stdlib go1.22 release", pkg("pkg:golang/stdlib@go1.22"), nil},

		// PyPI: PEP 440 pre-releases, names normalized, last_affected.
		{"django 1.9b1 pre-release", pkg("pkg:pypi/django@1.9b1"), django("1.9b1", "1.9rc2")},
		{"django 1.9rc1", pkg("pkg:pypi/Django@1.9rc1"), django("1.9rc1", "1.9rc2")},
		{"django 1.9rc2 fixed", pkg("pkg:pypi/django@1.9rc2"), nil},
		{"django 1.9 final", pkg("pkg:pypi/django@1.9"), nil},
		{"django 1.9.dev1 before 1.9a0", pkg("pkg:pypi/django@1.9.dev1"), nil},
		{"django 1.8.6", pkg("pkg:pypi/django@1.8.6"), django("1.8.6", "1.8.7")},
		{"django 1.8.7.post1", pkg("pkg:pypi/django@1.8.7.post1"), nil},
		{"py last_affected inclusive", pkg("pkg:pypi/py@1.11.0"), []brief{{"CVE-2022-42969", []string{"GHSA-w596-4wvx-j9j6", "PYSEC-2022-42969"}, []string{"PYSEC-2022-42969"}, "py", "1.11.0", "PyPI", nil, vuln.LevelUnknown}}},
		{"py after last_affected", pkg("pkg:pypi/py@1.11.1"), nil},
		{"withdrawn PyPI record", pkg("pkg:pypi/loguru@0.5.3"), nil},

		// crates.io: several branches in one SEMVER range.
		{"smallvec 0.4.2", pkg("pkg:cargo/smallvec@0.4.2"), smallvec("0.4.2", "0.4.5")},
		{"smallvec 0.6.0", pkg("pkg:cargo/smallvec@0.6.0"), smallvec("0.6.0", "0.6.3")},
		{"smallvec 0.3.1 before introduced", pkg("pkg:cargo/smallvec@0.3.1"), nil},
		{"smallvec 0.4.5 fixed", pkg("pkg:cargo/smallvec@0.4.5"), nil},
		{"smallvec 0.6.3 fixed", pkg("pkg:cargo/smallvec@0.6.3"), nil},
		{"withdrawn crate record", pkg("pkg:cargo/dirs@1.0.0"), nil},

		// AlmaLinux: the binary RPM (advisories list binaries) and the epoch.
		{"alma openssl-libs", pkg("pkg:rpm/almalinux/openssl-libs@3.0.7-27.el9"+alma, "openssl", "3.0.7-27.el9"), []brief{
			{"ALSA-2024:6783", nil, []string{"ALSA-2024:6783"}, "openssl-libs", "1:3.0.7-27.el9", "AlmaLinux:9", []string{"1:3.0.7-28.el9_4"}, vuln.LevelMedium},
			{"ALSA-2024:9333", nil, []string{"ALSA-2024:9333"}, "openssl-libs", "1:3.0.7-27.el9", "AlmaLinux:9", []string{"1:3.2.2-6.el9_5"}, vuln.LevelLow},
		}},
		{"alma source from purl only", pkg("pkg:rpm/almalinux/openssl@3.2.2-6.el9_5?arch=x86_64&epoch=1&distro=almalinux-9.5&sourcerpm=openssl-3.2.2-6.el9_5.src.rpm"), nil},
		{"alma 8 has no such records", pkg("pkg:rpm/almalinux/openssl-libs@1.1.1k-5.el8?arch=x86_64&epoch=1&distro=almalinux-8.9&sourcerpm=openssl-1.1.1k-5.el8.src.rpm"), nil},

		// Debian: source package, release from the distro qualifier, ~ and epochs.
		{"DSA-3029-1 nginx wheezy", pkg("pkg:deb/debian/nginx-common@1.2.1-2.2+wheezy2?arch=all&distro=debian-7", "nginx"), []brief{
			{"CVE-2014-3616", []string{"DSA-3029-1"}, []string{"DSA-3029-1"}, "nginx", "1.2.1-2.2+wheezy2", "Debian:7", []string{"1.2.1-2.2+wheezy3"}, vuln.LevelUnknown}}},
		{"DSA-3029-1 fixed", pkg("pkg:deb/debian/nginx@1.2.1-2.2+wheezy3?distro=wheezy"), nil},
		{"DSA-5343-1 libssl1.1 bullseye", pkg("pkg:deb/debian/libssl1.1@1.1.1n-0+deb11u3?arch=amd64&distro=bullseye", "openssl"), dsa5343("1.1.1n-0+deb11u3")},
		{"DSA-5343-1 fixed", pkg("pkg:deb/debian/libssl1.1@1.1.1n-0+deb11u4?arch=amd64&distro=debian-11", "openssl"), nil},
		{"DSA-5343-1 epoch above the fix", pkg("pkg:deb/debian/openssl@1:0.9-1?distro=debian-11"), nil},
		{"bookworm binNMU source version", pkg("pkg:deb/debian/libssl3@3.0.14-1~deb12u2+b1?arch=amd64&distro=debian-12", "openssl", "3.0.14-1~deb12u2"), deb12("3.0.14-1~deb12u2")},
		{"bookworm tilde below the fix", pkg("pkg:deb/debian/libssl3@3.0.15-1~deb11u1?distro=bookworm", "openssl"), deb12("3.0.15-1~deb11u1")},
		{"bookworm exactly fixed", pkg("pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12", "openssl"), nil},
		{"bookworm without tilde sorts after", pkg("pkg:deb/debian/libssl3@3.0.15-1?distro=debian-12.8", "openssl"), nil},
		{"scalibr source qualifiers", pkg("pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=bookworm&source=openssl"), deb12("3.0.11-1~deb12u2")},
		{"Syft upstream qualifier", pkg("pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12"), deb12("3.0.11-1~deb12u2")},

		// Ubuntu: the LTS ecosystem variant.
		{"ubuntu jammy", pkg("pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.8?arch=amd64&distro=ubuntu-22.04", "openssl"), []brief{
			{"UBUNTU-CVE-2023-0464", nil, []string{"UBUNTU-CVE-2023-0464"}, "openssl", "3.0.2-0ubuntu1.8", "Ubuntu:22.04:LTS", []string{"3.0.2-0ubuntu1.9"}, vuln.LevelLow}}},
		{"ubuntu 1.10 after 1.9", pkg("pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.10?distro=jammy", "openssl"), nil},

		// Alpine: origin package and branch.
		{"alpine libssl3", pkg("pkg:apk/alpine/libssl3@3.0.7-r2?arch=x86_64&distro=3.17.2&origin=openssl"), []brief{
			{"CVE-2023-0286", nil, []string{"CVE-2023-0286"}, "openssl", "3.0.7-r2", "Alpine:v3.17", []string{"3.0.8-r0"}, vuln.LevelHigh}}},
		{"alpine rc below release", pkg("pkg:apk/alpine/libssl3@3.0.8_rc1-r0?distro=alpine-3.17.0", "openssl"), []brief{
			{"CVE-2023-0286", nil, []string{"CVE-2023-0286"}, "openssl", "3.0.8_rc1-r0", "Alpine:v3.17", []string{"3.0.8-r0"}, vuln.LevelHigh}}},
		{"alpine fixed", pkg("pkg:apk/alpine/libssl3@3.0.8-r0?distro=alpine-3.17.0", "openssl"), nil},
		{"alpine other branch", pkg("pkg:apk/alpine/libssl3@3.0.7-r2?distro=3.18.0", "openssl"), nil},

		// No OSV ecosystem.
		{"generic", sbom.Package{ID: "x", Name: "x", Version: "1", Type: "generic"}, nil},
	}
	src := testIndex(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sbom.SBOM{Packages: []sbom.Package{tt.pkg}}
			got, err := vuln.Match(context.Background(), src, s, vuln.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, briefs(got)); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			for _, f := range got {
				if f.PackageID != tt.pkg.ID || f.PURL != tt.pkg.PURL {
					t.Errorf("finding %s names package %q %q, want %q", f.ID, f.PackageID, f.PURL, tt.pkg.ID)
				}
			}
		})
	}
}

// TestMatchDetails checks severity, KEV, EPSS, CVEs and symbols of whole findings.
func TestMatchDetails(t *testing.T) {
	kev := loadKEV(t)
	enr := fakeEnricher{kev: kev, epss: map[string]vuln.EPSS{
		"CVE-2021-44228": {Score: 0.5, Percentile: 0.9, Date: time.Date(2025, 8, 25, 0, 0, 0, 0, time.UTC)},
	}}
	s := &sbom.SBOM{Packages: []sbom.Package{
		pkg("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
		pkg("pkg:golang/golang.org/x/net@v0.16.0"),
		pkg("pkg:rpm/almalinux/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1&distro=almalinux-9.3", "openssl", "3.0.7-27.el9"),
	}}
	got, err := vuln.Match(context.Background(), testIndex(t), s, vuln.Options{Enricher: enr})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]vuln.Finding{}
	for _, f := range got {
		byID[f.ID] = f
	}
	log4j := byID["CVE-2021-44228"]
	want := vuln.Finding{
		ID: "CVE-2021-44228", Aliases: []string{"GHSA-jfh8-c2jp-5v3q"}, Advisories: []string{"GHSA-jfh8-c2jp-5v3q"},
		PackageID: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
		Package: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", Ecosystem: "Maven",
		Summary: "Remote code injection in Log4j",
		Severity: vuln.Severity{
			Level: vuln.LevelCritical, Score: 10,
			V3:       &vuln.CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Score: 10, Level: vuln.LevelCritical},
			Database: "CRITICAL",
		},
		Fixed: []string{"2.15.0"},
		CVEs:  []string{"CVE-2021-44228"},
		KEV: &vuln.KEV{
			DateAdded: time.Date(2021, 12, 10, 0, 0, 0, 0, time.UTC), DueDate: time.Date(2021, 12, 24, 0, 0, 0, 0, time.UTC),
			KnownRansomware: true, RequiredAction: kev["CVE-2021-44228"].RequiredAction,
		},
		EPSS: &vuln.EPSS{Score: 0.5, Percentile: 0.9, Date: time.Date(2025, 8, 25, 0, 0, 0, 0, time.UTC)},
	}
	if d := cmp.Diff(want, log4j); d != "" {
		t.Errorf("log4j finding (-want +got):\n%s", d)
	}

	xnet := byID["CVE-2023-39325"]
	if xnet.KEV != nil {
		t.Errorf("x/net: KEV %+v from a related (not alias) CVE", xnet.KEV)
	}
	wantSyms := []string{
		"golang.org/x/net/http2.Server.ServeConn", "golang.org/x/net/http2.serverConn.processHeaders",
		"golang.org/x/net/http2.serverConn.runHandler", "golang.org/x/net/http2.serverConn.serve",
		"golang.org/x/net/http2.serverConn.upgradeRequest",
	}
	if d := cmp.Diff(wantSyms, xnet.Symbols); d != "" {
		t.Errorf("x/net symbols (-want +got):\n%s", d)
	}
	if xnet.Summary != "HTTP/2 rapid reset can cause excessive work in net/http" || xnet.Severity.V3 == nil || xnet.Severity.V3.Score != 7.5 || xnet.Severity.Database != "HIGH" {
		t.Errorf("x/net summary/severity = %q %+v", xnet.Summary, xnet.Severity)
	}

	alsa := byID["ALSA-2024:9333"]
	wantCVEs := []string{"CVE-2024-2511", "CVE-2024-4603", "CVE-2024-4741", "CVE-2024-5535"}
	if d := cmp.Diff(wantCVEs, alsa.CVEs); d != "" {
		t.Errorf("ALSA CVEs from related (-want +got):\n%s", d)
	}
	if alsa.Severity.Database != "Low" || alsa.Severity.Level != vuln.LevelLow || alsa.Severity.Score != 0 {
		t.Errorf("ALSA severity = %+v", alsa.Severity)
	}
}

// TestMatchRecords covers rules no real record shows: limit events, transitive
// alias groups, unparsable versions. The records here are synthetic.
func TestMatchRecords(t *testing.T) {
	rec := func(id string, aliases []string, eco, name string, ranges ...osv.Range) *osv.Vulnerability {
		return &osv.Vulnerability{ID: id, Aliases: aliases, Affected: []osv.Affected{{Package: osv.Package{Ecosystem: eco, Name: name}, Ranges: ranges}}}
	}
	sem := func(events ...osv.Event) osv.Range { return osv.Range{Type: osv.RangeSemver, Events: events} }
	eco := func(events ...osv.Event) osv.Range { return osv.Range{Type: osv.RangeEcosystem, Events: events} }
	in := func(v string) osv.Event { return osv.Event{Introduced: v} }
	fix := func(v string) osv.Event { return osv.Event{Fixed: v} }
	last := func(v string) osv.Event { return osv.Event{LastAffected: v} }
	lim := func(v string) osv.Event { return osv.Event{Limit: v} }

	recs := []*osv.Vulnerability{
		rec("LIMIT-1", nil, "npm", "limited", sem(in("1.0.0"), lim("2.0.0"))),
		rec("LIMIT-2", nil, "npm", "star", sem(in("1.0.0"), lim("*"))),
		rec("LIMIT-3", nil, "npm", "twolimits", sem(in("0"), fix("1.5.0"), lim("1.2.0"), lim("3.0.0"))),
		rec("A-1", []string{"X-1"}, "npm", "merge", sem(in("0"), fix("2.0.0"))),
		rec("B-1", []string{"X-1", "Y-1"}, "npm", "merge", sem(in("0"), fix("2.1.0"))),
		rec("C-1", []string{"Y-1"}, "npm", "merge", sem(in("1.0.0"), last("1.9.0"))),
		rec("D-1", []string{"Z-1"}, "npm", "merge", sem(in("0"), fix("3.0.0"))),
		rec("GHSA-aaaa-bbbb-cccc", []string{"D-1"}, "npm", "merge", sem(in("0"), fix("3.0.0"))),
		rec("BAD-EVENT", nil, "npm", "badevent", sem(in("0"), fix("not a version"))),
		rec("UNSORTED", nil, "npm", "unsorted", sem(fix("3.0.0"), in("2.0.0"), fix("1.0.0"), in("0"))),
		rec("NOORDER", nil, "Hackage", "nosuch", eco(in("0"))),
		{ID: "LIST-1", Affected: []osv.Affected{{Package: osv.Package{Ecosystem: "npm", Name: "listed"}, Versions: []string{"1.0.0", "weird-1"}}}},
	}
	tests := []struct {
		name     string
		purl     string
		want     []brief
		warnings []string // substrings, one per warning
	}{
		{"limit below", "pkg:npm/limited@1.5.0", []brief{{"LIMIT-1", nil, []string{"LIMIT-1"}, "limited", "1.5.0", "npm", nil, ""}}, nil},
		{"limit itself", "pkg:npm/limited@2.0.0", nil, nil},
		{"limit above", "pkg:npm/limited@2.5.0", nil, nil},
		{"limit star", "pkg:npm/star@9.0.0", []brief{{"LIMIT-2", nil, []string{"LIMIT-2"}, "star", "9.0.0", "npm", nil, ""}}, nil},
		{"two limits", "pkg:npm/twolimits@1.3.0", []brief{{"LIMIT-3", nil, []string{"LIMIT-3"}, "twolimits", "1.3.0", "npm", []string{"1.5.0"}, ""}}, nil},
		{"two limits, fixed", "pkg:npm/twolimits@2.0.0", nil, nil},
		{"transitive aliases", "pkg:npm/merge@1.5.0", []brief{
			{"A-1", []string{"B-1", "C-1", "X-1", "Y-1"}, []string{"A-1", "B-1", "C-1"}, "merge", "1.5.0", "npm", []string{"2.0.0", "2.1.0"}, ""},
			{"GHSA-aaaa-bbbb-cccc", []string{"D-1", "Z-1"}, []string{"D-1", "GHSA-aaaa-bbbb-cccc"}, "merge", "1.5.0", "npm", []string{"3.0.0"}, ""},
		}, nil},
		{"group with some records matching", "pkg:npm/merge@2.0.5", []brief{
			{"B-1", []string{"X-1", "Y-1"}, []string{"B-1"}, "merge", "2.0.5", "npm", []string{"2.1.0"}, ""},
			{"GHSA-aaaa-bbbb-cccc", []string{"D-1", "Z-1"}, []string{"D-1", "GHSA-aaaa-bbbb-cccc"}, "merge", "2.0.5", "npm", []string{"3.0.0"}, ""},
		}, nil},
		{"unparsable record event", "pkg:npm/badevent@1.0.0", nil, []string{`record=BAD-EVENT`}},
		{"unparsable package version", "pkg:npm/limited@latest", nil, []string{`package=limited`, `record=LIMIT-1`}},
		{"unsorted events", "pkg:npm/unsorted@2.5.0", []brief{{"UNSORTED", nil, []string{"UNSORTED"}, "unsorted", "2.5.0", "npm", []string{"3.0.0"}, ""}}, nil},
		{"unsorted events, gap", "pkg:npm/unsorted@1.5.0", nil, nil},
		{"versions list exact", "pkg:npm/listed@1.0.0", []brief{{"LIST-1", nil, []string{"LIST-1"}, "listed", "1.0.0", "npm", nil, ""}}, nil},
		{"versions list is exact, not ordered", "pkg:npm/listed@1.0.0+build", nil, nil},
		{"versions list matches an unparsable version", "pkg:npm/listed@weird-1", []brief{{"LIST-1", nil, []string{"LIST-1"}, "listed", "weird-1", "npm", nil, ""}}, nil},
	}
	src := vuln.NewIndex(recs)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logRecorder{}
			s := &sbom.SBOM{Packages: []sbom.Package{pkg(tt.purl)}}
			got, err := vuln.Match(context.Background(), src, s, vuln.Options{Logger: slog.New(logs)})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, briefs(got), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			warns := logs.lines(slog.LevelWarn)
			if len(tt.warnings) == 0 && len(warns) > 0 {
				t.Errorf("unexpected warnings: %q", warns)
			}
			if len(tt.warnings) > 0 {
				if len(warns) != 1 {
					t.Fatalf("warnings = %q, want one", warns)
				}
				for _, w := range tt.warnings {
					if !strings.Contains(warns[0], w) {
						t.Errorf("warning %q does not name %q", warns[0], w)
					}
				}
			}
		})
	}
}

func TestMatchLogs(t *testing.T) {
	logs := &logRecorder{}
	s := &sbom.SBOM{Packages: []sbom.Package{
		{ID: "g", Name: "thing", Version: "1", Type: "generic"},
		pkg("pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64", "openssl"),
		pkg("pkg:pypi/django@not-a-version"),
	}}
	got, err := vuln.Match(context.Background(), testIndex(t), s, vuln.Options{Logger: slog.New(logs)})
	if err != nil || len(got) != 0 {
		t.Fatalf("Match = %v, %v; want no findings", got, err)
	}
	debug := strings.Join(logs.lines(slog.LevelDebug), "\n")
	if !strings.Contains(debug, "package=thing") || !strings.Contains(debug, "no OSV ecosystem") {
		t.Errorf("no debug line for the generic package:\n%s", debug)
	}
	warn := strings.Join(logs.lines(slog.LevelWarn), "\n")
	for _, w := range []string{"purl=pkg:deb/debian/libssl3", "without a known distribution release", "package=django purl=pkg:pypi/django@not-a-version", "record=PYSEC-2015-11"} {
		if !strings.Contains(warn, w) {
			t.Errorf("warnings lack %q:\n%s", w, warn)
		}
	}
}

func TestMatchDeterministic(t *testing.T) {
	s := &sbom.SBOM{Packages: []sbom.Package{
		pkg("pkg:pypi/django@1.8.6"),
		pkg("pkg:golang/stdlib@1.20.4"),
		pkg("pkg:npm/lodash@4.17.20"),
		pkg("pkg:golang/golang.org/x/net@v0.1.0"),
		pkg("pkg:deb/debian/libssl1.1@1.1.1n-0+deb11u3?distro=debian-11", "openssl"),
		pkg("pkg:deb/debian/openssl@1.1.1n-0+deb11u3?distro=debian-11"),
	}}
	first, err := vuln.Match(context.Background(), testIndex(t), s, vuln.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 8 {
		t.Errorf("%d findings, want 8: %v", len(first), briefs(first))
	}
	for i := 1; i < len(first); i++ {
		a, b := first[i-1], first[i]
		if a.PackageID > b.PackageID || a.PackageID == b.PackageID && a.ID >= b.ID {
			t.Errorf("findings out of order: %s/%s before %s/%s", a.PackageID, a.ID, b.PackageID, b.ID)
		}
	}
	for range 3 {
		again, err := vuln.Match(context.Background(), testIndex(t), s, vuln.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(first, again); d != "" {
			t.Fatalf("second run differs:\n%s", d)
		}
	}
}

func TestMatchCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &sbom.SBOM{Packages: []sbom.Package{pkg("pkg:npm/lodash@4.17.20")}}
	if _, err := vuln.Match(ctx, testIndex(t), s, vuln.Options{}); err == nil {
		t.Error("Match on a cancelled context succeeded")
	}
}
