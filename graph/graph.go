package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Kind is the kind of a node.
type Kind string

// Node kinds along the code-to-cloud chain.
const (
	KindRepo          Kind = "repo"
	KindCommit        Kind = "commit"
	KindFile          Kind = "file"
	KindOwner         Kind = "owner"
	KindBuild         Kind = "build"
	KindImageIndex    Kind = "image_index"
	KindImage         Kind = "image"
	KindLayer         Kind = "layer"
	KindPackage       Kind = "package"
	KindVulnerability Kind = "vulnerability"
	KindCluster       Kind = "cluster"
	KindAccount       Kind = "account"
	KindWorkload      Kind = "workload"
	KindContainer     Kind = "container"
	KindService       Kind = "service"
	KindIngress       Kind = "ingress"
	KindCloudResource Kind = "cloud_resource"
	KindIaCBlock      Kind = "iac_block"
	KindFinding       Kind = "finding"
	KindTicket        Kind = "ticket"
)

// Kinds lists every node kind, in chain order.
var Kinds = []Kind{
	KindRepo, KindCommit, KindFile, KindOwner, KindBuild, KindImageIndex, KindImage,
	KindLayer, KindPackage, KindVulnerability, KindCluster, KindAccount, KindWorkload,
	KindContainer, KindService, KindIngress, KindCloudResource, KindIaCBlock, KindFinding, KindTicket,
}

// Valid reports whether k is a known node kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// EdgeKind is the relation an edge asserts, read "From <kind> To".
type EdgeKind string

// Edge kinds.
const (
	EdgeInRepo         EdgeKind = "in_repo"       // commit → repo
	EdgeParent         EdgeKind = "parent"        // commit → parent commit
	EdgeContains       EdgeKind = "contains"      // commit → file (the file is in the commit's tree)
	EdgeAuthoredBy     EdgeKind = "authored_by"   // commit → owner
	EdgeOwnedBy        EdgeKind = "owned_by"      // file|repo|iac_block → owner
	EdgeHasManifest    EdgeKind = "has_manifest"  // image_index → image (one per platform)
	EdgeHasLayer       EdgeKind = "has_layer"     // image → layer
	EdgeHasPackage     EdgeKind = "has_package"   // image|layer|file → package
	EdgeDependsOn      EdgeKind = "depends_on"    // package → package (a lockfile's dependency)
	EdgeAffectedBy     EdgeKind = "affected_by"   // package → vulnerability
	EdgeBuiltFrom      EdgeKind = "built_from"    // image|build → commit
	EdgeBuiltWith      EdgeKind = "built_with"    // image → file (the Dockerfile)
	EdgeBaseImage      EdgeKind = "base_image"    // image → image
	EdgeProduced       EdgeKind = "produced"      // build → image
	EdgeInCluster      EdgeKind = "in_cluster"    // workload|service → cluster
	EdgeInAccount      EdgeKind = "in_account"    // cluster|cloud_resource → account
	EdgeInWorkload     EdgeKind = "in_workload"   // container → workload
	EdgeControlledBy   EdgeKind = "controlled_by" // workload → owning workload
	EdgeRuns           EdgeKind = "runs"          // container → image
	EdgeExposes        EdgeKind = "exposes"       // service → workload, ingress → service
	EdgeDeclares       EdgeKind = "declares"      // iac_block → cloud_resource
	EdgeFindingOn      EdgeKind = "finding_on"    // finding → the node it is about
	EdgeTracks         EdgeKind = "tracks"        // ticket → finding
	EdgeUsesIdentity   EdgeKind = "uses_identity" // workload → cloud_resource (IAM role)
	EdgeDeclaredInFile EdgeKind = "declared_in"   // iac_block → file
)

// Evidence is one observation that supports an edge: where it came from and what it said.
type Evidence struct {
	// Source names the kind of evidence, e.g. "oci-label", "git-tree", "CODEOWNERS".
	Source string `json:"source"`
	// Detail is the observed fact, e.g. "org.opencontainers.image.revision=3f2a…".
	Detail string `json:"detail"`
}

