package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/internal/testpg"
	"github.com/tether-sec/tether/store"
	"github.com/tether-sec/tether/store/storetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashEnv) != "" {
		os.Exit(crashChild())
	}
	testpg.Main(m)
}

// backend names a database for a test: a fresh one per call of dsn.
type backend struct {
	name   string
	dsn    func(t testing.TB) string
	driver string // database/sql driver, for looking under the store
}

var backends = []backend{
	{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "tether.db") }, "sqlite"},
	{"postgres", testpg.DSN, "pgx"},
}

func open(t testing.TB, dsn string, opts ...store.Option) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dsn, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store { return open(t, be.dsn(t)) })
		})
	}
}

// raw opens the database under a store, to look at or tamper with it.
func raw(t testing.TB, be backend, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(be.driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSchemaTooNew(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			dsn := be.dsn(t)
			open(t, dsn).Close()
			known := store.KnownSchemaVersion()
			q := fmt.Sprintf("INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, 'future', 0)", known+1)
			if _, err := raw(t, be, dsn).Exec(q); err != nil {
				t.Fatal(err)
			}
			_, err := store.Open(context.Background(), dsn)
			var se *store.SchemaError
			if !errors.Is(err, store.ErrSchemaTooNew) || !errors.As(err, &se) {
				t.Fatalf("Open of a newer schema: err = %v, want a *SchemaError", err)
			}
			if se.Found != known+1 || se.Known != known || se.Path == "" {
				t.Errorf("SchemaError = %+v, want Found %d, Known %d and a path", se, known+1, known)
			}
		})
	}
}

func TestReopen(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			dsn := be.dsn(t)
			s := open(t, dsn)
			b := storetest.Chain(300, "reopen", time.Unix(1700000000, 0))
			if _, err := s.Ingest(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			before, err := s.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			s = open(t, dsn)
			defer s.Close()
			after, err := s.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("Stats after reopening (-before +after):\n%s", diff)
			}
			var n int
			if err := raw(t, be, dsn).QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != store.KnownSchemaVersion() {
				t.Errorf("schema_migrations holds %d rows (%v), want %d", n, err, store.KnownSchemaVersion())
			}
		})
	}
}

func TestOpenDefaultPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  func(dir string) (xdg, home string)
		want func(dir string) string
	}{
		{"XDG_DATA_HOME", func(d string) (string, string) { return filepath.Join(d, "xdg"), filepath.Join(d, "home") },
			func(d string) string { return filepath.Join(d, "xdg", "tether", "tether.db") }},
		{"HOME", func(d string) (string, string) { return "", filepath.Join(d, "home") },
			func(d string) string { return filepath.Join(d, "home", ".local", "share", "tether", "tether.db") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			xdg, home := tc.env(dir)
			t.Setenv("XDG_DATA_HOME", xdg)
			t.Setenv("HOME", home)
			p, err := store.DefaultPath()
			if err != nil || p != tc.want(dir) {
				t.Fatalf("DefaultPath() = %q, %v; want %q", p, err, tc.want(dir))
			}
			s := open(t, "")
			defer s.Close()
			for path, mode := range map[string]os.FileMode{p: 0o600, filepath.Dir(p): 0o700 | os.ModeDir} {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode() != mode {
					t.Errorf("%s has mode %v, want %v", path, fi.Mode(), mode)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("this is not a database\n", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE customers (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	aFile := filepath.Join(dir, "file")
	if err := os.WriteFile(aFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().String()
	l.Close()

	for _, tc := range []struct {
		name string
		dsn  string
		is   error
		says []string
	}{
		{"not a SQLite file", garbage, store.ErrNotDatabase, []string{garbage + " is not a tether database", "pass --db"}},
		{"another program's SQLite", foreign, store.ErrNotDatabase, []string{foreign + " is not a tether database", "customers", "pass --db"}},
		{"a directory", dir, store.ErrUnavailable, []string{dir + " is a directory", "pass --db"}},
		{"directory cannot be created", filepath.Join(aFile, "sub", "tether.db"), store.ErrUnavailable,
			[]string{"cannot create directory " + filepath.Join(aFile, "sub"), "pass --db"}},
		{"PostgreSQL unreachable", "postgres://tether@" + closedPort + "/tether?sslmode=disable", store.ErrUnavailable,
			[]string{"cannot connect to PostgreSQL at " + closedPort, "check --db or start the server"}},
		{"PostgreSQL URL malformed", "postgresql://tether@[::1/x", store.ErrUnavailable, []string{"invalid PostgreSQL URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.Open(context.Background(), tc.dsn, store.WithConnectTimeout(5*time.Second))
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded", tc.dsn)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %v", err, tc.is)
			}
			for _, w := range tc.says {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestOptions(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.db")
	for _, opt := range []store.Option{
		store.WithLogger(nil), store.WithBusyTimeout(-1), store.WithConnectTimeout(0), store.WithMaxConns(0),
	} {
		if s, err := store.Open(context.Background(), p, opt); err == nil {
			s.Close()
			t.Errorf("Open accepted a bad option")
		}
	}
	for _, be := range backends {
		t.Run(be.name+" with one connection", func(t *testing.T) {
			s := open(t, be.dsn(t), store.WithBusyTimeout(time.Second), store.WithMaxConns(1), store.WithConnectTimeout(time.Second))
			defer s.Close()
			// Big enough for PostgreSQL to refresh its statistics after the ingest.
			if _, err := s.Ingest(context.Background(), storetest.Chain(6000, "one", time.Now())); err != nil {
				t.Fatal(err)
			}
			if ns, err := s.Nodes(context.Background(), store.NodeQuery{Kind: graph.KindImage, Limit: 3}); err != nil || len(ns) != 3 {
				t.Fatalf("Nodes = %d nodes, %v", len(ns), err)
			}
		})
	}
}

// TestTwoStoresShareOneFile opens one file twice, as two tether processes would,
// and ingests through both at once.
func TestTwoStoresShareOneFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "shared.db")
	a, b := open(t, p), open(t, p)
	defer a.Close()
	defer b.Close()
	errs := make(chan error, 2)
	for i, s := range []store.Store{a, b} {
		go func() {
			_, err := s.Ingest(context.Background(), storetest.Chain(3000, fmt.Sprint("p", i), time.Now()))
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	st, err := a.Stats(context.Background())
	if err != nil || st.Edges != 6000 || st.Scans != 2 {
		t.Errorf("Stats = %+v, %v; want 6000 edges in 2 scans", st, err)
	}
}
