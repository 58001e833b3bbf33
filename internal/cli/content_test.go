package cli_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/internal/testenv"
	"github.com/tether-sec/tether/internal/testgit"
	"github.com/tether-sec/tether/internal/testreg"
	"github.com/tether-sec/tether/store"
)

// appImage writes an OCI layout holding one image: a base layer that ends with a
// CMD (as a base image's history does), then one layer per map of files, as a
// Dockerfile's COPY instructions make them.
func appImage(t *testing.T, labels map[string]string, app ...map[string]string) (string, string) {
	t.Helper()
	img, err := mutate.ConfigFile(mutate.MediaType(empty.Image, types.OCIManifestSchema1), &v1.ConfigFile{
		Architecture: "amd64", OS: "linux", RootFS: v1.RootFS{Type: "layers"}, Config: v1.Config{Labels: labels},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: layerOf(t, map[string]string{"etc/os-release": osRelease, "usr/bin/python3": "#!python\n", "LICENSE": "base image licence text\n"}), History: v1.History{CreatedBy: "/bin/sh -c #(nop) ADD file:0a1b in / "}},
		mutate.Addendum{History: v1.History{CreatedBy: `/bin/sh -c #(nop)  CMD ["python3"]`, EmptyLayer: true}},
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, files := range app {
		img, err = mutate.Append(img, mutate.Addendum{Layer: layerOf(t, files), History: v1.History{CreatedBy: "COPY svc-a/ /app/ # buildkit"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return writeOCILayout(t, img)
}

// TestContentMatch builds a repository with two services and an image of one of
// them at known commits, and checks that tether links each image to exactly the
// commits whose trees hold its files, with no label, attestation or build record:
// the whole equivalence range when later commits changed only the other service,
// nothing when the image holds a file no commit has (built from a local change).
func TestContentMatch(t *testing.T) {
	ctx := context.Background()
	r := testgit.New(t)
	mainV1 := "from util import greet\n\nprint(greet('world'))\n"
	mainV2 := "from util import greet\nimport sys\n\nprint(greet(sys.argv[1]))\n"
	utilV1 := "def greet(name):\n    return 'hello ' + name\n"
	utilV2 := "def greet(name):\n    return f'hello, {name}!'\n"
	reqs := "flask==3.0.3\nrequests==2.32.3\n"
	c1 := r.Commit("initial", map[string]string{
		"svc-a/main.py": mainV1, "svc-a/util.py": utilV1, "svc-a/requirements.txt": reqs,
		"svc-a/Dockerfile": "FROM python:3.12\nCOPY svc-a/ /app/\nCMD [\"python3\", \"/app/main.py\"]\n",
		"svc-b/index.js":   "console.log('b')\n", "svc-b/package.json": `{"name": "b", "version": "1.0.0"}` + "\n",
		"LICENSE": "Apache License 2.0 (the repository's)\n",
	})
	c2 := r.Commit("a: take the name from argv", map[string]string{"svc-a/main.py": mainV2})
	c3 := r.Commit("b: log more", map[string]string{"svc-b/index.js": "console.log('b', 2)\n"})
	c4 := r.Commit("a: friendlier greeting", map[string]string{"svc-a/util.py": utilV2})
	_ = c1

	tmp := t.TempDir()
	db := filepath.Join(tmp, "tether.db")
	scanRepo(t, db, r.Dir)

	cases := []struct {
		name  string
		files map[string]string
		want  []string // the commits linked by content
	}{
		// main.py v2 and util.py v1: commits c2 and c3 hold them (c3 changed only svc-b).
		{"range", map[string]string{"app/main.py": mainV2, "app/util.py": utilV1, "app/requirements.txt": reqs}, []string{c2, c3}},
		// util.py v2: only c4.
		{"head", map[string]string{"app/main.py": mainV2, "app/util.py": utilV2, "app/requirements.txt": reqs}, []string{c4}},
		// A main.py no commit has, with c4's other files: built from a local change.
		{"local change", map[string]string{"app/main.py": mainV2 + "# debug\n", "app/util.py": utilV2, "app/requirements.txt": reqs}, nil},
		// One file in common proves nothing.
		{"one file", map[string]string{"srv/requirements.txt": reqs, "srv/other.py": "x = 1\n"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, digest := appImage(t, nil, tc.files)
			scanImage(t, db, "oci:"+dir)
			st, err := store.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			edges, err := st.Edges(ctx, store.EdgeQuery{From: graph.ImageID(digest), Kind: graph.EdgeBuiltFrom, Method: "git-blob-match"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range edges {
				n, err := st.Node(ctx, e.To)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, n.String("sha"))
			}
			want := slices.Clone(tc.want)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("linked commits %v, want %v (c1..c4 = %v)", short7(got), short7(want), short7([]string{c1, c2, c3, c4}))
			}
			for _, e := range edges {
				if e.Confidence <= 0 || len(e.Evidence) == 0 || e.Attrs["range_size"] != float64(len(tc.want)) {
					t.Errorf("edge %+v: want evidence and range_size %d", e, len(tc.want))
				}
			}
		})
	}
}

func short7(shas []string) []string {
	out := make([]string, len(shas))
	for i, s := range shas {
		out[i] = s[:7]
	}
	return out
}

// TestContentMatchLabels checks labels against content: a label that names the
// commit the files prove is linked alongside; one that names another commit is a
// lineage-conflict finding, its link is not drawn, and the trace says so.
func TestContentMatchLabels(t *testing.T) {
	r := testgit.New(t)
	files := map[string]string{"svc/app.py": "print('v1')\n", "svc/lib.py": "X = 1\n"}
	c1 := r.Commit("v1", files)
	c2 := r.Commit("v2", map[string]string{"svc/app.py": "print('v2')\n"})
	db := filepath.Join(t.TempDir(), "tether.db")
	scanRepo(t, db, r.Dir)
	v2 := map[string]string{"srv/app.py": "print('v2')\n", "srv/lib.py": "X = 1\n"}
	cases := []struct {
		name, revision string
		conflict       bool
	}{
		{"true label", c2, false},
		{"lying label", c1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, digest := appImage(t, map[string]string{"org.opencontainers.image.source": r.Dir, "org.opencontainers.image.revision": tc.revision}, v2)
			scanImage(t, db, "oci:"+dir)
			edges := edgesOf(t, db, store.EdgeQuery{From: graph.ImageID(digest), Kind: graph.EdgeBuiltFrom})
			methods := map[string][]string{}
			for _, e := range edges {
				methods[e.Method] = append(methods[e.Method], e.To.Key()[len(e.To.Key())-40:])
			}
			if got := methods["git-blob-match"]; len(got) != 1 || got[0] != c2 {
				t.Errorf("content links %v, want %s", got, c2[:7])
			}
			if got := methods["oci-label"]; tc.conflict != (len(got) == 0) {
				t.Errorf("label links %v (conflict %v)", got, tc.conflict)
			}
			code, out, stderr := run(t, "trace", digest, "--db", db)
			if code != 0 {
				t.Fatalf("trace: exit %d: %s", code, stderr)
			}
			if tc.conflict != strings.Contains(out, "labels are wrong") || tc.conflict && !strings.Contains(out, c1[:12]) {
				t.Errorf("trace (conflict %v):\n%s", tc.conflict, out)
			}

			// lineage explain shows both votes and the decision.
			code, out, stderr = run(t, "lineage", "explain", digest, "--db", db, "-o", "json")
			if code != 0 {
				t.Fatalf("lineage explain: exit %d: %s", code, stderr)
			}
			var ex struct {
				Votes []struct {
					Method  string
					Commits []string
					Linked  bool
					Reason  string
				}
				Decision  string
				Conflicts []string
			}
			if err := json.Unmarshal([]byte(out), &ex); err != nil {
				t.Fatalf("explain -o json: %v\n%s", err, out)
			}
			votes := map[string]bool{}
			for _, v := range ex.Votes {
				votes[v.Method] = v.Linked
			}
			if !votes["git-blob-match"] || votes["oci-label"] == tc.conflict || tc.conflict != (len(ex.Conflicts) == 1) {
				t.Errorf("explain: %+v", ex)
			}
			code, out, _ = run(t, "lineage", "explain", digest, "--db", db)
			if code != 0 || !strings.Contains(out, "decision: linked to "+c2[:12]) || tc.conflict != strings.Contains(out, "the label was not followed") {
				t.Errorf("explain table:\n%s", out)
			}
			if testing.Verbose() {
				t.Logf("explain:\n%s", out)
			}
		})
	}
}

// TestBuildInfoLineage links images by the build records inside their files: a
// Go binary's VCS stamp (a clean and a dirty build), a Spring Boot jar's
// git.properties, an application's package.json gitHead; and it does not link a
// tool binary whose repository was never scanned.
func TestBuildInfoLineage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go binaries")
	}
	gobin := testenv.LookPath(t, "go", "install Go")
	r := testgit.New(t)
	c1 := r.Commit("app", map[string]string{"go.mod": "module example.com/app\n\ngo 1.22\n", "main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"app\") }\n"})
	c2 := r.Commit("v2", map[string]string{"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"app v2\") }\n"})
	build := func(dir string) []byte {
		t.Helper()
		out := filepath.Join(t.TempDir(), "app")
		cmd := exec.Command(gobin, "build", "-o", out, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=true")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	clean := build(r.Dir)
	os.WriteFile(filepath.Join(r.Dir, "main.go"), []byte("package main\n\nfunc main() { println(\"dirty\") }\n"), 0o644)
	dirty := build(r.Dir)
	r.Run("checkout", "--", "main.go")

	// A tool from a repository nobody scanned.
	tool := testgit.New(t)
	tool.Commit("tool", map[string]string{"go.mod": "module github.com/other/tool\n\ngo 1.22\n", "main.go": "package main\n\nfunc main() { println(\"tool\") }\n"})
	toolBin := build(tool.Dir)

	db := filepath.Join(t.TempDir(), "tether.db")
	scanRepo(t, db, r.Dir)
	jar := zipOf(t, map[string]string{"BOOT-INF/classes/git.properties": "#Generated by Git-Commit-Id-Plugin\ngit.branch=main\ngit.commit.id=" + c2 + "\ngit.dirty=false\ngit.commit.time=2026-01-01T01\\:00\\:00Z\n", "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n"})
	cases := []struct {
		name   string
		labels map[string]string
		files  []entry
		want   float64 // confidence of the build-info link; 0: none
	}{
		{"go binary", nil, []entry{{"usr/local/bin/app", string(clean), true}}, 0.85},
		{"dirty go binary", nil, []entry{{"usr/local/bin/app", string(dirty), true}}, 0.6},
		{"spring boot jar", nil, []entry{{"app/app.jar", string(jar), false}}, 0.85},
		{"package.json gitHead", nil, []entry{{"app/package.json", `{"name": "web", "version": "1.0.0", "gitHead": "` + c2 + `"}`, false}}, 0.85},
		{"tool from elsewhere", nil, []entry{{"usr/local/bin/tool", string(toolBin), true}}, 0},
		// A label naming c1 on a binary built at c2: the binary's record wins and
		// the label is a lineage-conflict finding.
		{"lying label", map[string]string{"org.opencontainers.image.source": r.Dir, "org.opencontainers.image.revision": c1}, []entry{{"usr/local/bin/app", string(clean), true}}, 0.85},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, digest := entryImage(t, tc.labels, tc.files)
			scanImage(t, db, "oci:"+dir)
			edges := edgesOf(t, db, store.EdgeQuery{From: graph.ImageID(digest), Kind: graph.EdgeBuiltFrom, Method: "build-info"})
			if tc.want == 0 {
				if len(edges) != 0 {
					t.Errorf("linked %+v, want nothing", edges)
				}
				code, out, _ := run(t, "lineage", "explain", digest, "--db", db)
				if code != 0 || !strings.Contains(out, "is not in a scanned repository github.com/other/tool") {
					t.Errorf("explain:\n%s", out)
				}
				return
			}
			if len(edges) != 1 || !strings.HasSuffix(string(edges[0].To), "@"+c2) || edges[0].Confidence != tc.want {
				t.Errorf("build-info links %+v, want one to %s with confidence %v", edges, c2[:7], tc.want)
			}
			if tc.labels != nil {
				code, out, _ := run(t, "lineage", "explain", digest, "--db", db)
				if code != 0 || !strings.Contains(out, "the label was not followed") || !strings.Contains(out, "decision: linked to "+c2[:12]+" by build-info;") {
					t.Errorf("a label contradicted by a build record:\n%s", out)
				}
			}
		})
	}
}

// entry is a file of a test image layer.
type entry struct {
	name, body string
	exec       bool
}

// entryImage writes an OCI layout with one image of one layer (no base image).
func entryImage(t *testing.T, labels map[string]string, files []entry) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		mode := int64(0o644)
		if f.exec {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: mode, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.body))
	}
	tw.Close()
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.ConfigFile(mutate.MediaType(empty.Image, types.OCIManifestSchema1), &v1.ConfigFile{Architecture: "amd64", OS: "linux", RootFS: v1.RootFS{Type: "layers"}, Config: v1.Config{Labels: labels}})
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "COPY . / # buildkit"}})
	if err != nil {
		t.Fatal(err)
	}
	return writeOCILayout(t, img)
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestContentMatchFork scans a repository and a fork that shares its history:
// the content of an image built from a shared commit cannot say which
// repository built it, so nothing is linked by content; a correct label decides;
// a label that names a commit whose tree the files contradict is still flagged.
func TestContentMatchFork(t *testing.T) {
	ctx := context.Background()
	r := testgit.New(t)
	c1 := r.Commit("v1", map[string]string{"svc/app.py": "print('v1')\n", "svc/lib.py": "X = 1\n"})
	c2 := r.Commit("v2", map[string]string{"svc/app.py": "print('v2')\n"})
	fork := filepath.Join(t.TempDir(), "fork")
	r.Run("clone", "-q", r.Dir, fork)
	// A clone's origin is the repository it came from: give the fork its own.
	r.Run("-C", fork, "remote", "set-url", "origin", "https://github.com/someone/fork.git")
	db := filepath.Join(t.TempDir(), "tether.db")
	for _, dir := range []string{r.Dir, fork} {
		scanRepo(t, db, dir)
	}
	v2 := map[string]string{"srv/app.py": "print('v2')\n", "srv/lib.py": "X = 1\n"}
	cases := []struct {
		name     string
		revision string // "" no label
		want     map[string]int
		conflict bool
	}{
		{"no label", "", map[string]int{}, false},
		{"true label", c2, map[string]int{"oci-label": 1}, false},
		{"lying label", c1, map[string]int{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var labels map[string]string
			if tc.revision != "" {
				labels = map[string]string{"org.opencontainers.image.source": r.Dir, "org.opencontainers.image.revision": tc.revision}
			}
			dir, digest := appImage(t, labels, v2)
			scanImage(t, db, "oci:"+dir)
			st, err := store.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			edges, err := st.Edges(ctx, store.EdgeQuery{From: graph.ImageID(digest), Kind: graph.EdgeBuiltFrom})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, e := range edges {
				got[e.Method]++
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("links by method %v, want %v", got, tc.want)
			}
			fs, err := st.Edges(ctx, store.EdgeQuery{To: graph.ImageID(digest), Kind: graph.EdgeFindingOn})
			if err != nil {
				t.Fatal(err)
			}
			if tc.conflict != (len(fs) == 1) {
				t.Errorf("findings %+v, conflict %v", fs, tc.conflict)
			}
			if tc.revision == "" {
				_, out, _ := run(t, "trace", digest, "--db", db)
				if !strings.Contains(out, "another repository") {
					t.Errorf("trace does not say the content is ambiguous:\n%s", out)
				}
			}
		})
	}
}

