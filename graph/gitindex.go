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
}