// Node is a fact about one thing in the chain.
type Node struct {
	ID   ID     `json:"id"`
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	// Attrs holds kind-specific properties. Values must survive a JSON round trip
	// unchanged; use Attrs() to build them from a struct.
	Attrs map[string]any `json:"attrs,omitempty"`
	// Stub marks a node that is only referenced (an image a pod runs, a commit a label
	// names). A store inserts a stub when the node is missing and never lets it
	// overwrite a node that a collector observed.
	Stub bool `json:"stub,omitempty"`
	// ObservedAt is when the fact was first observed; LastSeen when it was last
	// observed. Both are set by the store from the batch.
	ObservedAt time.Time `json:"observed_at"`
	LastSeen   time.Time `json:"last_seen"`
}

// Edge links two nodes. Every edge says how it was made and how sure that is.
type Edge struct {
	From ID       `json:"from"`
	Kind EdgeKind `json:"kind"`
	To   ID       `json:"to"`
	// Method names the collector or resolver method, e.g. "oci-label", "git", "k8s-status".
	Method string `json:"method"`
	// Confidence is in [0, 1]: 1 is a direct observation, lower is an inference.
	Confidence float64        `json:"confidence"`
	Evidence   []Evidence     `json:"evidence,omitempty"`
	Attrs      map[string]any `json:"attrs,omitempty"`
	ObservedAt time.Time      `json:"observed_at"`
	LastSeen   time.Time      `json:"last_seen"`
}

// Key identifies an edge: two methods asserting the same relation are two edges.
func (e Edge) Key() string {
	return string(e.From) + "\x00" + string(e.Kind) + "\x00" + string(e.To) + "\x00" + e.Method
}

// Batch is everything one collector run observed about one target. A store ingests a
// batch in one transaction.
type Batch struct {
	// Source names the collector ("repo", "image", "k8s", …).
	Source string
	// Target is what was scanned: a path, an image reference, a snapshot file.
	Target     string
	ObservedAt time.Time
	Nodes      []Node
	Edges      []Edge

	nodeIdx map[ID]int
	edgeIdx map[string]int
}

// NewBatch returns an empty batch for source and target observed at t.
func NewBatch(source, target string, t time.Time) *Batch {
	return &Batch{Source: source, Target: target, ObservedAt: t.UTC()}
}

// AddNode adds n, or merges it into the node with the same ID: an observed node wins
// over a stub, and attributes of later additions override earlier ones.
func (b *Batch) AddNode(n Node) {
	if b.nodeIdx == nil {
		b.reindex()
	}
	if i, ok := b.nodeIdx[n.ID]; ok {
		old := &b.Nodes[i]
		if n.Stub && !old.Stub {
			return
		}
		if !n.Stub && old.Stub {
			b.Nodes[i] = n
			return
		}
		if n.Name != "" {
			old.Name = n.Name
		}
		for k, v := range n.Attrs {
			if old.Attrs == nil {
				old.Attrs = map[string]any{}
			}
			old.Attrs[k] = v
		}
		return
	}
	b.nodeIdx[n.ID] = len(b.Nodes)
	b.Nodes = append(b.Nodes, n)
}

// AddEdge adds e, or merges its evidence into the edge with the same key, keeping the
// higher confidence.
func (b *Batch) AddEdge(e Edge) {
	if b.edgeIdx == nil {
		b.reindex()
	}
	k := e.Key()
	if i, ok := b.edgeIdx[k]; ok {
		old := &b.Edges[i]
		if e.Confidence > old.Confidence {
			old.Confidence = e.Confidence
		}
		old.Evidence = mergeEvidence(old.Evidence, e.Evidence)
		for ak, av := range e.Attrs {
			if old.Attrs == nil {
				old.Attrs = map[string]any{}
			}
			old.Attrs[ak] = av
		}
		return
	}
	b.edgeIdx[k] = len(b.Edges)
	b.Edges = append(b.Edges, e)
}

// Link is shorthand for AddEdge with one piece of evidence.
func (b *Batch) Link(from ID, kind EdgeKind, to ID, method string, confidence float64, ev ...Evidence) {
	b.AddEdge(Edge{From: from, Kind: kind, To: to, Method: method, Confidence: confidence, Evidence: ev})
}

// Node returns the node with id in the batch.
func (b *Batch) Node(id ID) (Node, bool) {
	if b.nodeIdx == nil {
		b.reindex()
	}
	i, ok := b.nodeIdx[id]
	if !ok {
		return Node{}, false
	}
	return b.Nodes[i], true
}

