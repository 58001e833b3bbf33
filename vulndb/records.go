package vulndb

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"

	"github.com/tether-sec/tether/osv"
)

// record is one decoded OSV record with its stored form.
type record struct {
	v   *osv.Vulnerability
	doc []byte // compacted JSON, deflated
}

var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

var inflaters = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}

// decodeRecord decodes and validates one OSV record and makes its stored
// form. Errors match osv.ErrNotOSV.
func decodeRecord(b []byte) (*record, error) {
	v, err := osv.DecodeBytes(b)
	if err != nil {
		return nil, err
	}
	var compact bytes.Buffer
	compact.Grow(len(b))
	if err := json.Compact(&compact, b); err != nil {
		return nil, fmt.Errorf("%w: %v", osv.ErrNotOSV, err)
	}
	var out bytes.Buffer
	out.Grow(compact.Len() / 3)
	fw := deflaters.Get().(*flate.Writer)
	fw.Reset(&out)
	fw.Write(compact.Bytes()) // a bytes.Buffer does not fail
	fw.Close()
	deflaters.Put(fw)
	return &record{v: v, doc: out.Bytes()}, nil
}

// docBufs holds buffers for inflated documents: json.Unmarshal copies what it
// keeps (strings, RawMessage), so a buffer can serve the next document.
var docBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// decodeDoc decodes a stored record and returns the size of its JSON. The
// document was checked when it was imported (osv.DecodeBytes), so it is only
// unmarshalled here.
func decodeDoc(doc []byte) (*osv.Vulnerability, int64, error) {
	fr := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(fr)
	fr.(flate.Resetter).Reset(bytes.NewReader(doc), nil)
	bp := docBufs.Get().(*[]byte)
	defer docBufs.Put(bp)
	b, err := readAllLimit(fr, (*bp)[:0], osv.MaxRecordSize)
	if cap(b) <= 4<<20 {
		*bp = b[:0] // keep the grown buffer, unless a huge record grew it
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%w: stored record: %v; rebuild the database", ErrSchema, err)
	}
	v := new(osv.Vulnerability)
	if err := json.Unmarshal(b, v); err != nil || v.ID == "" {
		if err == nil {
			err = errors.New("no id")
		}
		return nil, 0, fmt.Errorf("%w: stored record: %v; rebuild the database", ErrSchema, err)
	}
	return v, int64(len(b)), nil
}

// item is one candidate record on its way through decodeAll.
type item struct {
	idx  int
	name string // zip entry or file
	raw  []byte
	held int64 // bytes counted against the in-flight bound
	// warn, when set, skips the item with that warning; err stops the import.
	warn string
	args []any
	err  error
	rec  *record
}

// maxInFlight bounds the raw bytes read but not yet stored.
const maxInFlight = 64 << 20

