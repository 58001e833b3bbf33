package lineage

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/tether-sec/tether/graph"
)

// ImageSource is what lineage knows of where an image came from, for annotating
// what is in it (SBOMs, findings) with the commit and Dockerfile line behind each
// layer.
type ImageSource struct {
	// RepoURL and Commit name the source; "" when no link is known or the commit
	// is a stub (its repository was not scanned).
	RepoURL string `json:"repo_url,omitempty"`
	Commit  string `json:"commit,omitempty"`
	// Confidence of the image → commit link.
	Confidence float64 `json:"confidence,omitempty"`
	// Dockerfile is the path of the Dockerfile that built the image, "" if unknown.
	Dockerfile string `json:"dockerfile,omitempty"`
	// Lines maps a config history index to the instruction that made it.
	Lines map[int]Match `json:"lines,omitempty"`
	// From is the final stage's FROM instruction: the line that brought in the
	// base image's layers. Nil when unknown.
	From *Match `json:"from,omitempty"`
}

// SourceOf returns the source of the image with the given manifest digest. An image
// without lineage gives an empty ImageSource; an unknown digest an error matching
// store.ErrNotFound.
func SourceOf(ctx context.Context, r Reader, digest string) (*ImageSource, error) {
	img, err := r.Node(ctx, graph.ImageID(digest))
	if err != nil {
		return nil, err
	}
	ch := Chain{}
	if err := traceImage(ctx, r, img, &ch); err != nil {
		return nil, err
	}
	src := &ImageSource{}
	var dfID graph.ID
	for _, s := range ch.Steps {
		switch s.Link {
		case graph.EdgeBuiltFrom:
			if s.To.Kind == graph.KindCommit && !s.To.Stub {
				if i := strings.LastIndex(string(s.To.ID), "@"); i >= 0 {
					src.Commit = string(s.To.ID)[i+1:]
				}
				src.Confidence = s.Confidence
			}
		case graph.EdgeInRepo:
			if src.Commit != "" {
				src.RepoURL = s.To.Name
			}
		case graph.EdgeBuiltWith:
			if src.Commit == "" {
				continue
			}
			dfID = s.To.ID
			src.Lines = map[int]Match{}
			for _, m := range s.Lines {
				src.Lines[m.History] = m
			}
		}
	}
	if dfID == "" {
		return src, nil
	}
	df, err := r.Node(ctx, dfID)
	if err != nil {
		return nil, err
	}
	var attrs dockerfileAttrs
	if b, err := json.Marshal(df.Attrs); err == nil {
		_ = json.Unmarshal(b, &attrs)
	}
	src.Dockerfile = attrs.Path
	if src.Dockerfile == "" {
		src.Dockerfile = df.Name
	}
	// The final stage is the one the matched instructions belong to: the stage of
	// the last matched line.
	last := -1
	for _, m := range src.Lines {
		last = max(last, m.StartLine)
	}
	stage := -1
	for _, in := range attrs.Instructions {
		if in.StartLine == last {
			stage = in.Stage
		}
	}
	for _, in := range attrs.Instructions {
		if in.Stage == stage && in.Command == "FROM" {
			src.From = &Match{History: -1, Instruction: in.Original, StartLine: in.StartLine, EndLine: in.EndLine}
			break
		}
	}
	return src, nil
}
