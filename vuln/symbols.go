package vuln

import (
	"slices"

	"github.com/tether-sec/tether/gosymbols"
)

// codePresence checks a Go advisory's imports against the function table of the
// binary the package was found in, as govulncheck's binary mode does: an import
// limited to other platforms does not apply; one without symbols is present when
// any function of its package is; otherwise any of its symbols must be.
func codePresence(tab *gosymbols.Table, imports []goImport) (CodePresence, []string) {
	if tab == nil || len(imports) == 0 {
		return "", nil
	}
	var found []string
	for _, im := range imports {
		if !platformMatches(tab.GOOS, im.GOOS) || !platformMatches(tab.GOARCH, im.GOARCH) {
			continue
		}
		if len(im.Symbols) == 0 {
			if tab.HasPackage(im.Path) {
				found = append(found, im.Path)
			}
			continue
		}
		for _, s := range im.Symbols {
			if tab.Has(im.Path, s) {
				found = append(found, im.Path+"."+s)
			}
		}
	}
	if len(found) > 0 {
		slices.Sort(found)
		return CodePresent, slices.Compact(found)
	}
	if !tab.Inlined {
		// A pre-1.16 table names only out-of-line functions.
		return "", nil
	}
	return CodeAbsent, nil
}

// platformMatches reports whether a binary built for have ("linux"; empty when
// unknown) is among the platforms of an import (none: all).
func platformMatches(have string, list []string) bool {
	return len(list) == 0 || have == "" || slices.Contains(list, have)
}
