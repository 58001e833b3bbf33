package vulndb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/tether-sec/tether/osv"

	"github.com/tether-sec/tether/vuln"
)

// Errors a caller can act on.
var (
	// ErrNoDatabase: there is no advisory database in the directory yet.
	ErrNoDatabase = errors.New("vulndb: no advisory database; run `tether db update` or `tether db import PATH`")
	// ErrSchema: the file is not a tether advisory database of this version.
	ErrSchema = errors.New("vulndb: incompatible advisory database")
	// ErrBadInput: an input file cannot be imported (corrupt zip, not the KEV
	// catalog, a changed EPSS header, a bound exceeded). Nothing was swapped in.
	ErrBadInput = errors.New("vulndb: bad input")
	// ErrUnknownEcosystem: an ecosystem neither OSV nor the database knows.
	ErrUnknownEcosystem = errors.New("vulndb: unknown ecosystem")
	// ErrNotFound: no record has that ID or alias.
	ErrNotFound = errors.New("vulndb: not found")
)

// dbFile is the database's name inside its directory.
const dbFile = "advisories.db"

// DefaultDir is $XDG_CACHE_HOME/tether/db, else ~/.cache/tether/db (the
// platform's user cache directory where that differs).
func DefaultDir() (string, error) {
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "tether", "db"), nil
	}
	home, err := os.UserHomeDir()
	if err == nil && home != "" {
		return filepath.Join(home, ".cache", "tether", "db"), nil
	}
	c, err2 := os.UserCacheDir()
	if err2 != nil {
		return "", fmt.Errorf("vulndb: no cache directory (%v; %v); pass a database directory explicitly", err, err2)
	}
	return filepath.Join(c, "tether", "db"), nil
}

// DB is an open advisory database. It is safe for concurrent use. It reads the
// file it opened even when an update swaps in a new one; open again to see it.
//
// The records it returns are shared: DB keeps recently decoded records in a
// bounded cache (SetCacheBytes) and hands the same *osv.Vulnerability to every
// caller that asks for it. Callers must treat them as read-only, their slices,
// maps and raw JSON included, and copy what they want to change.
type DB struct {
	dir                                                          string
	db                                                           *sql.DB
	byEco, byBase, byID, byAlias, group, doc, kev, epss, hasBase *sql.Stmt
	cache                                                        *recordCache
}

// Open opens the database in dir for reading. It fails with ErrNoDatabase when
// there is none and ErrSchema when the file is not one this tether reads.
func Open(ctx context.Context, dir string) (*DB, error) {
	p := filepath.Join(dir, dbFile)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w (none in %s)", ErrNoDatabase, dir)
	} else if err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	// The file is never written after it is renamed into place: read it as
	// immutable, without locks.
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?mode=ro&immutable=1"
	conn, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("vulndb: %s: %v", abs, err)
	}
	sdb := sql.OpenDB(conn)
	d := &DB{dir: dir, db: sdb, cache: newRecordCache(DefaultCacheBytes)}
	if err := d.check(ctx, abs); err != nil {
		sdb.Close()
		return nil, err
	}
	if err := d.prepare(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("%w: %s: %v; rebuild it with `tether db update` or `tether db import PATH`", ErrSchema, abs, err)
	}
	return d, nil
}

func (d *DB) check(ctx context.Context, path string) error {
	var app, ver int
	err := d.db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app)
	if err == nil {
		err = d.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&ver)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %s is not an advisory database: %v; rebuild it with `tether db update` or `tether db import PATH`", ErrSchema, path, err)
	}
	switch {
	case app != applicationID:
		return fmt.Errorf("%w: %s is not a tether advisory database; move it away and run `tether db update` or `tether db import PATH`", ErrSchema, path)
	case ver > schemaVersion:
		return fmt.Errorf("%w: %s was built by a newer tether (schema %d, this one reads %d); upgrade tether or rebuild it with `tether db update`", ErrSchema, path, ver, schemaVersion)
	case ver < schemaVersion:
		return fmt.Errorf("%w: %s was built by an older tether (schema %d, this one reads %d); rebuild it with `tether db update` or `tether db import PATH`", ErrSchema, path, ver, schemaVersion)
	}
	return nil
}

