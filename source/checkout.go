package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrBadRevision is the sentinel for a revision that names no commit.
var ErrBadRevision = errors.New("source: unknown revision")

// Origin names where a directory's content came from: the repository (its origin
// remote, credentials removed, else its path) and the commit.
type Origin struct {
	RepoURL string
	Commit  string
	// Clean is false when the work tree differs from Commit (Describe only).
	Clean bool
}

// Describe reports the repository and HEAD commit of the work tree that holds
// dir. Clean says whether the work tree matches HEAD (untracked files ignored are
// not counted by git's rules: .gitignore applies). A dir outside any repository
// gives an error matching ErrNotRepo.
func Describe(ctx context.Context, dir string) (Origin, error) {
	repo, root, closeRepo, err := open(dir)
	if err != nil {
		return Origin{}, err
	}
	defer closeRepo()
	if err := ctx.Err(); err != nil {
		return Origin{}, err
	}
	s, err := newScan(ctx, repo, root, slog.New(slog.DiscardHandler))
	if err != nil {
		return Origin{}, err
	}
	o := Origin{RepoURL: s.url, Commit: s.head.String()}
	if wt, err := repo.Worktree(); err == nil {
		if st, err := wt.Status(); err == nil {
			o.Clean = st.IsClean()
		}
	}
	return o, nil
}

// Export writes the tree of revision rev (anything `git rev-parse` takes that go-git
// resolves: a branch, tag, full or short commit hash, HEAD~2) of the repository at
// repoPath into dst, an empty directory, and returns its origin. Only regular files
// are written (with their executable bit); symlinks and submodules are not, and a
// tree entry whose path would leave dst is refused. Files larger than maxFileSize
// bytes (0: no limit) are skipped and listed in the returned skipped slice.
func Export(ctx context.Context, repoPath, rev, dst string, maxFileSize int64) (o Origin, skipped []string, err error) {
	repo, root, closeRepo, err := open(repoPath)
	if err != nil {
		return Origin{}, nil, err
	}
	defer closeRepo()
	s, err := newScan(ctx, repo, root, slog.New(slog.DiscardHandler))
	if err != nil {
		return Origin{}, nil, err
	}
	if rev == "" {
		rev = "HEAD"
	}
	h, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return Origin{}, nil, fmt.Errorf("%w %q in %s: %v (give a branch, tag or commit)", ErrBadRevision, rev, root, err)
	}
	c, err := repo.CommitObject(*h)
	if err != nil {
		return Origin{}, nil, fmt.Errorf("%w %q in %s: %v", ErrBadRevision, rev, root, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return Origin{}, nil, fmt.Errorf("source: reading the tree of %s: %w", c.Hash, err)
	}
	o = Origin{RepoURL: s.url, Commit: c.Hash.String(), Clean: true}
	err = tree.Files().ForEach(func(f *object.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.Mode != filemode.Regular && f.Mode != filemode.Executable && f.Mode != filemode.Deprecated {
			return nil // symlinks, submodules
		}
		if maxFileSize > 0 && f.Size > maxFileSize {
			skipped = append(skipped, f.Name)
			return nil
		}
		rel := path.Clean(f.Name)
		if rel == "." || path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") || strings.Contains(rel, "\x00") {
			return fmt.Errorf("source: tree entry %q of %s leaves the tree", f.Name, c.Hash)
		}
		return writeBlob(f, filepath.Join(dst, filepath.FromSlash(rel)))
	})
	if err != nil {
		return Origin{}, nil, err
	}
	return o, skipped, nil
}

func writeBlob(f *object.File, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	r, err := f.Reader()
	if err != nil {
		return fmt.Errorf("source: reading %s: %w", f.Name, err)
	}
	defer r.Close()
	mode := os.FileMode(0o644)
	if f.Mode == filemode.Executable {
		mode = 0o755
	}
	// O_EXCL: a path written twice (or created by a hostile tree as a directory
	// and a file) is an error, never an overwrite through something unexpected.
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("source: writing %s: %w", f.Name, err)
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return fmt.Errorf("source: writing %s: %w", f.Name, err)
	}
	return out.Close()
}
