package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/image"
	"github.com/tether-sec/tether/internal/testpodman"
	"github.com/tether-sec/tether/internal/testreg"
)

// saveTarball lays images out as `docker save` and the engines' GET /images/{name}/get
// write them: each config as HEX.json, each layer uncompressed as HEX.tar, and a
// manifest.json naming repoTags.
func saveTarball(t testing.TB, repoTags []string, imgs ...v1.Image) []byte {
	t.Helper()
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
	var manifest []map[string]any
	for _, img := range imgs {
		cfg, err := img.RawConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cfgName, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		add(cfgName.Hex+".json", cfg)
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, l := range layers {
			d, err := l.DiffID()
			if err != nil {
				t.Fatal(err)
			}
			rc, err := l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			add(d.Hex+".tar", b)
			paths = append(paths, d.Hex+".tar")
		}
		manifest = append(manifest, map[string]any{"Config": cfgName.Hex + ".json", "RepoTags": repoTags, "Layers": paths})
	}
	m, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	add("manifest.json", m)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// exported reads a `docker save` tarball as Open does, for expectations: the manifest
// and layer digests are computed from the uncompressed layers.
func exported(t testing.TB, data []byte) v1.Image {
	t.Helper()
	img, err := tarball.Image(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// engineCase is the expectation for a container engine's single linux/amd64 image.
func engineCase(target, digest, source string, exp v1.Image, tags, repoDigests []string) expectation {
	method, _, _ := strings.Cut(target, ":")
	return expectation{
		target: target, method: method, digestSource: source, layerMediaType: string(types.DockerLayer),
		images: []wantImage{{img: exp, digest: digest, mediaType: string(types.DockerManifestSchema2), reference: target,
			platform: "linux/amd64", tags: tags, repoDigests: repoDigests}},
	}
}

// fakeImage is an image a fakeEngine holds.
type fakeImage struct {
	record map[string]any // GET /images/{name}/json
	export []byte         // GET /images/{id}/get
	// libpod is the Digest of Podman's own GET /libpod/images/{name}/json; "" answers 404.
	libpod string
}

// fakeEngine answers the Docker Engine API calls Open makes.
type fakeEngine struct {
	// minAPI and maxAPI are what GET /version reports; "" answers 404. GET /_ping
	// reports maxAPI, and says it is Podman when podman is set.
	minAPI, maxAPI string
	podman         bool
	images         map[string]*fakeImage // by each name it answers to
	// status, when not 0, answers every image call.
	status int
	// stall, when set, makes an export send half its bytes and then wait for it.
	stall chan struct{}

	mu    sync.Mutex
	paths []string
}

func (f *fakeEngine) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.paths)
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.paths = append(f.paths, r.URL.Path)
	f.mu.Unlock()
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	p := r.URL.Path
	if p == "/_ping" {
		if f.maxAPI != "" {
			w.Header().Set("Api-Version", f.maxAPI)
		}
		if f.podman {
			w.Header().Set("Libpod-Api-Version", "4.3.1")
		}
		_, _ = w.Write([]byte("OK"))
		return
	}
	if p == "/version" {
		if f.podman {
			panic("GET /version of Podman is slow: use /_ping")
		}
		if f.maxAPI == "" {
			reply(http.StatusNotFound, map[string]string{"message": "page not found"})
			return
		}
		reply(http.StatusOK, map[string]string{"ApiVersion": f.maxAPI, "MinAPIVersion": f.minAPI})
		return
	}
	if rest, ok := strings.CutPrefix(p, "/v4.0.0/libpod/images/"); ok {
		im := f.images[strings.TrimSuffix(rest, "/json")]
		if im == nil || im.libpod == "" {
			reply(http.StatusNotFound, map[string]string{"message": "no such image"})
			return
		}
		reply(http.StatusOK, map[string]string{"Digest": im.libpod})
		return
	}
	_, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/") // drop the version
	rest, ok := strings.CutPrefix(rest, "images/")
	i := strings.LastIndexByte(rest, '/')
	if !ok || i < 0 {
		reply(http.StatusNotFound, map[string]string{"message": "page not found"})
		return
	}
	if f.status != 0 {
		reply(f.status, map[string]string{"message": "engine exploded"})
		return
	}
	name, op := rest[:i], rest[i+1:]
	im := f.images[name]
	if im == nil {
		reply(http.StatusNotFound, map[string]string{"message": "No such image: " + name})
		return
	}
	switch op {
	case "json":
		reply(http.StatusOK, im.record)
	case "get":
		w.Header().Set("Content-Type", "application/x-tar")
		if f.stall != nil {
			_, _ = w.Write(im.export[:len(im.export)/2])
			w.(http.Flusher).Flush()
			select {
			case <-f.stall:
			case <-r.Context().Done():
			}
			return
		}
		_, _ = w.Write(im.export)
	default:
		reply(http.StatusNotFound, map[string]string{"message": "page not found"})
	}
}

// shortDir is a temporary directory with a short path: a unix socket path must stay
// under 108 bytes, and t.TempDir's grow with test names.
func shortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "te")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// serveUnix serves h on a unix socket at path.
func serveUnix(t testing.TB, path string, h http.Handler) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(h)
	s.Listener = l
	s.Start()
	t.Cleanup(s.Close)
}

