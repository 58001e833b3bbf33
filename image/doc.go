// Package image opens container images from registries, OCI layouts and docker-archives
// and reports them as graph facts.
//
// A reference names where the image is, in the syntax skopeo and syft use:
//
//	registry.example.com/team/app:v1     a registry (also docker://… and registry:…)
//	registry.example.com/team/app@sha256:…
//	oci:DIR[:TAG|@DIGEST]                an OCI image layout directory (also oci-dir:)
//	docker-archive:FILE[:REPO:TAG]       a `docker save` tarball
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
