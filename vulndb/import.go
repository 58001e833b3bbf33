package vulndb

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Options configure Import and Update. The zero value is usable.
type Options struct {
	// Logger receives warnings about skipped input (each names the file and
	// record). Default: discard.
	Logger *slog.Logger
	// Progress receives one line per step (download, import). Default: none.
	Progress io.Writer
	// MaxUnpacked bounds the bytes decompressed from all zips of one import.
	// Default DefaultMaxUnpacked.
	MaxUnpacked int64

	// Update only.

	// Ecosystems are the OSV bucket folders to download. Default
	// DefaultEcosystems().
	Ecosystems []string
	// OSVBaseURL is the OSV bucket (or a mirror laid out like it). Default
	// https://osv-vulnerabilities.storage.googleapis.com.
	OSVBaseURL string
	// KEVURL is the CISA KEV catalog JSON. Default DefaultKEVURL.
	KEVURL string
	// EPSSURL is the FIRST EPSS daily CSV. Default DefaultEPSSURL.
	EPSSURL string
	// NoKEV and NoEPSS leave those sources out.
	NoKEV, NoEPSS bool
	// HTTPClient makes the requests. Default: a client with no overall timeout
	// (cancel through ctx) that follows redirects.
	HTTPClient *http.Client
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (o *Options) progress(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}

// input kinds.
const (
	kindZip  = "osv-zip"
	kindJSON = "osv-json" // a folder of <ID>.json records
	kindKEV  = "kev"
	kindEPSS = "epss"
)

// input is one source of an import.
type input struct {
	kind  string
	paths []string // one file, or the JSON files of a folder
	src   SourceStatus
	// want is the SHA-256 the download cache recorded; a mismatch means the
	// cached file changed since, and the import fails.
	want string
}

// Import builds a new database in dir from local files and swaps it in
// atomically: it is written to a temporary file in dir, synced and renamed over
// the old one, so a failed import leaves the old database as it was. The new
// database holds only what path holds.
//
// path is a folder laid out like the OSV bucket (<Ecosystem>/all.zip, or
// <Ecosystem>/*.json; any depth), or a single OSV zip. Anywhere in the folder
// it also reads known_exploited_vulnerabilities.json (the CISA KEV catalog)
// and epss_scores*.csv or .csv.gz (a FIRST EPSS CSV; the newest score date if
// there are several). Other files are ignored.
//
// A record that is not OSV, a zip entry over osv.MaxRecordSize, an unknown
// ecosystem or a bad KEV entry or EPSS row is a warning (Options.Logger) that
// names it, and the import goes on. A zip that cannot be read, a KEV file that
// is not the catalog, an EPSS CSV with another header, more than
// Options.MaxUnpacked bytes unpacked, or no OSV record at all fail the import
// with ErrBadInput.
func Import(ctx context.Context, dir, path string, opts Options) (Status, error) {
	ins, err := findInputs(path, opts.logger())
	if err != nil {
		return Status{}, err
	}
	return build(ctx, dir, ins, opts)
}

// findInputs lists the sources under path in a fixed order: OSV sources by
// path, then KEV, then EPSS.
func findInputs(root string, log *slog.Logger) ([]input, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	var osvIns, kevs, epsss []input
	jsonDirs := map[string][]string{}
	add := func(p, rel string) {
		base := filepath.Base(p)
		lower := strings.ToLower(base)
		switch {
		case strings.HasPrefix(base, "."):
			log.Debug("hidden; ignored", "file", p)
		case strings.HasSuffix(lower, ".zip"):
			name := filepath.ToSlash(rel)
			if strings.EqualFold(filepath.Base(rel), "all.zip") && filepath.Dir(rel) != "." {
				name = filepath.ToSlash(filepath.Dir(rel))
			}
			// Update's cache keeps the zips under osv/.
			if n, ok := strings.CutPrefix(name, "osv/"); ok && !strings.Contains(n, "/") {
				name = n
			}
			osvIns = append(osvIns, input{kind: kindZip, paths: []string{p}, src: SourceStatus{Name: "osv/" + name, Location: p}})
		case lower == "known_exploited_vulnerabilities.json":
			kevs = append(kevs, input{kind: kindKEV, paths: []string{p}, src: SourceStatus{Name: "kev", Location: p}})
		case strings.HasPrefix(lower, "known_exploited_vulnerabilities"):
			log.Debug("not the KEV catalog by name; ignored", "file", p)
		case strings.HasPrefix(lower, "epss_scores") && (strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".csv.gz")):
			epsss = append(epsss, input{kind: kindEPSS, paths: []string{p}, src: SourceStatus{Name: "epss", Location: p}})
		case strings.HasSuffix(lower, ".json"):
			d := filepath.Dir(p)
			jsonDirs[d] = append(jsonDirs[d], p)
		default:
			log.Debug("ignored", "file", p)
		}
	}
	if !fi.IsDir() {
		add(root, filepath.Base(root))
	} else {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != root && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				// Follow a symlink to a file (not to a folder: no loops).
				if fi, err := os.Stat(p); d.Type()&fs.ModeSymlink == 0 || err != nil || !fi.Mode().IsRegular() {
					return nil
				}
			}
			rel, _ := filepath.Rel(root, p)
			add(p, rel)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
	}
	for d, files := range jsonDirs {
		sort.Strings(files)
		rel, _ := filepath.Rel(root, d)
		name := filepath.ToSlash(rel)
		if !fi.IsDir() {
			name = filepath.Base(d)
		}
		osvIns = append(osvIns, input{kind: kindJSON, paths: files, src: SourceStatus{Name: "osv/" + name, Location: d}})
	}
	if len(osvIns) == 0 {
		return nil, fmt.Errorf("%w: %s holds no OSV data (<Ecosystem>/all.zip or <Ecosystem>/*.json); nothing was changed", ErrBadInput, root)
	}
	sort.SliceStable(osvIns, func(i, j int) bool { return osvIns[i].src.Location < osvIns[j].src.Location })
	ins := osvIns
	if len(kevs) > 1 {
		return nil, fmt.Errorf("%w: more than one KEV catalog under %s (%s, %s); keep one", ErrBadInput, root, kevs[0].src.Location, kevs[1].src.Location)
	}
	ins = append(ins, kevs...)
	if len(epsss) > 1 {
		// The newest by name (epss_scores-YYYY-MM-DD sorts by date).
		sort.Slice(epsss, func(i, j int) bool { return filepath.Base(epsss[i].paths[0]) > filepath.Base(epsss[j].paths[0]) })
		for _, e := range epsss[1:] {
			log.Warn("more than one EPSS file; the newest is read", "read", epsss[0].paths[0], "ignored", e.paths[0])
		}
		epsss = epsss[:1]
	}
	return append(ins, epsss...), nil
}