// engineFixture is an image held by a fake engine under several names.
type engineFixture struct {
	img          v1.Image
	pushedD, id  string
	export       []byte
	exp          v1.Image
	engine       *fakeEngine
	sock         string
	repo, tagged string
}

func newEngineFixture(t *testing.T) *engineFixture {
	t.Helper()
	f := &engineFixture{img: buildImage(t, spec{arch: "amd64"}), repo: "127.0.0.1:5000/app", tagged: "127.0.0.1:5000/app:v1"}
	f.pushedD = digestOf(t, f.img)
	cfg, err := f.img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	f.id = cfg.String()
	f.export = saveTarball(t, nil, f.img) // an export by ID names no tags
	f.exp = exported(t, f.export)
	im := &fakeImage{export: f.export, record: map[string]any{
		"Id": f.id, "RepoTags": []string{f.tagged}, "RepoDigests": []string{f.repo + "@" + f.pushedD},
		"Os": "linux", "Architecture": "amd64",
	}}
	f.engine = &fakeEngine{minAPI: "1.24", maxAPI: "1.41", images: map[string]*fakeImage{f.tagged: im, f.id: im}}
	f.sock = filepath.Join(shortDir(t), "engine.sock")
	serveUnix(t, f.sock, f.engine)
	return f
}

// add makes the engine answer name, and an ID of its own, with a record of an image
// that lists repoDigests and whose export is export (the fixture's when nil), and
// with Podman's libpod Digest.
func (f *engineFixture) add(name string, repoDigests []string, libpod string, export []byte) {
	if export == nil {
		export = f.export
	}
	id := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(name)))
	im := &fakeImage{export: export, libpod: libpod, record: map[string]any{
		"Id": id, "RepoTags": []string{name}, "RepoDigests": repoDigests, "Os": "linux", "Architecture": "amd64",
	}}
	f.engine.images[name], f.engine.images[id] = im, im
}

