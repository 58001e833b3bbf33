package lockdeps

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// pnpmDep is one resolved dependency: its name and reference, "1.2.3(peer@4.5.6)"
// or an alias's own key.
type pnpmDep struct{ name, ref string }

// pnpmDeps reads the dependencies, devDependencies and optionalDependencies of a
// project or a package. A reference is a string or (lockfile 6 and later, in
// importers) a mapping with the resolved "version".
func pnpmDeps(key string, v *yaml.Node, what string, into *[]pnpmDep) error {
	if key != "dependencies" && key != "devDependencies" && key != "optionalDependencies" {
		return nil
	}
	kv, err := yamlPairs(v, what+"."+key)
	if err != nil {
		return err
	}
	for i := 0; i < len(kv); i += 2 {
		ref, dwhat := kv[i+1], what+"."+key+"."+kv[i].Value
		var s string
		if ref.Kind == yaml.MappingNode {
			err = yamlFields(ref, dwhat, map[string]*string{"version": &s}, nil)
		} else {
			s, err = yamlScalar(ref, dwhat)
		}
		if err != nil {
			return err
		}
		*into = append(*into, pnpmDep{kv[i].Value, s})
	}
	return nil
}

// pnpmPackage is one entry of packages (or, lockfile 9, snapshots).
type pnpmPackage struct {
	name, version string
	deps          []pnpmDep
}

func pnpmPackages(n *yaml.Node, what string) (map[string]*pnpmPackage, error) {
	kv, err := yamlPairs(n, what)
	if err != nil {
		return nil, err
	}
	pkgs := make(map[string]*pnpmPackage, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		p := &pnpmPackage{}
		err := yamlFields(kv[i+1], what, map[string]*string{"name": &p.name, "version": &p.version},
			func(key string, v *yaml.Node) error {
				if key == "devDependencies" { // not installed for a package
					return nil
				}
				return pnpmDeps(key, v, what, &p.deps)
			})
		if err != nil {
			return nil, err
		}
		pkgs[kv[i].Value] = p
	}
	return pkgs, nil
}

// parsePnpm reads pnpm-lock.yaml, every document of it (pnpm 10 may put one for
// its own installation before the project's).
func parsePnpm(b *builder, content []byte) error {
	docs, err := yamlDocs(content)
	if err != nil {
		return err
	}
	for _, doc := range docs {
		if err := pnpmGraph(b, doc); err != nil {
			return err
		}
	}
	return nil
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

func pnpmGraph(b *builder, doc *yaml.Node) error {
	var (
		lockfileVersion string
		projects        [][]pnpmDep // the root project's (lockfile 5 and 6 without workspaces) and the importers'
		rootDeps        []pnpmDep
		packages        map[string]*pnpmPackage
		snapshots       map[string]*pnpmPackage // lockfile 9
	)
	err := yamlFields(doc, "lockfile", map[string]*string{"lockfileVersion": &lockfileVersion},
		func(key string, v *yaml.Node) (err error) {
			switch key {
			case "importers":
				kv, err := yamlPairs(v, key)
				if err != nil {
					return err
				}
				for i := 0; i < len(kv); i += 2 {
					var deps []pnpmDep
					what := "importers." + kv[i].Value
					if err := yamlFields(kv[i+1], what, nil, func(key string, v *yaml.Node) error {
						return pnpmDeps(key, v, what, &deps)
					}); err != nil {
						return err
					}
					projects = append(projects, deps)
				}
			case "packages":
				packages, err = pnpmPackages(v, key)
			case "snapshots":
				snapshots, err = pnpmPackages(v, key)
			default:
				err = pnpmDeps(key, v, "lockfile", &rootDeps)
			}
			return err
		})
	if err != nil {
		return err
	}
	projects = append(projects, rootDeps)

	major := 9
	if v := lockfileVersion; v != "" {
		digits, _, _ := strings.Cut(v, ".")
		m, err := strconv.Atoi(digits)
		if err != nil {
			return fmt.Errorf("lockfileVersion %.20q: want a number", v)
		}
		major = m
	}
	entries, meta := packages, map[string]*pnpmPackage(nil)
	if len(snapshots) > 0 {
		entries, meta = snapshots, packages
	}

	keys := make(map[string]Key, len(entries))
	for k, e := range entries {
		name, version := pnpmParseKey(k, major)
		for _, src := range []*pnpmPackage{meta[pnpmStripPeers(k)], e} {
			if src != nil && src.name != "" {
				name = src.name
			}
			if src != nil && src.version != "" {
				version = src.version
			}
		}
		if name != "" {
			keys[k] = Key{Npm, name, version}
		}
	}
	resolve := func(d pnpmDep) (Key, bool) {
		if d.ref == "" || strings.HasPrefix(d.ref, "link:") {
			return Key{}, false // a workspace project: not a package in the lockfile
		}
		for _, c := range []string{d.name + "@" + d.ref, "/" + d.name + "@" + d.ref, "/" + d.name + "/" + d.ref, d.ref, "/" + d.ref} {
			if k, ok := keys[c]; ok {
				return k, true
			}
		}
		return Key{}, false
	}

	for _, deps := range projects {
		for _, d := range deps {
			if to, ok := resolve(d); ok {
				if err := b.root(to); err != nil {
					return err
				}
			}
		}
	}
	for k, e := range entries {
		from, ok := keys[k]
		if !ok {
			continue
		}
		for _, d := range e.deps {
			if to, ok := resolve(d); ok {
				if err := b.edge(from, to, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
