package lineage

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/tether-sec/tether/dockerfile"
	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

// historyEntry is the part of an image history entry lineage reads.
type historyEntry struct {
	CreatedBy  string `json:"created_by"`
	EmptyLayer bool   `json:"empty_layer"`
}

// dockerfileAttrs is the part of a Dockerfile file node (written by the repo scan) lineage reads.
type dockerfileAttrs struct {
	Path         string                   `json:"path"`
	Role         string                   `json:"role"`
	Stages       []dockerfile.Stage       `json:"stages"`
	Instructions []dockerfile.Instruction `json:"instructions"`
}

// Match is one image history entry explained by one Dockerfile instruction.
type Match struct {
	History     int    `json:"history"`
	Instruction string `json:"instruction"`
	StartLine   int    `json:"start_line"`
	EndLine     int    `json:"end_line"`
}

type dfCandidate struct {
	file    graph.Node
	path    string
	stage   dockerfile.Stage
	score   float64
	matches []Match
}

// linkDockerfile finds, among the Dockerfiles in commit, the one (and the stage)
// whose instructions explain the image's history, and links it when one candidate
// clearly wins.
func linkDockerfile(ctx context.Context, r Reader, b *graph.Batch, img graph.Node, commit graph.ID) error {
	steps, ok := historySteps(img)
	if steps == nil {
		return nil // no usable history: nothing to compare
	}
	files, err := r.Edges(ctx, store.EdgeQuery{From: commit, Kind: graph.EdgeContains})
	if err != nil {
		return err
	}
	var nodes []graph.Node
	for _, e := range files {
		n, err := r.Node(ctx, e.To)
		if err != nil {
			return fmt.Errorf("file %s: %w", e.To, err)
		}
		nodes = append(nodes, n)
	}
	best := bestDockerfile(steps, ok, nodes)
	if best == nil {
		return nil
	}
	conf := math.Round(best.score*0.95*100) / 100
	b.AddEdge(graph.Edge{
		From: img.ID, Kind: graph.EdgeBuiltWith, To: best.file.ID, Method: MethodHistoryMatch, Confidence: conf,
		Evidence: []graph.Evidence{{Source: "image-history", Detail: fmt.Sprintf("%d of the build steps of %s stage %s appear in the image history, in order", len(best.matches), best.path, best.stageName())}},
		Attrs: graph.Attrs(struct {
			Commit  graph.ID `json:"commit"`
			Stage   string   `json:"stage"`
			Score   float64  `json:"score"`
			Matches []Match  `json:"matches"`
		}{commit, best.stageName(), math.Round(best.score*1000) / 1000, best.matches}),
	})
	return nil
}

// historySteps parses the image's history, or gives nil when it has none.
func historySteps(img graph.Node) ([]step, []bool) {
	var hist []historyEntry
	if err := graph.DecodeAttrs(map[string]any{"h": img.Attrs["history"]}, &struct {
		H *[]historyEntry `json:"h"`
	}{&hist}); err != nil || len(hist) == 0 {
		return nil, nil
	}
	steps := make([]step, len(hist))
	ok := make([]bool, len(hist))
	for i, h := range hist {
		steps[i], ok[i] = parseHistory(h.CreatedBy)
	}
	return steps, ok
}

// bestDockerfile scores every stage of every Dockerfile among files against the
// history and returns the best, or nil when none reaches minHistoryScore or two
// different files explain the history equally well.
func bestDockerfile(steps []step, ok []bool, files []graph.Node) *dfCandidate {
	var cands []dfCandidate
	for _, n := range files {
		if n.String("role") != "dockerfile" {
			continue
		}
		var df dockerfileAttrs
		if err := graph.DecodeAttrs(n.Attrs, &df); err != nil || len(df.Stages) == 0 {
			continue // unparsable Dockerfile: the repo scan recorded why
		}
		for _, st := range df.Stages {
			ins := stageChain(df, st.Index, 0)
			if len(ins) == 0 {
				continue
			}
			isteps := make([]step, len(ins))
			for i, in := range ins {
				isteps[i] = instructionStep(in.Command, in.Args)
			}
			a := align(steps, ok, isteps)
			c := dfCandidate{file: n, path: df.Path, stage: st, score: a.score()}
			for _, p := range a.pairs {
				in := ins[p[1]]
				c.matches = append(c.matches, Match{History: p[0], Instruction: in.Original, StartLine: in.StartLine, EndLine: in.EndLine})
			}
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		return len(cands[i].matches) > len(cands[j].matches)
	})
	best := cands[0]
	if best.score < minHistoryScore {
		return nil
	}
	for _, c := range cands[1:] {
		if c.score == best.score && len(c.matches) == len(best.matches) && c.file.ID != best.file.ID {
			return nil // two Dockerfiles explain the history equally well: no link
		}
	}
	return &best
}

