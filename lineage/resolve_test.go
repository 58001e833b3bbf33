package lineage_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/lineage"
	"github.com/tether-sec/tether/store"
)

const (
	repoURL = "https://github.com/acme/app"
	sha     = "1111111111111111111111111111111111111111"
	sha2    = "1111111222222222222222222222222222222222"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// repoBatch is a scanned repo with commits and, in commit sha, the Dockerfiles given.
func repoBatch(dockerfiles map[string][]map[string]any) *graph.Batch {
	b := graph.NewBatch("repo", repoURL, t0)
	b.AddNode(graph.Node{ID: graph.RepoID(repoURL), Kind: graph.KindRepo, Name: "github.com/acme/app"})
	for _, s := range []string{sha, sha2} {
		c := graph.CommitID(repoURL, s)
		b.AddNode(graph.Node{ID: c, Kind: graph.KindCommit, Name: s[:7], Attrs: map[string]any{"sha": s}})
		b.Link(c, graph.EdgeInRepo, graph.RepoID(repoURL), "git", 1)
	}
	for path, ins := range dockerfiles {
		f := graph.FileID(repoURL, path, "b"+path)
		var anyIns []any
		for _, in := range ins {
			anyIns = append(anyIns, in)
		}
		b.AddNode(graph.Node{ID: f, Kind: graph.KindFile, Name: path, Attrs: map[string]any{
			"path": path, "role": "dockerfile",
			"stages":       []any{map[string]any{"index": 0.0, "from_stage": -1.0}},
			"instructions": anyIns,
		}})
		b.Link(graph.CommitID(repoURL, sha), graph.EdgeContains, f, "git-tree", 1)
	}
	return b
}

func ins(line int, cmd string, args ...string) map[string]any {
	var a []any
	for _, x := range args {
		a = append(a, x)
	}
	return map[string]any{"stage": 0.0, "command": cmd, "args": a, "original": cmd + " " + strings.Join(args, " "),
		"start_line": float64(line), "end_line": float64(line)}
}

func imageBatch(labels map[string]any, history ...string) *graph.Batch {
	b := graph.NewBatch("image", "img", t0)
	var h []any
	for _, x := range history {
		h = append(h, map[string]any{"created_by": x})
	}
	b.AddNode(graph.Node{ID: graph.ImageID("sha256:aa"), Kind: graph.KindImage, Name: "app:1",
		Attrs: map[string]any{"labels": labels, "history": h, "references": []any{"reg/app:1"}}})
	return b
}

var appDockerfile = []map[string]any{ins(1, "FROM", "base"), ins(2, "WORKDIR", "/app"), ins(3, "COPY", ".", "/app"), ins(4, "RUN", "make"), ins(5, "USER", "app")}
var appHistory = []string{"/bin/sh -c #(nop) ADD file:x in / ", "WORKDIR /app", "COPY . /app # buildkit", "RUN /bin/sh -c make # buildkit", "USER app"}

func resolve(t *testing.T, st store.Store, batches ...*graph.Batch) *lineage.Trace {
	t.Helper()
	ctx := context.Background()
	for _, b := range batches {
		if _, err := st.Ingest(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	lb, err := lineage.Resolve(ctx, st, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Ingest(ctx, lb); err != nil {
		t.Fatal(err)
	}
	tr, err := lineage.TraceTarget(ctx, st, "reg/app:1")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func find(tr *lineage.Trace, link graph.EdgeKind) []lineage.Step {
	var out []lineage.Step
	for _, s := range tr.Chains[0].Steps {
		if s.Link == link {
			out = append(out, s)
		}
	}
	return out
}

func TestResolve(t *testing.T) {
	labels := func(rev string) map[string]any {
		return map[string]any{"org.opencontainers.image.source": "git@github.com:acme/app.git", "org.opencontainers.image.revision": rev}
	}
	tests := []struct {
		name       string
		scanRepo   bool
		dfs        map[string][]map[string]any
		labels     map[string]any
		wantCommit float64 // confidence of built_from; 0 = no link
		wantStub   bool
		wantDF     string // path of the linked Dockerfile; "" = none
		wantGap    string
	}{
		{"verified label and Dockerfile", true, map[string][]map[string]any{"Dockerfile": appDockerfile}, labels(sha), 0.9, false, "Dockerfile", ""},
		{"label-schema keys", true, nil, map[string]any{"org.label-schema.vcs-url": repoURL, "org.label-schema.vcs-ref": sha}, 0.9, false, "", "no Dockerfile"},
		{"unique short sha", true, nil, labels(sha2[:10]), 0.85, false, "", ""},
		{"ambiguous short sha", true, nil, labels(sha[:7]), 0, false, "", "not in the scanned repository"},
		{"commit not in repo", true, nil, labels("abababababababababababababababababababab"), 0, false, "", "the label may be wrong"},
		{"repo not scanned", false, nil, labels(sha), 0.6, true, "", ""},
		{"branch name", true, nil, labels("main"), 0, false, "", "branch or tag"},
		{"no labels", true, nil, map[string]any{}, 0, false, "", "no source/revision labels"},
		{"two identical Dockerfiles", true, map[string][]map[string]any{"Dockerfile": appDockerfile, "build/Dockerfile": appDockerfile}, labels(sha), 0.9, false, "", ""},
		{"unrelated Dockerfile", true, map[string][]map[string]any{"tools/Dockerfile": {ins(1, "FROM", "x"), ins(2, "RUN", "apk add psql"), ins(3, "ENTRYPOINT", "psql")}}, labels(sha), 0.9, false, "", "no Dockerfile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			var bs []*graph.Batch
			if tt.scanRepo {
				bs = append(bs, repoBatch(tt.dfs))
			}
			tr := resolve(t, st, append(bs, imageBatch(tt.labels, appHistory...))...)
			bf := find(tr, graph.EdgeBuiltFrom)
			switch {
			case tt.wantCommit == 0 && len(bf) != 0:
				t.Errorf("built_from = %+v, want no link", bf)
			case tt.wantCommit != 0 && (len(bf) != 1 || bf[0].Confidence != tt.wantCommit || bf[0].To.Stub != tt.wantStub):
				t.Errorf("built_from = %+v, want one link with confidence %v, stub %v", bf, tt.wantCommit, tt.wantStub)
			}
			bw := find(tr, graph.EdgeBuiltWith)
			switch {
			case tt.wantDF == "" && len(bw) != 0:
				t.Errorf("built_with = %+v, want no link", bw)
			case tt.wantDF != "" && (len(bw) != 1 || bw[0].To.Name != tt.wantDF || len(bw[0].Lines) != 4):
				t.Errorf("built_with = %+v, want %s with 4 matched lines", bw, tt.wantDF)
			}
			gaps := strings.Join(tr.Chains[0].Gaps, "\n")
			if tt.wantGap != "" && !strings.Contains(gaps, tt.wantGap) {
				t.Errorf("gaps = %q, want one containing %q", gaps, tt.wantGap)
			}
		})
	}
}

// TestResolveIdempotent: resolving twice changes nothing.
func TestResolveIdempotent(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	resolve(t, st, repoBatch(map[string][]map[string]any{"Dockerfile": appDockerfile}),
		imageBatch(map[string]any{"org.opencontainers.image.source": repoURL, "org.opencontainers.image.revision": sha}, appHistory...))
	lb, err := lineage.Resolve(ctx, st, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Ingest(ctx, lb)
	if err != nil {
		t.Fatal(err)
	}
	if res.NodesAdded+res.NodesChanged+res.EdgesAdded+res.EdgesChanged != 0 {
		t.Errorf("second resolve changed the store: %+v", res)
	}
}
