package sbom

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/simplefileapi"

	"github.com/tether-sec/tether/gosymbols"
	"github.com/tether-sec/tether/image"
)

// LayerCache keeps per-layer catalog results between runs, so that an image that
// shares base layers with one cataloged before is scanned only for its new layers.
// A store.Store satisfies it through its documents (see the CLI); nil disables it.
type LayerCache interface {
	// Document returns the value under (kind, key), or an error when there is none.
	Document(ctx context.Context, kind, key string) ([]byte, error)
	// PutDocument stores value under (kind, key).
	PutDocument(ctx context.Context, kind, key string, value []byte) error
}

// LayerCacheKind is the document kind of cached layer results.
const LayerCacheKind = "sbom-layer"

// layerCacheVersion changes when the cached form or the catalog's meaning changes.
const layerCacheVersion = "3"

// Default limits of an image catalog, per layer.
const (
	// DefaultMaxLayerBytes caps the uncompressed size of one layer's tar stream.
	DefaultMaxLayerBytes = 32 << 30
	// DefaultMaxLayerEntries caps the number of tar entries of one layer.
	DefaultMaxLayerEntries = 4_000_000
)

// ErrLayerTooLarge is matched by the error of a layer beyond a limit (uncompressed
// bytes or entries): a decompression bomb or an image too large to catalog.
var ErrLayerTooLarge = errors.New("sbom: layer exceeds a limit")

// contextFiles are read by extractors for context rather than packages (the
// distribution, for purl namespaces and qualifiers); they are carried from layer
// to layer so that a layer scanned alone still knows its distribution.
var contextFiles = []string{"etc/os-release", "usr/lib/os-release"}

// maxContextFile bounds a context file kept in the carried state.
const maxContextFile = 64 << 10

// layerState is what the catalog knows after a layer: the packages present in the
// image's file system at that point, each with the index of the layer that
// introduced it, and the context files. It is what the cache keeps, by chain ID;
// layer digests and history are filled in from the image being cataloged, since
// images that share a chain may differ in compression and history.
type layerState struct {
	Version  string            `json:"v"`
	Packages []statePackage    `json:"packages,omitempty"`
	Context  map[string][]byte `json:"context,omitempty"`
	Problems []stateProblem    `json:"problems,omitempty"`
	// Deps are the dependency edges of the lockfiles present.
	Deps []depEdge `json:"deps,omitempty"`
	// GoSymbols are the function tables of the Go binaries present, by path.
	GoSymbols map[string]*gosymbols.Table `json:"go_symbols,omitempty"`
}

type statePackage struct {
	Package
	Layer int `json:"layer"`
}

type stateProblem struct {
	Problem
	Layer int `json:"layer"`
}