// build writes a database from ins and swaps it into dir.
func build(ctx context.Context, dir string, ins []input, opts Options) (Status, error) {
	start := time.Now()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Status{}, fmt.Errorf("vulndb: cannot create %s: %v", dir, err)
	}
	b, err := newBuilder(ctx, dir)
	if err != nil {
		return Status{}, err
	}
	ok := false
	defer func() {
		if !ok {
			b.abort()
		}
	}()
	max := opts.MaxUnpacked
	if max <= 0 {
		max = DefaultMaxUnpacked
	}
	bud := &budget{left: max, limit: max}
	st := Status{Dir: dir, Built: time.Now().UTC().Truncate(time.Second)}
	log := opts.logger()
	for _, in := range ins {
		if err := ctx.Err(); err != nil {
			return Status{}, err
		}
		w := &warner{log: log, source: in.src.Name}
		src, err := readInput(ctx, b, in, bud, w)
		w.done()
		if err != nil {
			return Status{}, &sourceError{name: in.src.Name, path: in.paths[0], err: err}
		}
		src.Warnings = w.n
		st.Warnings += w.n
		st.Sources = append(st.Sources, src)
		opts.progress("import %s: %d records%s", src.Name, src.Records, warnSuffix(w.n))
	}
	records := 0
	for i, in := range ins {
		if in.kind == kindZip || in.kind == kindJSON {
			records += st.Sources[i].Records
		}
	}
	if records == 0 {
		return Status{}, fmt.Errorf("%w: no OSV record could be read (see the warnings); nothing was changed", ErrBadInput)
	}
	if err := b.finish(ctx, &st); err != nil {
		return Status{}, err
	}
	if err := b.install(dir); err != nil {
		return Status{}, err
	}
	ok = true
	opts.progress("built %s: %d advisories (%d withdrawn), %d KEV, %d EPSS in %s",
		filepath.Join(dir, dbFile), st.Advisories, st.Withdrawn, st.KEV, st.EPSS, time.Since(start).Round(time.Millisecond))
	return st, nil
}

