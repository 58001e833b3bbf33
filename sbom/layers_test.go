package sbom_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/sbom"
)

// memCache is a LayerCache in memory that counts its use.
type memCache struct {
	mu         sync.Mutex
	docs       map[string][]byte
	gets, hits int
	puts       int
}

func newMemCache() *memCache { return &memCache{docs: map[string][]byte{}} }

func (c *memCache) Document(_ context.Context, kind, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	b, ok := c.docs[kind+"\x00"+key]
	if !ok {
		return nil, errors.New("not found")
	}
	c.hits++
	return b, nil
}

func (c *memCache) PutDocument(_ context.Context, kind, key string, v []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts++
	c.docs[kind+"\x00"+key] = v
	return nil
}

// countedLayer counts how often a layer's content is read.
type countedLayer struct {
	v1.Layer
	reads *int
}

func (l countedLayer) Uncompressed() (io.ReadCloser, error) {
	*l.reads++
	return l.Layer.Uncompressed()
}

func TestCatalogImageCache(t *testing.T) {
	status := readFile(t, "testdata/tree/var/lib/dpkg/status")
	osRelease := readFile(t, "testdata/tree/etc/os-release")
	var baseReads, aReads, bReads int
	base := countedLayer{tarLayer(t, reg("etc/os-release", osRelease), reg("var/lib/dpkg/status", status)), &baseReads}
	baseSteps := []layerStep{{Layer: base, CreatedBy: "ADD rootfs.tar /"}, {CreatedBy: `CMD ["bash"]`}}
	imgA := buildImage(t, append(baseSteps, layerStep{Layer: countedLayer{tarLayer(t, reg("app/package-lock.json", npmLock)), &aReads}, CreatedBy: "COPY package-lock.json /app/"})...)
	imgB := buildImage(t, append(baseSteps, layerStep{Layer: countedLayer{tarLayer(t, reg("srv/requirements.txt", "flask==3.0.3\nrequests==2.32.3\n")), &bReads}, CreatedBy: "COPY requirements.txt /srv/"})...)

	ctx := context.Background()
	uncachedB, err := sbom.CatalogImage(ctx, imgB, sbom.Subject{Name: "b"}, sbom.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	baseReads, bReads = 0, 0

	cache := newMemCache()
	opts := sbom.Options{Now: fixedNow, Cache: cache}
	if _, err := sbom.CatalogImage(ctx, imgA, sbom.Subject{Name: "a"}, opts); err != nil {
		t.Fatal(err)
	}
	if baseReads != 1 || aReads != 1 || cache.puts != 2 {
		t.Fatalf("first image: base read %d times, app %d, %d results cached; want 1, 1, 2", baseReads, aReads, cache.puts)
	}
	cachedB, err := sbom.CatalogImage(ctx, imgB, sbom.Subject{Name: "b"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if baseReads != 1 || bReads != 1 {
		t.Errorf("second image: shared base layer read %d times in all, its own layer %d; want the base read only by the first image", baseReads, bReads)
	}
	if diff := cmp.Diff(uncachedB, cachedB); diff != "" {
		t.Errorf("the cached catalog differs from a full one (-full +cached):\n%s", diff)
	}
	if got := purlsOfType(cachedB, "pypi"); !cmp.Equal(got, []string{"pkg:pypi/flask@3.0.3", "pkg:pypi/requests@2.32.3"}) {
		t.Errorf("pypi purls = %v", got)
	}

	// The same image again reads nothing.
	aReads, baseReads = 0, 0
	if _, err := sbom.CatalogImage(ctx, imgA, sbom.Subject{Name: "a"}, opts); err != nil {
		t.Fatal(err)
	}
	if aReads+baseReads != 0 {
		t.Errorf("a cataloged image read %d layers again", aReads+baseReads)
	}

	// A corrupt cache entry is ignored and rewritten.
	for k := range cache.docs {
		cache.docs[k] = []byte("not gzip")
	}
	aReads, baseReads = 0, 0
	again, err := sbom.CatalogImage(ctx, imgA, sbom.Subject{Name: "a"}, opts)
	if err != nil {
		t.Fatalf("corrupt cache: %v", err)
	}
	if aReads != 1 || baseReads != 1 || len(again.Packages) == 0 {
		t.Errorf("corrupt cache: read base %d, app %d, %d packages; want a full scan", baseReads, aReads, len(again.Packages))
	}
}

// TestCatalogImageGoSymbols checks that a Go binary's function table survives
// the layer scan (whose files are gone afterwards) and the layer cache, and goes
// with the binary when a later layer deletes it.
func TestCatalogImageGoSymbols(t *testing.T) {
	dir := t.TempDir()
	buildGoBinary(t, dir)
	bin := readFile(t, filepath.Join(dir, "bin", "app"))
	binLayer := tarLayer(t, executable("usr/local/bin/app", bin))
	img := buildImage(t, layerStep{Layer: binLayer, CreatedBy: "COPY app /usr/local/bin/app"})

	ctx := context.Background()
	cache := newMemCache()
	opts := sbom.Options{Now: fixedNow, Cache: cache}
	first, err := sbom.CatalogImage(ctx, img, sbom.Subject{Name: "app"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkGoSymbols(t, first, "usr/local/bin/app")
	cached, err := sbom.CatalogImage(ctx, img, sbom.Subject{Name: "app"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkGoSymbols(t, cached, "usr/local/bin/app")

	deleted := buildImage(t,
		layerStep{Layer: binLayer, CreatedBy: "COPY app /usr/local/bin/app"},
		layerStep{Layer: tarLayer(t, reg("usr/local/bin/.wh.app", "")), CreatedBy: "RUN rm /usr/local/bin/app"})
	s, err := sbom.CatalogImage(ctx, deleted, sbom.Subject{Name: "deleted"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := purlsOfType(s, "golang"); len(got) != 0 {
		t.Errorf("deleted binary still has packages %v", got)
	}
}

// TestCatalogImageLayerOrder checks what later layers do to earlier packages:
// whiteouts and opaque directories remove them, a rewritten package database keeps
// each unchanged package in the layer that introduced it.
func TestCatalogImageLayerOrder(t *testing.T) {
	status := readFile(t, "testdata/tree/var/lib/dpkg/status")
	extra := "Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u8\n\n"
	img := buildImage(t,
		layerStep{Layer: tarLayer(t,
			reg("var/lib/dpkg/status", status),
			reg("app/package-lock.json", npmLock),
			reg("opt/site/requirements.txt", "django==5.0.6\n"),
			reg("keep/Gemfile.lock", "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (3.1.7)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  rack\n"),
		), CreatedBy: "ADD rootfs.tar /"},
		layerStep{Layer: tarLayer(t,
			reg("var/lib/dpkg/status", extra+status),
			reg("app/.wh.package-lock.json", ""),
			reg("opt/site/.wh..wh..opq", ""),
			reg("opt/site/other.txt", "x"),
		), CreatedBy: "RUN apt-get install -y curl && rm /app/package-lock.json"},
	)
	s, err := sbom.CatalogImage(context.Background(), img, sbom.Subject{}, sbom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	layerOf := map[string]int{}
	for _, p := range s.Packages {
		layerOf[p.Type+"/"+p.Name] = p.Locations[0].LayerIndex
	}
	want := map[string]int{"deb/curl": 1, "deb/bash": 0, "deb/zlib1g": 0, "gem/rack": 0}
	for k, l := range want {
		if got, ok := layerOf[k]; !ok || got != l {
			t.Errorf("%s in layer %d (present %v), want layer %d", k, got, ok, l)
		}
	}
	for _, gone := range []string{"npm/lodash", "pypi/django"} {
		if _, ok := layerOf[gone]; ok {
			t.Errorf("%s survives its file's deletion by a later layer", gone)
		}
	}
}

// bombLayer is a gzip-compressed layer whose one file holds size zero bytes: a few
// hundred kilobytes that inflate to size.
func bombLayer(t *testing.T, name string, size int64) v1.Layer {
	t.Helper()
	open := func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			zw := gzip.NewWriter(pw)
			tw := tar.NewWriter(zw)
			err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg})
			if err == nil {
				_, err = io.CopyN(tw, zeros{}, size)
			}
			if err == nil {
				err = tw.Close()
			}
			if err == nil {
				err = zw.Close()
			}
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
	l, err := tarball.LayerFromOpener(open, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestCatalogImageLimits(t *testing.T) {
	ctx := context.Background()
	t.Run("decompression bomb", func(t *testing.T) {
		img := buildImage(t, layerStep{Layer: bombLayer(t, "var/lib/dpkg/status", 64<<20), CreatedBy: "ADD bomb.tar /"})
		_, err := sbom.CatalogImage(ctx, img, sbom.Subject{Name: "bomb"}, sbom.Options{MaxLayerBytes: 4 << 20})
		if !errors.Is(err, sbom.ErrLayerTooLarge) || !errors.Is(err, sbom.ErrImage) {
			t.Errorf("err = %v, want ErrLayerTooLarge and ErrImage", err)
		}
	})
	t.Run("too many entries", func(t *testing.T) {
		var es []entry
		for i := range 3000 {
			es = append(es, reg(fmt.Sprintf("many/f%05d", i), "x"))
		}
		img := buildImage(t, layerStep{Layer: tarLayer(t, es...), CreatedBy: "ADD many.tar /"})
		_, err := sbom.CatalogImage(ctx, img, sbom.Subject{Name: "many"}, sbom.Options{MaxLayerEntries: 1000})
		if !errors.Is(err, sbom.ErrLayerTooLarge) {
			t.Errorf("err = %v, want ErrLayerTooLarge", err)
		}
		if _, err := sbom.CatalogImage(ctx, img, sbom.Subject{Name: "many"}, sbom.Options{}); err != nil {
			t.Errorf("3000 small files under the default limits: %v", err)
		}
	})
	t.Run("file too large", func(t *testing.T) {
		img := buildImage(t, layerStep{Layer: tarLayer(t,
			reg("app/package-lock.json", npmLock),
			reg("srv/requirements.txt", "flask==3.0.3\n"+strings.Repeat("# padding\n", 500)),
		), CreatedBy: "COPY . /"})
		s, err := sbom.CatalogImage(ctx, img, sbom.Subject{}, sbom.Options{MaxFileSize: 2048})
		if err != nil {
			t.Fatal(err)
		}
		if got := purlsOfType(s, "npm"); len(got) != 1 {
			t.Errorf("npm purls = %v, want lodash from the small lockfile", got)
		}
		if got := purlsOfType(s, "pypi"); len(got) != 0 {
			t.Errorf("pypi purls = %v from a file over the limit", got)
		}
		found := false
		for _, p := range s.Problems {
			if p.Path == "srv/requirements.txt" && strings.Contains(p.Message, "larger than") && p.Layer != "" {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem names the skipped file: %+v", s.Problems)
		}
	})
	t.Run("file over a directory", func(t *testing.T) {
		img := buildImage(t, layerStep{Layer: tarLayer(t,
			reg("app", "a file where a directory will be"),
			reg("app/package-lock.json", npmLock),
			reg("srv/requirements.txt", "flask==3.0.3\n"),
		), CreatedBy: "COPY . /"})
		s, err := sbom.CatalogImage(ctx, img, sbom.Subject{}, sbom.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := purlsOfType(s, "pypi"); len(got) != 1 {
			t.Errorf("pypi purls = %v next to a conflicting entry", got)
		}
	})
}