func (d *DB) prepare(ctx context.Context) error {
	// Lookups return rids; the documents of records not in the cache are read
	// one by one (doc), so a cached record costs no read of its blob.
	const rids = `SELECT v.rid FROM vulns v WHERE v.rid IN (SELECT a.rid FROM affected a WHERE `
	for _, s := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&d.byEco, rids + `a.ecosystem = ? AND a.name = ?) ORDER BY v.id`},
		{&d.byBase, rids + `a.base = ? AND a.name = ?) ORDER BY v.id`},
		{&d.byID, `SELECT rid FROM vulns WHERE id = ?`},
		{&d.byAlias, `SELECT v.rid FROM aliases a JOIN vulns v ON v.rid = a.rid WHERE a.alias = ? ORDER BY v.withdrawn, v.id LIMIT 1`},
		{&d.group, `SELECT v.rid FROM vulns v WHERE v.withdrawn = 0 AND v.rid IN (
			SELECT rid FROM vulns WHERE id = ?1
			UNION SELECT rid FROM aliases WHERE alias = ?1
			UNION SELECT w.rid FROM aliases a JOIN vulns w ON w.id = a.alias WHERE a.rid IN (SELECT rid FROM vulns WHERE id = ?1)
			UNION SELECT b.rid FROM aliases a JOIN aliases b ON b.alias = a.alias WHERE a.rid IN (SELECT rid FROM vulns WHERE id = ?1)
		) ORDER BY v.id`},
		{&d.doc, `SELECT doc FROM vulns WHERE rid = ?`},
		{&d.kev, `SELECT cve, vendor_project, product, name, date_added, due_date, ransomware, required_action, notes, short_description, cwes FROM kev WHERE cve = ?`},
		{&d.epss, `SELECT cve, score, percentile, date FROM epss WHERE cve = ?`},
		{&d.hasBase, `SELECT 1 FROM affected WHERE base = ? LIMIT 1`},
	} {
		st, err := d.db.PrepareContext(ctx, s.q)
		if err != nil {
			return err
		}
		*s.st = st
	}
	return nil
}

// Close releases the database.
func (d *DB) Close() error {
	for _, st := range []*sql.Stmt{d.byEco, d.byBase, d.byID, d.byAlias, d.group, d.doc, d.kev, d.epss, d.hasBase} {
		if st != nil {
			st.Close()
		}
	}
	return d.db.Close()
}

// Advisories returns the records, not withdrawn, that name package name in
// ecosystem, ordered by ID. An ecosystem with a suffix ("Debian:12",
// "Alpine:v3.19", "AlmaLinux:9") matches affected entries of exactly that
// ecosystem; a bare base ("PyPI", "Debian") matches every entry whose base it
// is. The base is case-insensitive ("pypi" is "PyPI"); names are compared as the
// ecosystem does (NormalizeName). An ecosystem that neither OSV nor the
// database knows fails with ErrUnknownEcosystem rather than matching nothing.
// The records are shared and must not be modified (see DB).
func (d *DB) Advisories(ctx context.Context, ecosystem, name string) ([]*osv.Vulnerability, error) {
	eco, known := canonicalEcosystem(ecosystem)
	base, _ := osv.Ecosystem(eco)
	if !known {
		var one int
		err := d.hasBase.QueryRowContext(ctx, base).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: %q is not an OSV ecosystem and no record names it", ErrUnknownEcosystem, ecosystem)
		}
		if err != nil {
			return nil, fmt.Errorf("vulndb: %w", err)
		}
	}
	st, key := d.byBase, base
	if strings.Contains(eco, ":") {
		st, key = d.byEco, eco
	}
	return d.query(ctx, st, key, vuln.NormalizeName(base, name))
}

