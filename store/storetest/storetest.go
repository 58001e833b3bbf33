// Package storetest checks that a store.Store backend keeps the store contract.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

// Run runs the conformance suite. open must return a new, empty store each time it
// is called; Run closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	fresh := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	for _, tc := range []struct {
		name string
		f    func(t *testing.T, s func(*testing.T) store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Reingest", testReingest},
		{"Changes", testChanges},
		{"Stubs", testStubs},
		{"Dangling", testDangling},
		{"Invalid", testInvalid},
		{"Times", testTimes},
		{"NodeQueries", testNodeQueries},
		{"EdgeQueries", testEdgeQueries},
		{"Stats", testStats},
		{"Concurrent", testConcurrent},
		{"Cancelled", testCancelled},
		{"Chain", testChain},
		{"Documents", testDocuments},
		{"GitIndex", testGitIndex},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, fresh) })
	}
}

// T0 is the time the suite's batches are observed at, with nanoseconds and a
// non-UTC zone that a store must normalize.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.FixedZone("CET", 3600))

// at returns t0 plus d, the way a store gives it back.
func at(d time.Duration) time.Time { return t0.Add(d).UTC().Truncate(time.Microsecond) }

var (
	repo   = graph.RepoID("https://github.com/acme/app")
	commit = graph.CommitID("https://github.com/acme/app", "3f2a9c0d3f2a9c0d3f2a9c0d3f2a9c0d3f2a9c0d")
	image  = graph.ImageID("sha256:aaaa")
	owner  = graph.OwnerID("@acme/platform")
)

func ingest(t *testing.T, s store.Store, b *graph.Batch) store.IngestResult {
	t.Helper()
	res, err := s.Ingest(context.Background(), b)
	if err != nil {
		t.Fatalf("Ingest(%s): %v", b.Target, err)
	}
	return res
}

// normalize gives a value as a store returns it: JSON values, nil when empty.
func normalize(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return graph.Attrs(m)
}

// want is node n as stored by batches first observed at first and last seen at last.
func want(n graph.Node, first, last time.Duration) graph.Node {
	n.Attrs = normalize(n.Attrs)
	n.ObservedAt, n.LastSeen = at(first), at(last)
	return n
}

func wantEdge(e graph.Edge, first, last time.Duration) graph.Edge {
	e.Attrs = normalize(e.Attrs)
	if len(e.Evidence) == 0 {
		e.Evidence = nil
	}
	e.ObservedAt, e.LastSeen = at(first), at(last)
	return e
}

func allNodes(t *testing.T, s store.Store) []graph.Node {
	t.Helper()
	ns, err := s.Nodes(context.Background(), store.NodeQuery{})
	if err != nil {
		t.Fatalf("Nodes: %v", err)
	}
	return ns
}

func allEdges(t *testing.T, s store.Store) []graph.Edge {
	t.Helper()
	es, err := s.Edges(context.Background(), store.EdgeQuery{})
	if err != nil {
		t.Fatalf("Edges: %v", err)
	}
	return es
}

