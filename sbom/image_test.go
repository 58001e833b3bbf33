package sbom_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/sbom"
)

const npmLock = `{
  "name": "web",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "web",
      "version": "1.0.0",
      "dependencies": {
        "lodash": "4.17.21"
      }
    },
    "node_modules/lodash": {
      "version": "4.17.21",
      "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz",
      "integrity": "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==",
      "license": "MIT"
    }
  }
}
`

const lodashPackageJSON = `{
  "name": "lodash",
  "version": "4.17.21",
  "description": "Lodash modular utilities.",
  "license": "MIT",
  "main": "lodash.js"
}
`

// appImage is a two-layer image: a Debian base with a dpkg status file, then an
// npm app with its lockfile and installed node_modules.
func appImage(t testing.TB) v1.Image {
	status := readFile(t, "testdata/tree/var/lib/dpkg/status")
	osRelease := readFile(t, "testdata/tree/etc/os-release")
	return buildImage(t,
		layerStep{Layer: tarLayer(t, reg("etc/os-release", osRelease), reg("var/lib/dpkg/status", status)), CreatedBy: "ADD rootfs.tar / # buildkit"},
		layerStep{CreatedBy: `CMD ["bash"]`},
		layerStep{CreatedBy: "ENV API_TOKEN=" + secret},
		layerStep{Layer: tarLayer(t,
			reg("app/package-lock.json", npmLock),
			reg("app/node_modules/lodash/package.json", lodashPackageJSON),
		), CreatedBy: "RUN |1 API_TOKEN=" + secret + " /bin/sh -c npm ci # buildkit"},
	)
}

func TestCatalogImageLayers(t *testing.T) {
	img := appImage(t)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	base := sbom.Location{
		LayerDigest: m.Layers[0].Digest.String(), LayerDiffID: cf.RootFS.DiffIDs[0].String(),
		LayerIndex: 0, HistoryIndex: 0, CreatedBy: "ADD rootfs.tar / # buildkit",
		// The CMD after the first layer ends the base image (osv-scalibr's heuristic).
		InBaseImage: true,
	}
	app := sbom.Location{
		LayerDigest: m.Layers[1].Digest.String(), LayerDiffID: cf.RootFS.DiffIDs[1].String(),
		LayerIndex: 1, HistoryIndex: 3, CreatedBy: "RUN |1 API_TOKEN=<redacted> /bin/sh -c npm ci # buildkit",
	}
	at := func(l sbom.Location, path string) []sbom.Location { l.Path = path; return []sbom.Location{l} }

	s, err := sbom.CatalogImage(context.Background(), img, sbom.Subject{Name: "registry.example/app:1"}, sbom.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sbom.Subject{Kind: sbom.SubjectImage, Name: "registry.example/app:1", ImageDigest: digest.String()}, s.Subject); diff != "" {
		t.Errorf("subject (-want +got):\n%s", diff)
	}
	tests := []struct {
		purl string
		want []sbom.Location
	}{
		{"pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=bookworm&source=bash&sourceversion=5.2.15-2", at(base, "var/lib/dpkg/status")},
		{"pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=bookworm&source=zlib", at(base, "var/lib/dpkg/status")},
	}
	for _, tt := range tests {
		t.Run(tt.purl, func(t *testing.T) {
			p, ok := byPURL(s, tt.purl)
			if !ok {
				t.Fatalf("no %s", tt.purl)
			}
			if diff := cmp.Diff(tt.want, p.Locations); diff != "" {
				t.Errorf("locations (-want +got):\n%s", diff)
			}
		})
	}
	// lodash is in the lockfile and in node_modules: two packages, one purl, both in
	// the app layer.
	var lodash [][]sbom.Location
	for _, p := range s.Packages {
		if p.PURL == "pkg:npm/lodash@4.17.21" {
			lodash = append(lodash, p.Locations)
		}
	}
	wantLodash := [][]sbom.Location{at(app, "app/node_modules/lodash/package.json"), at(app, "app/package-lock.json")}
	if diff := cmp.Diff(wantLodash, lodash); diff != "" {
		t.Errorf("lodash locations (-want +got):\n%s", diff)
	}
	for _, p := range s.Packages {
		for _, l := range p.Locations {
			if strings.Contains(l.CreatedBy, secret) {
				t.Errorf("%s: CreatedBy leaks the environment: %q", p.PURL, l.CreatedBy)
			}
		}
	}

	// Determinism: a second run is equal.
	again, err := sbom.CatalogImage(context.Background(), img, sbom.Subject{Name: "registry.example/app:1"}, sbom.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, again); diff != "" {
		t.Errorf("two runs differ (-first +second):\n%s", diff)
	}
}

