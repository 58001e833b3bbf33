package image_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/image"
	"github.com/tether-sec/tether/internal/testreg"
)

const attSHA = "7e2f5a1c9b3d4e6f8a0b1c2d3e4f5a6b7c8d9e0f"

// The statements below follow the public formats of each producer, written for
// these tests (not copied from a real build): GitHub's attest-build-provenance
// (SLSA v1, buildType https://actions.github.io/buildtypes/workflow/v1, in a
// sigstore bundle), BuildKit's provenance (SLSA v0.2 with the vcs metadata
// `docker buildx build` records for a git context), and slsa-github-generator's
// container workflow (SLSA v0.2, in a DSSE envelope as cosign attaches it).

func subjectOf(digest string) []any {
	hex := strings.TrimPrefix(digest, "sha256:")
	return []any{map[string]any{"name": "ghcr.io/acme/api", "digest": map[string]any{"sha256": hex}}}
}

func githubV1(digest string) []byte {
	st := map[string]any{
		"_type": "https://in-toto.io/Statement/v1", "subject": subjectOf(digest),
		"predicateType": "https://slsa.dev/provenance/v1",
		"predicate": map[string]any{
			"buildDefinition": map[string]any{
				"buildType": "https://actions.github.io/buildtypes/workflow/v1",
				"externalParameters": map[string]any{"workflow": map[string]any{
					"ref": "refs/heads/main", "repository": "https://github.com/acme/api", "path": ".github/workflows/release.yml"}},
				"internalParameters": map[string]any{"github": map[string]any{"event_name": "push", "runner_environment": "github-hosted"}},
				"resolvedDependencies": []any{map[string]any{
					"uri": "git+https://github.com/acme/api@refs/heads/main", "digest": map[string]any{"gitCommit": attSHA}}},
			},
			"runDetails": map[string]any{
				"builder":  map[string]any{"id": "https://github.com/actions/runner/github-hosted"},
				"metadata": map[string]any{"invocationId": "https://github.com/acme/api/actions/runs/4242/attempts/1"},
			},
		},
	}
	return bundle(envelope(st))
}

func buildkitV02(digest string) []byte {
	b, _ := json.Marshal(map[string]any{
		"_type": "https://in-toto.io/Statement/v0.1", "subject": subjectOf(digest),
		"predicateType": "https://slsa.dev/provenance/v0.2",
		"predicate": map[string]any{
			"builder":    map[string]any{"id": ""},
			"buildType":  "https://mobyproject.org/buildkit@v1",
			"invocation": map[string]any{"configSource": map[string]any{"entryPoint": "Dockerfile"}},
			"materials":  []any{map[string]any{"uri": "pkg:docker/python@3.12-slim?platform=linux%2Famd64", "digest": map[string]any{"sha256": "aa"}}},
			"metadata": map[string]any{
				"buildInvocationID": "w9g3k2j1",
				"https://mobyproject.org/buildkit@v1#metadata": map[string]any{
					"vcs": map[string]any{"source": "https://github.com/acme/api.git", "revision": attSHA}},
			},
		},
	})
	return b
}

func generatorV02(digest string) []byte {
	return envelope(map[string]any{
		"_type": "https://in-toto.io/Statement/v0.1", "subject": subjectOf(digest),
		"predicateType": "https://slsa.dev/provenance/v0.2",
		"predicate": map[string]any{
			"builder":   map[string]any{"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0"},
			"buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
			"invocation": map[string]any{"configSource": map[string]any{
				"uri": "git+https://github.com/acme/api@refs/tags/v1.4.2", "digest": map[string]any{"sha1": attSHA},
				"entryPoint": ".github/workflows/release.yml"}},
			"metadata": map[string]any{"buildInvocationId": "4242-1"},
		},
	})
}

func envelope(st any) []byte {
	payload, _ := json.Marshal(st)
	b, _ := json.Marshal(map[string]any{
		"payloadType": "application/vnd.in-toto+json",
		"payload":     base64.StdEncoding.EncodeToString(payload),
		"signatures":  []any{map[string]any{"keyid": "", "sig": "MEUCIQD-test-signature"}},
	})
	return b
}

func bundle(env []byte) []byte {
	b, _ := json.Marshal(map[string]any{
		"mediaType":            "application/vnd.dev.sigstore.bundle.v0.3+json",
		"verificationMaterial": map[string]any{"certificate": map[string]any{"rawBytes": "MIIB"}},
		"dsseEnvelope":         json.RawMessage(env),
	})
	return b
}

