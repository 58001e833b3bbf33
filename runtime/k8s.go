package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/tether-sec/tether/graph"
)

// DefaultMaxSnapshotBytes caps the size of a snapshot ReadK8sSnapshot reads when
// K8sOptions.MaxBytes is zero: 512 MiB.
const DefaultMaxSnapshotBytes = 512 << 20

// ErrNotSnapshot is the sentinel every SnapshotError matches: the input is not a
// Kubernetes snapshot of pods and services.
var ErrNotSnapshot = errors.New("runtime: not a Kubernetes snapshot")

// ErrSnapshotTooLarge is returned when a snapshot is larger than the cap.
var ErrSnapshotTooLarge = errors.New("runtime: Kubernetes snapshot too large")

// SnapshotError says why an input is not a Kubernetes snapshot and how to make one.
// It matches ErrNotSnapshot.
type SnapshotError struct {
	// File is K8sOptions.Source, or "" for an unnamed input.
	File string
	// Kind is the kind the input declared, "" when it declared none.
	Kind string
	// Reason says what is wrong, e.g. "no pods or services", "not JSON or YAML".
	Reason string
	// Err is the underlying decoding error, if any.
	Err error
}

func (e *SnapshotError) Error() string {
	file, out := e.File, e.File
	if file == "" || file == "-" {
		file, out = "the input", "pods.json"
	}
	var what []string
	if e.Kind != "" {
		what = append(what, "kind "+e.Kind)
	}
	if e.Reason != "" {
		what = append(what, e.Reason)
	}
	if e.Err != nil {
		what = append(what, e.Err.Error())
	}
	return fmt.Sprintf("%s is not a Kubernetes pod list (%s): create it with `kubectl get pods,services -A -o json > %s`",
		file, strings.Join(what, ": "), out)
}

// Is makes a SnapshotError match ErrNotSnapshot.
func (e *SnapshotError) Is(target error) bool { return target == ErrNotSnapshot }

// Unwrap returns the underlying decoding error.
func (e *SnapshotError) Unwrap() error { return e.Err }

// K8sOptions configures ReadK8sSnapshot. The zero value works.
type K8sOptions struct {
	// Cluster names the cluster the snapshot was taken from. Default "default".
	Cluster string
	// Source names the input, usually its file name; it appears in messages and is
	// the batch's Target. Default "-".
	Source string
	// Now returns the observation time of the batch. Default time.Now.
	Now func() time.Time
	// MaxBytes caps the input size. Default DefaultMaxSnapshotBytes.
	MaxBytes int64
	// Logger receives one record per kind of item that was skipped (with a count)
	// and one warning per pod or service that could not be read. Default: discard.
	Logger *slog.Logger
}