// TestScanEngine reads images from a fake engine: the image's digest is the registry
// digest the engine recorded for the reference's repository when there is one.
func TestScanEngine(t *testing.T) {
	f := newEngineFixture(t)
	other := "sha256:" + strings.Repeat("1", 64)
	index := "sha256:" + strings.Repeat("2", 64)
	local := "sha256:" + strings.Repeat("3", 64)
	// Docker spells short names in full; the digest recorded for that repository wins.
	f.add("docker.io/library/app:latest", []string{"docker.io/library/app@" + other, f.repo + "@" + f.pushedD}, "", nil)
	// Podman records an image pulled through an index under both digests.
	f.add("127.0.0.1:5000/multi:v1", []string{"127.0.0.1:5000/multi@" + index, "127.0.0.1:5000/multi@" + f.pushedD}, index, nil)
	f.add("127.0.0.1:5000/nolibpod:v1", []string{"127.0.0.1:5000/nolibpod@" + index, "127.0.0.1:5000/nolibpod@" + f.pushedD}, "", nil)
	// A locally built image: Podman's localhost/ digests never came from a registry.
	f.add("localhost/built:v1", []string{"localhost/built@" + local}, "", nil)
	f.add("127.0.0.1:5000/never-pushed:v1", []string{"<none>@<none>"}, "", nil)

	sockOpt := image.WithEngineSocket(f.sock)
	computed := digestOf(t, f.exp)
	type tc struct {
		ref, target, digest, source string
		tags, repoDigests           []string
	}
	for _, c := range []tc{
		{"docker:" + f.tagged, "", f.pushedD, "engine", []string{f.tagged}, []string{f.repo + "@" + f.pushedD}},
		{"podman:" + f.tagged, "", f.pushedD, "engine", []string{f.tagged}, []string{f.repo + "@" + f.pushedD}},
		// By ID, or by a name none of the RepoDigests has: the one digest they all agree on.
		{"docker:" + f.id, "", f.pushedD, "engine", []string{f.tagged}, []string{f.repo + "@" + f.pushedD}},
		{"docker:app", "docker:docker.io/library/app:latest", other, "engine", []string{"docker.io/library/app:latest"},
			[]string{"docker.io/library/app@" + other, f.repo + "@" + f.pushedD}},
		{"podman:127.0.0.1:5000/multi:v1", "", f.pushedD, "engine", []string{"127.0.0.1:5000/multi:v1"},
			[]string{"127.0.0.1:5000/multi@" + index, "127.0.0.1:5000/multi@" + f.pushedD}},
		{"podman:127.0.0.1:5000/nolibpod:v1", "", computed, "computed", []string{"127.0.0.1:5000/nolibpod:v1"},
			[]string{"127.0.0.1:5000/nolibpod@" + index, "127.0.0.1:5000/nolibpod@" + f.pushedD}},
		{"podman:localhost/built:v1", "", computed, "computed", []string{"localhost/built:v1"}, []string{"localhost/built@" + local}},
		{"docker:127.0.0.1:5000/never-pushed:v1", "", computed, "computed", []string{"127.0.0.1:5000/never-pushed:v1"}, nil},
	} {
		t.Run(c.ref, func(t *testing.T) {
			got, err := image.Scan(context.Background(), c.ref, sockOpt)
			if err != nil {
				t.Fatalf("Scan(%q): %v", c.ref, err)
			}
			target := c.target
			if target == "" {
				target = c.ref
			}
			check(t, got, want(t, engineCase(target, c.digest, c.source, f.exp, c.tags, c.repoDigests)))
		})
	}
	// The engine is asked for the image by name, then for its export by ID.
	reqs := f.engine.requests()
	for _, p := range []string{"/_ping", "/version", "/v1.41/images/" + f.tagged + "/json", "/v1.41/images/" + f.id + "/get"} {
		if !slices.Contains(reqs, p) {
			t.Errorf("the engine was never asked for %s; it was asked for %q", p, reqs)
		}
	}
}

// TestEngineAPIVersion: the API version spoken is 1.41 when the engine serves it, else
// the nearest one it serves.
func TestEngineAPIVersion(t *testing.T) {
	for _, c := range []struct {
		min, max string
		podman   bool
		want     string
	}{
		{"1.24", "1.41", true, "/v1.41/"},  // Podman 4 and 5
		{"1.24", "1.49", false, "/v1.41/"}, // Docker 28
		{"1.44", "1.52", false, "/v1.44/"}, // Docker 29 refuses older clients
		{"1.12", "1.40", false, "/v1.40/"},
		{"", "", false, "/v1.41/"}, // no GET /version
	} {
		t.Run(c.min+"-"+c.max, func(t *testing.T) {
			f := newEngineFixture(t)
			f.engine.minAPI, f.engine.maxAPI, f.engine.podman = c.min, c.max, c.podman
			tg, err := image.Open(context.Background(), "docker:"+f.tagged, image.WithEngineSocket("unix://"+f.sock))
			if err != nil {
				t.Fatal(err)
			}
			defer tg.Close()
			for _, p := range f.engine.requests() {
				if p != "/version" && p != "/_ping" && !strings.HasPrefix(p, c.want) {
					t.Errorf("asked for %s, want %s…", p, c.want)
				}
			}
		})
	}
}

