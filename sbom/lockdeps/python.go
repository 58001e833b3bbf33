package lockdeps

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// NormalizePyPI normalizes a Python project name per PEP 503:
// re.sub(r"[-_.]+", "-", name).lower(). Project names are ASCII.
func NormalizePyPI(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep {
			b.WriteByte('-')
			sep = false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	if sep {
		b.WriteByte('-')
	}
	return b.String()
}

// maxCandidates bounds the versions of one name a range is matched against.
const maxCandidates = 64

func parsePoetry(b *builder, content []byte) error {
	var lock struct {
		Package []struct {
			Name    string `toml:"name"`
			Version string `toml:"version"`
			// A constraint string, a table with "version", or an array of such
			// tables for different markers.
			Dependencies map[string]any `toml:"dependencies"`
		} `toml:"package"`
	}
	if err := decodeTOML(content, &lock); err != nil {
		return err
	}
	type candidate struct {
		key Key
		v   pyVersion
		ok  bool // the version parses
	}
	byName := map[string][]candidate{}
	for _, p := range lock.Package {
		n := NormalizePyPI(p.Name)
		k := Key{PyPI, p.Name, p.Version}
		if n == "" || len(byName[n]) == maxCandidates || slices.ContainsFunc(byName[n], func(c candidate) bool { return c.key == k }) {
			continue
		}
		v, err := parsePyVersion(p.Version)
		byName[n] = append(byName[n], candidate{k, v, err == nil})
	}
	for _, p := range lock.Package {
		from := Key{PyPI, p.Name, p.Version}
		for name, spec := range p.Dependencies {
			cands := byName[NormalizePyPI(name)]
			if len(cands) == 1 { // the lock pins one version: that is the one
				if err := b.edge(from, cands[0].key, false); err != nil {
					return err
				}
				continue
			}
			// Several versions for different environments: each alternative
			// constraint picks the versions it admits.
			for _, s := range poetryConstraints(spec) {
				c, err := parsePyConstraint(s)
				if err != nil {
					continue
				}
				for _, cand := range cands {
					if cand.ok && c.match(cand.v, cand.key.Version) {
						if err := b.edge(from, cand.key, false); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

// poetryConstraints lists the version constraints of a [package.dependencies]
// value.
func poetryConstraints(spec any) []string {
	switch v := spec.(type) {
	case string:
		return []string{v}
	case map[string]any:
		if s, ok := v["version"].(string); ok {
			return []string{s}
		}
	case []map[string]any:
		var out []string
		for _, t := range v {
			out = append(out, poetryConstraints(t)...)
		}
		return out
	case []any:
		var out []string
		for _, t := range v {
			out = append(out, poetryConstraints(t)...)
		}
		return out
	}
	return nil
}

// uvDep is one dependency of a uv.lock package. Version and source appear when
// the name alone is ambiguous.
type uvDep struct {
	Name    string         `toml:"name"`
	Version string         `toml:"version"`
	Source  map[string]any `toml:"source"`
}

func parseUv(b *builder, content []byte) error {
	var lock struct {
		Manifest struct {
			Members []string `toml:"members"`
		} `toml:"manifest"`
		Package []struct {
			Name                 string             `toml:"name"`
			Version              string             `toml:"version"`
			Source               map[string]any     `toml:"source"`
			Dependencies         []uvDep            `toml:"dependencies"`
			OptionalDependencies map[string][]uvDep `toml:"optional-dependencies"`
			DevDependencies      map[string][]uvDep `toml:"dev-dependencies"`
		} `toml:"package"`
	}
	if err := decodeTOML(content, &lock); err != nil {
		return err
	}
	members := map[string]bool{}
	for _, m := range lock.Manifest.Members {
		members[NormalizePyPI(m)] = true
	}
	ix := index{}
	for _, p := range lock.Package {
		k := Key{PyPI, p.Name, p.Version}
		n := NormalizePyPI(p.Name)
		ix.add(n, k)
		ix.add(n+" "+p.Version, k)
		ix.add(n+" "+p.Version+" "+uvSource(p.Source), k)
		ix.add(n+" "+uvSource(p.Source), k)
	}
	for _, p := range lock.Package {
		from := Key{PyPI, p.Name, p.Version}
		// The project itself: the package at "." (editable or virtual) and the
		// workspace members.
		own := members[NormalizePyPI(p.Name)] || p.Source["editable"] == "." || p.Source["virtual"] == "."
		groups := []struct {
			deps []uvDep
			dev  bool
		}{{p.Dependencies, false}}
		for _, extra := range slices.Sorted(maps.Keys(p.OptionalDependencies)) {
			groups = append(groups, struct {
				deps []uvDep
				dev  bool
			}{p.OptionalDependencies[extra], false})
		}
		for _, group := range slices.Sorted(maps.Keys(p.DevDependencies)) {
			groups = append(groups, struct {
				deps []uvDep
				dev  bool
			}{p.DevDependencies[group], true})
		}
		for _, g := range groups {
			for _, d := range g.deps {
				lookup := NormalizePyPI(d.Name)
				switch {
				case d.Version != "" && d.Source != nil:
					lookup += " " + d.Version + " " + uvSource(d.Source)
				case d.Version != "":
					lookup += " " + d.Version
				case d.Source != nil:
					lookup += " " + uvSource(d.Source)
				}
				to, ok := ix.unique(lookup)
				if !ok {
					continue
				}
				if own {
					if err := b.root(to); err != nil {
						return err
					}
				}
				if err := b.edge(from, to, g.dev); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// uvSource renders a source table ({ registry = "…" }, { git = "…" }, …) as a
// comparable string.
func uvSource(src map[string]any) string {
	var sb strings.Builder
	for _, k := range slices.Sorted(maps.Keys(src)) {
		fmt.Fprintf(&sb, "%s=%v;", k, src[k])
	}
	return sb.String()
}
