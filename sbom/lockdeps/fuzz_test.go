package lockdeps_test

import (
	"errors"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-sec/tether/sbom/lockdeps"
)

// fuzzNames are the base names FuzzParse picks a format by.
var fuzzNames = []string{
	"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "Cargo.lock",
	"poetry.lock", "uv.lock", "composer.lock", "Gemfile.lock",
}

func FuzzParse(f *testing.F) {
	for _, p := range fixtures(f) {
		content, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		i := slices.Index(fuzzNames, path.Base(p))
		if i < 0 {
			continue
		}
		f.Add(uint8(i), content)
	}
	f.Fuzz(func(t *testing.T, which uint8, content []byte) {
		name := fuzzNames[int(which)%len(fuzzNames)]
		var g *lockdeps.Graph
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			g, err = lockdeps.Parse(name, content)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Parse(%s) takes more than 10s on %d bytes", name, len(content))
		}
		if err != nil {
			if strings.Contains(err.Error(), "parser panic") {
				t.Fatalf("Parse panicked: %v", err)
			}
			if !errors.Is(err, lockdeps.ErrMalformed) && !errors.Is(err, lockdeps.ErrTooLarge) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if g != nil {
				t.Fatal("a graph with an error")
			}
			return
		}
		if len(g.Roots)+len(g.Edges) > lockdeps.MaxEdges {
			t.Fatalf("%d roots and edges", len(g.Roots)+len(g.Edges))
		}
		if !slices.IsSortedFunc(g.Edges, compareEdges) {
			t.Fatal("edges not sorted")
		}
		for i, e := range g.Edges {
			if e.From == e.To || e.From.Name == "" || e.To.Name == "" {
				t.Fatalf("bad edge %+v", e)
			}
			if i > 0 && compareEdges(g.Edges[i-1], e) == 0 {
				t.Fatalf("duplicate edge %+v", e)
			}
		}
		for i, r := range g.Roots {
			if r.Name == "" || i > 0 && g.Roots[i-1] == r {
				t.Fatalf("bad root %+v", r)
			}
		}
	})
}
