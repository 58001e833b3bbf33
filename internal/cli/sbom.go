package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/image"
	"github.com/tether-sec/tether/lineage"
	"github.com/tether-sec/tether/report"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/sbom/cyclonedx"
	"github.com/tether-sec/tether/sbom/spdx"
	"github.com/tether-sec/tether/source"
	"github.com/tether-sec/tether/store"
)

// sbomFormats maps each -o name to its encoder.
var sbomFormats = map[string]func(io.Writer, *sbom.SBOM) error{
	"table":          report.SBOMTable,
	"json":           report.SBOMJSON,
	"cyclonedx-json": cyclonedx.EncodeJSON,
	"cyclonedx-xml":  cyclonedx.EncodeXML,
	"spdx-json":      spdx.EncodeJSON,
	"spdx-tag-value": spdx.EncodeTagValue,
}

const sbomFormatList = "table, json, cyclonedx-json, cyclonedx-xml, spdx-json, spdx-tag-value"

// sbomOutput is one -o FORMAT[=FILE].
type sbomOutput struct{ format, file string }

func parseSBOMOutputs(vals []string) ([]sbomOutput, error) {
	if len(vals) == 0 {
		vals = []string{"table"}
	}
	var outs []sbomOutput
	toStdout := 0
	for _, v := range vals {
		f, file, _ := strings.Cut(v, "=")
		if _, ok := sbomFormats[f]; !ok {
			return nil, fmt.Errorf("unknown format %q (want one of %s, optionally =FILE)", f, sbomFormatList)
		}
		if file == "" || file == "-" {
			file = ""
			toStdout++
		}
		outs = append(outs, sbomOutput{f, file})
	}
	if toStdout > 1 {
		return nil, errors.New("only one -o can go to standard output: give the others a file, as -o FORMAT=FILE")
	}
	return outs, nil
}

func newSBOMCmd(g *globals) *cobra.Command {
	var outputs []string
	var f imageFlags
	c := &cobra.Command{
		Use:   "sbom TARGET",
		Short: "Generate a software bill of materials (CycloneDX 1.6, SPDX 2.3) for a directory or an image",
		Long: `Catalog the packages in TARGET — OS packages (dpkg, apk, rpm) and language
packages (Go, npm/yarn/pnpm, Python, Java, Rust, Ruby, PHP, .NET) — and write an SBOM.
For images every package names the layer and history entry that put it there.
The packages are also stored in the graph against the image digest.

TARGET is one of:
  DIR                               a directory (a clean git work tree also names its commit)
  git:PATH[@REV]                    the tree of a commit of the repository at PATH (REV: branch, tag, hash; default HEAD)
or an image:
` + imageRefHelp,
		Example: `  tether sbom .
  tether sbom git:.@v1.4.2 -o spdx-json=sbom.spdx.json
  tether sbom ghcr.io/acme/payments-api:1.4.2 -o cyclonedx-json
  tether sbom oci:./build/oci -o spdx-json=sbom.spdx.json -o cyclonedx-xml=sbom.cdx.xml -o table`,
		Args: args("TARGET"),
	}
	c.Flags().StringArrayVarP(&outputs, "output", "o", nil, "output format, repeatable, each FORMAT or FORMAT=FILE: "+sbomFormatList)
	f.add(c, "platform of a multi-platform image (os/arch[/variant]; default linux/amd64 or the only one)")
	c.RunE = func(c *cobra.Command, a []string) error {
		outs, err := parseSBOMOutputs(outputs)
		if err != nil {
			return err
		}
		st, err := g.openStore(c.Context())
		if err != nil {
			return err
		}
		defer st.Close()
		s, err := runSBOM(c.Context(), g, st, a[0], f)
		if err != nil {
			return err
		}
		g.say("%s: %d packages, %d problems", a[0], len(s.Packages), len(s.Problems))
		return writeSBOM(g, s, outs)
	}
	return c
}

// runSBOM catalogs target, stores its facts and the SBOM itself, and returns the
// SBOM annotated with what lineage knows of its source.
func runSBOM(ctx context.Context, g *globals, st store.Store, target string, f imageFlags) (*sbom.SBOM, error) {
	s, batches, err := catalog(ctx, g, st, target, f)
	if err != nil {
		return nil, err
	}
	for _, b := range batches {
		if err := ingestInto(ctx, quietGlobals(), st, "table", b); err != nil {
			return nil, err
		}
	}
	if err := annotateLineage(ctx, st, s); err != nil {
		g.logger().Warn("sbom: reading lineage", "err", err)
	}
	if err := storeSBOM(ctx, st, s); err != nil {
		return nil, err
	}
	return s, nil
}

