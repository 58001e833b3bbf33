// Package vuln matches the packages of an SBOM against OSV advisories: exact
// per-ecosystem version ranges, alias groups, CVSS, KEV and EPSS enrichment.
package vuln

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/sbom"
)

// Source gives the advisories for one package. ecosystem is an OSV ecosystem
// string as records spell it ("Go", "Debian:12", "Ubuntu:22.04:LTS") and name is
// passed through NormalizeName; a Source should index records the same way. It
// may return records that also name other packages: Match looks only at the
// affected entries of the package it asked for.
type Source interface {
	Advisories(ctx context.Context, ecosystem, name string) ([]*osv.Vulnerability, error)
}

// KEV is a CISA Known Exploited Vulnerabilities catalog entry.
type KEV struct {
	DateAdded       time.Time
	KnownRansomware bool
	DueDate         time.Time
	RequiredAction  string
}

// EPSS is a FIRST Exploit Prediction Scoring System score.
type EPSS struct {
	Score, Percentile float64
	Date              time.Time
}

// Enricher looks up KEV and EPSS data by CVE ID.
type Enricher interface {
	KEV(ctx context.Context, cve string) (KEV, bool, error)
	EPSS(ctx context.Context, cve string) (EPSS, bool, error)
}

// Options tune Match. The zero value is ready to use.
type Options struct {
	// Enricher adds KEV and EPSS data; nil leaves Finding.KEV and EPSS nil.
	Enricher Enricher
	// Logger receives warnings (a version that cannot be parsed, a bad record)
	// and debug notes (a package type with no OSV ecosystem); nil discards them.
	Logger *slog.Logger
}

// Finding is one advisory group that affects one package.
type Finding struct {
	// ID is the group's preferred ID: a CVE if any, else a GHSA, else the
	// smallest advisory ID.
	ID string
	// Aliases are every other ID of the group (record IDs and their aliases), sorted.
	Aliases []string
	// Advisories are the IDs of the OSV records that matched, sorted.
	Advisories []string
	// PackageID is sbom.Package.ID.
	PackageID string
	// Package and Version are the OSV package name and version matched (for OS
	// packages the source package; for Go the version without "v"), Ecosystem the
	// OSV ecosystem (e.g. "Debian:12"), PURL the SBOM package's purl.
	Package, Version, PURL, Ecosystem string
	Summary                           string
	Severity                          Severity
	// Fixed are the fixed versions that close the affected interval the version
	// is in, one per matching range, sorted by the ecosystem's order. Empty when
	// no fix is known.
	Fixed []string
	// CVEs are the CVE IDs the finding is about: those in the group and, for OS
	// distribution advisories, the CVEs they name as upstream or related. KEV and
	// EPSS are looked up for these.
	CVEs []string
	// KEV is the earliest KEV entry of the CVEs; EPSS the highest score.
	KEV  *KEV
	EPSS *EPSS
	// Symbols are the affected Go symbols ("net/http.Server.Serve") where the
	// records list them.
	Symbols []string
	// Code says whether the Go binary the package was found in holds the code
	// the advisory names (its symbols, or its packages where it names no
	// symbols); empty when that cannot be told. Present lists what was found.
	Code    CodePresence
	Present []string
}

// CodePresence says whether a binary holds an advisory's vulnerable code.
type CodePresence string

// Code presence values. The zero value means unknown: the package was not found
// in a Go binary whose function table tether read (a go.mod, an SBOM file), the
// advisory names no packages or symbols, or the binary predates Go 1.16 and its
// table lacks inlined functions, so an absence proves nothing.
const (
	CodePresent CodePresence = "present"
	// CodeAbsent: none of the named functions is compiled into the binary or
	// inlined into its code, or every named package is limited to other platforms.
	CodeAbsent CodePresence = "absent"
)

// Errors.
var (
	// ErrUnsupported is matched by the error of a package that has no OSV ecosystem.
	ErrUnsupported = errors.New("vuln: package type has no OSV ecosystem")
	// ErrNoDistro is matched by the error of an OS package whose distribution
	// release is unknown (no distro qualifier tether can read).
	ErrNoDistro = errors.New("vuln: OS package without a known distribution release")
)

