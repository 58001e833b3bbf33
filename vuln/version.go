package vuln

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/osv-scalibr/semantic"
	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/sbom"
)

// Version syntax per scheme. osv-scalibr's semantic package orders versions but
// accepts almost any string (it reads "latest" as a semver); these checks come
// first so that a string the ecosystem does not define is reported, never
// ordered by accident.
var (
	// semverRE is SemVer 2.0 with an optional "v" and one to three numeric
	// components (missing ones count as 0, as in the ecosystems' own tools).
	semverRE = regexp.MustCompile(`^v?\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$`)
	// pep440RE is the public version identifier grammar of PEP 440, Appendix B.
	pep440RE = regexp.MustCompile(`(?i)^\s*v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*` +
		`(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?` +
		`(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?` +
		`(?:[-_.]?dev[-_.]?[0-9]*)?` +
		`(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$`)
	// alpineRE is apk-tools' version grammar.
	alpineRE = regexp.MustCompile(`^\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*(?:~[0-9a-f]+)?(?:-r\d+)?$`)
	// rpmRE is [epoch:]version[-release] with rpm's separators.
	rpmRE    = regexp.MustCompile(`^(?:\d+:)?[0-9A-Za-z._+~^]+(?:-[0-9A-Za-z._+~^]+)?$`)
	nugetRE  = regexp.MustCompile(`^v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z.-]+)?$`)
	gemRE    = regexp.MustCompile(`^\d+(?:\.[0-9A-Za-z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$`)
	composRE = regexp.MustCompile(`(?i)^v?\d+(?:\.\d+)*(?:[-_.]?(?:stable|beta|b|rc|alpha|a|patch|pl|p)\.?\d*)?(?:[-_.]?dev)?$`)
	mavenRE  = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._+-]*$`)
	otherRE  = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+~_:-]*$`)
)

// scheme is one version ordering: SEMVER, or an ecosystem's.
type scheme string

const semverScheme scheme = "SEMVER"

// schemeOf is the ordering of a range type in an ecosystem.
func schemeOf(rangeType, ecosystem string) scheme {
	if rangeType == osv.RangeSemver {
		return semverScheme
	}
	base, _ := osv.Ecosystem(ecosystem)
	return scheme(base)
}

// valid reports whether s is a version of the scheme.
func (sc scheme) valid(s string) bool {
	var re *regexp.Regexp
	switch sc {
	case semverScheme, "Go", "npm", "crates.io", "Hex", "Pub", "SwiftURL", "Bitnami", "ConanCenter", "Julia", "GHC", "Docker Hardened Images", "Bioconductor":
		re = semverRE
	case "PyPI":
		re = pep440RE
	case "Debian", "Ubuntu":
		return debianValid(s)
	case "Alpine", "Wolfi", "Chainguard", "Alpaquita", "MinimOS", "BellSoft Hardened Containers":
		re = alpineRE
	case "AlmaLinux", "Rocky Linux", "Red Hat", "SUSE", "openSUSE", "Mageia", "openEuler":
		re = rpmRE
		if !strings.ContainsAny(s, "0123456789") {
			return false
		}
	case "NuGet":
		re = nugetRE
	case "RubyGems":
		re = gemRE
	case "Packagist":
		re = composRE
	case "Maven":
		re = mavenRE
		if strings.Contains(s, "${") {
			return false
		}
	default:
		re = otherRE
	}
	return re.MatchString(s)
}

// debianValid follows Debian policy 5.6.12: [epoch:]upstream[-revision], the
// upstream version starting with a digit.
func debianValid(s string) bool {
	if e, rest, ok := strings.Cut(s, ":"); ok {
		if !isDigits(e) {
			return false
		}
		s = rest
	}
	up := s
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		up = s[:i]
		rev := s[i+1:]
		if rev == "" || !onlyChars(rev, "+.~") {
			return false
		}
	}
	return up != "" && up[0] >= '0' && up[0] <= '9' && onlyChars(up, ".+~-")
}

func onlyChars(s, extra string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.ContainsRune(extra, c)) {
			return false
		}
	}
	return true
}

// errInvalid is returned for a string that is not a version of the scheme.
var errInvalid = errors.New("not a version of the ecosystem")

