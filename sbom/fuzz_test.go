package sbom_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/sbom"
)

// FuzzLayer feeds arbitrary bytes to the catalog as an image layer's tar stream:
// it must return packages or an error, never panic, hang or leave files behind.
func FuzzLayer(f *testing.F) {
	seed := func(entries ...entry) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, e := range entries {
			h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typ, Linkname: e.linkname}
			if e.typ == 0 {
				h.Typeflag = tar.TypeReg
				h.Size = int64(len(e.body))
			}
			tw.WriteHeader(h)
			io.WriteString(tw, e.body)
		}
		tw.Close()
		return buf.Bytes()
	}
	f.Add(seed(reg("var/lib/dpkg/status", "Package: a\nStatus: install ok installed\nVersion: 1\n"), reg("app/package-lock.json", npmLock)))
	f.Add(seed(reg("app/.wh..wh..opq", ""), reg("app/.wh.x", ""), reg("../../x", "y"), symlink("etc/os-release", "../usr/lib/os-release")))
	f.Add(seed(reg("a/requirements.txt", "flask==3.0.3\n"), entry{name: "b/requirements.txt", typ: tar.TypeLink, linkname: "a/requirements.txt"}))
	f.Add([]byte("not a tar"))
	scratch := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}, tarball.WithMediaType(types.OCIUncompressedLayer))
		if err != nil {
			return
		}
		img := buildImage(t, layerStep{Layer: l, CreatedBy: "ADD fuzz.tar /"})
		t.Setenv("TMPDIR", scratch)
		_, _ = sbom.CatalogImage(context.Background(), img, sbom.Subject{Name: "fuzz"}, sbom.Options{MaxLayerBytes: 8 << 20, MaxLayerEntries: 10000})
		if left, _ := os.ReadDir(scratch); len(left) != 0 {
			t.Fatalf("scratch files left behind: %d", len(left))
		}
	})
}