// Match returns the findings for the packages of s: one per (package, advisory
// group), sorted by package ID and finding ID.
func Match(ctx context.Context, src Source, s *sbom.SBOM, opts Options) ([]Finding, error) {
	if s == nil {
		return nil, nil
	}
	m := newMatcher(src, opts)
	var out []Finding
	for i := range s.Packages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fs, err := m.pkg(ctx, &s.Packages[i])
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.PackageID, b.PackageID), cmp.Compare(a.ID, b.ID), cmp.Compare(a.PURL, b.PURL))
	})
	return out, nil
}

type matcher struct {
	src  Source
	enr  Enricher
	log  *slog.Logger
	recs map[string][]*osv.Vulnerability // ecosystem + "\x00" + name
	hits map[string][]hit                // ecosystem + name + version
	kev  map[string]*KEV
	epss map[string]*EPSS
	seen map[string]bool // warnings already given
	vers versions
}

func newMatcher(src Source, opts Options) *matcher {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &matcher{
		src: src, enr: opts.Enricher, log: log,
		recs: map[string][]*osv.Vulnerability{},
		hits: map[string][]hit{},
		kev:  map[string]*KEV{},
		epss: map[string]*EPSS{},
		seen: map[string]bool{},
		vers: versions{},
	}
}

func (m *matcher) warn(msg string, args ...any) {
	key := fmt.Sprint(msg, args)
	if m.seen[key] {
		return
	}
	m.seen[key] = true
	m.log.Warn(msg, args...)
}

// pkg matches one package.
func (m *matcher) pkg(ctx context.Context, p *sbom.Package) ([]Finding, error) {
	t, err := TargetOf(*p)
	if err != nil {
		if errors.Is(err, ErrUnsupported) {
			m.log.Debug("vuln: package not matched", "package", p.Name, "purl", p.PURL, "type", p.Type, "reason", err)
		} else {
			m.warn("vuln: package not matched", "package", p.Name, "purl", p.PURL, "reason", err)
		}
		return nil, nil
	}
	var hits []hit
	for _, eco := range t.Ecosystems {
		h, err := m.match(ctx, eco, t.Name, t.Version, p)
		if err != nil {
			return nil, err
		}
		hits = append(hits, h...)
	}
	if len(hits) == 0 {
		return nil, nil
	}
	return m.findings(ctx, p, t, hits)
}

// match evaluates the records of one (ecosystem, name) for one version, with
// caches: binary packages of one source package share the work.
func (m *matcher) match(ctx context.Context, eco, name, version string, p *sbom.Package) ([]hit, error) {
	key := eco + "\x00" + name + "\x00" + version
	if h, ok := m.hits[key]; ok {
		return h, nil
	}
	rkey := eco + "\x00" + name
	recs, ok := m.recs[rkey]
	if !ok {
		var err error
		recs, err = m.src.Advisories(ctx, eco, name)
		if err != nil {
			return nil, fmt.Errorf("vuln: advisories for %s %s: %w", eco, name, err)
		}
		m.recs[rkey] = recs
	}
	var hits []hit
	for _, r := range recs {
		if r == nil || r.IsWithdrawn() {
			continue
		}
		h, ok := m.evaluate(r, eco, name, version, p)
		if ok {
			hits = append(hits, h)
		}
	}
	m.hits[key] = hits
	return hits, nil
}