// versions parses and caches versions per scheme.
type versions map[versionKey]semantic.Version

type versionKey struct {
	sc scheme
	s  string
}

func (vs versions) parse(sc scheme, s string) (semantic.Version, error) {
	key := versionKey{sc, s}
	if v, ok := vs[key]; ok {
		if v == nil {
			return nil, errInvalid
		}
		return v, nil
	}
	v, err := parseVersion(sc, s)
	if err != nil {
		vs[key] = nil
		return nil, err
	}
	vs[key] = v
	return v, nil
}

func parseVersion(sc scheme, s string) (semantic.Version, error) {
	if !sc.valid(s) {
		return nil, errInvalid
	}
	if sc == semverScheme {
		return semantic.ParseSemverVersion(s), nil
	}
	v, err := semantic.Parse(s, string(sc))
	if err != nil {
		return nil, err
	}
	// Some parsers (Maven) report a bad token only when comparing.
	if _, err := v.Compare(v); err != nil {
		return nil, err
	}
	return v, nil
}

// Compare orders two versions of an OSV ecosystem the way Match does (the
// ECOSYSTEM order, or SemVer where rangeType is "SEMVER"). It fails for a string
// the ecosystem does not define or an ecosystem without a known order.
func Compare(rangeType, ecosystem, a, b string) (int, error) {
	sc := schemeOf(rangeType, ecosystem)
	va, err := parseVersion(sc, a)
	if err != nil {
		return 0, fmt.Errorf("vuln: %s version %q: %w", sc, a, err)
	}
	vb, err := parseVersion(sc, b)
	if err != nil {
		return 0, fmt.Errorf("vuln: %s version %q: %w", sc, b, err)
	}
	return va.Compare(vb)
}

// hit is one record that affects a package.
type hit struct {
	rec     *osv.Vulnerability
	eco     string
	aff     []*osv.Affected // the matching affected entries
	fixed   []string
	imports []goImport
}

// evaluate reports whether record r affects version of (eco, name), as the OSV
// schema's evaluation pseudo-code says: any affected entry for the package whose
// versions list holds the version exactly, or one of whose SEMVER or ECOSYSTEM
// ranges contains it. GIT ranges are ignored.
func (m *matcher) evaluate(r *osv.Vulnerability, eco, name, version string, p *sbom.Package) (hit, bool) {
	h := hit{rec: r, eco: eco}
	affected := false
	for i := range r.Affected {
		a := &r.Affected[i]
		if a.Package.Ecosystem != eco || NormalizeName(eco, a.Package.Name) != name {
			continue
		}
		in := slices.Contains(a.Versions, version)
		for _, rg := range a.Ranges {
			if rg.Type != osv.RangeSemver && rg.Type != osv.RangeEcosystem {
				continue
			}
			sc := schemeOf(rg.Type, eco)
			v, err := m.vers.parse(sc, version)
			if err != nil {
				m.warn("vuln: version cannot be parsed; range not evaluated",
					"package", name, "purl", p.PURL, "version", version, "ecosystem", eco, "scheme", string(sc), "record", r.ID, "err", err)
				continue
			}
			ok, fixed, bad := m.inRange(sc, rg.Events, v)
			if bad != "" {
				m.warn("vuln: record has a version its ecosystem cannot parse; range not evaluated",
					"record", r.ID, "ecosystem", eco, "scheme", string(sc), "version", bad, "package", name, "purl", p.PURL)
				continue
			}
			if ok {
				in = true
				if fixed != "" {
					h.fixed = append(h.fixed, fixed)
				}
			}
		}
		if in {
			affected = true
			h.aff = append(h.aff, a)
			h.imports = append(h.imports, goImports(eco, a.EcosystemSpecific)...)
		}
	}
	return h, affected
}

