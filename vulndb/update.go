package vulndb

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Public sources.
const (
	DefaultOSVBaseURL = "https://osv-vulnerabilities.storage.googleapis.com"
	DefaultKEVURL     = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
	// DefaultEPSSURL is FIRST's daily CSV, served by Empirical Security (who run
	// EPSS for FIRST; the old host epss.cyentia.com redirects there). It
	// redirects to the dated file epss_scores-YYYY-MM-DD.csv.gz.
	DefaultEPSSURL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
)

var (
	// ErrFetch is matched by every download failure (see FetchError).
	ErrFetch = errors.New("vulndb: download failed")
	// ErrChecksum: a download does not match the checksum the server gave.
	ErrChecksum = errors.New("checksum mismatch")
)

// maxDownload bounds one downloaded file.
const maxDownload = 8 << 30

// FetchError is a failed download. It matches ErrFetch and the cause.
type FetchError struct {
	URL string
	// StatusCode is the HTTP status, 0 when there was no response.
	StatusCode int
	// Retry says whether trying again later may help (network errors, 5xx, 429,
	// a truncated or corrupted transfer).
	Retry bool
	Err   error
}

func (e *FetchError) Error() string {
	hint := ""
	if e.Retry {
		hint = "; run the update again later"
	}
	if e.StatusCode != 0 {
		return fmt.Sprintf("vulndb: download %s: HTTP %d: %v%s", e.URL, e.StatusCode, e.Err, hint)
	}
	return fmt.Sprintf("vulndb: download %s: %v%s", e.URL, e.Err, hint)
}

func (e *FetchError) Unwrap() []error { return []error{ErrFetch, e.Err} }

