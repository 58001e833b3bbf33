package sbom

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"

	"github.com/google/osv-scalibr/extractor/filesystem/language/golang/gobinary"

	"github.com/tether-sec/tether/gosymbols"
)

// goSymbolTables reads the function table of every Go binary that packages were
// found in (paths relative to root), once per binary.
func goSymbolTables(ctx context.Context, root string, pkgs []Package, log *slog.Logger) map[string]*gosymbols.Table {
	out := map[string]*gosymbols.Table{}
	for _, p := range pkgs {
		if p.FoundBy != gobinary.Name || len(p.Locations) == 0 {
			continue
		}
		path := p.Locations[0].Path
		if _, done := out[path]; done {
			continue
		}
		tab, err := gosymbols.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
		if err != nil {
			// A binary whose table cannot be read still has its modules; their
			// symbol questions stay unanswered.
			level := slog.LevelWarn
			if errors.Is(err, gosymbols.ErrNoSymbols) {
				level = slog.LevelDebug
			}
			log.Log(ctx, level, "sbom: cannot read the functions of a Go binary", "path", path, "err", err)
			tab = nil
		}
		out[path] = tab
	}
	for path, tab := range out {
		if tab == nil {
			delete(out, path)
		}
	}
	return out
}

// attachGoSymbols gives the Go packages found in the binary at path its table.
func attachGoSymbols(pkgs []Package, path string, tab *gosymbols.Table) {
	for i := range pkgs {
		if pkgs[i].FoundBy == gobinary.Name && firstPath(pkgs[i]) == path {
			pkgs[i].GoSymbols = tab
		}
	}
}
