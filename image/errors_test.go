package image_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/tether-sec/tether/image"
)

// fakeRegistry answers /v2/ and serves body with contentType for every manifest GET,
// or status for everything when status is not 200.
func fakeRegistry(t *testing.T, status int, contentType, body string) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="tether-test"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return
		}
		if status != http.StatusOK {
			w.WriteHeader(status)
			return
		}
		if r.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestOpenErrors(t *testing.T) {
	f := newFixtures(t)
	host := startRegistry(t)
	push(t, host+"/app:v1", f.single)
	push(t, host+"/multi:v1", f.idx)
	closed := closedPort(t)
	unauthorized := fakeRegistry(t, http.StatusUnauthorized, "", "")
	notJSON := fakeRegistry(t, http.StatusOK, "application/vnd.oci.image.manifest.v1+json", "<html>this is not a manifest</html>")
	unknownType := fakeRegistry(t, http.StatusOK, "application/vnd.example.thing+json", `{"schemaVersion":2,"mediaType":"application/vnd.example.thing+json"}`)
	schema1 := fakeRegistry(t, http.StatusOK, "application/vnd.docker.distribution.manifest.v1+prettyjws", `{"schemaVersion":1,"name":"app","tag":"v1"}`)
	broken := fakeRegistry(t, http.StatusNotImplemented, "", "")

	tmp := t.TempDir()
	randomDir := filepath.Join(tmp, "random")
	write(t, filepath.Join(randomDir, "README"), "not a layout")
	badIndex := filepath.Join(tmp, "badindex")
	write(t, filepath.Join(badIndex, "oci-layout"), `{"imageLayoutVersion":"1.0.0"}`)
	write(t, filepath.Join(badIndex, "index.json"), `{"manifests": 7}`)
	emptyLayout := filepath.Join(tmp, "empty")
	if _, err := layout.Write(emptyLayout, empty.Index); err != nil {
		t.Fatal(err)
	}
	// A layout whose blobs are gone, and one whose manifest was altered.
	missingBlobs := copyDir(t, f.layoutDir, filepath.Join(tmp, "missing"))
	if err := os.RemoveAll(filepath.Join(missingBlobs, "blobs")); err != nil {
		t.Fatal(err)
	}
	tampered := copyDir(t, f.layoutDir, filepath.Join(tmp, "tampered"))
	write(t, filepath.Join(tampered, "blobs", "sha256", strings.TrimPrefix(f.singleD, "sha256:")), `{"schemaVersion":2}`)

	archiveBytes, err := os.ReadFile(f.archive)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(tmp, "truncated.tar")
	write(t, truncated, string(archiveBytes[:len(archiveBytes)/2]))
	notTar := filepath.Join(tmp, "garbage.tar")
	write(t, notTar, strings.Repeat("garbage ", 200))

	tests := []struct {
		name string
		ref  string
		opts []image.Option
		want []error
		msg  string // a part of the message
	}{
		{"unreachable registry", closed + "/app:v1", nil, []error{image.ErrUnreachable},
			"cannot reach registry " + closed + ": connection refused; check the reference and that the registry is running"},
		{"unknown tag", host + "/app:nope", nil, []error{image.ErrNotFound}, host + "/app:nope not found in registry " + host + " (404 MANIFEST_UNKNOWN)"},
		{"unknown repository", host + "/nobody:v1", nil, []error{image.ErrNotFound}, "not found"},
		{"unauthorized", unauthorized + "/app:v1", nil, []error{image.ErrUnauthorized}, "docker login " + unauthorized},
		{"manifest not JSON", notJSON + "/app:v1", nil, []error{image.ErrBadManifest}, "is not a JSON object"},
		{"unknown media type", unknownType + "/app:v1", nil, []error{image.ErrBadManifest}, `unknown manifest media type "application/vnd.example.thing+json"`},
		{"schema 1", schema1 + "/app:v1", nil, []error{image.ErrBadManifest}, "schema 1"},
		{"server error", broken + "/app:v1", []image.Option{}, []error{image.ErrRegistry}, "501 Not Implemented; the registry may be misbehaving"},
		{"malformed reference", "UPPER/Case:v1", nil, []error{image.ErrBadReference}, `malformed reference "UPPER/Case:v1"`},
		{"empty reference", "", nil, []error{image.ErrBadReference}, "empty"},
		{"URL", "https://example.com/app", nil, []error{image.ErrBadReference}, "no URL scheme"},
		{"containers-storage", "containers-storage:app:v1", nil, []error{image.ErrBadReference}, "use podman:IMAGE"},
		{"missing layout", "oci:" + filepath.Join(tmp, "nope"), nil, []error{image.ErrNotLayout, fs.ErrNotExist}, "does not exist"},
		{"random dir", "oci:" + randomDir, nil, []error{image.ErrNotLayout, fs.ErrNotExist}, "index.json"},
		{"file as layout", "oci:" + f.archive, nil, []error{image.ErrNotLayout}, "not a directory"},
		{"bad index.json", "oci:" + badIndex, nil, []error{image.ErrNotLayout}, "not an image index"},
		{"empty layout", "oci:" + emptyLayout, nil, []error{image.ErrNotLayout}, "lists no images"},
		{"layout without tag", "oci:" + f.layoutDir, nil, []error{image.ErrAmbiguous}, "holds 2 images (multi (" + f.idxD + "), v1 (" + f.singleD + "))"},
		{"layout unknown tag", "oci:" + f.layoutDir + ":v9", nil, []error{image.ErrNotFound}, "it holds multi"},
		{"layout unknown digest", "oci:" + f.layoutDir + "@sha256:" + strings.Repeat("0", 64), nil, []error{image.ErrNotFound}, "not found"},
		{"layout blobs missing", "oci:" + missingBlobs + ":v1", nil, []error{image.ErrNotLayout, fs.ErrNotExist}, "missing"},
		{"layout tampered manifest", "oci:" + tampered + ":v1", nil, []error{image.ErrBadManifest}, "not to its digest"},
		{"missing archive", "docker-archive:" + filepath.Join(tmp, "nope.tar"), nil, []error{image.ErrNotArchive, fs.ErrNotExist}, "does not exist"},
		{"archive is a dir", "docker-archive:" + tmp, nil, []error{image.ErrNotArchive}, "directory"},
		{"not a tarball", "docker-archive:" + notTar, nil, []error{image.ErrNotArchive}, "manifest.json"},
		{"truncated tarball", "docker-archive:" + truncated, nil, []error{image.ErrNotArchive}, "not a docker-archive"},
		{"archive unknown tag", "docker-archive:" + f.archive + ":127.0.0.1:5000/app:v2", nil, []error{image.ErrNotFound}, "it holds 127.0.0.1:5000/app:v1"},
		{"platform not in index", host + "/multi:v1", []image.Option{image.WithPlatform("linux/s390x")}, []error{image.ErrPlatformNotFound},
			"has no linux/s390x image (it has: linux/amd64, linux/arm64/v8)"},
		{"platform not in layout index", "oci:" + f.layoutDir + ":multi", []image.Option{image.WithPlatform("windows/amd64")}, []error{image.ErrPlatformNotFound}, "windows/amd64"},
		{"platform of a single image", host + "/app:v1", []image.Option{image.WithPlatform("linux/arm64")}, []error{image.ErrPlatformNotFound}, "(it has: linux/amd64)"},
		{"bad platform option", host + "/app:v1", []image.Option{image.WithPlatform("linux")}, []error{image.ErrBadOption}, "os and architecture are required"},
		{"conflicting platforms", host + "/app:v1", []image.Option{image.WithPlatform("linux/amd64"), image.WithPlatform("linux/arm64")}, []error{image.ErrBadOption}, "conflicts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			target, err := image.Open(ctx, tt.ref, tt.opts...)
			if err == nil {
				t.Fatalf("Open(%q) = %+v, want an error", tt.ref, target)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("Open(%q) error %q does not match %v", tt.ref, err, w)
				}
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Open(%q) error %q does not say %q", tt.ref, err, tt.msg)
			}
			t.Logf("%s", err)
			if !strings.HasPrefix(err.Error(), "image: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestOpenCancelled(t *testing.T) {
	host := startRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := image.Open(ctx, host+"/app:v1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestRegistryErrorDetail(t *testing.T) {
	host := startRegistry(t)
	push(t, host+"/app:v1", buildImage(t, spec{arch: "amd64"}))
	_, err := image.Open(context.Background(), host+"/app:nope")
	var re *image.RegistryError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a *RegistryError", err)
	}
	if re.StatusCode != http.StatusNotFound || re.Code != "MANIFEST_UNKNOWN" || re.Registry != host || re.Temporary {
		t.Errorf("RegistryError = %+v, want status 404, code MANIFEST_UNKNOWN, registry %s, not temporary", re, host)
	}
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) string {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	return to
}

// TestRegistryTemporary: a registry that keeps failing with 503 is retried by
// go-containerregistry (about 4 s), then reported as temporary.
func TestRegistryTemporary(t *testing.T) {
	t.Parallel()
	host := fakeRegistry(t, http.StatusServiceUnavailable, "", "")
	_, err := image.Open(context.Background(), host+"/app:v1")
	var re *image.RegistryError
	if !errors.As(err, &re) || !errors.Is(err, image.ErrRegistry) {
		t.Fatalf("error %v is not a registry error", err)
	}
	if !re.Temporary || !strings.Contains(err.Error(), "retrying later may help") {
		t.Errorf("error %q: Temporary = %v, want true and advice to retry", err, re.Temporary)
	}
}
