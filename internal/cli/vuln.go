package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/report"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/vex"
	"github.com/tether-sec/tether/vuln"
	"github.com/tether-sec/tether/vulndb"
)

// dbFlags locate the advisory database.
type dbFlags struct{ dir string }

func (f *dbFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.dir, "db-dir", os.Getenv("TETHER_DB_DIR"), "advisory database directory (env TETHER_DB_DIR; default $XDG_CACHE_HOME/tether/db)")
}

func (f *dbFlags) path() (string, error) {
	if f.dir != "" {
		return f.dir, nil
	}
	return vulndb.DefaultDir()
}

func newDBCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "db",
		Short: "Manage the local advisory database (OSV, CISA KEV, FIRST EPSS)",
		Long: `tether matches packages against a local database of OSV advisories, the CISA
Known Exploited Vulnerabilities catalog and FIRST EPSS scores. 'db update' downloads
them; 'db import' builds the database from files for air-gapped sites. Either swaps
the new database in whole: a failed update leaves the old one usable.`,
	}
	var f dbFlags
	var eco []string
	var osvURL, kevURL, epssURL string
	var noKEV, noEPSS bool
	update := &cobra.Command{
		Use:   "update",
		Short: "Download OSV, KEV and EPSS data (only what changed) and rebuild the database",
		Example: `  tether db update
  tether db update --ecosystem Go --ecosystem npm --ecosystem Debian
  tether db update --osv-url https://mirror.example.com/osv`,
		Args: args(),
	}
	f.add(update)
	update.Flags().StringArrayVar(&eco, "ecosystem", nil, "OSV ecosystem to download, repeatable (default: every ecosystem tether catalogs)")
	update.Flags().StringVar(&osvURL, "osv-url", "", "OSV bucket or a mirror laid out like it (default "+vulndb.DefaultOSVBaseURL+")")
	update.Flags().StringVar(&kevURL, "kev-url", "", "CISA KEV catalog JSON (default "+vulndb.DefaultKEVURL+")")
	update.Flags().StringVar(&epssURL, "epss-url", "", "FIRST EPSS CSV (default "+vulndb.DefaultEPSSURL+")")
	update.Flags().BoolVar(&noKEV, "no-kev", false, "leave the CISA KEV catalog out")
	update.Flags().BoolVar(&noEPSS, "no-epss", false, "leave the EPSS scores out")
	update.RunE = func(c *cobra.Command, _ []string) error {
		dir, err := f.path()
		if err != nil {
			return err
		}
		opts := g.dbOptions()
		opts.Ecosystems, opts.OSVBaseURL, opts.KEVURL, opts.EPSSURL = eco, osvURL, kevURL, epssURL
		opts.NoKEV, opts.NoEPSS = noKEV, noEPSS
		st, err := vulndb.Update(c.Context(), dir, opts)
		if err != nil {
			return err
		}
		return printDBStatus(g, st, "table")
	}

	var fi dbFlags
	imp := &cobra.Command{
		Use:   "import PATH",
		Short: "Build the database from local files: OSV zips or JSON laid out like the OSV bucket, a KEV JSON, an EPSS CSV",
		Example: `  tether db import ./advisories      # ./advisories/Go/all.zip, ./advisories/npm/all.zip, known_exploited_vulnerabilities.json, epss_scores-2026-11-23.csv.gz
  tether db import ./Go/all.zip`,
		Args: args("PATH"),
	}
	fi.add(imp)
	imp.RunE = func(c *cobra.Command, a []string) error {
		dir, err := fi.path()
		if err != nil {
			return err
		}
		st, err := vulndb.Import(c.Context(), dir, a[0], g.dbOptions())
		if err != nil {
			return err
		}
		return printDBStatus(g, st, "table")
	}

	var fs dbFlags
	status := &cobra.Command{
		Use:   "status",
		Short: "Show where the advisory data came from, how old it is and what it holds",
		Args:  args(),
	}
	fs.add(status)
	out := addOutputFlag(status, "table", "json")
	status.RunE = func(c *cobra.Command, _ []string) error {
		dir, err := fs.path()
		if err != nil {
			return err
		}
		db, err := vulndb.Open(c.Context(), dir)
		if err != nil {
			return err
		}
		defer db.Close()
		st, err := db.Status(c.Context())
		if err != nil {
			return err
		}
		return printDBStatus(g, st, out.value)
	}
	c.AddCommand(update, imp, status)
	return c
}

