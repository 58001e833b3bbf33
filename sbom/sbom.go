// Package sbom catalogs the packages in a directory or an image and holds them in a
// format-neutral bill of materials that the format packages encode and decode.
package sbom

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tether-sec/tether/gosymbols"
)

// SBOM is a bill of materials for one subject.
type SBOM struct {
	Subject  Subject   `json:"subject"`
	Tool     Tool      `json:"tool"`
	Created  time.Time `json:"created"`
	Packages []Package `json:"packages"`
	// Relationships between packages (by Package.ID), where a lockfile or the
	// installed tree carries them.
	Relationships []Relationship `json:"relationships,omitempty"`
	// Problems are files that could not be read or parsed: partial failure is
	// data, the catalog goes on.
	Problems []Problem `json:"problems,omitempty"`
}

// SubjectKind says what an SBOM describes.
type SubjectKind string

// Subject kinds.
const (
	SubjectDirectory SubjectKind = "directory"
	SubjectImage     SubjectKind = "image"
	SubjectGit       SubjectKind = "git"
)

// Subject is what was cataloged.
type Subject struct {
	Kind SubjectKind `json:"kind"`
	// Name is the path or the image reference as the user gave it.
	Name string `json:"name"`
	// ImageDigest is the manifest digest ("sha256:…") of an image subject.
	ImageDigest string `json:"image_digest,omitempty"`
	// Platform of an image subject, "os/arch[/variant]".
	Platform string `json:"platform,omitempty"`
	// RepoURL and Commit name the source when known (a git subject, or lineage).
	RepoURL string `json:"repo_url,omitempty"`
	Commit  string `json:"commit,omitempty"`
}

// Tool names the program that made the SBOM.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// Package is one component.
type Package struct {
	// ID is unique within the SBOM and stable across runs over the same input
	// (derived from the purl and the first location).
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// Type is the purl type: deb, apk, rpm, golang, npm, pypi, maven, cargo, gem,
	// composer, nuget, generic.
	Type     string   `json:"type"`
	PURL     string   `json:"purl,omitempty"`
	CPEs     []string `json:"cpes,omitempty"`
	Licenses []string `json:"licenses,omitempty"`
	// SourceName and SourceVersion name the OS source package a binary package was
	// built from (dpkg "Source:", apk origin, rpm source RPM), for advisory matching.
	SourceName    string `json:"source_name,omitempty"`
	SourceVersion string `json:"source_version,omitempty"`
	// FoundBy names the extractor that found the package (e.g. "os/dpkg").
	FoundBy   string     `json:"found_by,omitempty"`
	Locations []Location `json:"locations"`
	// Dev is true for a development-only dependency, where the lockfile says so.
	Dev bool `json:"dev,omitempty"`
	// GoSymbols are the functions of the Go binary a module or toolchain
	// package was found in (shared by the packages of one binary), for advisories
	// that name vulnerable symbols. Nil for other packages and for SBOMs decoded
	// from a file; it is not part of any SBOM format.
	GoSymbols *gosymbols.Table `json:"-"`
}

// Location is where a package was found.
type Location struct {
	// Path inside the subject, slash-separated, without a leading slash.
	Path string `json:"path"`
	// Image subjects: the layer that holds the file and the history entry that made it.
	// LayerIndex counts the manifest's layers from 0; HistoryIndex is the index into
	// the config's history (empty layers included). In an image SBOM made by
	// CatalogImage either is -1 when unknown (history that does not describe the
	// layers one to one); directory SBOMs leave them 0 with no layer digest.
	LayerDigest  string `json:"layer_digest,omitempty"`
	LayerDiffID  string `json:"layer_diff_id,omitempty"`
	LayerIndex   int    `json:"layer_index"`
	HistoryIndex int    `json:"history_index"`
	CreatedBy    string `json:"created_by,omitempty"`
	// InBaseImage is true when the layer comes from the base image, where known.
	InBaseImage bool `json:"in_base_image,omitempty"`
	// Dockerfile is the instruction that made the layer, where lineage knows it.
	Dockerfile *DockerfileRef `json:"dockerfile,omitempty"`
}

// DockerfileRef names the Dockerfile instruction that made a layer.
type DockerfileRef struct {
	// Path of the Dockerfile in its repository.
	Path string `json:"path"`
	// Instruction is the instruction keyword (RUN, COPY, ADD, FROM).
	Instruction string `json:"instruction,omitempty"`
	StartLine   int    `json:"start_line"`
	EndLine     int    `json:"end_line"`
}

// RelationshipType is the kind of a relationship between packages.
type RelationshipType string

// Relationship types.
const (
	DependsOn    RelationshipType = "depends-on"
	DevDependsOn RelationshipType = "dev-depends-on"
	Contains     RelationshipType = "contains" // a jar inside a jar, a module inside a binary
)

// Relationship links two packages by ID.
type Relationship struct {
	From string           `json:"from"`
	To   string           `json:"to"`
	Type RelationshipType `json:"type"`
}

// Problem is a file that could not be cataloged and why.
type Problem struct {
	Path    string `json:"path,omitempty"`
	Layer   string `json:"layer,omitempty"`
	Message string `json:"message"`
}

// MarshalJSON leaves out the layer and history indexes of a location outside an
// image, where they mean nothing.
func (l Location) MarshalJSON() ([]byte, error) {
	type plain Location
	if l.LayerDiffID != "" || l.LayerDigest != "" {
		return json.Marshal(plain(l))
	}
	return json.Marshal(struct {
		Path string `json:"path"`
	}{l.Path})
}

// ContentHash is a SHA-256 over everything in s, independent of the order of its
// packages and relationships: the same SBOM gets the same hash. Encoders derive
// stable document identifiers from it (CycloneDX serial number, SPDX namespace).
func ContentHash(s *SBOM) ([32]byte, error) {
	n := *s
	n.Packages = slices.Clone(s.Packages)
	slices.SortStableFunc(n.Packages, func(a, b Package) int { return strings.Compare(a.ID, b.ID) })
	n.Relationships = slices.Clone(s.Relationships)
	SortRelationships(n.Relationships)
	n.Created = s.Created.UTC()
	b, err := json.Marshal(&n)
	if err != nil {
		return [32]byte{}, fmt.Errorf("sbom: hashing: %w", err)
	}
	return sha256.Sum256(b), nil
}
