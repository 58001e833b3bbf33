package sbom

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/extractor/filesystem"
	apkmeta "github.com/google/osv-scalibr/extractor/filesystem/os/apk/metadata"
	dpkgmeta "github.com/google/osv-scalibr/extractor/filesystem/os/dpkg/metadata"
	rpmmeta "github.com/google/osv-scalibr/extractor/filesystem/os/rpm/metadata"
	"github.com/google/osv-scalibr/extractor/filesystem/osv"
	scalibrfs "github.com/google/osv-scalibr/fs"
	"github.com/google/osv-scalibr/plugin"
	scalibrpurl "github.com/google/osv-scalibr/purl"
	"github.com/google/osv-scalibr/stats"

	"github.com/tether-sec/tether/image"
)

// ToolName is the name written into Tool.Name when Options.Tool is empty.
const ToolName = "tether"

// ErrNotDirectory is returned by CatalogDir when root is not a readable directory.
var ErrNotDirectory = errors.New("sbom: not a directory")

// ErrScanFailed is returned when osv-scalibr could not run at all (as opposed to a
// file it could not read, which is a Problem).
var ErrScanFailed = errors.New("sbom: scan failed")

// Options configures a catalog run. The zero value is usable.
type Options struct {
	// Logger receives debug and warning messages; nil discards them.
	Logger *slog.Logger
	// Now returns the time written into SBOM.Created; nil means time.Now.
	Now func() time.Time
	// MaxFileSize skips files larger than this many bytes; 0 means no limit for
	// directories and DefaultMaxImageFileSize for images.
	MaxFileSize int64
	// Tool names the program in SBOM.Tool; empty means {ToolName, ""}.
	Tool Tool
	// Cache keeps per-layer image results by layer chain; nil scans every layer.
	Cache LayerCache
	// MaxLayerBytes and MaxLayerEntries bound one image layer's uncompressed tar
	// stream (0: DefaultMaxLayerBytes, DefaultMaxLayerEntries); a layer beyond
	// either fails the catalog with ErrLayerTooLarge.
	MaxLayerBytes   int64
	MaxLayerEntries int
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

func (o Options) tool() Tool {
	if o.Tool.Name == "" {
		return Tool{Name: ToolName, Version: o.Tool.Version}
	}
	return o.Tool
}

// CatalogDir catalogs the packages in the directory tree at root with osv-scalibr's
// offline extractors (see ExtractorNames). Files that cannot be parsed become
// Problems; an error means the catalog could not run.
func CatalogDir(ctx context.Context, root string, opts Options) (*SBOM, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotDirectory, root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s", ErrNotDirectory, root)
	}
	extractors, err := newExtractors(opts.MaxFileSize)
	if err != nil {
		return nil, err
	}
	log := opts.logger()
	log.Debug("sbom: cataloging directory", "root", root, "extractors", len(extractors))
	// .git holds no packages and can be large.
	res, err := scanTree(ctx, root, extractors, opts.MaxFileSize, []string{path.Join(root, ".git")}, log)
	if err != nil {
		return nil, err
	}
	s := &SBOM{
		Subject: Subject{Kind: SubjectDirectory, Name: root},
		Tool:    opts.tool(),
		Created: opts.now(),
	}
	for _, p := range res.packages {
		s.Packages = append(s.Packages, convertPackage(p))
	}
	s.Problems = problems(res.statuses, "")
	for path, tab := range goSymbolTables(ctx, root, s.Packages, log) {
		attachGoSymbols(s.Packages, path, tab)
	}
	addDebLicenses(root, s.Packages)
	edges, probs := lockfileEdges(root, s.Packages, log)
	s.Problems = append(s.Problems, probs...)
	edges = append(edges, addPOMPackages(root, s, log)...)
	finish(s)
	resolveDeps(s, edges)
	log.Debug("sbom: cataloged directory", "root", root, "packages", len(s.Packages), "problems", len(s.Problems))
	return s, nil
}

// scanResult is what the extractors found under one root.
type scanResult struct {
	packages []*extractor.Package
	statuses []*plugin.Status
}

