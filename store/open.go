package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Option configures Open.
type Option func(*options) error

type options struct {
	logger         *slog.Logger
	busyTimeout    time.Duration
	connectTimeout time.Duration
	maxConns       int
}

// WithLogger sets where the store logs migrations (Info) and ingests (Debug). The
// default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("store: WithLogger(nil)")
		}
		o.logger = l
		return nil
	}
}

// WithBusyTimeout sets how long a SQLite writer waits for another process that
// holds the database's write lock before it fails. The default is 30s. PostgreSQL
// waits for its locks without a limit and ignores this option.
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("store: WithBusyTimeout(%v): negative timeout", d)
		}
		o.busyTimeout = d
		return nil
	}
}

// WithConnectTimeout sets how long Open waits for a PostgreSQL server to answer.
// The default is 10s; a connect_timeout in the DSN wins. SQLite ignores it.
func WithConnectTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("store: WithConnectTimeout(%v): the timeout must be positive", d)
		}
		o.connectTimeout = d
		return nil
	}
}

// WithMaxConns caps the open connections to the database. The default is 4 for
// SQLite (one writer at a time, readers in parallel) and 10 for PostgreSQL.
func WithMaxConns(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("store: WithMaxConns(%d): need at least 1", n)
		}
		o.maxConns = n
		return nil
	}
}

// DefaultPath is the SQLite database Open uses for an empty DSN:
// $XDG_DATA_HOME/tether/tether.db, else ~/.local/share/tether/tether.db.
func DefaultPath() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "tether", "tether.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("%w: no default database path (%v): set XDG_DATA_HOME or HOME, or pass --db", ErrUnavailable, err)
	}
	return filepath.Join(home, ".local", "share", "tether", "tether.db"), nil
}

// Open opens the database named by dsn, creating it and bringing its schema up to
// date as needed:
//   - "" opens the SQLite file DefaultPath();
//   - "postgres://…" or "postgresql://…" connects to PostgreSQL;
//   - anything else is the path of a SQLite file, created with mode 0600 in a
//     directory created with mode 0700 when missing.
//
// A database written by a newer tether gives a *SchemaError (ErrSchemaTooNew); a
// file that is not a tether database gives ErrNotDatabase; an unreachable server
// or unusable path gives ErrUnavailable.
func Open(ctx context.Context, dsn string, opts ...Option) (Store, error) {
	o := options{
		logger:         slog.New(slog.DiscardHandler),
		busyTimeout:    30 * time.Second,
		connectTimeout: 10 * time.Second,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	var (
		s   *sqlStore
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s, err = openPostgres(ctx, dsn, &o)
	} else {
		if dsn == "" {
			if dsn, err = DefaultPath(); err != nil {
				return nil, err
			}
		}
		s, err = openSQLite(ctx, dsn, &o)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqlStore is the one Store implementation; a dialect holds what differs between
// SQLite and PostgreSQL.
type sqlStore struct {
	db    *sql.DB
	d     *dialect
	where string // the file path or host:port/database, for messages
	log   *slog.Logger

	writeSem  chan struct{} // one ingest at a time per process
	closeOnce sync.Once
	closeErr  error
}

// dialect is what one backend does differently.
type dialect struct {
	name string
	// dollar says placeholders are $1, $2… instead of ?.
	dollar bool
	// lock serializes writers across processes inside a transaction ("" when
	// beginning the transaction already does).
	lock string
	// stage creates the ingest's staging tables inside its transaction; unstage
	// drops them before commit.
	stage, unstage []string
	// bulk appends n rows, built by row, to a staging table.
	bulk func(ctx context.Context, conn *sql.Conn, tx *sql.Tx, table string, cols []string, n int, row func(i int, dst []any) []any) error
	// analyze refreshes the planner's statistics after a big ingest ("" for
	// none); rowEstimate guesses the rows of nodes and edges as they were before.
	analyze, rowEstimate string
}

// Close releases the database. Calling it again does nothing.
func (s *sqlStore) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.db.Close() })
	return s.closeErr
}

// q rewrites ? placeholders as $n for PostgreSQL. tether's queries hold no ? in
// literals or identifiers.
func (s *sqlStore) q(query string) string {
	if !s.d.dollar || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
