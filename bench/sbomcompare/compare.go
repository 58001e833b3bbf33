package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/tether-sec/tether/sbom"
)

// pkgSet is the packages one tool found, grouped by ecosystem (the purl type)
// and keyed by a lenient identity (see lenient). Each entry keeps the strict
// identity too, to count matches that need the lenient folding.
type pkgSet map[string]map[string]entry

// entry is one package identity in a pkgSet.
type entry struct {
	strict string // lowercased namespace/name@version
	dev    bool   // tether only: every occurrence is a development dependency
}

func (s pkgSet) add(eco, key string, dev bool) {
	if s[eco] == nil {
		s[eco] = map[string]entry{}
	}
	lk := lenient(eco, key)
	if e, ok := s[eco][lk]; ok {
		e.dev = e.dev && dev
		s[eco][lk] = e
		return
	}
	s[eco][lk] = entry{strict: key, dev: dev}
}

func (s pkgSet) size() int {
	n := 0
	for _, m := range s {
		n += len(m)
	}
	return n
}

// lenient folds spellings of one version that tools write differently, so that
// coverage counts a package once found: a Go module version with or without its
// "v", a RubyGems platform suffix ("1.16.3-x86_64-linux").
func lenient(eco, key string) string {
	i := strings.LastIndex(key, "@")
	if i < 0 {
		return key
	}
	name, version := key[:i], key[i+1:]
	switch eco {
	case "golang":
		version = strings.TrimPrefix(version, "v")
	case "gem":
		version, _, _ = strings.Cut(version, "-")
	}
	return name + "@" + version
}

// syftTypes maps syft's package types to purl types, for the few packages syft
// writes without a purl (local Cargo workspace members, for one).
var syftTypes = map[string]string{
	"rust-crate":     "cargo",
	"go-module":      "golang",
	"npm":            "npm",
	"python":         "pypi",
	"java-archive":   "maven",
	"jenkins-plugin": "maven",
	"gem":            "gem",
	"php-composer":   "composer",
	"dotnet":         "nuget",
	"deb":            "deb",
	"rpm":            "rpm",
	"apk":            "apk",
}

// syftDoc is the part of syft's syft-json output the comparison reads.
type syftDoc struct {
	Artifacts []struct {
		Name, Version, Type, PURL, FoundBy string
	} `json:"artifacts"`
	Files []struct {
		Unknowns []string `json:"unknowns"`
	} `json:"files"`
}

// readSyft returns the package count, the normalized package set and the
// number of files with unknowns (files syft could not read) of a syft-json file.
func readSyft(file string) (int, pkgSet, int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, nil, 0, err
	}
	var d syftDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return 0, nil, 0, fmt.Errorf("%s: %w", file, err)
	}
	unknowns := 0
	for _, f := range d.Files {
		if len(f.Unknowns) > 0 {
			unknowns++
		}
	}
	set := pkgSet{}
	for _, a := range d.Artifacts {
		eco, key := normPURL(a.PURL)
		if eco == "" {
			eco = syftTypes[a.Type]
			if eco == "" {
				eco = "(no purl) " + a.Type
			}
			key = normName(eco, "", a.Name) + "@" + a.Version
		}
		set.add(eco, key, false)
	}
	return len(d.Artifacts), set, unknowns, nil
}

// tetherSet returns the normalized package set of a tether SBOM.
func tetherSet(s *sbom.SBOM) pkgSet {
	set := pkgSet{}
	for _, p := range s.Packages {
		eco, key := normPURL(p.PURL)
		if eco == "" {
			eco, key = "(no purl) "+p.Type, normName(p.Type, "", p.Name)+"@"+p.Version
		}
		set.add(eco, key, p.Dev)
	}
	return set
}

var pypiSep = regexp.MustCompile(`[-_.]+`)

// normName lowercases a purl namespace and name; PyPI names are also normalized
// as PEP 503 does (runs of "-", "_", "." become "-").
func normName(typ, ns, name string) string {
	name = strings.ToLower(name)
	ns = strings.ToLower(ns)
	if typ == "pypi" {
		name = pypiSep.ReplaceAllString(name, "-")
	}
	if ns != "" {
		return ns + "/" + name
	}
	return name
}

// normPURL splits a purl into its type (the ecosystem) and a key of lowercased
// namespace/name and the version. Qualifiers and subpath are dropped, except a
// Debian or RPM "epoch" qualifier, which is folded into the version as "E:V".
func normPURL(p string) (eco, key string) {
	rest, ok := strings.CutPrefix(p, "pkg:")
	if !ok {
		return "", ""
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, rawQuals, _ := strings.Cut(rest, "?")
	typ, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return "", ""
	}
	typ = strings.ToLower(typ)
	version := ""
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest, version = rest[:i], rest[i+1:]
		if v, err := url.PathUnescape(version); err == nil {
			version = v
		}
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	for i, s := range segs {
		if v, err := url.PathUnescape(s); err == nil {
			segs[i] = v
		}
	}
	name := segs[len(segs)-1]
	ns := strings.Join(segs[:len(segs)-1], "/")
	if q, err := url.ParseQuery(rawQuals); err == nil {
		if e := q.Get("epoch"); e != "" && e != "0" && !strings.Contains(version, ":") {
			version = e + ":" + version
		}
	}
	return typ, normName(typ, ns, name) + "@" + version
}

// ecoRow compares one ecosystem of two package sets.
type ecoRow struct {
	eco                string
	syft, tether, both int
	// exact counts the matches whose strict identities are equal too.
	exact int
	// tetherDev counts tetherOnly entries that are development dependencies.
	tetherDev            int
	syftOnly, tetherOnly []string
}

func compareSets(syft, tether pkgSet) []ecoRow {
	ecos := map[string]bool{}
	for e := range syft {
		ecos[e] = true
	}
	for e := range tether {
		ecos[e] = true
	}
	var rows []ecoRow
	for e := range ecos {
		r := ecoRow{eco: e, syft: len(syft[e]), tether: len(tether[e])}
		for k, se := range syft[e] {
			if te, ok := tether[e][k]; ok {
				r.both++
				if te.strict == se.strict {
					r.exact++
				}
			} else {
				r.syftOnly = append(r.syftOnly, se.strict)
			}
		}
		for k, te := range tether[e] {
			if _, ok := syft[e][k]; !ok {
				s := te.strict
				if te.dev {
					s += "(dev)"
					r.tetherDev++
				}
				r.tetherOnly = append(r.tetherOnly, s)
			}
		}
		sort.Strings(r.syftOnly)
		sort.Strings(r.tetherOnly)
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].syft != rows[j].syft {
			return rows[i].syft > rows[j].syft
		}
		return rows[i].eco < rows[j].eco
	})
	return rows
}

// coverage formats both/of as a percentage, "-" when of is 0.
func coverage(both, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(both)/float64(of))
}
