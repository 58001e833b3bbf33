package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tether-sec/tether/graph"
)

// FilesOptions bound LayerFiles. Zero values take the defaults.
type FilesOptions struct {
	// FromLayer is the first layer read (AppLayerStart gives the first layer
	// after the base image).
	FromLayer int
	// MaxFileSize skips larger files (default 32 MiB): source files are smaller.
	MaxFileSize int64
	// MaxLayerBytes and MaxLayerEntries bound each layer's uncompressed tar
	// stream (defaults 32 GiB and 4 million entries); a layer beyond either is
	// an error matching ErrLayerTooLarge.
	MaxLayerBytes   int64
	MaxLayerEntries int
	// scratch is the directory binaries and jars are spooled to (a temporary
	// directory LayerFiles makes and removes).
	scratch string
}

// ErrLayerTooLarge is matched by the error of a layer beyond a FilesOptions
// bound: a decompression bomb or an image too large to read.
var ErrLayerTooLarge = errors.New("image: layer exceeds a limit")

// LayerFiles reads the layers of img from opts.FromLayer on, applies each
// layer's whiteouts and opaque directories to those before it, and returns the
// regular files left, sorted by path, with their git blob hashes. Nothing is
// written to disk: each layer's tar stream is read once and hashed as it goes.
// Entries are named by their cleaned path, so "../" and absolute names cannot
// reach outside the image's root.
func LayerFiles(ctx context.Context, img v1.Image, opts FilesOptions) ([]graph.FileBlob, error) {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = 32 << 20
	}
	if opts.MaxLayerBytes <= 0 {
		opts.MaxLayerBytes = 32 << 30
	}
	if opts.MaxLayerEntries <= 0 {
		opts.MaxLayerEntries = 4_000_000
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("image: layers: %w", err)
	}
	scratch, err := os.MkdirTemp("", "tether-files-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	opts.scratch = scratch
	files := map[string]graph.FileBlob{}
	for i := max(opts.FromLayer, 0); i < len(layers); i++ {
		if err := readLayerFiles(ctx, layers[i], i, files, opts); err != nil {
			return nil, fmt.Errorf("image: layer %d: %w", i, err)
		}
	}
	out := make([]graph.FileBlob, 0, len(files))
	for _, f := range files {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b graph.FileBlob) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

func readLayerFiles(ctx context.Context, l v1.Layer, index int, files map[string]graph.FileBlob, opts FilesOptions) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	lim := &limitedReader{r: rc, left: opts.MaxLayerBytes}
	tr := tar.NewReader(lim)
	// Entry contents as the tar reader gives them: sparse entries can make far
	// more bytes than the stream holds, so they count against the same budget.
	content := &limitedReader{r: tr, left: opts.MaxLayerBytes}
	// A layer's whiteouts apply to the layers below it, not to its own entries:
	// collect them and this layer's files apart, then merge.
	var deleted, opaque []string
	mine := map[string]graph.FileBlob{}
	h := sha1.New()
	buf := make([]byte, 64<<10)
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if n >= opts.MaxLayerEntries {
			return fmt.Errorf("%w: more than %d entries", ErrLayerTooLarge, opts.MaxLayerEntries)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if lim.over {
				return fmt.Errorf("%w: more than %d bytes uncompressed", ErrLayerTooLarge, opts.MaxLayerBytes)
			}
			return fmt.Errorf("reading the tar stream: %w", err)
		}
		p := CleanPath(hdr.Name)
		if p == "" {
			continue
		}
		dir, base := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		if base == ".wh..wh..opq" {
			opaque = append(opaque, dir)
			continue
		}
		if name, ok := strings.CutPrefix(base, ".wh."); ok {
			deleted = append(deleted, path.Join(dir, name))
			continue
		}
		// Any entry replaces what was at its path below.
		delete(mine, p)
		deleted = append(deleted, p)
		if hdr.Typeflag != tar.TypeReg || hdr.Size < 0 {
			continue
		}
		hash := hdr.Size <= opts.MaxFileSize
		kind := buildKindOf(p, hdr.Mode, hdr.Size)
		if !hash && kind == buildNone {
			continue
		}
		fb, err := readFile(content, hdr, p, hash, kind, h, buf, opts.scratch)
		if err != nil {
			if lim.over || content.over {
				return fmt.Errorf("%w: more than %d bytes uncompressed", ErrLayerTooLarge, opts.MaxLayerBytes)
			}
			return err
		}
		if fb.Blob == "" && fb.Build == nil {
			continue
		}
		fb.Layer = index
		mine[p] = fb
	}
	// Read to the end so that a registry layer's digest is verified.
	if _, err := io.Copy(io.Discard, lim); err != nil {
		if lim.over {
			return fmt.Errorf("%w: more than %d bytes uncompressed", ErrLayerTooLarge, opts.MaxLayerBytes)
		}
		return err
	}
	for p := range files {
		if HiddenBy(p, deleted, opaque) {
			delete(files, p)
		}
	}
	for p, f := range mine {
		files[p] = f
	}
	return nil
}

