package sbom

import (
	"context"
	"errors"
	"fmt"
	"github.com/tether-sec/tether/image"
	"github.com/tether-sec/tether/redact"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Limits of an image catalog.
const (
	// DefaultMaxImageFileSize is the largest file unpacked from a layer when
	// Options.MaxFileSize is 0; larger files are skipped.
	DefaultMaxImageFileSize = 256 << 20
	// MaxSymlinkDepth is how many symlinks are followed to resolve one path; a
	// deeper chain or a loop is not followed.
	MaxSymlinkDepth = 6
)

// ErrImage is the sentinel every image catalog error matches: the image's layers
// could not be read (a truncated blob, a digest mismatch, a malformed tar).
var ErrImage = errors.New("sbom: cannot read image")

// CatalogImage catalogs the packages of img with per-layer attribution: each
// package's Location names the layer that introduced it (digest, diff ID, index),
// the history entry that made that layer and its command.
//
// Layers are read one at a time, each tar stream once, and only the files an
// extractor wants are unpacked, into a temporary directory removed before the
// layer's scan returns. Entries are placed by their cleaned path and nothing but
// plain files and directories is created, so "../" entries, absolute paths and
// symlinks cannot write outside it. Whiteouts and opaque directories remove the
// packages of lower layers. A package that a later layer rewrites unchanged (a
// package database updated by apt) keeps the layer that introduced it. Files
// larger than Options.MaxFileSize (default DefaultMaxImageFileSize) are skipped
// and reported as Problems; a layer beyond Options.MaxLayerBytes or
// MaxLayerEntries fails with ErrLayerTooLarge.
//
// With Options.Cache, the state after every layer is stored by its chain ID, and
// an image whose first layers were cataloged before (in any image) is scanned from
// its first new layer.
//
// subject.Kind defaults to SubjectImage and subject.ImageDigest to img's digest.
func CatalogImage(ctx context.Context, img v1.Image, subject Subject, opts Options) (*SBOM, error) {
	if subject.Kind == "" {
		subject.Kind = SubjectImage
	}
	if subject.ImageDigest == "" {
		if d, err := img.Digest(); err == nil {
			subject.ImageDigest = d.String()
		}
	}
	name := subject.Name
	if name == "" {
		name = subject.ImageDigest
	}
	maxFile := opts.MaxFileSize
	if maxFile <= 0 {
		maxFile = DefaultMaxImageFileSize
	}
	layers, err := describeLayers(img)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrImage, name, err)
	}
	v1layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("%w %s: layers: %v", ErrImage, name, err)
	}
	log := opts.logger()
	ls, err := newLayerScanner(maxFile, opts)
	if err != nil {
		return nil, err
	}
	chains := chainIDs(layers.diffIDs)

	state := &layerState{Version: layerCacheVersion}
	start := 0
	if opts.Cache != nil {
		for k := len(chains) - 1; k >= 0; k-- {
			b, err := opts.Cache.Document(ctx, LayerCacheKind, ls.cacheKey(chains[k]))
			if err != nil {
				continue
			}
			cached, err := decodeState(b)
			if err != nil {
				log.Warn("sbom: ignoring an unreadable cached layer result", "chain", chains[k], "err", err)
				continue
			}
			state, start = cached, k+1
			break
		}
	}
	log.Debug("sbom: cataloging image", "image", name, "layers", len(layers.diffIDs), "cached", start)
	for k := start; k < len(v1layers); k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		next, err := ls.scan(ctx, v1layers[k], k, layers.diffIDs[k], state)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, ErrScanFailed) {
				return nil, err
			}
			return nil, fmt.Errorf("%w %s: layer %d (%s): %w", ErrImage, name, k, layers.digests[k], err)
		}
		state = next
		if opts.Cache != nil {
			b, err := encodeState(state)
			if err == nil {
				err = opts.Cache.PutDocument(ctx, LayerCacheKind, ls.cacheKey(chains[k]), b)
			}
			if err != nil {
				log.Warn("sbom: cannot cache a layer result", "chain", chains[k], "err", err)
			}
		}
	}

	s := &SBOM{
		Subject: subject,
		Tool:    opts.tool(),
		Created: opts.now(),
	}
	for _, sp := range state.Packages {
		p := sp.Package
		p.Locations = slices.Clone(p.Locations)
		for i := range p.Locations {
			path := p.Locations[i].Path
			p.Locations[i] = layers.location(sp.Layer)
			p.Locations[i].Path = path
		}
		s.Packages = append(s.Packages, p)
	}
	for path, tab := range state.GoSymbols {
		attachGoSymbols(s.Packages, path, tab)
	}
	for _, sp := range state.Problems {
		p := sp.Problem
		if sp.Layer >= 0 && sp.Layer < len(layers.diffIDs) {
			p.Layer = layers.diffIDs[sp.Layer]
		}
		s.Problems = append(s.Problems, p)
	}
	finish(s)
	resolveDeps(s, state.Deps)
	log.Debug("sbom: cataloged image", "image", name, "packages", len(s.Packages), "problems", len(s.Problems), "layers scanned", len(v1layers)-start)
	return s, nil
}

// imageLayers maps what osv-scalibr knows of a layer (its diff ID and history
// index) to the manifest's layer digests and the config's history.
type imageLayers struct {
	diffIDs []string // by layer index
	digests []string // by layer index
	// historyIndex[i] is the history entry of layer i, or -1 when the history
	// does not describe the layers one to one.
	historyIndex []int
	createdBy    []string // by history index, env values redacted
	baseIndex    int      // last history index of the base image, -1 unknown
}

func describeLayers(img v1.Image) (*imageLayers, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if len(m.Layers) != len(cf.RootFS.DiffIDs) {
		return nil, fmt.Errorf("manifest lists %d layers but the config %d diff IDs", len(m.Layers), len(cf.RootFS.DiffIDs))
	}
	l := &imageLayers{baseIndex: -1}
	for i := range m.Layers {
		l.digests = append(l.digests, m.Layers[i].Digest.String())
		l.diffIDs = append(l.diffIDs, cf.RootFS.DiffIDs[i].String())
	}
	redact := redact.Env(cf.Config.Env)
	for _, h := range cf.History {
		l.createdBy = append(l.createdBy, redact.Replace(h.CreatedBy))
	}
	l.baseIndex = image.BaseImageEnd(cf.History)
	l.historyIndex = image.LayerHistory(cf.History, len(l.diffIDs))
	return l, nil
}

// location describes layer i of the image.
func (l *imageLayers) location(i int) Location {
	loc := Location{LayerIndex: -1, HistoryIndex: -1}
	if i < 0 || i >= len(l.diffIDs) {
		return loc
	}
	loc.LayerIndex = i
	loc.LayerDiffID = l.diffIDs[i]
	loc.LayerDigest = l.digests[i]
	loc.HistoryIndex = l.historyIndex[i]
	if loc.HistoryIndex >= 0 && loc.HistoryIndex < len(l.createdBy) {
		loc.CreatedBy = l.createdBy[loc.HistoryIndex]
		loc.InBaseImage = l.baseIndex >= 0 && loc.HistoryIndex <= l.baseIndex
	}
	return loc
}
