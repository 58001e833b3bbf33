package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/vuln"
	"github.com/tether-sec/tether/vulndb"

	"github.com/tether-sec/tether/bench/internal/benchkit"
)

// pkgKey names a package the way both tools can: the OSV ecosystem base, the
// package name and version as the SBOM gives them (for OS packages the binary
// package), PyPI names PEP 503-normalized and Go versions without "v".
type pkgKey struct{ eco, name, version string }

func (k pkgKey) String() string { return k.eco + " " + k.name + "@" + k.version }

var pep503 = regexp.MustCompile(`[-_.]+`)

func newKey(eco, name, version string) pkgKey {
	base, _ := osv.Ecosystem(eco)
	switch base {
	case "PyPI":
		name = strings.ToLower(pep503.ReplaceAllString(name, "-"))
	case "Go":
		version = strings.TrimPrefix(version, "v")
	case "AlmaLinux", "Rocky Linux", "Red Hat":
		// The purl keeps the epoch in a qualifier; osv-scanner prints it in the version.
		if e, v, ok := strings.Cut(version, ":"); ok && e != "" && strings.Trim(e, "0123456789") == "" {
			version = v
		}
	}
	return pkgKey{base, name, version}
}

// findingSet is what one tool reports: per package, its advisory groups, each
// the sorted IDs of the OSV records the tool matched.
type findingSet map[pkgKey][][]string

// pairs is the number of (package, group) findings.
func (f findingSet) pairs() int {
	n := 0
	for _, gs := range f {
		n += len(gs)
	}
	return n
}

// add records a group for a package; a package listed twice in the SBOM (a
// module in a go.mod and in a binary) counts once.
func (f findingSet) add(k pkgKey, ids []string) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, g := range f[k] {
		if slices.Equal(g, ids) {
			return
		}
	}
	f[k] = append(f[k], ids)
}

// tetherSet keys tether's findings by the SBOM package they are about.
func tetherSet(s *sbom.SBOM, fs []vuln.Finding) findingSet {
	byID := map[string]*sbom.Package{}
	for i := range s.Packages {
		byID[s.Packages[i].ID] = &s.Packages[i]
	}
	out := findingSet{}
	for _, f := range fs {
		p := byID[f.PackageID]
		out.add(keyOf(p, f), f.Advisories)
	}
	return out
}

// keyOf is the key of the package a finding is about, with the version the
// SBOM gives (tether matches "go 1.22" of a go.mod as 1.22.0): for OS packages
// the binary package (tether matched its source package), for the others the
// OSV package name tether matched.
func keyOf(p *sbom.Package, f vuln.Finding) pkgKey {
	if p == nil {
		return newKey(f.Ecosystem, f.Package, f.Version)
	}
	switch strings.ToLower(p.Type) {
	case "deb", "rpm", "apk":
		return newKey(f.Ecosystem, p.Name, p.Version)
	}
	return newKey(f.Ecosystem, f.Package, p.Version)
}

// osvOutput is the part of osv-scanner's JSON output the comparison reads.
type osvOutput struct {
	Results []struct {
		Packages []struct {
			Package struct {
				Name, Version, Ecosystem string
				// OSPackageName is the binary package of an image scan (Name is
				// then the source package).
				OSPackageName string `json:"os_package_name"`
			} `json:"package"`
			Groups []struct {
				IDs []string `json:"ids"`
			} `json:"groups"`
		} `json:"packages"`
	} `json:"results"`
}

// readOSVScanner reads osv-scanner's JSON output: its groups per package.
func readOSVScanner(name string) (findingSet, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var o osvOutput
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := findingSet{}
	for _, r := range o.Results {
		for _, p := range r.Packages {
			name := p.Package.Name
			if p.Package.OSPackageName != "" {
				name = p.Package.OSPackageName
			}
			k := newKey(p.Package.Ecosystem, name, p.Package.Version)
			for _, g := range p.Groups {
				out.add(k, g.IDs)
			}
		}
	}
	return out, nil
}

func countCLIFindings(b []byte) (int, error) {
	var o struct {
		Findings []json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return 0, fmt.Errorf("tether vuln -o json: %w", err)
	}
	return len(o.Findings), nil
}

// line is one (package, advisory group) of the comparison.
type line struct {
	key                pkgKey
	group              string // record IDs, space-separated
	tether, osvScanner bool
}

// compare lines up the two tools' findings: a group both report identically
// is one line; otherwise each tool's group is a line of its own.
func compare(t, o findingSet) []line {
	keys := map[pkgKey]bool{}
	for k := range t {
		keys[k] = true
	}
	for k := range o {
		keys[k] = true
	}
	var out []line
	for k := range keys {
		tg, og := groupSet(t[k]), groupSet(o[k])
		for g := range tg {
			out = append(out, line{key: k, group: g, tether: true, osvScanner: og[g]})
		}
		for g := range og {
			if !tg[g] {
				out = append(out, line{key: k, group: g, osvScanner: true})
			}
		}
	}
	slices.SortFunc(out, func(a, b line) int {
		return cmp.Or(cmp.Compare(a.key.eco, b.key.eco), cmp.Compare(a.key.name, b.key.name),
			cmp.Compare(a.key.version, b.key.version), cmp.Compare(a.group, b.group))
	})
	return out
}

func groupSet(gs [][]string) map[string]bool {
	m := map[string]bool{}
	for _, g := range gs {
		m[strings.Join(g, " ")] = true
	}
	return m
}

func (l line) who() string {
	switch {
	case l.tether && l.osvScanner:
		return "both"
	case l.tether:
		return "tether only"
	}
	return "osv-scanner only"
}