// findings merges the hits of one package into alias groups.
func (m *matcher) findings(ctx context.Context, p *sbom.Package, t Target, hits []hit) ([]Finding, error) {
	// The same record can come back for two ecosystem variants: merge them.
	slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(a.rec.ID, b.rec.ID) })
	merged := hits[:0:0]
	for _, h := range hits {
		if n := len(merged); n > 0 && merged[n-1].rec.ID == h.rec.ID {
			// Hits are cached across packages: build new slices.
			last := &merged[n-1]
			last.aff = slices.Concat(last.aff, h.aff)
			last.fixed = slices.Concat(last.fixed, h.fixed)
			last.imports = slices.Concat(last.imports, h.imports)
			continue
		}
		merged = append(merged, h)
	}
	hits = merged
	var out []Finding
	for _, g := range groups(hits) {
		f := m.finding(p, t, g)
		if err := m.enrich(ctx, &f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func (m *matcher) finding(p *sbom.Package, t Target, g []hit) Finding {
	f := Finding{PackageID: p.ID, Package: t.Name, Version: t.Version, PURL: p.PURL}
	ids := map[string]bool{}
	cves := map[string]bool{}
	var fixed []string
	var imports []goImport
	for _, h := range g {
		f.Advisories = append(f.Advisories, h.rec.ID)
		ids[h.rec.ID] = true
		for _, a := range h.rec.Aliases {
			if a != "" {
				ids[a] = true
			}
		}
		if isOS(h.eco) {
			for _, u := range slices.Concat(h.rec.Upstream, h.rec.Related) {
				if isCVE(u) {
					cves[u] = true
				}
			}
		}
		fixed = append(fixed, h.fixed...)
		imports = append(imports, h.imports...)
	}
	f.ID = preferredID(ids, f.Advisories)
	for id := range ids {
		if isCVE(id) {
			cves[id] = true
		}
		if id != f.ID {
			f.Aliases = append(f.Aliases, id)
		}
	}
	slices.Sort(f.Aliases)
	slices.Sort(f.Advisories)
	for c := range cves {
		f.CVEs = append(f.CVEs, c)
	}
	slices.Sort(f.CVEs)
	var syms []string
	for _, im := range imports {
		for _, s := range im.Symbols {
			syms = append(syms, im.Path+"."+s)
		}
	}
	slices.Sort(syms)
	f.Symbols = slices.Compact(syms)
	f.Code, f.Present = codePresence(p.GoSymbols, imports)

	// Ecosystem, summary and severity: the record whose ID is the finding's
	// comes first, then the others by ID.
	order := slices.Clone(g)
	slices.SortStableFunc(order, func(a, b hit) int {
		return cmp.Or(-cmp.Compare(b2i(a.rec.ID == f.ID), b2i(b.rec.ID == f.ID)), cmp.Compare(a.rec.ID, b.rec.ID))
	})
	f.Ecosystem = order[0].eco
	for _, h := range order {
		if s := strings.TrimSpace(h.rec.Summary); s != "" {
			f.Summary = s
			break
		}
	}
	if f.Summary == "" {
		f.Summary = firstLine(order[0].rec.Details)
	}
	f.Severity = m.severity(order)
	f.Fixed = sortVersions(f.Ecosystem, fixed)
	return f
}

func (m *matcher) enrich(ctx context.Context, f *Finding) error {
	if m.enr == nil {
		return nil
	}
	for _, c := range f.CVEs {
		k, ok := m.kev[c]
		if !ok {
			v, found, err := m.enr.KEV(ctx, c)
			if err != nil {
				return fmt.Errorf("vuln: KEV lookup of %s: %w", c, err)
			}
			if found {
				k = &v
			}
			m.kev[c] = k
		}
		if k != nil && (f.KEV == nil || k.DateAdded.Before(f.KEV.DateAdded)) {
			kk := *k
			f.KEV = &kk
		}
		e, ok := m.epss[c]
		if !ok {
			v, found, err := m.enr.EPSS(ctx, c)
			if err != nil {
				return fmt.Errorf("vuln: EPSS lookup of %s: %w", c, err)
			}
			if found {
				e = &v
			}
			m.epss[c] = e
		}
		if e != nil && (f.EPSS == nil || e.Score > f.EPSS.Score) {
			ee := *e
			f.EPSS = &ee
		}
	}
	return nil
}

// groups splits hits into alias groups: records that share an ID or an alias,
// transitively, form one group. Groups come out in order of their first record.
func groups(hits []hit) [][]hit {
	parent := make([]int, len(hits))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, h := range hits {
		for _, id := range append([]string{h.rec.ID}, h.rec.Aliases...) {
			if id == "" {
				continue
			}
			if j, ok := owner[id]; ok {
				a, b := find(i), find(j)
				if a != b {
					parent[max(a, b)] = min(a, b)
				}
			} else {
				owner[id] = i
			}
		}
	}
	idx := map[int]int{}
	var out [][]hit
	for i, h := range hits {
		r := find(i)
		k, ok := idx[r]
		if !ok {
			k = len(out)
			idx[r] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], h)
	}
	return out
}

// preferredID picks a CVE, else a GHSA, else the smallest advisory ID.
func preferredID(ids map[string]bool, advisories []string) string {
	var cve, ghsa string
	for id := range ids {
		switch {
		case isCVE(id):
			if cve == "" || id < cve {
				cve = id
			}
		case strings.HasPrefix(id, "GHSA-"):
			if ghsa == "" || id < ghsa {
				ghsa = id
			}
		}
	}
	if cve != "" {
		return cve
	}
	if ghsa != "" {
		return ghsa
	}
	return slices.Min(advisories)
}

func isCVE(id string) bool { return strings.HasPrefix(id, "CVE-") }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}
