package lineage

import (
	"context"
	"fmt"
	"strings"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

// MethodIndexPlatform links a container whose status reports an image index
// digest (Kubernetes does, depending on the runtime: kubernetes/kubernetes#115199)
// to the platform image of that index it actually runs.
const MethodIndexPlatform = "index-platform"

// linkRunningPlatforms resolves containers that run an index digest to the
// index's manifest for the platform of their pod's node; when the node's
// platform is unknown and the index holds a single image, to that image.
func linkRunningPlatforms(ctx context.Context, r Reader, b *graph.Batch) error {
	idxs, err := r.Nodes(ctx, store.NodeQuery{Kind: graph.KindImageIndex})
	if err != nil {
		return err
	}
	for _, idx := range idxs {
		if idx.Stub {
			continue
		}
		digest := idx.ID.Key()
		runs, err := r.Edges(ctx, store.EdgeQuery{To: graph.ImageID(digest), Kind: graph.EdgeRuns})
		if err != nil || len(runs) == 0 {
			if err != nil {
				return err
			}
			continue
		}
		manifests, err := r.Edges(ctx, store.EdgeQuery{From: idx.ID, Kind: graph.EdgeHasManifest})
		if err != nil {
			return err
		}
		for _, re := range runs {
			pods, err := r.Edges(ctx, store.EdgeQuery{From: re.From, Kind: graph.EdgeInWorkload})
			if err != nil {
				return err
			}
			platform := ""
			for _, pe := range pods {
				if pod, err := r.Node(ctx, pe.To); err == nil {
					platform = pod.String("node_platform")
				}
			}
			var pick graph.Edge
			found := 0
			for _, m := range manifests {
				p, _ := m.Attrs["platform"].(string)
				if platform != "" && (p == platform || strings.HasPrefix(p, platform+"/")) {
					pick, found = m, found+1
				}
			}
			conf := 1.0
			why := fmt.Sprintf("the pod's node runs %s; index %s lists that platform", platform, digest)
			if platform == "" && len(manifests) == 1 {
				pick, found, conf = manifests[0], 1, 0.9
				why = fmt.Sprintf("the pod's node platform is unknown; index %s lists one image", digest)
			}
			if found != 1 {
				continue // no node platform, or several images for it (variants)
			}
			b.AddEdge(graph.Edge{From: re.From, Kind: graph.EdgeRuns, To: pick.To, Method: MethodIndexPlatform, Confidence: conf,
				Evidence: append([]graph.Evidence{{Source: MethodIndexPlatform, Detail: why}}, re.Evidence...)})
		}
	}
	return nil
}
