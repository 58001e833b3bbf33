package cli_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/internal/cli"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/sbom/cyclonedx"
	"github.com/tether-sec/tether/sbom/spdx"
	"github.com/tether-sec/tether/store"
)

const dpkgStatus = `Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.19-1~deb12u2

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1
`

const osRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION_CODENAME=bookworm
ID=debian
`

func packageLock(deps map[string]string) string {
	pk := map[string]any{"": map[string]any{"name": "shop", "version": "1.0.0"}}
	for n, v := range deps {
		pk["node_modules/"+n] = map[string]any{"version": v, "resolved": "https://registry.npmjs.org/" + n + "/-/" + n + "-" + v + ".tgz"}
	}
	b, _ := json.MarshalIndent(map[string]any{"name": "shop", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": pk}, "", "  ")
	return string(b)
}

func layerOf(t *testing.T, files map[string]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[n]))
	}
	tw.Close()
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// writeLayout writes a two-layer image (a Debian base and an npm app) as an OCI
// layout and returns its directory, the image digest and the layer digests.
func writeLayout(t *testing.T) (string, string, []string) {
	t.Helper()
	img, err := mutate.ConfigFile(mutate.MediaType(empty.Image, types.OCIManifestSchema1), &v1.ConfigFile{
		Architecture: "amd64", OS: "linux", RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		files map[string]string
		by    string
	}{
		{map[string]string{"var/lib/dpkg/status": dpkgStatus, "etc/os-release": osRelease}, "ADD rootfs.tar /"},
		{map[string]string{"app/package-lock.json": packageLock(map[string]string{"express": "4.19.2", "lodash": "4.17.21"})}, "COPY package-lock.json /app/ # buildkit"},
	}
	for _, s := range steps {
		img, err = mutate.Append(img, mutate.Addendum{Layer: layerOf(t, s.files), History: v1.History{CreatedBy: s.by}})
		if err != nil {
			t.Fatal(err)
		}
	}
	dir, d := writeOCILayout(t, img)
	m, _ := img.Manifest()
	var layers []string
	for _, l := range m.Layers {
		layers = append(layers, l.Digest.String())
	}
	return dir, d, layers
}

func TestSBOMImage(t *testing.T) {
	dir, digest, layers := writeLayout(t)
	tmp := t.TempDir()
	db := filepath.Join(tmp, "tether.db")
	cdxFile, spdxFile := filepath.Join(tmp, "a.cdx.json"), filepath.Join(tmp, "a.spdx.json")
	code, out, stderr := run(t, "sbom", "oci:"+dir, "--db", db,
		"-o", "cyclonedx-json="+cdxFile, "-o", "spdx-json="+spdxFile, "-o", "table")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"libssl3", "3.0.19-1~deb12u2", "express", "lodash", "(layer " + layers[0][:19] + ")"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	f, err := os.Open(cdxFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cdx, err := cyclonedx.Decode(f)
	if err != nil {
		t.Fatalf("the CycloneDX output does not decode: %v", err)
	}
	if cdx.Subject.ImageDigest != digest {
		t.Errorf("CycloneDX subject digest = %q, want %q", cdx.Subject.ImageDigest, digest)
	}
	g, err := os.Open(spdxFile)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	sp, err := spdx.Decode(g)
	if err != nil {
		t.Fatalf("the SPDX output does not decode: %v", err)
	}
	for name, s := range map[string]*sbom.SBOM{"cyclonedx": cdx, "spdx": sp} {
		got := map[string]sbom.Package{}
		for _, p := range s.Packages {
			got[p.Name] = p
		}
		for n, layer := range map[string]string{"libssl3": layers[0], "zlib1g": layers[0], "express": layers[1], "lodash": layers[1]} {
			p, ok := got[n]
			if !ok {
				t.Errorf("%s output lacks %s", name, n)
				continue
			}
			if len(p.Locations) == 0 || p.Locations[0].LayerDigest != layer {
				t.Errorf("%s: %s locations %+v, want layer %s", name, n, p.Locations, layer)
			}
		}
		if p := got["libssl3"]; p.SourceName != "openssl" || !strings.HasPrefix(p.PURL, "pkg:deb/debian/libssl3@3.0.19-1~deb12u2") {
			t.Errorf("%s: libssl3 = %+v, want source openssl and a Debian purl", name, p)
		}
	}

	// The store holds the packages against the image digest and its layers.
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	edges, err := st.Edges(context.Background(), store.EdgeQuery{From: graph.ImageID(digest), Kind: graph.EdgeHasPackage})
	if err != nil {
		t.Fatal(err)
	}
	if len(edges) != 4 {
		t.Errorf("image has %d has_package edges, want 4: %+v", len(edges), edges)
	}
	img, err := st.Node(context.Background(), graph.ImageID(digest))
	if err != nil || img.Stub {
		t.Errorf("image node %+v (%v): want the full node from the image collector", img, err)
	}
}

func TestSBOMGitRevision(t *testing.T) {
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	commit := func(deps map[string]string, msg string) string {
		if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(packageLock(deps)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add("package-lock.json"); err != nil {
			t.Fatal(err)
		}
		h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "Dev", Email: "dev@example.com", When: time.Unix(1700000000, 0)}})
		if err != nil {
			t.Fatal(err)
		}
		return h.String()
	}
	first := commit(map[string]string{"left-pad": "1.3.0"}, "first")
	commit(map[string]string{"left-pad": "1.3.0", "lodash": "4.17.21"}, "second")

	db := filepath.Join(t.TempDir(), "tether.db")
	code, out, stderr := run(t, "sbom", "git:"+dir+"@"+first[:8], "--db", db, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s sbom.SBOM
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	var names []string
	for _, p := range s.Packages {
		names = append(names, p.Name+"@"+p.Version)
	}
	if !slices.Equal(names, []string{"left-pad@1.3.0"}) {
		t.Errorf("packages at the first commit = %v, want only left-pad", names)
	}
	if s.Subject.Kind != sbom.SubjectGit || s.Subject.Commit != first {
		t.Errorf("subject = %+v, want the first commit %s", s.Subject, first)
	}

	// The work tree (clean, at the second commit) names its HEAD.
	code, out, stderr = run(t, "sbom", dir, "--db", db, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	s = sbom.SBOM{}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	head, _ := repo.Head()
	if s.Subject.Commit != head.Hash().String() || len(s.Packages) != 2 {
		t.Errorf("work tree SBOM subject %+v with %d packages, want HEAD %s and 2 packages", s.Subject, len(s.Packages), head.Hash())
	}

	code, _, stderr = run(t, "sbom", "git:"+dir+"@no-such-branch", "--db", db)
	if code != 2 || !strings.Contains(stderr, "unknown revision") {
		t.Errorf("bad revision: exit %d, %s", code, stderr)
	}
}

func TestSBOMOutputs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(packageLock(map[string]string{"lodash": "4.17.21"})), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "tether.db")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"two to stdout", []string{"-o", "table", "-o", "json"}, 2, "only one -o can go to standard output"},
		{"unknown format", []string{"-o", "syft-json"}, 2, "unknown format"},
		{"missing directory", []string{"./no/such/dir"}, 2, "no directory"},
		{"cyclonedx xml", []string{"-o", "cyclonedx-xml"}, 0, `<purl>pkg:npm/lodash@4.17.21</purl>`},
		{"spdx tag-value", []string{"-o", "spdx-tag-value"}, 0, "PackageName: lodash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"sbom", "--db", db}, tc.args...)
			if tc.name != "missing directory" {
				args = append(args, dir)
			}
			code, out, stderr := run(t, args...)
			if code != tc.code || !strings.Contains(out+stderr, tc.want) {
				t.Errorf("exit %d, want %d and %q in:\n%s%s", code, tc.code, tc.want, out, stderr)
			}
		})
	}
}

func TestIngestSBOM(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tether.db")
	for _, f := range []string{"../../sbom/cyclonedx/testdata/syft-1.x.cdx.json", "../../sbom/spdx/testdata/trivy-0.50.spdx.json"} {
		code, _, stderr := run(t, "ingest", "sbom", f, "--db", db)
		if code != 0 {
			t.Fatalf("ingest %s: exit %d: %s", f, code, stderr)
		}
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := st.Nodes(context.Background(), store.NodeQuery{Kind: graph.KindPackage})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 4 {
		t.Errorf("%d package nodes after ingesting Syft and Trivy SBOMs", len(pkgs))
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[`), 0o644)
	code, _, stderr := run(t, "ingest", "sbom", bad, "--db", db)
	if code != 2 || !strings.Contains(stderr, "neither CycloneDX") {
		t.Errorf("truncated SBOM: exit %d: %s", code, stderr)
	}
}

