package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgLockKey is the advisory lock that serializes tether's writers (ingests and
// migrations) on one PostgreSQL database.
const pgLockKey = 0x7e7e_5709_e000_0001

var postgresDialect = &dialect{
	name:   "postgres",
	dollar: true,
	lock:   "SELECT pg_advisory_xact_lock(" + strconv.FormatInt(pgLockKey, 10) + ")",
	stage: []string{
		`CREATE TEMP TABLE stage_nodes (id text COLLATE "C" NOT NULL, kind text NOT NULL, name text NOT NULL, attrs jsonb, stub boolean NOT NULL) ON COMMIT DROP`,
		`CREATE TEMP TABLE stage_edges (from_id text COLLATE "C" NOT NULL, kind text COLLATE "C" NOT NULL, to_id text COLLATE "C" NOT NULL, method text COLLATE "C" NOT NULL, confidence double precision NOT NULL, evidence jsonb, attrs jsonb) ON COMMIT DROP`,
	},
	bulk:    pgBulk,
	analyze: "ANALYZE nodes, edges",
	// reltuples is the row count as of the last ANALYZE or VACUUM, -1 before any.
	rowEstimate: `SELECT COALESCE(sum(GREATEST(reltuples, 0)), 0) FROM pg_class WHERE oid IN ('nodes'::regclass, 'edges'::regclass)`,
}

func openPostgres(ctx context.Context, dsn string, o *options) (*sqlStore, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid PostgreSQL URL: %v; check --db", ErrUnavailable, err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = o.connectTimeout
	}
	where := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	db := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(checkClient))
	n := o.maxConns
	if n == 0 {
		n = 10
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: cannot connect to PostgreSQL at %s: %s; check --db or start the server", ErrUnavailable, where, oneLine(err))
	}
	return &sqlStore{db: db, d: postgresDialect, where: where + "/" + cfg.Database, log: o.logger, writeSem: make(chan struct{}, 1)}, nil
}

// checkClient asks the server (PostgreSQL 14 and later) to notice within a second
// when tether dies in the middle of a statement, so that the statement's locks do
// not outlive it. Older servers do not know the setting; that is no error.
func checkClient(ctx context.Context, c *pgx.Conn) error {
	_, _ = c.Exec(ctx, "SET client_connection_check_interval = 1000")
	return nil
}

// pgBulk streams rows into a staging table with COPY, on the transaction's
// connection.
func pgBulk(ctx context.Context, conn *sql.Conn, _ *sql.Tx, table string, cols []string, n int, row func(i int, dst []any) []any) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("store: PostgreSQL connection is not pgx")
		}
		buf := make([]any, 0, len(cols))
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			return row(i, buf[:0]), nil
		}))
		return err
	})
}

// oneLine folds a multi-line driver error (pgx lists every address it tried) into
// one line, keeping each distinct reason once.
func oneLine(err error) string {
	var parts []string
	seen := map[string]bool{}
	for _, l := range strings.Split(err.Error(), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !seen[l] {
			seen[l] = true
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}