func stats(t *testing.T, s store.Store) store.Stats {
	t.Helper()
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

func testRoundTrip(t *testing.T, open func(*testing.T) store.Store) {
	type payload struct {
		Tags    []string          `json:"tags"`
		Labels  map[string]string `json:"labels"`
		Size    int64             `json:"size"`
		Private bool              `json:"private"`
	}
	for _, tc := range []struct {
		name  string
		nodes []graph.Node
		edges []graph.Edge
	}{
		{
			name: "attributes of every JSON type",
			nodes: []graph.Node{
				{ID: repo, Kind: graph.KindRepo, Name: "acme/app", Attrs: map[string]any{
					"s": "x", "f": 1.5, "i": 42, "big": 1e300, "neg": -0.25, "t": true, "nil": nil,
					"list":   []any{"a", 1, false, nil, []any{}},
					"nested": map[string]any{"a": map[string]any{"b": []any{map[string]any{"c": "d"}}}},
					"html":   "<a href='x'>&</a>", "quote": `"\` + "\n\t",
				}},
				{ID: image, Kind: graph.KindImage, Name: "app:1", Attrs: graph.Attrs(payload{
					Tags: []string{"v1", "latest"}, Labels: map[string]string{"org.opencontainers.image.source": "x"}, Size: 123456789, Private: true})},
			},
			edges: []graph.Edge{{From: image, Kind: graph.EdgeBuiltFrom, To: repo, Method: "oci-label", Confidence: 0.875,
				Evidence: []graph.Evidence{{Source: "oci-label", Detail: "org.opencontainers.image.source=https://github.com/acme/app"}, {Source: "provenance", Detail: "vcs:source"}},
				Attrs:    map[string]any{"rank": 2, "why": []any{"label"}}}},
		},
		{
			name: "empty attributes and evidence come back nil",
			nodes: []graph.Node{
				{ID: repo, Kind: graph.KindRepo, Name: "acme/app", Attrs: map[string]any{}},
				{ID: owner, Kind: graph.KindOwner},
			},
			edges: []graph.Edge{{From: repo, Kind: graph.EdgeOwnedBy, To: owner, Method: "codeowners", Confidence: 1,
				Evidence: []graph.Evidence{}, Attrs: map[string]any{}}},
		},
		{
			name: "unicode and odd characters",
			nodes: []graph.Node{
				{ID: "file:github.com/acme/app//dïr/日本語 %_?#.txt@abc", Kind: graph.KindFile, Name: "日本語 🚀 %_'\"", Attrs: map[string]any{"ключ": "значение", "emoji": "🚀"}},
				{ID: commit, Kind: graph.KindCommit, Name: "3f2a9c0"},
			},
			edges: []graph.Edge{{From: commit, Kind: graph.EdgeContains, To: "file:github.com/acme/app//dïr/日本語 %_?#.txt@abc", Method: "git", Confidence: 0}},
		},
		{
			name:  "self loop",
			nodes: []graph.Node{{ID: commit, Kind: graph.KindCommit}},
			edges: []graph.Edge{{From: commit, Kind: graph.EdgeParent, To: commit, Method: "git", Confidence: 1}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			b := graph.NewBatch("test", tc.name, t0)
			for _, n := range tc.nodes {
				b.AddNode(n)
			}
			for _, e := range tc.edges {
				b.AddEdge(e)
			}
			res := ingest(t, s, b)
			if diff := cmp.Diff(store.IngestResult{ScanID: res.ScanID, NodesAdded: len(tc.nodes), EdgesAdded: len(tc.edges)}, res); diff != "" {
				t.Errorf("IngestResult (-want +got):\n%s", diff)
			}
			var wantNodes []graph.Node
			for _, n := range tc.nodes {
				w := want(n, 0, 0)
				wantNodes = append(wantNodes, w)
				got, err := s.Node(context.Background(), n.ID)
				if err != nil {
					t.Fatalf("Node(%s): %v", n.ID, err)
				}
				if diff := cmp.Diff(w, got); diff != "" {
					t.Errorf("Node(%s) (-want +got):\n%s", n.ID, diff)
				}
			}
			sortNodes(wantNodes)
			if diff := cmp.Diff(wantNodes, allNodes(t, s)); diff != "" {
				t.Errorf("Nodes (-want +got):\n%s", diff)
			}
			var wantEdges []graph.Edge
			for _, e := range tc.edges {
				wantEdges = append(wantEdges, wantEdge(e, 0, 0))
			}
			graph.SortEdges(wantEdges)
			if diff := cmp.Diff(wantEdges, allEdges(t, s)); diff != "" {
				t.Errorf("Edges (-want +got):\n%s", diff)
			}
		})
	}
}

func sortNodes(ns []graph.Node) {
	for i := 1; i < len(ns); i++ {
		for j := i; j > 0 && ns[j].ID < ns[j-1].ID; j-- {
			ns[j], ns[j-1] = ns[j-1], ns[j]
		}
	}
}

// small is a batch of a commit in a repo, built by an image, owned by a team.
func small(d time.Duration) *graph.Batch {
	b := graph.NewBatch("test", "small", t0.Add(d))
	b.AddNode(graph.Node{ID: repo, Kind: graph.KindRepo, Name: "acme/app", Attrs: map[string]any{"private": true}})
	b.AddNode(graph.Node{ID: commit, Kind: graph.KindCommit, Name: "3f2a9c0", Attrs: map[string]any{"message": "fix"}})
	b.AddNode(graph.Node{ID: image, Kind: graph.KindImage, Name: "app:1"})
	b.AddNode(graph.Node{ID: owner, Kind: graph.KindOwner, Name: "platform"})
	b.Link(commit, graph.EdgeInRepo, repo, "git", 1)
	b.Link(image, graph.EdgeBuiltFrom, commit, "oci-label", 0.9, graph.Evidence{Source: "oci-label", Detail: "revision"})
	b.Link(repo, graph.EdgeOwnedBy, owner, "codeowners", 1)
	return b
}

func testReingest(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	first := ingest(t, s, small(0))
	if first.NodesAdded != 4 || first.EdgesAdded != 3 || first.NodesChanged != 0 || first.EdgesChanged != 0 {
		t.Errorf("first ingest: %+v, want 4 nodes and 3 edges added", first)
	}
	nodes, edges := allNodes(t, s), allEdges(t, s)
	for i, d := range []time.Duration{0, time.Hour} {
		res := ingest(t, s, small(d))
		if diff := cmp.Diff(store.IngestResult{ScanID: res.ScanID}, res); diff != "" {
			t.Errorf("re-ingest %d changed something (-want +got):\n%s", i, diff)
		}
		if res.ScanID == first.ScanID {
			t.Errorf("re-ingest %d reused scan ID %d", i, res.ScanID)
		}
	}
	for i := range nodes {
		nodes[i].LastSeen = at(time.Hour)
	}
	for i := range edges {
		edges[i].LastSeen = at(time.Hour)
	}
	if diff := cmp.Diff(nodes, allNodes(t, s)); diff != "" {
		t.Errorf("nodes after re-ingest (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(edges, allEdges(t, s)); diff != "" {
		t.Errorf("edges after re-ingest (-want +got):\n%s", diff)
	}
	if st := stats(t, s); st.Scans != 3 {
		t.Errorf("Stats.Scans = %d, want 3", st.Scans)
	}
}

func testChanges(t *testing.T, open func(*testing.T) store.Store) {
	for _, tc := range []struct {
		name   string
		edit   func(b *graph.Batch)
		want   store.IngestResult
		verify func(t *testing.T, s store.Store)
	}{
		{"node name", func(b *graph.Batch) { b.Nodes[0].Name = "acme/app2" }, store.IngestResult{NodesChanged: 1}, nil},
		{"node attrs", func(b *graph.Batch) { b.Nodes[1].Attrs = map[string]any{"message": "fix!"} }, store.IngestResult{NodesChanged: 1}, nil},
		{"node attrs removed", func(b *graph.Batch) { b.Nodes[1].Attrs = nil }, store.IngestResult{NodesChanged: 1},
			func(t *testing.T, s store.Store) {
				n, err := s.Node(context.Background(), commit)
				if err != nil || n.Attrs != nil {
					t.Errorf("Node(%s) = %+v, %v; want no attributes", commit, n, err)
				}
			}},
		{"edge confidence", func(b *graph.Batch) { b.Edges[1].Confidence = 0.5 }, store.IngestResult{EdgesChanged: 1}, nil},
		{"edge evidence", func(b *graph.Batch) {
			b.Edges[1].Evidence = append(b.Edges[1].Evidence, graph.Evidence{Source: "x", Detail: "y"})
		},
			store.IngestResult{EdgesChanged: 1}, nil},
		{"edge attrs", func(b *graph.Batch) { b.Edges[0].Attrs = map[string]any{"k": "v"} }, store.IngestResult{EdgesChanged: 1}, nil},
		{"new node and edge", func(b *graph.Batch) {
			b.AddNode(graph.Node{ID: graph.OwnerID("dev@acme.example"), Kind: graph.KindOwner})
			b.Link(commit, graph.EdgeAuthoredBy, graph.OwnerID("dev@acme.example"), "git", 1)
		}, store.IngestResult{NodesAdded: 1, EdgesAdded: 1}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			ingest(t, s, small(0))
			b := small(time.Minute)
			tc.edit(b)
			res := ingest(t, s, b)
			tc.want.ScanID = res.ScanID
			if diff := cmp.Diff(tc.want, res); diff != "" {
				t.Errorf("IngestResult (-want +got):\n%s", diff)
			}
			for _, n := range b.Nodes {
				got, err := s.Node(context.Background(), n.ID)
				if err != nil {
					t.Fatal(err)
				}
				first := time.Duration(0)
				if n.ID == graph.OwnerID("dev@acme.example") {
					first = time.Minute
				}
				if diff := cmp.Diff(want(n, first, time.Minute), got); diff != "" {
					t.Errorf("Node(%s) (-want +got):\n%s", n.ID, diff)
				}
			}
			if tc.verify != nil {
				tc.verify(t, s)
			}
		})
	}
}

func testStubs(t *testing.T, open func(*testing.T) store.Store) {
	observed := graph.Node{ID: image, Kind: graph.KindImage, Name: "app:1", Attrs: map[string]any{"os": "linux"}}
	stub := graph.Node{ID: image, Kind: graph.KindImage, Name: "registry/app@sha256:aaaa", Attrs: map[string]any{"ref": "x"}, Stub: true}
	batch := func(d time.Duration, n graph.Node) *graph.Batch {
		b := graph.NewBatch("test", "stubs", t0.Add(d))
		b.AddNode(n)
		return b
	}
	for _, tc := range []struct {
		name        string
		first, then graph.Node
		wantRes     store.IngestResult
		want        graph.Node
	}{
		{"stub is inserted when missing", graph.Node{}, stub, store.IngestResult{NodesAdded: 1}, want(stub, time.Hour, time.Hour)},
		{"stub does not touch an observed node", observed, stub, store.IngestResult{}, want(observed, 0, 0)},
		{"observed node replaces a stub", stub, observed, store.IngestResult{NodesChanged: 1}, want(observed, 0, time.Hour)},
		{"stub over stub only advances LastSeen", stub, func() graph.Node { n := stub; n.Name = "other"; return n }(),
			store.IngestResult{}, want(stub, 0, time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if tc.first.ID != "" {
				ingest(t, s, batch(0, tc.first))
			}
			res := ingest(t, s, batch(time.Hour, tc.then))
			tc.wantRes.ScanID = res.ScanID
			if diff := cmp.Diff(tc.wantRes, res); diff != "" {
				t.Errorf("IngestResult (-want +got):\n%s", diff)
			}
			got, err := s.Node(context.Background(), image)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Node (-want +got):\n%s", diff)
			}
		})
	}
}

func testDangling(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ingest(t, s, small(0))
	before := snapshot(t, s)

	missing := graph.ImageID("sha256:missing")
	b := small(time.Hour)
	b.Nodes[0].Name = "changed, must not be written"
	b.AddNode(graph.Node{ID: graph.BuildID("gha", "1"), Kind: graph.KindBuild})
	b.Link(graph.BuildID("gha", "1"), graph.EdgeProduced, missing, "build-record", 1)
	_, err := s.Ingest(context.Background(), b)
	if !errors.Is(err, store.ErrDangling) {
		t.Fatalf("Ingest with a dangling edge: err = %v, want ErrDangling", err)
	}
	var de *store.DanglingError
	if !errors.As(err, &de) || de.Missing != missing || de.Edge.To != missing || de.Edge.Kind != graph.EdgeProduced {
		t.Errorf("error %v does not name the edge and its missing endpoint %s", err, missing)
	}
	if diff := cmp.Diff(before, snapshot(t, s)); diff != "" {
		t.Errorf("a rejected batch changed the store (-before +after):\n%s", diff)
	}

	// An endpoint stored by an earlier batch is fine.
	ok := graph.NewBatch("test", "ok", t0.Add(time.Hour))
	ok.AddNode(graph.Node{ID: graph.BuildID("gha", "2"), Kind: graph.KindBuild})
	ok.Link(graph.BuildID("gha", "2"), graph.EdgeProduced, image, "build-record", 1)
	ok.Link(image, graph.EdgeBuiltFrom, repo, "oci-label", 0.5) // both endpoints stored
	if res := ingest(t, s, ok); res.EdgesAdded != 2 || res.NodesAdded != 1 {
		t.Errorf("IngestResult = %+v, want 1 node and 2 edges added", res)
	}
}

// state is what a store holds, compared whole.
type state struct {
	Nodes []graph.Node
	Edges []graph.Edge
	Scans int64
}

func snapshot(t *testing.T, s store.Store) state {
	t.Helper()
	return state{allNodes(t, s), allEdges(t, s), stats(t, s).Scans}
}

func testInvalid(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ingest(t, s, small(0))
	before := snapshot(t, s)
	for _, tc := range []struct {
		name string
		edit func(b *graph.Batch) *graph.Batch
	}{
		{"nil batch", func(*graph.Batch) *graph.Batch { return nil }},
		{"no source", func(b *graph.Batch) *graph.Batch { b.Source = ""; return b }},
		{"unknown kind", func(b *graph.Batch) *graph.Batch { b.Nodes[0].Kind = "bogus"; return b }},
		{"ID prefix does not match kind", func(b *graph.Batch) *graph.Batch { b.Nodes[0].Kind = graph.KindImage; return b }},
		{"confidence above 1", func(b *graph.Batch) *graph.Batch { b.Edges[0].Confidence = 1.5; return b }},
		{"edge without method", func(b *graph.Batch) *graph.Batch { b.Edges[0].Method = ""; return b }},
		{"attrs that are not JSON", func(b *graph.Batch) *graph.Batch { b.Nodes[1].Attrs = map[string]any{"f": func() {}}; return b }},
		{"duplicate node", func(b *graph.Batch) *graph.Batch { b.Nodes = append(b.Nodes, b.Nodes[0]); return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.edit(small(time.Hour))
			if _, err := s.Ingest(context.Background(), b); !errors.Is(err, graph.ErrInvalid) {
				t.Errorf("Ingest: err = %v, want graph.ErrInvalid", err)
			}
			if diff := cmp.Diff(before, snapshot(t, s)); diff != "" {
				t.Errorf("an invalid batch changed the store (-before +after):\n%s", diff)
			}
		})
	}
}

func testTimes(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ingest(t, s, small(0))
	ingest(t, s, small(2*time.Hour))
	got, err := s.Node(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ObservedAt.Equal(at(0)) || !got.LastSeen.Equal(at(2*time.Hour)) {
		t.Errorf("after a later batch: ObservedAt %v LastSeen %v, want %v and %v", got.ObservedAt, got.LastSeen, at(0), at(2*time.Hour))
	}
	if got.ObservedAt.Location() != time.UTC {
		t.Errorf("ObservedAt is in %v, want UTC", got.ObservedAt.Location())
	}

	// An older batch arriving late moves ObservedAt back but neither LastSeen nor
	// the newer content.
	old := small(-time.Hour)
	old.Nodes[0].Name = "stale name"
	old.Edges[1].Confidence = 0.1
	res := ingest(t, s, old)
	if res.NodesChanged != 0 || res.EdgesChanged != 0 {
		t.Errorf("an older batch counted changes: %+v", res)
	}
	got, err = s.Node(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	w := want(small(0).Nodes[0], -time.Hour, 2*time.Hour)
	if diff := cmp.Diff(w, got); diff != "" {
		t.Errorf("after an older batch (-want +got):\n%s", diff)
	}
	es, err := s.Edges(context.Background(), store.EdgeQuery{From: image, Kind: graph.EdgeBuiltFrom})
	if err != nil || len(es) != 1 {
		t.Fatalf("Edges = %v, %v", es, err)
	}
	if es[0].Confidence != 0.9 || !es[0].ObservedAt.Equal(at(-time.Hour)) || !es[0].LastSeen.Equal(at(2*time.Hour)) {
		t.Errorf("edge after an older batch: %+v", es[0])
	}
	if st := stats(t, s); !st.LastScan.Equal(at(2 * time.Hour)) {
		t.Errorf("Stats.LastScan = %v, want %v", st.LastScan, at(2*time.Hour))
	}
}

// queryFixture is a store with a few nodes of each kind for the query tests.
func queryFixture(t *testing.T, s store.Store) {
	b := graph.NewBatch("test", "queries", t0)
	for i := range 5 {
		b.AddNode(graph.Node{ID: graph.CommitID("https://github.com/acme/app", fmt.Sprintf("%040d", i)), Kind: graph.KindCommit, Name: fmt.Sprintf("c%d", i%2)})
		b.AddNode(graph.Node{ID: graph.CommitID("https://github.com/acme/app2", fmt.Sprintf("%040d", i)), Kind: graph.KindCommit, Name: fmt.Sprintf("c%d", i%2)})
	}
	b.AddNode(graph.Node{ID: repo, Kind: graph.KindRepo, Name: "c0"})
	b.AddNode(graph.Node{ID: "repo:github.com/acme/ap%", Kind: graph.KindRepo})
	b.AddNode(graph.Node{ID: "repo:github.com/acme/ap_x", Kind: graph.KindRepo})
	b.AddNode(graph.Node{ID: "repo:github.com/acme/APP", Kind: graph.KindRepo})
	b.AddNode(graph.Node{ID: "repo:日本\U0010FFFF", Kind: graph.KindRepo})
	b.AddNode(graph.Node{ID: "repo:日本\U0010FFFFx", Kind: graph.KindRepo})
	b.AddNode(graph.Node{ID: "repo:日本語", Kind: graph.KindRepo})
	for i := range 5 {
		c := graph.CommitID("https://github.com/acme/app", fmt.Sprintf("%040d", i))
		b.Link(c, graph.EdgeInRepo, repo, "git", 1)
		if i > 0 {
			b.Link(c, graph.EdgeParent, graph.CommitID("https://github.com/acme/app", fmt.Sprintf("%040d", i-1)), "git", 1)
		}
	}
	b.Link(graph.CommitID("https://github.com/acme/app", fmt.Sprintf("%040d", 0)), graph.EdgeInRepo, repo, "guess", 0.5)
	ingest(t, s, b)
}

func ids(ns []graph.Node) []graph.ID {
	var out []graph.ID
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

func testNodeQueries(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	queryFixture(t, s)
	c := func(repo string, i int) graph.ID {
		return graph.CommitID("https://github.com/acme/"+repo, fmt.Sprintf("%040d", i))
	}
	for _, tc := range []struct {
		name string
		q    store.NodeQuery
		want []graph.ID
	}{
		{"kind", store.NodeQuery{Kind: graph.KindRepo}, []graph.ID{"repo:github.com/acme/APP", "repo:github.com/acme/ap%", "repo:github.com/acme/ap_x", repo, "repo:日本語", "repo:日本\U0010FFFF", "repo:日本\U0010FFFFx"}},
		{"kind with limit", store.NodeQuery{Kind: graph.KindCommit, Limit: 3}, []graph.ID{c("app2", 0), c("app2", 1), c("app2", 2)}},
		{"prefix", store.NodeQuery{IDPrefix: "commit:github.com/acme/app@"}, []graph.ID{c("app", 0), c("app", 1), c("app", 2), c("app", 3), c("app", 4)}},
		{"prefix is not a pattern", store.NodeQuery{IDPrefix: "repo:github.com/acme/ap_"}, []graph.ID{"repo:github.com/acme/ap_x"}},
		{"prefix is case-sensitive", store.NodeQuery{IDPrefix: "repo:github.com/acme/AP"}, []graph.ID{"repo:github.com/acme/APP"}},
		{"prefix ending in the last code point", store.NodeQuery{IDPrefix: "repo:日本\U0010FFFF"}, []graph.ID{"repo:日本\U0010FFFF", "repo:日本\U0010FFFFx"}},
		{"unicode prefix", store.NodeQuery{IDPrefix: "repo:日本"}, []graph.ID{"repo:日本語", "repo:日本\U0010FFFF", "repo:日本\U0010FFFFx"}},
		{"name", store.NodeQuery{Name: "c0", Kind: graph.KindCommit, IDPrefix: "commit:github.com/acme/app2"}, []graph.ID{c("app2", 0), c("app2", 2), c("app2", 4)}},
		{"name across kinds", store.NodeQuery{Name: "c0", Limit: 2}, []graph.ID{c("app2", 0), c("app2", 2)}},
		{"nothing", store.NodeQuery{Kind: graph.KindTicket}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, err := s.Nodes(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, ids(ns)); diff != "" {
				t.Errorf("Nodes(%+v) (-want +got):\n%s", tc.q, diff)
			}
		})
	}
	if _, err := s.Node(context.Background(), "repo:nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Node of a missing ID: err = %v, want ErrNotFound", err)
	}
}

func testEdgeQueries(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	queryFixture(t, s)
	c := func(i int) graph.ID { return graph.CommitID("https://github.com/acme/app", fmt.Sprintf("%040d", i)) }
	type key struct {
		From graph.ID
		Kind graph.EdgeKind
		To   graph.ID
		M    string
	}
	keys := func(es []graph.Edge) []key {
		var out []key
		for _, e := range es {
			out = append(out, key{e.From, e.Kind, e.To, e.Method})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    store.EdgeQuery
		want []key
	}{
		{"from", store.EdgeQuery{From: c(1)}, []key{{c(1), graph.EdgeInRepo, repo, "git"}, {c(1), graph.EdgeParent, c(0), "git"}}},
		{"to", store.EdgeQuery{To: c(0)}, []key{{c(1), graph.EdgeParent, c(0), "git"}}},
		{"kind and limit", store.EdgeQuery{Kind: graph.EdgeInRepo, Limit: 2}, []key{{c(0), graph.EdgeInRepo, repo, "git"}, {c(0), graph.EdgeInRepo, repo, "guess"}}},
		{"method", store.EdgeQuery{Method: "guess"}, []key{{c(0), graph.EdgeInRepo, repo, "guess"}}},
		{"all fields", store.EdgeQuery{From: c(0), Kind: graph.EdgeInRepo, To: repo, Method: "git"}, []key{{c(0), graph.EdgeInRepo, repo, "git"}}},
		{"nothing", store.EdgeQuery{From: repo}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := s.Edges(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, keys(es)); diff != "" {
				t.Errorf("Edges(%+v) (-want +got):\n%s", tc.q, diff)
			}
		})
	}
	es, err := s.Neighbors(context.Background(), c(1))
	if err != nil {
		t.Fatal(err)
	}
	wantN := []key{{c(1), graph.EdgeInRepo, repo, "git"}, {c(1), graph.EdgeParent, c(0), "git"}, {c(2), graph.EdgeParent, c(1), "git"}}
	if diff := cmp.Diff(wantN, keys(es)); diff != "" {
		t.Errorf("Neighbors (-want +got):\n%s", diff)
	}
	if es, err := s.Neighbors(context.Background(), "repo:nope"); err != nil || len(es) != 0 {
		t.Errorf("Neighbors of a missing node = %v, %v; want none", es, err)
	}
	if es, err := s.Neighbors(context.Background(), repo); err != nil || len(es) != 6 {
		t.Errorf("Neighbors(repo) = %d edges, %v; want 6", len(es), err)
	}
}

func testStats(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	empty := stats(t, s)
	if diff := cmp.Diff(store.Stats{NodesByKind: map[graph.Kind]int64{}, SchemaVersion: store.KnownSchemaVersion()}, empty); diff != "" {
		t.Errorf("Stats of an empty store (-want +got):\n%s", diff)
	}
	ingest(t, s, small(0))
	queryFixture(t, s)
	want := store.Stats{Nodes: 20, Edges: 13, Scans: 2, SchemaVersion: store.KnownSchemaVersion(), LastScan: at(0),
		NodesByKind: map[graph.Kind]int64{graph.KindRepo: 7, graph.KindCommit: 11, graph.KindImage: 1, graph.KindOwner: 1}}
	if diff := cmp.Diff(want, stats(t, s)); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func testConcurrent(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	const writers = 6
	var wg sync.WaitGroup
	errs := make(chan error, 3*writers)
	var wantNodes, wantEdges int
	batches := make([]*graph.Batch, writers)
	for i := range batches {
		b := Chain(400, fmt.Sprintf("w%d", i), t0.Add(time.Duration(i)*time.Second))
		// Every writer also touches the same shared nodes and edge.
		b.AddNode(graph.Node{ID: repo, Kind: graph.KindRepo, Name: "shared"})
		b.AddNode(graph.Node{ID: owner, Kind: graph.KindOwner, Stub: true})
		b.Link(repo, graph.EdgeOwnedBy, owner, "codeowners", 1)
		batches[i] = b
		wantNodes += len(b.Nodes) - 2
		wantEdges += len(b.Edges) - 1
	}
	wantNodes, wantEdges = wantNodes+2, wantEdges+1
	for _, b := range batches {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := s.Ingest(context.Background(), b); err != nil {
				errs <- err
			}
		}()
		go func() { // a reader alongside
			defer wg.Done()
			if _, err := s.Nodes(context.Background(), store.NodeQuery{Kind: graph.KindImage, Limit: 50}); err != nil {
				errs <- err
			}
			if _, err := s.Stats(context.Background()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent use: %v", err)
	}
	st := stats(t, s)
	if st.Nodes != int64(wantNodes) || st.Edges != int64(wantEdges) || st.Scans != writers {
		t.Errorf("after %d concurrent ingests: %d nodes, %d edges, %d scans; want %d, %d, %d",
			writers, st.Nodes, st.Edges, st.Scans, wantNodes, wantEdges, writers)
	}
	n, err := s.Node(context.Background(), owner)
	if err != nil || !n.Stub {
		t.Errorf("shared stub: %+v, %v", n, err)
	}
}

func testCancelled(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ingest(t, s, small(0))
	before := snapshot(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Ingest(ctx, Chain(2000, "cancelled", t0)); !errors.Is(err, context.Canceled) {
		t.Errorf("Ingest with a cancelled context: err = %v, want context.Canceled", err)
	}
	if _, err := s.Nodes(ctx, store.NodeQuery{}); err == nil {
		t.Errorf("Nodes with a cancelled context succeeded")
	}
	if _, err := s.Edges(ctx, store.EdgeQuery{}); err == nil {
		t.Errorf("Edges with a cancelled context succeeded")
	}
	if diff := cmp.Diff(before, snapshot(t, s)); diff != "" {
		t.Errorf("a cancelled ingest changed the store (-before +after):\n%s", diff)
	}

	// Cancelled while under way: all of the batch or none of it.
	big := Chain(30000, "midway", t0)
	for _, delay := range []time.Duration{time.Millisecond, 20 * time.Millisecond, 80 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), delay)
		_, err := s.Ingest(ctx, big)
		cancel()
		after := stats(t, s)
		switch {
		case err == nil:
			if after.Edges != int64(len(before.Edges)+len(big.Edges)) {
				t.Errorf("a completed ingest left %d edges, want %d", after.Edges, len(before.Edges)+len(big.Edges))
			}
			return
		case !errors.Is(err, context.DeadlineExceeded):
			t.Fatalf("Ingest cancelled after %v: err = %v, want context.DeadlineExceeded", delay, err)
		case after.Edges != int64(len(before.Edges)) || after.Scans != before.Scans:
			t.Fatalf("an ingest cancelled after %v left %d edges and %d scans, want %d and %d",
				delay, after.Edges, after.Scans, len(before.Edges), before.Scans)
		}
	}
}

func testChain(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	b := Chain(5000, "c", t0)
	if len(b.Edges) != 5000 {
		t.Fatalf("Chain(5000) made %d edges", len(b.Edges))
	}
	res := ingest(t, s, b)
	if res.NodesAdded != len(b.Nodes) || res.EdgesAdded != len(b.Edges) {
		t.Errorf("IngestResult = %+v, want %d nodes and %d edges added", res, len(b.Nodes), len(b.Edges))
	}
	var wantEdges []graph.Edge
	for _, e := range b.Edges {
		wantEdges = append(wantEdges, wantEdge(e, 0, 0))
	}
	graph.SortEdges(wantEdges)
	if diff := cmp.Diff(wantEdges, allEdges(t, s)); diff != "" {
		t.Errorf("Edges (-want +got):\n%s", diff)
	}
	if res := ingest(t, s, Chain(5000, "c", t0.Add(time.Hour))); res.NodesAdded+res.NodesChanged+res.EdgesAdded+res.EdgesChanged != 0 {
		t.Errorf("re-ingesting the chain changed something: %+v", res)
	}
}

func testDocuments(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.Document(ctx, "sbom", "sha256:aa"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing document: err = %v, want ErrNotFound", err)
	}
	big := bytes.Repeat([]byte{0, 1, 2, 0xff, 'x'}, 300000) // binary, 1.5 MB
	for _, d := range []struct{ kind, key string }{{"sbom", "sha256:aa"}, {"sbom", "sha256:bb"}, {"layer", "sha256:aa"}} {
		if err := s.PutDocument(ctx, d.kind, d.key, []byte(d.kind+" "+d.key)); err != nil {
			t.Fatalf("PutDocument(%s, %s): %v", d.kind, d.key, err)
		}
	}
	if err := s.PutDocument(ctx, "sbom", "sha256:aa", big); err != nil {
		t.Fatalf("replacing a document: %v", err)
	}
	got, err := s.Document(ctx, "sbom", "sha256:aa")
	if err != nil || !bytes.Equal(got, big) {
		t.Errorf("Document after replace: %d bytes (%v), want the 1.5 MB binary value", len(got), err)
	}
	for _, d := range []struct{ kind, key, want string }{{"sbom", "sha256:bb", "sbom sha256:bb"}, {"layer", "sha256:aa", "layer sha256:aa"}} {
		if got, err := s.Document(ctx, d.kind, d.key); err != nil || string(got) != d.want {
			t.Errorf("Document(%s, %s) = %q, %v; want %q", d.kind, d.key, got, err, d.want)
		}
	}
	if err := s.PutDocument(ctx, "sbom", "empty", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Document(ctx, "sbom", "empty"); err != nil || len(got) != 0 {
		t.Errorf("empty document = %q, %v", got, err)
	}
	if err := s.PutDocument(ctx, "", "k", []byte("v")); err == nil {
		t.Error("a document without a kind was accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.PutDocument(cctx, "sbom", "cancelled", []byte("v")); err == nil {
		t.Error("PutDocument with a cancelled context succeeded")
	}
	if _, err := s.Document(ctx, "sbom", "cancelled"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a cancelled PutDocument left a document: %v", err)
	}
}

func testGitIndex(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := context.Background()
	const repo, other = "https://github.com/acme/app", "https://github.com/acme/lib"
	commits := []graph.GitCommit{
		{Hash: "c2", FirstParent: "c1", Committed: t0.Add(time.Hour)},
		{Hash: "c1", Committed: t0},
	}
	changes := []graph.GitChange{
		{Commit: "c1", Path: "main.go", Blob: "b1"},
		{Commit: "c1", Path: "go.mod", Blob: "b2"},
		{Commit: "c2", Path: "main.go", Blob: "b3"},
		{Commit: "c2", Path: "go.mod", Blob: ""},
	}
	if err := s.PutGitIndex(ctx, repo, commits, changes); err != nil {
		t.Fatal(err)
	}
	if err := s.PutGitIndex(ctx, other, []graph.GitCommit{{Hash: "d1", Committed: t0}}, []graph.GitChange{{Commit: "d1", Path: "vendor/main.go", Blob: "b1"}}); err != nil {
		t.Fatal(err)
	}
	// Again, with one new commit: the known ones are left as they are.
	if err := s.PutGitIndex(ctx, repo, append(commits, graph.GitCommit{Hash: "c3", FirstParent: "c2", Committed: t0.Add(2 * time.Hour)}),
		append(changes, graph.GitChange{Commit: "c3", Path: "README", Blob: "b4"})); err != nil {
		t.Fatalf("re-put: %v", err)
	}
	got, err := s.GitCommits(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	want := []graph.GitCommit{
		{Hash: "c1", Committed: at(0)},
		{Hash: "c2", FirstParent: "c1", Committed: at(time.Hour)},
		{Hash: "c3", FirstParent: "c2", Committed: at(2 * time.Hour)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("GitCommits (-want +got):\n%s", d)
	}
	bps, err := s.BlobPaths(ctx, []string{"b1", "b4", "nope"})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(bps, func(i, j int) bool { return bps[i].Repo+bps[i].Path < bps[j].Repo+bps[j].Path })
	wantBP := []store.BlobPath{{Repo: repo, Path: "README", Blob: "b4"}, {Repo: repo, Path: "main.go", Blob: "b1"}, {Repo: other, Path: "vendor/main.go", Blob: "b1"}}
	if d := cmp.Diff(wantBP, bps); d != "" {
		t.Errorf("BlobPaths (-want +got):\n%s", d)
	}
	chs, err := s.GitChanges(ctx, repo, []string{"go.mod"})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(chs, func(i, j int) bool { return chs[i].Commit < chs[j].Commit })
	if d := cmp.Diff([]graph.GitChange{{Commit: "c1", Path: "go.mod", Blob: "b2"}, {Commit: "c2", Path: "go.mod"}}, chs); d != "" {
		t.Errorf("GitChanges (-want +got):\n%s", d)
	}
	// A change of a commit not in the call is refused, and nothing is written.
	if err := s.PutGitIndex(ctx, repo, []graph.GitCommit{{Hash: "c4", FirstParent: "c3", Committed: t0}}, []graph.GitChange{{Commit: "c9", Path: "x", Blob: "b9"}}); err == nil {
		t.Error("PutGitIndex accepted a change of a commit not in the call")
	}
	if got, _ := s.GitCommits(ctx, repo); len(got) != 3 {
		t.Errorf("after a refused put: %d commits, want 3", len(got))
	}
}
