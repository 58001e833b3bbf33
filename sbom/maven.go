package sbom

import (
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	scalibrpurl "github.com/google/osv-scalibr/purl"

	"github.com/tether-sec/tether/sbom/lockdeps"
)

// FoundByPOM names tether's own pom.xml reader in Package.FoundBy.
const FoundByPOM = "tether/pomxml"

// Limits of the pom.xml reader.
const (
	maxPOMFile    = 8 << 20
	maxPOMParents = 16
	maxPOMFiles   = 10000
)

// pom is the part of a Maven POM that names the project and its dependencies.
type pom struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
	Packaging  string `xml:"packaging"`
	Parent     struct {
		GroupID      string  `xml:"groupId"`
		ArtifactID   string  `xml:"artifactId"`
		Version      string  `xml:"version"`
		RelativePath *string `xml:"relativePath"`
	} `xml:"parent"`
	Properties struct {
		Entries []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	} `xml:"properties"`
	Dependencies []pomDependency `xml:"dependencies>dependency"`
	Management   []pomDependency `xml:"dependencyManagement>dependencies>dependency"`
}

type pomDependency struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
	Scope      string `xml:"scope"`
	Type       string `xml:"type"`
}

func readPOM(file string) (*pom, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var p pom
	dec := xml.NewDecoder(io.LimitReader(f, maxPOMFile))
	dec.Strict = false
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("not a POM: %w", err)
	}
	return &p, nil
}

// effectivePOM is a POM with what it inherits from its local parents: properties,
// dependency management, and the group and version.
type effectivePOM struct {
	group, artifact, version string
	props                    map[string]string
	managed                  map[string]pomDependency // groupId:artifactId → managing entry
	deps                     []pomDependency
}

// resolvePOM reads the POM at file (under root) and the local parents it names
// (<relativePath>, default ../pom.xml), nearest first, as long as each parent file is
// the parent the child declares.
func resolvePOM(root, file string) (*effectivePOM, error) {
	p, err := readPOM(file)
	if err != nil {
		return nil, err
	}
	chain := []*pom{p}
	cur, curFile := p, file
	for range maxPOMParents {
		if cur.Parent.ArtifactID == "" {
			break
		}
		rel := "../pom.xml"
		if cur.Parent.RelativePath != nil {
			rel = strings.TrimSpace(*cur.Parent.RelativePath)
		}
		if rel == "" {
			break // <relativePath/>: the parent comes from a repository
		}
		pf := filepath.Join(filepath.Dir(curFile), filepath.FromSlash(rel))
		if fi, err := os.Stat(pf); err == nil && fi.IsDir() {
			pf = filepath.Join(pf, "pom.xml")
		}
		if r, err := filepath.Rel(root, pf); err != nil || strings.HasPrefix(r, "..") {
			break // outside the tree being cataloged
		}
		parent, err := readPOM(pf)
		if err != nil {
			break
		}
		pg := parent.GroupID
		if pg == "" {
			pg = parent.Parent.GroupID
		}
		if parent.ArtifactID != cur.Parent.ArtifactID || (cur.Parent.GroupID != "" && pg != cur.Parent.GroupID) {
			break // a different project sits at that path
		}
		chain = append(chain, parent)
		cur, curFile = parent, pf
	}

	e := &effectivePOM{props: map[string]string{}, managed: map[string]pomDependency{}}
	// Farthest ancestor first, so that children override.
	for i := len(chain) - 1; i >= 0; i-- {
		c := chain[i]
		for _, en := range c.Properties.Entries {
			e.props[en.XMLName.Local] = strings.TrimSpace(en.Value)
		}
		for _, d := range c.Management {
			e.managed[strings.TrimSpace(d.GroupID)+":"+strings.TrimSpace(d.ArtifactID)] = d
		}
		if c.Parent.Version != "" {
			e.props["project.parent.version"] = strings.TrimSpace(c.Parent.Version)
			e.props["project.parent.groupId"] = strings.TrimSpace(c.Parent.GroupID)
		}
		group, version := strings.TrimSpace(c.GroupID), strings.TrimSpace(c.Version)
		if group == "" {
			group = strings.TrimSpace(c.Parent.GroupID)
		}
		if version == "" {
			version = strings.TrimSpace(c.Parent.Version)
		}
		e.group, e.artifact, e.version = group, strings.TrimSpace(c.ArtifactID), version
		for _, k := range []string{"project.", "pom.", ""} {
			e.props[k+"groupId"] = group
			e.props[k+"artifactId"] = e.artifact
			e.props[k+"version"] = version
		}
	}
	e.deps = p.Dependencies
	e.group = e.interpolate(e.group)
	e.version = e.interpolate(e.version)
	return e, nil
}

