package image

import (
	"errors"
	"strings"
	"unicode"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Transport names where an image is stored. Its value is also the method of the edges
// the collector draws.
type Transport string

// Transports the package reads.
const (
	TransportRegistry      Transport = "registry"
	TransportOCILayout     Transport = "oci-layout"
	TransportDockerArchive Transport = "docker-archive"
)

// Ref is a parsed image reference.
type Ref struct {
	Transport Transport
	// Path is the OCI layout directory or the docker-archive file; empty for a registry.
	Path string
	// Tag selects an image inside a layout (its org.opencontainers.image.ref.name
	// annotation) or a docker-archive (one of its RepoTags, as REPO:TAG). Empty when
	// the reference names none.
	Tag string
	// Digest selects an image inside a layout by manifest digest ("sha256:…").
	Digest string
	// Name is the registry reference; nil for the other transports. A reference with
	// no tag or digest gets the tag "latest".
	Name name.Reference
}

// Prefixes of transports this package does not read, so that a reference meant for
// another tool fails clearly instead of being taken for a registry host.
var unsupported = map[string]string{
	"docker":             "a Docker daemon is not read yet; `docker save IMAGE -o FILE` and use docker-archive:FILE",
	"docker-daemon":      "a Docker daemon is not read yet; `docker save IMAGE -o FILE` and use docker-archive:FILE",
	"podman":             "a Podman store is not read yet; `podman save IMAGE -o FILE` and use docker-archive:FILE",
	"containers-storage": "a containers-storage store is not read yet; `podman save --format oci-dir IMAGE -o DIR` and use oci:DIR",
	"oci-archive":        "an OCI archive is not read directly; extract it (tar -xf FILE -C DIR) and use oci:DIR",
	"dir":                "a plain directory is not an image; use oci:DIR for an OCI layout",
	"file":               "a plain file is not an image; use docker-archive:FILE for a `docker save` tarball",
	"singularity":        "Singularity images are not read",
}

// ParseRef parses a reference without touching the network or the file system:
//
//	oci:DIR[:TAG|@DIGEST]          (oci-dir: is an alias; DIR may not contain ':')
//	docker-archive:FILE[:REPO:TAG] (FILE may not contain ':')
//	[docker://|registry:]REGISTRY/REPO[:TAG|@DIGEST]
//
// Errors match ErrBadReference.
func ParseRef(s string) (Ref, error) {
	if s == "" {
		return Ref{}, badRef(s, "the reference is empty")
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return Ref{}, badRef(s, "it contains a control character")
	}
	switch {
	case strings.HasPrefix(s, "oci:"):
		return parseLayout(s, s[len("oci:"):])
	case strings.HasPrefix(s, "oci-dir:"):
		return parseLayout(s, s[len("oci-dir:"):])
	case strings.HasPrefix(s, "docker-archive:"):
		return parseArchive(s, s[len("docker-archive:"):])
	case strings.HasPrefix(s, "docker://"):
		return parseRegistry(s, s[len("docker://"):])
	case strings.HasPrefix(s, "registry:"):
		return parseRegistry(s, s[len("registry:"):])
	}
	if prefix, _, ok := strings.Cut(s, ":"); ok {
		if why, ok := unsupported[prefix]; ok {
			return Ref{}, badRef(s, why)
		}
	}
	return parseRegistry(s, s)
}

func parseLayout(s, rest string) (Ref, error) {
	r := Ref{Transport: TransportOCILayout}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		if h, err := v1.NewHash(rest[i+1:]); err == nil {
			r.Path, r.Digest = rest[:i], h.String()
			if strings.Contains(r.Path, ":") {
				return Ref{}, badRef(s, "name either a tag or a digest, not both (and DIR may not contain ':')")
			}
			if r.Path == "" {
				return Ref{}, badRef(s, "oci: needs a directory, as in oci:DIR[:TAG|@DIGEST]")
			}
			return r, nil
		}
	}
	path, tag, hasTag := strings.Cut(rest, ":")
	if path == "" {
		return Ref{}, badRef(s, "oci: needs a directory, as in oci:DIR[:TAG|@DIGEST]")
	}
	if hasTag && tag == "" {
		return Ref{}, badRef(s, "the tag after ':' is empty")
	}
	r.Path, r.Tag = path, tag
	return r, nil
}

func parseArchive(s, rest string) (Ref, error) {
	path, tag, hasTag := strings.Cut(rest, ":")
	if path == "" {
		return Ref{}, badRef(s, "docker-archive: needs a file, as in docker-archive:FILE[:REPO:TAG]")
	}
	r := Ref{Transport: TransportDockerArchive, Path: path}
	if hasTag {
		if _, err := name.NewTag(tag); err != nil {
			return Ref{}, badRef(s, "the image name after the file is not REPO:TAG: "+err.Error())
		}
		r.Tag = tag
	}
	return r, nil
}

func parseRegistry(s, rest string) (Ref, error) {
	if strings.HasPrefix(rest, "http://") || strings.HasPrefix(rest, "https://") {
		return Ref{}, badRef(s, "a reference has no URL scheme: write HOST/REPO[:TAG], and allow plain HTTP with WithInsecure (--insecure)")
	}
	n, err := name.ParseReference(rest)
	if err != nil {
		// ParseReference's own error only says it failed; the specific parser says why.
		if strings.Contains(rest, "@") {
			_, err = name.NewDigest(rest)
		} else {
			_, err = name.NewTag(rest)
		}
		if err == nil {
			err = errors.New("it does not parse")
		}
		return Ref{}, badRef(s, err.Error())
	}
	return Ref{Transport: TransportRegistry, Name: n}, nil
}

// String returns the reference in canonical form: a registry reference in full
// (registry, repository, tag or digest; Docker Hub as docker.io), the others in the
// syntax ParseRef reads.
func (r Ref) String() string {
	switch r.Transport {
	case TransportRegistry:
		if r.Name == nil {
			return ""
		}
		return canonicalName(r.Name)
	case TransportOCILayout:
		switch {
		case r.Digest != "":
			return "oci:" + r.Path + "@" + r.Digest
		case r.Tag != "":
			return "oci:" + r.Path + ":" + r.Tag
		}
		return "oci:" + r.Path
	case TransportDockerArchive:
		if r.Tag != "" {
			return "docker-archive:" + r.Path + ":" + r.Tag
		}
		return "docker-archive:" + r.Path
	}
	return ""
}

// canonicalName spells a registry reference in full, with Docker Hub as "docker.io"
// (the spelling Kubernetes reports) rather than go-containerregistry's
// "index.docker.io".
func canonicalName(n name.Reference) string {
	s := n.Name()
	if rest, ok := strings.CutPrefix(s, name.DefaultRegistry+"/"); ok {
		return "docker.io/" + rest
	}
	return s
}
