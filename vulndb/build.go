package vulndb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/tether-sec/tether/osv"

	"github.com/tether-sec/tether/vuln"
)

// The file's identity: PRAGMA application_id says it is a tether advisory
// database, PRAGMA user_version which schema it has.
const (
	applicationID = 0x74746462 // "ttdb"
	schemaVersion = 1
)

// schema is created before loading; indexes are built after.
var schema = []string{
	`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`,
	// One row per OSV record. doc is the record's JSON, compacted.
	`CREATE TABLE vulns (
		rid INTEGER PRIMARY KEY,
		id TEXT NOT NULL UNIQUE,
		modified TEXT NOT NULL,
		withdrawn INTEGER NOT NULL,
		doc BLOB NOT NULL
	)`,
	// One row per (ecosystem, normalised name) a record affects, for records not
	// withdrawn. base is the ecosystem without its ":suffix".
	`CREATE TABLE affected (ecosystem TEXT NOT NULL, base TEXT NOT NULL, name TEXT NOT NULL, rid INTEGER NOT NULL)`,
	`CREATE TABLE aliases (alias TEXT NOT NULL, rid INTEGER NOT NULL)`,
	`CREATE TABLE kev (
		cve TEXT PRIMARY KEY, vendor_project TEXT NOT NULL, product TEXT NOT NULL, name TEXT NOT NULL,
		date_added TEXT NOT NULL, due_date TEXT NOT NULL, ransomware INTEGER NOT NULL,
		required_action TEXT NOT NULL, notes TEXT NOT NULL, short_description TEXT NOT NULL, cwes TEXT NOT NULL
	) WITHOUT ROWID`,
	`CREATE TABLE epss (cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL NOT NULL, date TEXT NOT NULL) WITHOUT ROWID`,
}

var indexes = []string{
	`CREATE UNIQUE INDEX affected_ecosystem_name ON affected (ecosystem, name, rid)`,
	`CREATE INDEX affected_base_name ON affected (base, name, rid)`,
	`CREATE INDEX aliases_alias ON aliases (alias, rid)`,
	`CREATE INDEX aliases_rid ON aliases (rid)`,
}

// builder writes a new database into a temporary file.
type builder struct {
	path string
	db   *sql.DB
	tx   *sql.Tx

	insVuln, insAff, insAlias, delVuln, insKEV, insEPSS *sql.Stmt

	seen    map[string]seenRec
	nextRID int64
	dead    []int64 // rids replaced by a newer copy of the same record
	unknown map[string]string
}

type seenRec struct {
	rid      int64
	modified time.Time
}