func TestCatalogImageHostileLayer(t *testing.T) {
	// Anything written outside the scratch space would land in dir's parent or
	// under an absolute path the layer names; TMPDIR points the scratch space here.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	outside := filepath.Join(filepath.Dir(tmp), "escape")

	status := readFile(t, "testdata/tree/var/lib/dpkg/status")
	img := buildImage(t,
		layerStep{Layer: tarLayer(t,
			reg("../../escape", "pwned"),
			reg("/abs-escape", "pwned"),
			entry{name: "etc/", typ: tar.TypeDir},
			symlink("etc/loop-a", "loop-b"),
			symlink("etc/loop-b", "loop-a"),
			symlink("etc/self", "self"),
			symlink("etc/passwd-link", "/etc/passwd"),
			symlink("etc/up", "../../../../../../etc"),
			entry{name: "etc/hard", typ: tar.TypeLink, linkname: "../../../etc/shadow"},
			reg("var/lib/dpkg/status", status),
		), CreatedBy: "ADD hostile.tar /"},
		layerStep{Layer: tarLayer(t,
			// A symlink where a directory of the lower layer was, and a lockfile
			// reached only through a looping path.
			symlink("app", "app"),
			reg("srv/package-lock.json", npmLock),
		), CreatedBy: "COPY . /"},
	)

	done := make(chan struct{})
	var s *sbom.SBOM
	var err error
	go func() {
		defer close(done)
		s, err = sbom.CatalogImage(context.Background(), img, sbom.Subject{}, sbom.Options{})
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("CatalogImage hangs on a hostile layer")
	}
	if err != nil {
		// A clear error is acceptable; it must name the failure.
		if !errors.Is(err, sbom.ErrImage) {
			t.Fatalf("err = %v, want nil or ErrImage", err)
		}
	} else {
		// No os-release in this image: the purl namespace is "linux".
		if _, ok := byPURL(s, "pkg:deb/linux/bash@5.2.15-2%2Bb8?arch=amd64&source=bash&sourceversion=5.2.15-2"); !ok {
			t.Errorf("bash not found next to the hostile entries: %v", purlsOfType(s, "deb"))
		}
		if got := purlsOfType(s, "npm"); !cmp.Equal(got, []string{"pkg:npm/lodash@4.17.21"}) {
			t.Errorf("npm purls = %v, want lodash from srv/package-lock.json", got)
		}
		t.Logf("problems: %+v", s.Problems)
	}
	for _, p := range []string{outside, "/abs-escape", "/escape"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was written outside the scratch space", p)
		}
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("scratch files left behind: %v", names)
	}
}

