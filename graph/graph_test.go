package graph_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-sec/tether/graph"
)

func TestNormalizeRepoURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com/Acme/App.git", "github.com/acme/app"},
		{"git@github.com:acme/app.git", "github.com/acme/app"},
		{"ssh://git@github.com/acme/app/", "github.com/acme/app"},
		{"github.com/acme/app", "github.com/acme/app"},
		{"https://git.example.com:8443/Team/Repo", "git.example.com/Team/Repo"},
		{"git@gitlab.example.com:group/sub/proj.git", "gitlab.example.com/group/sub/proj"},
		{"/home/me/src/app/", "file:///home/me/src/app"},
		{"file:///home/me/src/app", "file:///home/me/src/app"},
		{"  https://GITHUB.COM/acme/app  ", "github.com/acme/app"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := graph.NormalizeRepoURL(tt.in); got != tt.want {
			t.Errorf("NormalizeRepoURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIDs(t *testing.T) {
	tests := []struct {
		id   graph.ID
		kind graph.Kind
		want string
	}{
		{graph.RepoID("git@github.com:acme/app.git"), graph.KindRepo, "repo:github.com/acme/app"},
		{graph.CommitID("https://github.com/acme/app", "ABCDEF"), graph.KindCommit, "commit:github.com/acme/app@abcdef"},
		{graph.FileID("github.com/acme/app", "./build/Dockerfile", "ff00"), graph.KindFile, "file:github.com/acme/app//build/Dockerfile@ff00"},
		{graph.ImageID("sha256:AB"), graph.KindImage, "image:sha256:ab"},
		{graph.PackageID("pkg:npm/left-pad@1.3.0"), graph.KindPackage, "package:pkg:npm/left-pad@1.3.0"},
		{graph.VulnerabilityID("cve-2024-1234"), graph.KindVulnerability, "vulnerability:CVE-2024-1234"},
		{graph.WorkloadID("prod", "payments", "Pod", "api-1"), graph.KindWorkload, "workload:prod/payments/Pod/api-1"},
		{graph.ContainerID("prod", "payments", "api-1", "app"), graph.KindContainer, "container:prod/payments/api-1/app"},
		{graph.OwnerID(" @Acme/Team "), graph.KindOwner, "owner:@acme/team"},
	}
	for _, tt := range tests {
		if string(tt.id) != tt.want {
			t.Errorf("id = %q, want %q", tt.id, tt.want)
		}
		if tt.id.Kind() != tt.kind {
			t.Errorf("%q.Kind() = %q, want %q", tt.id, tt.id.Kind(), tt.kind)
		}
	}
	if a, b := graph.FindingID("x", "y"), graph.FindingID("xy"); a == b {
		t.Errorf("FindingID must separate its parts: %q == %q", a, b)
	}
}

func TestBatchMerge(t *testing.T) {
	b := graph.NewBatch("test", "t", time.Unix(0, 0))
	img := graph.ImageID("sha256:aa")
	b.AddNode(graph.Node{ID: img, Kind: graph.KindImage, Stub: true, Attrs: map[string]any{"reference": "x"}})
	b.AddNode(graph.Node{ID: img, Kind: graph.KindImage, Name: "app", Attrs: map[string]any{"digest": "sha256:aa"}})
	b.AddNode(graph.Node{ID: img, Kind: graph.KindImage, Stub: true, Attrs: map[string]any{"reference": "y"}})
	n, ok := b.Node(img)
	if !ok {
		t.Fatal("node missing")
	}
	want := graph.Node{ID: img, Kind: graph.KindImage, Name: "app", Attrs: map[string]any{"digest": "sha256:aa"}}
	if d := cmp.Diff(want, n); d != "" {
		t.Errorf("observed node must replace stub and ignore later stubs (-want +got):\n%s", d)
	}
	c := graph.CommitID("github.com/a/b", "1")
	b.AddNode(graph.Node{ID: c, Kind: graph.KindCommit})
	b.Link(img, graph.EdgeBuiltFrom, c, "oci-label", 0.5, graph.Evidence{Source: "oci-label", Detail: "a"})
	b.Link(img, graph.EdgeBuiltFrom, c, "oci-label", 0.9, graph.Evidence{Source: "oci-label", Detail: "b"}, graph.Evidence{Source: "oci-label", Detail: "a"})
	if len(b.Edges) != 1 {
		t.Fatalf("edges = %d, want 1", len(b.Edges))
	}
	if b.Edges[0].Confidence != 0.9 || len(b.Edges[0].Evidence) != 2 {
		t.Errorf("merged edge = %+v, want confidence 0.9 and 2 evidence", b.Edges[0])
	}
	if err := b.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestValidate(t *testing.T) {
	img := graph.ImageID("sha256:aa")
	tests := []struct {
		name  string
		nodes []graph.Node
		edges []graph.Edge
	}{
		{"unknown kind", []graph.Node{{ID: "widget:1", Kind: "widget"}}, nil},
		{"prefix mismatch", []graph.Node{{ID: img, Kind: graph.KindLayer}}, nil},
		{"duplicate", []graph.Node{{ID: img, Kind: graph.KindImage}, {ID: img, Kind: graph.KindImage}}, nil},
		{"bad attrs", []graph.Node{{ID: img, Kind: graph.KindImage, Attrs: map[string]any{"f": math.Inf(1)}}}, nil},
		{"confidence", nil, []graph.Edge{{From: img, To: img, Kind: graph.EdgeBaseImage, Method: "m", Confidence: 1.5}}},
		{"nan confidence", nil, []graph.Edge{{From: img, To: img, Kind: graph.EdgeBaseImage, Method: "m", Confidence: math.NaN()}}},
		{"no method", nil, []graph.Edge{{From: img, To: img, Kind: graph.EdgeBaseImage, Confidence: 1}}},
		{"endpoint kind", nil, []graph.Edge{{From: "nope", To: img, Kind: graph.EdgeBaseImage, Method: "m", Confidence: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &graph.Batch{Source: "test", Nodes: tt.nodes, Edges: tt.edges}
			err := b.Validate()
			if !errors.Is(err, graph.ErrInvalid) {
				t.Fatalf("Validate() = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestAttrsRoundTrip(t *testing.T) {
	type stage struct {
		Name  string `json:"name"`
		Start int    `json:"start_line"`
	}
	m := graph.Attrs(struct {
		Stages []stage `json:"stages"`
	}{[]stage{{"build", 1}}})
	var back struct {
		Stages []stage `json:"stages"`
	}
	if err := graph.DecodeAttrs(m, &back); err != nil {
		t.Fatal(err)
	}
	if back.Stages[0].Start != 1 || back.Stages[0].Name != "build" {
		t.Errorf("round trip = %+v", back)
	}
}
