package lineage

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/store"
)

// MethodBlobMatch links an image to the commits whose trees hold its files.
const MethodBlobMatch = "git-blob-match"

// ImageFilesKind is the document kind of an image's application files (by
// manifest digest): the input of the content match.
const ImageFilesKind = "image-files"

// Content match thresholds.
const (
	// minMatchedFiles: fewer files than this in common with a repository prove
	// nothing (a licence, a config file copied everywhere).
	minMatchedFiles = 2
	// maxRangeLinks: an equivalence range longer than this is reported, not
	// linked: the files say which repository, not which of that many commits.
	maxRangeLinks = 50
	// confBlobMatch is the confidence of a content link: every file the
	// repository ever held is at the version of the linked commit.
	confBlobMatch = 0.9
)

// EncodeImageFiles encodes an image's files for the ImageFilesKind document.
func EncodeImageFiles(files []graph.FileBlob) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(files); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// imageFiles reads the ImageFilesKind document of the image with the given
// digest. recorded is false when there is none (an image scanned by an older
// tether, or not scanned): then it has no files.
func imageFiles(ctx context.Context, r Reader, digest string) (files []graph.FileBlob, recorded bool, err error) {
	if digest == "" {
		return nil, false, nil
	}
	doc, err := r.Document(ctx, ImageFilesKind, digest)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	files, err = decodeImageFiles(doc)
	if err != nil {
		return nil, false, fmt.Errorf("image files of %s: %w", digest, err)
	}
	return files, true, nil
}

func decodeImageFiles(b []byte) ([]graph.FileBlob, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var files []graph.FileBlob
	if err := json.NewDecoder(io.LimitReader(zr, 1<<30)).Decode(&files); err != nil {
		return nil, err
	}
	return files, nil
}

// ContentMatch is what the content match found for one image in one repository.
type ContentMatch struct {
	Repo string `json:"repo"`
	// Mappings are the image directories and the repository directories whose
	// files they hold ("app" ← "services/api"), by how many files support each.
	Mappings []PathMapping `json:"mappings"`
	// Files is how many of the image's files the repository ever held at the
	// mapped path; Unknown how many image files it never held.
	Files   int `json:"files"`
	Unknown int `json:"unknown,omitempty"`
	// Best are the commits whose trees hold every one of those files at the
	// image's version (the equivalence range), oldest first; empty when none
	// does. Mismatch is then the fewest files any commit holds at another
	// version (or not at all).
	Best     []string `json:"best,omitempty"`
	Mismatch int      `json:"mismatch,omitempty"`
	// Linked says whether built_from edges were drawn, and Reason why not.
	Linked bool   `json:"linked"`
	Reason string `json:"reason,omitempty"`
}

// PathMapping maps an image directory to a repository directory.
type PathMapping struct {
	Image   string `json:"image"`
	Repo    string `json:"repo"`
	Support int    `json:"support"`
}

// MatchContent compares the files of the image with the given manifest digest
// (its ImageFilesKind document) with the blob index, repository by repository,
// best first. No document or no index gives no matches.
func MatchContent(ctx context.Context, r Reader, digest string) ([]ContentMatch, error) {
	files, _, err := imageFiles(ctx, r, digest)
	if err != nil {
		return nil, err
	}
	return matchFiles(ctx, r, files)
}

