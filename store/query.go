package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tether-sec/tether/graph"
)

const (
	nodeSelect = `SELECT id, kind, name, attrs, stub, observed_at, last_seen FROM nodes`
	edgeFields = `from_id, kind, to_id, method, confidence, evidence, attrs, observed_at, last_seen`
)

// Node implements Store.
func (s *sqlStore) Node(ctx context.Context, id graph.ID) (graph.Node, error) {
	rows, err := s.db.QueryContext(ctx, s.q(nodeSelect+` WHERE id = ?`), string(id))
	if err != nil {
		return graph.Node{}, s.wrap(ctx, "read node", err)
	}
	ns, err := scanNodes(rows)
	if err != nil {
		return graph.Node{}, s.wrap(ctx, "read node", err)
	}
	if len(ns) == 0 {
		return graph.Node{}, fmt.Errorf("%w: node %s", ErrNotFound, id)
	}
	return ns[0], nil
}

// Nodes implements Store.
func (s *sqlStore) Nodes(ctx context.Context, q NodeQuery) ([]graph.Node, error) {
	var where []string
	var args []any
	if q.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, string(q.Kind))
	}
	if q.IDPrefix != "" {
		where, args = append(where, "id >= ?"), append(args, q.IDPrefix)
		if end, ok := prefixEnd(q.IDPrefix); ok {
			where, args = append(where, "id < ?"), append(args, end)
		}
	}
	if q.Name != "" {
		where, args = append(where, "name = ?"), append(args, q.Name)
	}
	query := nodeSelect + whereClause(where) + " ORDER BY id"
	if q.Limit > 0 {
		query, args = query+" LIMIT ?", append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.wrap(ctx, "list nodes", err)
	}
	ns, err := scanNodes(rows)
	if err != nil {
		return nil, s.wrap(ctx, "list nodes", err)
	}
	return ns, nil
}

// Edges implements Store.
func (s *sqlStore) Edges(ctx context.Context, q EdgeQuery) ([]graph.Edge, error) {
	var where []string
	var args []any
	for _, f := range []struct{ col, val string }{
		{"from_id", string(q.From)}, {"kind", string(q.Kind)}, {"to_id", string(q.To)}, {"method", q.Method},
	} {
		if f.val != "" {
			where, args = append(where, f.col+" = ?"), append(args, f.val)
		}
	}
	query := `SELECT ` + edgeFields + ` FROM edges` + whereClause(where) + ` ORDER BY from_id, kind, to_id, method`
	if q.Limit > 0 {
		query, args = query+" LIMIT ?", append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.wrap(ctx, "list edges", err)
	}
	es, err := scanEdges(rows)
	if err != nil {
		return nil, s.wrap(ctx, "list edges", err)
	}
	return es, nil
}

// Neighbors implements Store.
func (s *sqlStore) Neighbors(ctx context.Context, id graph.ID) ([]graph.Edge, error) {
	query := `SELECT ` + edgeFields + ` FROM edges WHERE from_id = ?
UNION ALL
SELECT ` + edgeFields + ` FROM edges WHERE to_id = ? AND from_id <> ?
ORDER BY 1, 2, 3, 4`
	rows, err := s.db.QueryContext(ctx, s.q(query), string(id), string(id), string(id))
	if err != nil {
		return nil, s.wrap(ctx, "list neighbors", err)
	}
	es, err := scanEdges(rows)
	if err != nil {
		return nil, s.wrap(ctx, "list neighbors", err)
	}
	return es, nil
}

// Stats implements Store.
func (s *sqlStore) Stats(ctx context.Context) (Stats, error) {
	st := Stats{NodesByKind: map[graph.Kind]int64{}}
	rows, err := s.db.QueryContext(ctx, `SELECT kind, count(*) FROM nodes GROUP BY kind`)
	if err != nil {
		return Stats{}, s.wrap(ctx, "count nodes", err)
	}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			rows.Close()
			return Stats{}, s.wrap(ctx, "count nodes", err)
		}
		st.NodesByKind[graph.Kind(k)] = n
		st.Nodes += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stats{}, s.wrap(ctx, "count nodes", err)
	}
	var last int64
	var version sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT
	(SELECT count(*) FROM edges),
	(SELECT count(*) FROM scans),
	(SELECT COALESCE(max(observed_at), 0) FROM scans),
	(SELECT max(version) FROM schema_migrations)`).Scan(&st.Edges, &st.Scans, &last, &version)
	if err != nil {
		return Stats{}, s.wrap(ctx, "count edges and scans", err)
	}
	if st.Scans > 0 {
		st.LastScan = fromMicros(last)
	}
	st.SchemaVersion = int(version.Int64)
	return st, nil
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// prefixEnd returns the least string greater than every string that starts with
// p, in byte order (which is code point order for UTF-8), if there is one. It
// stays valid UTF-8 when p is, as PostgreSQL requires.
func prefixEnd(p string) (string, bool) {
	if utf8.ValidString(p) {
		rs := []rune(p)
		for i := len(rs) - 1; i >= 0; i-- {
			r := rs[i] + 1
			if r == 0xD800 { // skip the surrogates, which UTF-8 cannot hold
				r = 0xE000
			}
			if r <= utf8.MaxRune {
				rs[i] = r
				return string(rs[:i+1]), true
			}
		}
		return "", false
	}
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func scanNodes(rows *sql.Rows) ([]graph.Node, error) {
	defer rows.Close()
	var ns []graph.Node
	for rows.Next() {
		var (
			n              graph.Node
			id, kind       string
			attrs          sql.NullString
			observed, last int64
		)
		if err := rows.Scan(&id, &kind, &n.Name, &attrs, &n.Stub, &observed, &last); err != nil {
			return nil, err
		}
		n.ID, n.Kind = graph.ID(id), graph.Kind(kind)
		n.ObservedAt, n.LastSeen = fromMicros(observed), fromMicros(last)
		if attrs.Valid {
			if err := json.Unmarshal([]byte(attrs.String), &n.Attrs); err != nil {
				return nil, fmt.Errorf("node %s: attributes: %w", id, err)
			}
			if len(n.Attrs) == 0 {
				n.Attrs = nil
			}
		}
		ns = append(ns, n)
	}
	return ns, rows.Err()
}

func scanEdges(rows *sql.Rows) ([]graph.Edge, error) {
	defer rows.Close()
	var es []graph.Edge
	for rows.Next() {
		var (
			e               graph.Edge
			from, kind, to  string
			evidence, attrs sql.NullString
			observed, last  int64
		)
		if err := rows.Scan(&from, &kind, &to, &e.Method, &e.Confidence, &evidence, &attrs, &observed, &last); err != nil {
			return nil, err
		}
		e.From, e.Kind, e.To = graph.ID(from), graph.EdgeKind(kind), graph.ID(to)
		e.ObservedAt, e.LastSeen = fromMicros(observed), fromMicros(last)
		if evidence.Valid {
			if err := json.Unmarshal([]byte(evidence.String), &e.Evidence); err != nil {
				return nil, fmt.Errorf("edge %s: evidence: %w", e.Key(), err)
			}
			if len(e.Evidence) == 0 {
				e.Evidence = nil
			}
		}
		if attrs.Valid {
			if err := json.Unmarshal([]byte(attrs.String), &e.Attrs); err != nil {
				return nil, fmt.Errorf("edge %s: attributes: %w", e.Key(), err)
			}
			if len(e.Attrs) == 0 {
				e.Attrs = nil
			}
		}
		es = append(es, e)
	}
	return es, rows.Err()
}
