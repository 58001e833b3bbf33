package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/internal/testreg"
	"github.com/tether-sec/tether/store"
)

// TestIndexDigestToPlatform: a pod whose status reports the digest of a
// multi-platform index (as some runtimes do, kubernetes/kubernetes#115199) is
// linked to the index's image for its node's platform.
func TestIndexDigestToPlatform(t *testing.T) {
	reg := testreg.Start(t)
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := mutate.ConfigFile(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON),
			&v1.ConfigFile{Architecture: arch, OS: "linux", RootFS: v1.RootFS{Type: "layers"}})
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: layerOf(t, map[string]string{"app/arch": arch + "\n"}), History: v1.History{CreatedBy: "COPY arch /app/"}}); err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	ref, _ := name.ParseReference(reg + "/acme/api:1")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()
	arm, _ := adds[1].Add.(v1.Image).Digest()

	db := filepath.Join(t.TempDir(), "tether.db")
	scanImage(t, db, ref.String())
	snap := fmt.Sprintf(`{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "graviton-1", "labels": {"kubernetes.io/arch": "arm64", "kubernetes.io/os": "linux"}},
  "status": {"nodeInfo": {"architecture": "arm64", "operatingSystem": "linux"}}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "api-1", "namespace": "default"},
  "spec": {"nodeName": "graviton-1", "containers": [{"name": "api", "image": "%[1]s/acme/api:1"}]},
  "status": {"phase": "Running", "containerStatuses": [{"name": "api", "image": "%[1]s/acme/api:1", "imageID": "%[1]s/acme/api@%[2]s"}]}}
]}`, reg, idxDigest)
	file := filepath.Join(t.TempDir(), "pods.json")
	if err := os.WriteFile(file, []byte(snap), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := run(t, "scan", "k8s", "--snapshot", file, "--cluster", "prod", "--db", db); code != 0 {
		t.Fatalf("scan k8s: exit %d\n%s%s", code, out, stderr)
	}
	edges := edgesOf(t, db, store.EdgeQuery{From: graph.ContainerID("prod", "default", "api-1", "api"), Kind: graph.EdgeRuns})
	got := map[string]graph.ID{}
	for _, e := range edges {
		got[e.Method] = e.To
	}
	if got["index-platform"] != graph.ImageID(arm.String()) || got["k8s-status"] != graph.ImageID(idxDigest.String()) {
		t.Errorf("runs edges %v, want k8s-status to the index digest and index-platform to the arm64 image %s", got, arm)
	}
}
