package vuln_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/gosymbols"
	"github.com/tether-sec/tether/internal/testenv"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/vuln"
)

// buildTable compiles main.go (standard library only) with this machine's Go and
// reads the binary's function table.
func buildTable(t *testing.T, main string) *gosymbols.Table {
	t.Helper()
	gobin := testenv.LookPath(t, "go", "install Go")
	src := t.TempDir()
	for name, body := range map[string]string{"go.mod": "module example.com/app\n\ngo 1.22\n", "main.go": main} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "app")
	cmd := exec.Command(gobin, "build", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	tab, err := gosymbols.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestMatchCodePresence checks the real Go advisories GO-2023-2102 (net/http
// symbols) and GO-2023-1840 (the whole runtime package) against the function
// tables of two real binaries: a server and a program that never links net/http.
// The standard library version comes from the SBOM package (1.20.4, affected by
// both), the symbols from the binaries this machine builds.
func TestMatchCodePresence(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go binaries")
	}
	server := buildTable(t, `package main

import (
	"net/http"
	"os"
)

func main() {
	if len(os.Args) > 1 {
		http.ListenAndServe(os.Args[1], nil)
	}
}
`)
	hello := buildTable(t, `package main

import "fmt"

func main() { fmt.Println("hello") }
`)
	cases := []struct {
		name  string
		table *gosymbols.Table
		want  map[string]codeWant
	}{
		{"server", server, map[string]codeWant{
			"GO-2023-2102": {vuln.CodePresent, []string{"net/http.ListenAndServe", "net/http.Server.ListenAndServe", "net/http.Server.Serve"}},
			"GO-2023-1840": {vuln.CodePresent, []string{"runtime"}},
		}},
		{"hello", hello, map[string]codeWant{
			"GO-2023-2102": {vuln.CodeAbsent, nil},
			"GO-2023-1840": {vuln.CodePresent, []string{"runtime"}},
		}},
		{"no binary", nil, map[string]codeWant{
			"GO-2023-2102": {"", nil},
			"GO-2023-1840": {"", nil},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := pkg("pkg:golang/stdlib@1.20.4")
			p.GoSymbols = tc.table
			got, err := vuln.Match(context.Background(), testIndex(t), &sbom.SBOM{Packages: []sbom.Package{p}}, vuln.Options{})
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]codeWant{}
			for _, f := range got {
				for _, id := range f.Advisories {
					if _, ok := tc.want[id]; ok {
						have[id] = codeWant{f.Code, present(f.Present, tc.want[id].Present)}
					}
				}
			}
			if d := cmp.Diff(tc.want, have); d != "" {
				t.Errorf("code presence (-want +got):\n%s", d)
			}
		})
	}
}

type codeWant struct {
	Code    vuln.CodePresence
	Present []string
}

// present keeps the entries of got that want lists, so that the test does not
// depend on every net/http function a server happens to link.
func present(got, want []string) []string {
	var out []string
	for _, g := range got {
		for _, w := range want {
			if g == w {
				out = append(out, g)
			}
		}
	}
	return out
}

// TestMatchCodePresencePlatform checks the real GO-2022-0477, whose crypto/rand.Read
// import is limited to Windows, against a real Linux binary that calls
// crypto/rand.Read, and the same table relabelled as a Windows build.
func TestMatchCodePresencePlatform(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go binary")
	}
	tab := buildTable(t, `package main

import (
	"crypto/rand"
	"fmt"
)

func main() {
	b := make([]byte, 8)
	rand.Read(b)
	fmt.Println(b)
}
`)
	if !tab.Has("crypto/rand", "Read") {
		t.Fatal("the binary lacks crypto/rand.Read")
	}
	code := func(goos string, inlined bool) vuln.CodePresence {
		t.Helper()
		c := *tab
		c.GOOS, c.Inlined = goos, inlined
		p := pkg("pkg:golang/stdlib@1.17.10")
		p.GoSymbols = &c
		got, err := vuln.Match(context.Background(), testIndex(t), &sbom.SBOM{Packages: []sbom.Package{p}}, vuln.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range got {
			if f.ID == "GO-2022-0477" || slices.Contains(f.Advisories, "GO-2022-0477") {
				return f.Code
			}
		}
		t.Fatalf("GO-2022-0477 not matched: %+v", got)
		return ""
	}
	if got := code("linux", true); got != vuln.CodeAbsent {
		t.Errorf("linux binary: code %q, want absent (the import is for windows only)", got)
	}
	if got := code("windows", true); got != vuln.CodePresent {
		t.Errorf("windows binary: code %q, want present", got)
	}
	if got := code("", true); got != vuln.CodePresent {
		t.Errorf("binary of unknown platform: code %q, want present (no platform to rule it out)", got)
	}
	if got := code("linux", false); got != "" {
		t.Errorf("pre-1.16 table: code %q, want unknown: an absence there proves nothing", got)
	}
}
