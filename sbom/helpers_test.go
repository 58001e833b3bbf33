package sbom_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/sbom"
)

var created = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// secret is an environment value of the test image; it must not reach an SBOM.
const secret = "s3cr3t-hunter2-token"

func fixedNow() time.Time { return created }

// entry is one tar entry of a test layer.
type entry struct {
	name     string
	body     string
	typ      byte   // tar.TypeReg when 0
	linkname string // symlinks and hard links
	exec     bool   // mode 0755
}

func reg(name, body string) entry { return entry{name: name, body: body} }

// executable is a regular file with mode 0755.
func executable(name, body string) entry { return entry{name: name, body: body, exec: true} }

func symlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeSymlink, linkname: target}
}

// tarLayer builds a layer from entries, in the order given.
func tarLayer(t testing.TB, entries ...entry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, ModTime: created, Typeflag: e.typ, Linkname: e.linkname}
		if e.typ == 0 {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		}
		if e.typ == tar.TypeDir || e.exec {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
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

// layerStep is one history entry of a test image; Layer is nil for an empty one.
type layerStep struct {
	Layer     v1.Layer
	CreatedBy string
}

// buildImage makes an OCI image from steps, with an environment holding secret.
func buildImage(t testing.TB, steps ...layerStep) v1.Image {
	t.Helper()
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.ConfigFile(base, &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Created:      v1.Time{Time: created},
		Config:       v1.Config{Env: []string{"PATH=/usr/bin", "API_TOKEN=" + secret}},
		RootFS:       v1.RootFS{Type: "layers"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:   s.Layer,
			History: v1.History{Created: v1.Time{Time: created}, CreatedBy: s.CreatedBy, EmptyLayer: s.Layer == nil},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// buildGoBinary builds a tiny program that imports go-cmp into dir/bin/app, from the
// local module cache only.
func buildGoBinary(t testing.TB, dir string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	src := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/fixture/tool\n\ngo 1.22\n\nrequire github.com/google/go-cmp v0.7.0\n",
		"go.sum": "github.com/google/go-cmp v0.7.0 h1:wk8382ETsv4JYUZwIsn6YpYiWiBsYLSJiTsyBybVuN8=\n" +
			"github.com/google/go-cmp v0.7.0/go.mod h1:pXiqmnSA92OHEEa9HXL2W4E7lf9JzCmGVUdgjX3N/iU=\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/google/go-cmp/cmp\"\n)\n\nfunc main() { fmt.Println(cmp.Diff(1, 2)) }\n",
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(src, n), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "bin", "app")
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build the Go fixture offline (module cache lacks go-cmp v0.7.0?): %v\n%s", err, b)
	}
}

// purlsOfType returns the sorted purls of the packages of type typ.
func purlsOfType(s *sbom.SBOM, typ string) []string {
	var out []string
	for _, p := range s.Packages {
		if p.Type == typ {
			out = append(out, p.PURL)
		}
	}
	slices.Sort(out)
	return out
}

func byPURL(s *sbom.SBOM, purl string) (sbom.Package, bool) {
	for _, p := range s.Packages {
		if p.PURL == purl {
			return p, true
		}
	}
	return sbom.Package{}, false
}

func byName(s *sbom.SBOM, name string) (sbom.Package, bool) {
	for _, p := range s.Packages {
		if p.Name == name {
			return p, true
		}
	}
	return sbom.Package{}, false
}

// writeTree writes files (slash-separated path → content) under a new directory.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
