package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/vuln"
)

// This file holds the machine-readable vulnerability reports: SARIF 2.1.0 for
// code scanning (GitHub) and CycloneDX 1.6 with vulnerabilities.

// ToolInfo names the program in a SARIF log (run.tool.driver).
type ToolInfo struct {
	// Name defaults to "tether".
	Name string
	// Version is the program's version; empty leaves it out.
	Version string
	// InformationURI defaults to https://github.com/tether-sec/tether.
	InformationURI string
}

// SARIFSchemaURI is the OASIS SARIF 2.1.0 schema (errata 01) that SARIF logs name
// and are checked against.
const SARIFSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

const (
	defaultToolName = "tether"
	defaultToolURI  = "https://github.com/tether-sec/tether"
	// fingerprintKey names tether's partialFingerprints entry; bump the version
	// if what it hashes changes, so that code scanning does not mix the two.
	fingerprintKey = "tether/v1"
	// maxLineScan is the largest manifest read to find a package's line.
	maxLineScan = 16 << 20
)

// SARIF writes findings as a SARIF 2.1.0 log that GitHub code scanning accepts:
// one run; one rule per advisory group (Finding.ID) with the CVSS score as
// "security-severity"; one result per finding, located at the Dockerfile
// instruction that made the package's layer when lineage knows it, else at the
// package's first location (for a directory, the line of the manifest that names
// the package when the file can be read under the subject's path; line 1 when
// not). partialFingerprints hash the rule, the package without its version and
// the path, so an alert survives an upgrade that does not fix it. The same input
// gives the same bytes.
func SARIF(w io.Writer, s *sbom.SBOM, findings []vuln.Finding, tool ToolInfo) error {
	if s == nil {
		return fmt.Errorf("report: SARIF of a nil SBOM")
	}
	pkgs := packagesByID(s)
	sorted := sortedFindings(findings)
	lines := newLineFinder(s.Subject)

	rules := []sarifRule{}
	ruleIndex := map[string]int{}
	for _, g := range groupByID(sorted) {
		ruleIndex[g[0].ID] = len(rules)
		rules = append(rules, sarifRuleOf(g))
	}

	results := make([]sarifResult, 0, len(sorted))
	for _, f := range sorted {
		p := pkgs[f.PackageID]
		loc := sarifLocationOf(p, lines)
		results = append(results, sarifResult{
			RuleID:    f.ID,
			RuleIndex: ruleIndex[f.ID],
			Level:     sarifLevel(f.Severity.Level),
			Message:   sarifText{Text: sarifMessage(f, p)},
			Locations: []sarifLocation{loc},
			PartialFingerprints: map[string]string{
				fingerprintKey: fingerprint(f, p, loc.PhysicalLocation.ArtifactLocation.URI),
			},
			Properties: sarifResultProps(f, p),
		})
	}

	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           cmp.Or(tool.Name, defaultToolName),
			Version:        tool.Version,
			InformationURI: cmp.Or(tool.InformationURI, defaultToolURI),
			Rules:          rules,
		}},
		Results: results,
	}
	if vcs := versionControl(s.Subject); vcs != nil {
		run.VersionControlProvenance = []sarifVCS{*vcs}
	}
	log := sarifLog{Schema: SARIFSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("report: writing SARIF: %w", err)
	}
	return nil
}

// SARIF 2.1.0 objects, only the properties tether writes, in the spec's order.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool                     sarifTool     `json:"tool"`
		VersionControlProvenance []sarifVCS    `json:"versionControlProvenance,omitempty"`
		Results                  []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string            `json:"id"`
		ShortDescription     sarifText         `json:"shortDescription"`
		FullDescription      sarifText         `json:"fullDescription"`
		DefaultConfiguration sarifConfig       `json:"defaultConfiguration"`
		HelpURI              string            `json:"helpUri"`
		Help                 sarifMultiformat  `json:"help"`
		Properties           sarifRuleProperty `json:"properties"`
	}
	sarifConfig struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifMultiformat struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown"`
	}
	sarifRuleProperty struct {
		Tags             []string `json:"tags"`
		SecuritySeverity string   `json:"security-severity,omitempty"`
		Precision        string   `json:"precision"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             sarifText         `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          sarifResultProp   `json:"properties"`
	}
	sarifResultProp struct {
		Package   string   `json:"package"`
		Version   string   `json:"version,omitempty"`
		PURL      string   `json:"purl,omitempty"`
		Ecosystem string   `json:"ecosystem,omitempty"`
		Fixed     []string `json:"fixedVersions,omitempty"`
		KEV       bool     `json:"kev,omitempty"`
		EPSS      *float64 `json:"epss,omitempty"`
		// Code is "present" or "absent" where a Go binary was checked for
		// the advisory's symbols.
		Code string `json:"vulnerableCode,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
		Message          *sarifText    `json:"message,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           sarifRegion   `json:"region"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
		EndLine   int `json:"endLine,omitempty"`
	}
	sarifVCS struct {
		RepositoryURI string `json:"repositoryUri"`
		RevisionID    string `json:"revisionId,omitempty"`
	}
)

