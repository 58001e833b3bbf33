package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tether-sec/tether/image"
)

// FuzzParseRef: ParseRef never panics, fails only with ErrBadReference, and what it
// parses prints as a reference that parses to the same thing.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"alpine", "127.0.0.1:5000/app:v1", "docker://ghcr.io/a/b@sha256:" + hex64,
		"oci:/tmp/l:v1", "oci:l@sha256:" + hex64, "oci-dir:x", "docker-archive:a.tar:app:v1",
		"registry:localhost/x", "dir:/x", "oci:a:b@c", "docker-archive:",
		"docker:alpine", "docker-daemon:app:v1", "podman:app:v1", "podman:localhost/app", "docker:sha256:" + hex64,
		"podman:abcdef012345", "docker://x", "docker:sha256:x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := image.ParseRef(s)
		if err != nil {
			if !errors.Is(err, image.ErrBadReference) {
				t.Fatalf("ParseRef(%q) error %v does not match ErrBadReference", s, err)
			}
			return
		}
		printed := r.String()
		if printed == "" {
			t.Fatalf("ParseRef(%q) = %+v prints as nothing", s, r)
		}
		again, err := image.ParseRef(printed)
		if err != nil {
			t.Fatalf("ParseRef(%q) printed as %q, which does not parse: %v", s, printed, err)
		}
		if again.String() != printed {
			t.Fatalf("ParseRef(%q) printed as %q, which prints as %q", s, printed, again.String())
		}
	})
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// FuzzDockerArchive feeds arbitrary bytes as a docker-archive: Open never panics or
// hangs, fails only with this package's errors, and what it opens gives a valid batch.
func FuzzDockerArchive(f *testing.F) {
	archive := filepath.Join(f.TempDir(), "seed.tar")
	tag, err := name.NewTag("127.0.0.1:5000/app:v1")
	if err != nil {
		f.Fatal(err)
	}
	if err := tarball.WriteToFile(archive, tag, buildImage(f, spec{arch: "amd64"})); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(archive)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(t.TempDir(), "a.tar")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		openFuzzed(t, "docker-archive:"+file)
	})
}

// FuzzDockerArchiveManifest feeds arbitrary manifest.json and config bytes into an
// otherwise well-formed docker-archive holding real layers, compressed and not, and
// links between entries.
func FuzzDockerArchiveManifest(f *testing.F) {
	img := buildImage(f, spec{arch: "amd64"})
	layers, err := img.Layers()
	if err != nil {
		f.Fatal(err)
	}
	entries := map[string][]byte{}
	for i, l := range layers {
		for suffix, open := range map[string]func() (io.ReadCloser, error){".tar.gz": l.Compressed, ".tar": l.Uncompressed} {
			rc, err := open()
			if err != nil {
				f.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				f.Fatal(err)
			}
			entries["l"+strconv.Itoa(i)+suffix] = b
		}
	}
	config, err := img.RawConfigFile()
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`[{"Config":"config.json","RepoTags":["app:v1"],"Layers":["l0.tar.gz","l1.tar.gz"]}]`), config)
	f.Add([]byte(`[{"Config":"config.json","RepoTags":["app:v1"],"Layers":["l0.tar","link"]}]`), config)
	f.Add([]byte(`[{"Config":"loop","Layers":["l0.tar"]},{"Config":"config.json","RepoTags":["x:1"]}]`), []byte(`{"rootfs":{"diff_ids":[]}}`))
	f.Fuzz(func(t *testing.T, manifest, cfg []byte) {
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
		link := func(name, target string) {
			if err := tw.WriteHeader(&tar.Header{Name: name, Linkname: target, Typeflag: tar.TypeSymlink}); err != nil {
				t.Fatal(err)
			}
		}
		add("config.json", cfg)
		for _, n := range []string{"l0.tar", "l0.tar.gz", "l1.tar", "l1.tar.gz"} {
			add(n, entries[n])
		}
		link("link", "l1.tar")
		link("loop", "loop")
		add("manifest.json", manifest)
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "a.tar")
		if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		openFuzzed(t, "docker-archive:"+file)
		openFuzzed(t, "docker-archive:"+file+":app:v1")
	})
}

