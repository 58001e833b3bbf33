package source_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/internal/testgit"
	"github.com/tether-sec/tether/source"
	"github.com/tether-sec/tether/store"
)

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
	r := testgit.New(t)
	var commits []string
	add := func(msg string, files map[string]string) { commits = append(commits, r.Commit(msg, files)) }
	add("initial", map[string]string{"README.md": "hello\n", "src/a.go": "package a\n", "src/b/b.go": "package b\n", "run.sh": "+x:#!/bin/sh\necho hi\n"})
	add("modify and delete", map[string]string{"src/a.go": "package a // v2\n", "src/b/b.go": ""})
	add("file becomes a directory", map[string]string{"conf": "x=1\n"})
	add("...", map[string]string{"conf": "", "conf/app.yaml": "x: 1\n", "link": "->README.md"})
	add("directory becomes a file", map[string]string{"src/b": "now a file\n"})
	add("executable bit only", map[string]string{"README.md": "+x:hello\n"})
	r.Run("checkout", "-q", "-b", "feature")
	add("feature work", map[string]string{"feature.txt": "f\n", "src/a.go": "package a // feature\n"})
	r.Run("checkout", "-q", "main")
	add("main moves on", map[string]string{"main.txt": "m\n"})
	r.Run("merge", "-q", "--no-ff", "-m", "merge feature", "feature")
	r.Tick()
	commits = append(commits, r.Run("rev-parse", "HEAD"))

	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stats, err := source.IndexBlobs(ctx, r.Dir, st, source.Options{})
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
			gitTrees[c] = r.Tree(c)
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
			if d := cmp.Diff(gitTrees[c], got[c]); d != "" {
				t.Errorf("commit %s: tree from the index differs from git ls-tree (-git +index):\n%s", c[:7], d)
			}
		}
	}
	check(commits)

	// A second run reads nothing; new commits are added alone.
	again, err := source.IndexBlobs(ctx, r.Dir, st, source.Options{})
	if err != nil || again.Indexed != 0 {
		t.Fatalf("second run: %+v, %v; want nothing indexed", again, err)
	}
	add("after the merge", map[string]string{"src/a.go": "package a // v3\n"})
	add("and again", map[string]string{"README.md": ""})
	more, err := source.IndexBlobs(ctx, r.Dir, st, source.Options{})
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
	if _, err := source.IndexBlobs(ctx, r.Dir, capped, source.Options{MaxCommits: 3}); err != nil {
		t.Fatal(err)
	}
	last := commits[len(commits)-3:]
	got := indexedTrees(t, capped, stats.Repo, []string{"README.md", "src/a.go", "src/b", "conf/app.yaml", "run.sh", "feature.txt", "main.txt"})
	if len(got) != 3 {
		t.Fatalf("capped index holds %d commits, want 3", len(got))
	}
	for _, c := range last {
		if d := cmp.Diff(r.Tree(c), got[c]); d != "" {
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
