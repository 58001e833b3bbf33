package lockdeps

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Sentinel errors. Every error Parse returns wraps one of them and names the file.
var (
	// ErrMalformed means the content is not a well-formed lockfile of the format its
	// name announces.
	ErrMalformed = errors.New("lockdeps: malformed lockfile")
	// ErrTooLarge means the lockfile exceeds a work bound (MaxEdges, nesting depth).
	ErrTooLarge = errors.New("lockdeps: lockfile too large")
	// ErrUnsupported means the file's base name is not a lockfile Parse knows.
	ErrUnsupported = errors.New("lockdeps: unsupported lockfile")
)

// MaxEdges bounds the edges plus roots one lockfile may yield. Past it Parse stops
// with ErrTooLarge: a real lockfile has a few thousand.
const MaxEdges = 1_000_000

// maxNesting bounds how deep a lockfile may nest: node_modules levels in an npm
// lockfile, brackets in a TOML value. Real files stay well under a dozen.
const maxNesting = 64

// Ecosystems, as purl types.
const (
	Npm      = "npm"
	Cargo    = "cargo"
	PyPI     = "pypi"
	Composer = "composer"
	Gem      = "gem"
)

// Key names one package as the lockfile pins it.
type Key struct {
	// Ecosystem is the purl type: npm, cargo, pypi, composer, gem.
	Ecosystem string
	// Name as the package's own entry spells it: the real name of an npm alias,
	// the vendor/name of a composer package.
	Name string
	// Version as the lockfile pins it, without pnpm's peer suffix or a gem's
	// platform. Empty for an entry that has none (a workspace member without one).
	Version string
}

func (k Key) String() string { return k.Ecosystem + ":" + k.Name + "@" + k.Version }

// Edge says that From depends on To.
type Edge struct {
	From, To Key
	// Dev is true when From declares To as a development dependency (an npm
	// workspace member's devDependencies, a uv dev group). When From declares To
	// both ways the edge is not dev.
	Dev bool
}

// Graph is the dependency graph one lockfile records.
type Graph struct {
	// Roots are the direct dependencies of the project's own packages (the root
	// and workspace members), development ones included, when the lockfile says.
	// Sorted, unique.
	Roots []Key
	// Edges between pinned packages, sorted by From, then To. Every To is a package
	// the lockfile pins; a dependency the lockfile does not resolve has no edge.
	// A package depending on itself has none either.
	Edges []Edge
}

// parser reads one format into a builder.
type parser func(b *builder, content []byte) error

// formats maps a lockfile's base name to its parser.
var formats = map[string]parser{
	"package-lock.json":   parseNpm,
	"npm-shrinkwrap.json": parseNpm,
	".package-lock.json":  parseNpm, // node_modules/.package-lock.json, the hidden lockfile
	"yarn.lock":           parseYarn,
	"pnpm-lock.yaml":      parsePnpm,
	"Cargo.lock":          parseCargo,
	"poetry.lock":         parsePoetry,
	"uv.lock":             parseUv,
	"composer.lock":       parseComposer,
	"Gemfile.lock":        parseGemfile,
	"gems.locked":         parseGemfile,
}

// baseName returns the last element of a slash- or backslash-separated path.
func baseName(path string) string {
	return path[strings.LastIndexAny(path, `/\`)+1:]
}

// Supported reports whether Parse knows the file's format, by its base name.
func Supported(path string) bool {
	_, ok := formats[baseName(path)]
	return ok
}

// Parse reads the lockfile at path (the base name decides the format) and returns
// its dependency graph. It does no I/O: content is the file's bytes. Work is
// bounded by the content's size and MaxEdges, and hostile content yields an error
// wrapping ErrMalformed or ErrTooLarge, never a panic.
func Parse(path string, content []byte) (g *Graph, err error) {
	parse, ok := formats[baseName(path)]
	if !ok {
		return nil, fmt.Errorf("%w: %s: expected one of package-lock.json, yarn.lock, pnpm-lock.yaml, Cargo.lock, poetry.lock, uv.lock, composer.lock, Gemfile.lock", ErrUnsupported, path)
	}
	defer func() {
		// A last guard for the decoders this package uses: a bug there must not
		// take the catalog down. Fuzzing checks that this never fires.
		if r := recover(); r != nil {
			g, err = nil, fmt.Errorf("%w: %s: parser panic: %v", ErrMalformed, path, r)
		}
	}()
	b := &builder{roots: map[Key]struct{}{}, edges: map[[2]Key]bool{}}
	if err := parse(b, content); err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, path, err)
	}
	return b.graph(), nil
}

// errTooLarge reports a work bound exceeded.
func errTooLarge(what string) error { return fmt.Errorf("%w: %s", ErrTooLarge, what) }

// builder collects a graph without duplicates.
type builder struct {
	roots map[Key]struct{}
	edges map[[2]Key]bool // value: dev
}

func (b *builder) full() error {
	if len(b.roots)+len(b.edges) >= MaxEdges {
		return errTooLarge(fmt.Sprintf("more than %d edges", MaxEdges))
	}
	return nil
}

func (b *builder) root(k Key) error {
	if k.Name == "" {
		return nil
	}
	if _, ok := b.roots[k]; ok {
		return nil
	}
	if err := b.full(); err != nil {
		return err
	}
	b.roots[k] = struct{}{}
	return nil
}

func (b *builder) edge(from, to Key, dev bool) error {
	if from == to || from.Name == "" || to.Name == "" {
		return nil
	}
	k := [2]Key{from, to}
	if d, ok := b.edges[k]; ok {
		b.edges[k] = d && dev
		return nil
	}
	if err := b.full(); err != nil {
		return err
	}
	b.edges[k] = dev
	return nil
}

func compareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.Ecosystem, b.Ecosystem), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Version, b.Version))
}

func (b *builder) graph() *Graph {
	g := &Graph{Roots: make([]Key, 0, len(b.roots)), Edges: make([]Edge, 0, len(b.edges))}
	for k := range b.roots {
		g.Roots = append(g.Roots, k)
	}
	for k, dev := range b.edges {
		g.Edges = append(g.Edges, Edge{From: k[0], To: k[1], Dev: dev})
	}
	slices.SortFunc(g.Roots, compareKeys)
	slices.SortFunc(g.Edges, func(x, y Edge) int {
		return cmp.Or(compareKeys(x.From, y.From), compareKeys(x.To, y.To))
	})
	return g
}

// index finds pinned packages by a lookup name. A name that maps to more than one
// distinct Key is ambiguous.
type index map[string]map[Key]struct{}

func (ix index) add(name string, k Key) {
	if k.Name == "" {
		return
	}
	set := ix[name]
	if set == nil {
		set = map[Key]struct{}{}
		ix[name] = set
	}
	set[k] = struct{}{}
}

// unique returns the one Key for name, if there is exactly one.
func (ix index) unique(name string) (Key, bool) {
	if set := ix[name]; len(set) == 1 {
		for k := range set {
			return k, true
		}
	}
	return Key{}, false
}
