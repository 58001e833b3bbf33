// Command lineagecompare measures tether's lineage against a labelled set of
// images: real git repositories made with the git command, images built from
// known commits with go-containerregistry (history as BuildKit writes it), in
// three variants — with correct OCI labels, without labels, and with labels that
// name the wrong commit — and prints precision and recall at repository and at
// commit level, and whether every lying label was flagged.
//
// A linked commit counts as right when it is in the image's equivalence range:
// the commits whose tree holds the copied directory at the same content (git's
// own tree hash of that directory). bench/lineage builds tether and runs this;
// see bench/README.md. It exits non-zero only when something cannot run.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tether := flag.String("tether", "", "the tether binary")
	work := flag.String("work", "", "working directory (emptied first)")
	commits := flag.Int("commits", 40, "commits per repository")
	verbose := flag.Bool("v", false, "print every image's result")
	flag.Parse()
	if *tether == "" || *work == "" {
		fmt.Fprintln(os.Stderr, "usage: lineagecompare -tether BIN -work DIR")
		os.Exit(2)
	}
	if err := run(ctx, *tether, *work, *commits, *verbose, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lineagecompare:", err)
		os.Exit(1)
	}
}

// repoSpec is one repository of the set: services (directories copied into
// images) and how commits change them.
type repoSpec struct {
	name     string
	services []service
	// forkOf makes this repository a fork: it starts as a copy of another
	// repository's first commits (shared history, identical files).
	forkOf string
	forkAt int
}

// service is a directory that one image per chosen commit is built from.
type service struct {
	dir  string // in the repository
	kind string // python, node, go, java, static
	dest string // in the image
}

// imageCase is one image of the set with its truth.
type imageCase struct {
	repo, service, variant string
	commit                 string   // the commit the image was built from
	equivalent             []string // commits with the same service tree
	labelCommit            string   // what the label says ("" none)
	digest                 string
}

func run(ctx context.Context, tether, work string, nCommits int, verbose bool, out io.Writer) error {
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	gitBin, err := exec.LookPath("git")
	if err != nil {
		return err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return err
	}
	db := filepath.Join(work, "tether.db")
	specs := []repoSpec{
		{name: "payments", services: []service{{"api", "python", "app"}, {"worker", "python", "srv/worker"}}},
		{name: "storefront", services: []service{{"web", "node", "usr/src/app"}}},
		{name: "ledger", services: []service{{".", "go", "usr/local/bin"}}},
		{name: "catalog", services: []service{{"service", "java", "app"}}},
		{name: "docs-site", services: []service{{"site", "static", "usr/share/nginx/html"}}},
		{name: "payments-fork", forkOf: "payments", forkAt: 8, services: []service{{"api", "python", "app"}}},
	}
	repos := map[string]*repo{}
	start := time.Now()
	for _, sp := range specs {
		r, err := makeRepo(ctx, gitBin, filepath.Join(work, "repos", sp.name), sp, repos, nCommits)
		if err != nil {
			return fmt.Errorf("repository %s: %w", sp.name, err)
		}
		repos[sp.name] = r
	}
	fmt.Fprintf(os.Stderr, "lineagecompare: %d repositories made in %v\n", len(repos), time.Since(start).Round(time.Millisecond))

	// Scan every repository (commits, Dockerfiles, blob index).
	for _, sp := range specs {
		if err := runTether(ctx, tether, "scan", "repo", repos[sp.name].dir, "--db", db, "-q"); err != nil {
			return err
		}
	}

	// Images: per repository and service, 5 commits spread over the history
	// (none before a fork point in a fork), each in three variants.
	rnd := rand.New(rand.NewSource(7))
	var cases []*imageCase
	for _, sp := range specs {
		r := repos[sp.name]
		for _, svc := range sp.services {
			picked := pickCommits(r, svc, sp, rnd)
			for i, c := range picked {
				eq, err := equivalent(ctx, gitBin, r, svc.dir, c)
				if err != nil {
					return err
				}
				for _, variant := range []string{"labels", "none", "lying"} {
					ic := &imageCase{repo: sp.name, service: svc.dir, variant: variant, commit: c, equivalent: eq}
					switch variant {
					case "labels":
						ic.labelCommit = c
					case "lying":
						// A commit whose service content differs: a stale label.
						for _, other := range r.commits {
							if !slices.Contains(eq, other) && other != c {
								ic.labelCommit = other
								if rnd.Intn(2) == 0 || i%2 == 0 {
									break
								}
							}
						}
					}
					dir := filepath.Join(work, "images", fmt.Sprintf("%s-%s-%d-%s", sp.name, strings.ReplaceAll(svc.dir, ".", "root"), i, variant))
					ic.digest, err = buildImage(ctx, gitBin, goBin, r, svc, c, ic.labelCommit, dir, filepath.Join(work, "build"))
					if err != nil {
						return fmt.Errorf("image of %s %s at %s: %w", sp.name, svc.dir, c[:7], err)
					}
					if err := runTether(ctx, tether, "scan", "image", "oci:"+dir, "--db", db, "-q"); err != nil {
						return err
					}
					cases = append(cases, ic)
				}
			}
		}
	}
	fmt.Fprintf(os.Stderr, "lineagecompare: %d images built and scanned\n", len(cases))
	if err := report(ctx, db, repos, cases, verbose, out); err != nil {
		return err
	}
	return traceTimes(ctx, tether, db, cases, out)
}