func TestEngineErrors(t *testing.T) {
	f := newEngineFixture(t)
	dir := shortDir(t)
	missing := filepath.Join(dir, "missing.sock")
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the socket file stays, with nothing listening

	broken := &fakeEngine{maxAPI: "1.41", minAPI: "1.24", status: http.StatusInternalServerError}
	brokenSock := filepath.Join(dir, "broken.sock")
	serveUnix(t, brokenSock, broken)
	f.add("127.0.0.1:5000/two:v1", nil, "", saveTarball(t, nil, f.img, buildImage(t, spec{arch: "arm64"})))
	f.add("127.0.0.1:5000/nottar:v1", nil, "", []byte(strings.Repeat("garbage ", 100)))
	f.add("127.0.0.1:5000/liar:v1", nil, "", saveTarball(t, nil, buildImage(t, spec{arch: "arm64"})))

	sock := image.WithEngineSocket(f.sock)
	tests := []struct {
		name string
		ref  string
		opts []image.Option
		want error
		msg  []string
	}{
		{"docker not found", "docker:127.0.0.1:5000/nope:v1", []image.Option{sock}, image.ErrNotFound,
			[]string{"docker:127.0.0.1:5000/nope:v1 not found in the docker engine at unix://" + f.sock, "No such image", "`docker pull IMAGE`"}},
		{"podman not found", "podman:nope", []image.Option{sock}, image.ErrNotFound, []string{"`podman pull IMAGE`", "`podman images`"}},
		{"docker socket missing", "docker:app", []image.Option{image.WithEngineSocket(missing)}, image.ErrEngineUnavailable,
			[]string{"cannot reach the docker engine at unix://" + missing + ": the socket does not exist", "systemctl start docker", "DOCKER_HOST"}},
		{"podman socket missing", "podman:app", []image.Option{image.WithEngineSocket(missing)}, image.ErrEngineUnavailable,
			[]string{"cannot reach the podman engine at unix://" + missing, "`podman system service --time=0 unix://" + missing + "`", "CONTAINER_HOST"}},
		{"nothing listens", "podman:app", []image.Option{image.WithEngineSocket(stale)}, image.ErrEngineUnavailable, []string{"connection refused"}},
		{"engine error", "docker:app", []image.Option{image.WithEngineSocket(brokenSock)}, image.ErrEngine, []string{"HTTP 500: engine exploded"}},
		{"too large", "docker:" + f.tagged, []image.Option{sock, image.WithEngineMaxSize(1000)}, image.ErrEngine, []string{"larger than 1000 bytes", "WithEngineMaxSize"}},
		{"two images", "docker:127.0.0.1:5000/two:v1", []image.Option{sock}, image.ErrEngine, []string{"holds 2 images", "docker save --platform"}},
		{"not a tarball", "docker:127.0.0.1:5000/nottar:v1", []image.Option{sock}, image.ErrEngine, []string{"manifest.json"}},
		{"other platform", "docker:" + f.tagged, []image.Option{sock, image.WithPlatform("linux/arm64")}, image.ErrPlatformNotFound, []string{"(it has: linux/amd64)"}},
		{"record says amd64, config arm64", "docker:127.0.0.1:5000/liar:v1", []image.Option{sock, image.WithPlatform("linux/amd64")}, image.ErrPlatformNotFound, []string{"(it has: linux/arm64)"}},
		{"bad socket option", "docker:app", []image.Option{image.WithEngineSocket("ssh://host")}, image.ErrBadOption, []string{"ssh:// and TLS are not supported"}},
		{"empty socket option", "docker:app", []image.Option{image.WithEngineSocket("")}, image.ErrBadOption, []string{"empty"}},
		{"conflicting sockets", "docker:app", []image.Option{sock, image.WithEngineSocket(missing)}, image.ErrBadOption, []string{"conflicts"}},
		{"bad size", "docker:app", []image.Option{image.WithEngineMaxSize(0)}, image.ErrBadOption, []string{"positive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			target, err := image.Open(context.Background(), tt.ref, tt.opts...)
			if err == nil {
				target.Close()
				t.Fatalf("Open(%q) succeeded, want %v", tt.ref, tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Open(%q) error %q does not match %v", tt.ref, err, tt.want)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("Open(%q) error %q does not say %q", tt.ref, err, m)
				}
			}
			if !strings.HasPrefix(err.Error(), "image: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			t.Logf("%s", err)
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("a failed Open left %d temporary files", len(left))
			}
		})
	}
}