// chainIDs returns the OCI chain ID of every layer prefix of diffIDs.
func chainIDs(diffIDs []string) []string {
	out := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		sum := sha256.Sum256([]byte(out[i-1] + " " + d))
		out[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}

// cacheKey names the cached state after a chain for the scanner's configuration
// (cache format, file size limit, extractors).
func (ls *layerScanner) cacheKey(chainID string) string {
	return chainID + "/" + ls.config
}

func encodeState(s *layerState) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(s); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeState(b []byte) (*layerState, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var s layerState
	if err := json.NewDecoder(io.LimitReader(zr, 1<<30)).Decode(&s); err != nil {
		return nil, err
	}
	if s.Version != layerCacheVersion {
		return nil, fmt.Errorf("cached layer state version %q, want %q", s.Version, layerCacheVersion)
	}
	return &s, nil
}

// layerScanner catalogs an image one layer at a time.
type layerScanner struct {
	extractors []filesystem.Extractor
	maxFile    int64
	maxBytes   int64
	maxEntries int
	log        *slog.Logger
	// config identifies what the cached results depend on; see cacheKey.
	config string
}

func newLayerScanner(maxFile int64, opts Options) (*layerScanner, error) {
	extractors, err := newExtractors(maxFile)
	if err != nil {
		return nil, err
	}
	ls := &layerScanner{extractors: extractors, maxFile: maxFile, maxBytes: opts.MaxLayerBytes, maxEntries: opts.MaxLayerEntries, log: opts.logger()}
	if ls.maxBytes <= 0 {
		ls.maxBytes = DefaultMaxLayerBytes
	}
	if ls.maxEntries <= 0 {
		ls.maxEntries = DefaultMaxLayerEntries
	}
	h := sha256.New()
	fmt.Fprintf(h, "v%s\x00%d", layerCacheVersion, maxFile)
	for _, e := range extractors {
		io.WriteString(h, "\x00"+e.Name())
	}
	ls.config = hex.EncodeToString(h.Sum(nil)[:8])
	return ls, nil
}

// required reports whether an extractor wants the file at p (relative, slash-separated).
func (ls *layerScanner) required(p string, fi fs.FileInfo) bool {
	api := simplefileapi.New(p, fi)
	for _, e := range ls.extractors {
		if e.FileRequired(api) {
			return true
		}
	}
	return false
}

// layerChanges is what one layer does to the file system below it.
type layerChanges struct {
	// written are the paths the layer puts an entry at (any type): what was there
	// below is replaced.
	written map[string]bool
	// deleted are whiteouts: these paths and everything under them are gone.
	deleted []string
	// opaque are directories whose lower content is hidden.
	opaque []string
	// symlinks of the layer, path → target, for context file resolution.
	symlinks map[string]string
	// context files the layer writes.
	context map[string][]byte
	// problems met while unpacking (files too large, unreadable entries).
	problems []Problem
}

// hides reports whether the layer hides a lower file at p.
func (c *layerChanges) hides(p string) bool {
	return c.written[p] || image.HiddenBy(p, c.deleted, c.opaque)
}

// scan catalogs layer index of img on top of prev and returns the state after it.
func (ls *layerScanner) scan(ctx context.Context, l v1.Layer, index int, diffID string, prev *layerState) (*layerState, error) {
	dir, err := os.MkdirTemp("", "tether-layer-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	ch, err := ls.unpack(ctx, l, dir)
	if err != nil {
		return nil, err
	}

	next := &layerState{Version: layerCacheVersion, Context: map[string][]byte{}}
	for p, b := range prev.Context {
		if !ch.hides(p) {
			next.Context[p] = b
		}
	}
	for p, b := range ch.context {
		next.Context[p] = b
	}
	// A context file that is a symlink (etc/os-release → ../usr/lib/os-release)
	// takes the content it points at.
	for _, p := range contextFiles {
		if _, ok := next.Context[p]; ok {
			continue
		}
		if target, ok := ch.symlinks[p]; ok {
			if b, ok := next.Context[resolveLink(p, target)]; ok {
				next.Context[p] = b
			}
		}
	}
	// Extractors find the distribution through the context files: put them in.
	for p, b := range next.Context {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if _, err := os.Lstat(full); err == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err == nil {
			_ = os.WriteFile(full, b, 0o644)
		}
	}

	res, err := scanTree(ctx, dir, ls.extractors, ls.maxFile, nil, ls.log)
	if err != nil {
		return nil, err
	}

	// Lower packages stay unless this layer hides the file they were found in.
	old := map[string]statePackage{}
	for _, p := range prev.Packages {
		path := firstPath(p.Package)
		if ch.hides(path) {
			old[identity(p.Package)] = p
			continue
		}
		next.Packages = append(next.Packages, p)
	}
	for _, d := range prev.Deps {
		if !ch.hides(d.Path) {
			next.Deps = append(next.Deps, d)
		}
	}
	for p, tab := range prev.GoSymbols {
		if !ch.hides(p) {
			if next.GoSymbols == nil {
				next.GoSymbols = map[string]*gosymbols.Table{}
			}
			next.GoSymbols[p] = tab
		}
	}
	var found []Package
	for _, sp := range res.packages {
		found = append(found, convertPackage(sp))
	}
	addDebLicenses(dir, found)
	// The binaries are gone once the layer is scanned: read their functions now.
	for p, tab := range goSymbolTables(ctx, dir, found, ls.log) {
		if next.GoSymbols == nil {
			next.GoSymbols = map[string]*gosymbols.Table{}
		}
		next.GoSymbols[p] = tab
	}
	for _, p := range found {
		layer := index
		// The same package at the same path as below (a package database rewritten
		// by a later layer) keeps the layer that introduced it, and its licences
		// when this layer does not carry its copyright file.
		if o, ok := old[identity(p)]; ok {
			layer = o.Layer
			if len(p.Licenses) == 0 {
				p.Licenses = o.Licenses
			}
		}
		next.Packages = append(next.Packages, statePackage{Package: p, Layer: layer})
	}
	edges, probs := lockfileEdges(dir, found, ls.log)
	next.Deps = append(next.Deps, edges...)
	ch.problems = append(ch.problems, probs...)
	for _, p := range prev.Problems {
		if !ch.hides(p.Path) {
			next.Problems = append(next.Problems, p)
		}
	}
	for _, p := range append(ch.problems, problems(res.statuses, diffID)...) {
		p.Layer = diffID
		next.Problems = append(next.Problems, stateProblem{Problem: p, Layer: index})
	}
	return next, nil
}

// resolveLink resolves a symlink target relative to the link's directory, within
// the image root.
func resolveLink(link, target string) string {
	if path.IsAbs(target) {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	return strings.TrimPrefix(path.Clean("/"+path.Join(path.Dir(link), target)), "/")
}

// unpack reads the layer's tar stream once and writes into dir only the regular
// files an extractor wants, under their cleaned paths. Nothing but plain files and
// directories is created in dir, so no entry (absolute, "../", symlinked parents)
// can write outside it.
func (ls *layerScanner) unpack(ctx context.Context, l v1.Layer, dir string) (*layerChanges, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	counted := &countingReader{r: rc, max: ls.maxBytes}
	tr := tar.NewReader(counted)
	// Entry contents as the tar reader gives them: sparse entries and hard links can
	// make far more bytes than the stream holds, so they count against the same
	// limit.
	content := &countingReader{r: tr, max: ls.maxBytes}
	ch := &layerChanges{written: map[string]bool{}, symlinks: map[string]string{}, context: map[string][]byte{}}
	// Files of this layer written to dir, for hard links.
	wrote := map[string]bool{}
	for entries := 0; ; entries++ {
		if entries%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if entries >= ls.maxEntries {
			return nil, fmt.Errorf("%w: more than %d entries", ErrLayerTooLarge, ls.maxEntries)
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if counted.over || content.over {
				return nil, fmt.Errorf("%w: more than %d bytes uncompressed", ErrLayerTooLarge, ls.maxBytes)
			}
			return nil, fmt.Errorf("reading the layer's tar stream: %w", err)
		}
		p := image.CleanPath(h.Name)
		if p == "" {
			continue
		}
		dirName, base := path.Split(p)
		dirName = strings.TrimSuffix(dirName, "/")
		if base == ".wh..wh..opq" {
			ch.opaque = append(ch.opaque, dirName)
			continue
		}
		if name, ok := strings.CutPrefix(base, ".wh."); ok {
			ch.deleted = append(ch.deleted, path.Join(dirName, name))
			continue
		}
		ch.written[p] = true
		switch h.Typeflag {
		case tar.TypeSymlink:
			ch.symlinks[p] = h.Linkname
			continue
		case tar.TypeLink:
			target := image.CleanPath(h.Linkname)
			if !wrote[target] || !ls.required(p, h.FileInfo()) {
				continue
			}
			if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(target))); err == nil {
				// A copy counts as content read: many links to one large file are
				// a bomb too.
				if content.n += fi.Size(); content.n > content.max {
					return nil, fmt.Errorf("%w: more than %d bytes uncompressed", ErrLayerTooLarge, ls.maxBytes)
				}
			}
			if err := copyWithin(dir, target, p); err != nil {
				ch.problems = append(ch.problems, Problem{Path: p, Message: "hard link: " + err.Error()})
				continue
			}
			wrote[p] = true
			continue
		case tar.TypeReg:
		default:
			continue // directories, devices, fifos
		}
		if slices.Contains(contextFiles, p) && h.Size <= maxContextFile {
			b, err := io.ReadAll(io.LimitReader(content, maxContextFile))
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", p, err)
			}
			ch.context[p] = b
			continue
		}
		if ls.maxFile > 0 && h.Size > ls.maxFile {
			// Extractors refuse large files themselves: ask as if it were small,
			// to report what is skipped.
			if ls.required(p, sizeless{h.FileInfo()}) {
				ch.problems = append(ch.problems, Problem{Path: p, Message: fmt.Sprintf("skipped: %d bytes, larger than the %d-byte file limit", h.Size, ls.maxFile)})
			}
			continue
		}
		if !ls.required(p, h.FileInfo()) && (!isDebCopyright(p) || h.Size > maxCopyrightFile) {
			continue
		}
		if err := writeEntry(dir, p, h.FileInfo().Mode(), content); err != nil {
			if counted.over || content.over {
				return nil, fmt.Errorf("%w: more than %d bytes uncompressed", ErrLayerTooLarge, ls.maxBytes)
			}
			ch.problems = append(ch.problems, Problem{Path: p, Message: err.Error()})
			continue
		}
		wrote[p] = true
	}
	// Read to the end so that a registry layer's digest is verified.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		if counted.over {
			return nil, fmt.Errorf("%w: more than %d bytes uncompressed", ErrLayerTooLarge, ls.maxBytes)
		}
		return nil, fmt.Errorf("reading the layer: %w", err)
	}
	return ch, nil
}

