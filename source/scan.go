package source

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/tether-sec/tether/dockerfile"
	"github.com/tether-sec/tether/graph"
)

// File roles.
const (
	roleDockerfile = "dockerfile"
	roleCodeowners = "codeowners"
)

// Size limits for the files ScanRepo reads: larger ones are recorded with a
// parse_error. GitHub ignores CODEOWNERS files over 3 MB.
const (
	maxDockerfileSize = 1 << 20
	maxCodeownersSize = 3 << 20
)

// scan holds the state of one ScanRepo call.
type scan struct {
	ctx  context.Context
	repo *git.Repository
	root string
	log  *slog.Logger

	url      string // the repository's identity as given to the graph ID constructors
	repoID   graph.ID
	remotes  map[string]string
	headName string // "refs/heads/main", or "HEAD" when detached
	head     plumbing.Hash
	branches map[string]string // branch name → commit SHA
	tags     map[string]string // tag name → commit SHA (annotated tags peeled)
	tips     []plumbing.Hash   // branch and tag commits, by ref name

	commits  []*object.Commit // indexed commits, HEAD first, then newest first
	included map[plumbing.Hash]bool

	// The facts found so far; batch sorts them into a graph.Batch.
	nodes   []graph.Node
	nodeIdx map[graph.ID]int
	edges   []keyedEdge
	edgeIdx map[string]bool

	treeMemo map[plumbing.Hash][]treeFile // tree → its Dockerfiles and CODEOWNERS files
	fileDone map[graph.ID]bool
	evidence map[graph.ID]graph.Evidence      // the contains evidence of each file node
	dfAttrs  map[plumbing.Hash]map[string]any // parsed Dockerfile attributes by blob
	coAttrs  map[plumbing.Hash]map[string]any // parsed CODEOWNERS attributes by blob
	coRules  map[plumbing.Hash][]ownerRule
	coPath   string // the CODEOWNERS file that applies at HEAD
}

// treeFile is a blob in a tree, with its path relative to that tree.
type treeFile struct {
	path string
	hash plumbing.Hash
	mode filemode.FileMode
}

