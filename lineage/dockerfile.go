package lineage

import (
	"context"
	"fmt"
	"math"
	"sort"

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
	var hist []historyEntry
	if err := graph.DecodeAttrs(map[string]any{"h": img.Attrs["history"]}, &struct {
		H *[]historyEntry `json:"h"`
	}{&hist}); err != nil || len(hist) == 0 {
		return nil // no usable history: nothing to compare
	}
	steps := make([]step, len(hist))
	ok := make([]bool, len(hist))
	for i, h := range hist {
		steps[i], ok[i] = parseHistory(h.CreatedBy)
	}
	files, err := r.Edges(ctx, store.EdgeQuery{From: commit, Kind: graph.EdgeContains})
	if err != nil {
		return err
	}
	var cands []dfCandidate
	for _, e := range files {
		n, err := r.Node(ctx, e.To)
		if err != nil {
			return fmt.Errorf("file %s: %w", e.To, err)
		}
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
	if len(cands) > 1 && cands[1].score == best.score && len(cands[1].matches) == len(best.matches) && cands[1].file.ID != best.file.ID {
		return nil // two Dockerfiles explain the history equally well: no link
	}
	conf := math.Round(best.score*0.95*100) / 100
	stageName := best.stage.Name
	if stageName == "" {
		stageName = fmt.Sprint(best.stage.Index)
	}
	b.AddEdge(graph.Edge{
		From: img.ID, Kind: graph.EdgeBuiltWith, To: best.file.ID, Method: MethodHistoryMatch, Confidence: conf,
		Evidence: []graph.Evidence{{Source: "image-history", Detail: fmt.Sprintf("%d of the build steps of %s stage %s appear in the image history, in order", len(best.matches), best.path, stageName)}},
		Attrs: graph.Attrs(struct {
			Commit  graph.ID `json:"commit"`
			Stage   string   `json:"stage"`
			Score   float64  `json:"score"`
			Matches []Match  `json:"matches"`
		}{commit, stageName, math.Round(best.score*1000) / 1000, best.matches}),
	})
	return nil
}

// stageChain returns the instructions that built stage idx, including those of the
// stages it is FROM, without FROM lines.
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