// catalog makes the SBOM of a directory or an image and the graph facts to store.
func catalog(ctx context.Context, g *globals, cache sbom.LayerCache, target string, f imageFlags) (*sbom.SBOM, []*graph.Batch, error) {
	opts := sbom.Options{Logger: g.logger(), Tool: sbom.Tool{Name: sbom.ToolName, Version: releaseVersion()}, Cache: cache}
	if rest, ok := strings.CutPrefix(target, "git:"); ok {
		return catalogRevision(ctx, g, target, rest, opts)
	}
	if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		s, err := sbom.CatalogDir(ctx, target, opts)
		if err != nil {
			return nil, nil, err
		}
		// A clean work tree is exactly its HEAD commit: say so in the SBOM.
		if o, err := source.Describe(ctx, target); err == nil && o.Clean {
			s.Subject.RepoURL, s.Subject.Commit = o.RepoURL, o.Commit
		}
		return s, []*graph.Batch{sbom.Facts(s, time.Now())}, nil
	} else if looksLikePath(target) {
		if err == nil {
			return nil, nil, fmt.Errorf("%s is a file: give a directory, git:REPO[@REV], or an image (oci:DIR, docker-archive:FILE, a registry reference)", target)
		}
		return nil, nil, fmt.Errorf("no directory %s: %w", target, err)
	}
	t, err := image.Open(ctx, target, f.options()...)
	if err != nil {
		if _, statErr := os.Stat(target); statErr != nil && !strings.Contains(target, "/") && !strings.Contains(target, ":") {
			return nil, nil, fmt.Errorf("%s is neither a directory nor an image reference: %w", target, err)
		}
		return nil, nil, err
	}
	defer t.Close() // docker: and podman: images are copied to a temporary file
	img, err := pickPlatform(t, f.platform)
	if err != nil {
		return nil, nil, err
	}
	subj := sbom.Subject{Kind: sbom.SubjectImage, Name: target, ImageDigest: img.Digest, Platform: platformString(img)}
	s, err := sbom.CatalogImage(ctx, img.Image, subj, opts)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	return s, []*graph.Batch{t.Batch(now), sbom.Facts(s, now)}, nil
}

// SBOMDocumentKind is the store document kind of SBOMs, keyed by SBOMKey.
const SBOMDocumentKind = "sbom"

// SBOMKey is the key an SBOM is stored under: the image digest, else the commit's
// node ID; "" when the SBOM names neither.
func SBOMKey(s *sbom.SBOM) string {
	switch {
	case s.Subject.ImageDigest != "":
		return s.Subject.ImageDigest
	case s.Subject.Commit != "" && s.Subject.RepoURL != "":
		return string(graph.CommitID(s.Subject.RepoURL, s.Subject.Commit))
	}
	return ""
}

// annotateLineage adds what lineage knows of an image SBOM's source: the repository
// and commit in its metadata and, on each package location, the Dockerfile
// instruction that made the layer (the final stage's FROM for base image layers).
func annotateLineage(ctx context.Context, st store.Store, s *sbom.SBOM) error {
	if s.Subject.Kind != sbom.SubjectImage || s.Subject.ImageDigest == "" {
		return nil
	}
	src, err := lineage.SourceOf(ctx, st, s.Subject.ImageDigest)
	if err != nil || src.Commit == "" {
		return err
	}
	s.Subject.RepoURL, s.Subject.Commit = src.RepoURL, src.Commit
	ref := func(m lineage.Match) *sbom.DockerfileRef {
		kw, _, _ := strings.Cut(m.Instruction, " ")
		return &sbom.DockerfileRef{Path: src.Dockerfile, Instruction: strings.ToUpper(kw), StartLine: m.StartLine, EndLine: m.EndLine}
	}
	for i := range s.Packages {
		for j := range s.Packages[i].Locations {
			l := &s.Packages[i].Locations[j]
			if m, ok := src.Lines[l.HistoryIndex]; ok && l.HistoryIndex >= 0 {
				l.Dockerfile = ref(m)
			} else if l.InBaseImage && src.From != nil {
				l.Dockerfile = ref(*src.From)
			}
		}
	}
	return nil
}