func packagesByID(s *sbom.SBOM) map[string]sbom.Package {
	m := make(map[string]sbom.Package, len(s.Packages))
	for _, p := range s.Packages {
		m[p.ID] = p
	}
	return m
}

// sortedFindings orders findings by advisory group, then package, whatever order
// the caller had them in.
func sortedFindings(findings []vuln.Finding) []vuln.Finding {
	out := slices.Clone(findings)
	slices.SortStableFunc(out, func(a, b vuln.Finding) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.PackageID, b.PackageID), cmp.Compare(a.PURL, b.PURL))
	})
	return out
}

// groupByID splits sorted findings into runs of one advisory group.
func groupByID(sorted []vuln.Finding) [][]vuln.Finding {
	var out [][]vuln.Finding
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j].ID == sorted[i].ID {
			j++
		}
		out = append(out, sorted[i:j])
		i = j
	}
	return out
}

// sarifRuleOf describes one advisory group. The group's findings share their
// advisory data (summary, severity, aliases); ecosystems may differ.
func sarifRuleOf(g []vuln.Finding) sarifRule {
	f := g[0]
	short := cmp.Or(f.Summary, f.ID)
	full := short
	if len(f.Aliases) > 0 {
		full = strings.TrimSuffix(full, ".") + ". Also known as " + strings.Join(f.Aliases, ", ") + "."
	}
	tags := []string{"security"}
	for _, x := range g {
		if e := ecosystemTag(x.Ecosystem); e != "" && !slices.Contains(tags, e) {
			tags = append(tags, e)
		}
	}
	slices.Sort(tags[1:])
	return sarifRule{
		ID:                   f.ID,
		ShortDescription:     sarifText{Text: short},
		FullDescription:      sarifText{Text: full},
		DefaultConfiguration: sarifConfig{Level: sarifLevel(f.Severity.Level)},
		HelpURI:              advisoryURL(f.ID),
		Help:                 sarifHelp(g),
		Properties: sarifRuleProperty{
			Tags:             tags,
			SecuritySeverity: securitySeverity(f.Severity),
			// Matching is exact per ecosystem: an affected version range, not a guess.
			Precision: "very-high",
		},
	}
}

// ecosystemTag is the ecosystem without its release ("Debian:12" → "Debian").
func ecosystemTag(eco string) string {
	e, _, _ := strings.Cut(eco, ":")
	return e
}

