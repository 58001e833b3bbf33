package source_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tether-sec/tether/dockerfile"
	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/source"
)

const originURL = "git@github.com:Acme/Shop.git"

var (
	alice = person{"Alice", "alice@acme.example"}
	bob   = person{"Bob", "bob@acme.example"}
	cet   = time.FixedZone("CET", 3600)
)

type person struct{ name, email string }

func (p person) sig(day int) *object.Signature {
	return &object.Signature{Name: p.name, Email: p.email, When: time.Date(2024, 1, day, 10, 0, 0, 0, cet)}
}

// spec is a file as a fixture commits it.
type spec struct {
	content string
	mode    filemode.FileMode
}

// fixture builds a git repository commit by commit and remembers each commit's tree.
type fixture struct {
	t     *testing.T
	dir   string
	repo  *git.Repository
	wt    *git.Worktree
	files map[string]spec                   // the work tree now
	trees map[plumbing.Hash]map[string]spec // commit → its files
	order []plumbing.Hash
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, dir: dir, repo: repo, wt: wt, files: map[string]spec{}, trees: map[plumbing.Hash]map[string]spec{}}
}

func (f *fixture) remote(name, url string) {
	f.t.Helper()
	if _, err := f.repo.CreateRemote(&config.RemoteConfig{Name: name, URLs: []string{url}}); err != nil {
		f.t.Fatal(err)
	}
}

// commit writes files (an empty spec deletes one) and commits them.
func (f *fixture) commit(msg string, author, committer *object.Signature, files map[string]spec) plumbing.Hash {
	f.t.Helper()
	for _, p := range sortedKeys(files) {
		s := files[p]
		full := filepath.Join(f.dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			f.t.Fatal(err)
		}
		os.Remove(full)
		var err error
		switch s.mode {
		case 0:
			_, err = f.wt.Remove(p)
			delete(f.files, p)
			if err != nil {
				f.t.Fatal(err)
			}
			continue
		case filemode.Symlink:
			err = os.Symlink(s.content, full)
		case filemode.Executable:
			err = os.WriteFile(full, []byte(s.content), 0o755)
		default:
			err = os.WriteFile(full, []byte(s.content), 0o644)
		}
		if err != nil {
			f.t.Fatal(err)
		}
		if _, err := f.wt.Add(p); err != nil {
			f.t.Fatal(err)
		}
		f.files[p] = s
	}
	h, err := f.wt.Commit(msg, &git.CommitOptions{Author: author, Committer: committer})
	if err != nil {
		f.t.Fatal(err)
	}
	f.trees[h] = maps.Clone(f.files)
	f.order = append(f.order, h)
	return h
}

func (f *fixture) checkout(branch string, create bool) {
	f.t.Helper()
	if err := f.wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: create}); err != nil {
		f.t.Fatal(err)
	}
	head, err := f.repo.Head()
	if err != nil {
		f.t.Fatal(err)
	}
	f.files = maps.Clone(f.trees[head.Hash()])
}

func file(s string) spec { return spec{s, filemode.Regular} }

const (
	dockerfileV1 = "FROM golang:1.21\nCOPY . /src\nRUN go build -o /app ./...\n"
	dockerfileV2 = `ARG GO_VERSION=1.22
FROM golang:${GO_VERSION} AS build
COPY . /src
RUN go build -o /app ./...

FROM gcr.io/distroless/static@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
COPY --from=build /app /app
`
	deployV1     = "FROM nginx:1.25\nCOPY site /usr/share/nginx/html\n"
	deployV2     = "FROM nginx:1.27\nCOPY site /usr/share/nginx/html\n"
	deployBroken = "FROM nginx:1.27\nCOPPY site /usr/share/nginx/html\n"
	ownersV1     = `# Default owners
*                 @acme/platform
/deploy/          @acme/sre ops@acme.example
Dockerfile        @alice-gh
`
	ownersV2 = `*                 @acme/platform
/deploy/          @acme/sre ops@acme.example
/deploy/          not-an-owner!
Dockerfile        @alice-gh alice@acme.example
`
)

