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
	// TransportDocker and TransportPodman read an image a container engine holds,
	// through the Docker Engine API on its socket.
	TransportDocker Transport = "docker"
	TransportPodman Transport = "podman"
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
	// no tag or digest gets the tag "latest". For docker: and podman: it is the image
	// name when Image is one (nil for an image ID).
	Name name.Reference
	// Image is what a docker: or podman: reference asks the engine for: NAME[:TAG],
	// NAME@DIGEST or an image ID ([sha256:]HEX). A name is spelled in full (registry,
	// repository, tag) when the engine would resolve it the same way: always for
	// docker:, and for podman: when the name starts with a registry host (Podman
	// resolves short names through its registries.conf). Empty for other transports.
	Image string
}

// Prefixes of transports this package does not read, so that a reference meant for
// another tool fails clearly instead of being taken for a registry host.
var unsupported = map[string]string{
	"containers-storage": "a containers-storage store is not read directly; use podman:IMAGE (through the Podman API service), or `podman save --format oci-dir IMAGE -o DIR` and use oci:DIR",
	"oci-archive":        "an OCI archive is not read directly; extract it (tar -xf FILE -C DIR) and use oci:DIR",
	"dir":                "a plain directory is not an image; use oci:DIR for an OCI layout",
	"file":               "a plain file is not an image; use docker-archive:FILE for a `docker save` tarball",
	"singularity":        "Singularity images are not read",
}

// ParseRef parses a reference without touching the network or the file system:
//
//	oci:DIR[:TAG|@DIGEST]          (oci-dir: is an alias; DIR may not contain ':')
//	docker-archive:FILE[:REPO:TAG] (FILE may not contain ':')
//	docker:IMAGE                   (docker-daemon: is an alias)
//	podman:IMAGE
//	[docker://|registry:]REGISTRY/REPO[:TAG|@DIGEST]
//
// where IMAGE is NAME[:TAG], NAME@DIGEST or an image ID ([sha256:]HEX, at least 12
// hex digits). docker:// (with the slashes) is a registry, as in skopeo.
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
	case strings.HasPrefix(s, "docker-daemon:"):
		return parseEngine(s, s[len("docker-daemon:"):], TransportDocker)
	case strings.HasPrefix(s, "docker:"):
		return parseEngine(s, s[len("docker:"):], TransportDocker)
	case strings.HasPrefix(s, "podman:"):
		return parseEngine(s, s[len("podman:"):], TransportPodman)
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

// parseEngine parses the IMAGE of docker:IMAGE or podman:IMAGE.
func parseEngine(s, rest string, tr Transport) (Ref, error) {
	r := Ref{Transport: tr}
	if rest == "" {
		return Ref{}, badRef(s, string(tr)+": needs an image, as in "+string(tr)+":NAME[:TAG], "+string(tr)+":NAME@DIGEST or "+string(tr)+":IMAGE-ID")
	}
	if isImageID(rest) {
		r.Image = rest
		return r, nil
	}
	if strings.HasPrefix(rest, "sha256:") {
		return Ref{}, badRef(s, "an image ID is sha256: and 64 hex digits, or a prefix of at least 12 hex digits")
	}
	if strings.HasPrefix(rest, "http://") || strings.HasPrefix(rest, "https://") || strings.HasPrefix(rest, "/") {
		return Ref{}, badRef(s, "the image after "+string(tr)+": is a name such as registry.example.com/app:v1 or an image ID")
	}
	n, err := parseRegistry(s, rest)
	if err != nil {
		return Ref{}, err
	}
	r.Name = n.Name
	r.Image = rest
	if tr == TransportDocker || hasRegistry(rest) {
		r.Image = canonicalName(n.Name)
	}
	return r, nil
}

// isImageID reports whether s is an image ID as engines print them: sha256:HEX (64
// digits) or 12 to 64 lowercase hex digits (a prefix of one).
func isImageID(s string) bool {
	if h, ok := strings.CutPrefix(s, "sha256:"); ok {
		return len(h) == 64 && isHex(h)
	}
	return len(s) >= 12 && len(s) <= 64 && isHex(s)
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

// hasRegistry reports whether a name starts with a registry host, as Docker and Podman
// decide: a first component holding '.' or ':', or "localhost".
func hasRegistry(s string) bool {
	first, _, ok := strings.Cut(s, "/")
	return ok && (strings.ContainsAny(first, ".:") || first == "localhost")
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
	// Docker Hub's "library/" can push a repository name past its length limit.
	if _, err := name.ParseReference(canonicalName(n)); err != nil {
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
	case TransportDocker, TransportPodman:
		return string(r.Transport) + ":" + r.Image
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
