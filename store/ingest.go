package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tether-sec/tether/graph"
)

// nodeRow and edgeRow are a batch's rows, encoded before the transaction begins.
type nodeRow struct {
	id, kind, name string
	attrs          any // nil or JSON text
	stub           bool
}

type edgeRow struct {
	from, kind, to, method string
	confidence             float64
	evidence, attrs        any // nil or JSON text
}

var (
	nodeCols = []string{"id", "kind", "name", "attrs", "stub"}
	edgeCols = []string{"from_id", "kind", "to_id", "method", "confidence", "evidence", "attrs"}
)

// analyzeAfter is how many new rows make an ingest refresh the planner's
// statistics, where the dialect asks for it.
const analyzeAfter = 5000

// ctxEvery is how many rows a loop handles between checks of its context.
const ctxEvery = 4096

// Ingest implements Store.
func (s *sqlStore) Ingest(ctx context.Context, b *graph.Batch) (IngestResult, error) {
	var res IngestResult
	if b == nil {
		return res, &graph.ValidationError{What: "batch", Reason: "nil batch"}
	}
	if err := b.Validate(); err != nil {
		return res, err
	}
	start := time.Now()
	t := b.ObservedAt
	if t.IsZero() {
		t = start
	}
	at := t.UnixMicro()
	nodes, edges, err := encodeBatch(ctx, b)
	if err != nil {
		return res, err
	}

	select {
	case s.writeSem <- struct{}{}:
		defer func() { <-s.writeSem }()
	case <-ctx.Done():
		return res, fmt.Errorf("store: ingest: %w", ctx.Err())
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return res, s.wrap(ctx, "ingest", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return res, s.wrap(ctx, "ingest: begin", err)
	}
	defer tx.Rollback()
	if s.d.lock != "" {
		if _, err := tx.ExecContext(ctx, s.d.lock); err != nil {
			return res, s.wrap(ctx, "ingest: lock", err)
		}
	}
	s.log.DebugContext(ctx, "ingest transaction begun", "source", b.Source, "target", b.Target,
		"nodes", len(nodes), "edges", len(edges))

	if err := s.checkEndpoints(ctx, tx, b); err != nil {
		return res, err
	}
	if err := s.stage(ctx, conn, tx, nodes, edges); err != nil {
		return res, s.wrap(ctx, "ingest: stage the batch", err)
	}
	if err := s.upsert(ctx, tx, at, &res); err != nil {
		return IngestResult{}, s.wrap(ctx, "ingest: upsert the batch", err)
	}
	err = tx.QueryRowContext(ctx, s.q(`INSERT INTO scans (source, target, observed_at, ingested_at, nodes, edges)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
		b.Source, b.Target, at, time.Now().UnixMicro(), len(nodes), len(edges)).Scan(&res.ScanID)
	if err != nil {
		return IngestResult{}, s.wrap(ctx, "ingest: record the scan", err)
	}
	for _, q := range s.d.unstage {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return IngestResult{}, s.wrap(ctx, "ingest: drop the staging tables", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return IngestResult{}, s.wrap(ctx, "ingest: commit", err)
	}
	s.maybeAnalyze(ctx, conn, res.NodesAdded+res.EdgesAdded)
	s.log.DebugContext(ctx, "ingested", "source", b.Source, "target", b.Target, "scan", res.ScanID,
		"nodes_added", res.NodesAdded, "nodes_changed", res.NodesChanged,
		"edges_added", res.EdgesAdded, "edges_changed", res.EdgesChanged,
		"duration", time.Since(start))
	return res, nil
}

// maybeAnalyze refreshes the planner's statistics after an ingest that grew the
// graph by more than a tenth (and analyzeAfter rows), so that queries right after
// a first big load use the indexes. Autovacuum takes care of the rest.
// It runs on conn, which the ingest still holds.
func (s *sqlStore) maybeAnalyze(ctx context.Context, conn *sql.Conn, added int) {
	if s.d.analyze == "" || added < analyzeAfter {
		return
	}
	var rows float64
	if err := conn.QueryRowContext(ctx, s.d.rowEstimate).Scan(&rows); err != nil || float64(added)*10 < rows {
		return
	}
	if _, err := conn.ExecContext(ctx, s.d.analyze); err != nil {
		s.log.WarnContext(ctx, "cannot update planner statistics", "db", s.where, "err", err)
	}
}

// encodeBatch turns the batch into rows, with attributes and evidence as JSON.
func encodeBatch(ctx context.Context, b *graph.Batch) ([]nodeRow, []edgeRow, error) {
	nodes := make([]nodeRow, len(b.Nodes))
	for i, n := range b.Nodes {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		attrs, err := encodeJSON(len(n.Attrs), n.Attrs)
		if err != nil {
			return nil, nil, fmt.Errorf("store: node %s: %w", n.ID, err)
		}
		nodes[i] = nodeRow{id: string(n.ID), kind: string(n.Kind), name: n.Name, attrs: attrs, stub: n.Stub}
	}
	edges := make([]edgeRow, len(b.Edges))
	for i, e := range b.Edges {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		ev, err := encodeJSON(len(e.Evidence), e.Evidence)
		if err != nil {
			return nil, nil, fmt.Errorf("store: edge %s: %w", e.Key(), err)
		}
		attrs, err := encodeJSON(len(e.Attrs), e.Attrs)
		if err != nil {
			return nil, nil, fmt.Errorf("store: edge %s: %w", e.Key(), err)
		}
		edges[i] = edgeRow{from: string(e.From), kind: string(e.Kind), to: string(e.To), method: e.Method,
			confidence: e.Confidence, evidence: ev, attrs: attrs}
	}
	return nodes, edges, nil
}

// encodeJSON returns nil for an empty value, else its JSON text. Map keys come out
// sorted, so equal values give equal text.
func encodeJSON(n int, v any) (any, error) {
	if n == 0 {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(raw), nil
}

// checkEndpoints fails with a *DanglingError when an edge points at a node that is
// neither in the batch nor in the store.
func (s *sqlStore) checkEndpoints(ctx context.Context, tx *sql.Tx, b *graph.Batch) error {
	inBatch := make(map[graph.ID]bool, len(b.Nodes))
	for _, n := range b.Nodes {
		inBatch[n.ID] = true
	}
	var outside []graph.ID
	seen := map[graph.ID]bool{}
	for _, e := range b.Edges {
		for _, id := range []graph.ID{e.From, e.To} {
			if !inBatch[id] && !seen[id] {
				seen[id] = true
				outside = append(outside, id)
			}
		}
	}
	stored := make(map[graph.ID]bool, len(outside))
	const chunk = 500
	for start := 0; start < len(outside); start += chunk {
		ids := outside[start:min(start+chunk, len(outside))]
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = string(id)
		}
		q := `SELECT id FROM nodes WHERE id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
		rows, err := tx.QueryContext(ctx, s.q(q), args...)
		if err != nil {
			return s.wrap(ctx, "ingest: check edge endpoints", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return s.wrap(ctx, "ingest: check edge endpoints", err)
			}
			stored[graph.ID(id)] = true
		}
		if err := rows.Close(); err != nil {
			return s.wrap(ctx, "ingest: check edge endpoints", err)
		}
		if err := rows.Err(); err != nil {
			return s.wrap(ctx, "ingest: check edge endpoints", err)
		}
	}
	if len(stored) == len(outside) {
		return nil
	}
	for _, e := range b.Edges {
		for _, id := range []graph.ID{e.From, e.To} {
			if !inBatch[id] && !stored[id] {
				return &DanglingError{Edge: e, Missing: id}
			}
		}
	}
	return nil
}

// stage loads the rows into the transaction's staging tables.
func (s *sqlStore) stage(ctx context.Context, conn *sql.Conn, tx *sql.Tx, nodes []nodeRow, edges []edgeRow) error {
	for _, q := range s.d.stage {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	err := s.d.bulk(ctx, conn, tx, "stage_nodes", nodeCols, len(nodes), func(i int, dst []any) []any {
		n := &nodes[i]
		return append(dst, n.id, n.kind, n.name, n.attrs, n.stub)
	})
	if err != nil {
		return err
	}
	return s.d.bulk(ctx, conn, tx, "stage_edges", edgeCols, len(edges), func(i int, dst []any) []any {
		e := &edges[i]
		return append(dst, e.from, e.kind, e.to, e.method, e.confidence, e.evidence, e.attrs)
	})
}

// The upsert statements. A batch's content replaces a stored row's content unless
// the batch is older than the row's last_seen; a stub never replaces an observed
// node; observed_at only moves back and last_seen only forward.
const (
	countNodes = `SELECT
	COALESCE(SUM(CASE WHEN n.id IS NULL THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN n.id IS NOT NULL AND NOT s.stub AND (n.stub OR
		(CAST(? AS BIGINT) >= n.last_seen AND (n.name <> s.name OR (n.attrs IS DISTINCT FROM s.attrs))))
		THEN 1 ELSE 0 END), 0)
FROM stage_nodes s LEFT JOIN nodes n ON n.id = s.id`

	upsertNodes = `INSERT INTO nodes (id, kind, name, attrs, stub, observed_at, last_seen)
SELECT id, kind, name, attrs, stub, CAST(? AS BIGINT), CAST(? AS BIGINT) FROM stage_nodes WHERE true ORDER BY id
ON CONFLICT (id) DO UPDATE SET
	name = CASE WHEN NOT excluded.stub AND (nodes.stub OR excluded.last_seen >= nodes.last_seen)
		THEN excluded.name ELSE nodes.name END,
	attrs = CASE WHEN NOT excluded.stub AND (nodes.stub OR excluded.last_seen >= nodes.last_seen)
		THEN excluded.attrs ELSE nodes.attrs END,
	stub = CASE WHEN excluded.stub THEN nodes.stub ELSE false END,
	observed_at = CASE WHEN excluded.observed_at < nodes.observed_at THEN excluded.observed_at ELSE nodes.observed_at END,
	last_seen = CASE WHEN excluded.last_seen > nodes.last_seen THEN excluded.last_seen ELSE nodes.last_seen END
WHERE NOT excluded.stub OR nodes.stub`

	countEdges = `SELECT
	COALESCE(SUM(CASE WHEN e.from_id IS NULL THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN e.from_id IS NOT NULL AND CAST(? AS BIGINT) >= e.last_seen AND
		(e.confidence <> s.confidence OR (e.evidence IS DISTINCT FROM s.evidence) OR (e.attrs IS DISTINCT FROM s.attrs))
		THEN 1 ELSE 0 END), 0)
FROM stage_edges s LEFT JOIN edges e
	ON e.from_id = s.from_id AND e.kind = s.kind AND e.to_id = s.to_id AND e.method = s.method`

	upsertEdges = `INSERT INTO edges (from_id, kind, to_id, method, confidence, evidence, attrs, observed_at, last_seen)
SELECT from_id, kind, to_id, method, confidence, evidence, attrs, CAST(? AS BIGINT), CAST(? AS BIGINT) FROM stage_edges WHERE true
ORDER BY from_id, kind, to_id, method
ON CONFLICT (from_id, kind, to_id, method) DO UPDATE SET
	confidence = CASE WHEN excluded.last_seen >= edges.last_seen THEN excluded.confidence ELSE edges.confidence END,
	evidence = CASE WHEN excluded.last_seen >= edges.last_seen THEN excluded.evidence ELSE edges.evidence END,
	attrs = CASE WHEN excluded.last_seen >= edges.last_seen THEN excluded.attrs ELSE edges.attrs END,
	observed_at = CASE WHEN excluded.observed_at < edges.observed_at THEN excluded.observed_at ELSE edges.observed_at END,
	last_seen = CASE WHEN excluded.last_seen > edges.last_seen THEN excluded.last_seen ELSE edges.last_seen END`
)

// upsert counts what the staged batch changes, then writes it.
func (s *sqlStore) upsert(ctx context.Context, tx *sql.Tx, at int64, res *IngestResult) error {
	var added, changed int64
	if err := tx.QueryRowContext(ctx, s.q(countNodes), at).Scan(&added, &changed); err != nil {
		return err
	}
	res.NodesAdded, res.NodesChanged = int(added), int(changed)
	if err := tx.QueryRowContext(ctx, s.q(countEdges), at).Scan(&added, &changed); err != nil {
		return err
	}
	res.EdgesAdded, res.EdgesChanged = int(added), int(changed)
	if _, err := tx.ExecContext(ctx, s.q(upsertNodes), at, at); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, s.q(upsertEdges), at, at)
	return err
}
