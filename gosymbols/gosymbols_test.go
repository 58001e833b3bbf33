package gosymbols_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tether-sec/tether/gosymbols"
	"github.com/tether-sec/tether/internal/testenv"
)

// program is a module whose functions reach the binary in the ways that matter:
// out of line, inlined only, as methods, generics and closures, from a package
// whose last path element has a dot, and not at all (Unused).
var program = map[string]string{
	"go.mod": "module example.com/app\n\ngo 1.22\n",
	"lib/lib.go": `package lib

func Small(x int) int { return x + 1 }

type T struct{ n int }

func (t *T) Get() int { return t.n * 2 }

//go:noinline
func (t T) Value() int { return t.n }

func Unused() int { return 42 }

//go:noinline
func Big(x int) int {
	s := 0
	for i := 0; i < x; i++ {
		s += i * i
	}
	return s
}

type List[E any] struct{ items []E }

//go:noinline
func (l *List[E]) Push(e E) { l.items = append(l.items, e) }

//go:noinline
func Map[E, F any](in []E, f func(E) F) []F {
	out := make([]F, 0, len(in))
	for _, e := range in {
		out = append(out, f(e))
	}
	return out
}
`,
	"yaml.v3/yaml.go": `package yaml

//go:noinline
func Unmarshal(b []byte) int { return len(b) * 3 }
`,
	"main.go": `package main

import (
	"fmt"
	"os"

	"example.com/app/lib"
	"example.com/app/yaml.v3"
)

func main() {
	t := &lib.T{}
	if len(os.Args) > 5 {
		t = nil
	}
	var l lib.List[string]
	l.Push(os.Args[0])
	f := func(s string) int { return len(s) + len(os.Args) }
	fmt.Println(lib.Small(len(os.Args)), t.Get(), lib.T{}.Value(), lib.Big(len(os.Args)),
		lib.Map(os.Args, f), yaml.Unmarshal([]byte(os.Args[0])))
}
`,
}

// build compiles program for goos/goarch with extra go build flags.
func build(t *testing.T, goos, goarch string, flags ...string) string {
	t.Helper()
	gobin := testenv.LookPath(t, "go", "install Go")
	src := t.TempDir()
	for name, body := range program {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "app")
	cmd := exec.Command(gobin, append(append([]string{"build", "-o", out}, flags...), ".")...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s/%s %v: %v\n%s", goos, goarch, flags, err, b)
	}
	return out
}

func TestReadFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go binaries for several platforms")
	}
	cases := []struct {
		name, goos, goarch string
		flags              []string
	}{
		{"elf", "linux", "amd64", nil},
		{"elf stripped", "linux", "amd64", []string{"-ldflags=-s -w", "-trimpath"}},
		{"elf pie", "linux", "amd64", []string{"-buildmode=pie"}},
		{"elf 32-bit", "linux", "386", nil},
		{"elf big-endian", "linux", "s390x", nil},
		{"mach-o", "darwin", "arm64", []string{"-ldflags=-s -w"}},
		{"pe", "windows", "amd64", []string{"-ldflags=-s -w"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tab, err := gosymbols.ReadFile(build(t, tc.goos, tc.goarch, tc.flags...))
			if err != nil {
				t.Fatal(err)
			}
			if tab.GOOS != tc.goos || tab.GOARCH != tc.goarch {
				t.Errorf("platform %s/%s, want %s/%s", tab.GOOS, tab.GOARCH, tc.goos, tc.goarch)
			}
			if !tab.Inlined {
				t.Error("Inlined = false for a Go 1.16+ binary")
			}
			present := []struct{ pkg, sym string }{
				{"example.com/app/lib", "Small"},         // inlined into main.main
				{"example.com/app/lib", "T.Get"},         // pointer receiver, inlined
				{"example.com/app/lib", "T.Value"},       // value receiver
				{"example.com/app/lib", "Big"},           // out of line
				{"example.com/app/lib", "List.Push"},     // generic method
				{"example.com/app/lib", "Map"},           // generic function
				{"example.com/app/yaml.v3", "Unmarshal"}, // "%2e" in the linker's name
				{"main", "main"},
				{"fmt", "Println"},
			}
			for _, p := range present {
				if !tab.Has(p.pkg, p.sym) {
					t.Errorf("Has(%q, %q) = false; package has %q", p.pkg, p.sym, tab.Packages[p.pkg])
				}
			}
			for _, p := range []struct{ pkg, sym string }{
				{"example.com/app/lib", "Unused"},
				{"example.com/app/lib", "Sm"}, // a prefix of a name is not the name
				{"net/http", "Get"},
			} {
				if tab.Has(p.pkg, p.sym) {
					t.Errorf("Has(%q, %q) = true for a function not linked in", p.pkg, p.sym)
				}
			}
			if !tab.HasPackage("example.com/app/yaml.v3") || tab.HasPackage("net/http") {
				t.Errorf("HasPackage: yaml.v3 %v, net/http %v", tab.HasPackage("example.com/app/yaml.v3"), tab.HasPackage("net/http"))
			}
		})
	}
}

