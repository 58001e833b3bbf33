// Package store persists the graph and answers queries over it. Two backends keep the
// same contract: SQLite (embedded, the default) and PostgreSQL (for scale).
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tether-sec/tether/graph"
)

// Store is a graph database. Every backend passes the same conformance suite
// (storetest.Run).
type Store interface {
	// Ingest writes a batch in one transaction: all of it or none of it. Nodes and
	// edges are upserted by ID and edge key; ingesting the same batch twice changes
	// no node or edge except their LastSeen time. Every edge endpoint must exist in
	// the batch or already in the store, else ErrDangling.
	//
	// In detail:
	//   - The batch must pass b.Validate (errors match graph.ErrInvalid).
	//   - A stub node is inserted only when its ID is missing. It never changes a
	//     stored node, except that a stored stub's LastSeen advances.
	//   - An observed node replaces a stored stub, and the stored node's name and
	//     attributes are replaced by the batch's unless the batch is older than the
	//     node's LastSeen (a late, older batch does not undo newer facts). Edges
	//     follow the same rule for confidence, evidence and attributes.
	//   - ObservedAt becomes the earliest and LastSeen the latest batch time that
	//     touched the row; LastSeen never moves backwards. A zero b.ObservedAt
	//     means now. Times are kept in UTC at microsecond precision.
	//   - Empty attributes and evidence are stored as nothing and read back as nil;
	//     attributes read back as graph.Attrs would build them (JSON values).
	//   - Each ingest records one scan (b.Source, b.Target, b.ObservedAt, counts).
	//   - Ingests are serialized; a cancelled ctx aborts and writes nothing.
	Ingest(ctx context.Context, b *graph.Batch) (IngestResult, error)
	// Node returns one node, or an error matching ErrNotFound.
	Node(ctx context.Context, id graph.ID) (graph.Node, error)
	// Nodes lists nodes matching q, ordered by ID.
	Nodes(ctx context.Context, q NodeQuery) ([]graph.Node, error)
	// Edges lists edges matching q, ordered by (from, kind, to, method).
	Edges(ctx context.Context, q EdgeQuery) ([]graph.Edge, error)
	// Neighbors lists every edge into or out of id, ordered by (from, kind, to,
	// method). An unknown id has no edges.
	Neighbors(ctx context.Context, id graph.ID) ([]graph.Edge, error)
	// PutDocument stores value under (kind, key), replacing what was there, in one
	// transaction. Documents are opaque to the store: SBOMs by image digest,
	// per-layer catalog results by layer chain.
	PutDocument(ctx context.Context, kind, key string, value []byte) error
	// Document returns the value stored under (kind, key), or an error matching
	// ErrNotFound.
	Document(ctx context.Context, kind, key string) ([]byte, error)
	// PutGitIndex adds commits of repo and the files they changed against their
	// first parents to the blob index, in one transaction. Commits the index
	// already holds are left as they are, with their changes; every change must
	// name a commit of the call.
	PutGitIndex(ctx context.Context, repo string, commits []graph.GitCommit, changes []graph.GitChange) error
	// GitCommits returns every indexed commit of repo, oldest first.
	GitCommits(ctx context.Context, repo string) ([]graph.GitCommit, error)
	// BlobPaths returns the (repository, path) pairs that ever held one of blobs.
	BlobPaths(ctx context.Context, blobs []string) ([]BlobPath, error)
	// GitChanges returns the indexed changes of repo to the given paths.
	GitChanges(ctx context.Context, repo string, paths []string) ([]graph.GitChange, error)
	// Stats counts what the store holds.
	Stats(ctx context.Context) (Stats, error)
	// Close releases the database.
	Close() error
}

// NodeQuery selects nodes. Zero fields match everything.
type NodeQuery struct {
	Kind graph.Kind
	// IDPrefix matches IDs that start with it (e.g. "commit:github.com/acme/app@").
	IDPrefix string
	// Name matches the node's name exactly.
	Name string
	// Limit caps the result; 0 means no cap.
	Limit int
}

// EdgeQuery selects edges. Zero fields match everything.
type EdgeQuery struct {
	From   graph.ID
	To     graph.ID
	Kind   graph.EdgeKind
	Method string
	Limit  int
}

// IngestResult says what an ingest changed.
type IngestResult struct {
	ScanID int64
	// NodesAdded and EdgesAdded count rows that did not exist before; NodesChanged
	// and EdgesChanged count existing rows whose content (not LastSeen) changed.
	NodesAdded, NodesChanged int
	EdgesAdded, EdgesChanged int
}

// Stats counts the store's contents.
type Stats struct {
	Nodes         int64
	Edges         int64
	Scans         int64
	NodesByKind   map[graph.Kind]int64
	SchemaVersion int
	LastScan      time.Time
}

// Errors a user can act on.
var (
	// ErrNotFound: the node does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrDangling: an edge points at a node that is neither in the batch nor stored.
	ErrDangling = errors.New("store: edge endpoint does not exist")
	// ErrSchemaTooNew: the database was written by a newer tether.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this tether")
	// ErrNotDatabase: the path holds a file that is not a tether database.
	ErrNotDatabase = errors.New("store: not a tether database")
	// ErrUnavailable: the database cannot be opened or reached.
	ErrUnavailable = errors.New("store: database unavailable")
)

// DanglingError names the edge of a batch whose endpoint does not exist. It
// matches ErrDangling.
type DanglingError struct {
	Edge graph.Edge
	// Missing is the endpoint (Edge.From or Edge.To) that is neither in the batch
	// nor stored.
	Missing graph.ID
}

func (e *DanglingError) Error() string {
	return fmt.Sprintf("store: edge %s -%s-> %s (method %s) points at %s, which is neither in the batch nor in the store: add that node to the batch (a stub is enough)",
		e.Edge.From, e.Edge.Kind, e.Edge.To, e.Edge.Method, e.Missing)
}

// Is makes a DanglingError match ErrDangling.
func (e *DanglingError) Is(target error) bool { return target == ErrDangling }

// SchemaError reports a database whose schema this binary cannot use.
type SchemaError struct {
	Path         string
	Found, Known int
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("database %s has schema version %d but this tether knows up to %d: upgrade tether, or pass --db with another database", e.Path, e.Found, e.Known)
}

// Is makes a SchemaError match ErrSchemaTooNew.
func (e *SchemaError) Is(target error) bool { return target == ErrSchemaTooNew }
