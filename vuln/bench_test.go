package vuln_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/vuln"
)

// synthetic builds nPkgs npm packages with perPkg records each. Record k of a
// package affects [k.0.0, k.5.0) and [k.6.0-beta.1, k.9.0), has a GHSA ID, a CVE
// alias shared with the next record (so groups merge) and a CVSS vector. The SBOM
// holds each package at version (k mod perPkg).7.0 for package k.
func synthetic(nPkgs, perPkg int) (*vuln.Index, *sbom.SBOM) {
	var recs []*osv.Vulnerability
	s := &sbom.SBOM{}
	for p := range nPkgs {
		name := fmt.Sprintf("pkg-%05d", p)
		for k := range perPkg {
			recs = append(recs, &osv.Vulnerability{
				ID:       fmt.Sprintf("GHSA-%04d-%04d-synt", p, k),
				Aliases:  []string{fmt.Sprintf("CVE-2099-%05d%03d", p, k/2)},
				Summary:  "synthetic",
				Severity: []osv.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}},
				Affected: []osv.Affected{{
					Package: osv.Package{Ecosystem: "npm", Name: name},
					Ranges: []osv.Range{{Type: osv.RangeSemver, Events: []osv.Event{
						{Introduced: fmt.Sprintf("%d.0.0", k)}, {Fixed: fmt.Sprintf("%d.5.0", k)},
						{Introduced: fmt.Sprintf("%d.6.0-beta.1", k)}, {Fixed: fmt.Sprintf("%d.9.0", k)},
					}}},
				}},
			})
		}
		purl := fmt.Sprintf("pkg:npm/%s@%d.7.0", name, p%perPkg)
		s.Packages = append(s.Packages, sbom.Package{ID: purl, PURL: purl, Type: "npm", Name: name})
	}
	return vuln.NewIndex(recs), s
}

// BenchmarkMatch matches 2,000 packages against 40,000 records (20 per package).
// matches/s counts (package, record) evaluations per second.
func BenchmarkMatch(b *testing.B) {
	const nPkgs, perPkg = 2000, 20
	src, s := synthetic(nPkgs, perPkg)
	b.ResetTimer()
	var n int
	for b.Loop() {
		fs, err := vuln.Match(context.Background(), src, s, vuln.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n = len(fs)
	}
	if n != nPkgs {
		b.Fatalf("%d findings, want %d", n, nPkgs)
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(nPkgs*perPkg)/sec, "matches/s")
	b.ReportMetric(float64(nPkgs)/sec, "pkgs/s")
}

// BenchmarkMatchRealGo matches every module of the real Go database (and the
// standard library) at one old version against all its records.
func BenchmarkMatchRealGo(b *testing.B) {
	recs := readShared(b, "Go")
	seen := map[string]bool{}
	s := &sbom.SBOM{}
	evals := 0
	for _, r := range recs {
		for _, a := range r.Affected {
			evals++
			if seen[a.Package.Name] {
				continue
			}
			seen[a.Package.Name] = true
			purl := "pkg:golang/" + a.Package.Name + "@v0.0.1"
			if a.Package.Name == "stdlib" || a.Package.Name == "toolchain" {
				purl = "pkg:golang/" + a.Package.Name + "@1.20.1"
			}
			s.Packages = append(s.Packages, sbom.Package{ID: purl, PURL: purl, Type: "golang", Name: a.Package.Name})
		}
	}
	src := vuln.NewIndex(recs)
	b.ResetTimer()
	var n int
	for b.Loop() {
		fs, err := vuln.Match(context.Background(), src, s, vuln.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n = len(fs)
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(evals)/sec, "matches/s")
	b.ReportMetric(float64(len(s.Packages))/sec, "pkgs/s")
	b.ReportMetric(float64(n), "findings")
}
