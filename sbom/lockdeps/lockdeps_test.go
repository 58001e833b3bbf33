package lockdeps_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/sbom/lockdeps"

	"github.com/tether-sec/tether/internal/golden"
)

// render writes a graph one line per root and edge, the golden files' format.
func render(g *lockdeps.Graph) []string {
	var lines []string
	for _, r := range g.Roots {
		lines = append(lines, "root "+r.String())
	}
	for _, e := range g.Edges {
		l := e.From.String() + " -> " + e.To.String()
		if e.Dev {
			l += " (dev)"
		}
		lines = append(lines, l)
	}
	return lines
}

// fixtures lists the lockfiles under testdata.
func fixtures(t testing.TB) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "fuzz" {
			return filepath.SkipDir
		}
		if !d.IsDir() && lockdeps.Supported(p) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	return paths
}

func parseFile(t *testing.T, path string) *lockdeps.Graph {
	t.Helper()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := lockdeps.Parse(path, content)
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return g
}

// TestGolden compares the whole graph of every fixture with its golden file, and
// checks that the result is the same run after run and with CRLF line endings.
func TestGolden(t *testing.T) {
	for _, path := range fixtures(t) {
		t.Run(filepath.ToSlash(path), func(t *testing.T) {
			g := parseFile(t, path)
			got := strings.Join(render(g), "\n") + "\n"
			golden.Check(t, path+".golden", []byte(got))

			for range 3 {
				again := parseFile(t, path)
				if diff := cmp.Diff(g, again); diff != "" {
					t.Fatalf("second Parse differs (-first +second):\n%s", diff)
				}
			}
			content, _ := os.ReadFile(path)
			crlf, err := lockdeps.Parse(path, bytes.ReplaceAll(content, []byte("\n"), []byte("\r\n")))
			if err != nil {
				t.Fatalf("CRLF: %v", err)
			}
			if diff := cmp.Diff(g, crlf); diff != "" {
				t.Errorf("CRLF line endings change the graph (-LF +CRLF):\n%s", diff)
			}
		})
	}
}