// traceTimes times `tether trace` of images on the store just built (warm:
// each image once before), against `tether version`, the same binary's start-up.
func traceTimes(ctx context.Context, tether, db string, cases []*imageCase, out io.Writer) error {
	timeRun := func(args ...string) (time.Duration, error) {
		start := time.Now()
		err := runTether(ctx, tether, args...)
		return time.Since(start), err
	}
	var traces, starts []time.Duration
	for i, ic := range cases {
		if i%5 != 0 {
			continue
		}
		if _, err := timeRun("trace", ic.digest, "--db", db, "-o", "json"); err != nil {
			return err
		}
		d, err := timeRun("trace", ic.digest, "--db", db, "-o", "json")
		if err != nil {
			return err
		}
		traces = append(traces, d)
		d, err = timeRun("version")
		if err != nil {
			return err
		}
		starts = append(starts, d)
	}
	slices.Sort(traces)
	slices.Sort(starts)
	mt, ms := traces[len(traces)/2], starts[len(starts)/2]
	fmt.Fprintf(out, "\ntether trace, warm, %d images: median %v, slowest %v; tether version (process start-up) %v; ratio %.1f\n",
		len(traces), mt.Round(time.Millisecond), traces[len(traces)-1].Round(time.Millisecond), ms.Round(time.Millisecond), float64(mt)/float64(ms))
	return nil
}

// repo is a made repository.
type repo struct {
	name, dir, url string
	commits        []string // oldest first
	// touched[i] are the services commit i changed.
	touched []map[string]bool
}

