package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-sec/tether/graph"
)

// Where a manifest digest comes from (DigestSource).
const (
	// DigestFromRegistry: the digest of the manifest bytes the registry serves.
	DigestFromRegistry = "registry"
	// DigestFromLayout: the digest an OCI layout's index names (checked against the blob).
	DigestFromLayout = "oci-layout"
	// DigestFromComputed: computed by go-containerregistry for an image that has no
	// stored manifest (a docker-archive); a registry would likely serve another one.
	DigestFromComputed = "computed"
	// DigestFromEngine: the registry manifest digest a container engine (docker:,
	// podman:) recorded for the image when it pulled or pushed it (its RepoDigests),
	// the digest a pod running the image reports. The manifest Open reads is re-encoded
	// from the engine's `docker save` export, so its bytes do not hash to it, and
	// layer digests and sizes are computed as for a docker-archive.
	DigestFromEngine = "engine"
)

// Annotations on index entries that this package reads.
const (
	annotationRefName       = "org.opencontainers.image.ref.name"
	annotationReferenceType = "vnd.docker.reference.type"
	annotationReferenceDig  = "vnd.docker.reference.digest"
)

// maxIndexDepth bounds how deep nested indexes are followed: a hostile layout can
// make an index list itself.
const maxIndexDepth = 4

// Target is what a reference names, fully read: an image index with its platform
// images, or a single image. Open does all the I/O; Batch does none.
type Target struct {
	// Ref is the reference Open was given, with a layout or archive path made absolute.
	Ref Ref
	// Digest and MediaType describe the manifest the reference names: the index when
	// Index is set, else the image.
	Digest    string
	MediaType string
	// DigestSource is DigestFromRegistry, DigestFromLayout, DigestFromComputed or
	// DigestFromEngine.
	DigestSource string
	// Index is the image index the reference names, nil when it names a single image.
	Index v1.ImageIndex
	// Annotations are the index's annotations (nil for a single image).
	Annotations map[string]string
	// Tags are the names the layout (org.opencontainers.image.ref.name), archive or
	// container engine (RepoTags) records for what the reference names.
	Tags []string
	// RepoDigests are the REPO@DIGEST names a container engine records for the image
	// (docker:, podman:): the registry digests it was pulled by or pushed as. Nil for
	// other transports.
	RepoDigests []string
	// Images are the image manifests: the platform images of Index in index order
	// (restricted by WithPlatform; nested indexes flattened), or the single image.
	Images []Image
	// Skipped lists index entries that are not read as images: attestations,
	// artifacts, indexes nested too deep.
	Skipped []SkippedManifest

	// release frees what Open holds for the target (a container engine's export).
	release func() error
}

// Close releases what Open holds for the target: the temporary copy of an image read
// from a container engine (docker:, podman:), from which its layers are read. Layers
// cannot be read after Close; what Open read (manifests, configs) stays. Close is a
// no-op for other transports and when called again. A target that is never closed
// has its copy removed once it and its images are garbage, but call Close.
func (t *Target) Close() error {
	if t == nil || t.release == nil {
		return nil
	}
	release := t.release
	t.release = nil
	return release()
}

// Image is one image manifest of a Target, with its manifest and config read.
type Image struct {
	// Digest is the manifest digest ("sha256:…"), MediaType its media type.
	Digest    string
	MediaType string
	// Reference is where the image was seen, in ParseRef syntax: the reference for a
	// single image, REPO@DIGEST (or oci:DIR@DIGEST) for an index's platform image.
	Reference string
	// Entry is the image's entry in its index; nil for a single image. Position is
	// the entry's index in that index's manifests, and Via the digest of the nested
	// index holding it ("" when the entry is in the top index).
	Entry    *v1.Descriptor
	Position int
	Via      string
	// Manifest and Config are the parsed manifest and config.
	Manifest *v1.Manifest
	Config   *v1.ConfigFile
	// Image reads layers lazily, with the context given to Open.
	Image v1.Image
	// Provenance are the SLSA provenance attestations found for the image.
	Provenance []Provenance
}