func warnSuffix(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d warnings", n)
}

// readInput reads one source into b and describes it.
func readInput(ctx context.Context, b *builder, in input, bud *budget, w *warner) (SourceStatus, error) {
	src := in.src
	if src.Fetched.IsZero() {
		if fi, err := os.Stat(in.paths[0]); err == nil {
			src.Fetched = fi.ModTime().UTC()
		}
	}
	var err error
	switch in.kind {
	case kindZip:
		src.SHA256, src.Records, err = readZipFile(ctx, b, in.paths[0], bud, w)
	case kindJSON:
		src.SHA256, src.Records, err = readJSONFiles(ctx, b, in.paths, bud, w)
	case kindKEV:
		err = withFile(in.paths[0], func(r io.Reader) error {
			es, ver, err := parseKEV(r, in.paths[0], w)
			if err != nil {
				return err
			}
			src.Version, src.Records = ver, len(es)
			for _, e := range es {
				if err := b.addKEV(ctx, e); err != nil {
					return err
				}
			}
			return nil
		}, &src.SHA256)
	case kindEPSS:
		err = withFile(in.paths[0], func(r io.Reader) error {
			n, ver, err := parseEPSS(ctx, r, in.paths[0], w, func(s EPSSScore) error { return b.addEPSS(ctx, s) })
			src.Records, src.Version = n, ver
			return err
		}, &src.SHA256)
	}
	if err != nil {
		return src, err
	}
	if in.want != "" && src.SHA256 != in.want {
		return src, fmt.Errorf("%w: %s changed since it was downloaded (sha256 %s, recorded %s)", errCacheChanged, in.paths[0], src.SHA256, in.want)
	}
	return src, nil
}

// sourceError says which input an import failed on.
type sourceError struct {
	name, path string
	err        error
}

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

var errCacheChanged = errors.New("vulndb: cached download changed")

// withFile calls fn with the file's content and sets *sum to its SHA-256,
// hashed as it is read (the rest is drained so the sum covers the whole file).
func withFile(p string, fn func(io.Reader) error, sum *string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	defer f.Close()
	h := sha256.New()
	tr := io.TeeReader(f, h)
	if err := fn(tr); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadInput, p, err)
	}
	*sum = hex.EncodeToString(h.Sum(nil))
	return nil
}

func readZipFile(ctx context.Context, b *builder, p string, bud *budget, w *warner) (string, int, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %s: %v", ErrBadInput, p, err)
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %s is not a readable zip: %v; fetch it again", ErrBadInput, p, err)
	}
	n, err := readZip(ctx, zr, p, bud, w, func(r *record) error { return b.addRecord(ctx, r, w) })
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// readJSONFiles reads a folder's <ID>.json records; its sum is the SHA-256 of
// the lines "<sha256>  <name>" of its files in name order.
func readJSONFiles(ctx context.Context, b *builder, paths []string, bud *budget, w *warner) (string, int, error) {
	tree := sha256.New()
	n, err := readFiles(ctx, paths, bud, w, tree, func(r *record) error { return b.addRecord(ctx, r, w) })
	return hex.EncodeToString(tree.Sum(nil)), n, err
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