func (o K8sOptions) withDefaults() K8sOptions {
	if o.Cluster == "" {
		o.Cluster = "default"
	}
	if o.Source == "" {
		o.Source = "-"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxSnapshotBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// ReadK8sSnapshot reads a snapshot of a cluster's pods and services and returns them
// as graph facts: the cluster, one workload per pod with its owners as stubs, one
// container per init, regular and ephemeral container, the image digest each
// container runs (from its status), and the services with the pods their
// selectors match. Nodes are sorted by ID and edges by key, so the same snapshot
// gives the same batch apart from its ObservedAt.
//
// Workload controllers in the input (apps/v1 ReplicaSet, Deployment, StatefulSet,
// DaemonSet; batch/v1 Job, CronJob) become observed workloads with their own
// owners, so the chain runs pod → ReplicaSet → Deployment.
//
// It reads the output of `kubectl get pods,services -A -o json` (a List), a PodList,
// a ServiceList or a single Pod or Service, as JSON or YAML (several YAML documents
// or JSON values may follow each other). Items of other kinds are skipped and
// logged. An input that holds no pod and no service is an error matching
// ErrNotSnapshot; one larger than MaxBytes matches ErrSnapshotTooLarge.
func ReadK8sSnapshot(ctx context.Context, r io.Reader, opts K8sOptions) (b *graph.Batch, err error) {
	opts = opts.withDefaults()
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("runtime: internal error reading %s: %v (please report this)", opts.Source, p)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, opts.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("runtime: reading %s: %w", opts.Source, err)
	}
	if int64(len(data)) > opts.MaxBytes {
		limit := fmt.Sprintf("%d bytes", opts.MaxBytes)
		if opts.MaxBytes%(1<<20) == 0 {
			limit = fmt.Sprintf("%d MiB", opts.MaxBytes>>20)
		}
		return nil, fmt.Errorf("%w: %s is larger than %s; take one snapshot per namespace (kubectl get pods,services -n NAMESPACE -o json)",
			ErrSnapshotTooLarge, opts.Source, limit)
	}
	snap, err := decodeSnapshot(ctx, data, opts)
	if err != nil {
		return nil, err
	}
	return buildBatch(ctx, snap, opts)
}

// controllerKinds are the workload controllers read (apiVersion and kind): the
// chain from a pod to the object a team deploys.
var controllerKinds = map[string]bool{
	"apps/v1 ReplicaSet": true, "apps/v1 Deployment": true, "apps/v1 StatefulSet": true,
	"apps/v1 DaemonSet": true, "batch/v1 Job": true, "batch/v1 CronJob": true,
}

// snapshot is what a snapshot file held.
type snapshot struct {
	pods     []corev1.Pod
	services []corev1.Service
	// controllers are the pods' owners and theirs: ReplicaSets, Deployments,
	// StatefulSets, DaemonSets, Jobs, CronJobs (metadata only).
	controllers     []metav1.PartialObjectMetadata
	ingresses       []networkingv1.Ingress
	networkPolicies []networkingv1.NetworkPolicy
	// nodes give each pod the platform it runs on.
	nodes []corev1.Node
	// Gateway API: Gateways and their HTTP and gRPC routes.
	gateways []gatewayObj
	routes   []routeObj
	// Identities: service accounts and the RBAC objects that grant them rights.
	serviceAccounts     []corev1.ServiceAccount
	roles               []rbacv1.Role
	clusterRoles        []rbacv1.ClusterRole
	roleBindings        []rbacv1.RoleBinding
	clusterRoleBindings []rbacv1.ClusterRoleBinding
	skipped             map[string]int // "apiVersion kind" → count
	invalid             []*itemError
	topKind             string // the kind of the first document
	lists               bool   // whether any document was a list
}

type itemError struct {
	index int
	kind  string
	name  string
	err   error
}

func (e *itemError) Error() string {
	s := fmt.Sprintf("item %d", e.index)
	if e.kind != "" {
		s += " (" + e.kind
		if e.name != "" {
			s += " " + e.name
		}
		s += ")"
	}
	return s + ": " + e.err.Error()
}

// maxLoggedInvalid caps the warnings about unreadable items; the rest are counted.
const maxLoggedInvalid = 20

// header is the part of any Kubernetes object or list that says what it is.
type header struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

func decodeSnapshot(ctx context.Context, data []byte, opts K8sOptions) (*snapshot, error) {
	docs, err := splitDocuments(ctx, data)
	if err != nil {
		var se *SnapshotError
		if errors.As(err, &se) {
			se.File = opts.Source
			return nil, se
		}
		return nil, err
	}
	s := &snapshot{skipped: map[string]int{}}
	index := 0
	for i, doc := range docs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var h header
		if err := json.Unmarshal(doc, &h); err != nil {
			return nil, &SnapshotError{File: opts.Source, Reason: "not a Kubernetes object", Err: err}
		}
		if i == 0 {
			s.topKind = h.Kind
		}
		if h.Kind == "" {
			return nil, &SnapshotError{File: opts.Source, Reason: "no kind: not a Kubernetes object"}
		}
		list, itemKind := isList(h)
		s.lists = s.lists || list
		if !list {
			s.add(index, h, doc, "", "")
			index++
			continue
		}
		for _, item := range h.Items {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var ih header
			if err := json.Unmarshal(item, &ih); err != nil {
				s.invalid = append(s.invalid, &itemError{index: index, err: fmt.Errorf("not a Kubernetes object: %w", err)})
				index++
				continue
			}
			s.add(index, ih, item, itemKind, h.APIVersion)
			index++
		}
	}
	for i, e := range s.invalid {
		if i == maxLoggedInvalid {
			opts.Logger.Warn("skipped more items that could not be read", "file", opts.Source, "count", len(s.invalid)-i)
			break
		}
		opts.Logger.Warn("skipped an item that could not be read", "file", opts.Source, "error", e.Error())
	}
	kinds := make([]string, 0, len(s.skipped))
	for k := range s.skipped {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		opts.Logger.Info("skipped items that are not pods, services, ingresses, gateways and routes, network policies, nodes, workload controllers or RBAC objects", "file", opts.Source, "kind", k, "count", s.skipped[k])
	}
	if len(s.pods) == 0 && len(s.services) == 0 {
		e := &SnapshotError{File: opts.Source, Kind: s.topKind, Reason: "no pods or services"}
		if len(s.invalid) > 0 {
			e.Reason, e.Err = "no readable pods or services", s.invalid[0]
		}
		if !s.lists && len(s.invalid) == 0 {
			e.Reason = "" // "(kind Deployment)" says it all
		}
		return nil, e
	}
	return s, nil
}