func (b *Batch) reindex() {
	b.nodeIdx = make(map[ID]int, len(b.Nodes))
	for i, n := range b.Nodes {
		b.nodeIdx[n.ID] = i
	}
	b.edgeIdx = make(map[string]int, len(b.Edges))
	for i, e := range b.Edges {
		b.edgeIdx[e.Key()] = i
	}
}

func mergeEvidence(a, b []Evidence) []Evidence {
	seen := make(map[Evidence]bool, len(a))
	for _, e := range a {
		seen[e] = true
	}
	for _, e := range b {
		if !seen[e] {
			seen[e] = true
			a = append(a, e)
		}
	}
	return a
}

// ErrInvalid is the sentinel every batch validation error matches.
var ErrInvalid = errors.New("graph: invalid batch")

// ValidationError says which node or edge of a batch is malformed.
type ValidationError struct {
	What   string
	Reason string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("graph: invalid %s: %s", e.What, e.Reason)
}

// Is makes a ValidationError match ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Validate checks the batch's own consistency: known kinds, IDs whose prefix matches
// their kind, confidences in [0, 1], attributes that survive a JSON round trip, and
// no duplicate IDs. Edges may point at nodes outside the batch; the store checks those.
func (b *Batch) Validate() error {
	if b.Source == "" {
		return &ValidationError{"batch", "source is empty"}
	}
	seen := make(map[ID]bool, len(b.Nodes))
	for _, n := range b.Nodes {
		if !n.Kind.Valid() {
			return &ValidationError{"node " + string(n.ID), fmt.Sprintf("unknown kind %q", n.Kind)}
		}
		if n.ID.Kind() != n.Kind {
			return &ValidationError{"node " + string(n.ID), fmt.Sprintf("ID prefix does not match kind %q", n.Kind)}
		}
		if seen[n.ID] {
			return &ValidationError{"node " + string(n.ID), "duplicate ID"}
		}
		seen[n.ID] = true
		if err := checkAttrs(n.Attrs); err != nil {
			return &ValidationError{"node " + string(n.ID), err.Error()}
		}
	}
	keys := make(map[string]bool, len(b.Edges))
	for _, e := range b.Edges {
		what := fmt.Sprintf("edge %s -%s-> %s", e.From, e.Kind, e.To)
		if e.From == "" || e.To == "" || e.Kind == "" || e.Method == "" {
			return &ValidationError{what, "from, kind, to and method are required"}
		}
		if !e.From.Kind().Valid() || !e.To.Kind().Valid() {
			return &ValidationError{what, "endpoint ID has no known kind prefix"}
		}
		if math.IsNaN(e.Confidence) || e.Confidence < 0 || e.Confidence > 1 {
			return &ValidationError{what, fmt.Sprintf("confidence %v is outside [0, 1]", e.Confidence)}
		}
		if keys[e.Key()] {
			return &ValidationError{what, "duplicate edge"}
		}
		keys[e.Key()] = true
		if err := checkAttrs(e.Attrs); err != nil {
			return &ValidationError{what, err.Error()}
		}
	}
	return nil
}

func checkAttrs(m map[string]any) error {
	if len(m) == 0 {
		return nil
	}
	if _, err := json.Marshal(m); err != nil {
		return fmt.Errorf("attributes are not JSON: %w", err)
	}
	return nil
}

// Attrs converts a struct (or any JSON-marshalable value that encodes as an object)
// into the map form stored on nodes and edges, so that what a collector emits equals
// what a store returns.
func Attrs(v any) map[string]any {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("graph.Attrs: %v", err)) // programming error: attrs types are tether's own
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(fmt.Sprintf("graph.Attrs: %T does not encode as an object", v))
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// DecodeAttrs fills v (a pointer to a struct) from attribute map m.
func DecodeAttrs(m map[string]any, v any) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// String returns the attribute k as a string, or "".
func (n Node) String(k string) string {
	s, _ := n.Attrs[k].(string)
	return s
}

// SortEdges orders edges deterministically by (from, kind, to, method).
func SortEdges(es []Edge) {
	sort.Slice(es, func(i, j int) bool { return es[i].Key() < es[j].Key() })
}