// storeSBOM keeps s (tether's JSON form) against its image digest or commit, so
// that later queries can show what is in each step of a chain.
func storeSBOM(ctx context.Context, st store.Store, s *sbom.SBOM) error {
	key := SBOMKey(s)
	if key == "" {
		return nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return st.PutDocument(ctx, SBOMDocumentKind, key, b)
}

// catalogRevision catalogs the tree of a commit: git:PATH[@REV], REV defaulting to
// HEAD. The tree is written to a temporary directory that is removed afterwards.
func catalogRevision(ctx context.Context, g *globals, target, spec string, opts sbom.Options) (*sbom.SBOM, []*graph.Batch, error) {
	repoPath, rev := spec, "HEAD"
	if i := strings.LastIndex(spec, "@"); i > 0 {
		repoPath, rev = spec[:i], spec[i+1:]
	}
	if repoPath == "" {
		return nil, nil, fmt.Errorf("%s: give the repository path, as git:PATH[@REV]", target)
	}
	tmp, err := os.MkdirTemp("", "tether-git-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(tmp)
	o, skipped, err := source.Export(ctx, repoPath, rev, tmp, maxSourceFile)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range skipped {
		g.logger().Warn("sbom: file too large to catalog, skipped", "path", p, "limit", maxSourceFile)
	}
	s, err := sbom.CatalogDir(ctx, tmp, opts)
	if err != nil {
		return nil, nil, err
	}
	s.Subject = sbom.Subject{Kind: sbom.SubjectGit, Name: target, RepoURL: o.RepoURL, Commit: o.Commit}
	return s, []*graph.Batch{sbom.Facts(s, time.Now())}, nil
}

// maxSourceFile is the largest file of a git revision written out for cataloging.
const maxSourceFile = 256 << 20

// looksLikePath reports whether target can only be meant as a file system path.
func looksLikePath(target string) bool {
	for _, p := range []string{"/", ".", "~"} { // "." covers "./" and "../"
		if strings.HasPrefix(target, p) {
			return true
		}
	}
	return false
}

func platformString(img *image.Image) string {
	p := img.Platform()
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// pickPlatform chooses the image of t to catalog: the only one, the one asked for,
// or linux/amd64.
func pickPlatform(t *image.Target, platform string) (*image.Image, error) {
	if len(t.Images) == 0 {
		return nil, fmt.Errorf("%s holds no image manifests", t.Ref)
	}
	if len(t.Images) == 1 {
		return &t.Images[0], nil
	}
	want := platform
	if want == "" {
		want = "linux/amd64"
	}
	var have []string
	for i := range t.Images {
		p := platformString(&t.Images[i])
		if p == want {
			return &t.Images[i], nil
		}
		have = append(have, p)
	}
	return nil, fmt.Errorf("%s has no %s image (it has %s): pass --platform", t.Ref, want, strings.Join(have, ", "))
}

func writeSBOM(g *globals, s *sbom.SBOM, outs []sbomOutput) error {
	for _, o := range outs {
		enc := sbomFormats[o.format]
		if o.file == "" {
			if err := enc(g.stdout, s); err != nil {
				return err
			}
			continue
		}
		if err := writeFileAtomic(o.file, func(w io.Writer) error { return enc(w, s) }); err != nil {
			return fmt.Errorf("write %s: %w", o.file, err)
		}
		g.say("wrote %s (%s)", o.file, o.format)
	}
	return nil
}

// writeFileAtomic writes through a temporary file renamed into place, so a failed
// write never leaves half a file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tether-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func newIngestCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "ingest",
		Short: "Read facts made by other tools into the graph store",
	}
	sc := &cobra.Command{
		Use:   "sbom FILE",
		Short: "Read a CycloneDX (JSON/XML) or SPDX (JSON/tag-value) SBOM, e.g. from Syft, Trivy or a CI step",
		Example: `  syft ghcr.io/acme/api:1.4.2 -o cyclonedx-json > api.cdx.json
  tether ingest sbom api.cdx.json`,
		Args: args("FILE"),
	}
	out := addOutputFlag(sc, "table", "json")
	sc.RunE = func(c *cobra.Command, a []string) error {
		s, err := decodeSBOMFile(a[0])
		if err != nil {
			return err
		}
		return ingest(c.Context(), g, out, sbom.Facts(s, time.Now()))
	}
	c.AddCommand(sc)
	return c
}

// decodeSBOMFile reads CycloneDX or SPDX, whichever the file is.
func decodeSBOMFile(path string) (*sbom.SBOM, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read SBOM: %w", err)
	}
	s, cdxErr := cyclonedx.Decode(strings.NewReader(string(raw)))
	if cdxErr == nil {
		return s, nil
	}
	s, spdxErr := spdx.Decode(strings.NewReader(string(raw)))
	if spdxErr == nil {
		return s, nil
	}
	return nil, fmt.Errorf("%s is neither CycloneDX (%v) nor SPDX (%v): give a CycloneDX 1.4–1.6 or SPDX 2.2–2.3 document", path, cdxErr, spdxErr)
}
