package cli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/internal/testenv"
	"github.com/tether-sec/tether/internal/testgit"
	"github.com/tether-sec/tether/internal/testreg"
	"github.com/tether-sec/tether/store"
)

// TestBuildahLineage builds an image with buildah itself from a commit of a real
// repository, FROM a base image in a real registry, pushes it there, and checks
// that tether links it with no label to the commits whose trees hold its files
// and to the Dockerfile lines that made it.
func TestBuildahLineage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds with buildah")
	}
	ctx := context.Background()
	buildah := testenv.LookPath(t, "buildah", "apt-get install -y buildah")
	reg := testreg.Start(t)

	// The base image, as a distribution's would be: a root file system, then CMD.
	base, err := mutate.ConfigFile(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), &v1.ConfigFile{
		Architecture: "amd64", OS: "linux", RootFS: v1.RootFS{Type: "layers"}})
	if err != nil {
		t.Fatal(err)
	}
	base, err = mutate.Append(base,
		mutate.Addendum{Layer: layerOf(t, map[string]string{"etc/os-release": osRelease}), History: v1.History{CreatedBy: "/bin/sh -c #(nop) ADD file:5d9a in / "}},
		mutate.Addendum{History: v1.History{CreatedBy: `/bin/sh -c #(nop)  CMD ["bash"]`, EmptyLayer: true}})
	if err != nil {
		t.Fatal(err)
	}
	baseRef, _ := name.ParseReference(reg + "/library/base:1")
	if err := remote.Write(baseRef, base); err != nil {
		t.Fatal(err)
	}

	r := testgit.New(t)
	dockerfile := "FROM " + reg + "/library/base:1\nWORKDIR /app\nCOPY svc/ /app/\nCMD [\"python3\", \"/app/app.py\"]\n"
	r.Commit("v1", map[string]string{"Dockerfile": dockerfile, "svc/app.py": "print('v1')\n", "svc/util.py": "X = 1\n"})
	c2 := r.Commit("v2", map[string]string{"svc/app.py": "print('v2')\n"})
	c3 := r.Commit("docs", map[string]string{"README.md": "# api\n"})
	r.Commit("v3", map[string]string{"svc/app.py": "print('v3')\n"})
	r.Run("checkout", "-q", c2)

	root := t.TempDir()
	bud := func(args ...string) {
		t.Helper()
		cmd := exec.Command(buildah, append([]string{"--storage-driver", "vfs", "--root", filepath.Join(root, "storage"), "--runroot", filepath.Join(root, "run")}, args...)...)
		cmd.Dir = r.Dir
		cmd.Env = append(os.Environ(), "BUILDAH_ISOLATION=chroot")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("buildah %v: %v\n%s", args, err, b)
		}
	}
	image := reg + "/acme/api:2"
	bud("bud", "--isolation", "chroot", "--tls-verify=false", "-q", "-t", image, ".")
	bud("push", "--tls-verify=false", image)
	r.Run("checkout", "-q", "main")

	db := filepath.Join(t.TempDir(), "tether.db")
	scanRepo(t, db, r.Dir)
	for _, ref := range []string{baseRef.String(), image} {
		scanImage(t, db, ref)
	}
	ref, _ := name.ParseReference(image)
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	img := graph.ImageID(desc.Digest.String())
	built, err := st.Edges(ctx, store.EdgeQuery{From: img, Kind: graph.EdgeBuiltFrom})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range built {
		n, _ := st.Node(ctx, e.To)
		got = append(got, e.Method+" "+n.String("sha"))
	}
	slices.Sort(got)
	want := []string{"git-blob-match " + c2, "git-blob-match " + c3}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("built_from %v, want %v", got, want)
	}
	// The base image: by buildah's base annotations and by the layers.
	baseDigest, _ := base.Digest()
	bases, err := st.Edges(ctx, store.EdgeQuery{From: img, Kind: graph.EdgeBaseImage})
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]graph.ID{}
	for _, e := range bases {
		methods[e.Method] = e.To
	}
	if methods["layer-prefix"] != graph.ImageID(baseDigest.String()) || methods["oci-base-annotation"] != graph.ImageID(baseDigest.String()) {
		t.Errorf("base_image edges %+v, want layer-prefix and oci-base-annotation to %s", methods, baseDigest)
	}
	with, err := st.Edges(ctx, store.EdgeQuery{From: img, Kind: graph.EdgeBuiltWith})
	if err != nil {
		t.Fatal(err)
	}
	if len(with) == 0 {
		code, out, _ := run(t, "trace", image, "--db", db)
		t.Errorf("no Dockerfile linked to the buildah image (exit %d):\n%s", code, out)
	}
}
