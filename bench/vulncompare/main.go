// Command vulncompare benchmarks tether's vulnerability matching against
// osv-scanner on the same CycloneDX SBOMs and the same OSV data, offline, in
// one run: the findings each tool reports per package and advisory group, the
// difference, and the time each takes.
//
// bench/vuln installs osv-scanner, builds tether and this program and runs it;
// see bench/README.md. It exits non-zero only when something could not run,
// never because of a difference or a ratio.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tether-sec/tether/image"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/sbom/cyclonedx"
	"github.com/tether-sec/tether/vuln"
	"github.com/tether-sec/tether/vulndb"

	"github.com/tether-sec/tether/bench/internal/benchkit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "vulncompare:", err)
		os.Exit(1)
	}
}

type config struct {
	osvScanner, osvVersion, tether, cache, data string
	runs, top                                   int
	rebuild                                     bool
}

// result is what one input gave.
type result struct {
	in       inputSpec
	sbomFile string
	packages int
	// match is vuln.Match on a freshly opened database; e2e the tether CLI.
	// Wall times, one per run.
	match, e2e       []time.Duration
	matchCPU, e2eCPU []time.Duration // user + system CPU time
	tether           findingSet      // from vuln.Match
	cli              int             // findings the CLI reported (checked against tether)
	// osv are osv-scanner's runs: on the SBOM, and for images also on the image.
	osv []*osvRun
}

// osvRun is one way of running osv-scanner on an input.
type osvRun struct {
	label     string   // "sbom" or "image"
	args      []string // after "scan"
	wall, cpu []time.Duration
	found     findingSet
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("vulncompare", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var c config
	var only string
	fl.StringVar(&c.osvScanner, "osv-scanner", "osv-scanner", "osv-scanner binary")
	fl.StringVar(&c.osvVersion, "osv-scanner-version", "", "osv-scanner version, for the report")
	fl.StringVar(&c.tether, "tether", "", "tether binary, for the end-to-end time (required)")
	fl.StringVar(&c.cache, "cache", "", "folder for inputs, databases and outputs (required)")
	fl.StringVar(&c.data, "data", "", "the shared data folder with osv/ and debian-security-tracker/ (required)")
	fl.IntVar(&c.runs, "n", 3, "runs per tool and input")
	fl.IntVar(&c.top, "top", 0, "findings listed per input (0: all)")
	fl.StringVar(&only, "only", "", "inputs to run, comma-separated (default: all)")
	fl.BoolVar(&c.rebuild, "rebuild", false, "rebuild cached inputs")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if c.cache == "" || c.data == "" || c.tether == "" || c.runs < 1 {
		return errors.New("-cache, -data and -tether are required and -n must be at least 1")
	}
	for _, bin := range []string{c.osvScanner, c.tether} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%w (bench/vuln installs and builds it)", err)
		}
	}
	var err error
	if c.cache, err = filepath.Abs(c.cache); err != nil {
		return err
	}
	specs := inputSpecs
	if only != "" {
		specs = nil
		for _, name := range strings.Split(only, ",") {
			i := slices.IndexFunc(inputSpecs, func(s inputSpec) bool { return s.name == strings.TrimSpace(name) })
			if i < 0 {
				return fmt.Errorf("-only: unknown input %q", name)
			}
			specs = append(specs, inputSpecs[i])
		}
	}

	// The advisory data: one folder both tools read.
	advDir := filepath.Join(c.cache, "advisories")
	advLines, err := buildAdvisories(advDir, c.data)
	if err != nil {
		return fmt.Errorf("advisory data: %w", err)
	}
	dbDir := filepath.Join(c.cache, "tether-db")
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "importing %s into a tether database\n", advDir)
	start := time.Now()
	st, err := vulndb.Import(ctx, dbDir, advDir, vulndb.Options{})
	if err != nil {
		return fmt.Errorf("tether db import: %w", err)
	}
	importTime := time.Since(start)

	// Inputs and their SBOMs, made by tether.
	b := &builder{cache: c.cache, log: stderr, dirs: map[string]string{}}
	outDir := filepath.Join(c.cache, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	var results []*result
	var skipped []string
	for _, in := range specs {
		if in.needs != "" {
			if _, err := exec.LookPath(in.needs); err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: needs %s (apt-get install rpm)", in.name, in.needs))
				continue
			}
		}
		dir, err := benchkit.Cached(filepath.Join(c.cache, inputsVersion, "inputs", in.name), inputsVersion, c.rebuild, func(tmp string) error {
			return b.buildInput(ctx, in, tmp)
		})
		if err != nil {
			return fmt.Errorf("input %s: %w", in.name, err)
		}
		r := &result{in: in, sbomFile: filepath.Join(outDir, in.name+".cdx.json")}
		if err := writeSBOM(ctx, in, dir, r.sbomFile); err != nil {
			return fmt.Errorf("SBOM of %s: %w", in.name, err)
		}
		offline := []string{"--offline", "--local-db-path", advDir, "--format", "json"}
		r.osv = append(r.osv, &osvRun{label: "sbom", args: append([]string{"source", "-L", r.sbomFile}, offline...)})
		if in.image {
			// osv-scanner reads OS packages with their source package, distro and
			// epoch from an image; its default image plugins leave rpm out.
			r.osv = append(r.osv, &osvRun{label: "image", args: append([]string{"image", "--archive", filepath.Join(dir, archiveName),
				"--experimental-plugins", "os/rpm"}, offline...)})
		}
		results = append(results, r)
	}

	loadBefore := benchkit.LoadAverage()
	for _, r := range results {
		raw, err := os.ReadFile(r.sbomFile)
		if err != nil {
			return err
		}
		s, err := cyclonedx.Decode(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("%s: %w", r.sbomFile, err)
		}
		r.packages = len(s.Packages)
		store := filepath.Join(c.cache, "store-"+r.in.name+".db")
		os.Remove(store)
		for i := range c.runs {
			fmt.Fprintf(stderr, "run %d/%d %s: tether match", i+1, c.runs, r.in.name)
			d, cpu, fs, err := runMatch(ctx, dbDir, s)
			if err != nil {
				fmt.Fprintln(stderr)
				return fmt.Errorf("vuln.Match on %s: %w", r.in.name, err)
			}
			r.match, r.matchCPU, r.tether = append(r.match, d), append(r.matchCPU, cpu), tetherSet(s, fs)
			fmt.Fprintf(stderr, " %s, tether vuln", ms(d))
			d, cpu, n, err := runTetherCLI(ctx, c.tether, store, dbDir, r.sbomFile, filepath.Join(outDir, r.in.name+".tether.json"))
			if err != nil {
				fmt.Fprintln(stderr)
				return fmt.Errorf("tether vuln on %s: %w", r.in.name, err)
			}
			r.e2e, r.e2eCPU, r.cli = append(r.e2e, d), append(r.e2eCPU, cpu), n
			fmt.Fprintf(stderr, " %s", ms(d))
			for _, o := range r.osv {
				fmt.Fprintf(stderr, ", osv-scanner %s", o.label)
				out := filepath.Join(outDir, r.in.name+".osv-scanner-"+o.label+".json")
				d, cpu, err := runOSVScanner(ctx, c.osvScanner, o.args, out)
				if err != nil {
					fmt.Fprintln(stderr)
					return fmt.Errorf("osv-scanner on %s: %w", r.in.name, err)
				}
				o.wall, o.cpu = append(o.wall, d), append(o.cpu, cpu)
				fmt.Fprintf(stderr, " %s", ms(d))
				if o.found, err = readOSVScanner(out); err != nil {
					return err
				}
			}
			fmt.Fprintln(stderr)
		}
	}
	report(stdout, &c, results, skipped, advLines, st, importTime, loadBefore, outDir)
	return nil
}

