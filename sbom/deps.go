package sbom

import (
	"cmp"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tether-sec/tether/sbom/lockdeps"
)

// maxLockfile bounds a lockfile read for its dependency graph.
const maxLockfile = 64 << 20

// depEdge is one dependency a lockfile records, by the lockfile's path: resolved to
// package IDs once the SBOM's packages are final.
type depEdge struct {
	Path string       `json:"path"`
	From lockdeps.Key `json:"from"`
	To   lockdeps.Key `json:"to"`
	Dev  bool         `json:"dev,omitempty"`
}

// lockfileEdges reads the dependency graph of every lockfile among the packages'
// locations, under root. A lockfile that cannot be read or parsed is a problem; its
// packages stay.
func lockfileEdges(root string, pkgs []Package, log *slog.Logger) ([]depEdge, []Problem) {
	seen := map[string]bool{}
	var edges []depEdge
	var probs []Problem
	for _, p := range pkgs {
		for _, l := range p.Locations {
			if seen[l.Path] || !lockdeps.Supported(l.Path) {
				continue
			}
			seen[l.Path] = true
			full := filepath.Join(root, filepath.FromSlash(l.Path))
			fi, err := os.Stat(full)
			if err != nil || fi.Size() > maxLockfile {
				continue
			}
			b, err := os.ReadFile(full)
			if err != nil {
				continue
			}
			g, err := lockdeps.Parse(l.Path, b)
			if err != nil {
				log.Debug("sbom: lockfile dependency graph", "path", l.Path, "err", err)
				probs = append(probs, Problem{Path: l.Path, Message: "dependency graph: " + err.Error()})
				continue
			}
			for _, e := range g.Edges {
				edges = append(edges, depEdge{Path: l.Path, From: e.From, To: e.To, Dev: e.Dev})
			}
		}
	}
	return edges, probs
}

// depKey is how a lockfile entry and a cataloged package are matched: the lockfile
// path, the purl type, the name (PEP 503-normalised for Python) and the version.
func depKey(path, typ, name, version string) string {
	name = strings.ToLower(name)
	if typ == "pypi" {
		name = lockdeps.NormalizePyPI(name)
	}
	if typ == "golang" {
		version = strings.TrimPrefix(version, "v")
	}
	return path + "\x00" + typ + "\x00" + name + "\x00" + version
}

// resolveDeps turns lockfile edges into relationships between the packages of s
// found in those lockfiles. Edges whose ends were not cataloged are dropped.
func resolveDeps(s *SBOM, edges []depEdge) {
	if len(edges) == 0 {
		return
	}
	ids := map[string]string{}
	for _, p := range s.Packages {
		for _, l := range p.Locations {
			ids[depKey(l.Path, p.Type, p.Name, p.Version)] = p.ID
		}
	}
	seen := map[Relationship]bool{}
	for _, e := range edges {
		from, ok1 := ids[depKey(e.Path, e.From.Ecosystem, e.From.Name, e.From.Version)]
		to, ok2 := ids[depKey(e.Path, e.To.Ecosystem, e.To.Name, e.To.Version)]
		if !ok1 || !ok2 || from == to {
			continue
		}
		r := Relationship{From: from, To: to, Type: DependsOn}
		if e.Dev {
			r.Type = DevDependsOn
		}
		if !seen[r] {
			seen[r] = true
			s.Relationships = append(s.Relationships, r)
		}
	}
	slices.SortFunc(s.Relationships, func(a, b Relationship) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To), cmp.Compare(a.Type, b.Type))
	})
}
