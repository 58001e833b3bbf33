package lockdeps

import (
	"encoding/json"
	"fmt"
	"strings"
)

// npmPackage is one entry of a package-lock.json "packages" map (lockfileVersion 2
// and 3), keyed by its folder relative to the project root.
type npmPackage struct {
	Name                 string            `json:"name"`
	Version              string            `json:"version"`
	Resolved             string            `json:"resolved"`
	Link                 bool              `json:"link"`
	Dependencies         map[string]string `json:"dependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
}

// npmV1Dep is one entry of a lockfileVersion 1 "dependencies" tree.
type npmV1Dep struct {
	Version      string               `json:"version"`
	Requires     map[string]string    `json:"requires"`
	Dependencies map[string]*npmV1Dep `json:"dependencies"`
}

func parseNpm(b *builder, content []byte) error {
	var top struct {
		Packages     json.RawMessage `json:"packages"`
		Dependencies json.RawMessage `json:"dependencies"`
	}
	if err := json.Unmarshal(content, &top); err != nil {
		return err
	}
	// lockfileVersion 2 carries both; "packages" is the complete one.
	if len(top.Packages) > 0 && string(top.Packages) != "null" {
		var pkgs map[string]*npmPackage
		if err := json.Unmarshal(top.Packages, &pkgs); err != nil {
			return fmt.Errorf("packages: %w", err)
		}
		return npmPackages(b, pkgs)
	}
	if len(top.Dependencies) > 0 {
		var deps map[string]*npmV1Dep
		if err := json.Unmarshal(top.Dependencies, &deps); err != nil {
			return fmt.Errorf("dependencies: %w", err)
		}
		return npmV1(b, &npmScope{deps: deps}, 0)
	}
	return nil
}

// npmDir is a folder in the tree the "packages" keys describe.
type npmDir struct {
	parent   *npmDir
	seg      string
	children map[string]*npmDir
	path     string
	pkg      *npmPackage
}

func (d *npmDir) child(seg string) *npmDir {
	c := d.children[seg]
	if c == nil {
		if d.children == nil {
			d.children = map[string]*npmDir{}
		}
		c = &npmDir{parent: d, seg: seg}
		d.children[seg] = c
	}
	return c
}

// find looks name up from folder d as Node's require does: d/node_modules/name,
// then each ancestor's node_modules (skipping folders that are node_modules).
func (d *npmDir) find(name string) *npmDir {
	scope, base, scoped := strings.Cut(name, "/")
	if name == "" || scoped && (!strings.HasPrefix(scope, "@") || strings.Contains(base, "/")) {
		return nil
	}
	for ; d != nil; d = d.parent {
		if d.seg == "node_modules" {
			continue
		}
		c := d.children["node_modules"]
		if c == nil {
			continue
		}
		if c = c.children[scope]; c != nil && scoped {
			c = c.children[base]
		}
		if c != nil && c.pkg != nil {
			return c
		}
	}
	return nil
}

// npmNameFromPath derives a package's name from its folder: what follows the last
// node_modules/, or else the last segment.
func npmNameFromPath(p string) string {
	if i := strings.LastIndex(p, "node_modules/"); i >= 0 {
		return p[i+len("node_modules/"):]
	}
	return p[strings.LastIndex(p, "/")+1:]
}

func npmPackages(b *builder, pkgs map[string]*npmPackage) error {
	root := &npmDir{}
	linkName := map[string]string{} // link target folder → the name it is linked as
	for p, e := range pkgs {
		if e == nil {
			continue
		}
		if strings.Count(p, "/") > 4*maxNesting {
			return errTooLarge(fmt.Sprintf("package path nests deeper than %d folders: %.80q…", 4*maxNesting, p))
		}
		d := root
		if p != "" {
			for seg := range strings.SplitSeq(p, "/") {
				d = d.child(seg)
			}
		}
		d.pkg, d.path = e, p
		if e.Link && e.Resolved != "" {
			linkName[e.Resolved] = npmNameFromPath(p)
		}
	}
	keyOf := func(d *npmDir) (Key, bool) {
		if d.pkg.Link { // a workspace member or file: dependency, linked into node_modules
			t, ok := pkgs[d.pkg.Resolved]
			if !ok || t == nil || t.Link {
				return Key{}, false
			}
			name := t.Name
			if name == "" {
				name = npmNameFromPath(d.path)
			}
			return Key{Npm, name, t.Version}, true
		}
		name := d.pkg.Name
		if name == "" {
			name = linkName[d.path]
		}
		if name == "" {
			name = npmNameFromPath(d.path)
		}
		return Key{Npm, name, d.pkg.Version}, d.path != ""
	}

	var walk func(d *npmDir) error
	walk = func(d *npmDir) error {
		for _, c := range d.children {
			if err := walk(c); err != nil {
				return err
			}
		}
		if d.pkg == nil || d.pkg.Link {
			return nil
		}
		// The project's own packages: the root and folders outside node_modules
		// (workspace members, file: dependencies). Their dependencies are roots.
		own := !strings.Contains("/"+d.path+"/", "/node_modules/")
		from, hasKey := keyOf(d)
		for _, group := range []struct {
			deps map[string]string
			dev  bool
		}{
			{d.pkg.Dependencies, false},
			{d.pkg.OptionalDependencies, false},
			{d.pkg.PeerDependencies, false},
			{d.pkg.DevDependencies, true},
		} {
			for name := range group.deps {
				t := d.find(name)
				if t == nil {
					continue // not installed: another platform's optional, a missing peer
				}
				to, ok := keyOf(t)
				if !ok {
					continue
				}
				if own {
					if err := b.root(to); err != nil {
						return err
					}
				}
				if hasKey {
					if err := b.edge(from, to, group.dev); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	return walk(root)
}

// npmScope is one level of a lockfileVersion 1 tree: the packages installed in one
// node_modules folder.
type npmScope struct {
	deps   map[string]*npmV1Dep
	parent *npmScope
}

// npmV1Key names an entry of a version 1 tree. An alias keeps the real name in
// its version: "npm:real-name@1.2.3".
func npmV1Key(name string, d *npmV1Dep) Key {
	v := d.Version
	if rest, ok := strings.CutPrefix(v, "npm:"); ok {
		if i := strings.LastIndex(rest, "@"); i > 0 {
			name, v = rest[:i], rest[i+1:]
		}
	}
	return Key{Npm, name, v}
}

func npmV1(b *builder, s *npmScope, depth int) error {
	if depth > maxNesting {
		return errTooLarge(fmt.Sprintf("dependencies nest deeper than %d levels", maxNesting))
	}
	for name, d := range s.deps {
		if d == nil {
			continue
		}
		from := npmV1Key(name, d)
		inner := &npmScope{deps: d.Dependencies, parent: s}
		for req := range d.Requires {
			for sc := inner; sc != nil; sc = sc.parent {
				if t := sc.deps[req]; t != nil {
					if err := b.edge(from, npmV1Key(req, t), false); err != nil {
						return err
					}
					break
				}
			}
		}
		if len(d.Dependencies) > 0 {
			if err := npmV1(b, inner, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
