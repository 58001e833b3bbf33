// Package testpg runs one real PostgreSQL server per test binary and hands each test a fresh database.
package testpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tether-sec/tether/internal/testenv"
)

// EnvDSN names an environment variable that, when set, points the tests at an
// existing server (a postgres:// URL of a superuser, or one allowed to CREATE
// DATABASE) instead of starting one.
const EnvDSN = "TETHER_TEST_POSTGRES"

const install = "apt-get install -y postgresql"

var (
	mainCalled atomic.Bool
	once       sync.Once
	srv        *server
	srvErr     error
	dbSeq      atomic.Int64
)

// Main runs the tests of a package that calls DSN and then stops the server, if one
// was started. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testpg.Main(m) }
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	once.Do(func() {}) // orders the read of srv after its start
	if srv != nil {
		srv.stop()
	}
	os.Exit(code)
}

// DSN returns the postgres:// URL of a new, empty database on the package's test
// server, starting the server on first use. The database is dropped when t ends.
// The package must call Main from TestMain so the server stops with the binary.
// When no PostgreSQL is installed, DSN stops the test through testenv.Missing.
func DSN(t testing.TB) string {
	t.Helper()
	if !mainCalled.Load() {
		t.Fatal("testpg: call testpg.Main(m) from TestMain in this package, so the PostgreSQL server stops with the test binary")
	}
	once.Do(func() { srv, srvErr = start() })
	if srvErr != nil {
		var missing *missingError
		if errors.As(srvErr, &missing) {
			testenv.Missing(t, "PostgreSQL", install, missing.err)
		}
		t.Fatalf("testpg: %v", srvErr)
	}
	name := fmt.Sprintf("tether_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// FILE_COPY (PostgreSQL 15+) is several times faster than the default here.
	if err := srv.exec(ctx, "CREATE DATABASE "+name+" STRATEGY = FILE_COPY"); err != nil {
		if err := srv.exec(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatalf("testpg: create database: %v", err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("testpg: drop database %s: %v", name, err)
		}
	})
	u := *srv.admin
	u.Path = "/" + name
	return u.String()
}

// missingError says PostgreSQL is not installed.
type missingError struct{ err error }

func (e *missingError) Error() string { return e.err.Error() }

type server struct {
	admin   *url.URL // the superuser's URL, database "postgres"
	dir     string   // data directory; "" for an external server
	cmd     *exec.Cmd
	done    chan struct{}
	stopped atomic.Bool
}

func (s *server) exec(ctx context.Context, sql string) error {
	c, err := pgx.Connect(ctx, s.admin.String())
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	_, err = c.Exec(ctx, sql)
	return err
}

func start() (*server, error) {
	if v := os.Getenv(EnvDSN); v != "" {
		u, err := url.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvDSN, err)
		}
		return &server{admin: u}, nil
	}
	bin, err := binDir()
	if err != nil {
		return nil, &missingError{err}
	}
	cred, owner, err := credential()
	if err != nil {
		return nil, err
	}
	removeStale()
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return nil, err
	}
	if owner != nil {
		if err := os.Chown(dir, owner[0], owner[1]); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	var lastErr error
	for range 3 {
		s, err := launch(bin, dir, data, cred)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

const dirPattern = "tether-testpg-"

// removeStale removes the data directories of servers whose test binary was
// killed: the server stopped (its parent-death signal) and left no
// postmaster.pid, and the directory is older than any server still starting.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPattern+"*"))
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil || time.Since(fi.ModTime()) < 10*time.Minute {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "data", "postmaster.pid")); errors.Is(err, os.ErrNotExist) {
			os.RemoveAll(d)
		}
	}
}

// launch starts postgres on a free port and waits until it accepts connections.
func launch(bin, dir, data string, cred *syscall.Credential) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var log bytes.Buffer
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", data,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "log_min_messages=warning")
	cmd.Dir = dir
	cmd.Stdout = &log
	cmd.Stderr = &log
	// The server gets SIGINT (fast shutdown) if this process dies without Main's stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &server{
		admin: &url.URL{Scheme: "postgres", User: url.User("postgres"),
			Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Path: "/postgres",
			RawQuery: "sslmode=disable"},
		dir:  dir,
		cmd:  cmd,
		done: make(chan struct{}),
	}
	go func() { cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := s.exec(ctx, "SELECT 1")
		cancel()
		if err == nil {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("postgres exited: %s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("postgres did not accept connections within 30s: %v; log: %s", err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop shuts the server down (fast mode) and removes its data directory.
func (s *server) stop() {
	if s.cmd == nil || !s.stopped.CompareAndSwap(false, true) {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.kill()
	}
	os.RemoveAll(s.dir)
}

func (s *server) kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

// binDir finds the newest /usr/lib/postgresql/*/bin holding initdb and postgres, or
// the directory of initdb on PATH.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	p, err := exec.LookPath("initdb")
	if err != nil {
		return "", errors.New("no initdb in /usr/lib/postgresql/*/bin or on PATH")
	}
	d := filepath.Dir(p)
	if !isExec(filepath.Join(d, "postgres")) {
		return "", fmt.Errorf("no postgres next to %s", p)
	}
	return d, nil
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// credential returns the credential to run the server with: the postgres user when
// running as root (the server refuses root), else nil. owner is its uid and gid.
func credential() (cred *syscall.Credential, owner []int, err error) {
	if os.Geteuid() != 0 {
		return nil, nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, nil, &missingError{fmt.Errorf("running as root needs a postgres user to run the server: %w", err)}
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return nil, nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, []int{uid, gid}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