// query runs a lookup that yields rids and returns their records in order.
func (d *DB) query(ctx context.Context, st *sql.Stmt, args ...any) ([]*osv.Vulnerability, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	var rids []int64
	for rows.Next() {
		var rid int64
		if err := rows.Scan(&rid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("vulndb: %w", err)
		}
		rids = append(rids, rid)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	if len(rids) == 0 {
		return nil, nil
	}
	out := make([]*osv.Vulnerability, len(rids))
	for i, rid := range rids {
		if out[i], err = d.record(ctx, rid); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// record returns the record stored under rid, from the cache if it holds it.
func (d *DB) record(ctx context.Context, rid int64) (*osv.Vulnerability, error) {
	if v := d.cache.get(rid); v != nil {
		return v, nil
	}
	var doc []byte
	if err := d.doc.QueryRowContext(ctx, rid).Scan(&doc); err != nil {
		return nil, fmt.Errorf("vulndb: record %d: %w", rid, err)
	}
	v, size, err := decodeDoc(doc)
	if err != nil {
		return nil, err
	}
	return d.cache.put(rid, v, size), nil
}

// SetCacheBytes bounds the records the DB keeps decoded between lookups, as
// the size of their JSON (DefaultCacheBytes unless set); 0 turns the cache off.
// A scan asks for the same large records many times (an AlmaLinux advisory
// names hundreds of binary packages): decoding one costs far more than the
// lookup.
func (d *DB) SetCacheBytes(n int64) { d.cache.setLimit(n) }

// Advisory returns the record with that ID or, failing that, one that lists
// it among its aliases (preferring records not withdrawn, then the lowest ID).
// A withdrawn record is returned with Withdrawn set. No match is ErrNotFound.
// The record is shared and must not be modified (see DB).
func (d *DB) Advisory(ctx context.Context, id string) (*osv.Vulnerability, error) {
	id = strings.TrimSpace(id)
	var rid int64
	err := d.byID.QueryRowContext(ctx, id).Scan(&rid)
	if errors.Is(err, sql.ErrNoRows) {
		err = d.byAlias.QueryRowContext(ctx, id).Scan(&rid)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no advisory with ID or alias %q", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	return d.record(ctx, rid)
}

// AliasGroup returns the records, not withdrawn, that are the same
// vulnerability as id: the record with that ID, records listing id as an
// alias, records named among its aliases, and records sharing one of its
// aliases. Ordered by ID; empty when none. The records are shared and must
// not be modified (see DB).
func (d *DB) AliasGroup(ctx context.Context, id string) ([]*osv.Vulnerability, error) {
	return d.query(ctx, d.group, strings.TrimSpace(id))
}

// KEVEntry is one entry of the CISA Known Exploited Vulnerabilities catalog.
type KEVEntry struct {
	CVE, VendorProject, Product, Name string
	DateAdded, DueDate                time.Time
	KnownRansomware                   bool
	RequiredAction, Notes             string
	ShortDescription                  string
	CWEs                              []string
}

// KEV returns the catalog entry for a CVE ID, if it has one.
func (d *DB) KEV(ctx context.Context, cve string) (KEVEntry, bool, error) {
	var e KEVEntry
	var added, due, cwes string
	err := d.kev.QueryRowContext(ctx, strings.ToUpper(strings.TrimSpace(cve))).Scan(
		&e.CVE, &e.VendorProject, &e.Product, &e.Name, &added, &due, &e.KnownRansomware,
		&e.RequiredAction, &e.Notes, &e.ShortDescription, &cwes)
	if errors.Is(err, sql.ErrNoRows) {
		return KEVEntry{}, false, nil
	}
	if err != nil {
		return KEVEntry{}, false, fmt.Errorf("vulndb: %w", err)
	}
	e.DateAdded, _ = time.Parse(time.DateOnly, added)
	e.DueDate, _ = time.Parse(time.DateOnly, due)
	if cwes != "" {
		e.CWEs = strings.Split(cwes, ",")
	}
	return e, true, nil
}

// EPSSScore is a CVE's EPSS probability of exploitation in the next 30 days and
// its percentile among all scored CVEs, as of Date.
type EPSSScore struct {
	CVE               string
	Score, Percentile float64
	Date              time.Time
}

// EPSS returns the score of a CVE ID, if it has one.
func (d *DB) EPSS(ctx context.Context, cve string) (EPSSScore, bool, error) {
	var s EPSSScore
	var date string
	err := d.epss.QueryRowContext(ctx, strings.ToUpper(strings.TrimSpace(cve))).Scan(&s.CVE, &s.Score, &s.Percentile, &date)
	if errors.Is(err, sql.ErrNoRows) {
		return EPSSScore{}, false, nil
	}
	if err != nil {
		return EPSSScore{}, false, fmt.Errorf("vulndb: %w", err)
	}
	if date != "" {
		s.Date, _ = time.Parse(time.DateOnly, date)
	}
	return s, true, nil
}

// Status says what a database holds and where it came from.
type Status struct {
	Dir   string    `json:"dir"`
	Built time.Time `json:"built"`
	// Sources lists the inputs in the order they were read.
	Sources []SourceStatus `json:"sources"`
	// Advisories counts records not withdrawn; Withdrawn the withdrawn ones.
	Advisories int `json:"advisories"`
	Withdrawn  int `json:"withdrawn"`
	KEV        int `json:"kev"`
	EPSS       int `json:"epss"`
	// ByEcosystem counts records not withdrawn per ecosystem base ("Debian"
	// covers every "Debian:N"); a record in two ecosystems counts in both.
	ByEcosystem map[string]int `json:"by_ecosystem"`
	// Warnings counts inputs skipped (records that are not OSV, bad rows…);
	// each was logged.
	Warnings int `json:"warnings"`
}

// SourceStatus describes one input of a database.
type SourceStatus struct {
	// Name is "osv/<Ecosystem>" (or "osv/<path>" for other layouts), "kev" or
	// "epss".
	Name string `json:"name"`
	// Location is the URL downloaded or the local path imported.
	Location string `json:"location"`
	// Fetched is when the file was downloaded (Update) or last modified (Import).
	Fetched      time.Time `json:"fetched"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	// SHA256 is the hex SHA-256 of the file (of the sorted name and hash list
	// for a folder of JSON records).
	SHA256 string `json:"sha256"`
	// Records is how many records, entries or rows were read from it (before
	// duplicates across sources were merged).
	Records int `json:"records"`
	// Version is the KEV catalog version or the EPSS model version and score date.
	Version  string `json:"version,omitempty"`
	Warnings int    `json:"warnings,omitempty"`
}

// Status describes the database.
func (d *DB) Status(ctx context.Context) (Status, error) {
	var raw string
	if err := d.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'status'`).Scan(&raw); err != nil {
		return Status{}, fmt.Errorf("%w: no status: %v; rebuild it with `tether db update`", ErrSchema, err)
	}
	var s Status
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return Status{}, fmt.Errorf("%w: bad status: %v; rebuild it with `tether db update`", ErrSchema, err)
	}
	s.Dir = d.dir
	return s, nil
}