// TestParse spells out what each format's semantics require, in the golden
// format: lines that must be there, and prefixes no line may have.
func TestParse(t *testing.T) {
	tests := []struct {
		name, path string
		want       []string
		notWant    []string
	}{
		{
			name: "npm v3 nested node_modules resolve to the nearest copy",
			path: "testdata/npm/v3/package-lock.json",
			want: []string{
				"npm:express@4.18.2 -> npm:debug@2.6.9",                     // node_modules/express/node_modules/debug
				"npm:debug@2.6.9 -> npm:ms@2.0.0",                           // both nested copies of debug
				"npm:send@0.18.0 -> npm:ms@2.1.3",                           // node_modules/send/node_modules/ms
				"npm:debug@4.3.4 -> npm:ms@2.1.2",                           // hoisted
				"npm:express@4.18.2 -> npm:cookie@0.5.0",                    // found upward, at the top
				"npm:@floating-ui/dom@1.5.3 -> npm:@floating-ui/core@1.5.2", // scoped
				"npm:@floating-ui/react-dom@2.0.4 -> npm:react@18.2.0",      // peer
			},
			notWant: []string{
				"npm:debug@2.6.9 -> npm:ms@2.1.2",
				"npm:debug@2.6.9 -> npm:ms@2.1.3",
				"npm:express@4.18.2 -> npm:debug@4.3.4",
			},
		},
		{
			name: "npm v3 workspace members, links, dev and aliases",
			path: "testdata/npm/v3/package-lock.json",
			want: []string{
				"root npm:@shop/ui@0.1.0",   // the link, followed to packages/ui
				"root npm:lodash@3.10.1",    // alias lodash-legacy, by its real name
				"root npm:typescript@5.3.3", // root devDependencies are roots too
				"root npm:clsx@1.2.1",       // the root's own copy
				"root npm:clsx@2.0.0",       // the workspace member's, packages/ui/node_modules/clsx
				"root npm:fsevents@2.3.3",   // optional, present in the lock
				"npm:@shop/ui@0.1.0 -> npm:clsx@2.0.0",
				"npm:@shop/ui@0.1.0 -> npm:typescript@5.3.3 (dev)",
				"npm:@shop/ui@0.1.0 -> npm:@floating-ui/react-dom@2.0.4",
			},
			notWant: []string{
				"npm:@shop/ui@0.1.0 -> npm:clsx@1.2.1",
				"root npm:react-native@", // an optional peer nobody installed
			},
		},
		{
			name: "npm v2 reads packages, not the v1 mirror",
			path: "testdata/npm/v2/package-lock.json",
			want: []string{
				"root npm:pretty-format@27.5.1",
				"npm:pretty-format@27.5.1 -> npm:ansi-styles@5.2.0",
				"npm:chalk@4.1.2 -> npm:ansi-styles@4.3.0",
				"npm:whatwg-url@5.0.0 -> npm:tr46@0.0.3",
			},
			notWant: []string{"npm:pretty-format@27.5.1 -> npm:ansi-styles@4.3.0", "npm:node-fetch@2.7.0 -> npm:encoding@"},
		},
		{
			name: "npm v1 requires resolve through the nested tree",
			path: "testdata/npm/v1/package-lock.json",
			want: []string{
				"npm:express@4.17.1 -> npm:debug@2.6.9",
				"npm:debug@2.6.9 -> npm:ms@2.0.0",
				"npm:send@0.17.1 -> npm:ms@2.1.1",
				"npm:debug@4.3.1 -> npm:ms@2.1.2",
				"npm:legacy-tool@1.0.4 -> npm:lodash@3.10.1",
				"npm:legacy-tool@1.0.4 -> npm:left-pad@git+https://github.com/stevemao/left-pad.git#5ce9c7dd1cde8fb2ef14e2f8bd2d5c1046e4bfb2",
				"npm:@babel/highlight@7.13.10 -> npm:chalk@2.4.2",
			},
			notWant: []string{"npm:debug@2.6.9 -> npm:ms@2.1.1", "npm:debug@2.6.9 -> npm:ms@2.1.2", "root "},
		},
		{
			name: "yarn v1 multi-descriptor headers and aliases",
			path: "testdata/yarn/v1/yarn.lock",
			want: []string{
				"npm:@isaacs/cliui@8.0.2 -> npm:string-width@4.2.3", // string-width-cjs@npm:string-width@^4.2.0
				"npm:@isaacs/cliui@8.0.2 -> npm:string-width@5.1.2",
				"npm:@isaacs/cliui@8.0.2 -> npm:strip-ansi@6.0.1",
				"npm:@isaacs/cliui@8.0.2 -> npm:strip-ansi@7.1.0",
				"npm:wide-align@1.1.5 -> npm:string-width@4.2.3", // "string-width@^1.0.2 || 2 || 3 || 4"
				"npm:pad-cli@2.0.1 -> npm:chalk@4.1.2",           // chalk@^4.0.0, chalk@^4.1.2
				"npm:pad-cli@2.0.1 -> npm:left-pad@1.3.0",        // a git descriptor
				"npm:chokidar@3.5.3 -> npm:fsevents@2.3.3",       // optionalDependencies
				"npm:@babel/highlight@7.23.4 -> npm:@babel/helper-validator-identifier@7.22.20",
				"npm:color-convert@1.9.3 -> npm:color-name@1.1.3",
			},
			notWant: []string{"npm:color-convert@1.9.3 -> npm:color-name@1.1.4", "root "},
		},
		{
			name: "yarn berry workspaces, npm: protocol, aliases and patches",
			path: "testdata/yarn/berry/yarn.lock",
			want: []string{
				"root npm:react@18.2.0",
				"root npm:resolve@1.22.8",
				"root npm:@shop/shared@0.0.0-use.local", // workspace:^ from @shop/api
				"root npm:express@4.18.2",
				"root npm:lodash@4.17.21", // through a user patch descriptor
				"root npm:string-width@4.2.3",
				"npm:@shop/api@0.0.0-use.local -> npm:@shop/shared@0.0.0-use.local",
				"npm:express@4.18.2 -> npm:debug@2.6.9",
				"npm:debug@2.6.9 -> npm:ms@2.0.0",
				"npm:send@0.18.0 -> npm:ms@2.1.3",
				"npm:is-core-module@2.13.1 -> npm:hasown@2.0.0",
			},
			notWant: []string{
				"npm:shop@0.0.0-use.local -> ",             // the root workspace has roots, not edges
				"npm:react-dom@18.2.0 -> npm:react@18.2.0", // a peer: berry does not say who provides it
			},
		},
		{
			name: "yarn 4 keeps npm: in dependency ranges",
			path: "testdata/yarn/berry4/yarn.lock",
			want: []string{
				"root npm:typescript@5.3.3",
				"root npm:@types/react@18.2.45",
				"npm:@types/react@18.2.45 -> npm:@types/prop-types@15.7.11",
				"npm:loose-envify@1.4.0 -> npm:js-tokens@4.0.0",
			},
		},
		{
			name: "pnpm 5.4 slash keys and _peer suffixes",
			path: "testdata/pnpm/v5/pnpm-lock.yaml",
			want: []string{
				"root npm:react-dom@18.2.0",
				"root npm:lodash-es@4.17.21", // alias: /lodash-es/4.17.21
				"root npm:typescript@4.9.4",
				"npm:react-dom@18.2.0 -> npm:react@18.2.0",
				"npm:@types/react@18.0.26 -> npm:@types/prop-types@15.7.5",
			},
		},
		{
			name: "pnpm 6.0 importers, parenthesised peers and a git package",
			path: "testdata/pnpm/v6/pnpm-lock.yaml",
			want: []string{
				"root npm:typescript@5.1.6",
				"root npm:left-pad@1.3.0",
				"root npm:@floating-ui/react-dom@2.0.1",
				"root npm:react-dom@18.2.0",
				"npm:@floating-ui/react-dom@2.0.1 -> npm:react-dom@18.2.0",
				"npm:@floating-ui/react-dom@2.0.1 -> npm:@floating-ui/dom@1.5.1",
			},
			notWant: []string{"root npm:@acme/ui@"}, // link: a workspace project
		},
		{
			name: "pnpm 9.0 snapshots, aliases and tarballs",
			path: "testdata/pnpm/v9/pnpm-lock.yaml",
			want: []string{
				"root npm:@tanstack/react-query@5.8.4",
				"root npm:string-width@4.2.3",
				"root npm:left-pad@1.3.0",
				"npm:@tanstack/react-query@5.8.4 -> npm:@tanstack/query-core@5.8.3",
				"npm:string-width@4.2.3 -> npm:fsevents@2.3.3",
				"npm:strip-ansi@6.0.1 -> npm:ansi-regex@5.0.1",
			},
		},
		{
			name: "pnpm 10 with a package manager document",
			path: "testdata/pnpm/v9-multidoc/pnpm-lock.yaml",
			want: []string{
				"root npm:react@18.2.0",
				"npm:@pnpm/exe@10.12.4 -> npm:@pnpm/linux-x64@10.12.4",
			},
			notWant: []string{"root npm:pnpm@10.12.4"},
		},
		{
			name: "Cargo v3 duplicate names told apart by version",
			path: "testdata/cargo/v3/Cargo.lock",
			want: []string{
				"root cargo:regex@1.10.2",
				"root cargo:shop-core@0.1.0", // a member depending on a member
				"root cargo:static_assertions_macros@0.1.0",
				"cargo:serde_derive@1.0.193 -> cargo:syn@2.0.39",
				"cargo:static_assertions_macros@0.1.0 -> cargo:syn@1.0.109",
				"cargo:cli@0.1.0 -> cargo:shop-core@0.1.0",
				"cargo:syn@1.0.109 -> cargo:unicode-ident@1.0.12",
			},
			notWant: []string{"cargo:serde_derive@1.0.193 -> cargo:syn@1.0.109", "root cargo:syn@"},
		},
		{
			name: "Cargo v4 same version from two sources",
			path: "testdata/cargo/v4/Cargo.lock",
			want: []string{
				"root cargo:base64@0.21.5",
				"root cargo:base64@0.22.0",
				"cargo:reqwest@0.11.22 -> cargo:base64@0.21.5",
				"cargo:tools@0.1.0 -> cargo:base64@0.22.0",
			},
		},
		{
			name: "Cargo v1 with [root] and full dependency strings",
			path: "testdata/cargo/v1/Cargo.lock",
			want: []string{
				"root cargo:rand@0.5.5",
				"cargo:rand@0.5.5 -> cargo:rand_core@0.2.2",
				"cargo:rand_core@0.2.2 -> cargo:rand_core@0.3.0",
			},
		},
		{
			name: "poetry normalized names and several pinned versions",
			path: "testdata/poetry/poetry.lock",
			want: []string{
				"pypi:jinja2@3.1.2 -> pypi:markupsafe@2.1.3", // MarkupSafe
				"pypi:numexpr@2.8.6 -> pypi:numpy@1.24.4",    // <1.25 admits one of the two
				"pypi:pandas@2.0.3 -> pypi:numpy@1.24.4",
				"pypi:pandas@2.0.3 -> pypi:numpy@1.26.2",
				"pypi:pandas@2.0.3 -> pypi:pytz@2023.3.post1",
				"pypi:requests@2.31.0 -> pypi:charset-normalizer@3.3.2",
			},
			notWant: []string{"pypi:numexpr@2.8.6 -> pypi:numpy@1.26.2", "pypi:requests@2.31.0 -> pypi:pysocks@", "pypi:pytest@7.4.3 -> pypi:colorama@", "root "},
		},
		{
			name: "uv editable root, groups, and forked versions",
			path: "testdata/uv/uv.lock",
			want: []string{
				"root pypi:fastapi@0.115.0",
				"root pypi:numpy@1.26.4",
				"root pypi:numpy@2.1.1",
				"root pypi:typer@0.12.5",
				"root pypi:pytest@8.3.3",
				"pypi:myapp@0.1.0 -> pypi:fastapi@0.115.0", // both prod and dev: prod
				"pypi:myapp@0.1.0 -> pypi:pytest@8.3.3 (dev)",
				"pypi:myapp@0.1.0 -> pypi:ruff@0.6.8 (dev)",
				"pypi:myapp@0.1.0 -> pypi:typer@0.12.5",
				"pypi:pydantic@2.9.2 -> pypi:pydantic-core@2.23.4",
				"pypi:click@8.1.7 -> pypi:colorama@0.4.6",
			},
			notWant: []string{"pypi:myapp@0.1.0 -> pypi:fastapi@0.115.0 (dev)", "root pypi:pydantic@"},
		},
		{
			name: "composer platform requirements, replace and provide",
			path: "testdata/composer/composer.lock",
			want: []string{
				"composer:laravel/framework@v10.35.0 -> composer:monolog/monolog@3.5.0",
				"composer:laravel/sanctum@v3.3.2 -> composer:laravel/framework@v10.35.0", // illuminate/support, replaced
				"composer:phpunit/phpunit@10.5.2 -> composer:sebastian/diff@5.0.3",
				"composer:symfony/string@v6.4.0 -> composer:symfony/polyfill-mbstring@v1.28.0",
			},
			notWant: []string{
				"composer:laravel/framework@v10.35.0 -> composer:phpunit/phpunit@", // require-dev of a dependency
				"composer:psr/log-consumer@1.0.0 -> ",                              // two providers: ambiguous
				"composer:symfony/polyfill-php83@v1.28.0 -> ",                      // php80 is not in the lock
			},
		},
		{
			name: "Gemfile.lock sections, platforms and DEPENDENCIES",
			path: "testdata/gem/Gemfile.lock",
			want: []string{
				"root gem:activesupport@7.2.0.alpha",
				"root gem:shop@0.1.0",
				"root gem:rake@13.1.0",
				"gem:shop@0.1.0 -> gem:nokogiri@1.15.5",
				"gem:nokogiri@1.15.5 -> gem:mini_portile2@2.8.5",
				"gem:nokogiri@1.15.5 -> gem:racc@1.7.3",
				"gem:activesupport@7.2.0.alpha -> gem:tzinfo@2.0.6",
				"gem:rspec-mocks@3.12.6 -> gem:diff-lcs@1.5.0",
			},
			notWant: []string{"gem:nokogiri@1.15.5-x86_64-linux", "root gem:rspec-core@"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := render(parseFile(t, tt.path))
			for _, w := range tt.want {
				if !slices.Contains(lines, w) {
					t.Errorf("missing %q", w)
				}
			}
			for _, nw := range tt.notWant {
				for _, l := range lines {
					if strings.HasPrefix(l, nw) {
						t.Errorf("unexpected %q", l)
					}
				}
			}
		})
	}
}