func TestFacts(t *testing.T) {
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	loc := sbom.Location{Path: "var/lib/dpkg/status", LayerDigest: "sha256:aaa", LayerDiffID: "sha256:ddd", CreatedBy: "ADD rootfs.tar /"}
	img := &sbom.SBOM{
		Subject: sbom.Subject{Kind: sbom.SubjectImage, Name: "app:1", ImageDigest: "sha256:1111"},
		Packages: []sbom.Package{
			{ID: "1", Name: "bash", Version: "5.2", Type: "deb", PURL: "pkg:deb/debian/bash@5.2", SourceName: "bash", SourceVersion: "5.2", FoundBy: "os/dpkg", Locations: []sbom.Location{loc}},
			{ID: "2", Name: "nopurl", Type: "generic", FoundBy: "x", Locations: []sbom.Location{{Path: "x"}}},
		},
	}
	pkgNode := graph.Node{ID: graph.PackageID("pkg:deb/debian/bash@5.2"), Kind: graph.KindPackage, Name: "bash", Attrs: graph.Attrs(sbom.PackageAttrs{
		Name: "bash", Version: "5.2", Type: "deb", PURL: "pkg:deb/debian/bash@5.2", SourceName: "bash", SourceVersion: "5.2",
	})}
	edgeAttrs := graph.Attrs(sbom.HasPackageAttrs{Locations: []sbom.EdgeLocation{{Path: "var/lib/dpkg/status", LayerDigest: "sha256:aaa", LayerDiffID: "sha256:ddd", CreatedBy: "ADD rootfs.tar /"}}})
	ev := []graph.Evidence{{Source: sbom.EvidenceFoundBy, Detail: "os/dpkg"}, {Source: sbom.EvidenceLocation, Detail: "var/lib/dpkg/status in layer sha256:ddd"}}

	dir := &sbom.SBOM{
		Subject:  sbom.Subject{Kind: sbom.SubjectDirectory, Name: ".", RepoURL: "https://github.com/acme/app", Commit: "ABCDEF"},
		Packages: []sbom.Package{{ID: "1", Name: "bash", Version: "5.2", Type: "deb", PURL: "pkg:deb/debian/bash@5.2", SourceName: "bash", SourceVersion: "5.2", FoundBy: "os/dpkg", Locations: []sbom.Location{{Path: "var/lib/dpkg/status"}}}},
	}
	commit := graph.CommitID("https://github.com/acme/app", "ABCDEF")

	tests := []struct {
		name string
		s    *sbom.SBOM
		want *graph.Batch
	}{
		{
			name: "image",
			s:    img,
			want: &graph.Batch{Source: "sbom", Target: "app:1", ObservedAt: at,
				Nodes: []graph.Node{
					{ID: graph.ImageID("sha256:1111"), Kind: graph.KindImage, Name: "sha256:1111", Stub: true},
					pkgNode,
					{ID: graph.LayerID("sha256:ddd"), Kind: graph.KindLayer, Name: "sha256:ddd", Stub: true},
				},
				Edges: []graph.Edge{
					{From: graph.ImageID("sha256:1111"), Kind: graph.EdgeHasPackage, To: pkgNode.ID, Method: "sbom", Confidence: 1, Evidence: ev, Attrs: edgeAttrs},
					{From: graph.LayerID("sha256:ddd"), Kind: graph.EdgeHasPackage, To: pkgNode.ID, Method: "sbom", Confidence: 1, Evidence: ev, Attrs: edgeAttrs},
				},
			},
		},
		{
			name: "directory at a commit",
			s:    dir,
			want: &graph.Batch{Source: "sbom", Target: ".", ObservedAt: at,
				Nodes: []graph.Node{
					{ID: commit, Kind: graph.KindCommit, Name: "ABCDEF", Stub: true},
					pkgNode,
				},
				Edges: []graph.Edge{
					{From: commit, Kind: graph.EdgeHasPackage, To: pkgNode.ID, Method: "sbom", Confidence: 1,
						Evidence: []graph.Evidence{{Source: sbom.EvidenceFoundBy, Detail: "os/dpkg"}, {Source: sbom.EvidenceLocation, Detail: "var/lib/dpkg/status"}},
						Attrs:    graph.Attrs(sbom.HasPackageAttrs{Locations: []sbom.EdgeLocation{{Path: "var/lib/dpkg/status"}}})},
				},
			},
		},
		{
			name: "plain directory",
			s:    &sbom.SBOM{Subject: sbom.Subject{Kind: sbom.SubjectDirectory, Name: "."}, Packages: dir.Packages},
			want: &graph.Batch{Source: "sbom", Target: ".", ObservedAt: at, Nodes: []graph.Node{pkgNode}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sbom.Facts(tt.s, at)
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(graph.Batch{}), cmp.FilterPath(func(p cmp.Path) bool {
				return strings.HasSuffix(p.String(), "Idx")
			}, cmp.Ignore())); diff != "" {
				t.Errorf("batch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFactsFromCatalogImage(t *testing.T) {
	s, err := sbom.CatalogImage(context.Background(), appImage(t), sbom.Subject{}, sbom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := sbom.Facts(s, time.Now())
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	var layerEdges int
	for _, e := range b.Edges {
		if e.From.Kind() == graph.KindLayer {
			layerEdges++
		}
	}
	if layerEdges == 0 {
		t.Error("no layer → package edges")
	}
}

func TestCatalogImageTruncatedLayer(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := strings.Repeat("x", 4096)
	if err := tw.WriteHeader(&tar.Header{Name: "var/lib/dpkg/status", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(tw, body); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()[:1024] // the header and part of the file only
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	img := buildImage(t, layerStep{Layer: l, CreatedBy: "ADD truncated.tar /"})
	_, err = sbom.CatalogImage(context.Background(), img, sbom.Subject{Name: "truncated"}, sbom.Options{})
	if !errors.Is(err, sbom.ErrImage) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("err = %v, want ErrImage naming the image", err)
	}
	left, _ := os.ReadDir(os.Getenv("TMPDIR"))
	if len(left) != 0 {
		t.Errorf("scratch files left behind: %d", len(left))
	}
}
