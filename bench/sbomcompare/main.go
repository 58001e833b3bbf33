// Command sbomcompare benchmarks tether's package catalog against syft on the same
// inputs, in one process run: the wall time of each run, the ratio tether/syft,
// package counts, and per ecosystem how many of syft's packages tether also finds.
//
// bench/sbom installs syft, builds this program and runs it; see bench/README.md.
// It exits non-zero only when something could not run, never because of a ratio.
package main

import (
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
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tether-sec/tether/image"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/sbom/cyclonedx"

	"github.com/tether-sec/tether/bench/internal/benchkit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sbomcompare:", err)
		os.Exit(1)
	}
}

// input is one thing both tools catalog.
type input struct {
	name string
	// tether is the path or reference tether reads; syft is syft's source argument.
	kind, path, syft string
}

// measured is one tool's runs over one input.
type measured struct {
	wall, cpu []time.Duration
	packages  int // entries in the SBOM
	set       pkgSet
	// problems counts files the tool could not read: tether's Problems, the
	// unknowns syft lists per file.
	problems int
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("sbomcompare", flag.ContinueOnError)
	fl.SetOutput(stderr)
	syftBin := fl.String("syft", "syft", "syft binary")
	syftVersion := fl.String("syft-version", "", "syft version, for the report")
	cache := fl.String("cache", "", "folder for inputs and outputs (required)")
	runs := fl.Int("n", 3, "runs per tool and input")
	top := fl.Int("top", 20, "packages listed per ecosystem and direction")
	only := fl.String("only", "source,image", "inputs to run, comma-separated: source, image")
	rebuild := fl.Bool("rebuild", false, "rebuild cached inputs")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *cache == "" || *runs < 1 {
		return errors.New("-cache is required and -n must be at least 1")
	}
	if _, err := exec.LookPath(*syftBin); err != nil {
		return fmt.Errorf("syft: %w (bench/sbom installs it)", err)
	}
	cacheDir, err := filepath.Abs(*cache)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return err
	}

	srcDir, err := benchkit.Cached(filepath.Join(cacheDir, inputsVersion, "inputs", "source"), inputsVersion, *rebuild, func(tmp string) error {
		return buildSource(ctx, cacheDir, tmp, stderr)
	})
	if err != nil {
		return fmt.Errorf("source input: %w", err)
	}
	var inputs []input
	for _, name := range strings.Split(*only, ",") {
		switch strings.TrimSpace(name) {
		case "source":
			inputs = append(inputs, input{name: "source", kind: "dir", path: srcDir, syft: "dir:" + srcDir})
		case "image":
			imgDir, err := benchkit.Cached(filepath.Join(cacheDir, inputsVersion, "inputs", "image"), inputsVersion, *rebuild, func(tmp string) error {
				return buildImage(srcDir, tmp, stderr)
			})
			if err != nil {
				return fmt.Errorf("image input: %w", err)
			}
			inputs = append(inputs, input{name: "image", kind: "image", path: imgDir, syft: "oci-dir:" + imgDir})
		default:
			return fmt.Errorf("-only: unknown input %q (want source, image)", name)
		}
	}
	outDir := filepath.Join(cacheDir, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}

	loadBefore := benchkit.LoadAverage()
	results := map[string][2]measured{}
	for _, in := range inputs {
		var t, s measured
		// Alternate the tools so that a slow spell of the machine hits both.
		for i := range *runs {
			fmt.Fprintf(stderr, "run %d/%d %s: tether", i+1, *runs, in.name)
			d, cpu, sb, err := runTether(ctx, in, filepath.Join(outDir, in.name+".tether.cdx.json"))
			if err != nil {
				fmt.Fprintln(stderr)
				return fmt.Errorf("tether on %s: %w", in.name, err)
			}
			t.wall, t.cpu = append(t.wall, d), append(t.cpu, cpu)
			t.packages, t.set, t.problems = len(sb.Packages), tetherSet(sb), len(sb.Problems)
			fmt.Fprintf(stderr, " %s, syft", round(d))
			out := filepath.Join(outDir, in.name+".syft.json")
			d, cpu, err = runSyft(ctx, *syftBin, in.syft, out)
			if err != nil {
				fmt.Fprintln(stderr)
				return fmt.Errorf("syft on %s: %w", in.name, err)
			}
			s.wall, s.cpu = append(s.wall, d), append(s.cpu, cpu)
			fmt.Fprintf(stderr, " %s\n", round(d))
			if s.packages, s.set, s.problems, err = readSyft(out); err != nil {
				return err
			}
		}
		results[in.name] = [2]measured{t, s}
	}
	report(stdout, inputs, results, *runs, *top, *syftVersion, outDir, loadBefore)
	return nil
}

