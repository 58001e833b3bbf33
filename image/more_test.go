package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/image"
)

// TestScanUncompressedArchive reads an archive laid out as `docker save` writes it,
// with uncompressed layers: the manifest and layer digests are computed.
func TestScanUncompressedArchive(t *testing.T) {
	img := buildImage(t, spec{arch: "amd64"})
	cfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, body []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	add("config.json", cfg)
	var paths []string
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		p := "layer" + itoa(i) + "/layer.tar"
		add(p, b)
		paths = append(paths, p)
	}
	m, err := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{"app:v1"}, "Layers": paths}})
	if err != nil {
		t.Fatal(err)
	}
	add("manifest.json", m)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "saved.tar")
	write(t, file, buf.String())

	target, err := image.Open(context.Background(), "docker-archive:"+file)
	if err != nil {
		t.Fatal(err)
	}
	b := target.Batch(created)
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	n, ok := b.Node(graph.ImageID(target.Digest))
	if !ok {
		t.Fatalf("no image node %s in %+v", target.Digest, b.Nodes)
	}
	if n.String("digest_source") != "computed" || n.String("mediaType") != string(types.DockerManifestSchema2) {
		t.Errorf("image attrs %v: want digest_source computed and a Docker manifest", n.Attrs)
	}
	for _, d := range cf.RootFS.DiffIDs {
		l, ok := b.Node(graph.LayerID(d.String()))
		if !ok {
			t.Fatalf("no layer node for %s", d)
		}
		if l.String("digest_source") != "computed" || l.String("digest") == "" {
			t.Errorf("layer attrs %v: want a computed digest", l.Attrs)
		}
	}
}

// TestScanNestedIndex: an index that lists an index is flattened; its images hang off
// the top index, with the nested index named in "via".
func TestScanNestedIndex(t *testing.T) {
	idx, _, _, _ := buildIndex(t)
	top := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{Add: idx})
	dir := filepath.Join(t.TempDir(), "nested")
	if _, err := layout.Write(dir, empty.Index); err != nil {
		t.Fatal(err)
	}
	if err := layout.Path(dir).AppendIndex(top); err != nil {
		t.Fatal(err)
	}
	b, err := image.Scan(context.Background(), "oci:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	topD, idxD := digestOf(t, top), digestOf(t, idx)
	var vias []string
	for _, e := range b.Edges {
		if e.Kind != graph.EdgeHasManifest {
			continue
		}
		if e.From != graph.ImageIndexID(topD) {
			t.Errorf("has_manifest from %s, want from the top index %s", e.From, topD)
		}
		var a image.ManifestEdgeAttrs
		if err := graph.DecodeAttrs(e.Attrs, &a); err != nil {
			t.Fatal(err)
		}
		vias = append(vias, a.Via)
	}
	if strings.Join(vias, ",") != idxD+","+idxD {
		t.Errorf("has_manifest vias = %v, want the nested index twice", vias)
	}
}

// TestOptions: WithTransport carries the requests, WithKeychain supplies credentials,
// WithInsecure still reads a loopback registry.
func TestOptions(t *testing.T) {
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "tether" || p != "pw" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer s.Close()
	host := strings.TrimPrefix(s.URL, "http://")
	ref, err := name.ParseReference(host + "/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	creds := authn.FromConfig(authn.AuthConfig{Username: "tether", Password: "pw"})
	if err := remote.Write(ref, buildImage(t, spec{arch: "amd64"}), remote.WithAuth(creds)); err != nil {
		t.Fatal(err)
	}

	_, err = image.Open(context.Background(), host+"/app:v1", image.WithKeychain(authn.NewMultiKeychain()))
	if !errors.Is(err, image.ErrUnauthorized) {
		t.Fatalf("without credentials: %v, want ErrUnauthorized", err)
	}
	var requests atomic.Int32
	counting := roundTripper(func(r *http.Request) (*http.Response, error) {
		requests.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})
	target, err := image.Open(context.Background(), host+"/app:v1",
		image.WithKeychain(staticKeychain{creds}), image.WithTransport(counting), image.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	if len(target.Images) != 1 || requests.Load() == 0 {
		t.Errorf("got %d images over %d requests through the transport", len(target.Images), requests.Load())
	}
	for _, bad := range []image.Option{image.WithTransport(nil), image.WithKeychain(nil), image.WithPlatform("linux/amd64:10.0")} {
		if _, err := image.Open(context.Background(), host+"/app:v1", bad); !errors.Is(err, image.ErrBadOption) {
			t.Errorf("bad option: %v, want ErrBadOption", err)
		}
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type staticKeychain struct{ a authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.a, nil }

func TestArchiveAmbiguous(t *testing.T) {
	file := filepath.Join(t.TempDir(), "two.tar")
	a, _ := name.NewTag("app:a")
	b, _ := name.NewTag("app:b")
	imgs := map[name.Reference]v1.Image{a: buildImage(t, spec{arch: "amd64"}), b: buildImage(t, spec{arch: "arm64"})}
	if err := tarball.MultiRefWriteToFile(file, imgs); err != nil {
		t.Fatal(err)
	}
	_, err := image.Open(context.Background(), "docker-archive:"+file)
	if !errors.Is(err, image.ErrAmbiguous) || !strings.Contains(err.Error(), "app:a, app:b") {
		t.Fatalf("Open of a two-image archive: %v, want ErrAmbiguous naming app:a and app:b", err)
	}
	target, err := image.Open(context.Background(), "docker-archive:"+file+":app:b")
	if err != nil {
		t.Fatal(err)
	}
	if got := target.Images[0].Platform().Architecture; got != "arm64" {
		t.Errorf("docker-archive:FILE:app:b opened the %s image, want arm64", got)
	}
}

// TestInsecure: a registry on a public-looking name speaks plain HTTP only with
// WithInsecure; without it the error says so.
func TestInsecure(t *testing.T) {
	host := startRegistry(t)
	push(t, host+"/app:v1", buildImage(t, spec{arch: "amd64"}))
	// Every connection goes to the test registry, whatever the name.
	dialer := &net.Dialer{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, host)
	}}
	defer tr.CloseIdleConnections()
	ref := "registry.example.com/app:v1"
	_, err := image.Open(context.Background(), ref, image.WithTransport(tr))
	if !errors.Is(err, image.ErrUnreachable) || !strings.Contains(err.Error(), "WithInsecure") {
		t.Fatalf("plain HTTP without WithInsecure: %v, want ErrUnreachable advising WithInsecure", err)
	}
	t.Log(err)
	target, err := image.Open(context.Background(), ref, image.WithTransport(tr), image.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	if got := target.Images[0].Reference; got != ref {
		t.Errorf("reference = %q, want %q", got, ref)
	}
}
