package vulndb

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Bounds on what an import reads, against hostile or broken files.
const (
	// DefaultMaxUnpacked bounds the bytes one import decompresses from all its
	// zips together (Options.MaxUnpacked). The whole OSV database is a few GB.
	DefaultMaxUnpacked = 32 << 30
	maxKEVSize         = 64 << 20  // the catalog is ~1.3 MB
	maxEPSSSize        = 256 << 20 // the daily CSV is ~10 MB unpacked
	maxWarnings        = 20        // per source, logged one by one; the rest are counted
)

// warner logs the warnings of one source: the first maxWarnings one by one,
// then only counts them, so a broken file cannot flood the log.
type warner struct {
	log    *slog.Logger
	source string
	n      int
}

func (w *warner) warn(msg string, args ...any) {
	w.n++
	if w.n <= maxWarnings {
		w.log.Warn(msg, append([]any{"source", w.source}, args...)...)
	}
}

func (w *warner) done() {
	if w.n > maxWarnings {
		w.log.Warn("more warnings not shown", "source", w.source, "count", w.n-maxWarnings)
	}
}

// budget bounds the bytes decompressed by one import.
type budget struct{ left, limit int64 }

func (b *budget) take(n int64, what string) error {
	b.left -= n
	if b.left < 0 {
		return fmt.Errorf("%w: %s: more than %d bytes unpacked in all (a zip bomb, or raise Options.MaxUnpacked)", ErrBadInput, what, b.limit)
	}
	return nil
}

var errTooLarge = errors.New("too large")

// readAllLimit reads r into buf, failing with errTooLarge past limit bytes.
func readAllLimit(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	lr := &io.LimitedReader{R: r, N: limit + 1}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if int64(len(buf)) > limit {
			return buf, errTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// KEV catalog (https://www.cisa.gov/known-exploited-vulnerabilities-catalog),
// schema cisagov/kev-data known_exploited_vulnerabilities_schema.json.
type kevCatalog struct {
	Title           string     `json:"title"`
	CatalogVersion  string     `json:"catalogVersion"`
	DateReleased    string     `json:"dateReleased"`
	Count           *int       `json:"count"`
	Vulnerabilities *[]kevJSON `json:"vulnerabilities"`
}

type kevJSON struct {
	CVEID                      string   `json:"cveID"`
	VendorProject              string   `json:"vendorProject"`
	Product                    string   `json:"product"`
	VulnerabilityName          string   `json:"vulnerabilityName"`
	DateAdded                  string   `json:"dateAdded"`
	ShortDescription           string   `json:"shortDescription"`
	RequiredAction             string   `json:"requiredAction"`
	DueDate                    string   `json:"dueDate"`
	KnownRansomwareCampaignUse string   `json:"knownRansomwareCampaignUse"`
	Notes                      string   `json:"notes"`
	CWEs                       []string `json:"cwes"`
}

// parseKEV reads the CISA KEV catalog JSON. A document that is not the catalog
// (no catalogVersion or vulnerabilities, a count that disagrees with the list)
// is an error matching ErrBadInput; a bad entry is a warning and is skipped.
// version is the catalog version.
func parseKEV(r io.Reader, name string, w *warner) (entries []KEVEntry, version string, err error) {
	b, err := readAllLimit(r, nil, maxKEVSize)
	if errors.Is(err, errTooLarge) {
		return nil, "", fmt.Errorf("%w: %s: larger than %d bytes; not the KEV catalog", ErrBadInput, name, maxKEVSize)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrBadInput, name, err)
	}
	var c kevCatalog
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, "", fmt.Errorf("%w: %s is not the CISA KEV catalog JSON: %v", ErrBadInput, name, err)
	}
	if c.CatalogVersion == "" || c.Vulnerabilities == nil {
		return nil, "", fmt.Errorf("%w: %s is not the CISA KEV catalog JSON: no catalogVersion or vulnerabilities", ErrBadInput, name)
	}
	if c.Count != nil && *c.Count != len(*c.Vulnerabilities) {
		return nil, "", fmt.Errorf("%w: %s: count says %d entries, the list has %d; the file is truncated or edited, fetch it again", ErrBadInput, name, *c.Count, len(*c.Vulnerabilities))
	}
	seen := make(map[string]bool, len(*c.Vulnerabilities))
	for i, k := range *c.Vulnerabilities {
		cve := strings.TrimSpace(k.CVEID)
		if !isCVE(cve) {
			w.warn("KEV entry without a valid cveID; skipped", "file", name, "index", i, "cveID", k.CVEID)
			continue
		}
		if seen[cve] {
			w.warn("KEV entry repeated; the first is kept", "file", name, "cve", cve)
			continue
		}
		added, err := time.Parse(time.DateOnly, k.DateAdded)
		if err != nil {
			w.warn("KEV entry with a bad dateAdded; skipped", "file", name, "cve", cve, "dateAdded", k.DateAdded)
			continue
		}
		due, err := time.Parse(time.DateOnly, k.DueDate)
		if err != nil && k.DueDate != "" {
			w.warn("KEV entry with a bad dueDate; kept without one", "file", name, "cve", cve, "dueDate", k.DueDate)
		}
		var ransom bool
		switch k.KnownRansomwareCampaignUse {
		case "Known":
			ransom = true
		case "Unknown":
		default:
			w.warn("KEV entry with an unknown knownRansomwareCampaignUse; read as Unknown", "file", name, "cve", cve, "value", k.KnownRansomwareCampaignUse)
		}
		seen[cve] = true
		entries = append(entries, KEVEntry{
			CVE: cve, VendorProject: k.VendorProject, Product: k.Product, Name: k.VulnerabilityName,
			DateAdded: added, DueDate: due, KnownRansomware: ransom, RequiredAction: k.RequiredAction,
			Notes: k.Notes, ShortDescription: k.ShortDescription, CWEs: k.CWEs,
		})
	}
	return entries, c.CatalogVersion, nil
}

