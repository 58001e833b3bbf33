package lineage

import (
	"context"
	"strings"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

// MethodCIWorkflow names the CI workflows that push an image's repository:
// supporting evidence, never a link on its own.
const MethodCIWorkflow = "ci-workflow"

// CIVote is a CI job that builds and pushes the image's repository.
type CIVote struct {
	Repo       string `json:"repo"`
	Workflow   string `json:"workflow"`
	Line       int    `json:"line"`
	Job        string `json:"job"`
	Dockerfile string `json:"dockerfile,omitempty"`
	Image      string `json:"image"`
}

// ciVotes finds the jobs of the scanned repositories' CI workflows (GitHub
// Actions, GitLab CI, at HEAD) that push one of the repositories the image was
// seen under.
func ciVotes(ctx context.Context, r Reader, img graph.Node) ([]CIVote, error) {
	names := map[string]bool{}
	for _, ref := range listAttr(img.Attrs, "references") {
		if n := imageRepoName(ref); n != "" {
			names[n] = true
		}
	}
	if ref := img.String("reference"); ref != "" {
		names[imageRepoName(ref)] = true
	}
	if len(names) == 0 {
		return nil, nil
	}
	files, err := r.Nodes(ctx, store.NodeQuery{Kind: graph.KindFile})
	if err != nil {
		return nil, err
	}
	var out []CIVote
	for _, f := range files {
		if f.String("role") != "ci-workflow" {
			continue
		}
		builds, _ := f.Attrs["builds"].([]any)
		for _, x := range builds {
			m, _ := x.(map[string]any)
			ims, _ := m["images"].([]any)
			for _, im := range ims {
				s, _ := im.(string)
				if !names[imageRepoName(s)] {
					continue
				}
				v := CIVote{Repo: fileRepo(f.ID), Workflow: f.String("path"), Image: s}
				v.Job, _ = m["job"].(string)
				v.Dockerfile, _ = m["dockerfile"].(string)
				if l, ok := m["line"].(float64); ok {
					v.Line = int(l)
				}
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// fileRepo is the repository of a file ID ("file:<repo>//<path>@<blob>").
func fileRepo(id graph.ID) string {
	k := id.Key()
	if i := strings.LastIndex(k, "//"); i > 0 {
		return k[:i]
	}
	return ""
}

// imageRepoName normalizes an image reference to its repository: no tag or
// digest, Docker Hub names spelled in full, lower case.
func imageRepoName(ref string) string {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if i := strings.Index(ref, "://"); i >= 0 {
		ref = ref[i+3:]
	}
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	if ref == "" || strings.HasPrefix(ref, "oci:") || strings.HasPrefix(ref, "docker-archive:") {
		return ""
	}
	first, rest, ok := strings.Cut(ref, "/")
	switch {
	case !ok:
		return "docker.io/library/" + ref
	case first == "index.docker.io" || first == "registry-1.docker.io":
		ref = "docker.io/" + rest
	case !strings.ContainsAny(first, ".:") && first != "localhost":
		ref = "docker.io/" + ref
	}
	return ref
}
