package image_test

import (
	"archive/tar"
	"bytes"
	"io"
	"log"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/image"
)

// secret is an environment value of every test image; it must appear nowhere in a batch.
const secret = "s3cr3t-hunter2-token"

var created = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// spec describes a test image.
type spec struct {
	arch, variant string
}

// tarLayer builds a layer from files, deterministically.
func tarLayer(t testing.TB, files map[string]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		body := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), ModTime: created, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// buildImage makes an OCI image for s: two layers with files, empty-layer history
// entries between them, labels, and an environment holding the secret.
func buildImage(t testing.TB, s spec) v1.Image {
	t.Helper()
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	cfg := &v1.ConfigFile{
		Architecture: s.arch,
		Variant:      s.variant,
		OS:           "linux",
		Created:      v1.Time{Time: created},
		Author:       "tether tests",
		Config: v1.Config{
			User:         "1000:1000",
			Entrypoint:   []string{"/app/server"},
			Cmd:          []string{"--listen", ":8080"},
			WorkingDir:   "/app",
			ExposedPorts: map[string]struct{}{"9090/tcp": {}, "8080/tcp": {}},
			Env:          []string{"PATH=/usr/local/bin:/usr/bin", "API_TOKEN=" + secret, "EMPTY="},
			Labels: map[string]string{
				"org.opencontainers.image.source":   "https://github.com/acme/app",
				"org.opencontainers.image.revision": "3f2a9c1d",
			},
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	img, err := mutate.ConfigFile(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := func(by string, empty bool) v1.History {
		return v1.History{Created: v1.Time{Time: created}, CreatedBy: by, EmptyLayer: empty}
	}
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: tarLayer(t, map[string]string{"etc/os-release": "ID=test\n", "bin/sh": "#!" + s.arch}), History: h("ADD rootfs.tar / # buildkit", false)},
		mutate.Addendum{History: h("ENV API_TOKEN="+secret, true)},
		mutate.Addendum{History: h(`LABEL org.opencontainers.image.source=https://github.com/acme/app`, true)},
		mutate.Addendum{Layer: tarLayer(t, map[string]string{"app/server": "binary for " + s.arch, "app/config.yaml": "port: 8080\n"}), History: h("RUN |1 API_TOKEN="+secret+" /bin/sh -c make install # buildkit", false)},
		mutate.Addendum{History: h(`ENV API_TOKEN="`+secret+`"`, true)},
	)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// buildIndex makes a linux/amd64 + linux/arm64 index with a BuildKit-style attestation
// entry, and returns it with its two images.
func buildIndex(t testing.TB) (v1.ImageIndex, v1.Image, v1.Image, v1.Image) {
	t.Helper()
	amd := buildImage(t, spec{arch: "amd64"})
	arm := buildImage(t, spec{arch: "arm64", variant: "v8"})
	att := buildImage(t, spec{arch: "unknown"})
	amdDigest := digestOf(t, amd)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	idx = mutate.AppendManifests(idx,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{
				"vnd.docker.reference.type":   "attestation-manifest",
				"vnd.docker.reference.digest": amdDigest,
			},
		}},
	)
	return idx, amd, arm, att
}