// runTether catalogs in as the tether CLI does and writes CycloneDX JSON to out:
// the encoding is timed because syft's time includes writing its JSON. It
// returns the wall time and the CPU time (user and system) the process spent.
func runTether(ctx context.Context, in input, out string) (wall, cpu time.Duration, _ *sbom.SBOM, _ error) {
	runtime.GC()
	cpu0 := benchkit.ProcessCPU()
	start := time.Now()
	var s *sbom.SBOM
	var err error
	switch in.kind {
	case "dir":
		s, err = sbom.CatalogDir(ctx, in.path, sbom.Options{})
	case "image":
		ref := "oci:" + in.path
		var t *image.Target
		if t, err = image.Open(ctx, ref); err != nil {
			return 0, 0, nil, err
		}
		if len(t.Images) != 1 {
			return 0, 0, nil, fmt.Errorf("%s: want one image, got %d", ref, len(t.Images))
		}
		s, err = sbom.CatalogImage(ctx, t.Images[0].Image, sbom.Subject{Name: ref}, sbom.Options{})
	}
	if err != nil {
		return 0, 0, nil, err
	}
	f, err := os.Create(out)
	if err != nil {
		return 0, 0, nil, err
	}
	if err := cyclonedx.EncodeJSON(f, s); err != nil {
		f.Close()
		return 0, 0, nil, err
	}
	if err := f.Close(); err != nil {
		return 0, 0, nil, err
	}
	return time.Since(start), benchkit.ProcessCPU() - cpu0, s, nil
}

// runSyft runs `syft scan SOURCE -o syft-json=OUT` with update checks off and
// returns its wall and CPU time.
func runSyft(ctx context.Context, bin, source, out string) (wall, cpu time.Duration, _ error) {
	cmd := exec.CommandContext(ctx, bin, "scan", source, "-o", "syft-json="+out, "-q")
	cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return d, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

func round(d time.Duration) string {
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// report prints the timing table, the ratios and the coverage per ecosystem.
func report(w io.Writer, inputs []input, results map[string][2]measured, runs, top int, syftVersion, outDir, loadBefore string) {
	if syftVersion == "" {
		syftVersion = "(version not given)"
	}
	fmt.Fprintf(w, "tether (in process: sbom.CatalogDir / image.Open + sbom.CatalogImage, then CycloneDX JSON)\n")
	fmt.Fprintf(w, "vs syft %s (syft scan -o syft-json), %d runs each, alternating\n", syftVersion, runs)
	fmt.Fprintf(w, "%d CPUs, %s %s/%s, load average before %s, after %s\n\n",
		runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, loadBefore, benchkit.LoadAverage())

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "input\ttool\t"
	for i := range runs {
		head += fmt.Sprintf("wall %d\t", i+1)
	}
	fmt.Fprintln(tw, head+"median wall\tmedian cpu\tpackages\tunique\tunreadable files\t")
	for _, in := range inputs {
		r := results[in.name]
		for i, tool := range []string{"tether", "syft"} {
			m := r[i]
			line := in.name + "\t" + tool + "\t"
			for _, d := range m.wall {
				line += round(d) + "\t"
			}
			fmt.Fprintf(tw, "%s%s\t%s\t%d\t%d\t%d\t\n", line, round(benchkit.Median(m.wall)), round(benchkit.Median(m.cpu)), m.packages, m.set.size(), m.problems)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, in := range inputs {
		r := results[in.name]
		fmt.Fprintf(w, "ratio tether/syft, %s: wall %.2f, cpu %.2f (medians; below 1 means tether is faster)\n", in.name,
			benchkit.Median(r[0].wall).Seconds()/benchkit.Median(r[1].wall).Seconds(), benchkit.Median(r[0].cpu).Seconds()/benchkit.Median(r[1].cpu).Seconds())
	}

	for _, in := range inputs {
		r := results[in.name]
		rows := compareSets(r[1].set, r[0].set)
		fmt.Fprintf(w, "\ncoverage, %s: share of syft's packages that tether also finds. Packages are compared by purl\n", in.name)
		fmt.Fprintln(w, "type and lowercased namespace/name@version (PyPI names PEP 503-normalized, qualifiers dropped); a Go")
		fmt.Fprintln(w, "version's \"v\" and a gem's platform suffix are ignored, and \"same purl\" counts matches without that folding.")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "ecosystem\tsyft\ttether\tboth\tcoverage\tsame purl\tsyft only\ttether only\tof which dev\t")
		var sum ecoRow
		for _, row := range rows {
			sum.syft, sum.tether, sum.both, sum.exact, sum.tetherDev = sum.syft+row.syft, sum.tether+row.tether, sum.both+row.both, sum.exact+row.exact, sum.tetherDev+row.tetherDev
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t\n", row.eco, row.syft, row.tether, row.both, coverage(row.both, row.syft), row.exact, len(row.syftOnly), len(row.tetherOnly), row.tetherDev)
		}
		fmt.Fprintf(tw, "all\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t\n", sum.syft, sum.tether, sum.both, coverage(sum.both, sum.syft), sum.exact, sum.syft-sum.both, sum.tether-sum.both, sum.tetherDev)
		tw.Flush()
		list := func(title string, pick func(ecoRow) []string) {
			printed := false
			for _, row := range rows {
				keys := pick(row)
				if len(keys) == 0 {
					continue
				}
				if !printed {
					fmt.Fprintf(w, "\n%s, %s (first %d per ecosystem):\n", title, in.name, top)
					printed = true
				}
				shown := keys[:min(top, len(keys))]
				more := ""
				if len(keys) > len(shown) {
					more = fmt.Sprintf(" … and %d more", len(keys)-len(shown))
				}
				fmt.Fprintf(w, "  %s (%d): %s%s\n", row.eco, len(keys), strings.Join(shown, " "), more)
			}
		}
		list("syft finds, tether misses", func(r ecoRow) []string { return r.syftOnly })
		list("tether finds, syft misses", func(r ecoRow) []string { return r.tetherOnly })
	}
	fmt.Fprintf(w, "\nSBOMs of the last run: %s\n", outDir)
}
