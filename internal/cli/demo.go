package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tether-sec/tether/image"
	"github.com/tether-sec/tether/internal/demo"
	"github.com/tether-sec/tether/lineage"
	"github.com/tether-sec/tether/report"
	"github.com/tether-sec/tether/runtime"
	"github.com/tether-sec/tether/source"
)

func newDemoCmd(g *globals) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Build a small real estate (repo, image, registry, pod) and trace it end to end",
		Long: `Build a small, real estate in a temporary directory — a git repository with code,
a Dockerfile and CODEOWNERS; an image built from it and pushed to a registry served
in process; a Kubernetes pod snapshot that runs that image — then scan all three into
the store and trace the pod back to the commit, the Dockerfile lines and the owner.
Needs no network and no Docker engine.`,
		Example: `  tether demo
  tether demo --db /tmp/demo.db -o json
  tether demo --dir ./estate      # keep the estate to explore it`,
		Args: args(),
	}
	out := addOutputFlag(c, "table", "json")
	c.Flags().StringVar(&dir, "dir", "", "build the estate here and keep it (default: a temporary directory, removed after)")
	c.RunE = func(c *cobra.Command, _ []string) error { return runDemo(c.Context(), g, dir, out.value) }
	return c
}

func runDemo(ctx context.Context, g *globals, dir, format string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "tether-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo directory: %w", err)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	g.say("building the demo estate in %s", dir)
	e, err := demo.Build(ctx, dir)
	if err != nil {
		return err
	}
	defer e.Close()
	st, err := g.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()

	quiet := *g
	if format == "json" {
		quiet.quiet = true // keep stdout pure JSON
	}
	ropts := source.Options{Logger: g.logger()}
	rb, err := source.ScanRepo(ctx, e.RepoPath, ropts)
	if err != nil {
		return err
	}
	if err := ingestRepo(ctx, &quiet, st, "table", e.RepoPath, ropts, rb); err != nil {
		return err
	}
	if err := ingestImage(ctx, &quiet, st, "table", e.ImageRef, image.WithInsecure()); err != nil {
		return err
	}
	f, err := os.Open(e.SnapshotPath)
	if err != nil {
		return err
	}
	kb, err := runtime.ReadK8sSnapshot(ctx, f, runtime.K8sOptions{Cluster: "demo", Source: e.SnapshotPath})
	f.Close()
	if err != nil {
		return err
	}
	if err := ingestInto(ctx, &quiet, st, "table", kb); err != nil {
		return err
	}
	s, err := runSBOM(ctx, &quiet, st, e.ImageRef, imageFlags{insecure: true})
	if err != nil {
		return err
	}
	t, err := lineage.TraceTarget(ctx, st, e.PodTarget)
	if err != nil {
		return err
	}
	if format == "json" {
		return report.TraceJSON(g.stdout, t)
	}
	g.say("\n$ tether trace %s", e.PodTarget)
	if err := report.TraceTable(g.stdout, t); err != nil {
		return err
	}
	g.say("\n$ tether sbom %s", e.ImageRef)
	return report.SBOMTable(g.stdout, s)
}