func digestOf(t testing.TB, x interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := x.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// startRegistry runs go-containerregistry's in-process registry.
func startRegistry(t testing.TB) string {
	t.Helper()
	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func push(t testing.TB, ref string, x any) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	switch v := x.(type) {
	case v1.Image:
		err = remote.Write(r, v)
	case v1.ImageIndex:
		err = remote.WriteIndex(r, v)
	}
	if err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

// expectation describes the facts a scan should produce.
type expectation struct {
	target       string
	method       string
	digestSource string
	// index is set when the reference names an index.
	index *wantIndex
	// images in order; for an index, its platform images.
	images []wantImage
	// layerMediaType overrides the layers' media type (docker-archive writes its own).
	layerMediaType string
}

type wantIndex struct {
	digest, mediaType string
	tags              []string
	skipped           []image.SkippedManifest
}

type wantImage struct {
	img       v1.Image
	digest    string // defaults to img's digest
	mediaType string // defaults to the OCI manifest type
	reference string
	platform  string // "linux/arm64/v8"
	entryPlat string // the index entry's platform, "" for a single image
	position  int
	tags      []string
	// repoDigests are a container engine's RepoDigests for the image.
	repoDigests []string
}

// want builds the batch a scan must produce, from the test images themselves.
func want(t testing.TB, e expectation) *graph.Batch {
	t.Helper()
	b := graph.NewBatch("image", e.target, time.Time{})
	var indexID graph.ID
	if e.index != nil {
		indexID = graph.ImageIndexID(e.index.digest)
		b.AddNode(graph.Node{ID: indexID, Kind: graph.KindImageIndex, Name: e.target, Attrs: graph.Attrs(image.IndexAttrs{
			Digest: e.index.digest, DigestSource: e.digestSource, MediaType: e.index.mediaType,
			References: []string{e.target}, Tags: e.index.tags, Skipped: e.index.skipped,
		})})
	}
	for _, w := range e.images {
		m, err := w.img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		cf, err := w.img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		dig := w.digest
		if dig == "" {
			dig = digestOf(t, w.img)
		}
		mt := w.mediaType
		if mt == "" {
			mt = string(types.OCIManifestSchema1)
		}
		var size int64
		for _, l := range m.Layers {
			size += l.Size
		}
		os, arch, variant := splitPlatform(w.platform)
		attrs := image.ImageAttrs{
			Digest: dig, DigestSource: e.digestSource, MediaType: mt,
			References: []string{w.reference}, Tags: w.tags, RepoDigests: w.repoDigests,
			Platform: w.platform, OS: os, Architecture: arch, Variant: variant,
			ConfigDigest: m.Config.Digest.String(),
			Created:      "2024-05-01T12:00:00Z",
			Author:       "tether tests",
			Labels: map[string]string{
				"org.opencontainers.image.source":   "https://github.com/acme/app",
				"org.opencontainers.image.revision": "3f2a9c1d",
			},
			History: []image.HistoryEntry{
				{Created: "2024-05-01T12:00:00Z", CreatedBy: "ADD rootfs.tar / # buildkit"},
				{Created: "2024-05-01T12:00:00Z", CreatedBy: "ENV API_TOKEN=<redacted>", EmptyLayer: true},
				{Created: "2024-05-01T12:00:00Z", CreatedBy: "LABEL org.opencontainers.image.source=https://github.com/acme/app", EmptyLayer: true},
				{Created: "2024-05-01T12:00:00Z", CreatedBy: "RUN |1 API_TOKEN=<redacted> /bin/sh -c make install # buildkit"},
				{Created: "2024-05-01T12:00:00Z", CreatedBy: `ENV API_TOKEN="<redacted>"`, EmptyLayer: true},
			},
			User:         "1000:1000",
			Entrypoint:   []string{"/app/server"},
			Cmd:          []string{"--listen", ":8080"},
			Workdir:      "/app",
			ExposedPorts: []string{"8080/tcp", "9090/tcp"},
			EnvNames:     []string{"PATH", "API_TOKEN", "EMPTY"},
			LayerCount:   2,
			Size:         size,
		}
		name := w.reference
		if w.entryPlat != "" {
			name += " " + w.platform
		}
		imageID := graph.ImageID(dig)
		b.AddNode(graph.Node{ID: imageID, Kind: graph.KindImage, Name: name, Attrs: graph.Attrs(attrs)})
		if e.index != nil {
			b.AddEdge(graph.Edge{
				From: indexID, Kind: graph.EdgeHasManifest, To: imageID, Method: e.method, Confidence: 1,
				Evidence: []graph.Evidence{{Source: "image-index", Detail: e.index.digest + " manifests[" + itoa(w.position) + "] = " + dig + " (" + w.entryPlat + ")"}},
				Attrs:    graph.Attrs(image.ManifestEdgeAttrs{Platform: w.entryPlat, Position: w.position}),
			})
		}
		history := []int{0, 3} // the entries that are not empty layers
		for i, l := range m.Layers {
			diffID := cf.RootFS.DiffIDs[i].String()
			lmt := string(l.MediaType)
			if e.layerMediaType != "" {
				lmt = e.layerMediaType
			}
			ds := ""
			if e.digestSource == "computed" || e.digestSource == "engine" {
				ds = "computed"
			}
			b.AddNode(graph.Node{ID: graph.LayerID(diffID), Kind: graph.KindLayer, Name: diffID, Attrs: graph.Attrs(image.LayerAttrs{
				Digest: l.Digest.String(), DiffID: diffID, Size: l.Size, MediaType: lmt, DigestSource: ds,
			})})
			hi := history[i]
			b.AddEdge(graph.Edge{
				From: imageID, Kind: graph.EdgeHasLayer, To: graph.LayerID(diffID), Method: e.method, Confidence: 1,
				Evidence: []graph.Evidence{{Source: "image-manifest", Detail: dig + " layers[" + itoa(i) + "] = " + l.Digest.String() + " (diff_id " + diffID + ")"}},
				Attrs:    graph.Attrs(image.LayerEdgeAttrs{Index: i, HistoryIndex: &hi}),
			})
		}
	}
	return b
}

func splitPlatform(p string) (os, arch, variant string) {
	parts := strings.SplitN(p, "/", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2]
}

func itoa(i int) string { return strconv.Itoa(i) }

// batchOpts compares batches apart from their observation time.
var batchOpts = cmp.Options{
	cmpopts.IgnoreUnexported(graph.Batch{}),
	cmpopts.IgnoreFields(graph.Batch{}, "ObservedAt"),
	cmpopts.EquateEmpty(),
}
