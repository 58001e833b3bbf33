package image

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// openArchive reads a `docker save` tarball.
func openArchive(ctx context.Context, r Ref, o *options) (*Target, error) {
	file, err := filepath.Abs(r.Path)
	if err != nil {
		return nil, &ArchiveError{Path: r.Path, Reason: "the path cannot be made absolute", Err: err}
	}
	r.Path = file
	fi, err := os.Stat(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &ArchiveError{Path: file, Reason: "the file does not exist", Err: err}
	case err != nil:
		return nil, &ArchiveError{Path: file, Reason: "the file cannot be read", Err: err}
	case fi.IsDir():
		return nil, &ArchiveError{Path: file, Reason: "it is a directory, not a file (for an OCI layout use oci:)"}
	}
	opener := func() (io.ReadCloser, error) { return os.Open(file) }
	manifest, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, &ArchiveError{Path: file, Reason: "it has no readable manifest.json", Err: err}
	}
	desc, tag, err := selectArchiveEntry(manifest, r)
	if err != nil {
		return nil, err
	}
	if desc.Config == "" {
		return nil, &ArchiveError{Path: file, Reason: "manifest.json names no config for the image"}
	}
	rd := &reader{
		source: DigestFromComputed,
		wrap: func(err error, what string) error {
			return &ArchiveError{Path: file, Reason: "reading " + what, Err: err}
		},
		refFor: func(string) string { return r.String() }, // an archive holds no index
	}
	img, err := tarball.Image(opener, tag)
	if err != nil {
		return nil, rd.wrap(err, r.String())
	}
	// The manifest is computed from the layers, hashing each (and compressing those
	// stored uncompressed).
	dig, err := img.Digest()
	if err != nil {
		return nil, rd.wrap(err, r.String())
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, rd.wrap(err, r.String())
	}
	t := &Target{Ref: r, Digest: dig.String(), MediaType: string(mt), Tags: slices.Clone(desc.RepoTags)}
	if err := rd.finish(ctx, t, nil, img, o.platform); err != nil {
		return nil, err
	}
	return t, nil
}

// selectArchiveEntry finds the manifest.json entry the reference names: by REPO:TAG
// among the RepoTags, or the only entry. It returns the tag to give
// go-containerregistry, nil for the only entry.
func selectArchiveEntry(m tarball.Manifest, r Ref) (tarball.Descriptor, *name.Tag, error) {
	ref := r.String()
	if r.Tag != "" {
		want, err := name.NewTag(r.Tag)
		if err != nil {
			return tarball.Descriptor{}, nil, badRef(ref, err.Error())
		}
		var hits []tarball.Descriptor
		for _, d := range m {
			for _, s := range d.RepoTags {
				if t, err := name.NewTag(s); err == nil && t.Name() == want.Name() {
					hits = append(hits, d)
					break
				}
			}
		}
		switch len(hits) {
		case 0:
			return tarball.Descriptor{}, nil, &NotFoundError{Ref: ref, Available: archiveCandidates(m)}
		case 1:
			if err := checkRepoTags(m); err != nil {
				return tarball.Descriptor{}, nil, &ArchiveError{Path: r.Path, Reason: "manifest.json lists an invalid RepoTag", Err: err}
			}
			return hits[0], &want, nil
		}
		return tarball.Descriptor{}, nil, &AmbiguousError{Ref: ref, Candidates: archiveCandidates(hits)}
	}
	switch len(m) {
	case 0:
		return tarball.Descriptor{}, nil, &ArchiveError{Path: r.Path, Reason: "manifest.json lists no images"}
	case 1:
		return m[0], nil, nil
	}
	return tarball.Descriptor{}, nil, &AmbiguousError{Ref: ref, Candidates: archiveCandidates(m)}
}

// checkRepoTags fails on a RepoTag that does not parse: go-containerregistry stops at
// the first one when it looks a tag up.
func checkRepoTags(m tarball.Manifest) error {
	for _, d := range m {
		for _, s := range d.RepoTags {
			if _, err := name.NewTag(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// archiveCandidates names the images of a manifest.json for an error message.
func archiveCandidates(m []tarball.Descriptor) []string {
	var out []string
	for _, d := range m {
		if len(d.RepoTags) == 0 {
			out = append(out, "untagged "+d.Config)
			continue
		}
		out = append(out, d.RepoTags...)
	}
	slices.Sort(out)
	return out
}
