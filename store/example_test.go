package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "tether-example-")
	defer os.RemoveAll(dir)

	// "" would open DefaultPath(); a postgres:// URL would open PostgreSQL.
	s, err := store.Open(ctx, filepath.Join(dir, "tether.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	repoURL := "https://github.com/acme/app"
	sha := "3f2a9c0d3f2a9c0d3f2a9c0d3f2a9c0d3f2a9c0d"
	b := graph.NewBatch("image", "registry.acme.example/app:1", time.Now())
	b.AddNode(graph.Node{ID: graph.ImageID("sha256:aaaa"), Kind: graph.KindImage, Name: "app:1"})
	b.AddNode(graph.Node{ID: graph.CommitID(repoURL, sha), Kind: graph.KindCommit, Stub: true})
	b.Link(graph.ImageID("sha256:aaaa"), graph.EdgeBuiltFrom, graph.CommitID(repoURL, sha), "oci-label", 0.9,
		graph.Evidence{Source: "oci-label", Detail: "org.opencontainers.image.revision=" + sha})
	res, err := s.Ingest(ctx, b)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("added %d nodes and %d edges\n", res.NodesAdded, res.EdgesAdded)

	es, _ := s.Neighbors(ctx, graph.CommitID(repoURL, sha))
	for _, e := range es {
		fmt.Println(e.From, e.Kind, e.To, e.Confidence)
	}
	// Output:
	// added 2 nodes and 1 edges
	// image:sha256:aaaa built_from commit:github.com/acme/app@3f2a9c0d3f2a9c0d3f2a9c0d3f2a9c0d3f2a9c0d 0.9
}