// inRange evaluates one range's events for v. It returns whether v is affected,
// the fixed version that ends v's affected interval (if any), and the first event
// version that does not parse (then nothing else is meaningful).
func (m *matcher) inRange(sc scheme, events []osv.Event, v semantic.Version) (bool, string, string) {
	// BeforeLimits: with limit events, v must be below one of them.
	limited, below := false, false
	for _, e := range events {
		if e.Limit == "" {
			continue
		}
		limited = true
		if strings.Contains(e.Limit, "*") {
			below = true
			continue
		}
		l, err := m.vers.parse(sc, e.Limit)
		if err != nil {
			return false, "", e.Limit
		}
		c, err := v.Compare(l)
		if err != nil {
			return false, "", e.Limit
		}
		if c < 0 {
			below = true
		}
	}
	// The walk over the sorted events ends in the state set by the greatest
	// event that fires (introduced <= v, fixed <= v, last_affected < v); among
	// equal versions the later event wins, as a stable sort would leave them.
	var (
		best      semantic.Version
		bestZero  bool // best is introduced "0"
		bestIntro bool
		haveBest  bool
		fixed     string
		fixedV    semantic.Version
		lastAbove semantic.Version // the smallest last_affected >= v
	)
	for _, e := range events {
		var s string
		intro := false
		switch {
		case e.Introduced != "":
			s, intro = e.Introduced, true
		case e.Fixed != "":
			s = e.Fixed
		case e.LastAffected != "":
			s = e.LastAffected
		default:
			continue
		}
		if intro && s == "0" {
			if !haveBest || bestZero {
				best, bestZero, bestIntro, haveBest = nil, true, true, true
			}
			continue
		}
		ev, err := m.vers.parse(sc, s)
		if err != nil {
			return false, "", s
		}
		c, err := v.Compare(ev)
		if err != nil {
			return false, "", s
		}
		fires := c >= 0
		if e.LastAffected != "" {
			fires = c > 0
			if !fires && (lastAbove == nil || cmpOr(ev, lastAbove) < 0) {
				lastAbove = ev
			}
		}
		if e.Fixed != "" && !fires && (fixedV == nil || cmpOr(ev, fixedV) < 0) {
			fixed, fixedV = s, ev
		}
		if !fires {
			continue
		}
		if !haveBest || bestZero || cmpOr(ev, best) >= 0 {
			best, bestZero, bestIntro, haveBest = ev, false, intro, true
		}
	}
	affected := haveBest && bestIntro && (!limited || below)
	if !affected {
		return false, "", ""
	}
	if lastAbove != nil && fixedV != nil && cmpOr(lastAbove, fixedV) < 0 {
		fixed = "" // the interval ends at a last_affected, with no known fix
	}
	return true, fixed, ""
}

// cmpOr compares two versions of one scheme; they parsed, so an error means
// the ecosystem's parser cannot order them, which counts as equal.
func cmpOr(a, b semantic.Version) int {
	c, err := a.Compare(b)
	if err != nil {
		return 0
	}
	return c
}

// sortVersions sorts and deduplicates versions by the ecosystem's order,
// falling back to SemVer and then to string order for ones it cannot parse.
func sortVersions(eco string, vs []string) []string {
	if len(vs) == 0 {
		return nil
	}
	type pv struct {
		s string
		v semantic.Version
	}
	sc := schemeOf(osv.RangeEcosystem, eco)
	ps := make([]pv, 0, len(vs))
	for _, s := range vs {
		v, err := parseVersion(sc, s)
		if err != nil {
			v = nil
		}
		ps = append(ps, pv{s, v})
	}
	slices.SortStableFunc(ps, func(a, b pv) int {
		switch {
		case a.v != nil && b.v != nil:
			if c, err := a.v.Compare(b.v); err == nil && c != 0 {
				return c
			}
		case a.v != nil:
			return -1
		case b.v != nil:
			return 1
		}
		return cmp.Compare(a.s, b.s)
	})
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if len(out) == 0 || out[len(out)-1] != p.s {
			out = append(out, p.s)
		}
	}
	return out
}

// goImport is one package of a Go advisory: the import path, the affected
// functions in it (none: the whole package) and the platforms it is limited to.
type goImport struct {
	Path    string   `json:"path"`
	Symbols []string `json:"symbols"`
	GOOS    []string `json:"goos"`
	GOARCH  []string `json:"goarch"`
}

// goImports reads the Go vulnerability database's ecosystem_specific.imports.
func goImports(eco string, raw json.RawMessage) []goImport {
	if eco != "Go" || len(raw) == 0 {
		return nil
	}
	var es struct {
		Imports []goImport `json:"imports"`
	}
	if json.Unmarshal(raw, &es) != nil {
		return nil
	}
	return es.Imports
}