var pomProperty = regexp.MustCompile(`\$\{([^}]+)\}`)

// interpolate replaces ${name} from the POM's properties, repeatedly (a property
// may name another), and returns "" when something stays unresolved.
func (e *effectivePOM) interpolate(s string) string {
	s = strings.TrimSpace(s)
	for range 10 {
		if !strings.Contains(s, "${") {
			return s
		}
		s = pomProperty.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := e.props[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		})
	}
	if strings.Contains(s, "${") {
		return ""
	}
	return s
}

// mavenVersion is a version worth a package: resolved, and pinned rather than a
// range ("[1.0,2.0)").
func mavenVersion(v string) bool {
	return v != "" && !strings.ContainsAny(v, "[]()${},")
}

// addPOMPackages reads every pom.xml under root the extractors found packages in, or
// that sits in the tree, and adds what osv-scalibr's offline reader leaves out: the
// project itself, and dependencies whose versions come from properties or
// dependency management of a local parent POM. It adds the project's relationships
// to its dependencies as lockfile-style edges.
func addPOMPackages(root string, s *SBOM, log *slog.Logger) []depEdge {
	have := map[string]bool{}
	for _, p := range s.Packages {
		for _, l := range p.Locations {
			have[l.Path+"\x00"+p.PURL] = true
		}
	}
	var files []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "target") && p != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "pom.xml" && len(files) < maxPOMFiles {
			files = append(files, p)
		}
		return nil
	})
	var edges []depEdge
	for _, f := range files {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			continue
		}
		rel = filepath.ToSlash(rel)
		e, err := resolvePOM(root, f)
		if err != nil {
			log.Debug("sbom: pom.xml", "path", rel, "err", err)
			s.Problems = append(s.Problems, Problem{Path: rel, Message: FoundByPOM + ": " + err.Error()})
			continue
		}
		add := func(group, artifact, version string, dev bool) (string, bool) {
			if group == "" || artifact == "" || !mavenVersion(version) {
				return "", false
			}
			pu := &scalibrpurl.PackageURL{Type: scalibrpurl.TypeMaven, Namespace: group, Name: artifact, Version: version}
			purl := pu.String()
			if !have[rel+"\x00"+purl] {
				have[rel+"\x00"+purl] = true
				s.Packages = append(s.Packages, Package{
					Name: group + ":" + artifact, Version: version, Type: "maven", PURL: purl,
					FoundBy: FoundByPOM, Locations: []Location{{Path: rel}}, Dev: dev,
				})
			}
			return purl, true
		}
		_, ok := add(e.group, e.artifact, e.version, false)
		for _, d := range e.deps {
			group, artifact := e.interpolate(d.GroupID), e.interpolate(d.ArtifactID)
			version := e.interpolate(d.Version)
			if version == "" {
				if m, ok := e.managed[group+":"+artifact]; ok {
					version = e.interpolate(m.Version)
				}
			}
			scope := strings.TrimSpace(d.Scope)
			if scope == "import" || scope == "system" {
				continue
			}
			dev := scope == "test"
			if _, added := add(group, artifact, version, dev); added && ok {
				edges = append(edges, depEdge{
					Path: rel,
					From: lockKey(e.group, e.artifact, e.version),
					To:   lockKey(group, artifact, version),
					Dev:  dev,
				})
			}
		}
	}
	return edges
}

func lockKey(group, artifact, version string) lockdeps.Key {
	return lockdeps.Key{Ecosystem: "maven", Name: group + ":" + artifact, Version: version}
}