// Platform returns the image's platform: its config's, or else its index entry's.
func (im *Image) Platform() v1.Platform {
	if im.Config != nil && im.Config.OS != "" {
		p := im.Config.Platform()
		if p != nil {
			return *p
		}
	}
	if im.Entry != nil && im.Entry.Platform != nil {
		return *im.Entry.Platform
	}
	return v1.Platform{}
}

// SkippedManifest is an index entry that is not read as an image.
type SkippedManifest struct {
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType,omitempty"`
	Platform  string `json:"platform,omitempty"`
	// Reason says why, e.g. "attestation manifest".
	Reason string `json:"reason"`
	// Refers is the digest of the image an attestation is about.
	Refers string `json:"refers,omitempty"`
}

// Open reads what ref names: the index or image manifest, the platform manifests of an
// index, and every image's config. It reads no layer blob, except that a
// docker-archive's layers are hashed to compute its manifest. A container engine's
// image (docker:, podman:) is exported to a temporary file, which the caller frees
// with Target.Close. See ParseRef for the syntax.
func Open(ctx context.Context, ref string, opts ...Option) (*Target, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	var t *Target
	switch r.Transport {
	case TransportRegistry:
		t, err = openRegistry(ctx, r, o)
	case TransportOCILayout:
		t, err = openLayout(ctx, r, o)
	case TransportDockerArchive:
		t, err = openArchive(ctx, r, o)
	case TransportDocker, TransportPodman:
		t, err = openEngine(ctx, r, o)
	default:
		return nil, badRef(ref, "unknown transport")
	}
	if err != nil {
		return nil, err
	}
	if o.github != nil {
		if err := githubAttestations(ctx, t, o.github); err != nil {
			t.Close()
			return nil, err
		}
	}
	return t, nil
}

// Scan opens ref and returns its facts, observed now.
func Scan(ctx context.Context, ref string, opts ...Option) (*graph.Batch, error) {
	t, err := Open(ctx, ref, opts...)
	if err != nil {
		return nil, err
	}
	b := t.Batch(time.Now())
	if err := t.Close(); err != nil {
		return nil, err
	}
	return b, nil
}

// reader is what a transport supplies to the code shared by all of them.
type reader struct {
	source string // DigestFrom…
	// wrap turns an error reading what (a reference or digest) into a typed error.
	wrap func(err error, what string) error
	// refFor names a child of the target by digest, in ParseRef syntax.
	refFor func(digest string) string
	// platforms are those of the images seen, for a PlatformError.
	platforms []string
	// walked holds the digests of the indexes read, so that an index listed twice is
	// read once.
	walked map[string]bool
}

func (rd *reader) platformError(t *Target, want *v1.Platform) error {
	have := slices.Clone(rd.platforms)
	slices.Sort(have)
	return &PlatformError{Ref: t.Ref.String(), Want: want.String(), Available: slices.Compact(have)}
}

// finish reads the index or image the target names and every image's config, and
// applies the platform filter.
func (rd *reader) finish(ctx context.Context, t *Target, idx v1.ImageIndex, img v1.Image, platform *v1.Platform) error {
	t.DigestSource = rd.source
	if idx != nil {
		t.Index = idx
		if err := rd.walk(ctx, t, idx, t.Digest, "", 0, platform); err != nil {
			return err
		}
	} else {
		t.Images = []Image{{Digest: t.Digest, MediaType: t.MediaType, Reference: t.Ref.String(), Position: -1, Image: img}}
	}
	for i := range t.Images {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("image: reading %s: %w", t.Ref, err)
		}
		if err := rd.load(&t.Images[i]); err != nil {
			return err
		}
	}
	indexAttestations(t)
	if platform == nil {
		return nil
	}
	var kept []Image
	for _, im := range t.Images {
		p := im.Platform()
		if p.OS == "" || p.Satisfies(*platform) {
			kept = append(kept, im)
		} else if im.Entry == nil || im.Entry.Platform == nil {
			rd.platforms = append(rd.platforms, p.String())
		}
	}
	if len(kept) == 0 {
		return rd.platformError(t, platform)
	}
	t.Images = kept
	return nil
}