// writeSBOM catalogs an input with tether and writes CycloneDX JSON: the SBOM
// both tools then read.
func writeSBOM(ctx context.Context, in inputSpec, dir, out string) error {
	var s *sbom.SBOM
	var err error
	if in.image {
		ref := "oci:" + dir
		t, err := image.Open(ctx, ref)
		if err != nil {
			return err
		}
		if len(t.Images) != 1 {
			return fmt.Errorf("%s: want one image, got %d", ref, len(t.Images))
		}
		s, err = sbom.CatalogImage(ctx, t.Images[0].Image, sbom.Subject{Name: in.name}, sbom.Options{})
		if err != nil {
			return err
		}
	} else if s, err = sbom.CatalogDir(ctx, dir, sbom.Options{}); err != nil {
		return err
	}
	s.Subject.Name = in.name
	var buf bytes.Buffer
	if err := cyclonedx.EncodeJSON(&buf, s); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// runMatch opens the database afresh (its record cache starts empty, as in a
// CLI run) and times vuln.Match alone: wall time and the CPU time (user and
// system) of this process meanwhile.
func runMatch(ctx context.Context, dbDir string, s *sbom.SBOM) (wall, cpu time.Duration, _ []vuln.Finding, _ error) {
	db, err := vulndb.Open(ctx, dbDir)
	if err != nil {
		return 0, 0, nil, err
	}
	defer db.Close()
	runtime.GC()
	cpu0 := benchkit.ProcessCPU()
	start := time.Now()
	fs, err := vuln.Match(ctx, db, s, vuln.Options{})
	return time.Since(start), benchkit.ProcessCPU() - cpu0, fs, err
}

func childCPU(cmd *exec.Cmd) time.Duration {
	if cmd.ProcessState == nil {
		return 0
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// runTetherCLI runs `tether vuln sbom:FILE -o json` as a user does and returns
// its wall and CPU time and the number of findings it printed.
func runTetherCLI(ctx context.Context, bin, store, dbDir, file, out string) (wall, cpu time.Duration, _ int, _ error) {
	cmd := exec.CommandContext(ctx, bin, "--db", store, "-q", "vuln", "sbom:"+file, "--db-dir", dbDir, "-o", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if err := os.WriteFile(out, stdout.Bytes(), 0o644); err != nil {
		return 0, 0, 0, err
	}
	n, err := countCLIFindings(stdout.Bytes())
	return d, childCPU(cmd), n, err
}

// runOSVScanner runs `osv-scanner scan ARGS --output-file OUT`. Exit status 1
// means it found vulnerabilities.
func runOSVScanner(ctx context.Context, bin string, args []string, out string) (wall, cpu time.Duration, _ error) {
	cmd := exec.CommandContext(ctx, bin, append(append([]string{"scan"}, args...), "--output-file", out)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Dir = filepath.Dir(out)
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		return 0, 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return d, childCPU(cmd), nil
}

func ms(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.1fms", float64(d)/1e6)
}
