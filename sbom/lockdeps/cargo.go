package lockdeps

import "strings"

// cargoPackage is one [[package]] of Cargo.lock.
type cargoPackage struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
	// Source is empty for workspace members and path dependencies.
	Source string `toml:"source"`
	// Dependencies are "name", "name version" or "name version (source)", as
	// much as it takes to be unambiguous (lockfile v1 always writes all three).
	Dependencies []string `toml:"dependencies"`
}

func parseCargo(b *builder, content []byte) error {
	var lock struct {
		Package []cargoPackage `toml:"package"`
		Root    *cargoPackage  `toml:"root"` // lockfiles of Cargo before 1.19 or so
	}
	if err := decodeTOML(content, &lock); err != nil {
		return err
	}
	pkgs := lock.Package
	if lock.Root != nil {
		pkgs = append(pkgs, *lock.Root)
	}
	ix := index{}
	for _, p := range pkgs {
		k := Key{Cargo, p.Name, p.Version}
		ix.add(p.Name, k)
		ix.add(p.Name+" "+p.Version, k)
		ix.add(p.Name+" "+p.Version+" ("+p.Source+")", k)
	}
	for _, p := range pkgs {
		from := Key{Cargo, p.Name, p.Version}
		for _, d := range p.Dependencies {
			to, ok := ix.unique(strings.Join(strings.Fields(d), " "))
			if !ok {
				continue
			}
			if p.Source == "" {
				if err := b.root(to); err != nil {
					return err
				}
			}
			if err := b.edge(from, to, false); err != nil {
				return err
			}
		}
	}
	return nil
}
