package report_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/lineage"
	"github.com/tether-sec/tether/report"

	"github.com/tether-sec/tether/internal/golden"
)

func sampleTrace() *lineage.Trace {
	pod := lineage.NodeRef{ID: graph.WorkloadID("prod", "payments", "Pod", "api-1"), Kind: graph.KindWorkload, Name: "payments/api-1"}
	ctr := lineage.NodeRef{ID: graph.ContainerID("prod", "payments", "api-1", "api"), Kind: graph.KindContainer, Name: "payments/api-1/api"}
	img := lineage.NodeRef{ID: graph.ImageID("sha256:47237f"), Kind: graph.KindImage, Name: "reg.example/acme/api:1.4.2"}
	com := lineage.NodeRef{ID: graph.CommitID("github.com/acme/api", "14e41aec"), Kind: graph.KindCommit, Name: "14e41ae"}
	df := lineage.NodeRef{ID: graph.FileID("github.com/acme/api", "Dockerfile", "9f"), Kind: graph.KindFile, Name: "Dockerfile"}
	own := lineage.NodeRef{ID: graph.OwnerID("@acme/payments"), Kind: graph.KindOwner, Name: "@acme/payments"}
	side := lineage.NodeRef{ID: graph.ImageID("sha256:6c4f"), Kind: graph.KindImage, Name: "docker.io/envoyproxy/envoy@sha256:6c4f", Stub: true}
	return &lineage.Trace{
		Subject: pod,
		Chains: []lineage.Chain{
			{Container: "api", Steps: []lineage.Step{
				{From: pod, Link: graph.EdgeInWorkload, To: ctr, Method: "k8s-snapshot", Confidence: 1, Evidence: []graph.Evidence{{Source: "k8s", Detail: "spec.containers[api]"}}},
				{From: ctr, Link: graph.EdgeRuns, To: img, Method: "k8s-status", Confidence: 1, Evidence: []graph.Evidence{{Source: "k8s-status", Detail: "status.containerStatuses[api].imageID=reg.example/acme/api@sha256:47237f"}}},
				{From: img, Link: graph.EdgeBuiltFrom, To: com, Method: "oci-label", Confidence: 0.9, Evidence: []graph.Evidence{
					{Source: "oci-label", Detail: "org.opencontainers.image.source=https://github.com/acme/api"},
					{Source: "oci-label", Detail: "org.opencontainers.image.revision=14e41aec"}}},
				{From: img, Link: graph.EdgeBuiltWith, To: df, Method: "history-match", Confidence: 0.95,
					Lines: []lineage.Match{{History: 2, Instruction: "WORKDIR /app", StartLine: 11, EndLine: 11}, {History: 3, Instruction: "RUN make \\\n  build", StartLine: 12, EndLine: 13}}},
				{From: df, Link: graph.EdgeOwnedBy, To: own, Method: "codeowners", Confidence: 1, Evidence: []graph.Evidence{{Source: "CODEOWNERS", Detail: "CODEOWNERS:4 /Dockerfile"}}},
			}},
			{Container: "envoy", Steps: []lineage.Step{{From: ctr, Link: graph.EdgeRuns, To: side, Method: "k8s-status", Confidence: 1}},
				Gaps: []string{"image sha256:6c4f has not been scanned: run 'tether scan image docker.io/envoyproxy/envoy@sha256:6c4f'"}},
		},
	}
}

func TestTraceGolden(t *testing.T) {
	tests := []struct {
		file  string
		write func(*bytes.Buffer, *lineage.Trace) error
	}{
		{"trace.txt", func(b *bytes.Buffer, tr *lineage.Trace) error { return report.TraceTable(b, tr) }},
		{"trace.json", func(b *bytes.Buffer, tr *lineage.Trace) error { return report.TraceJSON(b, tr) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b, sampleTrace()); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.file), b.Bytes())
		})
	}
}

// TestTraceTableRange: the table shows a content match's equivalence range as
// its first commit and a count; the trace itself keeps every commit.
func TestTraceTableRange(t *testing.T) {
	img := lineage.NodeRef{ID: graph.ImageID("sha256:aa"), Kind: graph.KindImage, Name: "api:1"}
	repo := lineage.NodeRef{ID: graph.RepoID("https://github.com/acme/api"), Kind: graph.KindRepo, Name: "github.com/acme/api"}
	tr := &lineage.Trace{Subject: img}
	var ch lineage.Chain
	for _, sha := range []string{"1111111", "2222222", "3333333"} {
		c := lineage.NodeRef{ID: graph.CommitID("https://github.com/acme/api", sha), Kind: graph.KindCommit, Name: sha}
		ch.Steps = append(ch.Steps,
			lineage.Step{From: img, Link: graph.EdgeBuiltFrom, To: c, Method: lineage.MethodBlobMatch, Confidence: 0.9},
			lineage.Step{From: c, Link: graph.EdgeInRepo, To: repo, Method: "git", Confidence: 1})
	}
	tr.Chains = []lineage.Chain{ch}
	var b bytes.Buffer
	if err := report.TraceTable(&b, tr); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "commit 1111111 (+2 equivalent)") || strings.Contains(out, "2222222") || strings.Count(out, "in_repo") != 1 {
		t.Errorf("table:\n%s", out)
	}
	if len(tr.Chains[0].Steps) != 6 || tr.Chains[0].Steps[0].To.Name != "1111111" {
		t.Error("the trace itself was changed")
	}
}

// TestTraceTableControllers: a pod's controller chain heads the table.
func TestTraceTableControllers(t *testing.T) {
	pod := lineage.NodeRef{ID: graph.WorkloadID("prod", "shop", "Pod", "web-1"), Kind: graph.KindWorkload, Name: "shop/web-1"}
	rs := lineage.NodeRef{ID: graph.WorkloadID("prod", "shop", "ReplicaSet", "web-7d9"), Kind: graph.KindWorkload, Name: "shop/web-7d9"}
	dep := lineage.NodeRef{ID: graph.WorkloadID("prod", "shop", "Deployment", "web"), Kind: graph.KindWorkload, Name: "shop/web"}
	tr := &lineage.Trace{Subject: pod, Controllers: []lineage.Step{
		{From: pod, Link: graph.EdgeControlledBy, To: rs, Method: "k8s-owner-ref"},
		{From: rs, Link: graph.EdgeControlledBy, To: dep, Method: "k8s-owner-ref"},
	}}
	var b bytes.Buffer
	if err := report.TraceTable(&b, tr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "controlled_by workload shop/web-7d9 [ReplicaSet]") || !strings.Contains(b.String(), "controlled_by workload shop/web [Deployment]") {
		t.Errorf("table:\n%s", b.String())
	}
}
