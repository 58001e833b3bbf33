package lineage

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

// MethodBuildRecord links an image to the commit a CI build record names.
const MethodBuildRecord = "build-record"

// Confidences of build-record links: the CI system said so, and the commit is
// (or is not yet) in a scanned repository.
const (
	confBuildRecordVerified   = 0.95
	confBuildRecordUnverified = 0.8
)

// BuildRecord is what a CI step says of one build: which commit of which
// repository produced which image. It is optional: nothing in tether needs it.
type BuildRecord struct {
	// Image is the image's manifest digest ("sha256:…"); ImageRef where it was
	// pushed, when known.
	Image    string
	ImageRef string
	// SourceRepo, SourceBranch and SourceCommit name the source (a full SHA).
	SourceRepo, SourceBranch, SourceCommit string
	// CISystem ("github-actions", "gitlab-ci", "jenkins", …; default "ci"),
	// CIBuildID (the run or pipeline ID) and CIURL identify the build.
	CISystem, CIBuildID, CIURL string
}

var (
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	fullSHA  = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)
)

// ErrBadBuildRecord is matched by the error of a record that cannot be stored.
var ErrBadBuildRecord = errors.New("lineage: bad build record")

// RecordBuild validates rec and returns the facts to ingest: the build, the
// image it produced and the commit it was built from (stubs until scanned).
func RecordBuild(rec BuildRecord, now time.Time) (*graph.Batch, error) {
	rec.Image = strings.ToLower(strings.TrimSpace(rec.Image))
	rec.SourceCommit = strings.ToLower(strings.TrimSpace(rec.SourceCommit))
	rec.CISystem = strings.TrimSpace(rec.CISystem)
	if rec.CISystem == "" {
		rec.CISystem = "ci"
	}
	switch {
	case !digestRE.MatchString(rec.Image):
		return nil, fmt.Errorf("%w: image digest %q: give the pushed image as REF@sha256:<64 hex> (docker buildx prints it; crane digest REF)", ErrBadBuildRecord, rec.Image)
	case strings.TrimSpace(rec.SourceRepo) == "":
		return nil, fmt.Errorf("%w: --source-repo is required (the repository URL)", ErrBadBuildRecord)
	case !fullSHA.MatchString(rec.SourceCommit):
		return nil, fmt.Errorf("%w: source commit %q: give the full commit SHA (GITHUB_SHA, CI_COMMIT_SHA, git rev-parse HEAD)", ErrBadBuildRecord, rec.SourceCommit)
	case strings.TrimSpace(rec.CIBuildID) == "":
		return nil, fmt.Errorf("%w: --ci-build-id is required (GITHUB_RUN_ID, CI_PIPELINE_ID, BUILD_TAG)", ErrBadBuildRecord)
	}
	b := graph.NewBatch(MethodBuildRecord, rec.CISystem+"/"+rec.CIBuildID, now)
	build := graph.BuildID(rec.CISystem, rec.CIBuildID)
	img := graph.ImageID(rec.Image)
	commit := graph.CommitID(rec.SourceRepo, rec.SourceCommit)
	attrs := map[string]any{
		"system": rec.CISystem, "build_id": rec.CIBuildID, "image_digest": rec.Image,
		"source_repo": graph.NormalizeRepoURL(rec.SourceRepo), "source_commit": rec.SourceCommit,
	}
	if rec.SourceBranch != "" {
		attrs["source_branch"] = rec.SourceBranch
	}
	if rec.CIURL != "" {
		attrs["url"] = rec.CIURL
	}
	if rec.ImageRef != "" {
		attrs["image_ref"] = rec.ImageRef
	}
	b.AddNode(graph.Node{ID: build, Kind: graph.KindBuild, Name: rec.CISystem + " " + rec.CIBuildID, Attrs: attrs})
	imgAttrs := map[string]any{"digest": rec.Image}
	if rec.ImageRef != "" {
		imgAttrs["reference"] = rec.ImageRef
	}
	b.AddNode(graph.Node{ID: img, Kind: graph.KindImage, Name: cmpOr(rec.ImageRef, rec.Image), Stub: true, Attrs: imgAttrs})
	b.AddNode(graph.Node{ID: commit, Kind: graph.KindCommit, Name: short(rec.SourceCommit), Stub: true,
		Attrs: map[string]any{"sha": rec.SourceCommit, "repo": graph.NormalizeRepoURL(rec.SourceRepo)}})
	ev := graph.Evidence{Source: MethodBuildRecord, Detail: fmt.Sprintf("%s build %s recorded image %s from %s@%s", rec.CISystem, rec.CIBuildID, rec.Image, graph.NormalizeRepoURL(rec.SourceRepo), rec.SourceCommit)}
	b.Link(build, graph.EdgeProduced, img, MethodBuildRecord, 1, ev)
	b.Link(build, graph.EdgeBuiltFrom, commit, MethodBuildRecord, 1, ev)
	return b, nil
}

// linkBuildRecords draws image → commit for the builds recorded as producing img:
// verified when the commit is in a scanned repository, else to the stub commit
// at a lower confidence.
func linkBuildRecords(ctx context.Context, r Reader, b *graph.Batch, img graph.Node) error {
	produced, err := r.Edges(ctx, store.EdgeQuery{To: img.ID, Kind: graph.EdgeProduced, Method: MethodBuildRecord})
	if err != nil {
		return err
	}
	for _, pe := range produced {
		build, err := r.Node(ctx, pe.From)
		if err != nil {
			return err
		}
		repo, sha := build.String("source_repo"), build.String("source_commit")
		if repo == "" || sha == "" {
			continue
		}
		ok, err := commitExists(ctx, r, repo, sha)
		if err != nil {
			return err
		}
		conf := confBuildRecordVerified
		ev := []graph.Evidence{{Source: MethodBuildRecord, Detail: fmt.Sprintf("%s build %s (%s) recorded this image from %s@%s", build.String("system"), build.String("build_id"), cmpOr(build.String("url"), "no URL"), repo, short(sha))}}
		if ok {
			ev = append(ev, graph.Evidence{Source: "git", Detail: "commit " + sha + " exists in " + repo})
		} else {
			conf = confBuildRecordUnverified
			ev = append(ev, graph.Evidence{Source: "git", Detail: "repository " + repo + " has not been scanned or lacks the commit: the record is unverified"})
		}
		b.AddEdge(graph.Edge{From: img.ID, Kind: graph.EdgeBuiltFrom, To: graph.CommitID(repo, sha), Method: MethodBuildRecord, Confidence: conf, Evidence: ev,
			Attrs: map[string]any{"build": string(build.ID)}})
	}
	return nil
}