func git(ctx context.Context, gitBin, dir string, when time.Time, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, gitBin, append([]string{"-c", "user.name=Dev", "-c", "user.email=dev@acme.example", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	d := when.UTC().Format(time.RFC3339)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+d, "GIT_COMMITTER_DATE="+d)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %v: %v: %s", args, err, b)
	}
	return strings.TrimSpace(string(b)), nil
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// makeRepo makes a repository whose commits each change one service (or shared
// files only, now and then), so that equivalence ranges of several commits occur.
func makeRepo(ctx context.Context, gitBin, dir string, sp repoSpec, done map[string]*repo, n int) (*repo, error) {
	r := &repo{name: sp.name, dir: dir, url: "https://github.com/acme/" + sp.name}
	if sp.forkOf != "" {
		src := done[sp.forkOf]
		if _, err := git(ctx, gitBin, filepath.Dir(dir), t0, "clone", "-q", src.dir, dir); err != nil {
			return nil, err
		}
		if _, err := git(ctx, gitBin, dir, t0, "reset", "-q", "--hard", src.commits[sp.forkAt]); err != nil {
			return nil, err
		}
		r.commits = slices.Clone(src.commits[:sp.forkAt+1])
		for range r.commits {
			r.touched = append(r.touched, map[string]bool{})
		}
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if _, err := git(ctx, gitBin, dir, t0, "init", "-q"); err != nil {
			return nil, err
		}
	}
	if _, err := git(ctx, gitBin, dir, t0, "remote", "add", "origin", r.url+".git"); err != nil && sp.forkOf == "" {
		return nil, err
	} else if sp.forkOf != "" {
		git(ctx, gitBin, dir, t0, "remote", "set-url", "origin", r.url+".git")
	}
	rnd := rand.New(rand.NewSource(int64(len(sp.name)) * 31))
	startAt := len(r.commits)
	for i := startAt; i < n; i++ {
		touched := map[string]bool{}
		files := map[string]string{}
		if i == 0 {
			files["README.md"] = "# " + sp.name + "\n"
			files["LICENSE"] = "Copyright Acme\n"
			for _, svc := range sp.services {
				for p, b := range serviceFiles(sp.name, svc, 0) {
					files[p] = b
				}
				touched[svc.dir] = true
			}
		} else if rnd.Intn(5) == 0 {
			files["README.md"] = fmt.Sprintf("# %s\n\nrevision %d\n", sp.name, i)
		} else {
			svc := sp.services[rnd.Intn(len(sp.services))]
			for p, b := range serviceFiles(sp.name, svc, i) {
				files[p] = b
			}
			touched[svc.dir] = true
		}
		for p, b := range files {
			full := filepath.Join(dir, filepath.FromSlash(p))
			os.MkdirAll(filepath.Dir(full), 0o755)
			if err := os.WriteFile(full, []byte(b), 0o644); err != nil {
				return nil, err
			}
		}
		when := t0.Add(time.Duration(i) * time.Hour)
		if _, err := git(ctx, gitBin, dir, when, "add", "-A"); err != nil {
			return nil, err
		}
		if _, err := git(ctx, gitBin, dir, when, "commit", "-q", "--allow-empty", "-m", fmt.Sprintf("change %d", i)); err != nil {
			return nil, err
		}
		h, err := git(ctx, gitBin, dir, when, "rev-parse", "HEAD")
		if err != nil {
			return nil, err
		}
		r.commits = append(r.commits, h)
		r.touched = append(r.touched, touched)
	}
	return r, nil
}

// serviceFiles returns the files of svc at revision rev: each revision changes
// one file of the service and keeps the others.
func serviceFiles(repoName string, svc service, rev int) map[string]string {
	p := func(name string) string { return filepath.ToSlash(filepath.Join(svc.dir, name)) }
	v := func(name string) string { return fmt.Sprintf("%s/%s/%s rev %d", repoName, svc.dir, name, rev) }
	out := map[string]string{}
	switch svc.kind {
	case "python":
		which := rev % 3
		if rev == 0 || which == 0 {
			out[p("app.py")] = "# " + v("app.py") + "\nfrom handlers import handle\n\nprint(handle())\n"
		}
		if rev == 0 || which == 1 {
			out[p("handlers.py")] = "# " + v("handlers.py") + "\ndef handle():\n    return 'ok'\n"
		}
		if rev == 0 || which == 2 {
			out[p("requirements.txt")] = fmt.Sprintf("flask==3.0.%d\nrequests==2.32.3\n", rev%10)
		}
		if rev == 0 {
			out[p("Dockerfile")] = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . /app\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n"
		}
	case "node":
		if rev == 0 || rev%2 == 0 {
			out[p("index.js")] = "// " + v("index.js") + "\nrequire('./lib').start()\n"
		}
		if rev == 0 || rev%2 == 1 {
			out[p("lib.js")] = "// " + v("lib.js") + "\nexports.start = () => console.log('up')\n"
		}
		if rev == 0 {
			out[p("package.json")] = `{"name": "storefront", "version": "1.0.0", "main": "index.js"}` + "\n"
			out[p("Dockerfile")] = "FROM node:20-alpine\nWORKDIR /usr/src/app\nCOPY . .\nCMD [\"node\", \"index.js\"]\n"
		}
	case "go":
		if rev == 0 {
			out[p("go.mod")] = "module github.com/acme/" + repoName + "\n\ngo 1.22\n"
			out[p("Dockerfile")] = "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/ledger .\nFROM scratch\nCOPY --from=build /out/ledger /usr/local/bin/ledger\nENTRYPOINT [\"/usr/local/bin/ledger\"]\n"
		}
		out[p("main.go")] = fmt.Sprintf("package main\n\n// %s\n\nfunc main() { println(%q) }\n", v("main.go"), v("main"))
	case "java":
		out[p("src/main/java/com/acme/App.java")] = "// " + v("App.java") + "\npackage com.acme;\npublic class App {}\n"
		if rev == 0 {
			out[p("pom.xml")] = "<project><groupId>com.acme</groupId><artifactId>catalog</artifactId><version>1.0</version></project>\n"
			out[p("Dockerfile")] = "FROM eclipse-temurin:21\nCOPY target/app.jar /app/app.jar\nCMD [\"java\", \"-jar\", \"/app/app.jar\"]\n"
		}
	case "static":
		out[p(fmt.Sprintf("page%d.html", rev%4))] = "<!-- " + v("page") + " -->\n<h1>Docs</h1>\n"
		if rev == 0 {
			out[p("style.css")] = "body { font-family: sans-serif; }\n"
			for i := 1; i < 4; i++ {
				out[p(fmt.Sprintf("page%d.html", i))] = fmt.Sprintf("<!-- page %d -->\n", i)
			}
		}
	}
	return out
}

// pickCommits chooses 5 commits of the service's history (after a fork point
// for a fork, so that its images are its own).
func pickCommits(r *repo, svc service, sp repoSpec, rnd *rand.Rand) []string {
	from := 0
	if sp.forkOf != "" {
		from = sp.forkAt + 1
	}
	var picked []string
	span := len(r.commits) - from
	for k := 0; k < 5 && span > 0; k++ {
		i := from + (span*k)/5 + rnd.Intn(max(1, span/5))
		if i >= len(r.commits) {
			i = len(r.commits) - 1
		}
		if !slices.Contains(picked, r.commits[i]) {
			picked = append(picked, r.commits[i])
		}
	}
	return picked
}

// equivalent lists the commits whose tree holds the service directory with the
// same content as commit c (git's tree hash of the directory).
func equivalent(ctx context.Context, gitBin string, r *repo, dir, c string) ([]string, error) {
	spec := func(c string) string {
		if dir == "." {
			return c + "^{tree}"
		}
		return c + ":" + dir
	}
	want, err := git(ctx, gitBin, r.dir, t0, "rev-parse", spec(c))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range r.commits {
		h, err := git(ctx, gitBin, r.dir, t0, "rev-parse", spec(o))
		if err == nil && h == want {
			out = append(out, o)
		}
	}
	return out, nil
}

// buildImage writes an OCI layout with an image of svc at commit c: a base
// layer ending in a CMD, then the service as its Dockerfile would put it (the
// files under dest; for Go the binary built at c; for Java a jar with the
// git.properties the git-commit-id plugin writes), with BuildKit history.
func buildImage(ctx context.Context, gitBin, goBin string, r *repo, svc service, c, label, dir, scratch string) (string, error) {
	files := map[string][]byte{}
	modes := map[string]int64{}
	wt := filepath.Join(scratch, r.name)
	os.RemoveAll(wt)
	os.MkdirAll(filepath.Dir(wt), 0o755)
	if _, err := git(ctx, gitBin, filepath.Dir(wt), t0, "clone", "-q", r.dir, wt); err != nil {
		return "", err
	}
	if _, err := git(ctx, gitBin, wt, t0, "checkout", "-q", c); err != nil {
		return "", err
	}
	srcDir := filepath.Join(wt, filepath.FromSlash(svc.dir))
	switch svc.kind {
	case "go":
		out := filepath.Join(scratch, "ledger-bin")
		cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, ".")
		cmd.Dir = srcDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-buildvcs=true", "GOTOOLCHAIN=local")
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build: %v: %s", err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			return "", err
		}
		files[svc.dest+"/ledger"] = b
		modes[svc.dest+"/ledger"] = 0o755
	case "java":
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("BOOT-INF/classes/git.properties")
		fmt.Fprintf(w, "#Generated by Git-Commit-Id-Plugin\ngit.commit.id=%s\ngit.dirty=false\ngit.remote.origin.url=%s.git\n", c, strings.ReplaceAll(r.url, ":", "\\:"))
		w, _ = zw.Create("BOOT-INF/classes/com/acme/App.class")
		w.Write([]byte("\xca\xfe\xba\xbe compiled at " + c))
		zw.Close()
		files[svc.dest+"/app.jar"] = buf.Bytes()
	default:
		err := filepath.Walk(srcDir, func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(srcDir, p)
			if filepath.Base(rel) == "Dockerfile" {
				return nil // .dockerignore'd, as Dockerfiles often are
			}
			b, err := os.ReadFile(p)
			files[svc.dest+"/"+filepath.ToSlash(rel)] = b
			return err
		})
		if err != nil {
			return "", err
		}
	}
	labels := map[string]string{}
	if label != "" {
		labels["org.opencontainers.image.source"] = r.url
		labels["org.opencontainers.image.revision"] = label
	}
	img, err := mutate.ConfigFile(mutate.MediaType(empty.Image, types.OCIManifestSchema1), &v1.ConfigFile{
		Architecture: "amd64", OS: "linux", RootFS: v1.RootFS{Type: "layers"}, Config: v1.Config{Labels: labels},
	})
	if err != nil {
		return "", err
	}
	base, err := layerOf(map[string][]byte{"etc/os-release": []byte("ID=debian\nVERSION_ID=\"12\"\n"), "usr/share/doc/README": []byte("base\n")}, nil)
	if err != nil {
		return "", err
	}
	app, err := layerOf(files, modes)
	if err != nil {
		return "", err
	}
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{CreatedBy: "/bin/sh -c #(nop) ADD file:5d9a in / "}},
		mutate.Addendum{History: v1.History{CreatedBy: `/bin/sh -c #(nop)  CMD ["bash"]`, EmptyLayer: true}},
		mutate.Addendum{History: v1.History{CreatedBy: "WORKDIR /" + svc.dest, EmptyLayer: true}},
		mutate.Addendum{Layer: app, History: v1.History{CreatedBy: "COPY . /" + svc.dest + " # buildkit"}},
	)
	if err != nil {
		return "", err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return "", err
	}
	if err := p.AppendImage(img); err != nil {
		return "", err
	}
	d, err := img.Digest()
	return d.String(), err
}