func (c *dfCandidate) stageName() string {
	if c.stage.Name != "" {
		return c.stage.Name
	}
	return fmt.Sprint(c.stage.Index)
}

// MethodDockerfileSearch links an image with no commit link to the one
// Dockerfile version, among every Dockerfile of every indexed commit, whose
// instructions explain its history.
const MethodDockerfileSearch = "dockerfile-search"

// searchDockerfile compares the image's history with every Dockerfile version
// the repo scans recorded, and links the image to the one that explains it,
// with the repository and the commits that hold that version (its window).
func searchDockerfile(ctx context.Context, r Reader, b *graph.Batch, img graph.Node) error {
	steps, ok := historySteps(img)
	if steps == nil {
		return nil
	}
	files, err := r.Nodes(ctx, store.NodeQuery{Kind: graph.KindFile})
	if err != nil {
		return err
	}
	best := bestDockerfile(steps, ok, files)
	if best == nil {
		return nil
	}
	holders, err := r.Edges(ctx, store.EdgeQuery{To: best.file.ID, Kind: graph.EdgeContains})
	if err != nil {
		return err
	}
	var commits []graph.Node
	for _, h := range holders {
		c, err := r.Node(ctx, h.From)
		if err != nil {
			return err
		}
		commits = append(commits, c)
	}
	sort.Slice(commits, func(i, j int) bool {
		return commits[i].String("committed_at") < commits[j].String("committed_at")
	})
	// A file ID is "file:<normalized repository>//<path>@<blob>"; the path is
	// clean, so the last "//" ends the repository.
	repo := ""
	if k := best.file.ID.Key(); strings.Contains(k, "//") {
		repo = k[:strings.LastIndex(k, "//")]
	}
	window := "no indexed commit"
	if n := len(commits); n > 0 {
		window = fmt.Sprintf("%d commits, %s … %s", n, commits[0].String("sha"), commits[n-1].String("sha"))
	}
	conf := math.Round(best.score*0.8*100) / 100
	b.AddEdge(graph.Edge{
		From: img.ID, Kind: graph.EdgeBuiltWith, To: best.file.ID, Method: MethodDockerfileSearch, Confidence: conf,
		Evidence: []graph.Evidence{
			{Source: "image-history", Detail: fmt.Sprintf("%d of the build steps of %s stage %s appear in the image history, in order; no other Dockerfile version explains it as well", len(best.matches), best.path, best.stageName())},
			{Source: "git", Detail: "this version of the Dockerfile is in " + window + "; the commit that was built is among them"},
		},
		Attrs: graph.Attrs(struct {
			Repo    string  `json:"repo,omitempty"`
			Stage   string  `json:"stage"`
			Score   float64 `json:"score"`
			Window  int     `json:"window"`
			Matches []Match `json:"matches"`
		}{repo, best.stageName(), math.Round(best.score*1000) / 1000, len(commits), best.matches}),
	})
	return nil
}

func stageChain(df dockerfileAttrs, idx, depth int) []dockerfile.Instruction {
	if idx < 0 || idx >= len(df.Stages) || depth > len(df.Stages) {
		return nil
	}
	var out []dockerfile.Instruction
	if p := df.Stages[idx].FromStage; p >= 0 && p < idx {
		out = stageChain(df, p, depth+1)
	}
	for _, in := range df.Instructions {
		if in.Stage == idx && in.Command != "FROM" {
			out = append(out, in)
		}
	}
	return out
}