// isList reports whether h is a list and, for a typed list ("PodList"), the kind
// of its items.
func isList(h header) (list bool, itemKind string) {
	if h.Kind == "List" {
		return true, ""
	}
	if k, ok := strings.CutSuffix(h.Kind, "List"); ok && k != "" && h.Items != nil {
		return true, k
	}
	return false, ""
}

// add decodes one item into s. defKind and defAPIVersion come from a typed list,
// whose items may omit their own.
func (s *snapshot) add(index int, h header, raw json.RawMessage, defKind, defAPIVersion string) {
	kind, apiVersion := h.Kind, h.APIVersion
	if kind == "" {
		kind = defKind
	}
	if apiVersion == "" {
		apiVersion = defAPIVersion
	}
	core := apiVersion == "v1" || apiVersion == ""
	name := h.Metadata.Name
	if h.Metadata.Namespace != "" {
		name = h.Metadata.Namespace + "/" + name
	}
	switch {
	case core && kind == "Pod":
		var p corev1.Pod
		if err := json.Unmarshal(raw, &p); err != nil {
			s.invalid = append(s.invalid, &itemError{index, kind, name, err})
			return
		}
		if p.Name == "" {
			s.invalid = append(s.invalid, &itemError{index, kind, name, errors.New("metadata.name is empty")})
			return
		}
		s.pods = append(s.pods, p)
	case core && kind == "Service":
		var svc corev1.Service
		if err := json.Unmarshal(raw, &svc); err != nil {
			s.invalid = append(s.invalid, &itemError{index, kind, name, err})
			return
		}
		if svc.Name == "" {
			s.invalid = append(s.invalid, &itemError{index, kind, name, errors.New("metadata.name is empty")})
			return
		}
		s.services = append(s.services, svc)
	case apiVersion == "networking.k8s.io/v1" && kind == "Ingress":
		decodeInto(s, index, kind, name, raw, &s.ingresses)
	case apiVersion == "networking.k8s.io/v1" && kind == "NetworkPolicy":
		decodeInto(s, index, kind, name, raw, &s.networkPolicies)
	case gatewayKinds[apiVersion+" "+kind]:
		s.addGatewayObj(index, kind, name, raw)
	case core && kind == "Node":
		decodeInto(s, index, kind, name, raw, &s.nodes)
	case core && kind == "ServiceAccount":
		decodeInto(s, index, kind, name, raw, &s.serviceAccounts)
	case apiVersion == "rbac.authorization.k8s.io/v1" && kind == "Role":
		decodeInto(s, index, kind, name, raw, &s.roles)
	case apiVersion == "rbac.authorization.k8s.io/v1" && kind == "ClusterRole":
		decodeInto(s, index, kind, name, raw, &s.clusterRoles)
	case apiVersion == "rbac.authorization.k8s.io/v1" && kind == "RoleBinding":
		decodeInto(s, index, kind, name, raw, &s.roleBindings)
	case apiVersion == "rbac.authorization.k8s.io/v1" && kind == "ClusterRoleBinding":
		decodeInto(s, index, kind, name, raw, &s.clusterRoleBindings)
	case controllerKinds[apiVersion+" "+kind]:
		var m metav1.PartialObjectMetadata
		if err := json.Unmarshal(raw, &m); err != nil {
			s.invalid = append(s.invalid, &itemError{index, kind, name, err})
			return
		}
		if m.Name == "" {
			s.invalid = append(s.invalid, &itemError{index, kind, name, errors.New("metadata.name is empty")})
			return
		}
		m.APIVersion, m.Kind = apiVersion, kind
		s.controllers = append(s.controllers, m)
	default:
		key := kind
		if key == "" {
			key = "(no kind)"
		}
		if apiVersion != "" {
			key = apiVersion + " " + key
		}
		s.skipped[key]++
	}
}

