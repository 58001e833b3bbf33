package lineage

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

// Reader is the part of a store lineage reads.
type Reader interface {
	Node(ctx context.Context, id graph.ID) (graph.Node, error)
	Nodes(ctx context.Context, q store.NodeQuery) ([]graph.Node, error)
	Edges(ctx context.Context, q store.EdgeQuery) ([]graph.Edge, error)
	// The image files and the blob index, for the content match.
	Document(ctx context.Context, kind, key string) ([]byte, error)
	BlobPaths(ctx context.Context, blobs []string) ([]store.BlobPath, error)
	GitCommits(ctx context.Context, repo string) ([]graph.GitCommit, error)
	GitChanges(ctx context.Context, repo string, paths []string) ([]graph.GitChange, error)
}

// Methods and confidences of the links lineage draws.
const (
	MethodLabel        = "oci-label"
	MethodHistoryMatch = "history-match"

	// confLabelVerified: a label names a commit that exists in the scanned repo.
	confLabelVerified = 0.9
	// confLabelShortSHA: a label names an abbreviated SHA that is unique in the repo.
	confLabelShortSHA = 0.85
	// confLabelUnverified: the label's repository has not been scanned.
	confLabelUnverified = 0.6
	// minHistoryScore: the share of a Dockerfile's instructions that must appear in
	// the image history, in order, before tether links the two.
	minHistoryScore = 0.75
)

// Well-known labels and annotations that name an image's source.
var (
	sourceKeys   = []string{"org.opencontainers.image.source", "org.label-schema.vcs-url", "vcs-url"}
	revisionKeys = []string{"org.opencontainers.image.revision", "org.label-schema.vcs-ref", "vcs-ref"}
	hexSHA       = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)
)

// Resolve reads the images in the store and returns the lineage links their evidence
// supports, as a batch to ingest. It is deterministic: the same store gives the same
// batch, so re-resolving changes nothing.
func Resolve(ctx context.Context, r Reader, now time.Time) (*graph.Batch, error) {
	r = &memoReader{Reader: r}
	b := graph.NewBatch("lineage", "images", now)
	imgs, err := r.Nodes(ctx, store.NodeQuery{Kind: graph.KindImage})
	if err != nil {
		return nil, err
	}
	for _, img := range imgs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// A build record names its image by digest: it links even an image
		// that no scan has read yet.
		if err := linkBuildRecords(ctx, r, b, img); err != nil {
			return nil, fmt.Errorf("image %s: %w", img.ID, err)
		}
		if img.Stub {
			continue
		}
		if err := linkBase(ctx, r, b, img); err != nil {
			return nil, fmt.Errorf("image %s: %w", img.ID, err)
		}
		// The label's links wait until the content match has had its say: when
		// the image's files contradict the commit a label names, the label is
		// wrong, and its link is not drawn.
		labels := graph.NewBatch("lineage", "images", now)
		claim := labelClaimOf(img)
		if claim.source != "" && claim.revision != "" {
			if err := linkLabel(ctx, r, labels, img, claim); err != nil {
				return nil, fmt.Errorf("image %s: %w", img.ID, err)
			}
		}
		provs, err := linkProvenance(ctx, r, b, img)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.ID, err)
		}
		// The image's files, read once for its build records and the content match.
		files, _, err := imageFiles(ctx, r, img.String("digest"))
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.ID, err)
		}
		builds, err := linkBuildInfo(ctx, r, b, img, files)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.ID, err)
		}
		for _, pv := range provs {
			builds = append(builds, pv.BuildVote)
		}
		linked, all, err := linkContent(ctx, r, b, img, files)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.ID, err)
		}
		c, err := labelConflict(ctx, r, labels, linked, all, builds)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.ID, err)
		}
		if c != nil {
			addConflict(b, img, claim, c)
			continue
		}
		for _, n := range labels.Nodes {
			b.AddNode(n)
		}
		for _, e := range labels.Edges {
			b.AddEdge(e)
		}
	}
	// Dockerfiles: for every image with a commit link (from any method, including
	// the ones just made), find the Dockerfile in that commit that explains its history.
	for _, img := range imgs {
		if img.Stub {
			continue
		}
		commits, err := builtFrom(ctx, r, b, img.ID)
		if err != nil {
			return nil, err
		}
		if len(commits) == 0 {
			// No commit: find the Dockerfile among all the scanned ones.
			if err := searchDockerfile(ctx, r, b, img); err != nil {
				return nil, fmt.Errorf("image %s: %w", img.ID, err)
			}
			continue
		}
		for _, c := range commits {
			if err := linkDockerfile(ctx, r, b, img, c); err != nil {
				return nil, fmt.Errorf("image %s: %w", img.ID, err)
			}
		}
	}
	if err := linkRunningPlatforms(ctx, r, b); err != nil {
		return nil, err
	}
	graph.SortEdges(b.Edges)
	sort.Slice(b.Nodes, func(i, j int) bool { return b.Nodes[i].ID < b.Nodes[j].ID })
	return b, nil
}

type labelClaim struct {
	source, sourceKey     string
	revision, revisionKey string
}