// HiddenBy reports whether a lower layer's file at p is removed by a layer's
// deletions (whiteouts and replaced paths, with everything under them) or its
// opaque directories ("" for the root).
func HiddenBy(p string, deleted, opaque []string) bool {
	for _, d := range deleted {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	for _, d := range opaque {
		if d == "" || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// CleanPath turns a tar entry name (or any path an image holds) into a slash
// path under the root, without a leading slash: "../" and absolute names cannot
// reach outside it. "" stays "".
func CleanPath(name string) string {
	p := path.Clean("/" + strings.ReplaceAll(name, "\\", "/"))
	return strings.TrimPrefix(p, "/")
}

// limitedReader fails once more than its budget has been read.
type limitedReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.over {
		return 0, ErrLayerTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.over = true
		return n, ErrLayerTooLarge
	}
	return n, err
}

// AppLayerStart returns the index of the first layer the image's own build
// added on top of its base image, as far as the history tells (see
// BaseImageEnd), or 0 when it cannot tell: then every layer is the image's.
func AppLayerStart(cfg *v1.ConfigFile, layers int) int {
	if cfg == nil {
		return 0
	}
	end := BaseImageEnd(cfg.History)
	if end < 0 {
		return 0
	}
	hist := LayerHistory(cfg.History, layers)
	if len(hist) > 0 && hist[0] < 0 {
		return 0 // the history does not describe the layers
	}
	for i, h := range hist {
		if h > end {
			return i
		}
	}
	return layers
}

// BaseImageEnd returns the history index of the base image's last entry, or -1.
// A Dockerfile build appends to the base's history, and a base image ends, almost
// always, with its CMD or ENTRYPOINT (an entry without a layer). So: from the end,
// pass the image's own trailing metadata entries and its layers; the first CMD or
// ENTRYPOINT met before them is where the base ended.
func BaseImageEnd(history []v1.History) int {
	seenLayer := false
	for i := len(history) - 1; i >= 0; i-- {
		h := history[i]
		if !h.EmptyLayer {
			seenLayer = true
			continue
		}
		if !seenLayer {
			continue
		}
		cmd := strings.TrimSpace(h.CreatedBy)
		cmd = strings.TrimPrefix(cmd, "/bin/sh -c #(nop) ")
		cmd = strings.TrimSpace(cmd)
		if strings.HasPrefix(cmd, "CMD") || strings.HasPrefix(cmd, "ENTRYPOINT") {
			return i
		}
	}
	return -1
}

// readFile reads one regular file's content once: its git blob hash when doHash
// is set, and its build information when kind says it may hold some (Go
// binaries and jars are spooled to a file in scratch, text files kept in memory).
func readFile(r io.Reader, hdr *tar.Header, p string, doHash bool, kind buildReader, h hash.Hash, buf []byte, scratch string) (graph.FileBlob, error) {
	fb := graph.FileBlob{Path: p, Size: hdr.Size}
	var ws []io.Writer
	if doHash {
		h.Reset()
		h.Write([]byte("blob " + strconv.FormatInt(hdr.Size, 10) + "\x00"))
		ws = append(ws, h)
	}
	var text bytes.Buffer
	var spool *os.File
	src := r
	switch kind {
	case buildBinary, buildJar:
		head := make([]byte, 4)
		n, _ := io.ReadFull(r, head)
		head = head[:n]
		src = io.MultiReader(bytes.NewReader(head), r)
		if kind == buildJar || executableMagic(head) {
			f, err := os.CreateTemp(scratch, "bin-")
			if err != nil {
				return fb, err
			}
			defer os.Remove(f.Name())
			defer f.Close()
			spool = f
			ws = append(ws, f)
		}
	case buildGitProperties, buildPackageJSON:
		ws = append(ws, &text)
	}
	copied, err := io.CopyBuffer(io.MultiWriter(ws...), src, buf)
	if err != nil {
		return fb, fmt.Errorf("reading %s: %w", p, err)
	}
	if copied != hdr.Size {
		return fb, fmt.Errorf("reading %s: %d bytes, header says %d", p, copied, hdr.Size)
	}
	if doHash {
		fb.Blob = hex.EncodeToString(h.Sum(nil))
	}
	switch {
	case spool != nil && kind == buildJar:
		fb.Build = jarBuild(spool, copied)
	case spool != nil:
		fb.Build = goBuild(spool)
	case kind == buildGitProperties:
		fb.Build = gitProperties(&text)
	case kind == buildPackageJSON:
		fb.Build = packageJSON(text.Bytes())
	}
	return fb, nil
}