// shop builds the test repository:
//
//	c1 ── c2 (tag deploy-1) ── c3 (tag v1.0.0) ── c5 (master, HEAD)
//	                                         └── c4 (feature)
func shop(t *testing.T) (*fixture, [5]plumbing.Hash) {
	f := newFixture(t)
	f.remote("backup", "https://x-access-token:ghp_secret@backup.example.com/acme/shop.git")
	f.remote("origin", originURL)
	var c [5]plumbing.Hash
	c[0] = f.commit("initial commit\n\nWith a body.\n", alice.sig(1), alice.sig(1), map[string]spec{
		"Dockerfile": file(dockerfileV1),
		"main.go":    file("package main\n\nfunc main() {}\n"),
		"README.md":  file("# shop\n"),
	})
	c[1] = f.commit("add deploy image and owners", bob.sig(2), bob.sig(2), map[string]spec{
		"deploy/api.Dockerfile": file(deployV1),
		".github/CODEOWNERS":    file(ownersV1),
		"scripts/build.sh":      {"#!/bin/sh\ndocker build .\n", filemode.Executable},
	})
	c[2] = f.commit("bump go", alice.sig(3), alice.sig(3), map[string]spec{"Dockerfile": file(dockerfileV2)})
	if _, err := f.repo.CreateTag("v1.0.0", c[2], &git.CreateTagOptions{Tagger: alice.sig(3), Message: "release 1.0.0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.repo.CreateTag("deploy-1", c[1], nil); err != nil {
		t.Fatal(err)
	}
	f.checkout("feature", true)
	c[3] = f.commit("nginx 1.27", bob.sig(4), bob.sig(4), map[string]spec{"deploy/api.Dockerfile": file(deployV2)})
	f.checkout("master", false)
	c[4] = f.commit("owners and a broken deploy image", alice.sig(5), bob.sig(6), map[string]spec{
		".github/CODEOWNERS":                 file(ownersV2),
		"CODEOWNERS":                         file("* @someone-else\n"),
		"deploy/api.Dockerfile":              file(deployBroken),
		"deploy/api.Dockerfile.dockerignore": file("*.md\n"),
		"Containerfile":                      {"Dockerfile", filemode.Symlink},
	})
	return f, c
}

func TestScanRepo(t *testing.T) {
	f, c := shop(t)
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	got, err := source.ScanRepo(context.Background(), f.dir, source.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatalf("ScanRepo: %v", err)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if got.Source != "repo" || got.Target != f.dir || !got.ObservedAt.Equal(at) {
		t.Errorf("batch = %q %q %v, want repo %q %v", got.Source, got.Target, got.ObservedAt, f.dir, at)
	}

	want := graph.NewBatch("repo", f.dir, at)
	repoID := graph.RepoID(originURL)
	if repoID != "repo:github.com/acme/shop" {
		t.Fatalf("repo ID = %q", repoID)
	}
	want.AddNode(graph.Node{ID: repoID, Kind: graph.KindRepo, Name: "github.com/acme/shop", Attrs: map[string]any{
		"path":        f.dir,
		"remotes":     map[string]any{"origin": originURL, "backup": "https://backup.example.com/acme/shop.git"},
		"head":        "refs/heads/master",
		"head_commit": c[4].String(),
		"branches":    map[string]any{"master": c[4].String(), "feature": c[3].String()},
		"tags":        map[string]any{"v1.0.0": c[2].String(), "deploy-1": c[1].String()},
		"codeowners":  ".github/CODEOWNERS",
	}})

	// Commits, their parents and authors.
	parents := map[plumbing.Hash][]plumbing.Hash{c[1]: {c[0]}, c[2]: {c[1]}, c[3]: {c[2]}, c[4]: {c[2]}}
	subjects := []string{"initial commit", "add deploy image and owners", "bump go", "nginx 1.27", "owners and a broken deploy image"}
	authors := []person{alice, bob, alice, bob, alice}
	committers := []person{alice, bob, alice, bob, bob}
	for i, h := range c {
		id := graph.CommitID(originURL, h.String())
		attrs := map[string]any{
			"sha":             h.String(),
			"author_name":     authors[i].name,
			"author_email":    authors[i].email,
			"committer_name":  committers[i].name,
			"committer_email": committers[i].email,
			"authored_at":     fmt.Sprintf("2024-01-%02dT10:00:00+01:00", i+1),
			"committed_at":    fmt.Sprintf("2024-01-%02dT10:00:00+01:00", i+1),
			"subject":         subjects[i],
		}
		if i == 4 {
			attrs["committed_at"] = "2024-01-06T10:00:00+01:00"
		}
		if ps := parents[h]; len(ps) > 0 {
			var list []any
			for j, p := range ps {
				list = append(list, p.String())
				want.AddEdge(graph.Edge{From: id, Kind: graph.EdgeParent, To: graph.CommitID(originURL, p.String()), Method: "git", Confidence: 1,
					Evidence: []graph.Evidence{{Source: "git", Detail: "commit " + h.String() + " parent " + p.String()}},
					Attrs:    map[string]any{"position": float64(j + 1)}})
			}
			attrs["parents"] = list
		}
		want.AddNode(graph.Node{ID: id, Kind: graph.KindCommit, Name: h.String()[:7], Attrs: attrs})
		want.Link(id, graph.EdgeInRepo, repoID, "git", 1, graph.Evidence{Source: "git", Detail: "commit " + h.String()})
		want.Link(id, graph.EdgeAuthoredBy, graph.OwnerID(authors[i].email), "git", 1,
			graph.Evidence{Source: "git", Detail: fmt.Sprintf("author %s <%s>", authors[i].name, authors[i].email)})
	}
	for _, p := range []person{alice, bob} {
		want.AddNode(graph.Node{ID: graph.OwnerID(p.email), Kind: graph.KindOwner, Name: p.name, Attrs: map[string]any{"type": "email", "email": p.email}})
	}

	// Files: every file at HEAD, and the Dockerfiles and CODEOWNERS of every commit.
	for _, h := range c {
		for p, s := range f.trees[h] {
			role := roleOf(p, s.mode)
			if role == "" && h != c[4] {
				continue
			}
			fid := addFile(t, want, p, s, role)
			want.Link(graph.CommitID(originURL, h.String()), graph.EdgeContains, fid, "git-tree", 1,
				graph.Evidence{Source: "git-tree", Detail: fmt.Sprintf("%s blob %s\t%s", s.mode, blob(s.content), p)})
		}
	}

	// Owners of HEAD's Dockerfiles, from .github/CODEOWNERS (the root one is shadowed).
	owned := []struct {
		path, content, detail string
		owners                []string
	}{
		{"Dockerfile", dockerfileV2, ".github/CODEOWNERS:4 Dockerfile", []string{"@alice-gh", "alice@acme.example"}},
		{"deploy/api.Dockerfile", deployBroken, ".github/CODEOWNERS:2 /deploy/", []string{"@acme/sre", "ops@acme.example"}},
	}
	for _, o := range owned {
		for _, h := range o.owners {
			want.Link(graph.FileID(originURL, o.path, blob(o.content)), graph.EdgeOwnedBy, graph.OwnerID(h), "codeowners", 1,
				graph.Evidence{Source: "CODEOWNERS", Detail: o.detail})
		}
	}
	want.AddNode(graph.Node{ID: "owner:@alice-gh", Kind: graph.KindOwner, Name: "@alice-gh", Attrs: map[string]any{"type": "username"}})
	want.AddNode(graph.Node{ID: "owner:@acme/sre", Kind: graph.KindOwner, Name: "@acme/sre", Attrs: map[string]any{"type": "team"}})
	want.AddNode(graph.Node{ID: "owner:ops@acme.example", Kind: graph.KindOwner, Name: "ops@acme.example", Attrs: map[string]any{"type": "email"}})

	wantNodes := append([]graph.Node(nil), want.Nodes...)
	sort.Slice(wantNodes, func(i, j int) bool { return wantNodes[i].ID < wantNodes[j].ID })
	graph.SortEdges(want.Edges)
	if diff := cmp.Diff(wantNodes, got.Nodes, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("nodes mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.Edges, got.Edges, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("edges mismatch (-want +got):\n%s", diff)
	}

	// Spot checks that do not go through the helpers above.
	df, _ := got.Node(graph.FileID(originURL, "Dockerfile", blob(dockerfileV2)))
	stages, _ := df.Attrs["stages"].([]any)
	if len(stages) != 2 || stages[0].(map[string]any)["from_resolved"] != "golang:1.22" || stages[1].(map[string]any)["from_digest"] != "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" {
		t.Errorf("Dockerfile stages = %v", df.Attrs["stages"])
	}
	broken, _ := got.Node(graph.FileID(originURL, "deploy/api.Dockerfile", blob(deployBroken)))
	if pe := broken.String("parse_error"); !strings.HasPrefix(pe, `Dockerfile line 2: unknown instruction "COPPY"`) {
		t.Errorf("broken Dockerfile parse_error = %q", pe)
	}
}

// roleOf is the role the test expects a file to have.
func roleOf(p string, mode filemode.FileMode) string {
	if mode == filemode.Symlink {
		return ""
	}
	switch p {
	case ".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS":
		return "codeowners"
	}
	if dockerfile.IsDockerfile(p) {
		return "dockerfile"
	}
	return ""
}

// codeownersAttrs are the parsed contents the test expects on CODEOWNERS nodes.
var codeownersAttrs = map[string]map[string]any{
	ownersV1: {"rules": []any{
		rule(2, "*", "@acme/platform"),
		rule(3, "/deploy/", "@acme/sre", "ops@acme.example"),
		rule(4, "Dockerfile", "@alice-gh"),
	}},
	ownersV2: {
		"rules": []any{
			rule(1, "*", "@acme/platform"),
			rule(2, "/deploy/", "@acme/sre", "ops@acme.example"),
			rule(4, "Dockerfile", "@alice-gh", "alice@acme.example"),
		},
		"parse_error": "line 3: unexpected character '!' at position 31",
	},
	"* @someone-else\n": {"rules": []any{rule(1, "*", "@someone-else")}},
}

func rule(line int, pattern string, owners ...string) map[string]any {
	os := make([]any, len(owners))
	for i, o := range owners {
		os[i] = o
	}
	return map[string]any{"line": float64(line), "pattern": pattern, "owners": os}
}

func addFile(t *testing.T, b *graph.Batch, p string, s spec, role string) graph.ID {
	t.Helper()
	id := graph.FileID(originURL, p, blob(s.content))
	attrs := map[string]any{"path": p, "blob": blob(s.content), "size": float64(len(s.content)), "mode": s.mode.String()}
	switch role {
	case "dockerfile":
		attrs["role"] = role
		df, err := dockerfile.Parse(strings.NewReader(s.content))
		if err != nil {
			attrs["parse_error"] = err.Error()
		} else {
			maps.Copy(attrs, graph.Attrs(df))
		}
	case "codeowners":
		attrs["role"] = role
		want, ok := codeownersAttrs[s.content]
		if !ok {
			t.Fatalf("no expected attributes for CODEOWNERS %q", s.content)
		}
		maps.Copy(attrs, want)
	}
	b.AddNode(graph.Node{ID: id, Kind: graph.KindFile, Name: p, Attrs: attrs})
	return id
}

func blob(content string) string {
	return plumbing.ComputeHash(plumbing.BlobObject, []byte(content)).String()
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestScanRepoDeterministic(t *testing.T) {
	f, _ := shop(t)
	a, err := source.ScanRepo(context.Background(), f.dir, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Again, from a directory and from a file inside the work tree.
	for _, p := range []string{filepath.Join(f.dir, "deploy"), filepath.Join(f.dir, "deploy", "api.Dockerfile")} {
		b, err := source.ScanRepo(context.Background(), p, source.Options{})
		if err != nil {
			t.Fatalf("ScanRepo(%s): %v", p, err)
		}
		if diff := cmp.Diff(a.Nodes, b.Nodes); diff != "" {
			t.Errorf("ScanRepo(%s) nodes differ (-first +again):\n%s", p, diff)
		}
		if diff := cmp.Diff(a.Edges, b.Edges); diff != "" {
			t.Errorf("ScanRepo(%s) edges differ (-first +again):\n%s", p, diff)
		}
	}
}

func TestScanRepoMaxCommits(t *testing.T) {
	f, c := shop(t)
	got, err := source.ScanRepo(context.Background(), f.dir, source.Options{MaxCommits: 2})
	if err != nil {
		t.Fatal(err)
	}
	var commits []string
	for _, n := range got.Nodes {
		if n.Kind == graph.KindCommit {
			commits = append(commits, fmt.Sprintf("%s stub=%v", n.Name, n.Stub))
		}
	}
	// HEAD (c5) and the newest other commit (c4, on feature); their parent c3 is a stub.
	want := []string{c[2].String()[:7] + " stub=true", c[3].String()[:7] + " stub=false", c[4].String()[:7] + " stub=false"}
	sort.Strings(want)
	sort.Strings(commits)
	if diff := cmp.Diff(want, commits); diff != "" {
		t.Errorf("commits mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
}

func TestScanRepoNoRemote(t *testing.T) {
	f := newFixture(t)
	f.commit("one", alice.sig(1), alice.sig(1), map[string]spec{"Containerfile": file("FROM scratch\n")})
	got, err := source.ScanRepo(context.Background(), f.dir, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantID := graph.ID("repo:file://" + filepath.ToSlash(f.dir))
	n, ok := got.Node(wantID)
	if !ok {
		t.Fatalf("no repo node %q in %v", wantID, got.Nodes)
	}
	if _, ok := n.Attrs["remotes"]; ok || n.String("codeowners") != "" {
		t.Errorf("repo attrs = %v, want no remotes and no codeowners", n.Attrs)
	}
	fid := graph.FileID(f.dir, "Containerfile", blob("FROM scratch\n"))
	if fn, ok := got.Node(fid); !ok || fn.String("role") != "dockerfile" {
		t.Errorf("Containerfile node %q = %v, %v", fid, fn, ok)
	}
}

func TestScanRepoBare(t *testing.T) {
	f, c := shop(t)
	bare := filepath.Join(t.TempDir(), "shop.git")
	if _, err := git.PlainClone(bare, true, &git.CloneOptions{URL: f.dir}); err != nil {
		t.Skipf("cannot make a bare clone: %v", err)
	}
	got, err := source.ScanRepo(context.Background(), bare, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, ok := got.Node(graph.RepoID(f.dir))
	if !ok {
		t.Fatalf("no repo node for origin %s", f.dir)
	}
	if n.String("path") != bare || n.String("head_commit") != c[4].String() {
		t.Errorf("repo attrs = %v", n.Attrs)
	}
}

func TestScanRepoErrors(t *testing.T) {
	empty := t.TempDir()
	if _, err := git.PlainInit(empty, false); err != nil {
		t.Fatal(err)
	}
	plain := t.TempDir()
	missing := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name string
		path string
		is   error
		msg  string
	}{
		{"not a repo", plain, source.ErrNotRepo, plain + " is not a git repository: pass the path of a git work tree (or run `git init`)"},
		{"missing", missing, source.ErrNotRepo, missing + " is not a git repository: pass the path of a git work tree (or run `git init`)"},
		{"empty repo", empty, source.ErrNoCommits, empty + " has no commits yet: commit something (git commit), then scan again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := source.ScanRepo(context.Background(), tt.path, source.Options{})
			if !errors.Is(err, tt.is) {
				t.Fatalf("ScanRepo = %v, %v; want an error matching %v", b, err, tt.is)
			}
			if err.Error() != tt.msg {
				t.Errorf("error = %q, want %q", err, tt.msg)
			}
		})
	}
}

// countdown is a context that is cancelled once Err has been called n times.
type countdown struct {
	context.Context
	n int
}

func (c *countdown) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

func TestScanRepoCancelled(t *testing.T) {
	f, _ := shop(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := source.ScanRepo(ctx, f.dir, source.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("ScanRepo with a cancelled context = %v, want context.Canceled", err)
	}
	// Cancelled part way through: every check point stops the scan.
	for n := 1; ; n++ {
		b, err := source.ScanRepo(&countdown{context.Background(), n}, f.dir, source.Options{})
		if err == nil {
			if n < 5 {
				t.Errorf("ScanRepo checked its context only %d times", n-1)
			}
			break
		}
		if !errors.Is(err, context.Canceled) || b != nil {
			t.Fatalf("ScanRepo cancelled after %d checks = %v, %v; want nil, context.Canceled", n, b, err)
		}
	}
}