func newBuilder(ctx context.Context, dir string) (*builder, error) {
	removeStale(dir, ".advisories-*.db.tmp")
	f, err := os.CreateTemp(dir, ".advisories-*.db.tmp")
	if err != nil {
		return nil, fmt.Errorf("vulndb: cannot write in %s: %v", dir, err)
	}
	p := f.Name()
	f.Close()
	abs, _ := filepath.Abs(p)
	q := url.Values{}
	// Written once, start to end, then renamed: a crash loses only the temp file.
	for _, p := range []string{"journal_mode(OFF)", "synchronous(OFF)", "locking_mode(EXCLUSIVE)", "temp_store(MEMORY)", "cache_size(-16384)"} {
		q.Add("_pragma", p)
	}
	conn, err := sqlite.NewConnector("file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + q.Encode())
	if err != nil {
		os.Remove(p)
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	b := &builder{path: p, db: sql.OpenDB(conn), seen: map[string]seenRec{}, unknown: map[string]string{}}
	b.db.SetMaxOpenConns(1)
	if err := b.init(ctx); err != nil {
		b.abort()
		return nil, err
	}
	return b, nil
}

func (b *builder) init(ctx context.Context) error {
	for _, s := range append(schema,
		fmt.Sprintf(`PRAGMA application_id = %d`, applicationID),
		fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)) {
		if _, err := b.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("vulndb: schema: %w", err)
		}
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	b.tx = tx
	for _, s := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&b.insVuln, `INSERT INTO vulns (rid, id, modified, withdrawn, doc) VALUES (?, ?, ?, ?, ?)`},
		{&b.insAff, `INSERT INTO affected (ecosystem, base, name, rid) VALUES (?, ?, ?, ?)`},
		{&b.insAlias, `INSERT INTO aliases (alias, rid) VALUES (?, ?)`},
		{&b.delVuln, `DELETE FROM vulns WHERE rid = ?`},
		{&b.insKEV, `INSERT INTO kev (cve, vendor_project, product, name, date_added, due_date, ransomware, required_action, notes, short_description, cwes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&b.insEPSS, `INSERT INTO epss (cve, score, percentile, date) VALUES (?, ?, ?, ?)`},
	} {
		if *s.st, err = tx.PrepareContext(ctx, s.q); err != nil {
			return fmt.Errorf("vulndb: %w", err)
		}
	}
	return nil
}

// addRecord stores one record. A record whose ID is already stored replaces it
// only when its modified time is later, so the newest copy wins whatever the
// order of the inputs, and the first one read wins a tie.
func (b *builder) addRecord(ctx context.Context, rec *record, w *warner) error {
	v := rec.v
	if old, ok := b.seen[v.ID]; ok {
		if !v.Modified.After(old.modified) {
			return nil
		}
		if _, err := b.delVuln.ExecContext(ctx, old.rid); err != nil {
			return fmt.Errorf("vulndb: %w", err)
		}
		b.dead = append(b.dead, old.rid)
	}
	b.nextRID++
	rid := b.nextRID
	b.seen[v.ID] = seenRec{rid: rid, modified: v.Modified}
	if _, err := b.insVuln.ExecContext(ctx, rid, v.ID, v.Modified.UTC().Format(time.RFC3339Nano), v.IsWithdrawn(), rec.doc); err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	for _, a := range uniq(v.Aliases) {
		if a == v.ID {
			continue
		}
		if _, err := b.insAlias.ExecContext(ctx, a, rid); err != nil {
			return fmt.Errorf("vulndb: %w", err)
		}
	}
	if v.IsWithdrawn() {
		return nil
	}
	type key struct{ eco, name string }
	done := make(map[key]bool, len(v.Affected))
	for _, a := range v.Affected {
		if a.Package.Ecosystem == "" || a.Package.Name == "" {
			continue // GIT-only entries name no package
		}
		eco, known := canonicalEcosystem(a.Package.Ecosystem)
		if eco != a.Package.Ecosystem && known {
			w.warn("ecosystem misspelled; read as OSV spells it", "record", v.ID, "ecosystem", a.Package.Ecosystem, "as", eco)
		}
		base, _ := osv.Ecosystem(eco)
		if !known {
			if _, ok := b.unknown[base]; !ok {
				b.unknown[base] = v.ID
				w.warn("ecosystem unknown to OSV; its names are compared as written", "record", v.ID, "ecosystem", a.Package.Ecosystem)
			}
		}
		k := key{eco, vuln.NormalizeName(base, a.Package.Name)}
		if done[k] {
			continue
		}
		done[k] = true
		if _, err := b.insAff.ExecContext(ctx, k.eco, base, k.name, rid); err != nil {
			return fmt.Errorf("vulndb: %w", err)
		}
	}
	return nil
}

func uniq(xs []string) []string {
	if len(xs) < 2 {
		return xs
	}
	s := append([]string(nil), xs...)
	sort.Strings(s)
	out := s[:1]
	for _, x := range s[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}

func (b *builder) addKEV(ctx context.Context, e KEVEntry) error {
	due := ""
	if !e.DueDate.IsZero() {
		due = e.DueDate.Format(time.DateOnly)
	}
	_, err := b.insKEV.ExecContext(ctx, e.CVE, e.VendorProject, e.Product, e.Name, e.DateAdded.Format(time.DateOnly), due,
		e.KnownRansomware, e.RequiredAction, e.Notes, e.ShortDescription, strings.Join(e.CWEs, ","))
	if err != nil {
		return fmt.Errorf("vulndb: KEV %s: %v", e.CVE, err)
	}
	return nil
}

func (b *builder) addEPSS(ctx context.Context, s EPSSScore) error {
	date := ""
	if !s.Date.IsZero() {
		date = s.Date.Format(time.DateOnly)
	}
	if _, err := b.insEPSS.ExecContext(ctx, s.CVE, s.Score, s.Percentile, date); err != nil {
		return fmt.Errorf("vulndb: EPSS %s: %v", s.CVE, err)
	}
	return nil
}

// finish drops replaced rows, builds the indexes, counts, writes the status and
// closes the file. st is completed with the counts.
func (b *builder) finish(ctx context.Context, st *Status) error {
	exec := func(q string, args ...any) error {
		if _, err := b.tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("vulndb: %w", err)
		}
		return nil
	}
	if len(b.dead) > 0 {
		if err := exec(`CREATE TEMP TABLE dead (rid INTEGER PRIMARY KEY)`); err != nil {
			return err
		}
		for _, rid := range b.dead {
			if err := exec(`INSERT INTO dead (rid) VALUES (?)`, rid); err != nil {
				return err
			}
		}
		if err := exec(`DELETE FROM affected WHERE rid IN (SELECT rid FROM dead)`); err != nil {
			return err
		}
		if err := exec(`DELETE FROM aliases WHERE rid IN (SELECT rid FROM dead)`); err != nil {
			return err
		}
	}
	for _, q := range indexes {
		if err := exec(q); err != nil {
			return err
		}
	}
	counts := []struct {
		n *int
		q string
	}{
		{&st.Advisories, `SELECT COUNT(*) FROM vulns WHERE withdrawn = 0`},
		{&st.Withdrawn, `SELECT COUNT(*) FROM vulns WHERE withdrawn = 1`},
		{&st.KEV, `SELECT COUNT(*) FROM kev`},
		{&st.EPSS, `SELECT COUNT(*) FROM epss`},
	}
	for _, c := range counts {
		if err := b.tx.QueryRowContext(ctx, c.q).Scan(c.n); err != nil {
			return fmt.Errorf("vulndb: %w", err)
		}
	}
	st.ByEcosystem = map[string]int{}
	rows, err := b.tx.QueryContext(ctx, `SELECT base, COUNT(DISTINCT rid) FROM affected GROUP BY base`)
	if err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	for rows.Next() {
		var base string
		var n int
		if err := rows.Scan(&base, &n); err != nil {
			rows.Close()
			return fmt.Errorf("vulndb: %w", err)
		}
		st.ByEcosystem[base] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	if err := exec(`INSERT INTO meta (key, value) VALUES ('status', ?)`, string(raw)); err != nil {
		return err
	}
	for _, s := range []*sql.Stmt{b.insVuln, b.insAff, b.insAlias, b.delVuln, b.insKEV, b.insEPSS} {
		s.Close()
	}
	if err := b.tx.Commit(); err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	b.tx = nil
	// No ANALYZE: the plans need no statistics, and with STAT4 data SQLite
	// re-prepares a statement for every new bound value.
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	b.db = nil
	return nil
}

// install fsyncs the finished file and renames it over dir's database, then
// fsyncs dir so the rename survives a power cut.
func (b *builder) install(dir string) error {
	f, err := os.OpenFile(b.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("vulndb: %w", err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("vulndb: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	if err := os.Rename(b.path, filepath.Join(dir, dbFile)); err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	syncDir(dir)
	return nil
}

// removeStale removes files matching pattern in dir that a crashed run left
// behind: older than an hour, so a concurrent run's files are left alone.
func removeStale(dir, pattern string) {
	old, _ := filepath.Glob(filepath.Join(dir, pattern))
	for _, p := range old {
		if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > time.Hour {
			os.Remove(p)
		}
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// abort discards the temporary file.
func (b *builder) abort() {
	if b.tx != nil {
		b.tx.Rollback()
	}
	if b.db != nil {
		b.db.Close()
	}
	os.Remove(b.path)
}
