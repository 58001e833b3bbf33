package image

import (
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/redact"
)

// Source is the batch source name of this collector.
const Source = "image"

// Evidence sources on the edges this package draws.
const (
	EvidenceIndex    = "image-index"    // has_manifest: an entry of the index
	EvidenceManifest = "image-manifest" // has_layer: a layer of the manifest
)

// IndexAttrs are the attributes of an image_index node.
type IndexAttrs struct {
	Digest       string `json:"digest"`
	DigestSource string `json:"digest_source"`
	MediaType    string `json:"mediaType"`
	// References are where the index was seen, in ParseRef syntax.
	References []string `json:"references"`
	// Tags are names a layout records for it.
	Tags        []string          `json:"tags,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Skipped lists entries not read as images (attestations, artifacts).
	Skipped []SkippedManifest `json:"skipped,omitempty"`
}

// ImageAttrs are the attributes of an image node.
type ImageAttrs struct {
	// Digest is the manifest digest; DigestSource says where it comes from
	// (DigestFromRegistry, DigestFromLayout, DigestFromComputed, DigestFromEngine).
	Digest       string `json:"digest"`
	DigestSource string `json:"digest_source"`
	MediaType    string `json:"mediaType"`
	// References are where the image was seen, in ParseRef syntax: the tag or digest
	// it was opened by, or REPO@DIGEST for an index's platform image.
	References []string `json:"references"`
	// Tags are names a layout, archive or container engine records for it.
	Tags []string `json:"tags,omitempty"`
	// RepoDigests are the REPO@DIGEST names a container engine records for it
	// (docker:, podman:); Digest is one of them when DigestSource is "engine".
	RepoDigests []string `json:"repo_digests,omitempty"`
	// Platform is os/arch[/variant][:os.version]; the parts follow.
	Platform     string            `json:"platform,omitempty"`
	OS           string            `json:"os,omitempty"`
	Architecture string            `json:"architecture,omitempty"`
	Variant      string            `json:"variant,omitempty"`
	OSVersion    string            `json:"os_version,omitempty"`
	ConfigDigest string            `json:"config_digest"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	// Created is RFC 3339 in UTC.
	Created string            `json:"created,omitempty"`
	Author  string            `json:"author,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	History []HistoryEntry    `json:"history,omitempty"`
	User    string            `json:"user,omitempty"`
	// Entrypoint and Cmd are exec arrays, as in the config.
	Entrypoint   []string `json:"entrypoint,omitempty"`
	Cmd          []string `json:"cmd,omitempty"`
	Workdir      string   `json:"workdir,omitempty"`
	ExposedPorts []string `json:"exposed_ports,omitempty"`
	// EnvNames are the names of the environment variables, in config order; the
	// values are never reported.
	EnvNames   []string `json:"env_names,omitempty"`
	LayerCount int      `json:"layer_count"`
	// Size is the sum of the layer sizes the manifest lists (compressed bytes).
	Size int64 `json:"size"`
	// Provenance are the SLSA provenance attestations found for the image.
	Provenance []Provenance `json:"provenance,omitempty"`
}

// HistoryEntry is one entry of an image's history. "NAME=VALUE" assignments of the
// image's environment are redacted in CreatedBy and Comment as "NAME=<redacted>".
type HistoryEntry struct {
	Created    string `json:"created,omitempty"`
	CreatedBy  string `json:"created_by,omitempty"`
	EmptyLayer bool   `json:"empty_layer"`
	Comment    string `json:"comment,omitempty"`
	Author     string `json:"author,omitempty"`
}

// LayerAttrs are the attributes of a layer node.
type LayerAttrs struct {
	// Digest, Size and MediaType describe the blob as the manifest lists it; DiffID
	// is the digest of the uncompressed tar (the node's identity).
	Digest    string `json:"digest"`
	DiffID    string `json:"diff_id"`
	Size      int64  `json:"size"`
	MediaType string `json:"mediaType"`
	// DigestSource is DigestFromComputed when Digest and Size were computed
	// (docker-archive, container engine), else empty.
	DigestSource string `json:"digest_source,omitempty"`
}

// LayerEdgeAttrs are the attributes of a has_layer edge.
type LayerEdgeAttrs struct {
	// Index is the layer's position in the manifest (0 is the base).
	Index int `json:"index"`
	// HistoryIndex is the history entry that created the layer: the Index-th entry
	// that is not an empty_layer. Absent when the history does not list one entry
	// per layer, since then the mapping cannot be trusted.
	HistoryIndex *int `json:"history_index,omitempty"`
	// RepeatedAt lists further positions of the same layer in the image.
	RepeatedAt []LayerPosition `json:"repeated_at,omitempty"`
}

// LayerPosition is one position of a layer in an image.
type LayerPosition struct {
	Index        int  `json:"index"`
	HistoryIndex *int `json:"history_index,omitempty"`
}

// ManifestEdgeAttrs are the attributes of a has_manifest edge.
type ManifestEdgeAttrs struct {
	// Platform is the platform the index entry declares.
	Platform string `json:"platform,omitempty"`
	// Position is the entry's index in the manifests of its index; Via the digest of
	// the nested index holding it, when it is not the top index.
	Position int    `json:"position"`
	Via      string `json:"via,omitempty"`
}

// Batch returns the target's facts observed at observedAt: an image_index node when
// the reference names an index, with a has_manifest edge to each platform image; an
// image node per image; a layer node per layer with has_layer edges. It does no I/O,
// and the same target gives the same batch apart from ObservedAt.
func (t *Target) Batch(observedAt time.Time) *graph.Batch {
	b := graph.NewBatch(Source, t.Ref.String(), observedAt)
	method := string(t.Ref.Transport)
	var indexID graph.ID
	if t.Index != nil {
		indexID = graph.ImageIndexID(t.Digest)
		b.AddNode(graph.Node{
			ID: indexID, Kind: graph.KindImageIndex, Name: t.Ref.String(),
			Attrs: graph.Attrs(IndexAttrs{
				Digest: t.Digest, DigestSource: t.DigestSource, MediaType: t.MediaType,
				References: []string{t.Ref.String()}, Tags: t.Tags, Annotations: t.Annotations, Skipped: t.Skipped,
			}),
		})
	}
	for i := range t.Images {
		im := &t.Images[i]
		if im.Manifest == nil || im.Config == nil {
			continue // not loaded: a Target not made by Open
		}
		imageID := graph.ImageID(im.Digest)
		p := im.Platform()
		name := im.Reference
		if im.Entry != nil && p.OS != "" {
			name += " " + p.String()
		}
		attrs := t.imageAttrs(im, p)
		b.AddNode(graph.Node{ID: imageID, Kind: graph.KindImage, Name: name, Attrs: graph.Attrs(attrs)})
		if t.Index != nil && im.Entry != nil {
			parent := t.Digest
			if im.Via != "" {
				parent = im.Via
			}
			ep := ""
			if im.Entry.Platform != nil {
				ep = im.Entry.Platform.String()
			}
			detail := fmt.Sprintf("%s manifests[%d] = %s", parent, im.Position, im.Digest)
			if ep != "" {
				detail += " (" + ep + ")"
			}
			b.AddEdge(graph.Edge{
				From: indexID, Kind: graph.EdgeHasManifest, To: imageID, Method: method, Confidence: 1,
				Evidence: []graph.Evidence{{Source: EvidenceIndex, Detail: detail}},
				Attrs:    graph.Attrs(ManifestEdgeAttrs{Platform: ep, Position: im.Position, Via: im.Via}),
			})
		}
		t.addLayers(b, im, imageID, method)
	}
	return b
}

func (t *Target) imageAttrs(im *Image, p v1.Platform) ImageAttrs {
	cf, m := im.Config, im.Manifest
	a := ImageAttrs{
		Digest: im.Digest, DigestSource: t.DigestSource, MediaType: im.MediaType,
		References:   []string{im.Reference},
		Platform:     p.String(),
		OS:           p.OS,
		Architecture: p.Architecture,
		Variant:      p.Variant,
		OSVersion:    p.OSVersion,
		ConfigDigest: m.Config.Digest.String(),
		Annotations:  m.Annotations,
		Created:      formatTime(cf.Created.Time),
		Author:       cf.Author,
		Labels:       cf.Config.Labels,
		Provenance:   im.Provenance,
		User:         cf.Config.User,
		Entrypoint:   cf.Config.Entrypoint,
		Cmd:          cf.Config.Cmd,
		Workdir:      cf.Config.WorkingDir,
		LayerCount:   len(m.Layers),
	}
	if im.Entry == nil {
		a.Tags = t.Tags
		a.RepoDigests = t.RepoDigests
	}
	redact := redact.Env(cf.Config.Env)
	for _, h := range cf.History {
		a.History = append(a.History, HistoryEntry{
			Created:    formatTime(h.Created.Time),
			CreatedBy:  redact.Replace(h.CreatedBy),
			EmptyLayer: h.EmptyLayer,
			Comment:    redact.Replace(h.Comment),
			Author:     h.Author,
		})
	}
	for port := range cf.Config.ExposedPorts {
		a.ExposedPorts = append(a.ExposedPorts, port)
	}
	sort.Strings(a.ExposedPorts)
	for _, e := range cf.Config.Env {
		k, _, _ := strings.Cut(e, "=")
		a.EnvNames = append(a.EnvNames, k)
	}
	for _, l := range m.Layers {
		a.Size += l.Size
	}
	return a
}

func (t *Target) addLayers(b *graph.Batch, im *Image, imageID graph.ID, method string) {
	m, cf := im.Manifest, im.Config
	made := LayerHistory(cf.History, len(m.Layers))
	digestSource := ""
	if t.DigestSource == DigestFromComputed || t.DigestSource == DigestFromEngine {
		digestSource = DigestFromComputed
	}
	edges := map[graph.ID]*LayerEdgeAttrs{}
	var order []graph.ID
	evidence := map[graph.ID][]graph.Evidence{}
	for i, l := range m.Layers {
		diffID := cf.RootFS.DiffIDs[i].String()
		layerID := graph.LayerID(diffID)
		b.AddNode(graph.Node{
			ID: layerID, Kind: graph.KindLayer, Name: diffID,
			Attrs: graph.Attrs(LayerAttrs{
				Digest: l.Digest.String(), DiffID: diffID, Size: l.Size, MediaType: string(l.MediaType), DigestSource: digestSource,
			}),
		})
		var hist *int
		if j := made[i]; j >= 0 {
			hist = &j
		}
		evidence[layerID] = append(evidence[layerID], graph.Evidence{
			Source: EvidenceManifest,
			Detail: fmt.Sprintf("%s layers[%d] = %s (diff_id %s)", im.Digest, i, l.Digest, diffID),
		})
		if e, ok := edges[layerID]; ok {
			e.RepeatedAt = append(e.RepeatedAt, LayerPosition{Index: i, HistoryIndex: hist})
			continue
		}
		edges[layerID] = &LayerEdgeAttrs{Index: i, HistoryIndex: hist}
		order = append(order, layerID)
	}
	for _, layerID := range order {
		b.AddEdge(graph.Edge{
			From: imageID, Kind: graph.EdgeHasLayer, To: layerID, Method: method, Confidence: 1,
			Evidence: evidence[layerID], Attrs: graph.Attrs(edges[layerID]),
		})
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// LayerHistory maps each of n layers to the index of the config history entry that
// made it: the n-th history entry that is not an empty layer made the n-th layer.
// When the counts disagree the history does not describe the layers one to one and
// every entry is -1.
func LayerHistory(history []v1.History, n int) []int {
	out := make([]int, n)
	li := 0
	for j, h := range history {
		if h.EmptyLayer {
			continue
		}
		if li == n {
			li++ // more layers in the history than in the manifest
			break
		}
		out[li] = j
		li++
	}
	if li != n {
		for i := range out {
			out[i] = -1
		}
	}
	return out
}