func layerOf(files map[string][]byte, modes map[string]int64) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		mode := modes[n]
		if mode == 0 {
			mode = 0o644
		}
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: mode, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		tw.Write(files[n])
	}
	tw.Close()
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, tarball.WithMediaType(types.OCILayer))
}

func runTether(ctx context.Context, tether string, args ...string) error {
	cmd := exec.CommandContext(ctx, tether, args...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("tether %v: %v: %s", args, err, b)
	}
	return nil
}

// score counts one variant's results.
type score struct {
	images                 int
	repoLinked, repoRight  int // images with any link; of them, all links in the right repository
	commitLinked, commitOK int // images with a commit link; of them, every linked commit in the range
	determinable, recalled int // images whose content (or label) determines the commit; of them, linked right
	lying, flagged         int
	ambiguous              int // images a fork shares, not counted in recall
	wrong                  []string
}

func report(ctx context.Context, db string, repos map[string]*repo, cases []*imageCase, verbose bool, out io.Writer) error {
	st, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	byVariant := map[string]*score{}
	for _, ic := range cases {
		sc := byVariant[ic.variant]
		if sc == nil {
			sc = &score{}
			byVariant[ic.variant] = sc
		}
		sc.images++
		edges, err := st.Edges(ctx, store.EdgeQuery{From: graph.ImageID(ic.digest), Kind: graph.EdgeBuiltFrom})
		if err != nil {
			return err
		}
		r := repos[ic.repo]
		wantRepo := graph.NormalizeRepoURL(r.url)
		repoOK, commitOK := len(edges) > 0, len(edges) > 0
		var linked []string
		for _, e := range edges {
			k := e.To.Key()
			at := strings.LastIndexByte(k, '@')
			repoKey, sha := k[:at], k[at+1:]
			linked = append(linked, fmt.Sprintf("%s@%s(%s)", repoKey, sha[:7], e.Method))
			if repoKey != wantRepo {
				repoOK, commitOK = false, false
			}
			if !slices.Contains(ic.equivalent, sha) {
				commitOK = false
			}
		}
		if len(edges) > 0 {
			sc.repoLinked++
			sc.commitLinked++
			if repoOK {
				sc.repoRight++
			}
			if commitOK {
				sc.commitOK++
			}
		}
		// Content determines the commit unless another repository (a fork)
		// holds the same commit: then only a correct label can say which
		// repository built the image.
		shared := false
		for name, other := range repos {
			if name != ic.repo && slices.Contains(other.commits, ic.commit) {
				shared = true
			}
		}
		if !shared || ic.variant == "labels" {
			sc.determinable++
			if commitOK {
				sc.recalled++
			}
		} else {
			sc.ambiguous++
		}
		if ic.variant == "lying" {
			sc.lying++
			fs, err := st.Edges(ctx, store.EdgeQuery{To: graph.ImageID(ic.digest), Kind: graph.EdgeFindingOn})
			if err != nil {
				return err
			}
			if len(fs) > 0 {
				sc.flagged++
			}
		}
		if !commitOK && len(edges) > 0 {
			sc.wrong = append(sc.wrong, fmt.Sprintf("%s %s %s built at %s: linked %v", ic.variant, ic.repo, ic.service, ic.commit[:7], linked))
		}
		if verbose {
			fmt.Fprintf(out, "%-7s %-14s %-7s %s range %d: %v\n", ic.variant, ic.repo, ic.service, ic.commit[:7], len(ic.equivalent), linked)
		}
	}
	fmt.Fprintf(out, "tether lineage on %d images of %d repositories (built from known commits; 3 variants)\n\n", len(cases), len(repos))
	fmt.Fprintf(out, "%-8s %7s %15s %17s %15s %8s %9s\n", "variant", "images", "repo precision", "commit precision", "commit recall", "flagged", "ambiguous")
	for _, v := range []string{"labels", "none", "lying"} {
		sc := byVariant[v]
		if sc == nil {
			continue
		}
		flag := "-"
		if v == "lying" {
			flag = fmt.Sprintf("%d/%d", sc.flagged, sc.lying)
		}
		fmt.Fprintf(out, "%-8s %7d %15s %17s %15s %8s %9d\n", v, sc.images,
			ratio(sc.repoRight, sc.repoLinked), ratio(sc.commitOK, sc.commitLinked), ratio(sc.recalled, sc.determinable), flag, sc.ambiguous)
	}
	for _, v := range []string{"labels", "none", "lying"} {
		if sc := byVariant[v]; sc != nil {
			for _, w := range sc.wrong {
				fmt.Fprintln(out, "WRONG:", w)
			}
		}
	}
	return nil
}

func ratio(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f (%d/%d)", float64(a)/float64(b), a, b)
}