func sarifHelp(g []vuln.Finding) sarifMultiformat {
	f := g[0]
	var text, md strings.Builder
	title := cmp.Or(f.Summary, f.ID)
	fmt.Fprintf(&text, "%s: %s\n", f.ID, title)
	fmt.Fprintf(&md, "**%s**: %s\n\n", f.ID, markdownEscape(title))
	if sev := severityText(f.Severity); sev != "" {
		fmt.Fprintf(&text, "Severity: %s\n", sev)
		fmt.Fprintf(&md, "Severity: %s\n\n", sev)
	}
	if f.KEV != nil {
		kev := "listed in CISA KEV since " + f.KEV.DateAdded.UTC().Format("2006-01-02")
		if f.KEV.KnownRansomware {
			kev += ", known ransomware use"
		}
		fmt.Fprintf(&text, "Exploited: %s\n", kev)
		fmt.Fprintf(&md, "Exploited: %s\n\n", kev)
	}
	if f.EPSS != nil {
		epss := fmt.Sprintf("%.2f%% (percentile %.2f)", f.EPSS.Score*100, f.EPSS.Percentile)
		fmt.Fprintf(&text, "EPSS: %s\n", epss)
		fmt.Fprintf(&md, "EPSS: %s\n\n", epss)
	}
	if len(f.Aliases) > 0 {
		fmt.Fprintf(&text, "Aliases: %s\n", strings.Join(f.Aliases, ", "))
		fmt.Fprintf(&md, "Aliases: %s\n\n", strings.Join(f.Aliases, ", "))
	}
	md.WriteString("| Package | Version | Fixed in |\n| --- | --- | --- |\n")
	for _, x := range g {
		fixed := "fixed in " + strings.Join(x.Fixed, ", ")
		if len(x.Fixed) == 0 {
			fixed = "no fix known"
		}
		fmt.Fprintf(&text, "%s %s: %s\n", x.Package, x.Version, fixed)
		fmt.Fprintf(&md, "| %s | %s | %s |\n", markdownEscape(x.Package), markdownEscape(x.Version), markdownEscape(strings.TrimPrefix(fixed, "fixed in ")))
	}
	fmt.Fprintf(&text, "Advisory: %s\n", advisoryURL(f.ID))
	fmt.Fprintf(&md, "\n[%s](%s)\n", f.ID, advisoryURL(f.ID))
	return sarifMultiformat{Text: text.String(), Markdown: md.String()}
}

var markdownEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;")

func markdownEscape(s string) string { return markdownEscaper.Replace(s) }

// severityText reads "high, CVSS 3.1 7.5 (CVSS:3.1/…)".
func severityText(sev vuln.Severity) string {
	var parts []string
	if sev.Level != vuln.LevelUnknown {
		parts = append(parts, strings.ToLower(string(sev.Level)))
	}
	for _, c := range []*vuln.CVSS{sev.V4, sev.V3, sev.V2} {
		if c != nil {
			parts = append(parts, fmt.Sprintf("CVSS %s %.1f (%s)", c.Version, c.Score, c.Vector))
		}
	}
	if len(parts) == 0 && sev.Database != "" {
		parts = append(parts, sev.Database)
	}
	return strings.Join(parts, ", ")
}

// securitySeverity is the score GitHub ranks alerts by: the CVSS base score, else
// a score inside the range of the database's word (critical 9.0–10, high 7.0–8.9,
// medium 4.0–6.9, low 0.1–3.9); empty when neither is known.
func securitySeverity(sev vuln.Severity) string {
	score := sev.Score
	if score == 0 {
		switch sev.Level {
		case vuln.LevelCritical:
			score = 9.5
		case vuln.LevelHigh:
			score = 8.0
		case vuln.LevelMedium:
			score = 5.5
		case vuln.LevelLow:
			score = 2.0
		default:
			return ""
		}
	}
	return strconv.FormatFloat(score, 'f', 1, 64)
}

// sarifLevel maps a severity to a SARIF level: error for critical and high,
// warning for medium, note for the rest.
func sarifLevel(l vuln.Level) string {
	switch l {
	case vuln.LevelCritical, vuln.LevelHigh:
		return "error"
	case vuln.LevelMedium:
		return "warning"
	}
	return "note"
}

// advisoryURL is the page of an advisory: NVD for a CVE, osv.dev for the others.
func advisoryURL(id string) string {
	if strings.HasPrefix(id, "CVE-") {
		return "https://nvd.nist.gov/vuln/detail/" + url.PathEscape(id)
	}
	return "https://osv.dev/vulnerability/" + url.PathEscape(id)
}

func sarifMessage(f vuln.Finding, p sbom.Package) string {
	name, version := cmp.Or(p.Name, f.Package), cmp.Or(p.Version, f.Version)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s is affected by %s", name, version, f.ID)
	if sev := strings.ToLower(string(f.Severity.Level)); sev != "" {
		b.WriteString(" (" + sev)
		if f.Severity.Score > 0 {
			fmt.Fprintf(&b, ", CVSS %.1f", f.Severity.Score)
		}
		b.WriteString(")")
	}
	if f.Summary != "" {
		b.WriteString(": " + strings.TrimSuffix(f.Summary, "."))
	}
	b.WriteString(".")
	if f.Package != "" && (f.Package != name || f.Version != strings.TrimPrefix(version, "v")) {
		fmt.Fprintf(&b, " Matched as %s %s %s.", f.Ecosystem, f.Package, f.Version)
	}
	if len(f.Fixed) > 0 {
		fmt.Fprintf(&b, " Fixed in %s.", strings.Join(f.Fixed, ", "))
	} else {
		b.WriteString(" No fixed version is known.")
	}
	if f.KEV != nil {
		b.WriteString(" Known to be exploited (CISA KEV).")
	}
	switch f.Code {
	case vuln.CodePresent:
		fmt.Fprintf(&b, " The binary contains the affected code: %s.", strings.Join(f.Present, ", "))
	case vuln.CodeAbsent:
		b.WriteString(" The binary contains none of the affected functions.")
	}
	return b.String()
}

