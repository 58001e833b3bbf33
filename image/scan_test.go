package image_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/image"
	"github.com/tether-sec/tether/internal/testreg"
)

// fixtures are the test images, written to every kind of store.
type fixtures struct {
	single              v1.Image
	idx                 v1.ImageIndex
	amd, arm, att       v1.Image
	singleD, idxD       string
	amdD, armD, attD    string
	skipped             []image.SkippedManifest
	layoutDir           string
	archive, archiveTag string
}

func newFixtures(t *testing.T) *fixtures {
	t.Helper()
	f := &fixtures{single: buildImage(t, spec{arch: "amd64"})}
	f.idx, f.amd, f.arm, f.att = buildIndex(t)
	f.singleD, f.idxD = digestOf(t, f.single), digestOf(t, f.idx)
	f.amdD, f.armD, f.attD = digestOf(t, f.amd), digestOf(t, f.arm), digestOf(t, f.att)
	f.skipped = []image.SkippedManifest{{
		Digest: f.attD, MediaType: string(types.OCIManifestSchema1), Platform: "unknown/unknown",
		Reason: "attestation manifest", Refers: f.amdD,
	}}

	f.layoutDir = filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(f.layoutDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(f.single, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(f.idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "multi"})); err != nil {
		t.Fatal(err)
	}

	f.archive = filepath.Join(t.TempDir(), "app.tar")
	f.archiveTag = "127.0.0.1:5000/app:v1"
	tag, err := name.NewTag(f.archiveTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(f.archive, tag, f.single); err != nil {
		t.Fatal(err)
	}
	return f
}

// registryCases are the expectations for a registry at host holding app:v1 (the single
// image) and multi:v1 (the index).
func (f *fixtures) registryCases(host string) map[string]expectation {
	indexImages := func(repo string) []wantImage {
		return []wantImage{
			{img: f.amd, reference: repo + "@" + f.amdD, platform: "linux/amd64", entryPlat: "linux/amd64", position: 0},
			{img: f.arm, reference: repo + "@" + f.armD, platform: "linux/arm64/v8", entryPlat: "linux/arm64/v8", position: 1},
		}
	}
	multi := host + "/multi"
	return map[string]expectation{
		host + "/app:v1": {
			target: host + "/app:v1", method: "registry", digestSource: "registry",
			images: []wantImage{{img: f.single, reference: host + "/app:v1", platform: "linux/amd64"}},
		},
		"docker://" + host + "/app@" + f.singleD: {
			target: host + "/app@" + f.singleD, method: "registry", digestSource: "registry",
			images: []wantImage{{img: f.single, reference: host + "/app@" + f.singleD, platform: "linux/amd64"}},
		},
		multi + ":v1": {
			target: multi + ":v1", method: "registry", digestSource: "registry",
			index:  &wantIndex{digest: f.idxD, mediaType: string(types.OCIImageIndex), skipped: f.skipped},
			images: indexImages(multi),
		},
	}
}

func runCases(t *testing.T, cases map[string]expectation, opts ...image.Option) {
	t.Helper()
	for ref, e := range cases {
		t.Run(ref, func(t *testing.T) {
			got, err := image.Scan(context.Background(), ref, opts...)
			if err != nil {
				t.Fatalf("Scan(%q): %v", ref, err)
			}
			check(t, got, want(t, e))
		})
	}
}

// check compares a batch with the expected one and checks it is valid and leaks no
// secret.
func check(t *testing.T, got, want *graph.Batch) {
	t.Helper()
	if diff := cmp.Diff(want, got, batchOpts); diff != "" {
		t.Errorf("batch mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secret) {
		t.Errorf("the batch holds the secret environment value:\n%s", raw)
	}
}

func TestScanInProcessRegistry(t *testing.T) {
	f := newFixtures(t)
	host := startRegistry(t)
	push(t, host+"/app:v1", f.single)
	push(t, host+"/multi:v1", f.idx)
	runCases(t, f.registryCases(host))
}

func TestScanDockerRegistry(t *testing.T) {
	host := testreg.Start(t)
	f := newFixtures(t)
	push(t, host+"/app:v1", f.single)
	push(t, host+"/multi:v1", f.idx)
	runCases(t, f.registryCases(host))
}

func TestScanOCILayout(t *testing.T) {
	f := newFixtures(t)
	dir := f.layoutDir
	runCases(t, map[string]expectation{
		"oci:" + dir + ":v1": {
			target: "oci:" + dir + ":v1", method: "oci-layout", digestSource: "oci-layout",
			images: []wantImage{{img: f.single, reference: "oci:" + dir + ":v1", platform: "linux/amd64", tags: []string{"v1"}}},
		},
		"oci:" + dir + ":multi": {
			target: "oci:" + dir + ":multi", method: "oci-layout", digestSource: "oci-layout",
			index: &wantIndex{digest: f.idxD, mediaType: string(types.OCIImageIndex), tags: []string{"multi"}, skipped: f.skipped},
			images: []wantImage{
				{img: f.amd, reference: "oci:" + dir + "@" + f.amdD, platform: "linux/amd64", entryPlat: "linux/amd64", position: 0},
				{img: f.arm, reference: "oci:" + dir + "@" + f.armD, platform: "linux/arm64/v8", entryPlat: "linux/arm64/v8", position: 1},
			},
		},
		// A digest inside the nested index names that platform image alone.
		"oci-dir:" + dir + "@" + f.armD: {
			target: "oci:" + dir + "@" + f.armD, method: "oci-layout", digestSource: "oci-layout",
			images: []wantImage{{img: f.arm, reference: "oci:" + dir + "@" + f.armD, platform: "linux/arm64/v8"}},
		},
	})

	// A layout with one entry needs no tag; a relative path is made absolute.
	one := filepath.Join(t.TempDir(), "one")
	if _, err := layout.Write(one, empty.Index); err != nil {
		t.Fatal(err)
	}
	if err := layout.Path(one).AppendIndex(f.idx); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(one))
	runCases(t, map[string]expectation{
		"oci:one": {
			target: "oci:" + one, method: "oci-layout", digestSource: "oci-layout",
			index: &wantIndex{digest: f.idxD, mediaType: string(types.OCIImageIndex), skipped: f.skipped},
			images: []wantImage{
				{img: f.amd, reference: "oci:" + one + "@" + f.amdD, platform: "linux/amd64", entryPlat: "linux/amd64", position: 0},
				{img: f.arm, reference: "oci:" + one + "@" + f.armD, platform: "linux/arm64/v8", entryPlat: "linux/arm64/v8", position: 1},
			},
		},
	})
}

func TestScanDockerArchive(t *testing.T) {
	f := newFixtures(t)
	computed, err := tarball.ImageFromPath(f.archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := digestOf(t, computed)
	img := func(ref string) []wantImage {
		return []wantImage{{img: f.single, digest: d, mediaType: string(types.DockerManifestSchema2), reference: ref, platform: "linux/amd64", tags: []string{f.archiveTag}}}
	}
	plain := "docker-archive:" + f.archive
	tagged := plain + ":" + f.archiveTag
	runCases(t, map[string]expectation{
		plain:  {target: plain, method: "docker-archive", digestSource: "computed", layerMediaType: string(types.DockerLayer), images: img(plain)},
		tagged: {target: tagged, method: "docker-archive", digestSource: "computed", layerMediaType: string(types.DockerLayer), images: img(tagged)},
	})
}

func TestScanPlatform(t *testing.T) {
	f := newFixtures(t)
	host := startRegistry(t)
	push(t, host+"/multi:v1", f.idx)
	push(t, host+"/app:v1", f.single)
	multi := host + "/multi"
	for _, platform := range []string{"linux/arm64", "linux/arm64/v8"} {
		t.Run(platform, func(t *testing.T) {
			got, err := image.Scan(context.Background(), multi+":v1", image.WithPlatform(platform))
			if err != nil {
				t.Fatal(err)
			}
			check(t, got, want(t, expectation{
				target: multi + ":v1", method: "registry", digestSource: "registry",
				index:  &wantIndex{digest: f.idxD, mediaType: string(types.OCIImageIndex), skipped: f.skipped},
				images: []wantImage{{img: f.arm, reference: multi + "@" + f.armD, platform: "linux/arm64/v8", entryPlat: "linux/arm64/v8", position: 1}},
			}))
		})
	}
	t.Run("single image of that platform", func(t *testing.T) {
		got, err := image.Scan(context.Background(), host+"/app:v1", image.WithPlatform("linux/amd64"))
		if err != nil {
			t.Fatal(err)
		}
		check(t, got, want(t, f.registryCases(host)[host+"/app:v1"]))
	})
}

// TestScanDeterministic scans each kind of store twice: the batches must be identical
// apart from their observation time, down to their JSON.
func TestScanDeterministic(t *testing.T) {
	f := newFixtures(t)
	host := startRegistry(t)
	push(t, host+"/multi:v1", f.idx)
	for _, ref := range []string{host + "/multi:v1", "oci:" + f.layoutDir + ":multi", "docker-archive:" + f.archive} {
		t.Run(ref, func(t *testing.T) {
			var out [2][]byte
			for i := range out {
				b, err := image.Scan(context.Background(), ref)
				if err != nil {
					t.Fatal(err)
				}
				b.ObservedAt = time.Time{}
				if out[i], err = json.MarshalIndent(b, "", "  "); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(string(out[0]), string(out[1])); diff != "" {
				t.Errorf("two scans differ (-first +second):\n%s", diff)
			}
		})
	}
}

// TestImageAttrKeys pins the attribute keys other parts of tether query.
func TestImageAttrKeys(t *testing.T) {
	f := newFixtures(t)
	b, err := image.Scan(context.Background(), "oci:"+f.layoutDir+":multi")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[graph.Kind][]string{
		graph.KindImageIndex: {"digest", "digest_source", "mediaType", "references", "tags", "skipped"},
		graph.KindImage: {"digest", "digest_source", "mediaType", "references", "platform", "os", "architecture", "variant",
			"config_digest", "created", "author", "labels", "history", "user", "entrypoint", "cmd", "workdir",
			"exposed_ports", "env_names", "layer_count", "size"},
		graph.KindLayer: {"digest", "diff_id", "size", "mediaType"},
	}
	seen := map[graph.Kind]bool{}
	for _, n := range b.Nodes {
		for _, k := range keys[n.Kind] {
			if n.Kind == graph.KindImage && k == "variant" && n.String("architecture") != "arm64" {
				continue
			}
			if _, ok := n.Attrs[k]; !ok {
				t.Errorf("%s has no attribute %q: %v", n.ID, k, n.Attrs)
			}
		}
		seen[n.Kind] = true
	}
	for _, e := range b.Edges {
		var ks []string
		switch e.Kind {
		case graph.EdgeHasManifest:
			ks = []string{"platform", "position"}
		case graph.EdgeHasLayer:
			ks = []string{"index", "history_index"}
		}
		for _, k := range ks {
			if _, ok := e.Attrs[k]; !ok {
				t.Errorf("%s edge %s->%s has no attribute %q", e.Kind, e.From, e.To, k)
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("saw node kinds %v, want image_index, image and layer", seen)
	}
}
