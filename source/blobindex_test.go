package source_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/internal/testenv"
	"github.com/tether-sec/tether/source"
	"github.com/tether-sec/tether/store"
)

// cliRepo drives the git command, so that the index is checked against git's
// own view of each commit's tree (git ls-tree), merges included.
type cliRepo struct {
	t    *testing.T
	dir  string
	git  string
	tick int
}

func (r *cliRepo) run(args ...string) string {
	r.t.Helper()
	cmd := exec.Command(r.git, append([]string{"-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = r.dir
	date := fmt.Sprintf("2026-01-01T00:%02d:00Z", r.tick)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	b, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, b)
	}
	return strings.TrimSpace(string(b))
}

// write changes the work tree: "" removes a path (file or directory), "->T"
// makes a symlink to T, "+x:" prefixes an executable's content.
func (r *cliRepo) write(files map[string]string) {
	r.t.Helper()
	// Removals first: "conf" may go where "conf/app.yaml" comes.
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(b2i(files[a] != ""), b2i(files[b] != "")), strings.Compare(a, b))
	})
	for _, name := range names {
		body := files[name]
		p := filepath.Join(r.dir, filepath.FromSlash(name))
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

func (r *cliRepo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	r.write(files)
	r.run("add", "-A")
	r.run("commit", "-q", "--allow-empty", "-m", msg)
	r.tick++
	return r.run("rev-parse", "HEAD")
}

// tree is git's view of a commit: regular and executable files → blob.
func (r *cliRepo) tree(commit string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(r.run("ls-tree", "-r", "--full-tree", commit), "\n") {
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

// indexedTrees rebuilds every indexed commit's tree from the index: its first
// parent's tree plus its changes.
func indexedTrees(t *testing.T, st store.Store, repo string, paths []string) map[string]map[string]string {
	t.Helper()
	ctx := context.Background()
	commits, err := st.GitCommits(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := st.GitChanges(ctx, repo, paths)
	if err != nil {
		t.Fatal(err)
	}
	byCommit := map[string][]graph.GitChange{}
	for _, c := range changes {
		byCommit[c.Commit] = append(byCommit[c.Commit], c)
	}
	parent := map[string]string{}
	for _, c := range commits {
		parent[c.Hash] = c.FirstParent
	}
	out := map[string]map[string]string{}
	var build func(h string) map[string]string
	build = func(h string) map[string]string {
		if tr, ok := out[h]; ok {
			return tr
		}
		tr := map[string]string{}
		if p := parent[h]; p != "" {
			for k, v := range build(p) {
				tr[k] = v
			}
		}
		for _, c := range byCommit[h] {
			if c.Blob == "" {
				delete(tr, c.Path)
			} else {
				tr[c.Path] = c.Blob
			}
		}
		out[h] = tr
		return tr
	}
	for _, c := range commits {
		build(c.Hash)
	}
	return out
}

func TestIndexBlobs(t *testing.T) {
	ctx := context.Background()
	r := &cliRepo{t: t, dir: t.TempDir(), git: testenv.LookPath(t, "git", "apt-get install git")}
	r.run("init", "-q", "-b", "main")
	var commits []string
	add := func(msg string, files map[string]string) { commits = append(commits, r.commit(msg, files)) }
	add("initial", map[string]string{"README.md": "hello\n", "src/a.go": "package a\n", "src/b/b.go": "package b\n", "run.sh": "+x:#!/bin/sh\necho hi\n"})
	add("modify and delete", map[string]string{"src/a.go": "package a // v2\n", "src/b/b.go": ""})
	add("file becomes a directory", map[string]string{"conf": "x=1\n"})
	add("...", map[string]string{"conf": "", "conf/app.yaml": "x: 1\n", "link": "->README.md"})
	add("directory becomes a file", map[string]string{"src/b": "now a file\n"})
	add("executable bit only", map[string]string{"README.md": "+x:hello\n"})
	r.run("checkout", "-q", "-b", "feature")
	add("feature work", map[string]string{"feature.txt": "f\n", "src/a.go": "package a // feature\n"})
	r.run("checkout", "-q", "main")
	add("main moves on", map[string]string{"main.txt": "m\n"})
	r.run("merge", "-q", "--no-ff", "-m", "merge feature", "feature")
	r.tick++
	commits = append(commits, r.run("rev-parse", "HEAD"))

	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stats, err := source.IndexBlobs(ctx, r.dir, st, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Commits != len(commits) || stats.Indexed != len(commits) || stats.Repo == "" {
		t.Fatalf("stats %+v, want %d commits indexed", stats, len(commits))
	}
	check := func(want []string) {
		t.Helper()
		paths := map[string]bool{}
		gitTrees := map[string]map[string]string{}
		for _, c := range want {
			gitTrees[c] = r.tree(c)
			for p := range gitTrees[c] {
				paths[p] = true
			}
		}
		// Paths that were files once and directories later, and the symlink,
		// must not linger either.
		for _, p := range []string{"conf", "src/b", "src/b/b.go", "link"} {
			paths[p] = true
		}
		var all []string
		for p := range paths {
			all = append(all, p)
		}
		got := indexedTrees(t, st, stats.Repo, all)
		for _, c := range want {
			if d := gocmp.Diff(gitTrees[c], got[c]); d != "" {
				t.Errorf("commit %s: tree from the index differs from git ls-tree (-git +index):\n%s", c[:7], d)
			}
		}
	}
	check(commits)

	// A second run reads nothing; new commits are added alone.
	again, err := source.IndexBlobs(ctx, r.dir, st, source.Options{})
	if err != nil || again.Indexed != 0 {
		t.Fatalf("second run: %+v, %v; want nothing indexed", again, err)
	}
	add("after the merge", map[string]string{"src/a.go": "package a // v3\n"})
	add("and again", map[string]string{"README.md": ""})
	more, err := source.IndexBlobs(ctx, r.dir, st, source.Options{})
	if err != nil || more.Indexed != 2 {
		t.Fatalf("incremental run: %+v, %v; want 2 commits indexed", more, err)
	}
	check(commits)

	// With a cap, the oldest indexed commit stands for its whole tree.
	capped, err := store.Open(ctx, filepath.Join(t.TempDir(), "capped.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer capped.Close()
	if _, err := source.IndexBlobs(ctx, r.dir, capped, source.Options{MaxCommits: 3}); err != nil {
		t.Fatal(err)
	}
	last := commits[len(commits)-3:]
	got := indexedTrees(t, capped, stats.Repo, []string{"README.md", "src/a.go", "src/b", "conf/app.yaml", "run.sh", "feature.txt", "main.txt"})
	if len(got) != 3 {
		t.Fatalf("capped index holds %d commits, want 3", len(got))
	}
	for _, c := range last {
		if d := gocmp.Diff(r.tree(c), got[c]); d != "" {
			t.Errorf("capped, commit %s (-git +index):\n%s", c[:7], d)
		}
	}
}

func TestIndexBlobsNotRepo(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := source.IndexBlobs(context.Background(), t.TempDir(), st, source.Options{}); err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Errorf("IndexBlobs of a plain directory = %v", err)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
