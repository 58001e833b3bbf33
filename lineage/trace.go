package lineage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

// ErrUnknownTarget: the trace target is not in the store.
var ErrUnknownTarget = errors.New("lineage: target not in the store")

// NodeRef names a node in a trace.
type NodeRef struct {
	ID   graph.ID   `json:"id"`
	Kind graph.Kind `json:"kind"`
	Name string     `json:"name"`
	// Stub is true when the node is only referenced: nothing has scanned it.
	Stub bool `json:"stub,omitempty"`
}

// Step is one link of a chain: the edge and the nodes it joins, in chain order.
type Step struct {
	From       NodeRef          `json:"from"`
	Link       graph.EdgeKind   `json:"link"`
	To         NodeRef          `json:"to"`
	Method     string           `json:"method"`
	Confidence float64          `json:"confidence"`
	Evidence   []graph.Evidence `json:"evidence,omitempty"`
	// Lines are the Dockerfile lines a built_with link matched.
	Lines []Match `json:"lines,omitempty"`
}

// Chain is the lineage of one container (or of the image itself).
type Chain struct {
	Container string `json:"container,omitempty"`
	Steps     []Step `json:"steps"`
	// Gaps say where the chain stops and what would extend it.
	Gaps []string `json:"gaps,omitempty"`
}

// Trace is the answer to "where did this come from".
type Trace struct {
	Subject NodeRef `json:"subject"`
	// Controllers are the pod's controller chain (pod → ReplicaSet →
	// Deployment, Job → CronJob), where the subject is a pod.
	Controllers []Step  `json:"controllers,omitempty"`
	Chains      []Chain `json:"chains"`
}

// TraceTarget traces a pod ("pod/NAMESPACE/NAME", optionally "pod/CLUSTER/NAMESPACE/NAME"),
// an image digest ("sha256:…"), or an image reference seen by a scan.
func TraceTarget(ctx context.Context, r Reader, target string) (*Trace, error) {
	if rest, ok := strings.CutPrefix(target, "pod/"); ok {
		w, err := findPod(ctx, r, rest)
		if err != nil {
			return nil, err
		}
		return tracePod(ctx, r, w)
	}
	img, err := findImage(ctx, r, target)
	if err != nil {
		return nil, err
	}
	t := &Trace{Subject: ref(img)}
	ch := Chain{}
	if err := traceImage(ctx, r, img, &ch); err != nil {
		return nil, err
	}
	t.Chains = append(t.Chains, ch)
	return t, nil
}

func ref(n graph.Node) NodeRef {
	name := n.Name
	if name == "" {
		name = n.ID.Key()
	}
	if n.Kind == graph.KindOwner && strings.Contains(n.ID.Key(), "@") && !strings.HasPrefix(n.ID.Key(), "@") && name != n.ID.Key() {
		name += " <" + n.ID.Key() + ">" // a person: name and e-mail
	}
	return NodeRef{ID: n.ID, Kind: n.Kind, Name: name, Stub: n.Stub}
}

func findPod(ctx context.Context, r Reader, spec string) (graph.Node, error) {
	parts := strings.Split(spec, "/")
	var suffix string
	switch len(parts) {
	case 2:
		suffix = "/" + parts[0] + "/Pod/" + parts[1]
	case 3:
		return nodeOrUnknown(ctx, r, graph.WorkloadID(parts[0], parts[1], "Pod", parts[2]), "pod/"+spec)
	default:
		return graph.Node{}, fmt.Errorf("trace target %q: want pod/NAMESPACE/NAME or pod/CLUSTER/NAMESPACE/NAME", "pod/"+spec)
	}
	ws, err := r.Nodes(ctx, store.NodeQuery{Kind: graph.KindWorkload})
	if err != nil {
		return graph.Node{}, err
	}
	var found []graph.Node
	for _, w := range ws {
		if strings.HasSuffix(string(w.ID), suffix) {
			found = append(found, w)
		}
	}
	switch len(found) {
	case 0:
		return graph.Node{}, fmt.Errorf("%w: no pod %s has been scanned; run 'tether scan k8s --snapshot FILE' first", ErrUnknownTarget, "pod/"+spec)
	case 1:
		return found[0], nil
	}
	var names []string
	for _, f := range found {
		names = append(names, "pod/"+strings.TrimSuffix(f.ID.Key(), suffix)+"/"+spec)
	}
	return graph.Node{}, fmt.Errorf("pod/%s is in several clusters; name one of: %s", spec, strings.Join(names, ", "))
}