// FuzzOCIIndex feeds arbitrary bytes as the index.json of a layout whose blobs are a
// real image's.
func FuzzOCIIndex(f *testing.F) {
	base := filepath.Join(f.TempDir(), "layout")
	p, err := layout.Write(base, empty.Index)
	if err != nil {
		f.Fatal(err)
	}
	idx, _, _, _ := buildIndex(f)
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "multi"})); err != nil {
		f.Fatal(err)
	}
	if err := p.AppendImage(buildImage(f, spec{arch: "amd64"})); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(base, "index.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"schemaVersion":2,"manifests":[]}`))
	f.Add([]byte(`{"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:` + hex64 + `","size":1}]}`))
	blobs := filepath.Join(base, "blobs")
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.Symlink(blobs, filepath.Join(dir, "blobs")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "index.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		openFuzzed(t, "oci:"+dir)
		openFuzzed(t, "oci:"+dir+":multi")
	})
}

var sentinels = []error{
	image.ErrBadReference, image.ErrUnreachable, image.ErrNotFound, image.ErrUnauthorized, image.ErrRegistry,
	image.ErrBadManifest, image.ErrNotLayout, image.ErrNotArchive, image.ErrAmbiguous, image.ErrPlatformNotFound,
}

func openFuzzed(t *testing.T, ref string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	target, err := image.Open(ctx, ref)
	if err != nil {
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("Open(%q) error %v matches no sentinel", ref, err)
	}
	if err := target.Batch(time.Now()).Validate(); err != nil {
		t.Fatalf("Open(%q) gave an invalid batch: %v", ref, err)
	}
}

// FuzzEngineRecord feeds arbitrary JSON as a container engine's image record: Open
// never panics, fails only with this package's errors, and what it opens gives a valid
// batch whose digest is one of the record's RepoDigests or a computed one.
func FuzzEngineRecord(f *testing.F) {
	img := buildImage(f, spec{arch: "amd64"})
	export := saveTarball(f, nil, img)
	d := digestOf(f, img)
	for _, s := range []string{
		`{"Id":"sha256:` + hex64 + `","RepoTags":["127.0.0.1:5000/app:v1"],"RepoDigests":["127.0.0.1:5000/app@` + d + `"]}`,
		`{"Id":"x","RepoDigests":["localhost/app@` + d + `","a@b","@","127.0.0.1:5000/app@sha256:` + hex64 + `"]}`,
		`{"Id":""}`, `[]`, `{"Id":7}`, ``,
	} {
		f.Add([]byte(s))
	}
	var record atomic.Value
	sock := filepath.Join(shortDir(f), "fuzz.sock")
	serveUnix(f, sock, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == "/_ping":
			w.Header().Set("Api-Version", "1.41")
			w.Header().Set("Libpod-Api-Version", "4.3.1")
		case strings.HasSuffix(p, "/get"):
			_, _ = w.Write(export)
		case strings.HasPrefix(p, "/v1.41/images/"):
			_, _ = w.Write(record.Load().([]byte))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		record.Store(raw)
		t.Setenv("TMPDIR", t.TempDir())
		target, err := image.Open(context.Background(), "podman:127.0.0.1:5000/app:v1", image.WithEngineSocket(sock))
		if err != nil {
			if !errors.Is(err, image.ErrEngine) {
				t.Fatalf("Open error %v is not ErrEngine", err)
			}
			return
		}
		defer target.Close()
		if err := target.Batch(time.Unix(0, 0)).Validate(); err != nil {
			t.Fatalf("invalid batch: %v", err)
		}
		switch target.DigestSource {
		case image.DigestFromComputed:
		case image.DigestFromEngine:
			if !slices.ContainsFunc(target.RepoDigests, func(s string) bool { return strings.HasSuffix(s, "@"+target.Digest) }) {
				t.Fatalf("digest %s is none of the RepoDigests %q", target.Digest, target.RepoDigests)
			}
		default:
			t.Fatalf("digest source %q", target.DigestSource)
		}
	})
}
