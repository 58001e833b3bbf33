package sbom

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzPOM: any pom.xml (and a parent) resolves or fails, never panics or loops.
func FuzzPOM(f *testing.F) {
	f.Add(`<project><groupId>g</groupId><artifactId>a</artifactId><version>${v}</version><properties><v>${w}</v><w>1.0</w></properties></project>`,
		`<project><artifactId>p</artifactId></project>`)
	f.Add(`<project><parent><artifactId>p</artifactId><relativePath>../../../etc</relativePath></parent></project>`, `<project/>`)
	f.Add(`<project><properties><a>${a}</a></properties><version>${a}</version><dependencies><dependency><groupId>${a}</groupId></dependency></dependencies></project>`, ``)
	f.Fuzz(func(t *testing.T, child, parent string) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "m"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(root, "pom.xml"), []byte(parent), 0o644)
		os.WriteFile(filepath.Join(root, "m", "pom.xml"), []byte(child), 0o644)
		e, err := resolvePOM(root, filepath.Join(root, "m", "pom.xml"))
		if err != nil {
			return
		}
		for _, d := range e.deps {
			e.interpolate(d.Version)
		}
	})
}
