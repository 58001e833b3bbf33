package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tether-sec/tether/sbom"
)

// SBOMTable writes one line per package: name, version, type, where it was found
// and, for images whose lineage is known, the Dockerfile line that brought it in.
func SBOMTable(w io.Writer, s *sbom.SBOM) error {
	withDockerfile := false
	for _, p := range s.Packages {
		if len(p.Locations) > 0 && p.Locations[0].Dockerfile != nil {
			withDockerfile = true
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "NAME\tVERSION\tTYPE\tLOCATION"
	if withDockerfile {
		header += "\tDOCKERFILE"
	}
	fmt.Fprintln(tw, header)
	for _, p := range s.Packages {
		loc, df := "", ""
		if len(p.Locations) > 0 {
			l := p.Locations[0]
			loc = "/" + l.Path
			if l.LayerDigest != "" {
				loc += " (layer " + short(l.LayerDigest) + ")"
			}
			if d := l.Dockerfile; d != nil {
				df = fmt.Sprintf("%s:%d %s", d.Path, d.StartLine, d.Instruction)
			}
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s", p.Name, p.Version, p.Type, loc)
		if withDockerfile {
			line += "\t" + df
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, pr := range s.Problems {
		fmt.Fprintf(w, "! %s: %s\n", pr.Path, pr.Message)
	}
	if s.Subject.Commit != "" {
		fmt.Fprintf(w, "source: %s@%s\n", s.Subject.RepoURL, s.Subject.Commit)
	}
	return nil
}

// SBOMJSON writes tether's own JSON form of s.
func SBOMJSON(w io.Writer, s *sbom.SBOM) error { return JSON(w, s) }

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}
