// Package lineage resolves where an image came from (image → commit → Dockerfile →
// owner) by combining the evidence collectors stored, and explains each link.
package lineage
