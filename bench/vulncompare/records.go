package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// written holds the OSV records written for this benchmark from public
// advisories (records/README.md), for ecosystems of which no real bulk OSV
// data is available here.
//
//go:embed records
var written embed.FS

// sharedZips are the real OSV dumps of shared/data/osv used as they are.
var sharedZips = []string{"AlmaLinux", "Bitnami", "Go", "PyPI", "crates.io"}

// buildAdvisories lays out the advisory data both tools read: dir/osv-scalibr/
// <Ecosystem>/all.zip, the folder osv-scanner v2.5.0 reads with --offline
// --local-db-path dir (scalibr's local matcher; v1 read dir/osv-scanner/…).
// The shared zips are linked; npm and Maven are zipped from the written
// records; Debian is converted from the Debian Security Advisory list. It
// returns a line per ecosystem for the report.
func buildAdvisories(dir, data string) ([]string, error) {
	root := filepath.Join(dir, "osv-scalibr")
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	var lines []string
	for _, eco := range sharedZips {
		src, err := filepath.Abs(filepath.Join(data, "osv", eco, "all.zip"))
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("shared OSV data: %w", err)
		}
		if err := os.MkdirAll(filepath.Join(root, eco), 0o755); err != nil {
			return nil, err
		}
		if err := os.Symlink(src, filepath.Join(root, eco, "all.zip")); err != nil {
			return nil, err
		}
		lines = append(lines, fmt.Sprintf("%s: %s (real)", eco, src))
	}
	for _, eco := range []string{"npm", "Maven"} {
		files := map[string][]byte{}
		err := fs.WalkDir(written, "records/"+eco, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := written.ReadFile(p)
			files[path.Base(p)] = b
			return err
		})
		if err != nil {
			return nil, err
		}
		if err := writeZip(filepath.Join(root, eco, "all.zip"), files); err != nil {
			return nil, err
		}
		lines = append(lines, fmt.Sprintf("%s: %d records written from public GitHub advisories (bench/vulncompare/records/%s)", eco, len(files), eco))
	}
	dsa := filepath.Join(data, "debian-security-tracker", "DSA-list.txt")
	recs, err := dsaRecords(dsa)
	if err != nil {
		return nil, err
	}
	if err := writeZip(filepath.Join(root, "Debian", "all.zip"), recs); err != nil {
		return nil, err
	}
	lines = append(lines, fmt.Sprintf("Debian: %d records converted from %s as osv.dev converts DSAs", len(recs), dsa))
	return lines, nil
}

// writeZip writes an OSV bucket zip: one <ID>.json per record at the root.
func writeZip(name string, files map[string][]byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: fixedTime})
		if err != nil {
			return err
		}
		if _, err := w.Write(files[n]); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(name, buf.Bytes(), 0o644)
}

// Debian releases by code name, as in the DSA list.
var debianReleases = map[string]string{
	"woody": "3.0", "sarge": "3.1", "etch": "4", "lenny": "5", "squeeze": "6", "wheezy": "7",
	"jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13",
}

var (
	dsaHead    = regexp.MustCompile(`^\[(\d{1,2} \w{3} \d{4})\] (DSA-\d+-\d+) (\S+)(?: - (.*))?$`)
	dsaRelease = regexp.MustCompile(`^\s+\[(\w+)\] - (\S+) (\S+)`)
)

// dsaRecords converts the Debian Security Advisory list into OSV records the
// way osv.dev's published DSA records look (shared/data/debian-security-tracker/
// osv-example-DSA-3029-1.json): ID DSA-N-M, summary "<package> - <title>", the
// CVEs as aliases, and per release line one affected entry "Debian:<release>"
// for the source package, introduced 0, fixed at the version given. Lines
// without a version (<not-affected>, <end-of-life>, <unfixed>) give no entry;
// an advisory with no entry gives no record.
func dsaRecords(name string) (map[string][]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	type affected struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type   string              `json:"type"`
			Events []map[string]string `json:"events"`
		} `json:"ranges"`
	}
	type record struct {
		ID        string     `json:"id"`
		Summary   string     `json:"summary"`
		Affected  []affected `json:"affected"`
		Aliases   []string   `json:"aliases,omitempty"`
		Published string     `json:"published"`
		Modified  string     `json:"modified"`
		Note      struct {
			Source string `json:"source"`
		} `json:"database_specific"`
	}
	out := map[string][]byte{}
	var cur *record
	flush := func() error {
		if cur == nil || len(cur.Affected) == 0 {
			return nil
		}
		b, err := json.MarshalIndent(cur, "", "  ")
		if err != nil {
			return err
		}
		out[cur.ID+".json"] = append(b, '\n')
		return nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := dsaHead.FindStringSubmatch(line); m != nil {
			if err := flush(); err != nil {
				return nil, err
			}
			t, err := time.Parse("2 Jan 2006", m[1])
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %v", name, line, err)
			}
			cur = &record{ID: m[2], Summary: strings.TrimSpace(m[3] + " - " + m[4]),
				Published: t.Format(time.RFC3339), Modified: t.Format(time.RFC3339)}
			cur.Note.Source = "converted by tether's bench/vuln from the Debian Security Advisory list (CVEDB/security-tracker data/DSA/list)"
			continue
		}
		if cur == nil {
			continue
		}
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "{") {
			for _, id := range strings.Fields(strings.Trim(t, "{}")) {
				if strings.HasPrefix(id, "CVE-") {
					cur.Aliases = append(cur.Aliases, id)
				}
			}
			continue
		}
		m := dsaRelease.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(m[3], "<") {
			continue
		}
		rel, ok := debianReleases[m[1]]
		if !ok {
			continue
		}
		var a affected
		a.Package.Ecosystem, a.Package.Name = "Debian:"+rel, m[2]
		a.Ranges = append(a.Ranges, struct {
			Type   string              `json:"type"`
			Events []map[string]string `json:"events"`
		}{"ECOSYSTEM", []map[string]string{{"introduced": "0"}, {"fixed": m[3]}}})
		cur.Affected = append(cur.Affected, a)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no advisory read", name)
	}
	return out, nil
}
