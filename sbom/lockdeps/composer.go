package lockdeps

import (
	"bytes"
	"encoding/json"
	"strings"
)

// phpMap is a composer.lock name → constraint map. PHP writes an empty one as [].
type phpMap map[string]string

func (m *phpMap) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "[]" {
		*m = nil
		return nil
	}
	return json.Unmarshal(data, (*map[string]string)(m))
}

type composerPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Require phpMap `json:"require"`
	// A package that replaces or provides another satisfies requirements on it.
	Replace phpMap `json:"replace"`
	Provide phpMap `json:"provide"`
}

func parseComposer(b *builder, content []byte) error {
	var lock struct {
		Packages    []composerPackage `json:"packages"`
		PackagesDev []composerPackage `json:"packages-dev"`
	}
	if err := json.Unmarshal(content, &lock); err != nil {
		return err
	}
	pkgs := append(lock.Packages, lock.PackagesDev...)
	byName, standIn := index{}, index{}
	for _, p := range pkgs {
		k := Key{Composer, p.Name, p.Version}
		byName.add(strings.ToLower(p.Name), k)
		for _, m := range []phpMap{p.Replace, p.Provide} {
			for name := range m {
				standIn.add(strings.ToLower(name), k)
			}
		}
	}
	for _, p := range pkgs {
		from := Key{Composer, p.Name, p.Version}
		for name := range p.Require {
			// Platform requirements (php, ext-*, lib-*, composer-plugin-api) have no
			// vendor: they are not packages.
			if !strings.Contains(name, "/") {
				continue
			}
			name = strings.ToLower(name)
			to, ok := byName.unique(name)
			if !ok && len(byName[name]) == 0 {
				to, ok = standIn.unique(name)
			}
			if ok {
				if err := b.edge(from, to, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
