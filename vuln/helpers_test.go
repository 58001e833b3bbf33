package vuln_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/vuln"
)

// loadRecords reads every record under testdata/osv and testdata/written.
func loadRecords(t testing.TB) []*osv.Vulnerability {
	t.Helper()
	var recs []*osv.Vulnerability
	for _, dir := range []string{"testdata/osv", "testdata/written"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			r, err := osv.DecodeBytes(b)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			recs = append(recs, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

var (
	indexOnce sync.Once
	index     *vuln.Index
)

func testIndex(t testing.TB) *vuln.Index {
	indexOnce.Do(func() { index = vuln.NewIndex(loadRecords(t)) })
	return index
}

// fakeEnricher serves KEV entries from the real catalog subset in testdata and
// EPSS scores from a map (there is no real EPSS data here: the values are test
// doubles, not FIRST's numbers).
type fakeEnricher struct {
	kev  map[string]vuln.KEV
	epss map[string]vuln.EPSS
}

func (e fakeEnricher) KEV(_ context.Context, cve string) (vuln.KEV, bool, error) {
	k, ok := e.kev[cve]
	return k, ok, nil
}

func (e fakeEnricher) EPSS(_ context.Context, cve string) (vuln.EPSS, bool, error) {
	s, ok := e.epss[cve]
	return s, ok, nil
}

func loadKEV(t testing.TB) map[string]vuln.KEV {
	t.Helper()
	b, err := os.ReadFile("testdata/kev/known_exploited_vulnerabilities-subset.json")
	if err != nil {
		t.Fatal(err)
	}
	var cat struct {
		Vulnerabilities []struct {
			CVE       string `json:"cveID"`
			DateAdded string `json:"dateAdded"`
			DueDate   string `json:"dueDate"`
			Action    string `json:"requiredAction"`
			Ransom    string `json:"knownRansomwareCampaignUse"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}
	out := map[string]vuln.KEV{}
	for _, v := range cat.Vulnerabilities {
		added, _ := time.Parse(time.DateOnly, v.DateAdded)
		due, _ := time.Parse(time.DateOnly, v.DueDate)
		out[v.CVE] = vuln.KEV{DateAdded: added, DueDate: due, RequiredAction: v.Action, KnownRansomware: v.Ransom == "Known"}
	}
	return out
}

// logRecorder keeps the log records Match writes.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// lines renders the records of a level or above as "msg key=value ...".
func (l *logRecorder) lines(level slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.recs {
		if r.Level < level {
			continue
		}
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool {
			b.WriteString(" " + a.Key + "=" + a.Value.String())
			return true
		})
		out = append(out, b.String())
	}
	return out
}

// pkg builds an SBOM package from a purl, with an optional source package.
func pkg(purl string, src ...string) sbom.Package {
	p := sbom.Package{ID: purl, PURL: purl, Type: sbom.PURLType(purl)}
	if len(src) > 0 {
		p.SourceName = src[0]
	}
	if len(src) > 1 {
		p.SourceVersion = src[1]
	}
	return p
}
