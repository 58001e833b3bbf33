package cli

import (
	"github.com/spf13/cobra"

	"github.com/tether-sec/tether/lineage"
	"github.com/tether-sec/tether/report"
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
		if out.value == "json" {
			return report.TraceJSON(g.stdout, t)
		}
		return report.TraceTable(g.stdout, t)
	}
	return c
}
