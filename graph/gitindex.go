package graph

import "time"

// GitCommit is one commit of a repository's blob index: the facts the source
// collector records so that an image's files can be matched to the commits
// whose trees hold them.
type GitCommit struct {
	Hash string
	// FirstParent is the commit the changes are against; empty for a root commit.
	FirstParent string
	Committed   time.Time
}

// GitChange is a file a commit changed against its first parent (every file of
// a root commit). Blob is the git blob SHA-1 in hex; empty for a deletion.
type GitChange struct {
	Commit string
	Path   string
	Blob   string
}

// FileBlob is a regular file of an image's file system, named by its git blob
// hash so that it can be looked up in the blob index.
type FileBlob struct {
	// Path inside the image, slash-separated, without a leading slash.
	Path string `json:"path"`
	// Blob is the git blob SHA-1 of the content, in hex: SHA-1 of
	// "blob <size>\x00" followed by the content.
	Blob string `json:"blob"`
	Size int64  `json:"size"`
	// Layer is the index of the layer that wrote the file.
	Layer int `json:"layer"`
	// Build is what the file records of its own build, where it is a Go binary,
	// a git.properties file (loose or in a jar) or an application's package.json.
	// A file too large to hash has an empty Blob and only this.
	Build *BuildInfo `json:"build,omitempty"`
}

// BuildInfo is a build's own record of its source, found in a file of an image.
type BuildInfo struct {
	// Kind is "go-buildinfo", "git.properties" or "package.json".
	Kind string `json:"kind"`
	// Module is the Go main module path or the npm package name.
	Module string `json:"module,omitempty"`
	// Repo is the repository URL where the file names one.
	Repo     string `json:"repo,omitempty"`
	Revision string `json:"revision"`
	Time     string `json:"time,omitempty"`
	// Modified is true when the build says its work tree had uncommitted changes
	// (Go vcs.modified, git.dirty).
	Modified bool `json:"modified,omitempty"`
}