// walk lists the images of index idx (digest dig) into t, following nested indexes.
// Entries whose index entry names another platform are left out before their config is
// fetched; the rest are filtered in finish.
func (rd *reader) walk(ctx context.Context, t *Target, idx v1.ImageIndex, dig, via string, depth int, platform *v1.Platform) error {
	if rd.walked == nil {
		rd.walked = map[string]bool{}
	}
	rd.walked[dig] = true
	raw, err := idx.RawManifest()
	if err != nil {
		return rd.wrap(err, dig)
	}
	im, err := parseIndex(raw, t.Ref.String(), dig)
	if err != nil {
		return err
	}
	if depth == 0 {
		t.Annotations = im.Annotations
	}
	matched := 0
	for i, d := range im.Manifests {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("image: reading %s: %w", t.Ref, err)
		}
		skip := SkippedManifest{Digest: d.Digest.String(), MediaType: string(d.MediaType)}
		if d.Platform != nil {
			skip.Platform = d.Platform.String()
		}
		switch {
		case d.Annotations[annotationReferenceType] == "attestation-manifest":
			skip.Reason = "attestation manifest"
			skip.Refers = d.Annotations[annotationReferenceDig]
			t.Skipped = append(t.Skipped, skip)
		case d.MediaType.IsImage():
			if d.Platform != nil && d.Platform.OS != "" {
				rd.platforms = append(rd.platforms, d.Platform.String())
				if platform != nil && !d.Platform.Satisfies(*platform) {
					continue
				}
			}
			matched++
			child, err := idx.Image(d.Digest)
			if err != nil {
				return rd.wrap(err, rd.refFor(d.Digest.String()))
			}
			entry := d
			t.Images = append(t.Images, Image{
				Digest: d.Digest.String(), MediaType: string(d.MediaType), Reference: rd.refFor(d.Digest.String()),
				Entry: &entry, Position: i, Via: via, Image: child,
			})
		case d.MediaType.IsIndex():
			if rd.walked[d.Digest.String()] {
				skip.Reason = "index listed again"
				t.Skipped = append(t.Skipped, skip)
				continue
			}
			if depth+1 >= maxIndexDepth {
				skip.Reason = fmt.Sprintf("index nested more than %d deep", maxIndexDepth)
				t.Skipped = append(t.Skipped, skip)
				continue
			}
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return rd.wrap(err, rd.refFor(d.Digest.String()))
			}
			raw, err := child.RawManifest()
			if err != nil {
				return rd.wrap(err, rd.refFor(d.Digest.String()))
			}
			if err := checkDigest(raw, d.Digest, t.Ref.String(), "index"); err != nil {
				return err
			}
			matched++ // the nested index's own images are filtered below it
			if err := rd.walk(ctx, t, child, d.Digest.String(), d.Digest.String(), depth+1, platform); err != nil {
				return err
			}
		default:
			skip.Reason = "not an image manifest"
			t.Skipped = append(t.Skipped, skip)
		}
	}
	if platform != nil && matched == 0 && depth == 0 {
		return rd.platformError(t, platform)
	}
	return nil
}