var epssFileDate = regexp.MustCompile(`epss_scores-(\d{4}-\d{2}-\d{2})`)

// parseEPSS reads a FIRST EPSS CSV, plain or gzip-compressed: "#model_version:…,
// score_date:…" (more '#' lines are allowed), the header "cve,epss,percentile",
// then one row per CVE. A changed header is an error matching ErrBadInput; a bad
// row is a warning and is skipped. version is "model_version score_date".
func parseEPSS(ctx context.Context, r io.Reader, name string, w *warner, fn func(EPSSScore) error) (n int, version string, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return 0, "", fmt.Errorf("%w: %s: %v", ErrBadInput, name, err)
		}
		defer gz.Close()
		br = bufio.NewReaderSize(gz, 64<<10)
	}
	lim := &io.LimitedReader{R: br, N: maxEPSSSize + 1}
	br = bufio.NewReaderSize(lim, 64<<10)

	var model, scoreDate string
	var date time.Time
	for {
		c, err := br.Peek(1)
		if err != nil || c[0] != '#' {
			break
		}
		line, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return 0, "", fmt.Errorf("%w: %s: %v", ErrBadInput, name, err)
		}
		for _, kv := range strings.Split(strings.TrimSpace(strings.TrimPrefix(line, "#")), ",") {
			k, v, _ := strings.Cut(kv, ":")
			switch strings.TrimSpace(k) {
			case "model_version":
				model = strings.TrimSpace(v)
			case "score_date":
				scoreDate = strings.TrimSpace(v)
			}
		}
	}
	if scoreDate != "" {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05Z0700", time.DateOnly} {
			if t, err := time.Parse(layout, scoreDate); err == nil {
				date = t.UTC()
				break
			}
		}
		if date.IsZero() {
			w.warn("EPSS score_date not understood", "file", name, "score_date", scoreDate)
		}
	}
	if date.IsZero() {
		if m := epssFileDate.FindStringSubmatch(name); m != nil {
			date, _ = time.Parse(time.DateOnly, m[1])
		}
	}
	if date.IsZero() {
		w.warn("EPSS file names no score date; scores are kept without one", "file", name)
	}

	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return 0, "", fmt.Errorf("%w: %s: no EPSS header: %v", ErrBadInput, name, err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	if strings.Join(head, ",") != "cve,epss,percentile" {
		return 0, "", fmt.Errorf("%w: %s: EPSS header is %q, want \"cve,epss,percentile\": the format changed and tether cannot read it", ErrBadInput, name, strings.Join(head, ","))
	}
	seen := make(map[string]bool)
	for line := 2; ; line++ {
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return n, "", err
			}
		}
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, "", fmt.Errorf("%w: %s: %v", ErrBadInput, name, err)
		}
		if len(row) != 3 {
			w.warn("EPSS row does not have 3 fields; skipped", "file", name, "row", line)
			continue
		}
		cve := row[0]
		score, err1 := strconv.ParseFloat(row[1], 64)
		pct, err2 := strconv.ParseFloat(row[2], 64)
		switch {
		case !isCVE(cve):
			w.warn("EPSS row without a valid CVE ID; skipped", "file", name, "row", line, "cve", cve)
			continue
		case err1 != nil || err2 != nil || !(score >= 0 && score <= 1) || !(pct >= 0 && pct <= 1):
			w.warn("EPSS row with a score or percentile outside 0..1; skipped", "file", name, "row", line, "cve", cve)
			continue
		case seen[cve]:
			w.warn("EPSS row repeats a CVE; the first is kept", "file", name, "row", line, "cve", cve)
			continue
		}
		seen[cve] = true
		n++
		if err := fn(EPSSScore{CVE: cve, Score: score, Percentile: pct, Date: date}); err != nil {
			return n, "", err
		}
	}
	if lim.N <= 0 {
		return n, "", fmt.Errorf("%w: %s: more than %d bytes unpacked; not an EPSS CSV", ErrBadInput, name, maxEPSSSize)
	}
	version = strings.TrimSpace(model + " " + scoreDate)
	return n, version, nil
}

// isCVE reports whether s looks like CVE-YYYY-NNNN….
func isCVE(s string) bool {
	if len(s) < 13 || !strings.HasPrefix(s, "CVE-") || s[8] != '-' {
		return false
	}
	for i := 4; i < len(s); i++ {
		if i != 8 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}