func nodeOrUnknown(ctx context.Context, r Reader, id graph.ID, what string) (graph.Node, error) {
	n, err := r.Node(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return graph.Node{}, fmt.Errorf("%w: %s has not been scanned", ErrUnknownTarget, what)
	}
	return n, err
}

// findImage resolves a digest or a reference to one image node.
func findImage(ctx context.Context, r Reader, target string) (graph.Node, error) {
	digest := target
	if _, d, ok := strings.Cut(target, "@"); ok {
		digest = d
	}
	if strings.HasPrefix(digest, "sha256:") {
		if n, err := r.Node(ctx, graph.ImageID(digest)); err == nil {
			return n, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return graph.Node{}, err
		}
		if idx, err := r.Node(ctx, graph.ImageIndexID(digest)); err == nil {
			return pickManifest(ctx, r, idx)
		}
	}
	imgs, err := r.Nodes(ctx, store.NodeQuery{Kind: graph.KindImage})
	if err != nil {
		return graph.Node{}, err
	}
	var found []graph.Node
	for _, n := range imgs {
		for _, x := range listAttr(n.Attrs, "references") {
			if x == target {
				found = append(found, n)
				break
			}
		}
	}
	switch len(found) {
	case 0:
		return graph.Node{}, fmt.Errorf("%w: image %s has not been scanned; run 'tether scan image %s' first", ErrUnknownTarget, target, target)
	case 1:
		return found[0], nil
	}
	var ds []string
	for _, f := range found {
		ds = append(ds, f.ID.Key())
	}
	return graph.Node{}, fmt.Errorf("%s names %d images (%s): trace one by digest", target, len(found), strings.Join(ds, ", "))
}

// pickManifest chooses the linux/amd64 manifest of an index, or its only manifest.
func pickManifest(ctx context.Context, r Reader, idx graph.Node) (graph.Node, error) {
	es, err := r.Edges(ctx, store.EdgeQuery{From: idx.ID, Kind: graph.EdgeHasManifest})
	if err != nil {
		return graph.Node{}, err
	}
	if len(es) == 0 {
		return graph.Node{}, fmt.Errorf("image index %s has no scanned manifests", idx.ID.Key())
	}
	pick := es[0]
	for _, e := range es {
		if p, _ := e.Attrs["platform"].(string); p == "linux/amd64" {
			pick = e
		}
	}
	return r.Node(ctx, pick.To)
}