func labelClaimOf(img graph.Node) labelClaim {
	var c labelClaim
	for _, m := range []map[string]any{mapAttr(img.Attrs, "labels"), mapAttr(img.Attrs, "annotations")} {
		for _, k := range sourceKeys {
			if v, _ := m[k].(string); v != "" && c.source == "" {
				c.source, c.sourceKey = strings.TrimSpace(v), k
			}
		}
		for _, k := range revisionKeys {
			if v, _ := m[k].(string); v != "" && c.revision == "" {
				c.revision, c.revisionKey = strings.TrimSpace(v), k
			}
		}
	}
	return c
}

func mapAttr(attrs map[string]any, k string) map[string]any {
	m, _ := attrs[k].(map[string]any)
	return m
}

// linkLabel turns an image's source/revision labels into an image → commit edge when
// the commit can be found, or — when the repository was never scanned — an
// unverified edge to a stub commit.
func linkLabel(ctx context.Context, r Reader, b *graph.Batch, img graph.Node, c labelClaim) error {
	if !hexSHA.MatchString(c.revision) {
		return nil // a branch or tag name, not a commit: nothing to link
	}
	ev := []graph.Evidence{
		{Source: MethodLabel, Detail: c.sourceKey + "=" + c.source},
		{Source: MethodLabel, Detail: c.revisionKey + "=" + c.revision},
	}
	repoScanned, err := exists(ctx, r, graph.RepoID(c.source))
	if err != nil {
		return err
	}
	full := graph.CommitID(c.source, c.revision)
	if repoScanned {
		var found []graph.Node
		if len(c.revision) == 40 || len(c.revision) == 64 {
			if n, err := r.Node(ctx, full); err == nil && !n.Stub {
				found = append(found, n)
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		} else {
			ns, err := r.Nodes(ctx, store.NodeQuery{Kind: graph.KindCommit, IDPrefix: string(full), Limit: 2})
			if err != nil {
				return err
			}
			for _, n := range ns {
				if !n.Stub {
					found = append(found, n)
				}
			}
		}
		if len(found) != 1 {
			// Not in the repo, or an ambiguous abbreviation: no link. Trace reports it.
			return nil
		}
		conf := confLabelVerified
		if len(c.revision) != 40 && len(c.revision) != 64 {
			conf = confLabelShortSHA
		}
		ev = append(ev, graph.Evidence{Source: "git", Detail: "commit " + found[0].String("sha") + " exists in " + graph.NormalizeRepoURL(c.source)})
		b.AddEdge(graph.Edge{From: img.ID, Kind: graph.EdgeBuiltFrom, To: found[0].ID, Method: MethodLabel, Confidence: conf, Evidence: ev})
		return nil
	}
	if len(c.revision) != 40 && len(c.revision) != 64 {
		return nil // an abbreviation cannot name a commit we have not seen
	}
	sha := strings.ToLower(c.revision)
	b.AddNode(graph.Node{ID: full, Kind: graph.KindCommit, Name: sha[:12], Stub: true,
		Attrs: map[string]any{"sha": sha, "repo": graph.NormalizeRepoURL(c.source)}})
	ev = append(ev, graph.Evidence{Source: "git", Detail: "repository " + graph.NormalizeRepoURL(c.source) + " not scanned: the label is unverified"})
	b.AddEdge(graph.Edge{From: img.ID, Kind: graph.EdgeBuiltFrom, To: full, Method: MethodLabel, Confidence: confLabelUnverified, Evidence: ev})
	return nil
}

func exists(ctx context.Context, r Reader, id graph.ID) (bool, error) {
	n, err := r.Node(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !n.Stub, nil
}

// builtFrom lists the commits an image is linked to, in the store and in b.
func builtFrom(ctx context.Context, r Reader, b *graph.Batch, img graph.ID) ([]graph.ID, error) {
	es, err := r.Edges(ctx, store.EdgeQuery{From: img, Kind: graph.EdgeBuiltFrom})
	if err != nil {
		return nil, err
	}
	seen := map[graph.ID]bool{}
	var out []graph.ID
	for _, e := range append(es, b.Edges...) {
		if e.From == img && e.Kind == graph.EdgeBuiltFrom && !seen[e.To] {
			seen[e.To] = true
			out = append(out, e.To)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// memoReader answers the queries Resolve repeats for every image — every file
// node, a repository's indexed commits — from memory after the first time. It
// lives for one Resolve: the store does not change under it.
type memoReader struct {
	Reader
	files   []graph.Node
	filesOK bool
	commits map[string][]graph.GitCommit
}

func (m *memoReader) Nodes(ctx context.Context, q store.NodeQuery) ([]graph.Node, error) {
	if q != (store.NodeQuery{Kind: graph.KindFile}) {
		return m.Reader.Nodes(ctx, q)
	}
	if !m.filesOK {
		fs, err := m.Reader.Nodes(ctx, q)
		if err != nil {
			return nil, err
		}
		m.files, m.filesOK = fs, true
	}
	return m.files, nil
}

func (m *memoReader) GitCommits(ctx context.Context, repo string) ([]graph.GitCommit, error) {
	if cs, ok := m.commits[repo]; ok {
		return cs, nil
	}
	cs, err := m.Reader.GitCommits(ctx, repo)
	if err != nil {
		return nil, err
	}
	if m.commits == nil {
		m.commits = map[string][]graph.GitCommit{}
	}
	m.commits[repo] = cs
	return cs, nil
}
