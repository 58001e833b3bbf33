package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/lineage"
	"github.com/tether-sec/tether/report"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/store"
)

func newTraceCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "trace IMAGE|pod/NAMESPACE/NAME",
		Short: "Show where a pod or image came from: image digest, commit, repository, Dockerfile lines, owner",
		Long: `Show the chain from a running pod (or an image) back to the commit, the Dockerfile
lines and the owner, with the method, confidence and evidence of every link, and
what is missing where the chain stops.

IMAGE is a digest (sha256:…), a reference with a digest, or a reference a scan saw.`,
		Example: `  tether trace pod/payments/payments-api-7d9c6-x2x4q
  tether trace pod/prod-eu-1/payments/payments-api-7d9c6-x2x4q -o json
  tether trace ghcr.io/acme/payments-api:1.4.2`,
		Args: args("IMAGE|pod/NAMESPACE/NAME"),
	}
	out := addOutputFlag(c, "table", "json")
	c.RunE = func(c *cobra.Command, args []string) error {
		st, err := g.openStore(c.Context())
		if err != nil {
			return err
		}
		defer st.Close()
		t, err := lineage.TraceTarget(c.Context(), st, args[0])
		if err != nil {
			return err
		}
		contents, err := chainContents(c.Context(), st, t)
		if err != nil {
			return err
		}
		if out.value == "json" {
			return report.JSON(g.stdout, struct {
				*lineage.Trace
				Contents []report.Contents `json:"contents,omitempty"`
			}{t, contents})
		}
		if err := report.TraceTable(g.stdout, t); err != nil {
			return err
		}
		return report.ContentsTable(g.stdout, contents)
	}
	return c
}

// chainContents reads the SBOM stored for every scanned image and commit of t's
// chains: what is in each step.
func chainContents(ctx context.Context, st store.Store, t *lineage.Trace) ([]report.Contents, error) {
	var refs []lineage.NodeRef
	if t.Subject.Kind == graph.KindImage {
		refs = append(refs, t.Subject)
	}
	for _, ch := range t.Chains {
		for _, s := range ch.Steps {
			refs = append(refs, s.To)
		}
	}
	var out []report.Contents
	seen := map[graph.ID]bool{}
	for _, r := range refs {
		if r.Stub || seen[r.ID] || (r.Kind != graph.KindImage && r.Kind != graph.KindCommit) {
			continue
		}
		seen[r.ID] = true
		key := string(r.ID)
		if r.Kind == graph.KindImage {
			key = strings.TrimPrefix(key, "image:")
		}
		doc, err := st.Document(ctx, SBOMDocumentKind, key)
		if errors.Is(err, store.ErrNotFound) {
			if r.Kind == graph.KindImage {
				out = append(out, report.Contents{Node: r.ID, Name: "image " + r.Name, Missing: "tether sbom " + r.Name})
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		var s sbom.SBOM
		if err := json.Unmarshal(doc, &s); err != nil {
			return nil, fmt.Errorf("the SBOM stored for %s is unreadable (%v): run 'tether sbom' on it again", r.Name, err)
		}
		out = append(out, report.Summarize(r.ID, string(r.Kind)+" "+r.Name, &s))
	}
	return out, nil
}

func newLineageCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "lineage",
		Short: "Explain how tether decided where an image came from",
	}
	explain := &cobra.Command{
		Use:   "explain IMAGE",
		Short: "Show every lineage method's vote on an image and why the resolver decided as it did",
		Long: `Show what each method says about where IMAGE came from — its OCI labels, the
content match of its files against the blob index of the scanned repositories, the
Dockerfile history match — which links the resolver drew, and why it did not draw
the others (a label the image's files contradict, files no commit holds together,
an equivalence range too long, another repository that explains as much).

IMAGE is a digest (sha256:…), a reference with a digest, or a reference a scan saw.`,
		Example: `  tether lineage explain ghcr.io/acme/payments-api:1.4.2
  tether lineage explain sha256:3b1f... -o json`,
		Args: args("IMAGE"),
	}
	out := addOutputFlag(explain, "table", "json")
	explain.RunE = func(c *cobra.Command, args []string) error {
		st, err := g.openStore(c.Context())
		if err != nil {
			return err
		}
		defer st.Close()
		ex, err := lineage.Explain(c.Context(), st, args[0])
		if err != nil {
			return err
		}
		if out.value == "json" {
			return report.JSON(g.stdout, ex)
		}
		return report.ExplainTable(g.stdout, ex)
	}
	c.AddCommand(explain)
	return c
}

func newBuildCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "build",
		Short: "Record what a CI build produced (optional: lineage works without it)",
	}
	var rec lineage.BuildRecord
	record := &cobra.Command{
		Use:   "record --image REF@DIGEST --source-repo URL --source-commit SHA --ci-build-id ID",
		Short: "Record that a CI build produced an image from a commit",
		Long: `Record that a CI build produced an image from a commit, for teams that want a
deterministic link. Nothing in tether requires it: labels, attestations, build
information inside the image and the content match work without it.

The image is linked to the commit (method build-record, confidence 0.95 once the
repository is scanned and holds the commit, 0.8 until then).`,
		Example: `  # in a GitHub Actions step after the push
  tether build record --image ghcr.io/acme/api@${DIGEST} \
    --source-repo https://github.com/${GITHUB_REPOSITORY} --source-branch ${GITHUB_REF_NAME} \
    --source-commit ${GITHUB_SHA} --ci-system github-actions --ci-build-id ${GITHUB_RUN_ID} \
    --ci-url ${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}`,
		Args: cobra.NoArgs,
	}
	var imageRef string
	f := record.Flags()
	f.StringVar(&imageRef, "image", "", "the pushed image with its digest: REF@sha256:… (required)")
	f.StringVar(&rec.SourceRepo, "source-repo", "", "the source repository URL (required)")
	f.StringVar(&rec.SourceBranch, "source-branch", "", "the branch built")
	f.StringVar(&rec.SourceCommit, "source-commit", "", "the full commit SHA built (required)")
	f.StringVar(&rec.CISystem, "ci-system", "ci", "the CI system: github-actions, gitlab-ci, jenkins, …")
	f.StringVar(&rec.CIBuildID, "ci-build-id", "", "the CI run or pipeline ID (required)")
	f.StringVar(&rec.CIURL, "ci-url", "", "a link to the CI run")
	out := addOutputFlag(record, "table", "json")
	record.RunE = func(c *cobra.Command, _ []string) error {
		ref, digest, ok := strings.Cut(imageRef, "@")
		if !ok {
			ref, digest = "", imageRef
		}
		rec.Image, rec.ImageRef = digest, imageRef
		if ref == "" {
			rec.ImageRef = ""
		}
		b, err := lineage.RecordBuild(rec, time.Now())
		if err != nil {
			return err
		}
		return ingest(c.Context(), g, out, b)
	}
	c.AddCommand(record)
	return c
}