func listAttr(attrs map[string]any, k string) []string {
	xs, _ := attrs[k].([]any)
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func tracePod(ctx context.Context, r Reader, w graph.Node) (*Trace, error) {
	t := &Trace{Subject: ref(w)}
	// The controller chain, up to a few levels (owner references can loop in a
	// hostile snapshot).
	cur, seen := w, map[graph.ID]bool{w.ID: true}
	for range 6 {
		owners, err := r.Edges(ctx, store.EdgeQuery{From: cur.ID, Kind: graph.EdgeControlledBy})
		if err != nil {
			return nil, err
		}
		var next graph.Node
		for _, oe := range owners {
			o, err := r.Node(ctx, oe.To)
			if err != nil {
				return nil, err
			}
			t.Controllers = append(t.Controllers, step2(cur, oe, o))
			if c, _ := oe.Attrs["controller"].(bool); c && !seen[o.ID] {
				next = o
			}
		}
		if next.ID == "" {
			break
		}
		seen[next.ID] = true
		cur = next
	}
	cs, err := r.Edges(ctx, store.EdgeQuery{To: w.ID, Kind: graph.EdgeInWorkload})
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		t.Chains = append(t.Chains, Chain{Gaps: []string{"the pod has no containers in the snapshot"}})
	}
	for _, ce := range cs {
		c, err := r.Node(ctx, ce.From)
		if err != nil {
			return nil, err
		}
		ch := Chain{Container: c.String("name")}
		ch.Steps = append(ch.Steps, step2(w, ce, c))
		runs, err := r.Edges(ctx, store.EdgeQuery{From: c.ID, Kind: graph.EdgeRuns})
		if err != nil {
			return nil, err
		}
		if len(runs) == 0 {
			ch.Gaps = append(ch.Gaps, "no running image digest reported for this container (not started, or the runtime reports no digest)")
		}
		for _, re := range runs {
			img, err := r.Node(ctx, re.To)
			if err != nil {
				return nil, err
			}
			ch.Steps = append(ch.Steps, step2(c, re, img))
			if img.Stub {
				// The pod may report an index digest; follow it to the platform manifest.
				if idx, err := r.Node(ctx, graph.ImageIndexID(img.ID.Key())); err == nil {
					m, err := pickManifest(ctx, r, idx)
					if err != nil {
						return nil, err
					}
					img = m
				}
			}
			if err := traceImage(ctx, r, img, &ch); err != nil {
				return nil, err
			}
		}
		t.Chains = append(t.Chains, ch)
	}
	sort.Slice(t.Chains, func(i, j int) bool { return t.Chains[i].Container < t.Chains[j].Container })
	return t, nil
}

func step2(from graph.Node, e graph.Edge, to graph.Node) Step {
	s := Step{From: ref(from), Link: e.Kind, To: ref(to), Method: e.Method, Confidence: e.Confidence, Evidence: e.Evidence}
	if e.Kind == graph.EdgeBuiltWith {
		var a struct {
			Matches []Match `json:"matches"`
		}
		if graph.DecodeAttrs(e.Attrs, &a) == nil {
			s.Lines = a.Matches
		}
	}
	return s
}