// TestBuildRecord records a CI build before anything else is scanned: the image
// is linked to a stub commit, unverified; once the repository is scanned the
// link is verified; bad records are refused with a message that says what to give.
func TestBuildRecord(t *testing.T) {
	ctx := context.Background()
	r := testgit.New(t)
	c1 := r.Commit("v1", map[string]string{"svc/app.py": "print('v1')\n"})
	r.Run("remote", "add", "origin", "https://github.com/acme/api.git")
	_, digest := appImage(t, nil, map[string]string{"app/x.txt": "x\n"})
	db := filepath.Join(t.TempDir(), "tether.db")
	record := []string{"build", "record", "--image", "ghcr.io/acme/api@" + digest, "--source-repo", "https://github.com/acme/api",
		"--source-branch", "main", "--source-commit", c1, "--ci-system", "github-actions", "--ci-build-id", "4242",
		"--ci-url", "https://github.com/acme/api/actions/runs/4242", "--db", db}
	if code, out, stderr := run(t, record...); code != 0 {
		t.Fatalf("build record: exit %d\n%s%s", code, out, stderr)
	}
	conf := func() float64 {
		t.Helper()
		st, err := store.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		edges, err := st.Edges(ctx, store.EdgeQuery{From: graph.ImageID(digest), Kind: graph.EdgeBuiltFrom, Method: "build-record"})
		if err != nil || len(edges) != 1 || !strings.HasSuffix(string(edges[0].To), "@"+c1) {
			t.Fatalf("build-record links %+v, %v", edges, err)
		}
		return edges[0].Confidence
	}
	if got := conf(); got != 0.8 {
		t.Errorf("before the repository is scanned: confidence %v, want 0.8 (unverified)", got)
	}
	scanRepo(t, db, r.Dir)
	if got := conf(); got != 0.95 {
		t.Errorf("after the scan: confidence %v, want 0.95", got)
	}
	// Recording again changes nothing.
	if code, out, _ := run(t, append(record, "-o", "json")...); code != 0 || !strings.Contains(out, `"lineage"`) {
		t.Errorf("second record: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{
		{"--image", "ghcr.io/acme/api:latest", "--source-repo", "x", "--source-commit", c1, "--ci-build-id", "1"},
		{"--image", "ghcr.io/acme/api@" + digest, "--source-repo", "x", "--source-commit", "main", "--ci-build-id", "1"},
		{"--image", "ghcr.io/acme/api@" + digest, "--source-repo", "x", "--source-commit", c1},
	} {
		code, _, stderr := run(t, append(append([]string{"build", "record"}, bad...), "--db", db)...)
		if code != 2 || !strings.Contains(stderr, "bad build record") {
			t.Errorf("build record %v: exit %d: %s", bad, code, stderr)
		}
	}
}

// TestProvenanceLineage scans an OCI layout like `docker buildx build
// --provenance=mode=max --output type=oci` writes from a git context: the image
// and a BuildKit attestation manifest whose SLSA provenance names the commit.
// The provenance links the image; a label naming another commit is flagged.
func TestProvenanceLineage(t *testing.T) {
	r := testgit.New(t)
	c1 := r.Commit("v1", map[string]string{"README.md": "v1\n"})
	c2 := r.Commit("v2", map[string]string{"README.md": "v2\n"})
	r.Run("remote", "add", "origin", "https://github.com/acme/api.git")
	db := filepath.Join(t.TempDir(), "tether.db")
	scanRepo(t, db, r.Dir)
	for _, tc := range []struct {
		name  string
		label string
	}{{"provenance only", ""}, {"lying label", c1}} {
		t.Run(tc.name, func(t *testing.T) {
			var labels map[string]string
			if tc.label != "" {
				labels = map[string]string{"org.opencontainers.image.source": "https://github.com/acme/api", "org.opencontainers.image.revision": tc.label}
			}
			dir, digest := attestedLayout(t, labels, c2)
			scanImage(t, db, "oci:"+dir)
			edges := edgesOf(t, db, store.EdgeQuery{From: graph.ImageID(digest), Kind: graph.EdgeBuiltFrom})
			if len(edges) != 1 || edges[0].Method != "slsa-provenance" || !strings.HasSuffix(string(edges[0].To), "@"+c2) || edges[0].Confidence != 0.93 {
				t.Fatalf("links %+v, want one slsa-provenance link to %s at 0.93", edges, c2[:7])
			}
			code, out, _ := run(t, "lineage", "explain", digest, "--db", db)
			if code != 0 || !strings.Contains(out, "slsa-provenance") || (tc.label != "") != strings.Contains(out, "the label was not followed") {
				t.Errorf("explain:\n%s", out)
			}
		})
	}
}

// attestedLayout writes an index with an image and a BuildKit attestation
// manifest (SLSA v0.2 provenance with the vcs metadata of a git context).
func attestedLayout(t *testing.T, labels map[string]string, revision string) (string, string) {
	t.Helper()
	img, err := mutate.ConfigFile(mutate.MediaType(empty.Image, types.OCIManifestSchema1), &v1.ConfigFile{
		Architecture: "amd64", OS: "linux", RootFS: v1.RootFS{Type: "layers"}, Config: v1.Config{Labels: labels}})
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.Append(img, mutate.Addendum{Layer: layerOf(t, map[string]string{"srv/generated.bin": "built output\n"}), History: v1.History{CreatedBy: "COPY /out /srv # buildkit"}}); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	st, _ := json.Marshal(map[string]any{
		"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://slsa.dev/provenance/v0.2",
		"subject": []any{map[string]any{"name": "pkg:docker/acme/api", "digest": map[string]any{"sha256": d.Hex}}},
		"predicate": map[string]any{
			"buildType":  "https://mobyproject.org/buildkit@v1",
			"invocation": map[string]any{"configSource": map[string]any{"entryPoint": "Dockerfile"}},
			"metadata": map[string]any{"https://mobyproject.org/buildkit@v1#metadata": map[string]any{
				"vcs": map[string]any{"source": "https://github.com/acme/api.git", "revision": revision}}},
		},
	})
	att, err := mutate.Append(empty.Image, mutate.Addendum{Layer: static.NewLayer(st, "application/vnd.in-toto+json")})
	if err != nil {
		t.Fatal(err)
	}
	att = mutate.MediaType(att, types.OCIManifestSchema1)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": d.String()}}},
	)
	dir, _ := writeOCILayout(t, idx)
	return dir, d.String()
}

