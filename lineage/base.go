package lineage

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

// Methods of base-image links.
const (
	// MethodBaseAnnotation: the image's org.opencontainers.image.base.digest
	// annotation (or label), as buildah and BuildKit write it.
	MethodBaseAnnotation = "oci-base-annotation"
	// MethodLayerPrefix: a scanned image's layers are the first layers of this one.
	MethodLayerPrefix = "layer-prefix"
)

const (
	confBaseAnnotation = 0.9
	confLayerPrefix    = 0.9
)

// layerSeq returns the diff IDs (layer node IDs) of img in manifest order.
func layerSeq(ctx context.Context, r Reader, img graph.ID) ([]graph.ID, error) {
	es, err := r.Edges(ctx, store.EdgeQuery{From: img, Kind: graph.EdgeHasLayer})
	if err != nil {
		return nil, err
	}
	type pos struct {
		at int
		id graph.ID
	}
	var ps []pos
	for _, e := range es {
		idx, ok := e.Attrs["index"].(float64)
		if !ok {
			continue
		}
		ps = append(ps, pos{int(idx), e.To})
		if rep, ok := e.Attrs["repeated_at"].([]any); ok {
			for _, x := range rep {
				if m, ok := x.(map[string]any); ok {
					if i, ok := m["index"].(float64); ok {
						ps = append(ps, pos{int(i), e.To})
					}
				}
			}
		}
	}
	slices.SortFunc(ps, func(a, b pos) int { return cmp.Compare(a.at, b.at) })
	out := make([]graph.ID, len(ps))
	for i, p := range ps {
		if p.at != i {
			return nil, nil // positions with holes: not a full layer list
		}
		out[i] = p.id
	}
	return out, nil
}

// linkBase draws img → base image: from the base annotation, and from the
// longest scanned image whose layers are a proper prefix of img's.
func linkBase(ctx context.Context, r Reader, b *graph.Batch, img graph.Node) error {
	for _, m := range []map[string]any{mapAttr(img.Attrs, "annotations"), mapAttr(img.Attrs, "labels")} {
		d, _ := m["org.opencontainers.image.base.digest"].(string)
		if d == "" || !strings.HasPrefix(d, "sha256:") {
			continue
		}
		baseName, _ := m["org.opencontainers.image.base.name"].(string)
		id := graph.ImageID(d)
		if id == img.ID {
			continue
		}
		b.AddNode(graph.Node{ID: id, Kind: graph.KindImage, Name: cmpOr(baseName, d), Stub: true, Attrs: map[string]any{"digest": d}})
		detail := "org.opencontainers.image.base.digest=" + d
		if baseName != "" {
			detail += ", base.name=" + baseName
		}
		b.AddEdge(graph.Edge{From: img.ID, Kind: graph.EdgeBaseImage, To: id, Method: MethodBaseAnnotation, Confidence: confBaseAnnotation,
			Evidence: []graph.Evidence{{Source: MethodBaseAnnotation, Detail: detail}}})
		break
	}

	seq, err := layerSeq(ctx, r, img.ID)
	if err != nil || len(seq) < 2 {
		return err
	}
	holders, err := r.Edges(ctx, store.EdgeQuery{To: seq[0], Kind: graph.EdgeHasLayer})
	if err != nil {
		return err
	}
	var best graph.ID
	bestLen := 0
	for _, h := range holders {
		if h.From == img.ID || h.From == best {
			continue
		}
		other, err := layerSeq(ctx, r, h.From)
		if err != nil {
			return err
		}
		if len(other) == 0 || len(other) >= len(seq) || len(other) <= bestLen || !slices.Equal(other, seq[:len(other)]) {
			continue
		}
		best, bestLen = h.From, len(other)
	}
	if bestLen == 0 {
		return nil
	}
	base, err := r.Node(ctx, best)
	if err != nil {
		return err
	}
	b.AddEdge(graph.Edge{From: img.ID, Kind: graph.EdgeBaseImage, To: best, Method: MethodLayerPrefix, Confidence: confLayerPrefix,
		Evidence: []graph.Evidence{{Source: MethodLayerPrefix, Detail: fmt.Sprintf("the first %d of the image's %d layers are the layers of %s, in order", bestLen, len(seq), cmpOr(base.Name, string(best)))}}})
	return nil
}
