package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFS embed.FS

// migration is one schema step, read from migrations/<dialect>/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists a dialect's steps in order. Both dialects have the same
// versions.
func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	ents, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range ents {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: bad migration file name %s", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migrations of %s skip from %d to %d", dialect, i, m.version)
		}
	}
	return ms, nil
}

// KnownSchemaVersion is the newest schema version this build of tether knows.
func KnownSchemaVersion() int {
	ms, err := migrations(sqliteDialect.name)
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at BIGINT  NOT NULL
)`

// migrate brings the schema up to date, one transaction per step, or reports a
// schema newer than this binary knows.
func (s *sqlStore) migrate(ctx context.Context) error {
	ms, err := migrations(s.d.name)
	if err != nil {
		return err
	}
	known := ms[len(ms)-1].version
	var cur int
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
			return err
		}
		cur, err = s.version(ctx, tx)
		return err
	})
	if err != nil {
		return s.wrap(ctx, "read the schema version", err)
	}
	if cur > known {
		return &SchemaError{Path: s.where, Found: cur, Known: known}
	}
	for _, m := range ms {
		if m.version <= cur {
			continue
		}
		err := s.writeTx(ctx, func(tx *sql.Tx) error {
			v, err := s.version(ctx, tx)
			if err != nil || v >= m.version { // another process got here first
				return err
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.version, m.name, time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return s.wrap(ctx, fmt.Sprintf("apply schema migration %d (%s)", m.version, m.name), err)
		}
		s.log.InfoContext(ctx, "applied schema migration", "db", s.where, "version", m.version, "name", m.name)
	}
	return nil
}

func (s *sqlStore) version(ctx context.Context, tx *sql.Tx) (int, error) {
	var v sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

// writeTx runs f in a transaction that holds the database's write lock.
func (s *sqlStore) writeTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.d.lock != "" {
		if _, err := tx.ExecContext(ctx, s.d.lock); err != nil {
			return err
		}
	}
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// wrap gives err the context of what failed, keeping a cancelled ctx visible.
func (s *sqlStore) wrap(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("store: %s: %w", what, ctx.Err())
	}
	return fmt.Errorf("store: %s in %s: %w", what, s.where, err)
}