// TestDockerfileSearch: an image whose files no commit holds (a compiled
// artifact) and that carries no label or build record is still matched to the
// one Dockerfile version whose instructions its history follows, with the
// commits that hold that version; a history no Dockerfile explains links nothing.
func TestDockerfileSearch(t *testing.T) {
	ctx := context.Background()
	r := testgit.New(t)
	v1df := "FROM debian:12\nWORKDIR /srv\nCOPY out/server /srv/server\nRUN chmod 0755 /srv/server && useradd -r svc\nUSER svc\nENTRYPOINT [\"/srv/server\"]\n"
	c1 := r.Commit("v1", map[string]string{"deploy/Dockerfile": v1df, "main.c": "int main(){}\n"})
	c2 := r.Commit("docs", map[string]string{"README.md": "# server\n"})
	r.Commit("v2", map[string]string{"deploy/Dockerfile": strings.Replace(v1df, "USER svc\n", "USER svc\nEXPOSE 8080\n", 1)})
	db := filepath.Join(t.TempDir(), "tether.db")
	scanRepo(t, db, r.Dir)
	history := []v1.History{
		{CreatedBy: "/bin/sh -c #(nop) ADD file:5d9a in / "},
		{CreatedBy: `/bin/sh -c #(nop)  CMD ["bash"]`, EmptyLayer: true},
		{CreatedBy: "WORKDIR /srv", EmptyLayer: true},
		{CreatedBy: "COPY out/server /srv/server # buildkit"},
		{CreatedBy: "RUN /bin/sh -c chmod 0755 /srv/server && useradd -r svc # buildkit"},
		{CreatedBy: "USER svc", EmptyLayer: true},
		{CreatedBy: `ENTRYPOINT ["/srv/server"]`, EmptyLayer: true},
	}
	for _, tc := range []struct {
		name    string
		history []v1.History
		want    bool
	}{{"v1 history", history, true}, {"unrelated history", []v1.History{history[0], history[1], {CreatedBy: "RUN /bin/sh -c make install # buildkit"}}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := mutate.ConfigFile(mutate.MediaType(empty.Image, types.OCIManifestSchema1), &v1.ConfigFile{Architecture: "amd64", OS: "linux", RootFS: v1.RootFS{Type: "layers"}})
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range tc.history {
				add := mutate.Addendum{History: h}
				if !h.EmptyLayer {
					add.Layer = layerOf(t, map[string]string{fmt.Sprintf("layer%d/file", i): fmt.Sprintf("compiled %d\n", i)})
				}
				if img, err = mutate.Append(img, add); err != nil {
					t.Fatal(err)
				}
			}
			dir, digest := writeOCILayout(t, img)
			d, _ := v1.NewHash(digest)
			scanImage(t, db, "oci:"+dir)
			st, err := store.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			with, err := st.Edges(ctx, store.EdgeQuery{From: graph.ImageID(d.String()), Kind: graph.EdgeBuiltWith})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want {
				if len(with) != 0 {
					t.Errorf("linked %+v", with)
				}
				return
			}
			if len(with) != 1 || with[0].Method != "dockerfile-search" || with[0].Attrs["window"] != float64(2) {
				t.Fatalf("built_with %+v, want one dockerfile-search link with a window of 2 commits", with)
			}
			f, err := st.Node(ctx, with[0].To)
			if err != nil || f.String("path") != "deploy/Dockerfile" {
				t.Errorf("linked file %+v, %v", f, err)
			}
			if ev := with[0].Evidence[1].Detail; !strings.Contains(ev, c1) || !strings.Contains(ev, c2) {
				t.Errorf("window evidence %q, want %s … %s", ev, c1[:7], c2[:7])
			}
		})
	}
}

