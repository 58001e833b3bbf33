package lineage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

// MethodBuildInfo links an image to the commit a file in it records of its own
// build: a Go binary's VCS stamp, a jar's git.properties, a package.json gitHead.
const MethodBuildInfo = "build-info"

// Confidences of build-information links.
const (
	confBuildInfo = 0.85
	// confBuildInfoModified: the build says its work tree had uncommitted changes.
	confBuildInfoModified = 0.6
)

// BuildVote is one file's record of its build and what became of it.
type BuildVote struct {
	File   string           `json:"file"`
	Build  *graph.BuildInfo `json:"build"`
	Repo   string           `json:"repo,omitempty"`
	Linked bool             `json:"linked"`
	Reason string           `json:"reason,omitempty"`
	// Detail says what the record says, for evidence and conflicts.
	Detail string `json:"detail,omitempty"`
}

// buildVotes reads the build records of the image's files and checks each
// against the scanned repositories: a record links only to a commit that exists
// in a scanned repository (the one it names, or else the only scanned one that
// has the commit). Tools copied into an image carry their own upstream records;
// those name repositories that are not scanned and link to nothing.
func buildVotes(ctx context.Context, r Reader, files []graph.FileBlob) ([]BuildVote, error) {
	var repos []graph.Node
	var votes []BuildVote
	for _, f := range files {
		if f.Build == nil {
			continue
		}
		v := BuildVote{File: f.Path, Build: f.Build, Detail: describeBuild(f.Path, f.Build)}
		rev := strings.ToLower(f.Build.Revision)
		if !hexSHA.MatchString(rev) || (len(rev) != 40 && len(rev) != 64) {
			v.Reason = "the revision is not a full commit SHA"
			votes = append(votes, v)
			continue
		}
		if f.Build.Repo != "" {
			ok, err := commitExists(ctx, r, f.Build.Repo, rev)
			if err != nil {
				return nil, err
			}
			if ok {
				v.Repo, v.Linked = graph.NormalizeRepoURL(f.Build.Repo), true
			} else {
				v.Reason = fmt.Sprintf("commit %s is not in a scanned repository %s", short(rev), graph.NormalizeRepoURL(f.Build.Repo))
			}
			votes = append(votes, v)
			continue
		}
		if repos == nil {
			var err error
			if repos, err = r.Nodes(ctx, store.NodeQuery{Kind: graph.KindRepo}); err != nil {
				return nil, err
			}
		}
		var found []string
		for _, repo := range repos {
			if repo.Stub {
				continue
			}
			ok, err := commitExists(ctx, r, repo.ID.Key(), rev)
			if err != nil {
				return nil, err
			}
			if ok {
				found = append(found, repo.ID.Key())
			}
		}
		switch len(found) {
		case 1:
			v.Repo, v.Linked = found[0], true
		case 0:
			v.Reason = fmt.Sprintf("no scanned repository has commit %s", short(rev))
		default:
			v.Reason = fmt.Sprintf("%d scanned repositories have commit %s (forks?)", len(found), short(rev))
		}
		votes = append(votes, v)
	}
	return votes, nil
}

// commitExists reports whether repo (a URL or a normalized key) was scanned and
// holds the commit.
func commitExists(ctx context.Context, r Reader, repo, sha string) (bool, error) {
	n, err := r.Node(ctx, graph.CommitID(repo, sha))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !n.Stub, nil
}

// linkBuildInfo draws the built_from edges of the image's verified build
// records and returns every record's vote.
func linkBuildInfo(ctx context.Context, r Reader, b *graph.Batch, img graph.Node, files []graph.FileBlob) ([]BuildVote, error) {
	votes, err := buildVotes(ctx, r, files)
	if err != nil {
		return nil, err
	}
	for _, v := range votes {
		if !v.Linked {
			continue
		}
		bi := v.Build
		conf := confBuildInfo
		ev := []graph.Evidence{{Source: bi.Kind, Detail: v.Detail}}
		if bi.Modified {
			conf = confBuildInfoModified
			ev = append(ev, graph.Evidence{Source: bi.Kind, Detail: "built from a work tree with uncommitted changes"})
		}
		b.AddEdge(graph.Edge{From: img.ID, Kind: graph.EdgeBuiltFrom, To: graph.CommitID(v.Repo, strings.ToLower(bi.Revision)),
			Method: MethodBuildInfo, Confidence: conf, Evidence: ev,
			Attrs: map[string]any{"file": v.File, "kind": bi.Kind}})
	}
	return votes, nil
}

func describeBuild(file string, bi *graph.BuildInfo) string {
	var s string
	switch bi.Kind {
	case "go-buildinfo":
		s = fmt.Sprintf("Go binary /%s (module %s) records vcs.revision=%s", file, bi.Module, bi.Revision)
	case "git.properties":
		s = fmt.Sprintf("/%s records git.commit.id=%s", file, bi.Revision)
	case "manifest":
		s = fmt.Sprintf("the manifest of /%s records the SCM revision %s", file, bi.Revision)
	default:
		s = fmt.Sprintf("/%s records %s=%s", file, "gitHead", bi.Revision)
	}
	if bi.Time != "" {
		s += " at " + bi.Time
	}
	return s
}