// TestDemoSBOM checks that the demo stores the image's SBOM against its digest,
// with the source commit and, per package, the Dockerfile line behind its layer.
func TestDemoSBOM(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tether.db")
	code, out, stderr := run(t, "demo", "--db", db)
	if code != 0 {
		t.Fatalf("demo exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "Dockerfile:10 FROM") {
		t.Errorf("the demo's SBOM table does not show the FROM line:\n%s", out)
	}
	// trace shows what is in each scanned step.
	code, out, stderr = run(t, "trace", "pod/payments/payments-api-7d9c6b5f4-x2x4q", "--db", db)
	if code != 0 || !strings.Contains(out, "What is in it:") || !strings.Contains(out, ": 7 packages (7 deb)") {
		t.Errorf("trace exit %d lacks the image's contents:\n%s%s", code, out, stderr)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	imgs, err := st.Nodes(ctx, store.NodeQuery{Kind: graph.KindImage})
	if err != nil {
		t.Fatal(err)
	}
	var doc []byte
	for _, n := range imgs {
		if n.Stub {
			continue
		}
		if doc, err = st.Document(ctx, cli.SBOMDocumentKind, strings.TrimPrefix(string(n.ID), "image:")); err == nil {
			break
		}
	}
	if doc == nil {
		t.Fatalf("no SBOM document stored for any scanned image (%d images)", len(imgs))
	}
	var s sbom.SBOM
	if err := json.Unmarshal(doc, &s); err != nil {
		t.Fatal(err)
	}
	if s.Subject.RepoURL != "github.com/acme/payments-api" || len(s.Subject.Commit) != 40 {
		t.Errorf("stored SBOM subject = %+v, want the payments-api commit", s.Subject)
	}
	var libssl *sbom.Package
	for i := range s.Packages {
		if s.Packages[i].Name == "libssl3" {
			libssl = &s.Packages[i]
		}
	}
	if libssl == nil {
		t.Fatalf("no libssl3 in the stored SBOM: %+v", s.Packages)
	}
	want := sbom.DockerfileRef{Path: "Dockerfile", Instruction: "FROM", StartLine: 10, EndLine: 10}
	if d := libssl.Locations[0].Dockerfile; d == nil || *d != want {
		t.Errorf("libssl3 Dockerfile = %+v, want %+v", d, want)
	}
}