// scanTree runs the extractors over the directory tree at root, through
// osv-scalibr's file system walker (not its Scanner, whose package pulls in every
// plugin osv-scalibr has and costs each tether process tens of milliseconds of
// start-up).
func scanTree(ctx context.Context, root string, extractors []filesystem.Extractor, maxFile int64, skip []string, log *slog.Logger) (*scanResult, error) {
	routeScalibrLogs(log)
	for _, e := range extractors {
		if err := plugin.ValidateRequirements(e, capabilities); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrScanFailed, root, err)
		}
	}
	inv, statuses, err := filesystem.Run(ctx, &filesystem.Config{
		Stats:       stats.NoopCollector{},
		Extractors:  extractors,
		ScanRoots:   scalibrfs.RealFSScanRoots(root),
		MaxFileSize: int(maxFile),
		DirsToSkip:  skip,
	})
	// Extractors of archives inside archives leave their temporary copies here.
	for _, efs := range inv.EmbeddedFSs {
		for _, p := range efs.TempPaths {
			_ = os.RemoveAll(p)
		}
	}
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrScanFailed, root, err)
	}
	return &scanResult{packages: inv.Packages, statuses: statuses}, nil
}

// convertPackage turns one scalibr package into a Package without an ID.
func convertPackage(p *extractor.Package) Package {
	out := Package{
		Name:     p.Name,
		Version:  p.Version,
		Type:     p.PURLType,
		Licenses: slices.Clone(p.Licenses),
	}
	if len(p.Plugins) > 0 {
		out.FoundBy = p.Plugins[0]
	}
	if pu := p.PURL(); pu != nil {
		if pu.Type == "npm" {
			// osv-scalibr adds a "source" qualifier (LOCAL, PUBLIC_REGISTRY, …) of
			// its own; no other tool writes it and it would split one package into
			// several graph nodes.
			var qs scalibrpurl.Qualifiers
			for _, q := range pu.Qualifiers {
				if q.Key != "source" {
					qs = append(qs, q)
				}
			}
			pu.Qualifiers = qs
		}
		if normalizePURL(&out, pu, p.Location.PathOrEmpty()) {
			out.PURL = pu.String()
		}
		if pu.Type != "" {
			out.Type = pu.Type
		}
	}
	if out.Type == "" {
		out.Type = "generic"
	}
	switch m := p.Metadata.(type) {
	case *dpkgmeta.Metadata:
		out.SourceName, out.SourceVersion = m.SourceName, m.SourceVersion
		if out.SourceName != "" && out.SourceVersion == "" {
			// "Source: glibc" without a version: the source version is the binary's.
			out.SourceVersion = p.Version
		}
	case *apkmeta.Metadata:
		out.SourceName = m.OriginName
		if m.OriginName != "" {
			out.SourceVersion = p.Version
		}
	case *rpmmeta.Metadata:
		out.SourceName, out.SourceVersion = splitSourceRPM(m.SourceRPM)
	}
	if dg, ok := p.Metadata.(osv.DepGroups); ok {
		out.Dev = devOnly(dg.DepGroups())
	}
	out.Locations = []Location{{Path: image.CleanPath(p.Location.PathOrEmpty())}}
	return out
}

// normalizePURL writes purls the way the ecosystems' own tools and other SBOM
// tools do, where osv-scalibr differs:
//   - Go module versions keep their "v" (pkg:golang/golang.org/x/net@v0.20.0), as
//     in go.mod, `go list -m` and Syft and Trivy output; the Go toolchain is
//     pkg:golang/stdlib@1.22.3 whether found in go.mod or in a binary.
//   - A jar without Maven coordinates is named after its file, with no version and
//     no purl, rather than pkg:maven/unknown/unknown@unknown.
//
// It reports false when the package has no purl.
func normalizePURL(p *Package, pu *scalibrpurl.PackageURL, foundAt string) bool {
	switch pu.Type {
	case scalibrpurl.TypeGolang:
		if pu.Name == "go" && pu.Namespace == "" {
			pu.Name, p.Name = "stdlib", "stdlib"
		}
		if pu.Name == "stdlib" && pu.Namespace == "" {
			return true
		}
		if pu.Version != "" && pu.Version[0] >= '0' && pu.Version[0] <= '9' {
			pu.Version = "v" + pu.Version
		}
	case scalibrpurl.TypeMaven:
		if pu.Namespace == "unknown" && pu.Name == "unknown" {
			base := path.Base(image.CleanPath(foundAt))
			p.Name = strings.TrimSuffix(base, path.Ext(base))
			p.Version = ""
			return false // no identity: left out of the graph, kept in the SBOM
		}
	}
	return true
}