func (g *globals) dbOptions() vulndb.Options {
	o := vulndb.Options{Logger: g.logger()}
	if !g.quiet {
		o.Progress = g.stderr
	}
	return o
}

func printDBStatus(g *globals, st vulndb.Status, format string) error {
	if format == "json" {
		return report.JSON(g.stdout, st)
	}
	return report.DBStatusTable(g.stdout, st)
}

// severities are the --fail-on values, lowest first.
var severities = []vuln.Level{vuln.LevelLow, vuln.LevelMedium, vuln.LevelHigh, vuln.LevelCritical}

func newVulnCmd(g *globals) *cobra.Command {
	var f imageFlags
	var df dbFlags
	var failOn string
	var ignoreUnfixed bool
	var vexFiles []string
	c := &cobra.Command{
		Use:   "vuln TARGET",
		Short: "Find the known vulnerabilities of a directory, a git revision, an image or an SBOM file",
		Long: `Catalog TARGET as 'tether sbom' does (or read an SBOM file: CycloneDX or SPDX) and
match every package against the local advisory database ('tether db update' or
'tether db import' first). Matching is exact per ecosystem: version ranges in the
ecosystem's own order, OS packages by their source package and distribution release,
the Go toolchain by the version in each binary. Each finding carries CVSS v4.0/v3.1
scores from the vectors, CISA KEV and EPSS, and the fixed versions for its branch.
Findings are stored in the graph against the package and the image or commit.

-o sarif writes SARIF 2.1.0 for GitHub code scanning (a rule per advisory, each
result at the manifest line, or for an image at the Dockerfile instruction that made
the layer when lineage knows it); -o cyclonedx-json writes the SBOM as CycloneDX 1.6
with its vulnerabilities.

TARGET is anything 'tether sbom' takes, or sbom:FILE for an SBOM file.`,
		Example: `  tether vuln .
  tether vuln ghcr.io/acme/payments-api:1.4.2 --fail-on high
  tether vuln sbom:api.cdx.json -o json
  tether vuln . -o sarif > tether.sarif                 # for GitHub code scanning
  tether vuln ghcr.io/acme/api:1.4.2 -o cyclonedx-json   # the SBOM with its vulnerabilities`,
		Args: args("TARGET"),
	}
	out := addOutputFlag(c, "table", "json", "sarif", "cyclonedx-json")
	f.add(c, "platform of a multi-platform image (os/arch[/variant]; default linux/amd64 or the only one)")
	df.add(c)
	c.Flags().StringVar(&failOn, "fail-on", "", "exit 1 when a finding is at least this severe: low, medium, high, critical")
	c.Flags().BoolVar(&ignoreUnfixed, "ignore-unfixed", false, "leave out findings with no fixed version")
	c.Flags().StringArrayVar(&vexFiles, "vex", nil, "OpenVEX or CycloneDX VEX document whose not_affected/fixed statements suppress findings, repeatable (later statements win)")
	c.RunE = func(c *cobra.Command, a []string) error {
		var threshold vuln.Level
		if failOn != "" {
			for _, l := range severities {
				if strings.EqualFold(string(l), failOn) {
					threshold = l
				}
			}
			if threshold == vuln.LevelUnknown {
				return fmt.Errorf("--fail-on %q: want low, medium, high or critical", failOn)
			}
		}
		ctx := c.Context()
		dir, err := df.path()
		if err != nil {
			return err
		}
		db, err := vulndb.Open(ctx, dir)
		if err != nil {
			return err
		}
		defer db.Close()
		st, err := g.openStore(ctx)
		if err != nil {
			return err
		}
		defer st.Close()

		var s *sbom.SBOM
		if file, ok := strings.CutPrefix(a[0], "sbom:"); ok {
			if s, err = decodeSBOMFile(file); err != nil {
				return err
			}
			if err := ingestInto(ctx, quietGlobals(), st, "table", sbom.Facts(s, time.Now())); err != nil {
				return err
			}
		} else if s, err = runSBOM(ctx, g, st, a[0], f); err != nil {
			return err
		}
		findings, err := vuln.Match(ctx, db, s, vuln.Options{Enricher: dbEnricher{db}, Logger: g.logger()})
		if err != nil {
			return err
		}
		statements, err := readVEX(vexFiles)
		if err != nil {
			return err
		}
		findings = suppressByVEX(g, s, findings, statements)
		if ignoreUnfixed {
			kept := findings[:0]
			for _, fd := range findings {
				if len(fd.Fixed) > 0 {
					kept = append(kept, fd)
				}
			}
			findings = kept
		}
		if err := ingestInto(ctx, quietGlobals(), st, "table", findingFacts(s, findings, time.Now())); err != nil {
			return err
		}
		if err := printFindings(g, out.value, s, findings); err != nil {
			return err
		}
		g.say("%s: %d packages, %d findings", a[0], len(s.Packages), len(findings))
		if threshold != vuln.LevelUnknown {
			n := 0
			for _, fd := range findings {
				if fd.Severity.Level.Rank() >= threshold.Rank() {
					n++
				}
			}
			if n > 0 {
				return &findingsError{n}
			}
		}
		return nil
	}
	return c
}

