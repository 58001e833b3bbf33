// Package sbom catalogs the packages in a directory or an image and holds them in a
// format-neutral bill of materials that the format packages encode and decode.
package sbom

import "time"

// SBOM is a bill of materials for one subject.
type SBOM struct {
	Subject  Subject
	Tool     Tool
	Created  time.Time
	Packages []Package
	// Relationships between packages (by Package.ID), where a lockfile or the
	// installed tree carries them.
	Relationships []Relationship
	// Problems are files that could not be read or parsed: partial failure is
	// data, the catalog goes on.
	Problems []Problem
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
	Kind SubjectKind
	// Name is the path or the image reference as the user gave it.
	Name string
	// ImageDigest is the manifest digest ("sha256:…") of an image subject.
	ImageDigest string
	// Platform of an image subject, "os/arch[/variant]".
	Platform string
	// RepoURL and Commit name the source when known (a git subject, or lineage).
	RepoURL string
	Commit  string
}

// Tool names the program that made the SBOM.
type Tool struct {
	Name, Version string
}

// Package is one component.
type Package struct {
	// ID is unique within the SBOM and stable across runs over the same input
	// (derived from the purl and the first location).
	ID      string
	Name    string
	Version string
	// Type is the purl type: deb, apk, rpm, golang, npm, pypi, maven, cargo, gem,
	// composer, nuget, generic.
	Type     string
	PURL     string
	CPEs     []string
	Licenses []string
	// SourceName and SourceVersion name the OS source package a binary package was
	// built from (dpkg "Source:", apk origin, rpm source RPM), for advisory matching.
	SourceName    string
	SourceVersion string
	// FoundBy names the extractor that found the package (e.g. "os/dpkg").
	FoundBy   string
	Locations []Location
	// Dev is true for a development-only dependency, where the lockfile says so.
	Dev bool
}

// Location is where a package was found.
type Location struct {
	// Path inside the subject, slash-separated, without a leading slash.
	Path string
	// Image subjects: the layer that holds the file and the history entry that made it.
	LayerDigest  string
	LayerDiffID  string
	LayerIndex   int
	HistoryIndex int
	CreatedBy    string
	// InBaseImage is true when the layer comes from the base image, where known.
	InBaseImage bool
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
	From, To string
	Type     RelationshipType
}

// Problem is a file that could not be cataloged and why.
type Problem struct {
	Path    string
	Layer   string
	Message string
}
