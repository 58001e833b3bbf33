package vulndb_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/vulndb"
)

// bucket is an httptest stand-in for the three public services, serving files
// the way they do:
//   - the OSV bucket (Google Cloud Storage): /<Ecosystem>/all.zip with ETag (the
//     quoted MD5), Last-Modified, x-goog-generation, x-goog-stored-content-*,
//     and two x-goog-hash headers (crc32c, md5); 304 on a matching
//     If-None-Match or an unchanged If-Modified-Since; 404 NoSuchKey XML;
//   - CISA: /feeds/known_exploited_vulnerabilities.json with ETag and Last-Modified;
//   - EPSS: /epss_scores-current.csv.gz redirecting (302) to the dated file.
type bucket struct {
	mu    sync.Mutex
	files map[string]object
	fail  map[string]string // path → "500", "cut", "badmd5"
	// counts
	full, notModified, other map[string]int
}

type object struct {
	body []byte
	mod  time.Time
	gen  int64
}

func newBucket(t *testing.T) (*bucket, *httptest.Server) {
	b := &bucket{files: map[string]object{}, fail: map[string]string{}}
	b.resetCounts()
	zips, err := bucketZips()
	if err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for e, z := range zips {
		b.put("/"+e+"/all.zip", z, mod)
	}
	b.put("/feeds/"+kevName, readFile(t, filepath.Join("testdata", "kev", kevName)), mod)
	b.put("/epss_scores-2025-08-25.csv.gz", gz(t, readFile(t, filepath.Join("testdata", "epss", epssName))), mod)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return b, srv
}

func (b *bucket) put(p string, body []byte, mod time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.files[p] = object{body: body, mod: mod, gen: mod.UnixMicro()}
}

func (b *bucket) resetCounts() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.full, b.notModified, b.other = map[string]int{}, map[string]int{}, map[string]int{}
}

func (b *bucket) counts() (full, notModified map[string]int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps(b.full), maps(b.notModified)
}