// printFindings writes findings in one of the -o formats of 'tether vuln'.
func printFindings(g *globals, format string, s *sbom.SBOM, findings []vuln.Finding) error {
	switch format {
	case "json":
		return report.JSON(g.stdout, struct {
			Subject  sbom.Subject   `json:"subject"`
			Findings []vuln.Finding `json:"findings"`
		}{s.Subject, findings})
	case "sarif":
		return report.SARIF(g.stdout, s, findings, report.ToolInfo{Name: sbom.ToolName, Version: releaseVersion()})
	case "cyclonedx-json":
		return report.CycloneDXVulns(g.stdout, s, findings)
	}
	return report.VulnTable(g.stdout, s, findings)
}

// quietGlobals are globals that print nothing, for ingests whose summary the
// command prints itself.
func quietGlobals() *globals { return &globals{quiet: true, stdout: io.Discard, stderr: io.Discard} }

// dbEnricher adapts the advisory database to vuln.Enricher.
type dbEnricher struct{ db *vulndb.DB }

func (e dbEnricher) KEV(ctx context.Context, cve string) (vuln.KEV, bool, error) {
	k, ok, err := e.db.KEV(ctx, cve)
	if err != nil || !ok {
		return vuln.KEV{}, ok, err
	}
	return vuln.KEV{DateAdded: k.DateAdded, KnownRansomware: k.KnownRansomware, DueDate: k.DueDate, RequiredAction: k.RequiredAction}, true, nil
}

func (e dbEnricher) EPSS(ctx context.Context, cve string) (vuln.EPSS, bool, error) {
	s, ok, err := e.db.EPSS(ctx, cve)
	if err != nil || !ok {
		return vuln.EPSS{}, ok, err
	}
	return vuln.EPSS{Score: s.Score, Percentile: s.Percentile, Date: s.Date}, true, nil
}

// VulnAttrs are the attributes of a vulnerability node.
type VulnAttrs struct {
	Aliases    []string `json:"aliases,omitempty"`
	Advisories []string `json:"advisories,omitempty"`
	Summary    string   `json:"summary,omitempty"`
	Severity   string   `json:"severity,omitempty"`
	Score      float64  `json:"score,omitempty"`
	CVSSv3     string   `json:"cvss_v3,omitempty"`
	CVSSv4     string   `json:"cvss_v4,omitempty"`
	KEV        bool     `json:"kev,omitempty"`
	Ransomware bool     `json:"kev_ransomware,omitempty"`
	EPSS       float64  `json:"epss,omitempty"`
	EPSSPct    float64  `json:"epss_percentile,omitempty"`
}

