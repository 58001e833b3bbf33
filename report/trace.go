package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/lineage"
)

// TraceJSON writes t as indented JSON.
func TraceJSON(w io.Writer, t *lineage.Trace) error { return JSON(w, t) }

// JSON writes v as indented JSON.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// TraceTable writes t as one table per chain: each link with its method, confidence
// and evidence, then the Dockerfile lines and the gaps.
func TraceTable(w io.Writer, t *lineage.Trace) error {
	fmt.Fprintf(w, "%s %s\n", t.Subject.Kind, t.Subject.Name)
	for _, s := range t.Controllers {
		fmt.Fprintf(w, "  %s %s %s (%s)\n", describe(s.From.Kind, s.From.Name), s.Link, describe(s.To.Kind, s.To.Name+" "+kindOf(s.To)), s.Method)
	}
	for _, ch := range t.Chains {
		fmt.Fprintln(w)
		if ch.Container != "" {
			fmt.Fprintf(w, "container %s\n", ch.Container)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "FROM\tLINK\tTO\tMETHOD\tCONFIDENCE\tEVIDENCE")
		for _, s := range collapseRanges(ch.Steps) {
			ev := make([]string, 0, len(s.Evidence))
			for _, e := range s.Evidence {
				ev = append(ev, e.Detail)
			}
			to := describe(s.To.Kind, s.To.Name)
			if s.To.Stub {
				to += " (not scanned)"
			}
			first := ""
			if len(ev) > 0 {
				first = ev[0]
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%s\n", describe(s.From.Kind, s.From.Name), s.Link, to, s.Method, s.Confidence, first)
			for _, e := range ev[min(1, len(ev)):] {
				fmt.Fprintf(tw, "\t\t\t\t\t%s\n", e)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, s := range ch.Steps {
			if len(s.Lines) == 0 {
				continue
			}
			fmt.Fprintf(w, "\n%s lines that built the image:\n", s.To.Name)
			for _, l := range s.Lines {
				lines := fmt.Sprintf("%d", l.StartLine)
				if l.EndLine > l.StartLine {
					lines = fmt.Sprintf("%d-%d", l.StartLine, l.EndLine)
				}
				fmt.Fprintf(w, "  %6s  %s\n", lines, oneLine(l.Instruction))
			}
		}
		for _, g := range ch.Gaps {
			fmt.Fprintf(w, "\n! %s\n", g)
		}
	}
	return nil
}

func describe(kind any, name string) string { return fmt.Sprintf("%s %s", kind, name) }

func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\\\n", " ")), " ")
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

// ExplainTable writes every method's vote on an image and the decision.
func ExplainTable(w io.Writer, ex *lineage.Explanation) error {
	fmt.Fprintf(w, "%s %s\n\n", ex.Image.Kind, ex.Image.Name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tSAYS\tLINKED\tCONFIDENCE\tWHY / EVIDENCE")
	for _, v := range ex.Votes {
		says := v.Repo
		switch n := len(v.Commits); {
		case n == 1:
			says = strings.TrimPrefix(says+" @ "+shortSHA(v.Commits[0]), " @ ")
		case n > 1:
			says = fmt.Sprintf("%s @ %d commits %s … %s", says, n, shortSHA(v.Commits[0]), shortSHA(v.Commits[n-1]))
		}
		if v.Dockerfile != "" {
			says = v.Dockerfile
		}
		linked, conf := "no", ""
		if v.Linked {
			linked, conf = "yes", fmt.Sprintf("%.2f", v.Confidence)
		}
		lines := []string{}
		if v.Reason != "" {
			lines = append(lines, v.Reason)
		}
		for _, e := range v.Evidence {
			lines = append(lines, e.Detail)
		}
		first := ""
		if len(lines) > 0 {
			first = lines[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.Method, says, linked, conf, first)
		for _, l := range lines[min(1, len(lines)):] {
			fmt.Fprintf(tw, "\t\t\t\t%s\n", l)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ndecision: %s\n", ex.Decision)
	return nil
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// collapseRanges keeps, of a content match's equivalence range, the first
// commit's steps and says how many commits it stands for; the JSON trace keeps
// them all.
func collapseRanges(steps []lineage.Step) []lineage.Step {
	ranged := map[graph.ID]bool{}
	for _, s := range steps {
		if s.Method == lineage.MethodBlobMatch && s.Link == graph.EdgeBuiltFrom {
			ranged[s.To.ID] = true
		}
	}
	if len(ranged) <= 1 {
		return steps
	}
	var out []lineage.Step
	kept := false
	for _, s := range steps {
		switch {
		case s.Method == lineage.MethodBlobMatch && s.Link == graph.EdgeBuiltFrom:
			if kept {
				continue
			}
			kept = true
			s.To.Name += fmt.Sprintf(" (+%d equivalent)", len(ranged)-1)
		case ranged[s.From.ID] && s.Link == graph.EdgeInRepo && kept && !firstOfRange(out, s.From.ID):
			continue
		}
		out = append(out, s)
	}
	return out
}

// firstOfRange reports whether the kept range step in out leads to commit id.
func firstOfRange(out []lineage.Step, id graph.ID) bool {
	for _, s := range out {
		if s.Method == lineage.MethodBlobMatch && s.To.ID == id {
			return true
		}
	}
	return false
}

// kindOf is the Kubernetes kind in a workload's ID ("workload:CLUSTER/NS/KIND/NAME").
func kindOf(n lineage.NodeRef) string {
	parts := strings.Split(n.ID.Key(), "/")
	if n.Kind != graph.KindWorkload || len(parts) < 4 {
		return ""
	}
	return "[" + parts[len(parts)-2] + "]"
}