func TestReadNotGo(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":      nil,
		"text":       []byte("#!/bin/sh\necho hello\n"),
		"elf header": append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := gosymbols.Read(bytes.NewReader(data))
			if !errors.Is(err, gosymbols.ErrNoSymbols) {
				t.Fatalf("Read = %v, want ErrNoSymbols", err)
			}
		})
	}
	// A C program of this machine, when there is one: an ELF file without Go.
	if p, err := exec.LookPath("sh"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if _, err := gosymbols.ReadFile(real); !errors.Is(err, gosymbols.ErrNoSymbols) {
				t.Errorf("ReadFile(%s) = %v, want ErrNoSymbols", real, err)
			}
		}
	}
}

func TestSplitName(t *testing.T) {
	cases := []struct {
		in, pkg, sym string
	}{
		{"net/http.(*Server).Serve", "net/http", "Server.Serve"},
		{"golang.org/x/net/html.Parse", "golang.org/x/net/html", "Parse"},
		{"gopkg.in/yaml%2ev3.(*parser).parse", "gopkg.in/yaml.v3", "parser.parse"},
		{"slices.Sort[...]", "slices", "Sort"},
		{"example.com/m.(*List[go.shape.*net/http.Request]).Push", "example.com/m", "List.Push"},
		{"example.com/m.Map[go.shape.string,go.shape.int].func1", "example.com/m", "Map.func1"},
		{"net/http.(*Transport).RoundTrip-fm", "net/http", "Transport.RoundTrip"},
		{"example.com/m.All-range1", "example.com/m", "All"},
		{"main.main", "main", "main"},
		{"runtime.gcBgMarkWorker.func1", "runtime", "gcBgMarkWorker.func1"},
		{"go:buildid", "", ""},
		{"type:.eq.[2]interface {}", "", ""},
		{"_cgo_topofstack", "", ""},
		{"broken[", "", ""},
		{"", "", ""},
	}
	for _, c := range cases {
		pkg, sym, ok := gosymbols.SplitName(c.in)
		if ok != (c.pkg != "") || pkg != c.pkg || sym != c.sym {
			t.Errorf("SplitName(%q) = %q, %q, %v; want %q, %q", c.in, pkg, sym, ok, c.pkg, c.sym)
		}
	}
}

func TestHasClosurePrefix(t *testing.T) {
	tab := &gosymbols.Table{Packages: map[string][]string{"p": {"Parse.func1", "ParseAddr", "Reader.Read"}}}
	for sym, want := range map[string]bool{"Parse": true, "ParseAddr": true, "Reader": true, "Reader.Read": true, "Pars": false, "Read": false} {
		if got := tab.Has("p", sym); got != want {
			t.Errorf("Has(p, %q) = %v, want %v", sym, got, want)
		}
	}
	var none *gosymbols.Table
	if none.Has("p", "Parse") || none.HasPackage("p") {
		t.Error("a nil table holds nothing")
	}
}
