package sbom

import (
	"slices"
	"strings"
	"time"

	"github.com/tether-sec/tether/graph"
)

// Source is the batch source name of the facts an SBOM yields.
const Source = "sbom"

// Method is the method of the edges Facts draws.
const Method = "sbom"

// Evidence sources on the edges Facts draws.
const (
	EvidenceFoundBy  = "sbom-found-by" // the extractor that found the package
	EvidenceLocation = "sbom-location" // the path (and layer) it was found at
	// EvidenceRelationship is on depends_on edges: the relationship's type.
	EvidenceRelationship = "sbom-relationship"
)

// PackageAttrs are the attributes of a package node.
type PackageAttrs struct {
	Name          string   `json:"name"`
	Version       string   `json:"version,omitempty"`
	Type          string   `json:"type"`
	PURL          string   `json:"purl"`
	CPEs          []string `json:"cpes,omitempty"`
	Licenses      []string `json:"licenses,omitempty"`
	SourceName    string   `json:"source_name,omitempty"`
	SourceVersion string   `json:"source_version,omitempty"`
}

// EdgeLocation is one place a package was found, as kept on has_package edges.
type EdgeLocation struct {
	Path        string `json:"path"`
	LayerDigest string `json:"layer_digest,omitempty"`
	LayerDiffID string `json:"layer_diff_id,omitempty"`
	CreatedBy   string `json:"created_by,omitempty"`
}

// HasPackageAttrs are the attributes of a has_package edge.
type HasPackageAttrs struct {
	Locations []EdgeLocation `json:"locations"`
	Dev       bool           `json:"dev,omitempty"`
}

// Facts turns s into graph facts: a package node per purl and has_package edges
// from what contains it. For an image subject: image → package and, where the
// layer is known, layer → package. For a directory or git subject with a Commit:
// commit (a stub node) → package. Otherwise only package nodes. Packages without a
// purl have no identity in the graph and are left out.
func Facts(s *SBOM, observedAt time.Time) *graph.Batch {
	target := s.Subject.Name
	if target == "" {
		target = s.Subject.ImageDigest
	}
	b := graph.NewBatch(Source, target, observedAt)

	var from graph.ID
	switch {
	case s.Subject.Kind == SubjectImage && s.Subject.ImageDigest != "":
		from = graph.ImageID(s.Subject.ImageDigest)
		b.AddNode(graph.Node{ID: from, Kind: graph.KindImage, Name: s.Subject.ImageDigest, Stub: true})
	case s.Subject.Commit != "" && s.Subject.RepoURL != "":
		from = graph.CommitID(s.Subject.RepoURL, s.Subject.Commit)
		b.AddNode(graph.Node{ID: from, Kind: graph.KindCommit, Name: s.Subject.Commit, Stub: true})
	}

	type edgeKey struct {
		from graph.ID
		to   graph.ID
	}
	edges := map[edgeKey]*HasPackageAttrs{}
	evidence := map[edgeKey][]graph.Evidence{}
	var order []edgeKey
	addEdge := func(k edgeKey, p Package, loc Location) {
		a, ok := edges[k]
		if !ok {
			a = &HasPackageAttrs{Dev: p.Dev}
			edges[k] = a
			order = append(order, k)
		}
		a.Dev = a.Dev && p.Dev
		el := EdgeLocation{Path: loc.Path, LayerDigest: loc.LayerDigest, LayerDiffID: loc.LayerDiffID, CreatedBy: loc.CreatedBy}
		if !slices.Contains(a.Locations, el) {
			a.Locations = append(a.Locations, el)
		}
		for _, ev := range []graph.Evidence{{Source: EvidenceFoundBy, Detail: p.FoundBy}, {Source: EvidenceLocation, Detail: locationDetail(loc)}} {
			if ev.Detail != "" && !slices.Contains(evidence[k], ev) {
				evidence[k] = append(evidence[k], ev)
			}
		}
	}

	for _, p := range s.Packages {
		if p.PURL == "" {
			continue
		}
		pid := graph.PackageID(p.PURL)
		b.AddNode(graph.Node{ID: pid, Kind: graph.KindPackage, Name: p.Name, Attrs: graph.Attrs(PackageAttrs{
			Name: p.Name, Version: p.Version, Type: p.Type, PURL: p.PURL,
			CPEs: p.CPEs, Licenses: p.Licenses,
			SourceName: p.SourceName, SourceVersion: p.SourceVersion,
		})})
		for _, loc := range p.Locations {
			if from != "" {
				addEdge(edgeKey{from, pid}, p, loc)
			}
			if s.Subject.Kind == SubjectImage && loc.LayerDiffID != "" {
				lid := graph.LayerID(loc.LayerDiffID)
				b.AddNode(graph.Node{ID: lid, Kind: graph.KindLayer, Name: loc.LayerDiffID, Stub: true})
				addEdge(edgeKey{lid, pid}, p, loc)
			}
		}
	}
	purlOf := map[string]string{}
	for _, p := range s.Packages {
		if p.PURL != "" {
			purlOf[p.ID] = p.PURL
		}
	}
	for _, r := range s.Relationships {
		from, to := purlOf[r.From], purlOf[r.To]
		if from == "" || to == "" || from == to || r.Type == Contains {
			continue
		}
		var attrs map[string]any
		if r.Type == DevDependsOn {
			attrs = map[string]any{"dev": true}
		}
		b.AddEdge(graph.Edge{
			From: graph.PackageID(from), Kind: graph.EdgeDependsOn, To: graph.PackageID(to),
			Method: Method, Confidence: 1,
			Evidence: []graph.Evidence{{Source: EvidenceRelationship, Detail: string(r.Type)}},
			Attrs:    attrs,
		})
	}
	slices.SortFunc(order, func(x, y edgeKey) int {
		return strings.Compare(string(x.from)+"\x00"+string(x.to), string(y.from)+"\x00"+string(y.to))
	})
	for _, k := range order {
		a := edges[k]
		slices.SortFunc(a.Locations, func(x, y EdgeLocation) int {
			if x.Path != y.Path {
				if x.Path < y.Path {
					return -1
				}
				return 1
			}
			if x.LayerDiffID < y.LayerDiffID {
				return -1
			}
			if x.LayerDiffID > y.LayerDiffID {
				return 1
			}
			return 0
		})
		b.AddEdge(graph.Edge{
			From: k.from, Kind: graph.EdgeHasPackage, To: k.to,
			Method: Method, Confidence: 1,
			Evidence: evidence[k],
			Attrs:    graph.Attrs(a),
		})
	}
	return b
}

func locationDetail(l Location) string {
	if l.LayerDiffID == "" {
		return l.Path
	}
	return l.Path + " in layer " + l.LayerDiffID
}