// TestEngineSocketFromEnv: without WithEngineSocket, docker: reads DOCKER_HOST and
// podman: CONTAINER_HOST, then $XDG_RUNTIME_DIR/podman/podman.sock.
func TestEngineSocketFromEnv(t *testing.T) {
	f := newEngineFixture(t)
	tcp := httptest.NewServer(f.engine)
	defer tcp.Close()
	userRuntime := shortDir(t)
	serveUnix(t, filepath.Join(userRuntime, "podman", "podman.sock"), f.engine)
	empty := shortDir(t)
	for _, c := range []struct {
		name, ref string
		env       map[string]string
		wantErr   error
		msg       string
	}{
		{"DOCKER_HOST unix", "docker:", map[string]string{"DOCKER_HOST": "unix://" + f.sock}, nil, ""},
		{"DOCKER_HOST tcp", "docker:", map[string]string{"DOCKER_HOST": "tcp://" + strings.TrimPrefix(tcp.URL, "http://")}, nil, ""},
		{"DOCKER_HOST tls", "docker:", map[string]string{"DOCKER_HOST": "tcp://" + strings.TrimPrefix(tcp.URL, "http://"), "DOCKER_TLS_VERIFY": "1"},
			image.ErrEngineUnavailable, "TLS to the engine is not supported"},
		{"DOCKER_HOST ssh", "docker:", map[string]string{"DOCKER_HOST": "ssh://me@host"}, image.ErrEngineUnavailable, "DOCKER_HOST is not usable"},
		{"CONTAINER_HOST", "podman:", map[string]string{"CONTAINER_HOST": "unix://" + f.sock, "XDG_RUNTIME_DIR": empty}, nil, ""},
		{"XDG_RUNTIME_DIR", "podman:", map[string]string{"CONTAINER_HOST": "", "XDG_RUNTIME_DIR": userRuntime}, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			target, err := image.Open(context.Background(), c.ref+f.tagged)
			if c.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if target.Digest != f.pushedD {
					t.Errorf("digest %s, want %s", target.Digest, f.pushedD)
				}
				target.Close()
				return
			}
			if !errors.Is(err, c.wantErr) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Open: %v, want %v saying %q", err, c.wantErr, c.msg)
			}
		})
	}
	t.Run("no podman socket anywhere", func(t *testing.T) {
		if _, err := os.Stat("/run/podman/podman.sock"); err == nil {
			t.Skip("this machine runs a root Podman service")
		}
		t.Setenv("CONTAINER_HOST", "")
		t.Setenv("XDG_RUNTIME_DIR", empty)
		_, err := image.Open(context.Background(), "podman:"+f.tagged)
		want := "no socket there, nor at unix://" + filepath.Join(empty, "podman", "podman.sock")
		if !errors.Is(err, image.ErrEngineUnavailable) || !strings.Contains(err.Error(), want) ||
			!strings.Contains(err.Error(), "podman system service --time=0 unix:///run/podman/podman.sock") {
			t.Fatalf("Open: %v, want ErrEngineUnavailable saying %q", err, want)
		}
	})
}

