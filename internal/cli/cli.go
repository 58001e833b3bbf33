// Package cli wires tether's cobra commands; each command is a thin shell over a
// testable function.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tether-sec/tether/store"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFindings = 1 // findings over --fail-on
	ExitError    = 2
)

// globals are the flags every command shares.
type globals struct {
	db     string
	quiet  bool
	debug  bool
	stdout io.Writer
	stderr io.Writer
}

func (g *globals) logger() *slog.Logger {
	if !g.debug {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (g *globals) openStore(ctx context.Context) (store.Store, error) {
	return store.Open(ctx, g.db, store.WithLogger(g.logger()))
}

// say prints a progress or summary line unless --quiet.
func (g *globals) say(format string, a ...any) {
	if !g.quiet {
		fmt.Fprintf(g.stderr, format+"\n", a...)
	}
}

// Main runs tether with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var fe *findingsError
	if errors.As(err, &fe) {
		fmt.Fprintf(stderr, "tether: %v\n", err)
		return ExitFindings
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "tether: interrupted")
		return ExitError
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "unknown command") {
		msg += ": run 'tether --help' for the list of commands"
	}
	fmt.Fprintf(stderr, "tether: error: %s\n", msg)
	return ExitError
}

// args requires exactly the named positional arguments.
func args(names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, a []string) error {
		if len(a) == len(names) {
			return nil
		}
		if len(names) == 0 {
			return fmt.Errorf("%s takes no arguments, got %q (see '%s --help')", c.CommandPath(), a, c.CommandPath())
		}
		return fmt.Errorf("%s needs %s, got %d arguments (see '%s --help')", c.CommandPath(), strings.Join(names, " "), len(a), c.CommandPath())
	}
}

// findingsError reports findings over the --fail-on threshold (exit code 1).
type findingsError struct{ n int }

func (e *findingsError) Error() string { return fmt.Sprintf("%d findings at or over --fail-on", e.n) }

// defaultDB describes the default store for help texts.
func defaultDB() string {
	if p, err := store.DefaultPath(); err == nil {
		return p
	}
	return "$XDG_DATA_HOME/tether/tether.db"
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "tether [global flags] command [flags] target",
		Short: "Trace what runs in your cloud back to the code, commit and owner that made it",
		Long: `tether traces every running container and cloud resource back to the image digest,
build, commit, Dockerfile line and owner that produced it, with the evidence for every link.

Facts go into a graph store: SQLite by default (` + defaultDB() + `),
or PostgreSQL with --db postgres://...`,
		Example: `  # Try it on a small generated estate, no network needed
  tether demo

  # Index a repository, an image and a cluster snapshot, then trace a pod
  tether scan repo ./payments-api
  tether scan image registry.example.com/payments-api:1.4.2
  tether scan k8s --snapshot pods.json
  tether trace pod/payments/payments-api-7d9c6-x2x4q

  # Trace an image by reference or digest, as JSON
  tether trace registry.example.com/payments-api@sha256:3b1f... -o json`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&g.db, "db", os.Getenv("TETHER_DB"), "graph store: a SQLite file path or a postgres:// URL (env TETHER_DB; default "+defaultDB()+")")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "suppress progress and summaries")
	pf.BoolVarP(&g.debug, "debug", "d", false, "debug logs on stderr")

	root.AddGroup(
		&cobra.Group{ID: "scan", Title: "Scanning Commands:"},
		&cobra.Group{ID: "query", Title: "Query Commands:"},
		&cobra.Group{ID: "util", Title: "Utility Commands:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("scan", newScanCmd(g), newSBOMCmd(g), newVulnCmd(g), newIngestCmd(g), newBuildCmd(g))
	add("query", newTraceCmd(g), newLineageCmd(g))
	add("util", newDBCmd(g), newDemoCmd(g), newVersionCmd(g))
	root.SetHelpCommandGroupID("util")
	root.SetCompletionCommandGroupID("util")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help'", err, c.CommandPath())
	})
	return root
}

// outputFlag validates -o values.
type outputFlag struct {
	value   string
	allowed []string
}

func (o *outputFlag) String() string { return o.value }
func (o *outputFlag) Type() string   { return "format" }
func (o *outputFlag) Set(s string) error {
	for _, a := range o.allowed {
		if s == a {
			o.value = s
			return nil
		}
	}
	return fmt.Errorf("unknown format %q (want one of %s)", s, strings.Join(o.allowed, ", "))
}

func addOutputFlag(c *cobra.Command, allowed ...string) *outputFlag {
	o := &outputFlag{value: allowed[0], allowed: allowed}
	c.Flags().VarP(o, "output", "o", "output format: "+strings.Join(allowed, ", "))
	return o
}