// devOnly reports whether every dependency group is a development one.
func devOnly(groups []string) bool {
	if len(groups) == 0 {
		return false
	}
	for _, g := range groups {
		switch strings.ToLower(g) {
		case "dev", "test", "development":
		default:
			return false
		}
	}
	return true
}

// splitSourceRPM turns "openssl-3.0.7-27.el9.src.rpm" into ("openssl", "3.0.7-27.el9").
func splitSourceRPM(s string) (name, version string) {
	s = strings.TrimSuffix(s, ".rpm")
	s = strings.TrimSuffix(s, ".src")
	s = strings.TrimSuffix(s, ".nosrc")
	// name-version-release: the last two dashes separate version and release.
	i := strings.LastIndex(s, "-")
	if i <= 0 {
		return s, ""
	}
	j := strings.LastIndex(s[:i], "-")
	if j <= 0 {
		return s, ""
	}
	return s[:j], s[j+1:]
}

// problems turns plugin statuses into Problems.
func problems(statuses []*plugin.Status, layer string) []Problem {
	var out []Problem
	for _, st := range statuses {
		if st == nil || st.Status == nil {
			continue
		}
		for _, fe := range st.Status.FileErrors {
			out = append(out, Problem{Path: image.CleanPath(fe.FilePath), Layer: layer, Message: st.Name + ": " + fe.ErrorMessage})
		}
		if st.Status.Status == plugin.ScanStatusFailed && len(st.Status.FileErrors) == 0 {
			out = append(out, Problem{Layer: layer, Message: st.Name + ": " + st.Status.FailureReason})
		}
	}
	return out
}

// finish deduplicates, assigns IDs and sorts the packages and problems of s.
func finish(s *SBOM) {
	seen := map[string]int{}
	pkgs := s.Packages[:0]
	for _, p := range s.Packages {
		key := identity(p)
		if i, ok := seen[key]; ok {
			// Same package at the same place found twice (two extractors): keep the
			// first and merge licences.
			for _, l := range p.Licenses {
				if !slices.Contains(pkgs[i].Licenses, l) {
					pkgs[i].Licenses = append(pkgs[i].Licenses, l)
				}
			}
			continue
		}
		seen[key] = len(pkgs)
		pkgs = append(pkgs, p)
	}
	for i := range pkgs {
		pkgs[i].ID = packageID(identity(pkgs[i]))
		slices.Sort(pkgs[i].Licenses)
	}
	slices.SortFunc(pkgs, comparePackages)
	s.Packages = pkgs
	slices.SortFunc(s.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Layer, b.Layer), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Message, b.Message))
	})
	s.Problems = slices.Compact(s.Problems)
}

// identity is what makes a package unique in an SBOM: its purl (or, without one,
// its type, name and version) and where it was found.
func identity(p Package) string {
	id := p.PURL
	if id == "" {
		id = p.Type + "/" + p.Name + "@" + p.Version
	}
	loc := ""
	if len(p.Locations) > 0 {
		loc = p.Locations[0].Path
		if d := p.Locations[0].LayerDiffID; d != "" {
			loc += "\x00" + d
		}
	}
	return id + "\x00" + loc
}

func packageID(identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return hex.EncodeToString(sum[:8])
}

func comparePackages(a, b Package) int {
	return cmp.Or(
		cmp.Compare(a.Type, b.Type),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Version, b.Version),
		cmp.Compare(firstPath(a), firstPath(b)),
		cmp.Compare(a.PURL, b.PURL),
		cmp.Compare(a.FoundBy, b.FoundBy),
		cmp.Compare(a.ID, b.ID),
	)
}

func firstPath(p Package) string {
	if len(p.Locations) == 0 {
		return ""
	}
	return p.Locations[0].Path
}
