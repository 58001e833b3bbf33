package report

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tether-sec/tether/sbom"
)

// SBOMTable writes one line per package: name, version, type, where it was found.
func SBOMTable(w io.Writer, s *sbom.SBOM) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tTYPE\tLOCATION")
	for _, p := range s.Packages {
		loc := ""
		if len(p.Locations) > 0 {
			l := p.Locations[0]
			loc = "/" + l.Path
			if l.LayerDigest != "" {
				loc += " (layer " + short(l.LayerDigest) + ")"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, p.Version, p.Type, loc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, pr := range s.Problems {
		fmt.Fprintf(w, "! %s: %s\n", pr.Path, pr.Message)
	}
	return nil
}

// SBOMJSON writes tether's own JSON form of s.
func SBOMJSON(w io.Writer, s *sbom.SBOM) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}