// decodeInto decodes one item into a new element of list, or records why not.
func decodeInto[T any](s *snapshot, index int, kind, name string, raw json.RawMessage, list *[]T) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		s.invalid = append(s.invalid, &itemError{index, kind, name, err})
		return
	}
	*list = append(*list, v)
}

// splitDocuments returns the JSON text of each document of data: the JSON values
// that follow each other, or the YAML documents separated by "---", converted to
// JSON. Empty YAML documents are dropped.
func splitDocuments(ctx context.Context, data []byte) ([]json.RawMessage, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, &SnapshotError{Reason: "the input is empty"}
	}
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return nil, &SnapshotError{Reason: "UTF-16 text; save it as UTF-8 (PowerShell: add `| Out-File -Encoding utf8`)"}
	}
	if bytes.IndexByte(trimmed[:min(len(trimmed), 8<<10)], 0) >= 0 {
		return nil, &SnapshotError{Reason: "binary data, not JSON or YAML"}
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		return splitJSON(ctx, trimmed)
	}
	return splitYAML(ctx, data)
}

func splitJSON(ctx context.Context, data []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs []json.RawMessage
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, &SnapshotError{Reason: "truncated JSON", Err: err}
			}
			return nil, &SnapshotError{Reason: "not valid JSON", Err: err}
		}
		if err := checkObject(raw); err != nil {
			return nil, err
		}
		docs = append(docs, raw)
	}
	return docs, nil
}

func splitYAML(ctx context.Context, data []byte) ([]json.RawMessage, error) {
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []json.RawMessage
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &SnapshotError{Reason: "not JSON or YAML", Err: err}
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, &SnapshotError{Reason: "not JSON or YAML", Err: err}
		}
		if string(j) == "null" {
			continue // an empty document or one with comments only
		}
		if err := checkObject(j); err != nil {
			return nil, err
		}
		docs = append(docs, j)
	}
	if len(docs) == 0 {
		return nil, &SnapshotError{Reason: "no YAML document holds anything"}
	}
	return docs, nil
}

// checkObject returns a SnapshotError unless raw is a JSON object.
func checkObject(raw []byte) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		return nil
	}
	what := "a JSON value"
	if len(raw) > 0 {
		switch c := raw[0]; {
		case c == '[':
			what = "a JSON array"
		case c == '"':
			what = "a string"
		case c == 't' || c == 'f':
			what = "a boolean"
		case c == 'n':
			what = "null"
		case c == '-' || (c >= '0' && c <= '9'):
			what = "a number"
		}
	}
	return &SnapshotError{Reason: "not JSON or YAML describing a Kubernetes object: it is " + what}
}
