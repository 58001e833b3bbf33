package lockdeps

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// pnpmRef is a resolved dependency: "1.2.3(peer@4.5.6)", an alias's own key, or
// (lockfile 6 and later) a mapping with the resolved "version".
type pnpmRef string

func (r *pnpmRef) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*r = pnpmRef(n.Value)
	case yaml.MappingNode:
		var v struct {
			Version string `yaml:"version"`
		}
		if err := n.Decode(&v); err != nil {
			return err
		}
		*r = pnpmRef(v.Version)
	default:
		return fmt.Errorf("line %d: expected a version", n.Line)
	}
	return nil
}

// pnpmDeps are the dependency maps of a project (importer) or a package.
type pnpmDeps struct {
	Dependencies         map[string]pnpmRef `yaml:"dependencies"`
	DevDependencies      map[string]pnpmRef `yaml:"devDependencies"`
	OptionalDependencies map[string]pnpmRef `yaml:"optionalDependencies"`
}

type pnpmPackage struct {
	Name     string `yaml:"name"`
	Version  string `yaml:"version"`
	pnpmDeps `yaml:",inline"`
}

// pnpmDoc is one YAML document of pnpm-lock.yaml (pnpm 10 may prefix the main one
// with a document for its own installation).
type pnpmDoc struct {
	LockfileVersion string `yaml:"lockfileVersion"`
	// Lockfile 5 and 6 without workspaces keep the root project's maps at top level.
	pnpmDeps  `yaml:",inline"`
	Importers map[string]pnpmDeps   `yaml:"importers"`
	Packages  map[string]*pnpmPackage `yaml:"packages"`
	Snapshots map[string]*pnpmPackage `yaml:"snapshots"` // lockfile 9
}

func parsePnpm(b *builder, content []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	for {
		var doc pnpmDoc
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := pnpmGraph(b, &doc); err != nil {
			return err
		}
	}
}

// pnpmStripPeers drops the peer suffix of a lockfile 6+ key or version:
// "1.0.0(react@18.2.0)" → "1.0.0".
func pnpmStripPeers(s string) string {
	s, _, _ = strings.Cut(s, "(")
	return s
}

// pnpmParseKey names the package a packages/snapshots key denotes:
// "/name/1.0.0_peer@1.0.0" (lockfile 5), "/name@1.0.0(peer@1.0.0)" (6),
// "name@1.0.0(peer@1.0.0)" (9). Keys of git and tarball packages do not parse;
// their entries carry name and version.
func pnpmParseKey(key string, major int) (name, version string) {
	switch {
	case major < 6:
		rest, ok := strings.CutPrefix(key, "/")
		if !ok {
			return "", ""
		}
		n := 2
		if strings.HasPrefix(rest, "@") {
			n = 3
		}
		segs := strings.SplitN(rest, "/", n)
		if len(segs) < n {
			return "", ""
		}
		version, _, _ = strings.Cut(segs[n-1], "_")
		return strings.Join(segs[:n-1], "/"), version
	case major < 9:
		rest, ok := strings.CutPrefix(key, "/")
		if !ok {
			return "", ""
		}
		key = rest
	}
	name, version, _ = splitDescriptor(key)
	return name, pnpmStripPeers(version)
}

func pnpmGraph(b *builder, doc *pnpmDoc) error {
	major := 9
	if v := doc.LockfileVersion; v != "" {
		digits, _, _ := strings.Cut(v, ".")
		m, err := strconv.Atoi(digits)
		if err != nil {
			return fmt.Errorf("lockfileVersion %.20q: want a number", v)
		}
		major = m
	}
	entries, meta := doc.Packages, map[string]*pnpmPackage(nil)
	if len(doc.Snapshots) > 0 {
		entries, meta = doc.Snapshots, doc.Packages
	}

	keys := make(map[string]Key, len(entries))
	for k, e := range entries {
		name, version := pnpmParseKey(k, major)
		for _, src := range []*pnpmPackage{meta[pnpmStripPeers(k)], e} {
			if src != nil && src.Name != "" {
				name = src.Name
			}
			if src != nil && src.Version != "" {
				version = src.Version
			}
		}
		if name != "" {
			keys[k] = Key{Npm, name, version}
		}
	}
	resolve := func(name string, ref pnpmRef) (Key, bool) {
		r := string(ref)
		if r == "" || strings.HasPrefix(r, "link:") {
			return Key{}, false // a workspace project: not a package in the lockfile
		}
		for _, c := range []string{name + "@" + r, "/" + name + "@" + r, "/" + name + "/" + r, r, "/" + r} {
			if k, ok := keys[c]; ok {
				return k, true
			}
		}
		return Key{}, false
	}

	projects := []pnpmDeps{doc.pnpmDeps}
	for _, imp := range doc.Importers {
		projects = append(projects, imp)
	}
	for _, p := range projects {
		for _, deps := range []map[string]pnpmRef{p.Dependencies, p.DevDependencies, p.OptionalDependencies} {
			for name, ref := range deps {
				if to, ok := resolve(name, ref); ok {
					if err := b.root(to); err != nil {
						return err
					}
				}
			}
		}
	}
	for k, e := range entries {
		from, ok := keys[k]
		if !ok || e == nil {
			continue
		}
		for _, deps := range []map[string]pnpmRef{e.Dependencies, e.OptionalDependencies} {
			for name, ref := range deps {
				if to, ok := resolve(name, ref); ok {
					if err := b.edge(from, to, false); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}
