package storetest

import (
	"fmt"
	"time"

	"github.com/tether-sec/tether/graph"
)

// Chain builds a batch of about edges edges shaped like a real code-to-cloud
// chain: repositories with commits, owners and Dockerfiles; images built from the
// commits with layers, packages and vulnerabilities; pods whose containers run the
// images. Every ID contains seed, so batches with different seeds share no node.
// The same arguments always give the same batch.
func Chain(edges int, seed string, t time.Time) *graph.Batch {
	g := &chain{b: graph.NewBatch("storetest", "chain/"+seed, t), budget: edges, seed: seed}
	g.build()
	return g.b
}

type chain struct {
	b      *graph.Batch
	budget int
	seed   string
}

func (g *chain) full() bool { return len(g.b.Edges) >= g.budget }

func (g *chain) node(id graph.ID, name string, attrs map[string]any) graph.ID {
	g.b.AddNode(graph.Node{ID: id, Kind: id.Kind(), Name: name, Attrs: attrs})
	return id
}

func (g *chain) link(from graph.ID, kind graph.EdgeKind, to graph.ID, method string, conf float64, src, detail string) {
	if g.full() {
		return
	}
	g.b.Link(from, kind, to, method, conf, graph.Evidence{Source: src, Detail: detail})
}

func (g *chain) build() {
	cluster := g.node(graph.ClusterID("prod-"+g.seed), "prod-"+g.seed, map[string]any{"provider": "eks", "region": "eu-west-1"})
	account := g.node(graph.AccountID("aws", "acct-"+g.seed), "acct-"+g.seed, nil)
	g.link(cluster, graph.EdgeInAccount, account, "eks-describe", 1, "aws-api", "eks:DescribeCluster")
	for r := 0; !g.full(); r++ {
		g.repo(r, cluster)
	}
}

func (g *chain) repo(r int, cluster graph.ID) {
	url := fmt.Sprintf("https://github.com/acme-%s/svc-%d", g.seed, r)
	repo := g.node(graph.RepoID(url), fmt.Sprintf("acme-%s/svc-%d", g.seed, r), map[string]any{"default_branch": "main", "private": true})
	team := g.node(graph.OwnerID(fmt.Sprintf("@acme-%s/team-%d", g.seed, r%7)), fmt.Sprintf("team-%d", r%7), nil)
	g.link(repo, graph.EdgeOwnedBy, team, "codeowners", 1, "CODEOWNERS", "* @team")
	base := g.node(graph.ImageID(fmt.Sprintf("sha256:%s-base-%064d", g.seed, r%5)), "debian:12", nil)
	var baseLayers []graph.ID
	for l := range 3 {
		id := g.node(graph.LayerID(fmt.Sprintf("sha256:%s-baselayer-%d-%d", g.seed, r%5, l)), "", map[string]any{"size": float64(int64(1) << (20 + l))})
		baseLayers = append(baseLayers, id)
		g.link(base, graph.EdgeHasLayer, id, "image-config", 1, "rootfs.diff_ids", fmt.Sprint(l))
	}
	var prev graph.ID
	for c := 0; c < 24 && !g.full(); c++ {
		sha := fmt.Sprintf("%040x", r*1000+c)
		commit := g.node(graph.CommitID(url, g.seed+sha), sha[:12], map[string]any{
			"message": fmt.Sprintf("fix #%d: handle the edge case", c), "time": "2025-06-01T12:00:00Z", "author": "dev@acme.example"})
		author := g.node(graph.OwnerID(fmt.Sprintf("dev%d-%s@acme.example", c%5, g.seed)), "", nil)
		g.link(commit, graph.EdgeInRepo, repo, "git", 1, "git-log", url)
		g.link(commit, graph.EdgeAuthoredBy, author, "git", 1, "git-log", "author")
		if prev != "" {
			g.link(commit, graph.EdgeParent, prev, "git", 1, "git-log", "parent")
		}
		prev = commit
		dockerfile := g.node(graph.FileID(url, "Dockerfile", fmt.Sprintf("%040x", r*100+c/4)), "Dockerfile", map[string]any{"lines": float64(40)})
		g.link(commit, graph.EdgeContains, dockerfile, "git", 1, "git-tree", "Dockerfile")
		if c%2 == 1 {
			g.image(url, r, c, commit, dockerfile, base, baseLayers, cluster)
		}
	}
}

func (g *chain) image(url string, r, c int, commit, dockerfile, base graph.ID, baseLayers []graph.ID, cluster graph.ID) {
	digest := fmt.Sprintf("sha256:%s-img-%d-%d", g.seed, r, c)
	img := g.node(graph.ImageID(digest), fmt.Sprintf("registry.acme.example/svc-%d:%d", r, c), map[string]any{
		"os": "linux", "architecture": "amd64", "tags": []any{fmt.Sprintf("v1.%d", c), "latest"},
		"labels": map[string]any{"org.opencontainers.image.source": url}})
	g.link(img, graph.EdgeBuiltFrom, commit, "oci-label", 0.95, "oci-label", "org.opencontainers.image.revision")
	g.link(img, graph.EdgeBuiltWith, dockerfile, "history-match", 0.8, "image-history", "RUN go build")
	g.link(img, graph.EdgeBaseImage, base, "from-digest", 1, "dockerfile", "FROM debian:12@sha256")
	for _, l := range baseLayers {
		g.link(img, graph.EdgeHasLayer, l, "image-config", 1, "rootfs.diff_ids", string(l))
	}
	for l := range 3 {
		layer := g.node(graph.LayerID(fmt.Sprintf("sha256:%s-layer-%d-%d-%d", g.seed, r, c, l)), "", map[string]any{"size": float64(4096 * (l + 1))})
		g.link(img, graph.EdgeHasLayer, layer, "image-config", 1, "rootfs.diff_ids", string(layer))
		for p := range 3 {
			purl := fmt.Sprintf("pkg:golang/example.com/%s/mod%d@v1.%d.%d", g.seed, (r+p)%40, c%9, l)
			pkg := g.node(graph.PackageID(purl), fmt.Sprintf("example.com/mod%d", (r+p)%40), map[string]any{"version": fmt.Sprintf("v1.%d.%d", c%9, l)})
			g.link(layer, graph.EdgeHasPackage, pkg, "sbom", 1, "go-buildinfo", purl)
			if (r+c+p)%4 == 0 {
				vuln := g.node(graph.VulnerabilityID(fmt.Sprintf("GO-2025-%s-%04d", g.seed, (r+p)%300)), "", map[string]any{"severity": "HIGH", "cvss": 7.5})
				g.link(pkg, graph.EdgeAffectedBy, vuln, "osv", 1, "osv", "affected range")
			}
		}
	}
	for p := range 2 {
		ns := fmt.Sprintf("svc-%d", r)
		name := fmt.Sprintf("svc-%d-c%d-%d", r, c, p)
		wl := g.node(graph.WorkloadID("prod-"+g.seed, ns, "Pod", name), name, map[string]any{"replicas": float64(1), "privileged": false})
		ctr := g.node(graph.ContainerID("prod-"+g.seed, ns, name, "app"), "app", map[string]any{"image": digest})
		g.link(ctr, graph.EdgeRuns, img, "k8s-status", 1, "pod.status.containerStatuses", digest)
		g.link(ctr, graph.EdgeInWorkload, wl, "k8s", 1, "pod.spec", "containers[0]")
		g.link(wl, graph.EdgeInCluster, cluster, "k8s", 1, "kubeconfig", "prod")
	}
}
