package store_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tether-sec/tether/store"
	"github.com/tether-sec/tether/store/storetest"
)

// The crash test runs this test binary again as a child that ingests a big batch;
// crashEnv carries the database and crashSeedEnv the batch's seed.
const (
	crashEnv     = "TETHER_STORE_CRASH_DSN"
	crashSeedEnv = "TETHER_STORE_CRASH_SEED"
	crashEdges   = 100_000
	crashBegun   = "ingest transaction begun"
)

// crashChild is the child's main: it prints "BEGUN" once its ingest transaction
// has begun and "COMMITTED" when it is done, unless it is killed first.
func crashChild() int {
	ctx := context.Background()
	b := storetest.Chain(crashEdges, os.Getenv(crashSeedEnv), time.Now())
	s, err := store.Open(ctx, os.Getenv(crashEnv), store.WithLogger(slog.New(beginPrinter{})))
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	defer s.Close()
	if _, err := s.Ingest(ctx, b); err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	fmt.Println("COMMITTED")
	return 0
}

// beginPrinter is a slog.Handler that prints BEGUN when the store logs that an
// ingest transaction has begun.
type beginPrinter struct{}

func (beginPrinter) Enabled(context.Context, slog.Level) bool { return true }
func (beginPrinter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == crashBegun {
		fmt.Fprintln(os.Stdout, "BEGUN")
	}
	return nil
}
func (h beginPrinter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h beginPrinter) WithGroup(string) slog.Handler      { return h }

// TestCrash kills a process in the middle of an ingest and checks that the store
// holds exactly what it held before, and still works.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped with -short")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			dsn := be.dsn(t)
			s := open(t, dsn)
			if _, err := s.Ingest(context.Background(), storetest.Chain(2000, "base", time.Now())); err != nil {
				t.Fatal(err)
			}
			s.Close()
			batch := storetest.Chain(crashEdges, "probe", time.Now())
			for i := range 3 {
				seed := fmt.Sprintf("crash%d", i)
				before := integrity(t, be, dsn)
				delay := time.Duration(rng.Int64N(int64(900 * time.Millisecond)))
				out, committed := runAndKill(t, dsn, seed, delay)
				after := integrity(t, be, dsn)
				switch {
				case after == before:
					if committed {
						t.Errorf("iteration %d: the child said COMMITTED but its batch is not there", i)
					}
					t.Logf("iteration %d: killed %v into the transaction; the store is as it was", i, delay)
				case after == (counts{before.nodes + int64(len(batch.Nodes)), before.edges + int64(len(batch.Edges)), before.scans + 1}):
					// All of it is as good as none of it; the kill came too late.
					t.Logf("iteration %d: the child committed (said so: %v) before the kill after %v", i, committed, delay)
				default:
					t.Fatalf("iteration %d: killed after %v: the store went from %+v to %+v; child said:\n%s", i, delay, before, after, out)
				}
				s := open(t, dsn)
				res, err := s.Ingest(context.Background(), storetest.Chain(100, fmt.Sprint("after", i), time.Now()))
				if err != nil || res.EdgesAdded != 100 {
					t.Errorf("iteration %d: ingest after the crash: %+v, %v", i, res, err)
				}
				s.Close()
			}
		})
	}
}

// runAndKill starts a child ingest and SIGKILLs it delay after its transaction
// began. It returns the child's output and whether the child said it committed.
func runAndKill(t *testing.T, dsn, seed string, delay time.Duration) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dsn, crashSeedEnv+"="+seed)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	var out strings.Builder
	go func() {
		r := bufio.NewReader(stdout)
		for {
			l, err := r.ReadString('\n')
			if l != "" {
				lines <- strings.TrimSpace(l)
			}
			if err != nil {
				if err != io.EOF {
					lines <- "read: " + err.Error()
				}
				close(lines)
				return
			}
		}
	}()
	timeout := time.After(60 * time.Second)
	for begun := false; !begun; {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("the child ended before its transaction began:\n%s", out.String())
			}
			out.WriteString(l + "\n")
			begun = l == "BEGUN"
		case <-timeout:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the child did not begin its transaction within 60s:\n%s", out.String())
		}
	}
	time.Sleep(delay)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		out.WriteString(l + "\n")
	}
	cmd.Wait()
	return out.String(), strings.Contains(out.String(), "COMMITTED")
}

type counts struct{ nodes, edges, scans int64 }

// integrity checks the database under the store (no dangling edge; for SQLite
// the file's own checks) and returns what it holds.
func integrity(t *testing.T, be backend, dsn string) counts {
	t.Helper()
	db := raw(t, be, dsn)
	defer db.Close()
	var c counts
	var dangling int64
	err := db.QueryRow(`SELECT
		(SELECT count(*) FROM nodes), (SELECT count(*) FROM edges), (SELECT count(*) FROM scans),
		(SELECT count(*) FROM edges e WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = e.from_id)
			OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = e.to_id))`).Scan(&c.nodes, &c.edges, &c.scans, &dangling)
	if err != nil {
		t.Fatal(err)
	}
	if dangling != 0 {
		t.Errorf("%d dangling edges", dangling)
	}
	if be.name == "sqlite" {
		var ok string
		if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
			t.Errorf("integrity_check: %q, %v", ok, err)
		}
	}
	return c
}