// TestContentMatchForkCI: when a fork holds the same files, the repository whose
// CI workflow pushes the image's repository is the one linked; the fork's
// workflow, which pushes under the fork's own name, is not.
func TestContentMatchForkCI(t *testing.T) {
	ctx := context.Background()
	reg := testreg.Start(t)
	r := testgit.New(t)
	workflow := "on: push\nenv:\n  REGISTRY: " + reg + "\njobs:\n  image:\n    runs-on: ubuntu-latest\n    steps:\n" +
		"      - uses: actions/checkout@v4\n      - uses: docker/build-push-action@v6\n        with:\n          push: true\n" +
		"          tags: ${{ env.REGISTRY }}/${{ github.repository }}:${{ github.sha }}\n"
	r.Commit("v1", map[string]string{".github/workflows/image.yml": workflow, "svc/app.py": "print('v1')\n", "svc/lib.py": "X = 1\n"})
	c2 := r.Commit("v2", map[string]string{"svc/app.py": "print('v2')\n"})
	r.Run("remote", "add", "origin", "https://github.com/acme/api.git")
	fork := filepath.Join(t.TempDir(), "fork")
	r.Run("clone", "-q", r.Dir, fork)
	r.Run("-C", fork, "remote", "set-url", "origin", "https://github.com/someone/fork.git")
	db := filepath.Join(t.TempDir(), "tether.db")
	for _, dir := range []string{r.Dir, fork} {
		scanRepo(t, db, dir)
	}
	img, err := mutate.ConfigFile(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON),
		&v1.ConfigFile{Architecture: "amd64", OS: "linux", RootFS: v1.RootFS{Type: "layers"}})
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.Append(img, mutate.Addendum{Layer: layerOf(t, map[string]string{"srv/app.py": "print('v2')\n", "srv/lib.py": "X = 1\n"}), History: v1.History{CreatedBy: "COPY svc/ /srv/ # buildkit"}}); err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(reg + "/acme/api:" + c2)
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	scanImage(t, db, ref.String())
	d, _ := img.Digest()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	edges, err := st.Edges(ctx, store.EdgeQuery{From: graph.ImageID(d.String()), Kind: graph.EdgeBuiltFrom})
	if err != nil {
		t.Fatal(err)
	}
	if len(edges) != 1 || edges[0].To != graph.CommitID("https://github.com/acme/api", c2) {
		t.Errorf("links %+v, want one to github.com/acme/api@%s", edges, c2[:7])
	}
	code, out, _ := run(t, "lineage", "explain", ref.String(), "--db", db)
	if code != 0 || !strings.Contains(out, "ci-workflow") || !strings.Contains(out, ".github/workflows/image.yml:9 job image") {
		t.Errorf("explain:\n%s", out)
	}
}