func TestDecodeAttestation(t *testing.T) {
	const digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	cases := []struct {
		name string
		doc  []byte
		want image.Provenance
	}{
		{"github v1 bundle", githubV1(digest), image.Provenance{PredicateType: "https://slsa.dev/provenance/v1",
			Source: "https://github.com/acme/api", Revision: attSHA, Ref: "refs/heads/main", Workflow: ".github/workflows/release.yml",
			Builder: "https://github.com/actions/runner/github-hosted", BuildID: "https://github.com/acme/api/actions/runs/4242/attempts/1", Signed: true}},
		{"buildkit v0.2 statement", buildkitV02(digest), image.Provenance{PredicateType: "https://slsa.dev/provenance/v0.2",
			Source: "https://github.com/acme/api.git", Revision: attSHA, Workflow: "Dockerfile", BuildID: "w9g3k2j1"}},
		{"slsa-github-generator v0.2 envelope", generatorV02(digest), image.Provenance{PredicateType: "https://slsa.dev/provenance/v0.2",
			Source: "https://github.com/acme/api", Revision: attSHA, Ref: "refs/tags/v1.4.2", Workflow: ".github/workflows/release.yml",
			Builder: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0", BuildID: "4242-1", Signed: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := image.DecodeAttestation(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if !st.About(digest) || st.About("sha256:22") {
				t.Errorf("About: subjects %+v", st.Subject)
			}
			got, ok := st.Provenance()
			if !ok {
				t.Fatal("not read as provenance")
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("provenance (-want +got):\n%s", d)
			}
		})
	}
	for name, doc := range map[string]string{
		"not json":       "{",
		"not in-toto":    `{"_type": "something", "predicateType": "x"}`,
		"other payload":  `{"payloadType": "text/plain", "payload": "aGk="}`,
		"bad base64":     `{"payloadType": "application/vnd.in-toto+json", "payload": "!!"}`,
		"spdx predicate": `{"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://spdx.dev/Document", "predicate": {}}`,
	} {
		st, err := image.DecodeAttestation([]byte(doc))
		if err == nil {
			if _, ok := st.Provenance(); ok {
				t.Errorf("%s: read as provenance", name)
			}
			continue
		}
		if !errors.Is(err, image.ErrNotAttestation) {
			t.Errorf("%s: %v, want ErrNotAttestation", name, err)
		}
	}
}

func FuzzDecodeAttestation(f *testing.F) {
	const digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	for _, b := range [][]byte{githubV1(digest), buildkitV02(digest), generatorV02(digest), []byte(`{"dsseEnvelope": {"payloadType": "x"}}`)} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := image.DecodeAttestation(b)
		if err != nil {
			if !errors.Is(err, image.ErrNotAttestation) {
				t.Fatalf("error %v does not match ErrNotAttestation", err)
			}
			return
		}
		st.About(digest)
		st.Provenance()
	})
}

// attestationArtifact is an OCI artifact whose one layer is doc (of media type
// mt) and whose subject is the image desc: what `gh attestation` and `oras
// attach` push.
func attestationArtifact(t *testing.T, doc []byte, mt string, subject v1.Descriptor) v1.Image {
	t.Helper()
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: static.NewLayer(doc, types.MediaType(mt))})
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.MediaType(mt))
	if subject.Digest.Hex != "" {
		img = mutate.Subject(img, subject).(v1.Image)
	}
	return img
}

func pushAttested(t *testing.T, host string) (name.Reference, string) {
	t.Helper()
	img := imageOf(t, tarBytes(t, tarEntry{name: "app/main.py", body: "print(1)\n"}))
	ref, err := name.ParseReference(host + "/acme/api:1.4.2")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	mt, _ := img.MediaType()
	m, _ := img.RawManifest()
	subject := v1.Descriptor{MediaType: mt, Digest: d, Size: int64(len(m))}
	// GitHub's artifact attestation through the referrers API (or its fallback tag).
	gh := attestationArtifact(t, githubV1(d.String()), "application/vnd.dev.sigstore.bundle.v0.3+json", subject)
	ghDigest, _ := gh.Digest()
	if err := remote.Write(ref.Context().Digest(ghDigest.String()), gh); err != nil {
		t.Fatal(err)
	}
	// slsa-github-generator's attestation as cosign attaches it: the .att tag.
	att := attestationArtifact(t, generatorV02(d.String()), "application/vnd.dsse.envelope.v1+json", v1.Descriptor{})
	if err := remote.Write(ref.Context().Tag("sha256-"+d.Hex+".att"), att); err != nil {
		t.Fatal(err)
	}
	return ref, d.String()
}

