package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/sbom"
)

// Contents summarises what is in one step of a chain: the SBOM stored for an
// image or a commit.
type Contents struct {
	Node     graph.ID       `json:"node"`
	Name     string         `json:"name"`
	Packages int            `json:"packages"`
	ByType   map[string]int `json:"by_type,omitempty"`
	Problems int            `json:"problems,omitempty"`
	Created  time.Time      `json:"sbom_created"`
	// Missing is set when no SBOM is stored for the node: the command that makes one.
	Missing string `json:"missing,omitempty"`
}

// Summarize counts the packages of s by type.
func Summarize(node graph.ID, name string, s *sbom.SBOM) Contents {
	c := Contents{Node: node, Name: name, Packages: len(s.Packages), Problems: len(s.Problems), Created: s.Created, ByType: map[string]int{}}
	for _, p := range s.Packages {
		c.ByType[p.Type]++
	}
	return c
}

// ContentsTable writes one line per step: what is in it, or how to find out.
func ContentsTable(w io.Writer, cs []Contents) error {
	if len(cs) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nWhat is in it:")
	for _, c := range cs {
		if c.Missing != "" {
			fmt.Fprintf(w, "  %s: no SBOM yet: run '%s'\n", c.Name, c.Missing)
			continue
		}
		types := make([]string, 0, len(c.ByType))
		for t := range c.ByType {
			types = append(types, t)
		}
		slices.Sort(types)
		parts := make([]string, 0, len(types))
		for _, t := range types {
			parts = append(parts, fmt.Sprintf("%d %s", c.ByType[t], t))
		}
		line := fmt.Sprintf("  %s: %d packages", c.Name, c.Packages)
		if len(parts) > 0 {
			line += " (" + strings.Join(parts, ", ") + ")"
		}
		if c.Problems > 0 {
			line += fmt.Sprintf(", %d unreadable files", c.Problems)
		}
		fmt.Fprintf(w, "%s, SBOM of %s\n", line, c.Created.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return nil
}
