package source_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/tether-sec/tether/source"
	"github.com/tether-sec/tether/store"
)

// generateRepo writes a repository of commits commits over files files (in
// directories of 25, plus a Dockerfile in each directory and a CODEOWNERS file)
// straight into the object store, each commit changing one file and every 50th
// a Dockerfile, and packs it as a clone would be.
func generateRepo(tb testing.TB, dir string, commits, files int) []plumbing.Hash {
	tb.Helper()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		tb.Fatal(err)
	}
	st := repo.Storer
	put := func(enc interface {
		Encode(plumbing.EncodedObject) error
	}) plumbing.Hash {
		obj := st.NewEncodedObject()
		if err := enc.Encode(obj); err != nil {
			tb.Fatal(err)
		}
		h, err := st.SetEncodedObject(obj)
		if err != nil {
			tb.Fatal(err)
		}
		return h
	}
	blob := func(content string) plumbing.Hash {
		obj := st.NewEncodedObject()
		obj.SetType(plumbing.BlobObject)
		w, _ := obj.Writer()
		w.Write([]byte(content))
		w.Close()
		h, err := st.SetEncodedObject(obj)
		if err != nil {
			tb.Fatal(err)
		}
		return h
	}

	const perDir = 25
	dirs := (files + perDir - 1) / perDir
	content := make([][]plumbing.Hash, dirs) // dir → file blobs; the last entry is the Dockerfile
	dirTree := make([]plumbing.Hash, dirs)
	buildDir := func(d int) {
		t := &object.Tree{}
		for i, h := range content[d] {
			name := fmt.Sprintf("file%03d.go", i)
			if i == len(content[d])-1 {
				name = "Dockerfile"
			}
			t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
		}
		sort.Sort(object.TreeEntrySorter(t.Entries))
		dirTree[d] = put(t)
	}
	for d := range dirs {
		for i := range perDir {
			content[d] = append(content[d], blob(fmt.Sprintf("package d%d\n\n// file %d rev 0\n", d, i)))
		}
		content[d] = append(content[d], blob(fmt.Sprintf("FROM golang:1.22\nCOPY . /src\nRUN go build ./d%02d\n", d)))
		buildDir(d)
	}
	owners := blob("*  @acme/platform\n/d0*/  @acme/team-a dev@acme.example\n")
	var parent plumbing.Hash
	var hashes []plumbing.Hash
	people := []string{"alice", "bob", "carol", "dave", "erin"}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range commits {
		d := i % dirs
		if i%50 == 0 {
			last := len(content[d]) - 1
			content[d][last] = blob(fmt.Sprintf("FROM golang:1.%d\nCOPY . /src\nRUN go build ./d%02d\n", 20+i/50, d))
		} else {
			f := (i / dirs) % perDir
			content[d][f] = blob(fmt.Sprintf("package d%d\n\n// file %d rev %d\n", d, f, i))
		}
		buildDir(d)
		root := &object.Tree{Entries: []object.TreeEntry{{Name: ".github", Mode: filemode.Dir, Hash: put(&object.Tree{Entries: []object.TreeEntry{{Name: "CODEOWNERS", Mode: filemode.Regular, Hash: owners}}})}}}
		for d := range dirs {
			root.Entries = append(root.Entries, object.TreeEntry{Name: fmt.Sprintf("d%02d", d), Mode: filemode.Dir, Hash: dirTree[d]})
		}
		p := people[i%len(people)]
		sig := object.Signature{Name: p, Email: p + "@acme.example", When: base.Add(time.Duration(i) * time.Minute)}
		c := &object.Commit{Author: sig, Committer: sig, Message: fmt.Sprintf("change %d\n", i), TreeHash: put(root)}
		if !parent.IsZero() {
			c.ParentHashes = []plumbing.Hash{parent}
		}
		parent = put(c)
		hashes = append(hashes, parent)
	}
	if err := st.SetReference(plumbing.NewHashReference(plumbing.Master, parent)); err != nil {
		tb.Fatal(err)
	}
	if err := repo.RepackObjects(&git.RepackConfig{}); err != nil {
		tb.Fatal(err)
	}
	if pr, ok := st.(storer.LooseObjectStorer); ok {
		_ = pr.ForEachObjectHash(func(h plumbing.Hash) error { return pr.DeleteLooseObject(h) })
	}
	return hashes
}

func BenchmarkScanRepo(b *testing.B) {
	const commits, files = 2000, 500
	dir := b.TempDir()
	generateRepo(b, dir, commits, files)
	b.ResetTimer()
	for b.Loop() {
		batch, err := source.ScanRepo(context.Background(), dir, source.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(batch.Nodes) < commits+files {
			b.Fatalf("batch has %d nodes, want at least %d", len(batch.Nodes), commits+files)
		}
	}
	b.ReportMetric(float64(commits)*float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

// BenchmarkIndexBlobs builds the blob index of a 10,000-commit repository (1,000
// files in 40 directories, one change per commit) into a fresh SQLite store,
// first up to commit 9,900 and then the last 100 incrementally, and runs
// `git log --raw --first-parent` over the same history as the peer: git listing
// every commit's changed blobs, which is the work the index does. It reports
// the seconds of each and the ratio tether/git.
func BenchmarkIndexBlobs(b *testing.B) {
	const commits, files, tail = 10_000, 1_000, 100
	gitBin, err := exec.LookPath("git")
	if err != nil {
		b.Skip("git not installed")
	}
	dir := b.TempDir()
	hashes := generateRepo(b, dir, commits, files)
	repo, err := git.PlainOpen(dir)
	if err != nil {
		b.Fatal(err)
	}
	setHead := func(h plumbing.Hash) {
		if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.Master, h)); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	var full, incr, peer time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		st, err := store.Open(ctx, filepath.Join(b.TempDir(), fmt.Sprintf("i%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		setHead(hashes[commits-tail-1])
		start := time.Now()
		s1, err := source.IndexBlobs(ctx, dir, st, source.Options{})
		if err != nil || s1.Indexed != commits-tail {
			b.Fatalf("full: %+v, %v", s1, err)
		}
		full += time.Since(start)
		setHead(hashes[commits-1])
		start = time.Now()
		s2, err := source.IndexBlobs(ctx, dir, st, source.Options{})
		if err != nil || s2.Indexed != tail {
			b.Fatalf("incremental: %+v, %v", s2, err)
		}
		incr += time.Since(start)
		st.Close()

		start = time.Now()
		cmd := exec.Command(gitBin, "log", "--raw", "--no-abbrev", "--no-renames", "--first-parent", "--format=%H", "master")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil || len(out) == 0 {
			b.Fatalf("git log: %v", err)
		}
		peer += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(full.Seconds()/n, "index-9900-s")
	b.ReportMetric(incr.Seconds()/n, "update-100-s")
	b.ReportMetric(peer.Seconds()/n, "git-log-s")
	b.ReportMetric(full.Seconds()/peer.Seconds(), "tether/git")
}
