package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// openLayout reads a reference into an OCI image layout directory.
func openLayout(ctx context.Context, r Ref, o *options) (*Target, error) {
	dir, err := filepath.Abs(r.Path)
	if err != nil {
		return nil, &LayoutError{Path: r.Path, Reason: "the path cannot be made absolute", Err: err}
	}
	r.Path = dir
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &LayoutError{Path: dir, Reason: "the directory does not exist", Err: err}
	case err != nil:
		return nil, &LayoutError{Path: dir, Reason: "the directory cannot be read", Err: err}
	case !fi.IsDir():
		return nil, &LayoutError{Path: dir, Reason: "it is a file, not a directory (for a `docker save` tarball use docker-archive:)"}
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "oci-layout")); err == nil {
		var marker struct {
			Version string `json:"imageLayoutVersion"`
		}
		if err := json.Unmarshal(raw, &marker); err != nil || marker.Version == "" {
			return nil, &LayoutError{Path: dir, Reason: "oci-layout does not name an imageLayoutVersion", Err: err}
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, &LayoutError{Path: dir, Reason: "index.json cannot be read", Err: err}
	}
	top, err := parseIndex(raw, r.String(), "index.json")
	if err != nil {
		return nil, &LayoutError{Path: dir, Reason: "index.json is not an image index", Err: errors.Unwrap(err)}
	}
	root, err := layout.Path(dir).ImageIndex()
	if err != nil {
		return nil, &LayoutError{Path: dir, Reason: "index.json cannot be read", Err: err}
	}

	parent, desc, err := selectLayoutEntry(root, top, r)
	if err != nil {
		return nil, err
	}
	rd := &reader{
		source: DigestFromLayout,
		wrap: func(err error, what string) error {
			if errors.Is(err, fs.ErrNotExist) {
				return &LayoutError{Path: dir, Reason: "a blob is missing for " + what, Err: err}
			}
			return &LayoutError{Path: dir, Reason: "reading " + what, Err: err}
		},
		refFor: func(digest string) string {
			return Ref{Transport: TransportOCILayout, Path: dir, Digest: digest}.String()
		},
	}
	t := &Target{Ref: r, Digest: desc.Digest.String()}
	if name := desc.Annotations[annotationRefName]; name != "" {
		t.Tags = []string{name}
	}
	// The entry's media type decides how go-containerregistry opens it; check the
	// blob agrees and is JSON.
	blob, err := layout.Path(dir).Bytes(desc.Digest)
	if err != nil {
		return nil, rd.wrap(err, desc.Digest.String())
	}
	if err := checkDigest(blob, desc.Digest, r.String(), "manifest"); err != nil {
		return nil, err
	}
	mt, err := mediaTypeOf(desc.MediaType, blob, r.String(), desc.Digest.String())
	if err != nil {
		return nil, err
	}
	if mt != desc.MediaType {
		return nil, &ManifestError{Ref: r.String(), Digest: desc.Digest.String(), MediaType: string(desc.MediaType),
			Reason: fmt.Sprintf("index.json gives media type %q but the manifest is %s", desc.MediaType, mt)}
	}
	t.MediaType = string(mt)
	var (
		idx v1.ImageIndex
		img v1.Image
	)
	if mt.IsIndex() {
		idx, err = parent.ImageIndex(desc.Digest)
	} else {
		img, err = parent.Image(desc.Digest)
	}
	if err != nil {
		return nil, rd.wrap(err, desc.Digest.String())
	}
	if err := rd.finish(ctx, t, idx, img, o.platform); err != nil {
		return nil, err
	}
	return t, nil
}

// selectLayoutEntry finds the index.json entry the reference names, and the index
// holding it: by digest (searching nested indexes too), by ref.name annotation, or the
// only entry.
func selectLayoutEntry(root v1.ImageIndex, top *v1.IndexManifest, r Ref) (v1.ImageIndex, v1.Descriptor, error) {
	ref := r.String()
	switch {
	case r.Digest != "":
		h, err := v1.NewHash(r.Digest)
		if err != nil {
			return nil, v1.Descriptor{}, badRef(ref, err.Error())
		}
		if parent, d, ok := findDigest(root, top, h, 0, map[v1.Hash]bool{}); ok {
			return parent, d, nil
		}
		return nil, v1.Descriptor{}, &NotFoundError{Ref: ref, Available: layoutCandidates(top)}
	case r.Tag != "":
		var hits []v1.Descriptor
		for _, d := range top.Manifests {
			if d.Annotations[annotationRefName] == r.Tag {
				hits = append(hits, d)
			}
		}
		switch len(hits) {
		case 0:
			return nil, v1.Descriptor{}, &NotFoundError{Ref: ref, Available: layoutCandidates(top)}
		case 1:
			return root, hits[0], nil
		}
		return nil, v1.Descriptor{}, &AmbiguousError{Ref: ref, Candidates: layoutCandidates(&v1.IndexManifest{Manifests: hits})}
	}
	switch len(top.Manifests) {
	case 0:
		return nil, v1.Descriptor{}, &LayoutError{Path: r.Path, Reason: "index.json lists no images"}
	case 1:
		return root, top.Manifests[0], nil
	}
	return nil, v1.Descriptor{}, &AmbiguousError{Ref: ref, Candidates: layoutCandidates(top)}
}

// findDigest looks for the entry with digest h in idx and, failing that, in the indexes
// it lists whose content matches their digest, reading each index once.
func findDigest(idx v1.ImageIndex, im *v1.IndexManifest, h v1.Hash, depth int, seen map[v1.Hash]bool) (v1.ImageIndex, v1.Descriptor, bool) {
	for _, d := range im.Manifests {
		if d.Digest == h {
			return idx, d, true
		}
	}
	if depth+1 >= maxIndexDepth {
		return nil, v1.Descriptor{}, false
	}
	for _, d := range im.Manifests {
		if !d.MediaType.IsIndex() || seen[d.Digest] {
			continue
		}
		seen[d.Digest] = true
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			continue
		}
		raw, err := child.RawManifest()
		if err != nil || checkDigest(raw, d.Digest, "", "index") != nil {
			continue
		}
		cm, err := child.IndexManifest()
		if err != nil {
			continue
		}
		if p, found, ok := findDigest(child, cm, h, depth+1, seen); ok {
			return p, found, true
		}
	}
	return nil, v1.Descriptor{}, false
}

// layoutCandidates names the entries of an index.json for an error message: the
// ref.name and the digest.
func layoutCandidates(im *v1.IndexManifest) []string {
	var out []string
	for _, d := range im.Manifests {
		s := d.Digest.String()
		if n := d.Annotations[annotationRefName]; n != "" {
			s = n + " (" + s + ")"
		}
		if d.Platform != nil && d.Platform.OS != "" {
			s += " " + d.Platform.String()
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