// writeEntry writes r to dir/p. Every parent must be a directory made here: a
// path whose parent is a file of this layer is refused.
func writeEntry(dir, p string, mode fs.FileMode, r io.Reader) error {
	full := filepath.Join(dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("cannot unpack: %w", err)
	}
	perm := fs.FileMode(0o644)
	if mode&0o111 != 0 {
		perm = 0o755
	}
	// A second entry for the same path in one layer replaces the first.
	_ = os.Remove(full)
	f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("cannot unpack: %w", err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("cannot unpack: %w", err)
	}
	return f.Close()
}

func copyWithin(dir, from, to string) error {
	src, err := os.Open(filepath.Join(dir, filepath.FromSlash(from)))
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	return writeEntry(dir, to, fi.Mode(), src)
}

// countingReader fails once more than max bytes have been read.
type countingReader struct {
	r    io.Reader
	n    int64
	max  int64
	over bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.over {
		return 0, fmt.Errorf("%w: more than %d bytes uncompressed", ErrLayerTooLarge, c.max)
	}
	// Allow one byte past the limit to tell a stream of exactly max bytes from a
	// longer one.
	if rem := c.max - c.n + 1; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		c.over = true
		return n, fmt.Errorf("%w: more than %d bytes uncompressed", ErrLayerTooLarge, c.max)
	}
	return n, err
}

// sizeless is a FileInfo that reports size 0.
type sizeless struct{ fs.FileInfo }

func (sizeless) Size() int64 { return 0 }
