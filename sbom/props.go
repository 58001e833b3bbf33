package sbom

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Property names in tether's namespace. CycloneDX writes them as component
// properties, SPDX as "name=value" lines of a package's comment: what the formats
// have no field for (where a package was found, its layer, the extractor) survives a
// round trip through either.
const (
	PropID            = "tether:id"
	PropCPE           = "tether:cpe"
	PropDevDependsOn  = "tether:dev-depends-on"
	PropContains      = "tether:contains"
	PropType          = "tether:type"
	PropFoundBy       = "tether:found-by"
	PropSourceName    = "tether:source-name"
	PropSourceVersion = "tether:source-version"
	PropDev           = "tether:dev"
	PropLocation      = "tether:location:"
	PropProblem       = "tether:problem:"

	PropSubjectKind     = "tether:subject:kind"
	PropSubjectName     = "tether:subject:name"
	PropSubjectDigest   = "tether:subject:image-digest"
	PropSubjectPlatform = "tether:subject:platform"
	PropSubjectRepo     = "tether:subject:repo-url"
	PropSubjectCommit   = "tether:subject:commit"
)

// Property is one name and value in tether's namespace.
type Property struct{ Name, Value string }

// PackageProperties lists the fields of p that SPDX has no place for.
func PackageProperties(p Package, id string) []Property {
	var ps []Property
	add := func(name, value string) {
		if value != "" {
			ps = append(ps, Property{name, value})
		}
	}
	if id != p.ID {
		add(PropID, p.ID)
	}
	if p.Type != "" && p.Type != PURLType(p.PURL) {
		add(PropType, p.Type)
	}
	add(PropFoundBy, p.FoundBy)
	add(PropSourceName, p.SourceName)
	add(PropSourceVersion, p.SourceVersion)
	if p.Dev {
		add(PropDev, "true")
	}
	for i, l := range p.Locations {
		k := PropLocation + strconv.Itoa(i) + ":"
		ps = append(ps, Property{k + "path", l.Path})
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
		if d := l.Dockerfile; d != nil {
			add(k+"dockerfile-path", d.Path)
			add(k+"dockerfile-instruction", d.Instruction)
			add(k+"dockerfile-lines", strconv.Itoa(d.StartLine)+"-"+strconv.Itoa(d.EndLine))
		}
	}
	return ps
}

// ApplyPackageProperty sets the field of p that name stands for; it reports false for a name
// that is not tether's.
func ApplyPackageProperty(p *Package, name, value string) bool {
	switch name {
	case PropID:
		p.ID = value
	case PropType:
		p.Type = value
	case PropFoundBy:
		p.FoundBy = value
	case PropSourceName:
		p.SourceName = value
	case PropSourceVersion:
		p.SourceVersion = value
	case PropDev:
		p.Dev = value == "true"
	default:
		rest, ok := strings.CutPrefix(name, PropLocation)
		if !ok {
			return false
		}
		idx, field, ok := strings.Cut(rest, ":")
		i, err := strconv.Atoi(idx)
		if !ok || err != nil || i < 0 || i > 10000 {
			return false
		}
		for len(p.Locations) <= i {
			p.Locations = append(p.Locations, Location{})
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
		case "dockerfile-path", "dockerfile-instruction", "dockerfile-lines":
			if l.Dockerfile == nil {
				l.Dockerfile = &DockerfileRef{}
			}
			switch field {
			case "dockerfile-path":
				l.Dockerfile.Path = value
			case "dockerfile-instruction":
				l.Dockerfile.Instruction = value
			default:
				a, b, _ := strings.Cut(value, "-")
				l.Dockerfile.StartLine, _ = strconv.Atoi(a)
				l.Dockerfile.EndLine, _ = strconv.Atoi(b)
			}
		}
	}
	return true
}

func ProblemProperties(problems []Problem) []Property {
	var ps []Property
	for i, pr := range problems {
		k := fmt.Sprintf("%s%d:", PropProblem, i)
		ps = append(ps, Property{k + "path", pr.Path})
		if pr.Layer != "" {
			ps = append(ps, Property{k + "layer", pr.Layer})
		}
		ps = append(ps, Property{k + "message", pr.Message})
	}
	return ps
}

func ApplyProblemProperty(problems []Problem, name, value string) []Problem {
	rest, ok := strings.CutPrefix(name, PropProblem)
	if !ok {
		return problems
	}
	idx, field, _ := strings.Cut(rest, ":")
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i > 100000 {
		return problems
	}
	for len(problems) <= i {
		problems = append(problems, Problem{})
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

// PURLType is the type of a package URL ("pkg:TYPE/..."), lower-cased.
func PURLType(purl string) string {
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

func SortRelationships(rs []Relationship) {
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

// FormatComment renders props as comment lines.
func FormatComment(ps []Property) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r", "<", "\\<").Replace(p.Value))
	}
	return b.String()
}

// ParseComment reads the tether lines of a comment and returns the other lines.
func ParseComment(comment string) (ps []Property, rest string) {
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
		ps = append(ps, Property{name, unescapeComment(value)})
	}
	return ps, strings.Join(other, "\n")
}

func unescapeComment(s string) string {
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

// ApplySubjectProperty sets the field of sub that name stands for; it reports false
// for a name that is not one of tether's subject properties.
func ApplySubjectProperty(sub *Subject, name, value string) bool {
	switch name {
	case PropSubjectKind:
		sub.Kind = SubjectKind(value)
	case PropSubjectName:
		sub.Name = value
	case PropSubjectDigest:
		sub.ImageDigest = value
	case PropSubjectPlatform:
		sub.Platform = value
	case PropSubjectRepo:
		sub.RepoURL = value
	case PropSubjectCommit:
		sub.Commit = value
	default:
		return false
	}
	return true
}