func sarifResultProps(f vuln.Finding, p sbom.Package) sarifResultProp {
	r := sarifResultProp{
		Package: cmp.Or(p.Name, f.Package), Version: cmp.Or(p.Version, f.Version),
		PURL: cmp.Or(p.PURL, f.PURL), Ecosystem: f.Ecosystem, Fixed: f.Fixed, KEV: f.KEV != nil,
		Code: string(f.Code),
	}
	if f.EPSS != nil {
		e := f.EPSS.Score
		r.EPSS = &e
	}
	return r
}

// sarifLocationOf places a finding: the Dockerfile instruction that made the
// package's layer, else the package's first location.
func sarifLocationOf(p sbom.Package, lines *lineFinder) sarifLocation {
	for _, l := range p.Locations {
		if d := l.Dockerfile; d != nil && d.Path != "" {
			start := max(d.StartLine, 1)
			r := sarifRegion{StartLine: start}
			if d.EndLine > start {
				r.EndLine = d.EndLine
			}
			msg := strings.TrimSpace(d.Instruction + " instruction that added /" + l.Path)
			return sarifLocation{
				PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: uriOf(d.Path)}, Region: r},
				Message:          &sarifText{Text: msg},
			}
		}
	}
	file := ""
	if len(p.Locations) > 0 {
		file = p.Locations[0].Path
	}
	if file == "" {
		// A package from an SBOM file can come without a location; code scanning
		// wants one all the same.
		file = "."
	}
	line := max(lines.find(file, p.Name, p.Version), 1)
	loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: uriOf(file)}, Region: sarifRegion{StartLine: line}}}
	if len(p.Locations) > 0 && p.Locations[0].LayerDigest != "" {
		// A path inside an image: say which layer, since it is not in the repository.
		l := p.Locations[0]
		msg := "/" + l.Path + " in image layer " + l.LayerDigest
		if l.InBaseImage {
			msg += " (from the base image)"
		}
		loc.Message = &sarifText{Text: msg}
	}
	return loc
}

// uriOf turns a slash-separated relative path into a URI reference.
func uriOf(p string) string {
	p = strings.TrimPrefix(p, "/")
	return (&url.URL{Path: p}).String()
}

// fingerprint identifies a result across runs: the rule, the package without its
// version (an upgrade that does not fix the advisory keeps the alert) and the
// file.
func fingerprint(f vuln.Finding, p sbom.Package, uri string) string {
	id := versionless(cmp.Or(p.PURL, f.PURL))
	if id == "" {
		id = p.Type + "/" + cmp.Or(p.Name, f.Package)
	}
	h := sha256.Sum256([]byte(f.ID + "\x00" + id + "\x00" + uri))
	return hex.EncodeToString(h[:16])
}

// versionless drops the version of a purl, keeping its qualifiers.
func versionless(purl string) string {
	base, rest := purl, ""
	if i := strings.IndexAny(purl, "?#"); i >= 0 {
		base, rest = purl[:i], purl[i:]
	}
	if i := strings.LastIndexByte(base, '@'); i > strings.LastIndexByte(base, '/') {
		base = base[:i]
	}
	return base + rest
}

// versionControl names the repository and commit of a subject whose source is
// known, when the repository is an absolute URL.
func versionControl(sub sbom.Subject) *sarifVCS {
	u, err := url.Parse(sub.RepoURL)
	if sub.RepoURL == "" || err != nil || u.Scheme == "" || u.Host == "" {
		return nil
	}
	return &sarifVCS{RepositoryURI: sub.RepoURL, RevisionID: sub.Commit}
}