func newScan(ctx context.Context, repo *git.Repository, root string, log *slog.Logger) (*scan, error) {
	s := &scan{
		ctx: ctx, repo: repo, root: root, log: log,
		remotes:  map[string]string{},
		branches: map[string]string{},
		tags:     map[string]string{},
		included: map[plumbing.Hash]bool{},
		treeMemo: map[plumbing.Hash][]treeFile{},
		fileDone: map[graph.ID]bool{},
		evidence: map[graph.ID]graph.Evidence{},
		dfAttrs:  map[plumbing.Hash]map[string]any{},
		coAttrs:  map[plumbing.Hash]map[string]any{},
		coRules:  map[plumbing.Hash][]ownerRule{},
		nodeIdx:  map[graph.ID]int{},
		edgeIdx:  map[string]bool{},
	}
	cfg, err := repo.Config()
	if err != nil {
		return nil, fmt.Errorf("source: reading the git config of %s: %w", root, err)
	}
	for name, rc := range cfg.Remotes {
		if len(rc.URLs) > 0 {
			s.remotes[name] = redactURL(rc.URLs[0]) // credentials never reach the graph
		}
	}
	s.url = repoURL(s.remotes, root)
	s.repoID = graph.RepoID(s.url)

	if s.head, s.headName, err = headCommit(repo, root); err != nil {
		return nil, err
	}
	refs, err := repo.References()
	if err != nil {
		return nil, fmt.Errorf("source: listing the refs of %s: %w", root, err)
	}
	type tip struct {
		name string
		hash plumbing.Hash
	}
	var tips []tip
	err = refs.ForEach(func(ref *plumbing.Reference) error {
		n := ref.Name()
		if !n.IsBranch() && !n.IsTag() {
			return nil
		}
		if ref.Type() != plumbing.HashReference {
			return nil // a symbolic branch points at another branch
		}
		h, ok, err := s.peel(ref.Hash())
		if err != nil {
			return err
		}
		if !ok {
			s.log.Debug("ref does not point at a commit", "ref", n.String())
			return nil
		}
		if n.IsBranch() {
			s.branches[n.Short()] = h.String()
		} else {
			s.tags[n.Short()] = h.String()
		}
		tips = append(tips, tip{n.String(), h})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("source: reading the refs of %s: %w", root, err)
	}
	sort.Slice(tips, func(i, j int) bool { return tips[i].name < tips[j].name })
	for _, t := range tips {
		s.tips = append(s.tips, t.hash)
	}
	return s, nil
}

// peel follows annotated tags to the commit they name. It reports false for a
// ref that names a tree or blob, or an object missing from a shallow clone.
func (s *scan) peel(h plumbing.Hash) (plumbing.Hash, bool, error) {
	for range 16 {
		obj, err := s.repo.Storer.EncodedObject(plumbing.AnyObject, h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return h, false, nil
		}
		if err != nil {
			return h, false, err
		}
		switch obj.Type() {
		case plumbing.CommitObject:
			return h, true, nil
		case plumbing.TagObject:
			tag, err := object.DecodeTag(s.repo.Storer, obj)
			if err != nil {
				return h, false, err
			}
			h = tag.Target
		default:
			return h, false, nil
		}
	}
	return h, false, nil
}

// commitHeap orders commits newest first by committer date, then by hash.
type commitHeap []*object.Commit

func (h commitHeap) Len() int { return len(h) }
func (h commitHeap) Less(i, j int) bool {
	ti, tj := h[i].Committer.When, h[j].Committer.When
	if !ti.Equal(tj) {
		return ti.After(tj)
	}
	return h[i].Hash.String() < h[j].Hash.String()
}
func (h commitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *commitHeap) Push(x any)   { *h = append(*h, x.(*object.Commit)) }
func (h *commitHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// walkCommits collects the commits reachable from HEAD and the branch and tag
// tips, HEAD first and then newest first, at most max of them (0: all).
func (s *scan) walkCommits(max int) error {
	seen := map[plumbing.Hash]bool{}
	var queue commitHeap
	push := func(h plumbing.Hash) error {
		if seen[h] {
			return nil
		}
		seen[h] = true
		c, err := s.repo.CommitObject(h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			s.log.Debug("commit missing from the object store (shallow clone?)", "commit", h.String())
			return nil
		}
		if err != nil {
			return fmt.Errorf("source: reading commit %s: %w", h, err)
		}
		heap.Push(&queue, c)
		return nil
	}
	take := func(c *object.Commit) error {
		s.commits = append(s.commits, c)
		s.included[c.Hash] = true
		for _, p := range c.ParentHashes {
			if err := push(p); err != nil {
				return err
			}
		}
		return nil
	}

	seen[s.head] = true
	headC, err := s.repo.CommitObject(s.head)
	if err != nil {
		return fmt.Errorf("source: reading HEAD commit %s: %w", s.head, err)
	}
	if err := take(headC); err != nil {
		return err
	}
	for _, h := range s.tips {
		if err := push(h); err != nil {
			return err
		}
	}
	for queue.Len() > 0 && (max <= 0 || len(s.commits) < max) {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		if err := take(heap.Pop(&queue).(*object.Commit)); err != nil {
			return err
		}
	}
	return nil
}

type commitAttrs struct {
	SHA            string   `json:"sha"`
	AuthorName     string   `json:"author_name,omitempty"`
	AuthorEmail    string   `json:"author_email,omitempty"`
	CommitterName  string   `json:"committer_name,omitempty"`
	CommitterEmail string   `json:"committer_email,omitempty"`
	AuthoredAt     string   `json:"authored_at,omitempty"`
	CommittedAt    string   `json:"committed_at,omitempty"`
	Subject        string   `json:"subject,omitempty"`
	Parents        []string `json:"parents,omitempty"`
}

func shortSHA(h plumbing.Hash) string { return h.String()[:7] }

func (s *scan) commitID(h plumbing.Hash) graph.ID { return graph.CommitID(s.url, h.String()) }

// addCommit adds a commit, its edges to the repository, its parents and its
// author, and the Dockerfiles and CODEOWNERS files in its tree.
func (s *scan) addCommit(c *object.Commit) error {
	id := s.commitID(c.Hash)
	sha := c.Hash.String()
	a := commitAttrs{
		SHA:            sha,
		AuthorName:     c.Author.Name,
		AuthorEmail:    c.Author.Email,
		CommitterName:  c.Committer.Name,
		CommitterEmail: c.Committer.Email,
		AuthoredAt:     c.Author.When.Format(time.RFC3339),
		CommittedAt:    c.Committer.When.Format(time.RFC3339),
		Subject:        subject(c.Message),
	}
	for _, p := range c.ParentHashes {
		a.Parents = append(a.Parents, p.String())
	}
	s.addNode(graph.Node{ID: id, Kind: graph.KindCommit, Name: shortSHA(c.Hash), Attrs: graph.Attrs(a)})
	s.link(id, graph.EdgeInRepo, s.repoID, methodGit, 1, graph.Evidence{Source: "git", Detail: "commit " + sha})

	for i, p := range c.ParentHashes {
		pid := s.commitID(p)
		if !s.included[p] {
			// Beyond MaxCommits or missing from a shallow clone: only referenced.
			s.addNode(graph.Node{ID: pid, Kind: graph.KindCommit, Name: shortSHA(p), Stub: true, Attrs: map[string]any{"sha": p.String()}})
		}
		s.addEdge(graph.Edge{
			From: id, Kind: graph.EdgeParent, To: pid, Method: methodGit, Confidence: 1,
			Evidence: []graph.Evidence{{Source: "git", Detail: fmt.Sprintf("commit %s parent %s", sha, p)}},
			Attrs:    map[string]any{"position": float64(i + 1)},
		})
	}

	if email := strings.TrimSpace(c.Author.Email); email != "" {
		oid := graph.OwnerID(email)
		if !s.hasNode(oid) {
			s.addNode(graph.Node{ID: oid, Kind: graph.KindOwner, Name: c.Author.Name, Attrs: map[string]any{"type": "email", "email": email}})
		}
		s.link(id, graph.EdgeAuthoredBy, oid, methodGit, 1, graph.Evidence{Source: "git", Detail: fmt.Sprintf("author %s <%s>", c.Author.Name, c.Author.Email)})
	}

	files, err := s.interesting(c.TreeHash)
	if err != nil {
		return err
	}
	for _, f := range files {
		role := roleFor(f.path, f.mode)
		if role == "" {
			continue // a CODEOWNERS file where GitHub does not look
		}
		fid, err := s.addFile(f, role)
		if err != nil {
			return err
		}
		s.linkContains(id, fid, f)
	}
	return nil
}

func subject(msg string) string {
	line, _, _ := strings.Cut(msg, "\n")
	return strings.TrimSpace(line)
}

// roleFor gives a blob's role by its path; only regular files have one.
func roleFor(p string, mode filemode.FileMode) string {
	if mode != filemode.Regular && mode != filemode.Executable && mode != filemode.Deprecated {
		return ""
	}
	switch {
	case isCodeownersPath(p):
		return roleCodeowners
	case dockerfile.IsDockerfile(p):
		return roleDockerfile
	case isCIWorkflowPath(p):
		return roleCIWorkflow
	}
	return ""
}

func (s *scan) linkContains(commit, file graph.ID, f treeFile) {
	ev, ok := s.evidence[file]
	if !ok {
		ev = graph.Evidence{Source: "git-tree", Detail: fmt.Sprintf("%s blob %s\t%s", f.mode, f.hash, f.path)}
		s.evidence[file] = ev
	}
	s.link(commit, graph.EdgeContains, file, methodGitTree, 1, ev)
}

// interesting returns the Dockerfiles and files named CODEOWNERS under tree h,
// paths relative to it. Results are memoized by tree hash, so each distinct tree
// in the history is read once.
func (s *scan) interesting(h plumbing.Hash) ([]treeFile, error) {
	if fs, ok := s.treeMemo[h]; ok {
		return fs, nil
	}
	if err := s.ctx.Err(); err != nil {
		return nil, err
	}
	t, err := s.repo.TreeObject(h)
	if err != nil {
		return nil, fmt.Errorf("source: reading tree %s: %w", h, err)
	}
	var out []treeFile
	for _, e := range t.Entries {
		switch {
		case e.Mode == filemode.Dir:
			sub, err := s.interesting(e.Hash)
			if err != nil {
				return nil, err
			}
			for _, f := range sub {
				out = append(out, treeFile{path: e.Name + "/" + f.path, hash: f.hash, mode: f.mode})
			}
		case e.Mode.IsFile() && (e.Name == "CODEOWNERS" || dockerfile.IsDockerfile(e.Name)):
			out = append(out, treeFile{path: e.Name, hash: e.Hash, mode: e.Mode})
		}
	}
	s.treeMemo[h] = out
	return out, nil
}

// walkTree lists every blob under tree h (not submodules), with full paths.
func (s *scan) walkTree(h plumbing.Hash, prefix string, out []treeFile) ([]treeFile, error) {
	if err := s.ctx.Err(); err != nil {
		return nil, err
	}
	t, err := s.repo.TreeObject(h)
	if err != nil {
		return nil, fmt.Errorf("source: reading tree %s: %w", h, err)
	}
	for _, e := range t.Entries {
		p := prefix + e.Name
		switch {
		case e.Mode == filemode.Dir:
			if out, err = s.walkTree(e.Hash, p+"/", out); err != nil {
				return nil, err
			}
		case e.Mode.IsFile():
			out = append(out, treeFile{path: p, hash: e.Hash, mode: e.Mode})
		}
	}
	return out, nil
}

type fileAttrs struct {
	Path string `json:"path"`
	Blob string `json:"blob"`
	Size int64  `json:"size"`
	Mode string `json:"mode"`
	Role string `json:"role,omitempty"`
}

// addFile adds the file node of blob f at its path and returns its ID.
func (s *scan) addFile(f treeFile, role string) (graph.ID, error) {
	id := graph.FileID(s.url, f.path, f.hash.String())
	if s.fileDone[id] {
		return id, nil
	}
	s.fileDone[id] = true
	size, err := s.blobSize(f.hash)
	if err != nil {
		return "", err
	}
	attrs := graph.Attrs(fileAttrs{Path: f.path, Blob: f.hash.String(), Size: size, Mode: f.mode.String(), Role: role})
	var content map[string]any
	switch role {
	case roleDockerfile:
		content, err = s.dockerfileAttrs(f.hash, size)
	case roleCodeowners:
		content, err = s.codeownersAttrs(f.hash, size)
	case roleCIWorkflow:
		content, err = s.workflowAttrs(f.path, f.hash, size)
	}
	if err != nil {
		return "", err
	}
	for k, v := range content {
		attrs[k] = v
	}
	s.addNode(graph.Node{ID: id, Kind: graph.KindFile, Name: f.path, Attrs: attrs})
	return id, nil
}

type sizer interface {
	EncodedObjectSize(plumbing.Hash) (int64, error)
}

func (s *scan) blobSize(h plumbing.Hash) (int64, error) {
	if sz, ok := s.repo.Storer.(sizer); ok {
		if n, err := sz.EncodedObjectSize(h); err == nil {
			return n, nil
		}
	}
	b, err := s.repo.BlobObject(h)
	if err != nil {
		return 0, fmt.Errorf("source: reading blob %s: %w", h, err)
	}
	return b.Size, nil
}

func (s *scan) readBlob(h plumbing.Hash) ([]byte, error) {
	b, err := s.repo.BlobObject(h)
	if err != nil {
		return nil, fmt.Errorf("source: reading blob %s: %w", h, err)
	}
	r, err := b.Reader()
	if err != nil {
		return nil, fmt.Errorf("source: reading blob %s: %w", h, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("source: reading blob %s: %w", h, err)
	}
	return data, nil
}

type dockerfileAttrs struct {
	Args         []dockerfile.Arg         `json:"args,omitempty"`
	Stages       []dockerfile.Stage       `json:"stages,omitempty"`
	Instructions []dockerfile.Instruction `json:"instructions,omitempty"`
	Warnings     []dockerfile.Warning     `json:"warnings,omitempty"`
	ParseError   string                   `json:"parse_error,omitempty"`
}

// dockerfileAttrs parses the Dockerfile in blob h, once per blob.
func (s *scan) dockerfileAttrs(h plumbing.Hash, size int64) (map[string]any, error) {
	if a, ok := s.dfAttrs[h]; ok {
		return a, nil
	}
	var a dockerfileAttrs
	if size > maxDockerfileSize {
		a.ParseError = fmt.Sprintf("Dockerfile is %d bytes, over the %d bytes tether parses", size, maxDockerfileSize)
	} else {
		data, err := s.readBlob(h)
		if err != nil {
			return nil, err
		}
		f, err := dockerfile.Parse(bytes.NewReader(data))
		if err != nil {
			a.ParseError = err.Error()
		} else {
			a = dockerfileAttrs{Args: f.Args, Stages: f.Stages, Instructions: f.Instructions, Warnings: f.Warnings}
		}
	}
	m := graph.Attrs(a)
	s.dfAttrs[h] = m
	return m, nil
}

type codeownersAttrs struct {
	Rules      []ownerRule `json:"rules,omitempty"`
	ParseError string      `json:"parse_error,omitempty"`
}

// codeownersAttrs parses the CODEOWNERS file in blob h, once per blob.
func (s *scan) codeownersAttrs(h plumbing.Hash, size int64) (map[string]any, error) {
	if a, ok := s.coAttrs[h]; ok {
		return a, nil
	}
	var a codeownersAttrs
	if size > maxCodeownersSize {
		a.ParseError = fmt.Sprintf("CODEOWNERS is %d bytes, over GitHub's limit of %d bytes: GitHub ignores it", size, maxCodeownersSize)
	} else {
		data, err := s.readBlob(h)
		if err != nil {
			return nil, err
		}
		var problems []string
		a.Rules, problems = parseCodeowners(data)
		a.ParseError = strings.Join(problems, "\n")
	}
	s.coRules[h] = a.Rules
	m := graph.Attrs(a)
	s.coAttrs[h] = m
	return m, nil
}

// addHeadFiles adds every file of HEAD's tree, and the owners of its Dockerfiles.
func (s *scan) addHeadFiles() error {
	headID := s.commitID(s.head)
	headC := s.commits[0]
	files, err := s.walkTree(headC.TreeHash, "", nil)
	if err != nil {
		return err
	}
	var dockerfiles []treeFile
	byPath := map[string]treeFile{}
	for _, f := range files {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		role := roleFor(f.path, f.mode)
		fid, err := s.addFile(f, role)
		if err != nil {
			return err
		}
		s.linkContains(headID, fid, f)
		byPath[f.path] = f
		if role == roleDockerfile {
			dockerfiles = append(dockerfiles, f)
		}
	}

	var co treeFile
	for _, p := range codeownersPaths {
		if f, ok := byPath[p]; ok && roleFor(f.path, f.mode) == roleCodeowners {
			co = f
			break
		}
	}
	if co.path == "" {
		return nil
	}
	s.coPath = co.path
	rules := s.coRules[co.hash]
	for _, f := range dockerfiles {
		r, ok := matchOwners(rules, f.path)
		if !ok {
			continue
		}
		fid := graph.FileID(s.url, f.path, f.hash.String())
		ev := graph.Evidence{Source: "CODEOWNERS", Detail: fmt.Sprintf("%s:%d %s", co.path, r.Line, r.Pattern)}
		for i, o := range r.Owners {
			oid := graph.OwnerID(o)
			if !s.hasNode(oid) {
				s.addNode(graph.Node{ID: oid, Kind: graph.KindOwner, Name: o, Attrs: map[string]any{"type": r.types[i]}})
			}
			s.link(fid, graph.EdgeOwnedBy, oid, methodCodeowners, 1, ev)
		}
	}
	return nil
}

type repoAttrs struct {
	Path       string            `json:"path"`
	Remotes    map[string]string `json:"remotes,omitempty"`
	Head       string            `json:"head"`
	HeadCommit string            `json:"head_commit"`
	Branches   map[string]string `json:"branches,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	Codeowners string            `json:"codeowners,omitempty"`
}

func (s *scan) addRepo() {
	s.addNode(graph.Node{
		ID:   s.repoID,
		Kind: graph.KindRepo,
		Name: s.repoID.Key(),
		Attrs: graph.Attrs(repoAttrs{
			Path:       s.root,
			Remotes:    s.remotes,
			Head:       s.headName,
			HeadCommit: s.head.String(),
			Branches:   s.branches,
			Tags:       s.tags,
			Codeowners: s.coPath,
		}),
	})
}

type keyedEdge struct {
	key string
	graph.Edge
}

// addNode records n unless a node with its ID is already recorded: the first
// observation wins (commits are visited newest first), except that an observed
// node replaces a stub.
func (s *scan) addNode(n graph.Node) {
	if i, ok := s.nodeIdx[n.ID]; ok {
		if s.nodes[i].Stub && !n.Stub {
			s.nodes[i] = n
		}
		return
	}
	s.nodeIdx[n.ID] = len(s.nodes)
	s.nodes = append(s.nodes, n)
}

func (s *scan) hasNode(id graph.ID) bool {
	_, ok := s.nodeIdx[id]
	return ok
}

// addEdge records e unless the same edge is already recorded.
func (s *scan) addEdge(e graph.Edge) {
	k := e.Key()
	if s.edgeIdx[k] {
		return
	}
	s.edgeIdx[k] = true
	s.edges = append(s.edges, keyedEdge{k, e})
}

func (s *scan) link(from graph.ID, kind graph.EdgeKind, to graph.ID, method string, confidence float64, ev graph.Evidence) {
	s.addEdge(graph.Edge{From: from, Kind: kind, To: to, Method: method, Confidence: confidence, Evidence: []graph.Evidence{ev}})
}

// batch returns the facts as a batch, nodes ordered by ID and edges by key, so
// that the same repository always gives the same batch.
func (s *scan) batch(at time.Time) *graph.Batch {
	b := graph.NewBatch("repo", s.root, at)
	sort.Slice(s.nodes, func(i, j int) bool { return s.nodes[i].ID < s.nodes[j].ID })
	sort.Slice(s.edges, func(i, j int) bool { return s.edges[i].key < s.edges[j].key })
	b.Nodes = make([]graph.Node, 0, len(s.nodes))
	b.Edges = make([]graph.Edge, 0, len(s.edges))
	for _, n := range s.nodes {
		b.AddNode(n)
	}
	for _, e := range s.edges {
		b.AddEdge(e.Edge)
	}
	return b
}

type workflowAttrs struct {
	Builds     []CIBuild `json:"builds,omitempty"`
	ParseError string    `json:"parse_error,omitempty"`
}

// workflowAttrs reads the image builds of the CI workflow at p (blob h).
func (s *scan) workflowAttrs(p string, h plumbing.Hash, size int64) (map[string]any, error) {
	var a workflowAttrs
	if size > maxWorkflowSize {
		a.ParseError = fmt.Sprintf("workflow is %d bytes, over the %d bytes tether reads", size, maxWorkflowSize)
		return graph.Attrs(a), nil
	}
	data, err := s.readBlob(h)
	if err != nil {
		return nil, err
	}
	builds, err := ParseCIWorkflow(p, data, s.url)
	if err != nil {
		a.ParseError = err.Error()
	}
	a.Builds = builds
	return graph.Attrs(a), nil
}