// cacheMeta is what the download cache remembers of one file, next to it as
// <file>.meta.
type cacheMeta struct {
	URL          string    `json:"url"`
	FinalURL     string    `json:"final_url,omitempty"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	SHA256       string    `json:"sha256"`
	Size         int64     `json:"size"`
	Fetched      time.Time `json:"fetched"`
}

// download is one file Update keeps current.
type download struct {
	kind, name, url, file string
}

// Update downloads the OSV per-ecosystem all.zip files, the CISA KEV catalog
// and the FIRST EPSS CSV into dir/download, then builds the database from
// them as Import does and swaps it in. Requests are conditional (If-None-Match,
// If-Modified-Since), so a file the server has not changed is not fetched
// again, and when nothing changed the database is not rebuilt. Downloads are
// checked against the server's checksums (x-goog-hash md5 and crc32c as the
// OSV bucket sends them, Content-MD5) and length. Any failure leaves the
// database in dir as it was; files already fetched stay cached for the next run.
func Update(ctx context.Context, dir string, opts Options) (Status, error) {
	dls, err := downloads(dir, opts)
	if err != nil {
		return Status{}, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "download"), 0o755); err != nil {
		return Status{}, fmt.Errorf("vulndb: cannot create %s: %v", dir, err)
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	ins := make([]input, 0, len(dls))
	for _, d := range dls {
		m, err := fetch(ctx, client, d, &opts)
		if err != nil {
			return Status{}, err
		}
		ins = append(ins, input{kind: d.kind, paths: []string{d.file}, want: m.SHA256, src: SourceStatus{
			Name: d.name, Location: d.url, Fetched: m.Fetched, ETag: m.ETag, LastModified: m.LastModified,
		}})
	}
	if cur, ok := current(ctx, dir, ins); ok {
		opts.progress("up to date: %d advisories, %d KEV, %d EPSS", cur.Advisories, cur.KEV, cur.EPSS)
		return cur, nil
	}
	st, err := build(ctx, dir, ins, opts)
	if err != nil {
		var se *sourceError
		if errors.As(err, &se) && (errors.Is(err, ErrBadInput) || errors.Is(err, errCacheChanged)) {
			// Drop the cached copy so the next run fetches it again, in case
			// it was damaged here rather than upstream.
			os.Remove(se.path + ".meta")
			os.Remove(se.path)
			hint := "the cached copy was removed; run the update again"
			switch se.name {
			case "kev":
				hint += ", or update without KEV (Options.NoKEV) until the catalog can be read"
			case "epss":
				hint += ", or update without EPSS (Options.NoEPSS) until the CSV can be read"
			}
			return Status{}, fmt.Errorf("%w; %s", err, hint)
		}
		return Status{}, err
	}
	return st, nil
}

// downloads lists the files Update fetches, checking the ecosystem names.
func downloads(dir string, opts Options) ([]download, error) {
	ecos := opts.Ecosystems
	if len(ecos) == 0 {
		ecos = defaultEcosystems
	}
	base := strings.TrimRight(opts.OSVBaseURL, "/")
	if base == "" {
		base = DefaultOSVBaseURL
	}
	cache := filepath.Join(dir, "download")
	var out []download
	seen := map[string]bool{}
	for _, e := range ecos {
		c, known := canonicalEcosystem(e)
		switch {
		case strings.Contains(e, ":"):
			b, _, _ := strings.Cut(c, ":")
			return nil, fmt.Errorf("%w: %q: the OSV bucket has one folder per ecosystem; ask for %q (its records carry the releases)", ErrUnknownEcosystem, e, b)
		case known && c != e:
			return nil, fmt.Errorf("%w: %q: OSV spells it %q", ErrUnknownEcosystem, e, c)
		case !known:
			opts.logger().Warn("ecosystem unknown to this tether; fetching it anyway", "ecosystem", e)
		}
		if seen[e] {
			continue
		}
		seen[e] = true
		out = append(out, download{
			kind: kindZip, name: "osv/" + e,
			url:  base + "/" + url.PathEscape(e) + "/all.zip",
			file: filepath.Join(cache, "osv", e, "all.zip"),
		})
	}
	if !opts.NoKEV {
		u := opts.KEVURL
		if u == "" {
			u = DefaultKEVURL
		}
		out = append(out, download{kind: kindKEV, name: "kev", url: u, file: filepath.Join(cache, "known_exploited_vulnerabilities.json")})
	}
	if !opts.NoEPSS {
		u := opts.EPSSURL
		if u == "" {
			u = DefaultEPSSURL
		}
		name := "epss_scores-current.csv.gz"
		if pu, err := url.Parse(u); err == nil {
			if b := path.Base(pu.Path); strings.HasPrefix(b, "epss_scores") && (strings.HasSuffix(b, ".csv") || strings.HasSuffix(b, ".csv.gz")) {
				name = b
			}
		}
		out = append(out, download{kind: kindEPSS, name: "epss", url: u, file: filepath.Join(cache, name)})
	}
	return out, nil
}

// current returns the status of dir's database when it was built from exactly
// these downloads.
func current(ctx context.Context, dir string, ins []input) (Status, bool) {
	db, err := Open(ctx, dir)
	if err != nil {
		return Status{}, false
	}
	defer db.Close()
	st, err := db.Status(ctx)
	if err != nil || len(st.Sources) != len(ins) {
		return Status{}, false
	}
	for i, in := range ins {
		s := st.Sources[i]
		if s.Name != in.src.Name || s.Location != in.src.Location || s.SHA256 != in.want {
			return Status{}, false
		}
	}
	return st, true
}

// fetch brings d.file up to date with d.url and returns its cache entry.
func fetch(ctx context.Context, client *http.Client, d download, opts *Options) (cacheMeta, error) {
	var old cacheMeta
	have := false
	if b, err := os.ReadFile(d.file + ".meta"); err == nil && json.Unmarshal(b, &old) == nil && old.URL == d.url {
		if fi, err := os.Stat(d.file); err == nil && fi.Size() == old.Size {
			have = true
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
	if err != nil {
		return cacheMeta{}, &FetchError{URL: d.url, Err: err}
	}
	// identity: the checksums are of the stored bytes, and Go would otherwise
	// decompress a gzip transfer encoding behind our back.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "tether-vulndb")
	if have {
		if old.ETag != "" {
			req.Header.Set("If-None-Match", old.ETag)
		}
		if old.LastModified != "" {
			req.Header.Set("If-Modified-Since", old.LastModified)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return cacheMeta{}, ctx.Err()
		}
		return cacheMeta{}, &FetchError{URL: d.url, Retry: true, Err: err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && have:
		opts.progress("fetch %s: not modified", d.name)
		return old, nil
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound && d.kind == kindZip:
		return cacheMeta{}, &FetchError{URL: d.url, StatusCode: resp.StatusCode, Err: fmt.Errorf("the OSV bucket has no %s folder; check the ecosystem name", strings.TrimPrefix(d.name, "osv/"))}
	default:
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout
		return cacheMeta{}, &FetchError{URL: d.url, StatusCode: resp.StatusCode, Retry: retry, Err: errors.New(http.StatusText(resp.StatusCode))}
	}

	if err := os.MkdirAll(filepath.Dir(d.file), 0o755); err != nil {
		return cacheMeta{}, fmt.Errorf("vulndb: %w", err)
	}
	removeStale(filepath.Dir(d.file), "."+filepath.Base(d.file)+".*.part")
	tmp, err := os.CreateTemp(filepath.Dir(d.file), "."+filepath.Base(d.file)+".*.part")
	if err != nil {
		return cacheMeta{}, fmt.Errorf("vulndb: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	sum256, sumMD5, sumCRC := sha256.New(), md5.New(), crc32.New(crc32.MakeTable(crc32.Castagnoli))
	pw := &progressWriter{opts: opts, name: d.name, total: resp.ContentLength, start: time.Now(), last: time.Now()}
	n, err := io.Copy(io.MultiWriter(tmp, sum256, sumMD5, sumCRC, pw), io.LimitReader(resp.Body, maxDownload+1))
	if err != nil {
		tmp.Close()
		if ctx.Err() != nil {
			return cacheMeta{}, ctx.Err()
		}
		return cacheMeta{}, &FetchError{URL: d.url, StatusCode: resp.StatusCode, Retry: true, Err: fmt.Errorf("transfer broken after %d bytes: %v", n, err)}
	}
	if n > maxDownload {
		tmp.Close()
		return cacheMeta{}, &FetchError{URL: d.url, StatusCode: resp.StatusCode, Err: fmt.Errorf("larger than %d bytes", int64(maxDownload))}
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		tmp.Close()
		return cacheMeta{}, &FetchError{URL: d.url, StatusCode: resp.StatusCode, Retry: true, Err: fmt.Errorf("got %d bytes of %d", n, resp.ContentLength)}
	}
	if err := verify(resp.Header, sumMD5, sumCRC); err != nil {
		tmp.Close()
		return cacheMeta{}, &FetchError{URL: d.url, StatusCode: resp.StatusCode, Retry: true, Err: err}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return cacheMeta{}, fmt.Errorf("vulndb: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return cacheMeta{}, fmt.Errorf("vulndb: %w", err)
	}
	m := cacheMeta{
		URL: d.url, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
		SHA256: hex.EncodeToString(sum256.Sum(nil)), Size: n, Fetched: time.Now().UTC().Truncate(time.Second),
	}
	if resp.Request != nil && resp.Request.URL.String() != d.url {
		m.FinalURL = resp.Request.URL.String()
	}
	// The meta goes first so a crash between the two renames leaves a meta whose
	// size or hash does not match, which is fetched again, never a file with a
	// stale ETag.
	os.Remove(d.file + ".meta")
	if err := os.Rename(tmp.Name(), d.file); err != nil {
		return cacheMeta{}, fmt.Errorf("vulndb: %w", err)
	}
	if err := writeMeta(d.file+".meta", m); err != nil {
		return cacheMeta{}, err
	}
	syncDir(filepath.Dir(d.file))
	opts.progress("fetch %s: %s in %s", d.name, mb(n), time.Since(pw.start).Round(time.Millisecond))
	return m, nil
}

func writeMeta(p string, m cacheMeta) error {
	b, _ := json.MarshalIndent(m, "", "  ")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	return nil
}

// verify checks the body's hashes against the ones the server sent:
// x-goog-hash "crc32c=<b64>", "md5=<b64>" (one header each, or comma-joined) and
// Content-MD5.
func verify(h http.Header, sumMD5, sumCRC hash.Hash) error {
	var wantMD5, wantCRC []string
	for _, v := range h.Values("X-Goog-Hash") {
		for _, kv := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(kv), "=")
			switch k {
			case "md5":
				wantMD5 = append(wantMD5, val)
			case "crc32c":
				wantCRC = append(wantCRC, val)
			}
		}
	}
	if v := h.Get("Content-MD5"); v != "" {
		wantMD5 = append(wantMD5, v)
	}
	gotMD5 := sumMD5.Sum(nil)
	for _, w := range wantMD5 {
		b, err := base64.StdEncoding.DecodeString(w)
		if err != nil || !bytes.Equal(b, gotMD5) {
			return fmt.Errorf("%w: md5 is %s, the server says %s", ErrChecksum, base64.StdEncoding.EncodeToString(gotMD5), w)
		}
	}
	gotCRC := sumCRC.Sum(nil)
	for _, w := range wantCRC {
		b, err := base64.StdEncoding.DecodeString(w)
		if err != nil || !bytes.Equal(b, gotCRC) {
			return fmt.Errorf("%w: crc32c is %s, the server says %s", ErrChecksum, base64.StdEncoding.EncodeToString(gotCRC), w)
		}
	}
	return nil
}

// progressWriter prints a line every few seconds while a download runs.
type progressWriter struct {
	opts        *Options
	name        string
	total, n    int64
	start, last time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.opts.Progress != nil && time.Since(p.last) >= 2*time.Second {
		p.last = time.Now()
		if p.total > 0 {
			p.opts.progress("fetch %s: %s of %s (%d%%)", p.name, mb(p.n), mb(p.total), p.n*100/p.total)
		} else {
			p.opts.progress("fetch %s: %s", p.name, mb(p.n))
		}
	}
	return len(b), nil
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