// traceImage appends image → commit → repo, image → Dockerfile → owner.
func traceImage(ctx context.Context, r Reader, img graph.Node, ch *Chain) error {
	if img.Stub {
		ref := img.String("reference")
		if ref == "" {
			ref = img.ID.Key()
		}
		ch.Gaps = append(ch.Gaps, fmt.Sprintf("image %s has not been scanned: run 'tether scan image %s'", img.ID.Key(), ref))
		// A build record links even an image no scan has read.
		built, err := r.Edges(ctx, store.EdgeQuery{From: img.ID, Kind: graph.EdgeBuiltFrom})
		if err != nil {
			return err
		}
		for _, be := range built {
			c, err := r.Node(ctx, be.To)
			if err != nil {
				return err
			}
			ch.Steps = append(ch.Steps, step2(img, be, c))
		}
		return nil
	}
	bases, err := r.Edges(ctx, store.EdgeQuery{From: img.ID, Kind: graph.EdgeBaseImage})
	if err != nil {
		return err
	}
	for _, be := range bases {
		base, err := r.Node(ctx, be.To)
		if err != nil {
			return err
		}
		ch.Steps = append(ch.Steps, step2(img, be, base))
	}
	built, err := r.Edges(ctx, store.EdgeQuery{From: img.ID, Kind: graph.EdgeBuiltFrom})
	if err != nil {
		return err
	}
	sort.SliceStable(built, func(i, j int) bool { return built[i].Confidence > built[j].Confidence })
	if len(built) == 0 {
		ch.Gaps = append(ch.Gaps, gapNoCommit(img))
		why, err := contentGap(ctx, r, img)
		if err != nil {
			return err
		}
		ch.Gaps = append(ch.Gaps, why)
	}
	commits := map[graph.ID]bool{}
	for _, be := range built {
		commits[be.To] = true
		c, err := r.Node(ctx, be.To)
		if err != nil {
			return err
		}
		ch.Steps = append(ch.Steps, step2(img, be, c))
		if c.Stub {
			continue
		}
		repos, err := r.Edges(ctx, store.EdgeQuery{From: c.ID, Kind: graph.EdgeInRepo})
		if err != nil {
			return err
		}
		for _, re := range repos {
			repo, err := r.Node(ctx, re.To)
			if err != nil {
				return err
			}
			ch.Steps = append(ch.Steps, step2(c, re, repo))
		}
	}
	// A content match links every commit of its equivalence range: that is one
	// answer, not a disagreement.
	claims := map[graph.ID]bool{}
	rangeSize := 0
	for _, be := range built {
		if be.Method == MethodBlobMatch {
			rangeSize++
			claims["range"] = true
			continue
		}
		claims[be.To] = true
	}
	if rangeSize > 1 {
		ch.Gaps = append(ch.Gaps, fmt.Sprintf("the image's files are identical in %d commits: any of them may be the one built (the commits between changed other files only)", rangeSize))
	}
	if len(claims) > 1 {
		ch.Gaps = append(ch.Gaps, fmt.Sprintf("the evidence names %d different commits: check which label or build record is wrong", len(commits)))
	}
	conflicts, err := r.Edges(ctx, store.EdgeQuery{To: img.ID, Kind: graph.EdgeFindingOn})
	if err != nil {
		return err
	}
	for _, fe := range conflicts {
		f, err := r.Node(ctx, fe.From)
		if err != nil {
			return err
		}
		if f.String("type") == FindingLineageConflict {
			ch.Gaps = append(ch.Gaps, "the image's labels are wrong: "+f.String("detail"))
		}
	}
	dfs, err := r.Edges(ctx, store.EdgeQuery{From: img.ID, Kind: graph.EdgeBuiltWith})
	if err != nil {
		return err
	}
	if len(dfs) == 0 && len(built) > 0 {
		ch.Gaps = append(ch.Gaps, "no Dockerfile in the commit explains the image history well enough to link (it may have been built without one, or from another repository)")
	}
	for _, de := range dfs {
		f, err := r.Node(ctx, de.To)
		if err != nil {
			return err
		}
		ch.Steps = append(ch.Steps, step2(img, de, f))
		owners, err := r.Edges(ctx, store.EdgeQuery{From: f.ID, Kind: graph.EdgeOwnedBy})
		if err != nil {
			return err
		}
		for _, oe := range owners {
			o, err := r.Node(ctx, oe.To)
			if err != nil {
				return err
			}
			ch.Steps = append(ch.Steps, step2(f, oe, o))
		}
		if len(owners) == 0 {
			ch.Gaps = append(ch.Gaps, "no CODEOWNERS rule covers "+f.String("path"))
		}
	}
	return nil
}

func gapNoCommit(img graph.Node) string {
	c := labelClaimOf(img)
	switch {
	case c.source == "" || c.revision == "":
		return "the image carries no source/revision labels"
	case !hexSHA.MatchString(c.revision):
		return fmt.Sprintf("label %s=%s names a branch or tag, not a commit", c.revisionKey, c.revision)
	default:
		return fmt.Sprintf("label %s=%s names a commit that is not in the scanned repository %s (or matches several): the label may be wrong, or run 'tether scan repo' on a clone that has it",
			c.revisionKey, c.revision, graph.NormalizeRepoURL(c.source))
	}
}

// contentGap says why the content match linked no commit.
func contentGap(ctx context.Context, r Reader, img graph.Node) (string, error) {
	files, recorded, err := imageFiles(ctx, r, img.String("digest"))
	if err != nil {
		return "", err
	}
	if !recorded {
		return "its files were not recorded for the content match: scan it again ('tether scan image')", nil
	}
	ms, err := matchFiles(ctx, r, files)
	if err != nil {
		return "", err
	}
	if len(ms) == 0 {
		return "content match: none of its files is in the history of a scanned repository (run 'tether scan repo' on the repository it was built from)", nil
	}
	top := ms[0]
	ci, err := ciRepoSet(ctx, r, img)
	if err != nil {
		return "", err
	}
	decideContent(ms, ci)
	why := cmp.Or(ms[0].Reason, top.Reason, "no commit holds all its files")
	return fmt.Sprintf("content match with %s: %s", graph.NormalizeRepoURL(top.Repo), why), nil
}
