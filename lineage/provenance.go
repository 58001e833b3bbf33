package lineage

import (
	"context"
	"fmt"
	"strings"

	"github.com/tether-sec/tether/graph"
)

// MethodProvenance links an image to the commit its SLSA provenance names.
const MethodProvenance = "slsa-provenance"

// Confidences of provenance links. tether reads the statement and does not
// verify its signature, so even a signed one stays below certainty.
const (
	confProvenanceSigned     = 0.97
	confProvenanceUnsigned   = 0.93
	confProvenanceUnverified = 0.7 // the repository has not been scanned
)

// provVote is a provenance attestation's vote.
type provVote struct {
	BuildVote
	predicate, via string
	signed         bool
}

// provenanceVotes reads the provenance attestations the image collector found
// (image attribute "provenance") and checks each against the scanned
// repositories, as build records are checked.
func provenanceVotes(ctx context.Context, r Reader, img graph.Node) ([]provVote, error) {
	list, _ := img.Attrs["provenance"].([]any)
	var votes []provVote
	for _, x := range list {
		m, _ := x.(map[string]any)
		str := func(k string) string { s, _ := m[k].(string); return s }
		bi := &graph.BuildInfo{Kind: MethodProvenance, Repo: str("source"), Revision: strings.ToLower(str("revision"))}
		v := provVote{BuildVote: BuildVote{File: "attestation via " + str("via"), Build: bi}, predicate: str("predicate_type"), via: str("via")}
		v.signed, _ = m["signed"].(bool)
		switch {
		case bi.Revision == "" || bi.Repo == "":
			v.Reason = "the provenance names no source repository and commit"
		case !hexSHA.MatchString(bi.Revision) || (len(bi.Revision) != 40 && len(bi.Revision) != 64):
			v.Reason = "the provenance's revision is not a full commit SHA"
		default:
			ok, err := commitExists(ctx, r, bi.Repo, bi.Revision)
			if err != nil {
				return nil, err
			}
			scanned, err := exists(ctx, r, graph.RepoID(bi.Repo))
			if err != nil {
				return nil, err
			}
			v.Repo = graph.NormalizeRepoURL(bi.Repo)
			switch {
			case ok:
				v.Linked = true
			case scanned:
				v.Reason = fmt.Sprintf("the scanned repository %s does not hold commit %s: the attestation may be for another repository, or the clone is old", v.Repo, short(bi.Revision))
			default:
				v.Linked = true // unverified, to a stub commit
				v.Reason = "repository " + v.Repo + " has not been scanned: the provenance is unverified"
			}
		}
		v.Detail = describeProvenance(v)
		votes = append(votes, v)
	}
	return votes, nil
}

// linkProvenance draws the image's provenance links and returns every vote.
func linkProvenance(ctx context.Context, r Reader, b *graph.Batch, img graph.Node) ([]provVote, error) {
	votes, err := provenanceVotes(ctx, r, img)
	if err != nil {
		return nil, err
	}
	for _, v := range votes {
		if !v.Linked {
			continue
		}
		bi := v.Build
		commit := graph.CommitID(v.Repo, bi.Revision)
		conf := confProvenanceUnsigned
		if v.signed {
			conf = confProvenanceSigned
		}
		ev := []graph.Evidence{{Source: MethodProvenance, Detail: v.Detail}}
		if v.Reason != "" {
			conf = confProvenanceUnverified
			ev = append(ev, graph.Evidence{Source: "git", Detail: v.Reason})
			b.AddNode(graph.Node{ID: commit, Kind: graph.KindCommit, Name: short(bi.Revision), Stub: true,
				Attrs: map[string]any{"sha": bi.Revision, "repo": v.Repo}})
		}
		b.AddEdge(graph.Edge{From: img.ID, Kind: graph.EdgeBuiltFrom, To: commit, Method: MethodProvenance, Confidence: conf, Evidence: ev,
			Attrs: map[string]any{"predicate_type": v.predicate, "via": v.via}})
	}
	return votes, nil
}

func describeProvenance(v provVote) string {
	sig := "unsigned statement"
	if v.signed {
		sig = "signed envelope, signature not verified"
	}
	return fmt.Sprintf("%s attestation (%s, found via %s) names %s@%s", v.predicate, sig, v.via, graph.NormalizeRepoURL(v.Build.Repo), v.Build.Revision)
}