// report prints the summary table, the findings of each input and the diff.
func report(w io.Writer, c *config, results []*result, skipped, advLines []string, st vulndb.Status, importTime time.Duration, loadBefore, outDir string) {
	ver := c.osvVersion
	if ver == "" {
		ver = "(version not given)"
	}
	fmt.Fprintf(w, "tether (vuln.Match in process on a freshly opened database; `tether vuln sbom:FILE -o json`)\n")
	fmt.Fprintf(w, "vs osv-scanner %s (scan source --offline --local-db-path DIR -L FILE --format json; for images also\n", ver)
	fmt.Fprintf(w, "scan image --archive IMAGE.tar), %d runs each, alternating\n", c.runs)
	fmt.Fprintf(w, "%d CPUs, %s %s/%s, load average before %s, after %s\n\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, loadBefore, benchkit.LoadAverage())
	fmt.Fprintln(w, "advisory data (the same zips for both tools):")
	for _, l := range advLines {
		fmt.Fprintln(w, "  "+l)
	}
	fmt.Fprintf(w, "  tether db import: %d records (%d withdrawn) in %s\n", st.Advisories+st.Withdrawn, st.Withdrawn, ms(importTime))
	fmt.Fprintln(w, "\ninputs (tether catalogs each and writes a CycloneDX SBOM, which both tools read):")
	for _, r := range results {
		fmt.Fprintf(w, "  %s: %s\n", r.in.name, r.in.what)
	}
	for _, s := range skipped {
		fmt.Fprintf(w, "  skipped %s\n", s)
	}
	fmt.Fprintln(w)

	type cmpRow struct {
		r     *result
		o     *osvRun
		lines []line
	}
	var rows []cmpRow
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "input\tosv-scanner on\tpackages\ttether\tosv-scanner\tsame\ttether only\tosv-scanner only\tmatch\ttether vuln\tosv-scanner\tosv/match\t(cpu)\tosv/tether vuln\t(cpu)\t")
	for _, r := range results {
		for _, o := range r.osv {
			ls := compare(r.tether, o.found)
			rows = append(rows, cmpRow{r, o, ls})
			same, to, oo := 0, 0, 0
			for _, l := range ls {
				switch l.who() {
				case "both":
					same++
				case "tether only":
					to++
				default:
					oo++
				}
			}
			m, e, ow := benchkit.Median(r.match), benchkit.Median(r.e2e), benchkit.Median(o.wall)
			mc, ec, oc := benchkit.Median(r.matchCPU), benchkit.Median(r.e2eCPU), benchkit.Median(o.cpu)
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%.0f×\t%.0f×\t%.1f×\t%.1f×\t\n", r.in.name, o.label, r.packages, r.tether.pairs(), o.found.pairs(),
				same, to, oo, ms(m), ms(e), ms(ow), ow.Seconds()/m.Seconds(), oc.Seconds()/mc.Seconds(), ow.Seconds()/e.Seconds(), oc.Seconds()/ec.Seconds())
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nfindings are (package, advisory group) pairs; a group is the set of OSV records a tool matched and merged by alias.")
	fmt.Fprintln(w, "match: vuln.Match alone; tether vuln: the whole CLI process (SBOM decode, graph store writes, JSON out);")
	fmt.Fprintln(w, "osv-scanner: the whole process (it loads each ecosystem's zip, then matches). Times are medians of wall time;")
	fmt.Fprintln(w, "osv/match and osv/tether vuln are how many times faster tether is, by median wall time and (cpu) by median")
	fmt.Fprintln(w, "CPU time (user + system; steadier when other jobs share the machine). On an image, osv-scanner also extracts")
	fmt.Fprintln(w, "the packages.")
	for _, r := range results {
		if r.cli != r.tether.pairs() {
			fmt.Fprintf(w, "NOTE %s: the tether CLI printed %d findings, vuln.Match gave %d (the CLI counts a package listed twice twice)\n", r.in.name, r.cli, r.tether.pairs())
		}
	}

	for _, row := range rows {
		// Images: list the findings against osv-scanner's image scan, which sees
		// what the SBOM scan cannot (source packages, rpm).
		if row.r.in.image && row.o.label == "sbom" {
			continue
		}
		ls := row.lines
		fmt.Fprintf(w, "\nfindings, %s (osv-scanner on the %s; package@version: advisory group, who reports it):\n", row.r.in.name, row.o.label)
		if len(ls) == 0 {
			fmt.Fprintln(w, "  (none)")
		}
		shown := ls
		if c.top > 0 && len(shown) > c.top {
			shown = shown[:c.top]
		}
		for _, l := range shown {
			fmt.Fprintf(w, "  %-58s %-40s %s\n", l.key.String(), l.group, l.who())
		}
		if len(shown) < len(ls) {
			fmt.Fprintf(w, "  … and %d more (-top 0 lists all)\n", len(ls)-len(shown))
		}
		fmt.Fprintf(w, "  wall times: match %s; tether vuln %s; osv-scanner %s\n", durations(row.r.match), durations(row.r.e2e), durations(row.o.wall))
	}

	fmt.Fprintln(w, "\ndiff (explained in bench/vuln-diff.md):")
	n := 0
	for _, row := range rows {
		for _, l := range row.lines {
			if l.who() == "both" {
				continue
			}
			n++
			fmt.Fprintf(w, "  %-16s %-6s %-16s %-52s %s\n", row.r.in.name, row.o.label, l.who(), l.key.String(), l.group)
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "  (none: both tools report the same findings)")
	}
	fmt.Fprintf(w, "\nSBOMs and both tools' outputs of the last run: %s\n", outDir)
}

func durations(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = ms(d)
	}
	return strings.Join(s, " ")
}