// findingFacts draws vulnerability nodes and package → vulnerability affected_by
// edges, with the ecosystem, version and fixed versions matched.
func findingFacts(s *sbom.SBOM, findings []vuln.Finding, at time.Time) *graph.Batch {
	b := graph.NewBatch("vuln", s.Subject.Name, at)
	purls := purlsByID(s)
	// One purl can sit in several Go binaries of a subject: its code is present
	// when any binary holds it, absent when every one was checked and none does.
	type pair struct{ purl, id string }
	code := map[pair]vuln.CodePresence{}
	for _, fd := range findings {
		k := pair{purls[fd.PackageID], fd.ID}
		prev, seen := code[k]
		switch {
		case !seen:
			code[k] = fd.Code
		case prev == vuln.CodePresent || fd.Code == vuln.CodePresent:
			code[k] = vuln.CodePresent
		case prev == "" || fd.Code == "":
			code[k] = ""
		}
	}
	for _, fd := range findings {
		purl := purls[fd.PackageID]
		if purl == "" {
			continue
		}
		a := VulnAttrs{Aliases: fd.Aliases, Advisories: fd.Advisories, Summary: fd.Summary,
			Severity: string(fd.Severity.Level), Score: fd.Severity.Score}
		if fd.Severity.V3 != nil {
			a.CVSSv3 = fd.Severity.V3.Vector
		}
		if fd.Severity.V4 != nil {
			a.CVSSv4 = fd.Severity.V4.Vector
		}
		if fd.KEV != nil {
			a.KEV, a.Ransomware = true, fd.KEV.KnownRansomware
		}
		if fd.EPSS != nil {
			a.EPSS, a.EPSSPct = fd.EPSS.Score, fd.EPSS.Percentile
		}
		vid := graph.VulnerabilityID(fd.ID)
		b.AddNode(graph.Node{ID: vid, Kind: graph.KindVulnerability, Name: fd.ID, Attrs: graph.Attrs(a)})
		pid := graph.PackageID(purl)
		b.AddNode(graph.Node{ID: pid, Kind: graph.KindPackage, Name: fd.Package, Stub: true})
		b.AddEdge(graph.Edge{
			From: pid, Kind: graph.EdgeAffectedBy, To: vid, Method: "osv-match", Confidence: 1,
			Evidence: []graph.Evidence{{Source: "osv", Detail: strings.Join(fd.Advisories, ", ") + " affects " + fd.Ecosystem + " " + fd.Package + " " + fd.Version}},
			Attrs:    edgeAttrs(fd, code[pair{purl, fd.ID}]),
		})
	}
	return b
}

// edgeAttrs are the attributes of an affected_by edge; "code" is "present" or
// "absent" where the Go binaries were checked for the advisory's symbols.
func edgeAttrs(fd vuln.Finding, code vuln.CodePresence) map[string]any {
	a := map[string]any{"ecosystem": fd.Ecosystem, "version": fd.Version, "fixed": anySlice(fd.Fixed)}
	if code != "" {
		a["code"] = string(code)
	}
	return a
}

func anySlice(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// readVEX reads every --vex document, in order.
func readVEX(files []string) ([]vex.Statement, error) {
	var all []vex.Statement
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("--vex: %w", err)
		}
		st, err := vex.Decode(fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("--vex %s: %w", f, err)
		}
		all = append(all, st...)
	}
	return all, nil
}

// suppressByVEX drops the findings a VEX statement marks not_affected or fixed,
// saying which and why on stderr.
func suppressByVEX(g *globals, s *sbom.SBOM, findings []vuln.Finding, statements []vex.Statement) []vuln.Finding {
	if len(statements) == 0 {
		return findings
	}
	purls := purlsByID(s)
	kept := findings[:0]
	for _, fd := range findings {
		vf := vex.Finding{IDs: append([]string{fd.ID}, fd.Aliases...), PURL: purls[fd.PackageID], Image: s.Subject.ImageDigest}
		if st, ok := vex.First(statements, vf); ok {
			why := st.Justification
			if why == "" {
				why = st.Impact
			}
			g.say("%s in %s suppressed by %s: %s (%s)", fd.ID, vf.PURL, st.Source, st.Status, why)
			continue
		}
		kept = append(kept, fd)
	}
	return kept
}

// purlsByID maps the package IDs of s to their purls.
func purlsByID(s *sbom.SBOM) map[string]string {
	m := make(map[string]string, len(s.Packages))
	for _, p := range s.Packages {
		m[p.ID] = p.PURL
	}
	return m
}