// load reads and checks an image's manifest and config.
func (rd *reader) load(im *Image) error {
	raw, err := im.Image.RawManifest()
	if err != nil {
		return rd.wrap(err, im.Reference)
	}
	if rd.source != DigestFromComputed && rd.source != DigestFromEngine {
		h, err := v1.NewHash(im.Digest)
		if err != nil {
			return &ManifestError{Ref: im.Reference, Digest: im.Digest, Reason: "the digest does not parse", Err: err}
		}
		if err := checkDigest(raw, h, im.Reference, "manifest"); err != nil {
			return err
		}
	}
	m, err := parseManifest(raw, im.Reference, im.Digest)
	if err != nil {
		return err
	}
	if mt := m.Config.MediaType; mt != "" && !mt.IsConfig() {
		return &ManifestError{Ref: im.Reference, Digest: im.Digest, MediaType: im.MediaType,
			Reason: fmt.Sprintf("it is an artifact (config media type %s), not a container image", mt)}
	}
	rawCfg, err := im.Image.RawConfigFile()
	if err != nil {
		return rd.wrap(err, "the config "+m.Config.Digest.String()+" of "+im.Reference)
	}
	if err := checkDigest(rawCfg, m.Config.Digest, im.Reference, "config"); err != nil {
		return err
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(rawCfg))
	if err != nil {
		return &ManifestError{Ref: im.Reference, Digest: m.Config.Digest.String(), Reason: "the config is not a JSON image config", Err: err}
	}
	if len(m.Layers) != len(cf.RootFS.DiffIDs) {
		return &ManifestError{Ref: im.Reference, Digest: im.Digest,
			Reason: fmt.Sprintf("the manifest lists %d layers but the config lists %d diff_ids", len(m.Layers), len(cf.RootFS.DiffIDs))}
	}
	im.Manifest, im.Config = m, cf
	return nil
}

// checkDigest verifies that raw hashes to want, when want is a sha256 digest.
func checkDigest(raw []byte, want v1.Hash, ref, what string) error {
	if want.Algorithm != "sha256" {
		return nil
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != want.Hex {
		return &ManifestError{Ref: ref, Digest: want.String(), Reason: fmt.Sprintf("the %s's content hashes to sha256:%s, not to its digest", what, got),
			advice: "the stored blob is corrupt or was altered: copy the image again from its source"}
	}
	return nil
}

// mediaTypeOf returns the manifest media type: the one given (a Content-Type header or
// a descriptor's) when it is an image or index type, else the one the JSON names. It
// fails on bytes that are not a JSON object and on unknown or schema 1 types.
func mediaTypeOf(given types.MediaType, raw []byte, ref, dig string) (types.MediaType, error) {
	var probe struct {
		MediaType     types.MediaType `json:"mediaType"`
		SchemaVersion any             `json:"schemaVersion"`
		Manifests     json.RawMessage `json:"manifests"`
		Config        json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return "", &ManifestError{Ref: ref, Digest: dig, MediaType: string(given), Reason: "the manifest is not a JSON object", Err: err}
	}
	known := func(mt types.MediaType) bool { return mt.IsImage() || mt.IsIndex() }
	switch {
	case given.IsSchema1() || probe.MediaType.IsSchema1():
		return "", &ManifestError{Ref: ref, Digest: dig, MediaType: string(given), Reason: "Docker schema 1 manifests are not supported"}
	case known(given):
		return given, nil
	case known(probe.MediaType):
		return probe.MediaType, nil
	case probe.MediaType == "" && len(probe.Manifests) > 0:
		return types.OCIImageIndex, nil
	case probe.MediaType == "" && len(probe.Config) > 0:
		return types.OCIManifestSchema1, nil
	}
	mt := given
	if probe.MediaType != "" {
		mt = probe.MediaType
	}
	return "", &ManifestError{Ref: ref, Digest: dig, MediaType: string(mt), Reason: fmt.Sprintf("unknown manifest media type %q", mt)}
}

func parseIndex(raw []byte, ref, dig string) (*v1.IndexManifest, error) {
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, &ManifestError{Ref: ref, Digest: dig, Reason: "the index is not a JSON image index", Err: err}
	}
	return im, nil
}

func parseManifest(raw []byte, ref, dig string) (*v1.Manifest, error) {
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, &ManifestError{Ref: ref, Digest: dig, Reason: "the manifest is not a JSON image manifest", Err: err}
	}
	return m, nil
}