// writeOCILayout writes an image or an index as an OCI layout in a new
// directory and returns the directory and the image's (or index's) digest.
func writeOCILayout(t *testing.T, x interface{ Digest() (v1.Hash, error) }) (string, string) {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	switch v := x.(type) {
	case v1.Image:
		err = p.AppendImage(v)
	case v1.ImageIndex:
		err = p.AppendIndex(v)
	default:
		t.Fatalf("writeOCILayout: %T is neither an image nor an index", x)
	}
	if err != nil {
		t.Fatal(err)
	}
	d, err := x.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return dir, d.String()
}

// scanRepo runs 'tether scan repo DIR' on the store at db.
func scanRepo(t *testing.T, db, dir string) {
	t.Helper()
	if code, out, stderr := run(t, "scan", "repo", dir, "--db", db); code != 0 {
		t.Fatalf("scan repo %s: exit %d\n%s%s", dir, code, out, stderr)
	}
}

// scanImage runs 'tether scan image REF' on the store at db.
func scanImage(t *testing.T, db, ref string) {
	t.Helper()
	if code, out, stderr := run(t, "scan", "image", ref, "--db", db); code != 0 {
		t.Fatalf("scan image %s: exit %d\n%s%s", ref, code, out, stderr)
	}
}

// edgesOf opens the store at db and returns the edges q selects.
func edgesOf(t *testing.T, db string, q store.EdgeQuery) []graph.Edge {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	edges, err := st.Edges(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	return edges
}
