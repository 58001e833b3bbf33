// Package testgit makes real git repositories with the git command for tests,
// with fixed author and commit dates so that runs are reproducible and commit
// order is known.
package testgit

import (
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-sec/tether/internal/testenv"
)

// start is the date of a repository's first commit; each commit is an hour later.
var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Repo is a git repository in a temporary directory.
type Repo struct {
	t    testing.TB
	Dir  string
	git  string
	tick int
}

// New runs `git init -b main` in a new temporary directory. Without git the test
// skips, or fails under CI=true.
func New(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: t.TempDir(), git: testenv.LookPath(t, "git", "apt-get install git")}
	r.Run("init", "-q", "-b", "main")
	return r
}

// Run runs git in the repository with the current date and returns its
// trimmed output; a failure fails the test.
func (r *Repo) Run(args ...string) string {
	r.t.Helper()
	cmd := exec.Command(r.git, append([]string{"-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = r.Dir
	date := start.Add(time.Duration(r.tick) * time.Hour).Format(time.RFC3339)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	b, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, b)
	}
	return strings.TrimSpace(string(b))
}

// Tick moves the repository's clock an hour on (Commit does it itself).
func (r *Repo) Tick() { r.tick++ }

// Write changes the work tree: "" removes a path (file or directory), "->T"
// makes a symlink to T, a "+x:" prefix an executable. Removals come first, so
// that "conf" can go where "conf/app.yaml" comes.
func (r *Repo) Write(files map[string]string) {
	r.t.Helper()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(b2i(files[a] != ""), b2i(files[b] != "")), strings.Compare(a, b))
	})
	for _, name := range names {
		body := files[name]
		p := filepath.Join(r.Dir, filepath.FromSlash(name))
		os.RemoveAll(p)
		switch {
		case body == "":
		case strings.HasPrefix(body, "->"):
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.Symlink(body[2:], p); err != nil {
				r.t.Fatal(err)
			}
		default:
			mode := os.FileMode(0o644)
			if b, ok := strings.CutPrefix(body, "+x:"); ok {
				body, mode = b, 0o755
			}
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(body), mode); err != nil {
				r.t.Fatal(err)
			}
		}
	}
}

// Commit writes files (see Write), commits everything and returns the SHA.
func (r *Repo) Commit(msg string, files map[string]string) string {
	r.t.Helper()
	r.Write(files)
	r.Run("add", "-A")
	r.Run("commit", "-q", "--allow-empty", "-m", msg)
	r.tick++
	return r.Run("rev-parse", "HEAD")
}

// Tree is git's own view of a commit: its regular and executable files and
// their blob hashes (git ls-tree).
func (r *Repo) Tree(commit string) map[string]string {
	r.t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(r.Run("ls-tree", "-r", "--full-tree", commit), "\n") {
		meta, p, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta)
		if f[1] == "blob" && (f[0] == "100644" || f[0] == "100755") {
			out[p] = f[2]
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
