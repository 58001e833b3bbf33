package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/vuln"
	"github.com/tether-sec/tether/vulndb"
)

// VulnTable writes one line per finding, most severe first: the advisory, the
// package and version, severity and score, KEV and EPSS, the fixed versions, and
// whether a Go binary holds the affected code ("present", "absent", empty when
// unknown), and where the package was found (for images the layer's Dockerfile
// line when known).
func VulnTable(w io.Writer, s *sbom.SBOM, findings []vuln.Finding) error {
	pkgs := packagesByID(s)
	fs := slices.Clone(findings)
	slices.SortStableFunc(fs, func(a, b vuln.Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity.Level.Rank(), a.Severity.Level.Rank()),
			cmp.Compare(b.Severity.Score, a.Severity.Score),
			strings.Compare(a.ID, b.ID),
		)
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPACKAGE\tVERSION\tSEVERITY\tKEV\tEPSS\tFIXED IN\tVULN CODE\tFOUND AT")
	for _, f := range fs {
		p := pkgs[f.PackageID]
		sev := string(f.Severity.Level)
		if sev == "" {
			sev = "unknown"
		}
		if f.Severity.Score > 0 {
			sev += fmt.Sprintf(" %.1f", f.Severity.Score)
		}
		kev := ""
		if f.KEV != nil {
			kev = "yes"
			if f.KEV.KnownRansomware {
				kev += " (ransomware)"
			}
		}
		epss := ""
		if f.EPSS != nil {
			epss = fmt.Sprintf("%.2f%%", f.EPSS.Score*100)
		}
		name := p.Name
		if name == "" {
			name = f.Package
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, name, p.Version, sev, kev, epss, strings.Join(f.Fixed, ", "), f.Code, foundAt(p))
	}
	return tw.Flush()
}

func foundAt(p sbom.Package) string {
	if len(p.Locations) == 0 {
		return ""
	}
	l := p.Locations[0]
	if d := l.Dockerfile; d != nil {
		return fmt.Sprintf("%s:%d %s", d.Path, d.StartLine, d.Instruction)
	}
	if l.LayerDigest != "" {
		return "/" + l.Path + " (layer " + short(l.LayerDigest) + ")"
	}
	return l.Path
}

// DBStatusTable writes what the advisory database holds and where it came from.
func DBStatusTable(w io.Writer, st vulndb.Status) error {
	fmt.Fprintf(w, "advisory database %s, built %s (%s ago)\n", st.Dir, st.Built.UTC().Format(time.RFC3339), time.Since(st.Built).Round(time.Minute))
	fmt.Fprintf(w, "%d advisories (%d withdrawn), %d KEV entries, %d EPSS scores", st.Advisories, st.Withdrawn, st.KEV, st.EPSS)
	if st.Warnings > 0 {
		fmt.Fprintf(w, ", %d inputs skipped (see -d)", st.Warnings)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tRECORDS\tFETCHED\tVERSION\tFROM")
	for _, s := range st.Sources {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", s.Name, s.Records, s.Fetched.UTC().Format("2006-01-02 15:04"), s.Version, s.Location)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	ecos := make([]string, 0, len(st.ByEcosystem))
	for e := range st.ByEcosystem {
		ecos = append(ecos, e)
	}
	slices.Sort(ecos)
	parts := make([]string, 0, len(ecos))
	for _, e := range ecos {
		parts = append(parts, fmt.Sprintf("%s %d", e, st.ByEcosystem[e]))
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "by ecosystem: %s\n", strings.Join(parts, ", "))
	}
	return nil
}
