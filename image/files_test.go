package image_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tether-sec/tether/image"
)

type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func tarBytes(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typ, Linkname: e.link}
		if e.mode != 0 {
			h.Mode = e.mode
		}
		if e.typ == 0 {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	tw.Close()
	return buf.Bytes()
}

func imageOf(t testing.TB, layers ...[]byte) v1.Image {
	t.Helper()
	img := empty.Image
	for _, data := range layers {
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func gitBlob(s string) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00%s", len(s), s)
	return hex.EncodeToString(h.Sum(nil))
}

// TestLayerFiles checks the file view across layers (replacement, whiteouts,
// opaque directories, hostile names) and the git blob hashes, against hashes
// computed here the way git does (`git hash-object` gives the same: the empty
// file is e69de29bb2d1d6434b8b29ae775ad8c2e48c5391).
func TestLayerFiles(t *testing.T) {
	if got := gitBlob(""); got != "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391" {
		t.Fatalf("test helper: empty blob %s", got)
	}
	img := imageOf(t,
		tarBytes(t,
			tarEntry{name: "app/main.py", body: "print(1)\n"},
			tarEntry{name: "app/old.py", body: "old\n"},
			tarEntry{name: "app/cache/x", body: "x\n"},
			tarEntry{name: "etc/conf", body: "a=1\n"},
			tarEntry{name: "../../escape", body: "nope\n"},
			tarEntry{name: "/abs/file", body: "abs\n"},
			tarEntry{name: "app/link", typ: tar.TypeSymlink, link: "/etc/passwd"},
		),
		tarBytes(t,
			tarEntry{name: "app/main.py", body: "print(2)\n"},
			tarEntry{name: "app/.wh.old.py"},
			tarEntry{name: "app/cache/.wh..wh..opq"},
			tarEntry{name: "app/cache/y", body: "y\n"},
		),
	)
	files, err := image.LayerFiles(context.Background(), img, image.FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.Path] = fmt.Sprintf("%s@%d", f.Blob, f.Layer)
	}
	want := map[string]string{
		"app/main.py": gitBlob("print(2)\n") + "@1",
		"app/cache/y": gitBlob("y\n") + "@1",
		"etc/conf":    gitBlob("a=1\n") + "@0",
		"escape":      gitBlob("nope\n") + "@0", // "../../escape" stays under the root
		"abs/file":    gitBlob("abs\n") + "@0",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("files:\n got %v\nwant %v", got, want)
	}

	// From layer 1 on: only what that layer wrote.
	files, err = image.LayerFiles(context.Background(), img, image.FilesOptions{FromLayer: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Errorf("from layer 1: %+v", files)
	}

	// A bomb: more bytes than the limit.
	big := imageOf(t, tarBytes(t, tarEntry{name: "zeros", body: strings.Repeat("\x00", 1<<20)}))
	if _, err := image.LayerFiles(context.Background(), big, image.FilesOptions{MaxLayerBytes: 64 << 10}); !errors.Is(err, image.ErrLayerTooLarge) {
		t.Errorf("over the byte limit: %v", err)
	}
	many := imageOf(t, tarBytes(t, tarEntry{name: "a", body: "1"}, tarEntry{name: "b", body: "2"}, tarEntry{name: "c", body: "3"}))
	if _, err := image.LayerFiles(context.Background(), many, image.FilesOptions{MaxLayerEntries: 2}); !errors.Is(err, image.ErrLayerTooLarge) {
		t.Errorf("over the entry limit: %v", err)
	}
}

func TestLayerFilesBuildRecords(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef01234567"
	var jar bytes.Buffer
	zw := zip.NewWriter(&jar)
	w, _ := zw.Create("BOOT-INF/classes/git.properties")
	io.WriteString(w, "git.remote.origin.url=https\\://github.com/acme/api.git\ngit.commit.id.full="+sha+"\ngit.dirty=true\n")
	zw.Close()
	img := imageOf(t, tarBytes(t,
		tarEntry{name: "app/app.jar", body: jar.String()},
		tarEntry{name: "web/package.json", body: `{"name": "web", "gitHead": "` + sha + `", "repository": {"type": "git", "url": "git+https://github.com/acme/web.git"}}`},
		tarEntry{name: "web/node_modules/dep/package.json", body: `{"name": "dep", "gitHead": "` + sha + `"}`},
		tarEntry{name: "srv/git.properties", body: "git.commit.id=" + sha + "\n"},
		tarEntry{name: "bin/script", body: "#!/bin/sh\necho hi\n", mode: 0o755},
		tarEntry{name: "lib/bundle.jar", body: jarWith(t, "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nBundle-SymbolicName: com.acme.bundle\r\nBundle-SCM: url=https://github.com/acme/bundle,tag=0123456789abcdef0123456789abcdef0\r\n 1234567\r\n")},
		tarEntry{name: "lib/plain.jar", body: jarWith(t, "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nSCM-Revision: r1234\n")},
	))
	files, err := image.LayerFiles(context.Background(), img, image.FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		if f.Build != nil {
			got[f.Path] = fmt.Sprintf("%s %s %s %v", f.Build.Kind, f.Build.Repo, f.Build.Revision[:7], f.Build.Modified)
		}
	}
	want := map[string]string{
		"app/app.jar":        "git.properties https://github.com/acme/api.git 0123456 true",
		"web/package.json":   "package.json https://github.com/acme/web.git 0123456 false",
		"srv/git.properties": "git.properties  0123456 false",
		"lib/bundle.jar":     "manifest https://github.com/acme/bundle 0123456 false",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("build records:\n got %v\nwant %v", got, want)
	}
}

// FuzzLayerFiles reads arbitrary bytes as a layer: no panic, a clear error or
// files whose paths stay under the root.
func FuzzLayerFiles(f *testing.F) {
	f.Add(tarBytes(f, tarEntry{name: "app/main.py", body: "print(1)\n"}, tarEntry{name: "app/.wh.x"}))
	f.Add(tarBytes(f, tarEntry{name: "../x/git.properties", body: "git.commit.id=abc\n"}, tarEntry{name: "package.json", body: `{"gitHead": "x"}`}))
	f.Add(tarBytes(f, tarEntry{name: "bin/app", body: "\x7fELF\x02\x01\x01", mode: 0o755}, tarEntry{name: "a.jar", body: "PK\x03\x04"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		img := imageOf(t, data)
		files, err := image.LayerFiles(context.Background(), img, image.FilesOptions{MaxLayerBytes: 1 << 20, MaxLayerEntries: 1000})
		if err != nil {
			return
		}
		for _, fb := range files {
			if fb.Path == "" || strings.HasPrefix(fb.Path, "/") || fb.Path == ".." || strings.HasPrefix(fb.Path, "../") || strings.Contains(fb.Path, "/../") {
				t.Fatalf("path %q escapes the root", fb.Path)
			}
		}
	})
}

func jarWith(t *testing.T, name, body string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, body)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
