package lineage

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

// Vote is what one method says about where an image came from.
type Vote struct {
	// Method is the method (oci-label, git-blob-match, history-match).
	Method string `json:"method"`
	// Repo and Commits are what the method names: one commit, or for a content
	// match every commit of its equivalence range. Dockerfile is the file a
	// history match names.
	Repo       string   `json:"repo,omitempty"`
	Commits    []string `json:"commits,omitempty"`
	Dockerfile string   `json:"dockerfile,omitempty"`
	// Linked says whether the resolver drew the link, with Confidence; Reason
	// says why not, or what to know about it.
	Linked     bool             `json:"linked"`
	Confidence float64          `json:"confidence,omitempty"`
	Reason     string           `json:"reason,omitempty"`
	Evidence   []graph.Evidence `json:"evidence,omitempty"`
}

// Explanation is every method's vote on one image and the resolver's decision.
type Explanation struct {
	Image NodeRef `json:"image"`
	Votes []Vote  `json:"votes"`
	// Decision sums it up in a sentence.
	Decision string `json:"decision"`
	// Conflicts are the lineage-conflict findings on the image.
	Conflicts []string `json:"conflicts,omitempty"`
}

// Explain shows how the resolver decided the lineage of the image target names
// (a digest, a reference with a digest, or a reference a scan saw).
func Explain(ctx context.Context, r Reader, target string) (*Explanation, error) {
	img, err := findImage(ctx, r, target)
	if err != nil {
		return nil, err
	}
	ex := &Explanation{Image: ref(img)}
	if img.Stub {
		ex.Decision = "the image has not been scanned: run 'tether scan image' on it"
		return ex, nil
	}
	built, err := r.Edges(ctx, store.EdgeQuery{From: img.ID, Kind: graph.EdgeBuiltFrom})
	if err != nil {
		return nil, err
	}
	linked := map[string][]graph.Edge{}
	for _, e := range built {
		linked[e.Method] = append(linked[e.Method], e)
	}

	// Labels.
	claim := labelClaimOf(img)
	if claim.source == "" || claim.revision == "" {
		ex.Votes = append(ex.Votes, Vote{Method: MethodLabel, Reason: gapNoCommit(img)})
	} else {
		v := Vote{Method: MethodLabel, Repo: graph.NormalizeRepoURL(claim.source), Commits: []string{claim.revision},
			Evidence: []graph.Evidence{{Source: MethodLabel, Detail: claim.sourceKey + "=" + claim.source}, {Source: MethodLabel, Detail: claim.revisionKey + "=" + claim.revision}}}
		if es := linked[MethodLabel]; len(es) > 0 {
			v.Linked, v.Confidence = true, es[0].Confidence
			v.Evidence = es[0].Evidence
		} else {
			v.Reason = gapNoCommit(img)
		}
		ex.Votes = append(ex.Votes, v)
	}

	// Findings: a label the content contradicts.
	fes, err := r.Edges(ctx, store.EdgeQuery{To: img.ID, Kind: graph.EdgeFindingOn})
	if err != nil {
		return nil, err
	}
	for _, fe := range fes {
		f, err := r.Node(ctx, fe.From)
		if err != nil {
			return nil, err
		}
		if f.String("type") == FindingLineageConflict {
			ex.Conflicts = append(ex.Conflicts, f.String("detail"))
			if len(ex.Votes) > 0 && ex.Votes[0].Method == MethodLabel {
				ex.Votes[0].Reason = "not linked: " + f.String("detail")
			}
		}
	}

	// Content.
	files, recorded, err := imageFiles(ctx, r, img.String("digest"))
	if err != nil {
		return nil, err
	}
	if img.String("digest") != "" {
		if !recorded {
			ex.Votes = append(ex.Votes, Vote{Method: MethodBlobMatch, Reason: "the image's files were not recorded: scan it again ('tether scan image')"})
		} else {
			ms, err := matchFiles(ctx, r, files)
			if err != nil {
				return nil, err
			}
			if len(ms) > 0 {
				ci, err := ciRepoSet(ctx, r, img)
				if err != nil {
					return nil, err
				}
				decideContent(ms, ci)
			}
			if len(ms) == 0 {
				ex.Votes = append(ex.Votes, Vote{Method: MethodBlobMatch, Reason: "none of the image's files is in the history of a scanned repository"})
			}
			for _, m := range ms {
				v := Vote{Method: MethodBlobMatch, Repo: graph.NormalizeRepoURL(m.Repo), Commits: m.Best, Linked: m.Linked, Reason: m.Reason}
				if m.Linked {
					v.Confidence = confBlobMatch
				}
				var maps []string
				for _, mp := range m.Mappings {
					maps = append(maps, fmt.Sprintf("/%s ← %s (%d)", mp.Image, cmpOr(mp.Repo, "."), mp.Support))
				}
				v.Evidence = append(v.Evidence, graph.Evidence{Source: "blob-index", Detail: fmt.Sprintf("%d files held by the repository at the mapped paths, %d image files it never held; mappings %s", m.Files, m.Unknown, strings.Join(maps, ", "))})
				if len(m.Best) == 0 && m.Files >= minMatchedFiles {
					v.Evidence = append(v.Evidence, graph.Evidence{Source: "blob-index", Detail: fmt.Sprintf("the closest commit differs in %d files", m.Mismatch)})
				}
				ex.Votes = append(ex.Votes, v)
			}
		}
	}

	// Provenance attestations.
	pvs, err := provenanceVotes(ctx, r, img)
	if err != nil {
		return nil, err
	}
	for _, pv := range pvs {
		v := Vote{Method: MethodProvenance, Repo: pv.Repo, Commits: []string{pv.Build.Revision}, Linked: pv.Linked, Reason: pv.Reason,
			Evidence: []graph.Evidence{{Source: MethodProvenance, Detail: pv.Detail}}}
		if es := linked[MethodProvenance]; pv.Linked && len(es) > 0 {
			v.Confidence = es[0].Confidence
		}
		ex.Votes = append(ex.Votes, v)
	}

	// Build records in the image's files.
	bvs, err := buildVotes(ctx, r, files)
	if err != nil {
		return nil, err
	}
	for _, bv := range bvs {
		v := Vote{Method: MethodBuildInfo, Repo: bv.Repo, Commits: []string{bv.Build.Revision}, Linked: bv.Linked, Reason: bv.Reason,
			Evidence: []graph.Evidence{{Source: bv.Build.Kind, Detail: bv.Detail}}}
		if v.Repo == "" && bv.Build.Repo != "" {
			v.Repo = graph.NormalizeRepoURL(bv.Build.Repo)
		}
		if bv.Linked {
			v.Confidence = confBuildInfo
			if bv.Build.Modified {
				v.Confidence = confBuildInfoModified
			}
		}
		ex.Votes = append(ex.Votes, v)
	}

	// CI workflows that push the image's repository: supporting evidence.
	cvs, err := ciVotes(ctx, r, img)
	if err != nil {
		return nil, err
	}
	for _, cv := range cvs {
		ex.Votes = append(ex.Votes, Vote{Method: MethodCIWorkflow, Repo: cv.Repo, Dockerfile: cv.Dockerfile,
			Reason:   "supporting evidence: names the repository and Dockerfile, not a commit",
			Evidence: []graph.Evidence{{Source: MethodCIWorkflow, Detail: fmt.Sprintf("%s:%d job %s builds %s and pushes %s", cv.Workflow, cv.Line, cv.Job, cmpOr(cv.Dockerfile, "a Dockerfile"), cv.Image)}}})
	}

	// Dockerfile.
	dfs, err := r.Edges(ctx, store.EdgeQuery{From: img.ID, Kind: graph.EdgeBuiltWith})
	if err != nil {
		return nil, err
	}
	for _, de := range dfs {
		f, err := r.Node(ctx, de.To)
		if err != nil {
			return nil, err
		}
		ex.Votes = append(ex.Votes, Vote{Method: de.Method, Dockerfile: f.String("path"), Linked: true, Confidence: de.Confidence, Evidence: de.Evidence})
	}
	if len(dfs) == 0 && len(built) > 0 {
		ex.Votes = append(ex.Votes, Vote{Method: MethodHistoryMatch, Reason: "no Dockerfile in the linked commits explains the image history well enough"})
	}
	ex.Decision = decision(built, ex.Conflicts)
	return ex, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// decision sums up the links drawn.
func decision(built []graph.Edge, conflicts []string) string {
	if len(built) == 0 {
		return "no commit is linked: no method proves one"
	}
	var commits []string
	methods := map[string]bool{}
	for _, e := range built {
		methods[e.Method] = true
		k := e.To.Key()
		if at := strings.LastIndexByte(k, '@'); at >= 0 {
			k = short(k[at+1:])
		}
		if !slices.Contains(commits, k) {
			commits = append(commits, k)
		}
	}
	var ms []string
	for m := range methods {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	s := fmt.Sprintf("linked to %s by %s", strings.Join(commits, ", "), strings.Join(ms, " and "))
	if len(commits) > 1 && len(ms) == 1 && ms[0] == MethodBlobMatch {
		s = fmt.Sprintf("linked to %d commits with identical content (%s … %s) by %s", len(commits), commits[0], commits[len(commits)-1], MethodBlobMatch)
	}
	if len(conflicts) > 0 {
		s += "; the label was not followed: " + conflicts[0]
	}
	return s
}