// TestRegistryAttestations pushes an image with a GitHub attestation (as a
// referrer) and a cosign .att tag to a real registry without the referrers API
// (distribution 2.8: go-containerregistry keeps the sha256-<hex> fallback tag)
// and to go-containerregistry's registry, which serves the API, and opens it.
func TestRegistryAttestations(t *testing.T) {
	ggcr := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer ggcr.Close()
	for name, host := range map[string]string{
		"docker-registry (tag fallback)": testreg.Start(t),
		"go-containerregistry (API)":     strings.TrimPrefix(ggcr.URL, "http://"),
	} {
		t.Run(name, func(t *testing.T) {
			ref, digest := pushAttested(t, host)
			tgt, err := image.Open(context.Background(), ref.String())
			if err != nil {
				t.Fatal(err)
			}
			defer tgt.Close()
			if len(tgt.Images) != 1 || tgt.Images[0].Digest != digest {
				t.Fatalf("images %+v", tgt.Images)
			}
			got := map[string]string{}
			for _, p := range tgt.Images[0].Provenance {
				got[p.Via] = p.PredicateType + " " + p.Source + "@" + p.Revision
			}
			want := map[string]string{
				"referrers":  "https://slsa.dev/provenance/v1 https://github.com/acme/api@" + attSHA,
				"cosign-tag": "https://slsa.dev/provenance/v0.2 https://github.com/acme/api@" + attSHA,
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("provenance by source (-want +got):\n%s", d)
			}
		})
	}
}

// TestIndexAttestations writes an OCI layout as `docker buildx build
// --provenance=true --output type=oci` does: an index with the image and an
// attestation manifest that refers to it.
func TestIndexAttestations(t *testing.T) {
	img := imageOf(t, tarBytes(t, tarEntry{name: "app/main.py", body: "print(1)\n"}))
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	att, err := mutate.Append(empty.Image, mutate.Addendum{Layer: static.NewLayer(buildkitV02(d.String()), "application/vnd.in-toto+json"),
		Annotations: map[string]string{"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	att = mutate.MediaType(att, types.OCIManifestSchema1)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": d.String()}}},
	)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	tgt, err := image.Open(context.Background(), "oci:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if len(tgt.Images) != 1 || len(tgt.Images[0].Provenance) != 1 {
		t.Fatalf("images %+v", tgt.Images)
	}
	p0 := tgt.Images[0].Provenance[0]
	if p0.Via != "buildkit-index" || p0.Source != "https://github.com/acme/api.git" || p0.Revision != attSHA {
		t.Errorf("provenance %+v", p0)
	}
}

// TestGitHubAttestations serves GitHub's REST API for artifact attestations
// (GET /orgs/ORG/attestations/DIGEST, the response shape of
// docs.github.com/rest/orgs/orgs#list-attestations) from httptest: the same
// code asks api.github.com with only the URL changed.
func TestGitHubAttestations(t *testing.T) {
	img := imageOf(t, tarBytes(t, tarEntry{name: "app/main.py", body: "print(1)\n"}))
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	img, _ = mutate.ConfigFile(img, cf)
	d, _ := img.Digest()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	var seen []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+r.Header.Get("X-GitHub-Api-Version"))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch r.URL.Path {
		case "/orgs/acme/attestations/" + d.String():
			fmt.Fprintf(w, `{"attestations": [{"bundle": %s, "repository_id": 813377331, "bundle_url": null}]}`, githubV1(d.String()))
		case "/orgs/private/attestations/" + d.String():
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/orgs/orgs#list-attestations", "status": "403"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}`)
		}
	}))
	defer api.Close()

	tgt, err := image.Open(context.Background(), "oci:"+dir, image.WithGitHubAttestations(image.GitHubAttestations{API: api.URL, Token: "ghp_test", Orgs: []string{"nobody", "acme"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if len(tgt.Images) != 1 || len(tgt.Images[0].Provenance) != 1 {
		t.Fatalf("images %+v", tgt.Images)
	}
	if pv := tgt.Images[0].Provenance[0]; pv.Via != "github-api" || pv.Revision != attSHA || pv.Source != "https://github.com/acme/api" {
		t.Errorf("provenance %+v", pv)
	}
	want := []string{
		"GET /orgs/nobody/attestations/" + d.String() + " Bearer ghp_test 2022-11-28",
		"GET /orgs/acme/attestations/" + d.String() + " Bearer ghp_test 2022-11-28",
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	_, err = image.Open(context.Background(), "oci:"+dir, image.WithGitHubAttestations(image.GitHubAttestations{API: api.URL, Orgs: []string{"private"}}))
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "GITHUB_TOKEN") {
		t.Errorf("forbidden: %v", err)
	}
}