// lineFinder finds the line of a manifest that names a package, for directory
// subjects whose files are still where the SBOM says.
type lineFinder struct {
	fsys  fs.FS
	files map[string]*textFile
}

// textFile is a file's text with the offset where each line starts.
type textFile struct {
	text   string
	starts []int
}

func newLineFinder(sub sbom.Subject) *lineFinder {
	lf := &lineFinder{files: map[string]*textFile{}}
	if sub.Kind == sbom.SubjectDirectory && sub.Name != "" {
		if st, err := os.Stat(sub.Name); err == nil && st.IsDir() {
			lf.fsys = os.DirFS(sub.Name)
		}
	}
	return lf
}

// find returns the 1-based number of the first line that names the package as a
// whole word with its version on that line or the next three before the package is
// named again (a lockfile entry), else the first line that names it, else 0.
func (lf *lineFinder) find(file, name, version string) int {
	if lf.fsys == nil || name == "" || !fs.ValidPath(file) {
		return 0
	}
	tf, ok := lf.files[file]
	if !ok {
		tf = readText(lf.fsys, file)
		lf.files[file] = tf
	}
	if tf == nil {
		return 0
	}
	first := 0
	for off := 0; ; {
		i := strings.Index(tf.text[off:], name)
		if i < 0 {
			break
		}
		i += off
		off = i + 1
		if !wordAt(tf.text, i, len(name)) {
			continue
		}
		n, _ := slices.BinarySearch(tf.starts, i+1) // lines starting at or before i
		if first == 0 {
			first = n
		}
		if version == "" {
			break
		}
		for j := n - 1; j < min(n+3, len(tf.starts)); j++ {
			l := tf.lines(j, j+1)
			if namesVersion(l, version) {
				return n
			}
			if j > n-1 && namesWord(l, name) {
				break // another entry that names the package
			}
		}
		off = tf.end(n - 1) // the next line
	}
	return first
}

// lines returns lines [from, to) (0-based) as one string.
func (tf *textFile) lines(from, to int) string {
	return tf.text[tf.starts[from]:tf.end(min(to, len(tf.starts))-1)]
}

// end is the offset where line i (0-based) ends, its newline included.
func (tf *textFile) end(i int) int {
	if i+1 < len(tf.starts) {
		return tf.starts[i+1]
	}
	return len(tf.text)
}

func readText(fsys fs.FS, file string) *textFile {
	f, err := fsys.Open(path.Clean(file))
	if err != nil {
		return nil
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() || st.Size() > maxLineScan {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(f, maxLineScan+1))
	if err != nil || len(b) > maxLineScan {
		return nil
	}
	tf := &textFile{text: string(b), starts: []int{0}}
	for i, c := range b {
		if c == '\n' && i+1 < len(b) {
			tf.starts = append(tf.starts, i+1)
		}
	}
	return tf
}

// namesWord reports whether line holds word with no name character either side
// ("lodash" is in `"node_modules/lodash": {`, not in `"lodash.merge"`).
func namesWord(line, word string) bool {
	for off := 0; ; {
		i := strings.Index(line[off:], word)
		if i < 0 {
			return false
		}
		if wordAt(line, off+i, len(word)) {
			return true
		}
		off += i + 1
	}
}

// wordAt reports whether text[i:i+n] has no name character either side.
func wordAt(text string, i, n int) bool {
	j := i + n
	return (i == 0 || !isNameByte(text[i-1])) && (j == len(text) || !isNameByte(text[j]))
}

// namesVersion reports whether line holds version as a whole: "4.17.20" is in
// "^4.17.20" and "lodash-4.17.20.tgz", not in "14.17.20", "4.17.201" or "4.17.20.1".
func namesVersion(line, version string) bool {
	isVer := func(b byte) bool { return isNameByte(b) && b != '-' }
	isDigit := func(b byte) bool { return b >= '0' && b <= '9' }
	for off := 0; ; {
		i := strings.Index(line[off:], version)
		if i < 0 {
			return false
		}
		i += off
		j := i + len(version)
		before := i == 0 || !isVer(line[i-1])
		after := j == len(line) || !isVer(line[j]) ||
			line[j] == '.' && (j+1 == len(line) || !isDigit(line[j+1])) // "4.17.20.tgz"
		if before && after {
			return true
		}
		off = i + 1
	}
}

func isNameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-'
}
