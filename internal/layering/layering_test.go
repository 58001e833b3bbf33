package layering_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/tether-sec/tether/"

// collectors know nothing of each other; graph imports no tether package.
var collectors = []string{"source", "image", "iac", "runtime", "cloud", "sensor", "dockerfile"}

// below lists what each part may import from tether. Parts absent here are unchecked.
var allowed = map[string][]string{
	"graph":      {},
	"dockerfile": {},
	"source":     {"graph", "dockerfile"},
	"image":      {"graph", "redact"},
	"runtime":    {"graph"},
	"store":      {"graph"},
	"lineage":    {"graph", "store", "dockerfile"},
	"sbom":       {"graph", "gosymbols", "image", "redact"},
	"redact":     {},
	"osv":        {},
	"gosymbols":  {},
	"vex":        {"purl"},
	"purl":       {},
	"vuln":       {"gosymbols", "osv", "purl", "sbom"},
	"vulndb":     {"osv", "vuln"},
	"report":     {"graph", "lineage", "sbom", "vuln", "vulndb"},
}

func TestLayering(t *testing.T) {
	root := filepath.Join("..", "..")
	for part, ok := range allowed {
		dir := filepath.Join(root, part)
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("part %s: %v", part, err)
			continue
		}
		for _, imp := range imports(t, dir) {
			rel, isOurs := strings.CutPrefix(imp, module)
			if !isOurs {
				continue
			}
			top := strings.Split(rel, "/")[0]
			if top == part || contains(ok, top) {
				continue
			}
			t.Errorf("%s imports %s: it may import only %v from tether (collectors never import each other: %v)", part, imp, ok, collectors)
		}
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// imports lists the imports of the non-test Go files under dir.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, s := range f.Imports {
			out = append(out, strings.Trim(s.Path.Value, `"`))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