func TestInvariants(t *testing.T) {
	for _, path := range fixtures(t) {
		g := parseFile(t, path)
		for _, e := range g.Edges {
			if e.From == e.To || e.From.Name == "" || e.To.Name == "" {
				t.Errorf("%s: bad edge %v", path, e)
			}
		}
		if !slices.IsSortedFunc(g.Edges, compareEdges) {
			t.Errorf("%s: edges not sorted", path)
		}
	}
}

// compareEdges orders edges as Parse does: by From, then To.
func compareEdges(a, b lockdeps.Edge) int {
	for _, c := range [][2]string{
		{a.From.Ecosystem, b.From.Ecosystem}, {a.From.Name, b.From.Name}, {a.From.Version, b.From.Version},
		{a.To.Ecosystem, b.To.Ecosystem}, {a.To.Name, b.To.Name}, {a.To.Version, b.To.Version},
	} {
		if r := strings.Compare(c[0], c[1]); r != 0 {
			return r
		}
	}
	return 0
}

func TestSupported(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"package-lock.json", true},
		{"web/npm-shrinkwrap.json", true},
		{"web/node_modules/.package-lock.json", true},
		{`C:\src\web\yarn.lock`, true},
		{"pnpm-lock.yaml", true},
		{"crates/Cargo.lock", true},
		{"poetry.lock", true},
		{"uv.lock", true},
		{"composer.lock", true},
		{"Gemfile.lock", true},
		{"gems.locked", true},
		{"package.json", false},
		{"cargo.lock", false},
		{"yarn.lock.bak", false},
		{"Pipfile.lock", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := lockdeps.Supported(tt.path); got != tt.want {
			t.Errorf("Supported(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestSmallInputs(t *testing.T) {
	tests := []struct {
		name, path, content string
		want                []string
	}{
		{"empty npm", "package-lock.json", `{}`, nil},
		{"empty yarn", "yarn.lock", "", nil},
		{"empty pnpm", "pnpm-lock.yaml", "", nil},
		{"empty Cargo", "Cargo.lock", "", nil},
		{"empty Gemfile", "Gemfile.lock", "", nil},
		{
			"composer writes an empty map as []", "composer.lock",
			`{"packages":[{"name":"a/b","version":"1.0.0","require":{"c/d":"^1"},"replace":[]},{"name":"c/d","version":"1.2.0","require":[]}]}`,
			[]string{"composer:a/b@1.0.0 -> composer:c/d@1.2.0"},
		},
		{
			"npm self-dependency is dropped", "package-lock.json",
			`{"lockfileVersion":3,"packages":{"":{"dependencies":{"a":"1"}},"node_modules/a":{"version":"1.0.0","dependencies":{"a":"1"}}}}`,
			[]string{"root npm:a@1.0.0"},
		},
		{
			"npm link to a missing target is dropped", "package-lock.json",
			`{"lockfileVersion":3,"packages":{"":{"dependencies":{"a":"*"}},"node_modules/a":{"resolved":"packages/a","link":true}}}`,
			nil,
		},
		{
			"cargo ambiguous short name is dropped", "Cargo.lock",
			"[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"b\"]\n\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"x\"\n\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\nsource = \"x\"\n",
			nil,
		},
		{
			"yarn v1 bare header and unquoted value", "yarn.lock",
			"a@^1:\n  version \"1.0.0\"\n  dependencies:\n    b latest\n\nb@latest:\n  version \"3.0.0\"\n",
			[]string{"npm:a@1.0.0 -> npm:b@3.0.0"},
		},
		{
			"poetry dependency with path and no version", "poetry.lock",
			"[[package]]\nname = \"app\"\nversion = \"1.0\"\n\n[package.dependencies]\nlib = {path = \"../lib\", develop = true}\n\n[[package]]\nname = \"lib\"\nversion = \"0.1.0\"\n",
			[]string{"pypi:app@1.0 -> pypi:lib@0.1.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := lockdeps.Parse(tt.path, []byte(tt.content))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, render(g)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	deepNpm := `{"lockfileVersion":3,"packages":{"` + strings.Repeat("node_modules/a/", 200) + `":{}}}`
	deepV1 := `{"lockfileVersion":1,"dependencies":` + strings.Repeat(`{"a":{"version":"1","dependencies":`, 100) + `{}` + strings.Repeat(`}}`, 100) + `}`
	tests := []struct {
		name, path, content string
		want                error
	}{
		{"unsupported", "requirements.txt", "flask", lockdeps.ErrUnsupported},
		{"npm not JSON", "package-lock.json", "lockfileVersion: 3", lockdeps.ErrMalformed},
		{"npm packages wrong type", "package-lock.json", `{"packages":[1,2]}`, lockdeps.ErrMalformed},
		{"npm requires wrong type", "package-lock.json", `{"dependencies":{"a":{"version":"1","requires":true}}}`, lockdeps.ErrMalformed},
		{"npm too deep", "package-lock.json", deepNpm, lockdeps.ErrTooLarge},
		{"npm v1 too deep", "package-lock.json", deepV1, lockdeps.ErrTooLarge},
		{"yarn v1 stray line", "yarn.lock", "a@^1:\n  version \"1\"\nnot a header\n", lockdeps.ErrMalformed},
		{"yarn v1 indented first", "yarn.lock", "  version \"1\"\n", lockdeps.ErrMalformed},
		{"yarn v1 unterminated", "yarn.lock", "\"a@^1:\n", lockdeps.ErrMalformed},
		{"yarn berry not YAML", "yarn.lock", "__metadata:\n  version: 6\n\"a@npm:1\": [\n", lockdeps.ErrMalformed},
		{"pnpm bad version", "pnpm-lock.yaml", "lockfileVersion: x\n", lockdeps.ErrMalformed},
		{"pnpm bad dependency", "pnpm-lock.yaml", "lockfileVersion: '9.0'\nsnapshots:\n  a@1.0.0:\n    dependencies:\n      b: [1]\n", lockdeps.ErrMalformed},
		{"Cargo not TOML", "Cargo.lock", "[[package]\n", lockdeps.ErrMalformed},
		{"Cargo deep brackets", "Cargo.lock", "a = " + strings.Repeat("[", 100000), lockdeps.ErrTooLarge},
		{"Cargo deep inline tables", "Cargo.lock", "a = " + strings.Repeat("{b=", 10000), lockdeps.ErrTooLarge},
		{"uv deep dotted keys", "uv.lock", strings.Repeat("a.", 10000) + "a = 1\n", lockdeps.ErrTooLarge},
		{"poetry wrong type", "poetry.lock", "package = 3\n", lockdeps.ErrMalformed},
		{"composer not JSON", "composer.lock", "{", lockdeps.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := lockdeps.Parse("dir/"+tt.path, []byte(tt.content))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %v, %v; want an error wrapping %v", g, err, tt.want)
			}
			if !strings.Contains(err.Error(), "dir/"+tt.path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// TestMaxEdges feeds a Gemfile.lock with more than MaxEdges dependencies.
func TestMaxEdges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 13 MB lockfile")
	}
	const n = 1001 // n specs each depending on all the others: n*(n-1) > MaxEdges
	var sb strings.Builder
	sb.WriteString("GEM\n  remote: https://rubygems.org/\n  specs:\n")
	for i := range n {
		fmt.Fprintf(&sb, "    g%d (1.0.0)\n", i)
		for j := range n {
			fmt.Fprintf(&sb, "      g%d\n", j)
		}
	}
	_, err := lockdeps.Parse("Gemfile.lock", []byte(sb.String()))
	if !errors.Is(err, lockdeps.ErrTooLarge) {
		t.Fatalf("Parse = %v, want ErrTooLarge", err)
	}
}

func ExampleParse() {
	lock := []byte(`{
  "lockfileVersion": 3,
  "packages": {
    "": {"dependencies": {"debug": "^4.3.4"}},
    "node_modules/debug": {"version": "4.3.4", "dependencies": {"ms": "2.1.2"}},
    "node_modules/ms": {"version": "2.1.2"}
  }
}`)
	g, err := lockdeps.Parse("web/package-lock.json", lock)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range g.Roots {
		fmt.Println("root", r)
	}
	for _, e := range g.Edges {
		fmt.Println(e.From, "->", e.To)
	}
	// Output:
	// root npm:debug@4.3.4
	// npm:debug@4.3.4 -> npm:ms@2.1.2
}

// TestHostileShapes parses inputs shaped to find quadratic work (a mapping with
// many keys, a long descriptor list, deep nesting): each must finish in a time
// proportional to its size. The bound is loose; quadratic work blows through it.
func TestHostileShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("parses several MB")
	}
	repeat := func(format string, n int) string {
		var sb strings.Builder
		for i := range n {
			fmt.Fprintf(&sb, format, i)
		}
		return sb.String()
	}
	tests := []struct{ name, path, content string }{
		{"pnpm wide mapping", "pnpm-lock.yaml", "lockfileVersion: '9.0'\nsnapshots:\n" + repeat("  k%d@1: {}\n", 100000)},
		{"berry wide mapping", "yarn.lock", "__metadata:\n  version: 6\n" + repeat("\"k%d@npm:1\":\n  version: 1\n", 60000)},
		{"yarn v1 long header", "yarn.lock", strings.Repeat("a@1, ", 500000) + "a@2:\n  version \"1\"\n"},
		{"npm many deps at depth", "package-lock.json", `{"packages":{"` + strings.Repeat("node_modules/a/", 60) + `":{"dependencies":{` + repeat(`"d%d":"1",`, 100000) + `"z":"1"}}}}`},
		{"Cargo many packages", "Cargo.lock", repeat("[[package]]\nname = \"c%d\"\nversion = \"1.0.0\"\ndependencies = [\"c0\"]\n", 30000)},
		{"Gemfile many specs", "Gemfile.lock", "GEM\n  specs:\n" + repeat("    g%d (1.0)\n      g0\n", 100000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := lockdeps.Parse(tt.path, []byte(tt.content))
			if err != nil && !errors.Is(err, lockdeps.ErrMalformed) && !errors.Is(err, lockdeps.ErrTooLarge) {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("%d bytes took %v", len(tt.content), d)
			}
		})
	}
}
