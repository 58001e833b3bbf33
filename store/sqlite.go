package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"modernc.org/sqlite"
)

// SQLite result codes tether tells apart.
const (
	sqliteCantOpen = 14
	sqliteNotADB   = 26
)

var sqliteDialect = &dialect{
	name: "sqlite",
	stage: []string{
		`DROP TABLE IF EXISTS temp.stage_nodes`,
		`DROP TABLE IF EXISTS temp.stage_edges`,
		`CREATE TEMP TABLE stage_nodes (id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, attrs TEXT, stub INTEGER NOT NULL)`,
		`CREATE TEMP TABLE stage_edges (from_id TEXT NOT NULL, kind TEXT NOT NULL, to_id TEXT NOT NULL, method TEXT NOT NULL, confidence REAL NOT NULL, evidence TEXT, attrs TEXT)`,
	},
	unstage: []string{
		`DROP TABLE temp.stage_nodes`,
		`DROP TABLE temp.stage_edges`,
	},
	bulk: sqliteBulk,
}

func openSQLite(ctx context.Context, path string, o *options) (*sqlStore, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%w: database path %s: %v; pass --db with another path", ErrUnavailable, path, err)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is a directory; pass --db with the path of a database file", ErrUnavailable, abs)
	}
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: cannot create directory %s for the database: %v; pass --db with a writable path", ErrUnavailable, dir, err)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot open %s: %v; check its permissions or pass --db with another path", ErrUnavailable, abs, err)
	}
	f.Close()

	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(o.busyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "journal_mode(WAL)")
	// NORMAL in WAL mode survives a crashed process; a power cut may lose the last
	// transactions but never corrupts the file.
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate") // writers take the lock when they begin, so they wait instead of failing
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + q.Encode()
	conn, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, abs, err)
	}
	db := sql.OpenDB(conn)
	n := o.maxConns
	if n == 0 {
		n = 4
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	s := &sqlStore{db: db, d: sqliteDialect, where: abs, log: o.logger, writeSem: make(chan struct{}, 1)}
	if err := s.checkSQLite(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// checkSQLite opens a first connection and makes sure the file is a tether
// database, or an empty one that can become one.
func (s *sqlStore) checkSQLite(ctx context.Context) error {
	err := s.db.PingContext(ctx)
	var tables []string
	if err == nil {
		tables, err = s.sqliteTables(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var se *sqlite.Error
		if errors.As(err, &se) {
			switch se.Code() & 0xff {
			case sqliteNotADB:
				return fmt.Errorf("%w: %s is not a tether database: %v; pass --db with another path", ErrNotDatabase, s.where, err)
			case sqliteCantOpen:
				return fmt.Errorf("%w: cannot open %s: %v; check its permissions or pass --db with another path", ErrUnavailable, s.where, err)
			}
		}
		return fmt.Errorf("%w: cannot open %s: %v; pass --db with another path", ErrUnavailable, s.where, err)
	}
	ours := false
	for _, t := range tables {
		if t == "schema_migrations" {
			ours = true
		}
	}
	if len(tables) > 0 && !ours {
		return fmt.Errorf("%w: %s is not a tether database: it holds other tables (%s); pass --db with another path",
			ErrNotDatabase, s.where, strings.Join(tables, ", "))
	}
	return nil
}

func (s *sqlStore) sqliteTables(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// sqliteChunk caps the rows of one multi-row INSERT, under SQLite's limit of
// 32766 parameters.
const sqliteChunk = 512

// sqliteBulk inserts rows with prepared multi-row INSERT statements.
func sqliteBulk(ctx context.Context, _ *sql.Conn, tx *sql.Tx, table string, cols []string, n int, row func(i int, dst []any) []any) error {
	var full *sql.Stmt
	args := make([]any, 0, sqliteChunk*len(cols))
	for start := 0; start < n; start += sqliteChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+sqliteChunk, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		stmt := full
		if end-start < sqliteChunk || full == nil {
			st, err := tx.PrepareContext(ctx, insertRows(table, cols, end-start))
			if err != nil {
				return err
			}
			if end-start == sqliteChunk {
				full = st
				defer full.Close()
			} else {
				defer st.Close()
			}
			stmt = st
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// insertRows builds "INSERT INTO table (cols) VALUES (?, …), …" for n rows.
func insertRows(table string, cols []string, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	b.WriteString(strings.Join(cols, ", "))
	b.WriteString(") VALUES ")
	one := "(" + strings.Repeat("?, ", len(cols)-1) + "?)"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}