// TestEngineClose: the export is a temporary file that layers are read from until
// Close; Scan closes what it opens.
func TestEngineClose(t *testing.T) {
	f := newEngineFixture(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	files := func() int {
		left, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		return len(left)
	}
	target, err := image.Open(context.Background(), "podman:"+f.tagged, image.WithEngineSocket(f.sock))
	if err != nil {
		t.Fatal(err)
	}
	if n := files(); n != 1 {
		t.Fatalf("%d temporary files while open, want 1", n)
	}
	layers, err := target.Images[0].Image.Layers()
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range layers {
		if got, w := uncompressed(t, l), uncompressed(t, want[i]); !bytes.Equal(got, w) {
			t.Errorf("layer %d differs from the image's", i)
		}
	}
	if err := target.Close(); err != nil {
		t.Fatal(err)
	}
	if err := target.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if n := files(); n != 0 {
		t.Errorf("%d temporary files after Close, want 0", n)
	}
	if rc, err := layers[0].Uncompressed(); err == nil {
		rc.Close()
		t.Errorf("a layer was readable after Close")
	}
	if _, err := image.Scan(context.Background(), "podman:"+f.tagged, image.WithEngineSocket(f.sock)); err != nil {
		t.Fatal(err)
	}
	if n := files(); n != 0 {
		t.Errorf("%d temporary files after Scan, want 0", n)
	}
	// A target never closed has its copy removed once it is garbage.
	if _, err := image.Open(context.Background(), "podman:"+f.tagged, image.WithEngineSocket(f.sock)); err != nil {
		t.Fatal(err)
	}
	for i := 0; files() != 0; i++ {
		if i == 100 {
			t.Fatalf("the copy of an unreachable target is still there")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	// Other transports have nothing to close.
	if err := (&image.Target{}).Close(); err != nil {
		t.Errorf("Close of a target with nothing held: %v", err)
	}
}

func uncompressed(t testing.TB, l v1.Layer) []byte {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEngineCancelled: a cancelled export fails with the context's error and leaves
// no temporary file.
func TestEngineCancelled(t *testing.T) {
	f := newEngineFixture(t)
	f.engine.stall = make(chan struct{})
	defer close(f.engine.stall)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for !slices.ContainsFunc(f.engine.requests(), func(p string) bool { return strings.HasSuffix(p, "/get") }) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	_, err := image.Open(ctx, "docker:"+f.tagged, image.WithEngineSocket(f.sock))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Open: %v, want context.Canceled", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("a cancelled Open left %d temporary files", len(left))
	}
}

// TestOpenPodman reads images from a real Podman service that pulled them from a real
// registry: the digest is the registry's manifest digest, the config and the layers
// are those pushed.
func TestOpenPodman(t *testing.T) {
	start := time.Now()
	host := testreg.Start(t)
	pm := testpodman.Start(t)
	t.Logf("registry and podman service up in %v", time.Since(start).Round(time.Millisecond))

	// The index's amd64 image is buildImage's too: make the single one differ, in a
	// config field the batch does not report, so that Podman stores two images.
	single := withStopSignal(t, buildImage(t, spec{arch: "amd64"}))
	idx, amd, arm, _ := buildIndex(t)
	push(t, host+"/app:v1", single)
	push(t, host+"/multi:v1", idx)
	pm.Run(t, "pull", "--quiet", "--tls-verify=false", host+"/app:v1")
	pm.Run(t, "pull", "--quiet", "--tls-verify=false", host+"/multi:v1")
	t.Logf("pushed and pulled by %v", time.Since(start).Round(time.Millisecond))

	sock := image.WithEngineSocket(pm.Socket)
	singleD := digestOf(t, single)
	cfgName, err := single.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	exp := exported(t, saveTarball(t, nil, single))
	tags := []string{host + "/app:v1"}
	repoDigests := []string{host + "/app@" + singleD}
	for _, ref := range []string{"podman:" + host + "/app:v1", "docker:" + host + "/app:v1", "podman:" + cfgName.String(), "podman:" + host + "/app@" + singleD} {
		t.Run(ref, func(t *testing.T) {
			target, err := image.Open(context.Background(), ref, sock)
			if err != nil {
				t.Fatal(err)
			}
			defer target.Close()
			if target.Digest != singleD || target.DigestSource != image.DigestFromEngine {
				t.Errorf("digest %s from %s, want the pushed manifest's %s from the engine", target.Digest, target.DigestSource, singleD)
			}
			check(t, target.Batch(created), want(t, engineCase(target.Ref.String(), singleD, "engine", exp, tags, repoDigests)))
			// The config is byte for byte the one pushed; the layers hold the same files.
			im := target.Images[0]
			gotCfg, err := im.Image.RawConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			wantCfg, err := single.RawConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotCfg, wantCfg) || im.Manifest.Config.Digest != cfgName {
				t.Errorf("config %s differs from the pushed %s", im.Manifest.Config.Digest, cfgName)
			}
			got, err := im.Image.Layers()
			if err != nil {
				t.Fatal(err)
			}
			pushed, err := single.Layers()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(pushed) {
				t.Fatalf("%d layers, want %d", len(got), len(pushed))
			}
			for i := range got {
				if !bytes.Equal(uncompressed(t, got[i]), uncompressed(t, pushed[i])) {
					t.Errorf("layer %d differs from the pushed one", i)
				}
			}
		})
	}

	t.Run("platform image of an index", func(t *testing.T) {
		// Podman pulls the host's platform and records the index digest too.
		img, entryPlat := amd, "linux/amd64"
		if runtime.GOARCH == "arm64" {
			img, entryPlat = arm, "linux/arm64/v8"
		}
		target, err := image.Open(context.Background(), "podman:"+host+"/multi:v1", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer target.Close()
		idxD, imgD := digestOf(t, idx), digestOf(t, img)
		if target.Digest != imgD || target.DigestSource != image.DigestFromEngine {
			t.Errorf("digest %s from %s, want the %s manifest's %s from the engine (the index is %s)", target.Digest, target.DigestSource, entryPlat, imgD, idxD)
		}
		wantRD := []string{host + "/multi@" + idxD, host + "/multi@" + imgD}
		gotRD := slices.Sorted(slices.Values(target.RepoDigests))
		slices.Sort(wantRD)
		if diff := cmp.Diff(wantRD, gotRD); diff != "" {
			t.Errorf("RepoDigests (-want +got):\n%s", diff)
		}
		b := target.Batch(created)
		if _, ok := b.Node(graph.ImageID(imgD)); !ok {
			t.Errorf("no image node for %s", imgD)
		}
	})

	t.Run("not pulled", func(t *testing.T) {
		_, err := image.Open(context.Background(), "podman:"+host+"/app:nope", sock)
		if !errors.Is(err, image.ErrNotFound) || !strings.Contains(err.Error(), "not found in the podman engine at unix://"+pm.Socket) {
			t.Fatalf("Open: %v, want ErrNotFound naming the socket", err)
		}
	})
	t.Logf("done in %v", time.Since(start).Round(time.Millisecond))
}

func withStopSignal(t testing.TB, img v1.Image) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.StopSignal = "SIGQUIT"
	out, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEnginePlatformBeforeExport: an image whose record names another platform than
// WithPlatform is not exported.
func TestEnginePlatformBeforeExport(t *testing.T) {
	f := newEngineFixture(t)
	_, err := image.Open(context.Background(), "docker:"+f.tagged, image.WithEngineSocket(f.sock), image.WithPlatform("linux/arm64"))
	if !errors.Is(err, image.ErrPlatformNotFound) {
		t.Fatalf("Open: %v, want ErrPlatformNotFound", err)
	}
	for _, p := range f.engine.requests() {
		if strings.HasSuffix(p, "/get") {
			t.Errorf("the image was exported: %s", p)
		}
	}
}
