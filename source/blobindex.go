package source

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/tether-sec/tether/graph"
)

// BlobIndex is the blob index IndexBlobs brings up to date; a store.Store is one.
type BlobIndex interface {
	GitCommits(ctx context.Context, repo string) ([]graph.GitCommit, error)
	PutGitIndex(ctx context.Context, repo string, commits []graph.GitCommit, changes []graph.GitChange) error
}

// IndexStats says what IndexBlobs did.
type IndexStats struct {
	// Repo is the repository's identity in the index and the graph (its remote
	// URL, else its path), as ScanRepo names it.
	Repo string `json:"repo"`
	// Commits is how many commits are reachable; Indexed how many of them this
	// call added (the others were indexed before); Changes how many file
	// changes it recorded.
	Commits int           `json:"commits"`
	Indexed int           `json:"indexed"`
	Changes int           `json:"changes"`
	Took    time.Duration `json:"took"`
}

// indexBatch is how many commits go into one PutGitIndex transaction. A
// cancelled or failed run keeps the batches written before: every commit in the
// index has its first parent indexed too, so the next run goes on from there.
const indexBatch = 2000

// IndexBlobs records, for every commit reachable from HEAD, the local branches
// and tags (at most opts.MaxCommits of them, newest first), the files it changed
// against its first parent: path and git blob hash, or a deletion. Commits the
// index already holds are skipped, so a second run reads only new commits. A
// commit whose first parent is not indexed (beyond MaxCommits, or missing from a
// shallow clone) is recorded with its whole tree, as a root. Regular and
// executable files count; symlinks and submodules do not.
//
// From the index, lineage finds which commits hold the files of an image: the
// content match that needs no label, attestation or CI change.
func IndexBlobs(ctx context.Context, path string, idx BlobIndex, opts Options) (IndexStats, error) {
	start := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	repo, root, closeRepo, err := open(path)
	if err != nil {
		return IndexStats{}, err
	}
	defer closeRepo()
	s, err := newScan(ctx, repo, root, log)
	if err != nil {
		return IndexStats{}, err
	}
	st := IndexStats{Repo: s.url}
	if err := s.walkCommits(opts.MaxCommits); err != nil {
		return st, err
	}
	st.Commits = len(s.commits)
	have, err := idx.GitCommits(ctx, s.url)
	if err != nil {
		return st, fmt.Errorf("source: reading the blob index of %s: %w", s.url, err)
	}
	indexed := make(map[string]bool, len(have))
	for _, c := range have {
		indexed[c.Hash] = true
	}

	// Parents before children, so that every batch written leaves the index
	// whole: a commit's first parent is always indexed before it.
	todo := parentsFirst(s.commits, func(h plumbing.Hash) bool { return indexed[h.String()] })
	log.Debug("blob index: commits to index", "repo", s.url, "reachable", len(s.commits), "new", len(todo))
	var commits []graph.GitCommit
	var changes []graph.GitChange
	flush := func() error {
		if len(commits) == 0 {
			return nil
		}
		if err := idx.PutGitIndex(ctx, s.url, commits, changes); err != nil {
			return fmt.Errorf("source: writing the blob index of %s: %w", s.url, err)
		}
		st.Indexed += len(commits)
		st.Changes += len(changes)
		commits, changes = commits[:0], changes[:0]
		return nil
	}
	for _, c := range todo {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		parent := plumbing.ZeroHash
		if len(c.ParentHashes) > 0 {
			p := c.ParentHashes[0]
			if s.included[p] || indexed[p.String()] {
				parent = p
			}
		}
		var from plumbing.Hash
		if !parent.IsZero() {
			pc, err := s.repo.CommitObject(parent)
			if err != nil {
				return st, fmt.Errorf("source: reading commit %s: %w", parent, err)
			}
			from = pc.TreeHash
		}
		gc := graph.GitCommit{Hash: c.Hash.String(), Committed: c.Committer.When.UTC()}
		if !parent.IsZero() {
			gc.FirstParent = parent.String()
		}
		commits = append(commits, gc)
		err := s.diffTrees(from, c.TreeHash, "", func(p string, blob plumbing.Hash) {
			ch := graph.GitChange{Commit: gc.Hash, Path: p}
			if !blob.IsZero() {
				ch.Blob = blob.String()
			}
			changes = append(changes, ch)
		})
		if err != nil {
			return st, fmt.Errorf("source: comparing commit %s with its parent: %w", c.Hash, err)
		}
		indexed[gc.Hash] = true
		if len(commits) >= indexBatch {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	if err := flush(); err != nil {
		return st, err
	}
	st.Took = time.Since(start)
	log.Debug("blob index: updated", "repo", s.url, "indexed", st.Indexed, "changes", st.Changes, "took", st.Took)
	return st, nil
}

// parentsFirst orders the commits not yet indexed so that each comes after its
// parents among them.
func parentsFirst(commits []*object.Commit, indexed func(plumbing.Hash) bool) []*object.Commit {
	byHash := make(map[plumbing.Hash]*object.Commit, len(commits))
	for _, c := range commits {
		if !indexed(c.Hash) {
			byHash[c.Hash] = c
		}
	}
	out := make([]*object.Commit, 0, len(byHash))
	done := make(map[plumbing.Hash]bool, len(byHash))
	// Iterative depth-first post-order: deep histories must not overflow the stack.
	type frame struct {
		c    *object.Commit
		next int
	}
	// Oldest first among the starting points, so the order is stable.
	for i := len(commits) - 1; i >= 0; i-- {
		c, ok := byHash[commits[i].Hash]
		if !ok || done[c.Hash] {
			continue
		}
		stack := []frame{{c: c}}
		done[c.Hash] = true
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next < len(top.c.ParentHashes) {
				p := top.c.ParentHashes[top.next]
				top.next++
				if pc, ok := byHash[p]; ok && !done[p] {
					done[p] = true
					stack = append(stack, frame{c: pc})
				}
				continue
			}
			out = append(out, top.c)
			stack = stack[:len(stack)-1]
		}
	}
	return out
}

// diffTrees reports every file whose blob differs between the trees from and to
// (from may be zero: the empty tree), with a zero hash for a file gone. Subtrees
// with the same hash are skipped without being read.
func (s *scan) diffTrees(from, to plumbing.Hash, prefix string, emit func(path string, blob plumbing.Hash)) error {
	if from == to {
		return nil
	}
	var a, b []object.TreeEntry
	if !from.IsZero() {
		t, err := s.repo.TreeObject(from)
		if err != nil {
			return err
		}
		a = t.Entries
	}
	if !to.IsZero() {
		t, err := s.repo.TreeObject(to)
		if err != nil {
			return err
		}
		b = t.Entries
	}
	old := make(map[string]object.TreeEntry, len(a))
	for _, e := range a {
		old[e.Name] = e
	}
	for _, e := range b {
		p := e.Name
		if prefix != "" {
			p = prefix + "/" + e.Name
		}
		o, had := old[e.Name]
		delete(old, e.Name)
		if had && o.Hash == e.Hash && o.Mode == e.Mode {
			continue
		}
		oldDir, newDir := had && o.Mode == filemode.Dir, e.Mode == filemode.Dir
		oldFile, newFile := had && isFileMode(o.Mode), isFileMode(e.Mode)
		switch {
		case newDir:
			var fromDir plumbing.Hash
			if oldDir {
				fromDir = o.Hash
			}
			if err := s.diffTrees(fromDir, e.Hash, p, emit); err != nil {
				return err
			}
			if oldFile {
				emit(p, plumbing.ZeroHash)
			}
		case newFile:
			if oldDir {
				if err := s.diffTrees(o.Hash, plumbing.ZeroHash, p, emit); err != nil {
					return err
				}
			}
			if !oldFile || o.Hash != e.Hash {
				emit(p, e.Hash)
			}
		default: // a symlink or submodule now
			if oldDir {
				if err := s.diffTrees(o.Hash, plumbing.ZeroHash, p, emit); err != nil {
					return err
				}
			}
			if oldFile {
				emit(p, plumbing.ZeroHash)
			}
		}
	}
	// What only the old tree has is gone.
	for _, o := range a {
		if _, gone := old[o.Name]; !gone {
			continue
		}
		p := o.Name
		if prefix != "" {
			p = prefix + "/" + o.Name
		}
		switch {
		case o.Mode == filemode.Dir:
			if err := s.diffTrees(o.Hash, plumbing.ZeroHash, p, emit); err != nil {
				return err
			}
		case isFileMode(o.Mode):
			emit(p, plumbing.ZeroHash)
		}
	}
	return nil
}

func isFileMode(m filemode.FileMode) bool {
	return m == filemode.Regular || m == filemode.Executable || m == filemode.Deprecated
}
