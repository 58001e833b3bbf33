package store_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
	"github.com/tether-sec/tether/store/storetest"
)

const benchEdges = 100_000

// benchBatch is a 100k-edge code-to-cloud chain, built once.
var benchBatch = sync.OnceValue(func() *graph.Batch {
	return storetest.Chain(benchEdges, "bench", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
})

// ingestRate ingests the bench batch b.N times, each time into a new, empty
// database unless again is set (then the same batch into the same database), and
// returns edges per second.
func ingestRate(b *testing.B, be backend, again bool) float64 {
	b.Helper()
	ctx := context.Background()
	batch := benchBatch()
	var s store.Store
	if again {
		s = open(b, be.dsn(b))
		defer s.Close()
		if _, err := s.Ingest(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		if !again {
			b.StopTimer()
			s = open(b, be.dsn(b))
			b.StartTimer()
		}
		start := time.Now()
		res, err := s.Ingest(ctx, batch)
		total += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if !again && res.EdgesAdded != len(batch.Edges) || again && res.EdgesAdded+res.EdgesChanged != 0 {
			b.Fatalf("IngestResult = %+v", res)
		}
		if !again {
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
	}
	b.ReportMetric(0, "ns/op") // edges/s says it; ns/op would count the setup
	return float64(len(batch.Edges)*b.N) / total.Seconds()
}

// BenchmarkIngest ingests 100k edges (and their ~50k nodes) into an empty store.
func BenchmarkIngest(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { b.ReportMetric(ingestRate(b, be, false), "edges/s") })
	}
}

// BenchmarkReingest ingests the same 100k edges again: nothing changes but
// LastSeen.
func BenchmarkReingest(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { b.ReportMetric(ingestRate(b, be, true), "edges/s") })
	}
}

// BenchmarkIngestRatio reports PostgreSQL's ingest throughput over SQLite's.
func BenchmarkIngestRatio(b *testing.B) {
	rates := map[string]float64{}
	for _, be := range backends {
		rates[be.name] = ingestRate(b, be, false) // resets the timer and metrics
	}
	for name, r := range rates {
		b.ReportMetric(r, name+"-edges/s")
	}
	b.ReportMetric(rates["postgres"]/rates["sqlite"], "pg/sqlite-ratio")
}

// BenchmarkNeighbors times Neighbors on random nodes of a 100k-edge store.
func BenchmarkNeighbors(b *testing.B) {
	ctx := context.Background()
	batch := benchBatch()
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := open(b, be.dsn(b))
			defer s.Close()
			if _, err := s.Ingest(ctx, batch); err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			lat := make([]time.Duration, 0, b.N)
			edges := 0
			b.ResetTimer()
			for range b.N {
				id := batch.Nodes[rng.IntN(len(batch.Nodes))].ID
				start := time.Now()
				es, err := s.Neighbors(ctx, id)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				edges += len(es)
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(edges)/float64(b.N), "edges/query")
		})
	}
}