func maps(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (b *bucket) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	o, ok := b.files[r.URL.Path]
	fail := b.fail[r.URL.Path]
	b.mu.Unlock()
	if r.URL.Path == "/epss_scores-current.csv.gz" {
		http.Redirect(w, r, "/epss_scores-2025-08-25.csv.gz", http.StatusFound)
		return
	}
	if !ok {
		b.count(b.other, r.URL.Path)
		w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
		return
	}
	if fail == "500" {
		b.count(b.other, r.URL.Path)
		http.Error(w, "backend error", http.StatusInternalServerError)
		return
	}
	sum := md5.Sum(o.body)
	var crc [4]byte
	binary.BigEndian.PutUint32(crc[:], crc32.Checksum(o.body, crc32.MakeTable(crc32.Castagnoli)))
	md5b64 := base64.StdEncoding.EncodeToString(sum[:])
	if fail == "badmd5" {
		md5b64 = base64.StdEncoding.EncodeToString(make([]byte, 16))
	}
	h := w.Header()
	h.Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	if strings.HasSuffix(r.URL.Path, ".zip") || strings.HasSuffix(r.URL.Path, ".gz") {
		h.Set("Content-Type", map[bool]string{true: "application/zip", false: "application/gzip"}[strings.HasSuffix(r.URL.Path, ".zip")])
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("X-Goog-Generation", fmt.Sprint(o.gen))
		h.Set("X-Goog-Metageneration", "1")
		h.Set("X-Goog-Stored-Content-Encoding", "identity")
		h.Set("X-Goog-Stored-Content-Length", fmt.Sprint(len(o.body)))
		h.Add("X-Goog-Hash", "crc32c="+base64.StdEncoding.EncodeToString(crc[:]))
		h.Add("X-Goog-Hash", "md5="+md5b64)
		h.Set("X-Goog-Storage-Class", "STANDARD")
	} else {
		h.Set("Content-Type", "application/json")
	}
	if fail == "cut" {
		// Send the headers and half the body, then drop the connection.
		b.count(b.full, r.URL.Path)
		hj, _ := w.(http.Hijacker)
		conn, buf, err := hj.Hijack()
		if err != nil {
			return
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: %d\r\nETag: %s\r\n\r\n", len(o.body), h.Get("ETag"))
		buf.Write(o.body[:len(o.body)/2])
		buf.Flush()
		conn.Close()
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	http.ServeContent(rec, r, filepath.Base(r.URL.Path), o.mod, bytes.NewReader(o.body))
	switch rec.code {
	case http.StatusOK:
		b.count(b.full, r.URL.Path)
	case http.StatusNotModified:
		b.count(b.notModified, r.URL.Path)
	default:
		b.count(b.other, r.URL.Path)
	}
}

func (b *bucket) count(m map[string]int, p string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m[p]++
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

func updateOpts(srv *httptest.Server, progress *bytes.Buffer) vulndb.Options {
	o := vulndb.Options{
		Ecosystems: ecosystems,
		OSVBaseURL: srv.URL,
		KEVURL:     srv.URL + "/feeds/" + kevName,
		EPSSURL:    srv.URL + "/epss_scores-current.csv.gz",
		HTTPClient: srv.Client(),
	}
	if progress != nil {
		o.Progress = progress
	}
	return o
}

var allPaths = []string{"/AlmaLinux/all.zip", "/Go/all.zip", "/PyPI/all.zip", "/crates.io/all.zip", "/feeds/" + kevName, "/epss_scores-2025-08-25.csv.gz"}

func ones(paths ...string) map[string]int {
	m := map[string]int{}
	for _, p := range paths {
		m[p] = 1
	}
	return m
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	b, srv := newBucket(t)
	dir := t.TempDir()
	var progress bytes.Buffer
	opts := updateOpts(srv, &progress)

	// First run: everything is fetched once.
	st, err := vulndb.Update(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	full, nm := b.counts()
	if diff := cmp.Diff(ones(allPaths...), full); diff != "" || len(nm) != 0 {
		t.Errorf("first update fetched (-want +got):\n%s; 304s: %v", diff, nm)
	}
	if st.Advisories != 107 || st.Withdrawn != 12 || st.KEV != 29 || st.EPSS != 120 {
		t.Errorf("status %+v", st)
	}
	for _, s := range st.Sources {
		if !strings.HasPrefix(s.Location, srv.URL) || s.ETag == "" || s.LastModified == "" || len(s.SHA256) != 64 {
			t.Errorf("source %+v", s)
		}
	}
	for _, want := range []string{"fetch osv/Go: ", "fetch kev: ", "fetch epss: ", "built "} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
	// The download cache is laid out like the bucket: Import reads it too.
	for _, p := range []string{"osv/Go/all.zip", "osv/crates.io/all.zip", kevName, "epss_scores-current.csv.gz"} {
		if _, err := os.Stat(filepath.Join(dir, "download", p)); err != nil {
			t.Error(err)
		}
	}
	fi1, _ := os.Stat(filepath.Join(dir, "advisories.db"))

	// Second run: every request is conditional and answered 304; the database
	// is not rebuilt.
	b.resetCounts()
	progress.Reset()
	st2, err := vulndb.Update(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	full, nm = b.counts()
	if len(full) != 0 {
		t.Errorf("second update fetched %v, want nothing", full)
	}
	if diff := cmp.Diff(ones(allPaths...), nm); diff != "" {
		t.Errorf("second update 304s (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(st, st2); diff != "" {
		t.Errorf("status changed (-first +second):\n%s", diff)
	}
	fi2, _ := os.Stat(filepath.Join(dir, "advisories.db"))
	if !os.SameFile(fi1, fi2) {
		t.Error("database rebuilt although nothing changed")
	}
	if !strings.Contains(progress.String(), "fetch osv/Go: not modified") || !strings.Contains(progress.String(), "up to date") {
		t.Errorf("progress:\n%s", progress.String())
	}

	// The server changes one file: only it is fetched, and the database is rebuilt.
	rs, _ := records("PyPI")
	delete(rs, "PYSEC-2023-74.json")
	b.put("/PyPI/all.zip", mustZip(t, rs), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	b.resetCounts()
	st3, err := vulndb.Update(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	full, _ = b.counts()
	if diff := cmp.Diff(ones("/PyPI/all.zip"), full); diff != "" {
		t.Errorf("third update fetched (-want +got):\n%s", diff)
	}
	if st3.Advisories != 106 {
		t.Errorf("after the change: %d advisories, want 106", st3.Advisories)
	}
	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Advisory(ctx, "PYSEC-2023-74"); !errors.Is(err, vulndb.ErrNotFound) {
		t.Errorf("removed record still there: %v", err)
	}

	// The download folder, carried to an air-gapped machine, imports to the same.
	imp, err := vulndb.Import(ctx, t.TempDir(), filepath.Join(dir, "download"), vulndb.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	var un, in []string
	for i := range st3.Sources {
		un = append(un, st3.Sources[i].Name+" "+st3.Sources[i].SHA256)
	}
	for i := range imp.Sources {
		in = append(in, imp.Sources[i].Name+" "+imp.Sources[i].SHA256)
	}
	if diff := cmp.Diff(un, in); diff != "" || imp.Advisories != st3.Advisories || imp.KEV != st3.KEV || imp.EPSS != st3.EPSS || imp.Warnings != 0 {
		t.Errorf("import of the download folder differs (-update +import):\n%s\n%+v", diff, imp)
	}
}

// TestUpdateFailureKeepsOld: a failure anywhere in an update leaves the old
// database in place and usable, and leaves no partial file behind.
func TestUpdateFailureKeepsOld(t *testing.T) {
	for _, tc := range []struct {
		name, path, mode string
		check            func(t *testing.T, err error)
	}{
		{"connection cut halfway", "/crates.io/all.zip", "cut", func(t *testing.T, err error) {
			var fe *vulndb.FetchError
			if !errors.As(err, &fe) || !fe.Retry || !errors.Is(err, vulndb.ErrFetch) {
				t.Errorf("err = %v, want a FetchError that says retry", err)
			}
		}},
		{"server error", "/feeds/" + kevName, "500", func(t *testing.T, err error) {
			var fe *vulndb.FetchError
			if !errors.As(err, &fe) || fe.StatusCode != 500 || !fe.Retry {
				t.Errorf("err = %v, want HTTP 500 FetchError that says retry", err)
			}
		}},
		{"md5 mismatch", "/PyPI/all.zip", "badmd5", func(t *testing.T, err error) {
			if !errors.Is(err, vulndb.ErrChecksum) || !errors.Is(err, vulndb.ErrFetch) {
				t.Errorf("err = %v, want ErrChecksum", err)
			}
		}},
		{"corrupt zip upstream", "/Go/all.zip", "corrupt", func(t *testing.T, err error) {
			if !errors.Is(err, vulndb.ErrBadInput) || !strings.Contains(err.Error(), "run the update again") {
				t.Errorf("err = %v, want ErrBadInput", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			b, srv := newBucket(t)
			dir := t.TempDir()
			opts := updateOpts(srv, nil)
			before, err := vulndb.Update(ctx, dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			// A new version appears upstream and its transfer fails.
			body := append([]byte(nil), b.files[tc.path].body...)
			if tc.mode == "corrupt" {
				body = body[:len(body)-100] // bad central directory, served with matching checksums
			} else {
				body = append(body, ' ')
				b.fail[tc.path] = tc.mode
			}
			b.put(tc.path, body, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
			_, err = vulndb.Update(ctx, dir, opts)
			if err == nil {
				t.Fatal("update succeeded")
			}
			t.Logf("update failed as it should: %v", err)
			tc.check(t, err)
			checkUnchanged(t, dir, before)
			parts, _ := filepath.Glob(filepath.Join(dir, "download", "*", "*", ".*part"))
			parts2, _ := filepath.Glob(filepath.Join(dir, "download", ".*part"))
			if len(parts)+len(parts2) > 0 {
				t.Errorf("partial downloads left: %v %v", parts, parts2)
			}

			// Once the server is fixed, the next update succeeds.
			delete(b.fail, tc.path)
			if tc.mode == "corrupt" {
				zips, _ := bucketZips()
				b.put(tc.path, zips["Go"], time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
			}
			if _, err := vulndb.Update(ctx, dir, opts); err != nil {
				t.Fatalf("update after the fix: %v", err)
			}
		})
	}
}

// TestUpdateCacheDamaged: a cached file changed on disk is noticed (the server
// answers 304, the checksum does not match), dropped, and fetched next time.
func TestUpdateCacheDamaged(t *testing.T) {
	ctx := context.Background()
	b, srv := newBucket(t)
	dir := t.TempDir()
	opts := updateOpts(srv, nil)
	before, err := vulndb.Update(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "download", "osv", "Go", "all.zip")
	c := readFile(t, p)
	c[len(c)/2] ^= 1
	writeFile(t, p, c)
	// Force a rebuild by changing another file upstream.
	rs, _ := records("PyPI")
	delete(rs, "PYSEC-2023-74.json")
	b.put("/PyPI/all.zip", mustZip(t, rs), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	if _, err := vulndb.Update(ctx, dir, opts); err == nil || !strings.Contains(err.Error(), "run the update again") {
		t.Fatalf("err = %v", err)
	}
	checkUnchanged(t, dir, before)
	b.resetCounts()
	if _, err := vulndb.Update(ctx, dir, opts); err != nil {
		t.Fatal(err)
	}
	if full, _ := b.counts(); full["/Go/all.zip"] != 1 {
		t.Errorf("damaged file not fetched again: %v", full)
	}
}

func TestUpdateEcosystemNames(t *testing.T) {
	ctx := context.Background()
	_, srv := newBucket(t)
	for _, tc := range []struct {
		eco  string
		want string
	}{
		{"pypi", `OSV spells it "PyPI"`},
		{"Debian:12", `ask for "Debian"`},
	} {
		opts := updateOpts(srv, nil)
		opts.Ecosystems = []string{tc.eco}
		if _, err := vulndb.Update(ctx, t.TempDir(), opts); !errors.Is(err, vulndb.ErrUnknownEcosystem) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v", tc.eco, err)
		}
	}
	// A name the bucket does not have is a 404 that says so.
	opts := updateOpts(srv, nil)
	opts.Ecosystems = []string{"Go", "Rocky Linux"}
	logger, logs := captureLogger()
	opts.Logger = logger
	_, err := vulndb.Update(ctx, t.TempDir(), opts)
	var fe *vulndb.FetchError
	if !errors.As(err, &fe) || fe.StatusCode != 404 || fe.Retry || !strings.Contains(err.Error(), "no Rocky Linux folder") || !strings.Contains(fe.URL, "/Rocky%20Linux/all.zip") {
		t.Errorf("err = %v", err)
	}
	if logs.String() != "" {
		t.Errorf("Rocky Linux is known, yet: %s", logs)
	}
}

// TestUpdateWithoutKEVAndEPSS: NoKEV and NoEPSS leave them out.
func TestUpdateWithoutKEVAndEPSS(t *testing.T) {
	b, srv := newBucket(t)
	opts := updateOpts(srv, nil)
	opts.NoKEV, opts.NoEPSS = true, true
	opts.Ecosystems = []string{"Go"}
	st, err := vulndb.Update(context.Background(), t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if st.KEV != 0 || st.EPSS != 0 || len(st.Sources) != 1 {
		t.Errorf("status %+v", st)
	}
	if full, _ := b.counts(); len(full) != 1 {
		t.Errorf("fetched %v", full)
	}
}
