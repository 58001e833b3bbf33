// Package image opens container images from registries, OCI layouts, docker-archives
// and container engines (Docker, Podman) and reports them as graph facts.
//
// A reference names where the image is, in the syntax skopeo and syft use:
//
//	registry.example.com/team/app:v1     a registry (also docker://… and registry:…)
//	registry.example.com/team/app@sha256:…
//	oci:DIR[:TAG|@DIGEST]                an OCI image layout directory (also oci-dir:)
//	docker-archive:FILE[:REPO:TAG]       a `docker save` tarball
//	docker:IMAGE                         an image a Docker engine holds (also docker-daemon:)
//	podman:IMAGE                         an image a Podman engine holds
//
// where IMAGE is NAME[:TAG], NAME@DIGEST or an image ID. docker: and podman: talk the
// Docker Engine API over the engine's socket: WithEngineSocket, else DOCKER_HOST
// (default unix:///var/run/docker.sock) for docker:, and CONTAINER_HOST, then
// $XDG_RUNTIME_DIR/podman/podman.sock, then /run/podman/podman.sock for podman:. Start
// Podman's with `podman system service --time=0 unix:///PATH`. The image is exported
// (`docker save`) to a temporary file, capped by WithEngineMaxSize, that Target.Close
// removes. Its digest is the registry manifest digest the engine recorded when it
// pulled the image (DigestFromEngine), which is what a container running it reports;
// an image that never came from a registry gets a computed one (DigestFromComputed).
//
// Open resolves a reference to a Target (an image index with its platform images, or a
// single image); Target.Batch turns it into graph facts: an image_index node, an image
// node per platform manifest, a layer node per layer, and has_manifest and has_layer
// edges. Scan does both.
//
// Environment variables are reported by name only: their values often hold secrets.
// For the same reason, "NAME=VALUE" assignments of the image's environment are
// redacted from history entries (where ENV instructions echo them).
package image