// decodeAll reads candidate records in order with next (one call per item
// until it returns io.EOF), decodes them on every CPU, and calls fn with the
// records in the order read. Items that are not OSV are warnings. It returns
// how many items were read and how many were records.
func decodeAll(ctx context.Context, w *warner, next func() (*item, error), fn func(*record) error) (items, n int, err error) {
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan *item, 2*workers)
	results := make(chan *item, 2*workers)
	stop := make(chan struct{})
	g := newGate(maxInFlight)

	// Producer: reads in order, bounded by the gate.
	go func() {
		defer close(jobs)
		for idx := 0; ; idx++ {
			it, err := next()
			if err == io.EOF {
				return
			}
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				it = &item{err: err}
			}
			it.idx = idx
			it.held = int64(cap(it.raw))
			if !g.acquire(it.held) {
				return
			}
			select {
			case jobs <- it:
			case <-stop:
				return
			}
			if it.err != nil {
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for it := range jobs {
				if it.err == nil && it.warn == "" {
					rec, err := decodeRecord(it.raw)
					if err != nil {
						it.warn, it.args = "not an OSV record; skipped", []any{"err", err}
					}
					it.rec, it.raw = rec, nil
				}
				select {
				case results <- it:
				case <-stop:
				}
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	// Consumer: puts the results back in order.
	defer func() {
		close(stop)
		g.close()
		for range results {
		}
	}()
	pending := map[int]*item{}
	want := 0
	for it := range results {
		pending[it.idx] = it
		for {
			it, ok := pending[want]
			if !ok {
				break
			}
			delete(pending, want)
			want++
			g.release(it.held)
			if it.err != nil {
				return items, n, it.err
			}
			items++
			if it.warn != "" {
				w.warn(it.warn, append([]any{"file", it.name}, it.args...)...)
				continue
			}
			n++
			if err := fn(it.rec); err != nil {
				return items, n, err
			}
		}
	}
	return items, n, ctx.Err()
}

// gate bounds the bytes in flight; one item always passes, however large.
type gate struct {
	mu        sync.Mutex
	cond      *sync.Cond
	used, max int64
	closed    bool
}

func newGate(max int64) *gate {
	g := &gate{max: max}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *gate) acquire(n int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.used > 0 && g.used+n > g.max && !g.closed {
		g.cond.Wait()
	}
	g.used += n
	return !g.closed
}

func (g *gate) release(n int64) {
	g.mu.Lock()
	g.used -= n
	g.mu.Unlock()
	g.cond.Broadcast()
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cond.Broadcast()
}

// readZip calls fn with each OSV record of an OSV bucket zip (one <ID>.json per
// advisory), in the zip's order. An entry that is not an OSV record, or larger
// than osv.MaxRecordSize, is a warning; a zip that cannot be read (a corrupt or
// truncated entry, a checksum mismatch), that unpacks past the budget, or that
// holds entries but no record is an error matching ErrBadInput. It returns the
// number of records passed to fn.
func readZip(ctx context.Context, zr *zip.Reader, name string, bud *budget, w *warner, fn func(*record) error) (int, error) {
	files := zr.File
	next := func() (*item, error) {
		for len(files) > 0 && files[0].FileInfo().IsDir() {
			files = files[1:]
		}
		if len(files) == 0 {
			return nil, io.EOF
		}
		f := files[0]
		files = files[1:]
		it := &item{name: name + ":" + f.Name}
		switch {
		case !strings.EqualFold(path.Ext(f.Name), ".json"):
			it.warn = "zip entry is not a .json file; skipped"
			return it, nil
		case f.UncompressedSize64 > osv.MaxRecordSize:
			it.warn, it.args = "zip entry larger than an OSV record may be; skipped", []any{"size", f.UncompressedSize64}
			return it, nil
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: entry %s: %v; the zip is corrupt, fetch it again", ErrBadInput, name, f.Name, err)
		}
		// The header's size only sizes the first buffer, within reason: it may lie.
		it.raw, err = readAllLimit(rc, make([]byte, 0, min(f.UncompressedSize64, 256<<10)), osv.MaxRecordSize)
		rc.Close()
		if errors.Is(err, errTooLarge) {
			// The header lied about the size.
			it.raw, it.warn = nil, "zip entry larger than an OSV record may be; skipped"
			return it, bud.take(osv.MaxRecordSize, name)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: entry %s: %v; the zip is corrupt, fetch it again", ErrBadInput, name, f.Name, err)
		}
		return it, bud.take(int64(len(it.raw)), name)
	}
	entries, n, err := decodeAll(ctx, w, next, fn)
	if err != nil {
		return n, err
	}
	if n == 0 && entries > 0 {
		return 0, fmt.Errorf("%w: %s: none of its %d entries is an OSV record", ErrBadInput, name, entries)
	}
	return n, nil
}

// readFiles calls fn with the OSV records in files, in order; see readZip. The
// files' name and SHA-256 lines go to sums.
func readFiles(ctx context.Context, files []string, bud *budget, w *warner, sums io.Writer, fn func(*record) error) (int, error) {
	next := func() (*item, error) {
		if len(files) == 0 {
			return nil, io.EOF
		}
		p := files[0]
		files = files[1:]
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
		raw, err := readAllLimit(f, nil, osv.MaxRecordSize)
		f.Close()
		it := &item{name: p, raw: raw}
		if errors.Is(err, errTooLarge) {
			it.raw, it.warn = nil, "file larger than an OSV record may be; skipped"
			return it, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadInput, p, err)
		}
		fmt.Fprintf(sums, "%x  %s\n", sha256Sum(raw), path.Base(p))
		return it, bud.take(int64(len(raw)), p)
	}
	_, n, err := decodeAll(ctx, w, next, fn)
	return n, err
}
