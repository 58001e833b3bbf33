package spdx

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tether-sec/tether/sbom"
)

// tether keeps what SPDX has no field for as "name=value" lines in a package's (or
// the document's) comment, with the same names as the CycloneDX properties.
const (
	propID            = "tether:id"
	propType          = "tether:type"
	propFoundBy       = "tether:found-by"
	propSourceName    = "tether:source-name"
	propSourceVersion = "tether:source-version"
	propDev           = "tether:dev"
	propLocation      = "tether:location:"
	propProblem       = "tether:problem:"

	propSubjectKind     = "tether:subject:kind"
	propSubjectName     = "tether:subject:name"
	propSubjectDigest   = "tether:subject:image-digest"
	propSubjectPlatform = "tether:subject:platform"
	propSubjectRepo     = "tether:subject:repo-url"
	propSubjectCommit   = "tether:subject:commit"
)

type prop struct{ name, value string }

// packageProps lists the fields of p that SPDX has no place for.
func packageProps(p sbom.Package, id string) []prop {
	var ps []prop
	add := func(name, value string) {
		if value != "" {
			ps = append(ps, prop{name, value})
		}
	}
	if id != p.ID {
		add(propID, p.ID)
	}
	if p.Type != "" && p.Type != purlType(p.PURL) {
		add(propType, p.Type)
	}
	add(propFoundBy, p.FoundBy)
	add(propSourceName, p.SourceName)
	add(propSourceVersion, p.SourceVersion)
	if p.Dev {
		add(propDev, "true")
	}
	for i, l := range p.Locations {
		k := propLocation + strconv.Itoa(i) + ":"
		ps = append(ps, prop{k + "path", l.Path})
		add(k+"layer-digest", l.LayerDigest)
		add(k+"layer-diff-id", l.LayerDiffID)
		if l.LayerIndex != 0 {
			add(k+"layer-index", strconv.Itoa(l.LayerIndex))
		}
		if l.HistoryIndex != 0 {
			add(k+"history-index", strconv.Itoa(l.HistoryIndex))
		}
		add(k+"created-by", l.CreatedBy)
		if l.InBaseImage {
			add(k+"in-base-image", "true")
		}
	}
	return ps
}

// applyProp sets the field of p that name stands for; it reports false for a name
// that is not tether's.
func applyProp(p *sbom.Package, name, value string) bool {
	switch name {
	case propID:
		p.ID = value
	case propType:
		p.Type = value
	case propFoundBy:
		p.FoundBy = value
	case propSourceName:
		p.SourceName = value
	case propSourceVersion:
		p.SourceVersion = value
	case propDev:
		p.Dev = value == "true"
	default:
		rest, ok := strings.CutPrefix(name, propLocation)
		if !ok {
			return false
		}
		idx, field, ok := strings.Cut(rest, ":")
		i, err := strconv.Atoi(idx)
		if !ok || err != nil || i < 0 || i > 10000 {
			return false
		}
		for len(p.Locations) <= i {
			p.Locations = append(p.Locations, sbom.Location{})
		}
		l := &p.Locations[i]
		switch field {
		case "path":
			l.Path = value
		case "layer-digest":
			l.LayerDigest = value
		case "layer-diff-id":
			l.LayerDiffID = value
		case "layer-index":
			l.LayerIndex, _ = strconv.Atoi(value)
		case "history-index":
			l.HistoryIndex, _ = strconv.Atoi(value)
		case "created-by":
			l.CreatedBy = value
		case "in-base-image":
			l.InBaseImage = value == "true"
		}
	}
	return true
}

// formatProps renders props as comment lines.
func formatProps(ps []prop) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r", "<", "\\<").Replace(p.value))
	}
	return b.String()
}

// parseProps reads the tether lines of a comment and returns the other lines.
func parseProps(comment string) (ps []prop, rest string) {
	var other []string
	for line := range strings.SplitSeq(comment, "\n") {
		line = strings.TrimRight(line, "\r")
		name, value, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(name, "tether:") {
			if line != "" {
				other = append(other, line)
			}
			continue
		}
		ps = append(ps, prop{name, unescape(value)})
	}
	return ps, strings.Join(other, "\n")
}

func unescape(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func problemProps(problems []sbom.Problem) []prop {
	var ps []prop
	for i, pr := range problems {
		k := fmt.Sprintf("%s%d:", propProblem, i)
		ps = append(ps, prop{k + "path", pr.Path})
		if pr.Layer != "" {
			ps = append(ps, prop{k + "layer", pr.Layer})
		}
		ps = append(ps, prop{k + "message", pr.Message})
	}
	return ps
}

func applyProblemProp(problems []sbom.Problem, name, value string) []sbom.Problem {
	rest, ok := strings.CutPrefix(name, propProblem)
	if !ok {
		return problems
	}
	idx, field, _ := strings.Cut(rest, ":")
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i > 100000 {
		return problems
	}
	for len(problems) <= i {
		problems = append(problems, sbom.Problem{})
	}
	switch field {
	case "path":
		problems[i].Path = value
	case "layer":
		problems[i].Layer = value
	case "message":
		problems[i].Message = value
	}
	return problems
}

// purlType is the type of a package URL ("pkg:TYPE/..."), lower-cased.
func purlType(purl string) string {
	rest, ok := strings.CutPrefix(purl, "pkg:")
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(rest, "/")
	t, _, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	return strings.ToLower(t)
}

func sortRelationships(rs []sbom.Relationship) {
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.To != b.To {
			return a.To < b.To
		}
		return a.Type < b.Type
	})
}