// matchFiles is MatchContent on files already read.
func matchFiles(ctx context.Context, r Reader, files []graph.FileBlob) ([]ContentMatch, error) {
	byBlob := map[string][]graph.FileBlob{}
	var blobs []string
	for _, f := range files {
		if f.Size == 0 || f.Blob == "" {
			continue // the empty blob is in every repository; a file too large to hash
		}
		if _, ok := byBlob[f.Blob]; !ok {
			blobs = append(blobs, f.Blob)
		}
		byBlob[f.Blob] = append(byBlob[f.Blob], f)
	}
	if len(blobs) == 0 {
		return nil, nil
	}
	held, err := r.BlobPaths(ctx, blobs)
	if err != nil {
		return nil, err
	}
	byRepo := map[string][]store.BlobPath{}
	for _, bp := range held {
		byRepo[bp.Repo] = append(byRepo[bp.Repo], bp)
	}
	var out []ContentMatch
	for repo, bps := range byRepo {
		m, err := matchRepo(ctx, r, repo, byBlob, bps)
		if err != nil {
			return nil, err
		}
		if m != nil {
			out = append(out, *m)
		}
	}
	slices.SortFunc(out, func(a, b ContentMatch) int {
		return cmp.Or(cmp.Compare(b2i(len(b.Best) > 0), b2i(len(a.Best) > 0)), cmp.Compare(b.Files, a.Files), strings.Compare(a.Repo, b.Repo))
	})
	return out, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// matchRepo maps the image's files into one repository and finds the commits
// that hold all of them.
func matchRepo(ctx context.Context, r Reader, repo string, byBlob map[string][]graph.FileBlob, held []store.BlobPath) (*ContentMatch, error) {
	// Every (image file, repository path) pair with the same blob proposes a
	// mapping: the directories above their longest common tail of path elements.
	type proposal struct{ img, repo string }
	support := map[proposal]map[string]bool{}
	filePaths := map[string][]proposal{} // image path → the mappings it proposes
	for _, bp := range held {
		for _, f := range byBlob[bp.Blob] {
			img, rp, ok := commonTail(f.Path, bp.Path)
			if !ok {
				continue
			}
			p := proposal{img, rp}
			if support[p] == nil {
				support[p] = map[string]bool{}
			}
			support[p][f.Path] = true
			filePaths[f.Path] = append(filePaths[f.Path], p)
		}
	}
	// Each image file takes the best-supported mapping it proposes.
	expected := map[string]string{} // repository path → the image's blob
	imgOf := map[string]string{}    // repository path → image path
	used := map[proposal]int{}
	imgBlob := map[string]string{}
	for blob, fs := range byBlob {
		for _, f := range fs {
			imgBlob[f.Path] = blob
		}
	}
	for ip, props := range filePaths {
		best := props[0]
		for _, p := range props[1:] {
			if s, t := len(support[p]), len(support[best]); s > t || s == t && (p.img+"\x00"+p.repo) < (best.img+"\x00"+best.repo) {
				best = p
			}
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(ip, best.img), "/")
		rp := path.Join(best.repo, rel)
		if prev, dup := imgOf[rp]; dup && prev < ip {
			continue // two image files map to one repository path: keep one
		}
		expected[rp] = imgBlob[ip]
		imgOf[rp] = ip
		used[best]++
	}
	// Image files the repository never held, under a mapped directory: at a
	// commit that has a file at the mapped path, they contradict it (the image
	// holds another version: a local change, or another commit).
	absent := map[string]string{} // repository path → image path
	for _, fs := range byBlob {
		for _, f := range fs {
			if _, matched := filePaths[f.Path]; matched {
				continue
			}
			var best *proposal
			for p := range used {
				if p.img != "" && f.Path != p.img && !strings.HasPrefix(f.Path, p.img+"/") {
					continue
				}
				if best == nil || used[p] > used[*best] || used[p] == used[*best] && p.img+"\x00"+p.repo < best.img+"\x00"+best.repo {
					best = &p
				}
			}
			if best == nil {
				continue
			}
			rp := path.Join(best.repo, strings.TrimPrefix(strings.TrimPrefix(f.Path, best.img), "/"))
			if _, taken := expected[rp]; !taken {
				absent[rp] = f.Path
			}
		}
	}
	m := &ContentMatch{Repo: repo, Files: len(expected), Unknown: len(absent)}
	for p, n := range used {
		m.Mappings = append(m.Mappings, PathMapping{Image: p.img, Repo: p.repo, Support: n})
	}
	slices.SortFunc(m.Mappings, func(a, b PathMapping) int {
		return cmp.Or(cmp.Compare(b.Support, a.Support), strings.Compare(a.Image, b.Image), strings.Compare(a.Repo, b.Repo))
	})
	if len(expected) < minMatchedFiles {
		m.Reason = fmt.Sprintf("%d file(s) in common, fewer than %d", len(expected), minMatchedFiles)
		return m, nil
	}

	paths := make([]string, 0, len(expected)+len(absent))
	for p := range expected {
		paths = append(paths, p)
	}
	for p := range absent {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	commits, err := r.GitCommits(ctx, repo)
	if err != nil {
		return nil, err
	}
	changes, err := r.GitChanges(ctx, repo, paths)
	if err != nil {
		return nil, err
	}
	best, mismatch := bestCommits(commits, changes, expected, absent)
	m.Best, m.Mismatch = best, mismatch
	switch {
	case len(best) == 0:
		m.Reason = fmt.Sprintf("no indexed commit holds all %d files the image shares with the repository at their image version; the closest differs in %d (a build from uncommitted changes, or from a commit not indexed)", len(expected), mismatch)
	case len(best) > maxRangeLinks:
		m.Reason = fmt.Sprintf("%d commits hold the same %d files: too many to link", len(best), len(expected))
	}
	return m, nil
}

// commonTail splits two paths into their parents above the longest common tail of
// path elements: "app/src/x.py" and "svc/src/x.py" give "app", "svc". No common
// tail (a file renamed when copied) gives false.
func commonTail(img, repo string) (string, string, bool) {
	a, b := strings.Split(img, "/"), strings.Split(repo, "/")
	k := 0
	for k < len(a) && k < len(b) && a[len(a)-1-k] == b[len(b)-1-k] {
		k++
	}
	if k == 0 {
		return "", "", false
	}
	return strings.Join(a[:len(a)-k], "/"), strings.Join(b[:len(b)-k], "/"), true
}

// bestCommits returns the commits whose trees hold every expected path at its
// expected blob and none of the absent paths, oldest first, or, when none does,
// the smallest number of paths in conflict over all commits.
func bestCommits(commits []graph.GitCommit, changes []graph.GitChange, expected map[string]string, absent map[string]string) ([]string, int) {
	byCommit := map[string][]graph.GitChange{}
	for _, c := range changes {
		byCommit[c.Commit] = append(byCommit[c.Commit], c)
	}
	index := make(map[string]int, len(commits))
	for i, c := range commits {
		index[c.Hash] = i
	}
	// mismatch[i]: how many expected paths commit i holds at another blob or
	// not at all; the state follows the first-parent chain, so a commit is
	// computed after its first parent.
	mismatch := make([]int, len(commits))
	done := make([]bool, len(commits))
	children := map[string]int{}
	for _, c := range commits {
		if c.FirstParent != "" {
			children[c.FirstParent]++
		}
	}
	order := make([]int, 0, len(commits))
	// Iterative: walk up the first-parent chain to a computed commit or a root,
	// then compute down.
	for i := range commits {
		if done[i] {
			continue
		}
		chain := []int{i}
		for {
			fp := commits[chain[len(chain)-1]].FirstParent
			j, ok := index[fp]
			if fp == "" || !ok || done[j] {
				break
			}
			chain = append(chain, j)
		}
		for k := len(chain) - 1; k >= 0; k-- {
			order = append(order, chain[k])
			done[chain[k]] = true
		}
	}
	// state[i] is the blob of each expected path at commit i, kept until its
	// last first-parent child is computed.
	state := make([]map[string]string, len(commits))
	for _, i := range order {
		c := commits[i]
		var cur map[string]string
		if j, ok := index[c.FirstParent]; ok && c.FirstParent != "" {
			parent := state[j]
			children[c.FirstParent]--
			if children[c.FirstParent] == 0 {
				cur = parent // the last child takes the parent's map
				state[j] = nil
			} else {
				cur = make(map[string]string, len(parent))
				for k, v := range parent {
					cur[k] = v
				}
			}
		} else {
			cur = map[string]string{}
		}
		for _, ch := range byCommit[c.Hash] {
			if ch.Blob == "" {
				delete(cur, ch.Path)
			} else {
				cur[ch.Path] = ch.Blob
			}
		}
		n := 0
		for p, want := range expected {
			if cur[p] != want {
				n++
			}
		}
		for p := range absent {
			if cur[p] != "" {
				n++
			}
		}
		mismatch[i] = n
		if children[c.Hash] > 0 {
			state[i] = cur
		}
	}
	var best []string
	least := len(expected) + len(absent)
	for i, c := range commits {
		if mismatch[i] == 0 {
			best = append(best, c.Hash)
		}
		least = min(least, mismatch[i])
	}
	if len(best) > 0 {
		return best, 0
	}
	return nil, least
}

// linkContent draws built_from edges from img to the commits of its content
// match of files (the image's): the equivalence range of the best repository, when that repository is
// the only one whose commits hold as many of the image's files. It returns the
// match it linked (or nil) and every repository's match.
func linkContent(ctx context.Context, r Reader, b *graph.Batch, img graph.Node, files []graph.FileBlob) (*ContentMatch, []ContentMatch, error) {
	ms, err := matchFiles(ctx, r, files)
	if err != nil || len(ms) == 0 {
		return nil, nil, err
	}
	ci, err := ciRepoSet(ctx, r, img)
	if err != nil {
		return nil, nil, err
	}
	top := decideContent(ms, ci)
	if top == nil {
		return nil, ms, nil
	}
	var maps []string
	for _, mp := range top.Mappings {
		maps = append(maps, fmt.Sprintf("/%s ← %s (%d files)", mp.Image, cmp.Or(mp.Repo, "."), mp.Support))
	}
	rangeNote := "the only indexed commit that holds them all"
	if n := len(top.Best); n > 1 {
		rangeNote = fmt.Sprintf("one of %d commits with identical content for these files (%s … %s)", n, short(top.Best[0]), short(top.Best[n-1]))
	}
	for _, sha := range top.Best {
		id := graph.CommitID(top.Repo, sha)
		b.AddNode(graph.Node{ID: id, Kind: graph.KindCommit, Name: short(sha), Stub: true,
			Attrs: map[string]any{"sha": sha, "repo": graph.NormalizeRepoURL(top.Repo)}})
		b.AddEdge(graph.Edge{
			From: img.ID, Kind: graph.EdgeBuiltFrom, To: id, Method: MethodBlobMatch, Confidence: confBlobMatch,
			Evidence: []graph.Evidence{
				{Source: "blob-index", Detail: fmt.Sprintf("%d files of the image are at this commit's version in %s: %s", top.Files, graph.NormalizeRepoURL(top.Repo), strings.Join(maps, ", "))},
				{Source: "blob-index", Detail: rangeNote},
			},
			Attrs: map[string]any{"files": top.Files, "range_size": len(top.Best), "range_first": top.Best[0], "range_last": top.Best[len(top.Best)-1]},
		})
	}
	return top, ms, nil
}

// FindingLineageConflict is the type of the finding drawn when a label names a
// commit that the image's own files contradict.
const FindingLineageConflict = "lineage-conflict"

// conflict is a label contradicted by stronger evidence.
type conflict struct {
	why    string
	method string // the method whose evidence contradicts the label
}

// labelConflict says why the label links in labels are contradicted, or nil:
//   - the image's files are those of another repository (the linked content
//     match);
//   - the files differ from the tree of the label's commit, which the blob
//     index holds, while some commits of that repository hold them all (even
//     when the content match linked nothing because a fork holds them too);
//   - a build record inside the image names another commit of that repository.
func labelConflict(ctx context.Context, r Reader, labels *graph.Batch, linked *ContentMatch, all []ContentMatch, builds []BuildVote) (*conflict, error) {
	for _, e := range labels.Edges {
		if e.Kind != graph.EdgeBuiltFrom {
			continue
		}
		// A commit ID is "commit:<normalized repository>@<sha>".
		key := e.To.Key()
		at := strings.LastIndexByte(key, '@')
		if at < 0 {
			continue
		}
		repo, sha := key[:at], key[at+1:]
		if linked != nil && repo != graph.NormalizeRepoURL(linked.Repo) {
			return &conflict{fmt.Sprintf("the label names repository %s, but the image's files are those of %s", repo, graph.NormalizeRepoURL(linked.Repo)), MethodBlobMatch}, nil
		}
		for _, m := range all {
			if len(m.Best) == 0 || graph.NormalizeRepoURL(m.Repo) != repo || slices.Contains(m.Best, sha) {
				continue
			}
			cs, err := r.GitCommits(ctx, m.Repo)
			if err != nil {
				return nil, err
			}
			if slices.ContainsFunc(cs, func(c graph.GitCommit) bool { return c.Hash == sha }) {
				return &conflict{fmt.Sprintf("the label names commit %s, but the image's files differ from that commit's tree; they are those of %s", short(sha), rangeText(m.Best)), MethodBlobMatch}, nil
			}
		}
		for _, bv := range builds {
			if bv.Linked && bv.Repo == repo && !strings.EqualFold(bv.Build.Revision, sha) {
				method := MethodBuildInfo
				if bv.Build.Kind == MethodProvenance {
					method = MethodProvenance
				}
				return &conflict{fmt.Sprintf("the label names commit %s, but %s", short(sha), bv.Detail), method}, nil
			}
		}
	}
	return nil, nil
}

func rangeText(best []string) string {
	if len(best) == 1 {
		return "commit " + short(best[0])
	}
	return fmt.Sprintf("%d commits with identical content (%s … %s)", len(best), short(best[0]), short(best[len(best)-1]))
}

// addConflict records a lineage-conflict finding on the image.
func addConflict(b *graph.Batch, img graph.Node, claim labelClaim, c *conflict) {
	id := graph.FindingID(FindingLineageConflict, string(img.ID), claim.source, claim.revision)
	b.AddNode(graph.Node{ID: id, Kind: graph.KindFinding, Name: "label contradicted by the image's content", Attrs: map[string]any{
		"type": FindingLineageConflict, "detail": c.why, "method": c.method,
		"label_source": claim.source, "label_revision": claim.revision,
	}})
	b.AddEdge(graph.Edge{From: id, Kind: graph.EdgeFindingOn, To: img.ID, Method: c.method, Confidence: confBlobMatch,
		Evidence: []graph.Evidence{
			{Source: MethodLabel, Detail: claim.sourceKey + "=" + claim.source + ", " + claim.revisionKey + "=" + claim.revision},
			{Source: c.method, Detail: c.why},
		}})
}

// decideContent picks the match to link, or nil: the first match must hold all
// its files in some commit, within maxRangeLinks commits, and no other
// repository may explain as many files as completely.
//
// When several repositories explain the files equally (a fork, a copy), the one
// whose CI workflow pushes the image's repository is chosen, if exactly one
// does (ciRepos: normalized repository keys).
func decideContent(ms []ContentMatch, ciRepos map[string]bool) *ContentMatch {
	top := &ms[0]
	if len(top.Best) == 0 || len(top.Best) > maxRangeLinks || top.Files < minMatchedFiles {
		return nil
	}
	if len(ms) > 1 && len(ms[1].Best) > 0 && ms[1].Files >= top.Files {
		var withCI []*ContentMatch
		for i := range ms {
			m := &ms[i]
			if len(m.Best) > 0 && m.Files == top.Files && ciRepos[graph.NormalizeRepoURL(m.Repo)] {
				withCI = append(withCI, m)
			}
		}
		if len(withCI) != 1 || len(withCI[0].Best) > maxRangeLinks {
			top.Reason = "another repository (" + ms[1].Repo + ") explains as many files"
			return nil
		}
		chosen := withCI[0]
		chosen.Linked = true
		chosen.Reason = "chosen among repositories that explain as many files: its CI workflow pushes the image's repository"
		return chosen
	}
	top.Linked = true
	return top
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// ciRepoSet returns the repositories whose CI workflows push the image's repository.
func ciRepoSet(ctx context.Context, r Reader, img graph.Node) (map[string]bool, error) {
	votes, err := ciVotes(ctx, r, img)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, v := range votes {
		out[v.Repo] = true
	}
	return out, nil
}
