package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/tether-sec/tether/graph"
)

// Options configure ScanRepo. The zero value is ready to use.
type Options struct {
	// MaxCommits caps how many commits are indexed, newest first by committer
	// date (HEAD always comes first); 0 indexes every commit reachable from HEAD,
	// local branches and tags. Parents beyond the cap are stub commit nodes.
	MaxCommits int
	// Logger receives progress at debug level; nil discards it.
	Logger *slog.Logger
	// Now stamps the batch; nil means time.Now.
	Now func() time.Time
}

// ErrNotRepo is the sentinel for a path that holds no git repository.
var ErrNotRepo = errors.New("source: not a git repository")

// ErrNoCommits is the sentinel for a repository whose HEAD has no commit yet.
var ErrNoCommits = errors.New("source: repository has no commits")

// PathError says why path cannot be scanned. It matches its sentinel (ErrNotRepo
// or ErrNoCommits) and unwraps to the underlying error, if any.
type PathError struct {
	Path     string
	Msg      string
	Sentinel error
	Err      error
}

func (e *PathError) Error() string { return e.Path + " " + e.Msg }

// Is makes a PathError match its sentinel.
func (e *PathError) Is(target error) bool { return target == e.Sentinel }

// Unwrap returns the underlying error.
func (e *PathError) Unwrap() error { return e.Err }

func notRepo(path string, err error) error {
	return &PathError{Path: path, Msg: "is not a git repository: pass the path of a git work tree (or run `git init`)", Sentinel: ErrNotRepo, Err: err}
}

// Method and evidence names on the edges ScanRepo draws.
const (
	methodGit        = "git"
	methodGitTree    = "git-tree"
	methodCodeowners = "codeowners"
)

// ScanRepo indexes the git repository at path (a work tree, any directory inside
// one, or a bare repository) and returns its facts: the repository, every commit
// reachable from HEAD, local branches and tags, their authors, every file at
// HEAD, and the Dockerfiles and CODEOWNERS files of every indexed commit, with
// Dockerfiles parsed into stages and instructions and HEAD's Dockerfiles linked
// to their CODEOWNERS owners. The same repository gives the same batch.
//
// A path without a repository gives an error matching ErrNotRepo; a repository
// without commits one matching ErrNoCommits. A Dockerfile or CODEOWNERS file
// that does not parse is recorded on its file node and the scan goes on.
func ScanRepo(ctx context.Context, path string, opts Options) (*graph.Batch, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := time.Now()

	repo, root, closeRepo, err := open(path)
	if err != nil {
		return nil, err
	}
	defer closeRepo()
	s, err := newScan(ctx, repo, root, log)
	if err != nil {
		return nil, err
	}
	log.Debug("opened repository", "path", root, "repo", s.repoID)

	if err := s.walkCommits(opts.MaxCommits); err != nil {
		return nil, err
	}
	log.Debug("walked commits", "commits", len(s.commits))
	for _, c := range s.commits {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := s.addCommit(c); err != nil {
			return nil, err
		}
	}
	log.Debug("indexed history", "commits", len(s.commits), "trees", len(s.treeMemo))
	if err := s.addHeadFiles(); err != nil {
		return nil, err
	}
	s.addRepo()

	out := s.batch(now())
	log.Debug("scanned repository", "path", root, "commits", len(s.commits),
		"nodes", len(out.Nodes), "edges", len(out.Edges), "took", time.Since(start))
	return out, nil
}

// open opens the repository at path and returns it with the absolute path of its
// work tree (or of the repository itself when it is bare) and a function that
// releases it.
func open(path string) (*git.Repository, string, func(), error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", nil, notRepo(path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, "", nil, notRepo(path, err)
	}
	if !fi.IsDir() {
		abs = filepath.Dir(abs) // a file inside a work tree: scan the repository holding it
	}
	// Without detection first, so that a bare repository inside some work tree
	// is itself; then walk up from a directory inside a work tree.
	repo, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, err = git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	}
	if err != nil {
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, "", nil, notRepo(path, nil)
		}
		return nil, "", nil, fmt.Errorf("source: opening %s: %w", path, err)
	}
	root := abs
	var wtFS billy.Filesystem
	if wt, err := repo.Worktree(); err == nil {
		wtFS = wt.Filesystem
		root = wtFS.Root()
	}
	// Reopen the same storage keeping pack files open: go-git otherwise opens
	// the pack file again for every object it reads.
	st, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return repo, root, func() {}, nil
	}
	kept := filesystem.NewStorageWithOptions(st.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	fast, err := git.Open(kept, wtFS)
	if err != nil {
		kept.Close()
		return repo, root, func() {}, nil
	}
	return fast, root, func() { kept.Close() }, nil
}

// redactURL drops the user information of a remote URL with a scheme, where
// credentials live ("https://x-access-token:TOKEN@github.com/…"). The scp-like
// form ("git@github.com:acme/app") has no room for a password and is kept.
func redactURL(raw string) string {
	if !strings.Contains(raw, "://") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Unparseable: keep only what follows the last "@" of the authority.
		scheme, rest, _ := strings.Cut(raw, "://")
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			rest = rest[at+1:]
		}
		return scheme + "://" + rest
	}
	u.User = nil
	return u.String()
}

// repoURL picks the repository's identity: the origin remote's URL, else the
// first remote's (by name), else the absolute path.
func repoURL(remotes map[string]string, root string) string {
	if u := remotes["origin"]; u != "" {
		return u
	}
	names := make([]string, 0, len(remotes))
	for n := range remotes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if remotes[n] != "" {
			return remotes[n]
		}
	}
	return root
}

// headCommit resolves HEAD to a commit hash.
func headCommit(repo *git.Repository, root string) (plumbing.Hash, string, error) {
	ref, err := repo.Head()
	if err != nil {
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return plumbing.ZeroHash, "", &PathError{Path: root, Msg: "has no commits yet: commit something (git commit), then scan again", Sentinel: ErrNoCommits, Err: err}
		}
		return plumbing.ZeroHash, "", fmt.Errorf("source: resolving HEAD of %s: %w", root, err)
	}
	name := "HEAD"
	if sym, err := repo.Storer.Reference(plumbing.HEAD); err == nil && sym.Type() == plumbing.SymbolicReference {
		name = sym.Target().String()
	}
	return ref.Hash(), name, nil
}
