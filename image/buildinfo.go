package image

import (
	"archive/zip"
	"bufio"
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"io"
	"os"
	"path"
	"strings"

	"github.com/tether-sec/tether/graph"
)

// Limits of the build information readers.
const (
	// maxBuildBinary bounds a Go binary or a jar spooled to read its build
	// information.
	maxBuildBinary = 512 << 20
	// maxBuildText bounds a git.properties or package.json read into memory.
	maxBuildText = 1 << 20
)

// buildReader says which files may record their build, and reads them.
type buildReader int

const (
	buildNone   buildReader = iota
	buildBinary             // an executable: a Go binary if it is ELF, Mach-O or PE
	buildJar                // a jar or war: git.properties inside
	buildGitProperties
	buildPackageJSON
)

// buildKindOf picks the reader for the file at p (slash path) with mode and size.
func buildKindOf(p string, mode int64, size int64) buildReader {
	base := path.Base(p)
	switch {
	case size <= 0:
		return buildNone
	case base == "git.properties" && size <= maxBuildText:
		return buildGitProperties
	case base == "package.json" && size <= maxBuildText && !strings.Contains("/"+p, "/node_modules/"):
		return buildPackageJSON
	case (strings.HasSuffix(base, ".jar") || strings.HasSuffix(base, ".war")) && size <= maxBuildBinary:
		return buildJar
	case mode&0o111 != 0 && size <= maxBuildBinary:
		return buildBinary
	}
	return buildNone
}

// executableMagic reports whether head starts an ELF, Mach-O or PE file.
func executableMagic(head []byte) bool {
	return bytes.HasPrefix(head, []byte("\x7fELF")) || bytes.HasPrefix(head, []byte("MZ")) ||
		bytes.HasPrefix(head, []byte("\xcf\xfa\xed\xfe")) || bytes.HasPrefix(head, []byte("\xce\xfa\xed\xfe"))
}

// goBuild reads a Go binary's build information: the main module and the VCS
// stamp the go command writes (vcs.revision, vcs.time, vcs.modified). A binary
// without a revision gives nil.
func goBuild(r io.ReaderAt) *graph.BuildInfo {
	bi, err := buildinfo.Read(r)
	if err != nil {
		return nil
	}
	b := &graph.BuildInfo{Kind: "go-buildinfo", Module: bi.Main.Path}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	if b.Revision == "" {
		return nil
	}
	b.Repo = repoOfModule(bi.Main.Path)
	return b
}

// repoOfModule guesses the repository of a Go module path on the hosts whose
// paths are host/owner/repo; other paths give "".
func repoOfModule(mod string) string {
	parts := strings.Split(mod, "/")
	if len(parts) < 3 {
		return ""
	}
	switch parts[0] {
	case "github.com", "gitlab.com", "bitbucket.org":
		return "https://" + strings.Join(parts[:3], "/")
	}
	return ""
}

// gitProperties reads a git-commit-id-maven-plugin (or Gradle git-properties)
// file: git.commit.id(.full), git.remote.origin.url, git.dirty, git.commit.time.
func gitProperties(r io.Reader) *graph.BuildInfo {
	props := map[string]string{}
	sc := bufio.NewScanner(io.LimitReader(r, maxBuildText))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v, ok = strings.Cut(line, ":")
		}
		if ok {
			props[strings.TrimSpace(k)] = strings.ReplaceAll(strings.TrimSpace(v), `\:`, ":")
		}
	}
	rev := props["git.commit.id.full"]
	if rev == "" {
		rev = props["git.commit.id"]
	}
	if rev == "" {
		return nil
	}
	return &graph.BuildInfo{Kind: "git.properties", Repo: props["git.remote.origin.url"], Revision: rev,
		Time: props["git.commit.time"], Modified: props["git.dirty"] == "true"}
}

// packageJSON reads an application's package.json for gitHead, which npm
// writes when it packs a package from a git checkout.
func packageJSON(b []byte) *graph.BuildInfo {
	var pj struct {
		Name       string          `json:"name"`
		GitHead    string          `json:"gitHead"`
		Repository json.RawMessage `json:"repository"`
	}
	if json.Unmarshal(b, &pj) != nil || pj.GitHead == "" {
		return nil
	}
	repo := ""
	var s string
	var obj struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(pj.Repository, &s) == nil {
		repo = s
	} else if json.Unmarshal(pj.Repository, &obj) == nil {
		repo = obj.URL
	}
	repo = strings.TrimPrefix(repo, "git+")
	return &graph.BuildInfo{Kind: "package.json", Module: pj.Name, Repo: repo, Revision: pj.GitHead}
}

// jarBuild reads git.properties at the places build plugins put it in a jar or
// war — the root, BOOT-INF/classes (Spring Boot) and WEB-INF/classes — and else
// the SCM entries of META-INF/MANIFEST.MF.
func jarBuild(f *os.File, size int64) *graph.BuildInfo {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return nil
	}
	read := func(name string, parse func(io.Reader) *graph.BuildInfo) *graph.BuildInfo {
		for _, zf := range zr.File {
			if zf.Name != name || zf.UncompressedSize64 > maxBuildText {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				return nil
			}
			defer rc.Close()
			return parse(io.LimitReader(rc, maxBuildText))
		}
		return nil
	}
	for _, name := range []string{"git.properties", "BOOT-INF/classes/git.properties", "WEB-INF/classes/git.properties"} {
		if b := read(name, gitProperties); b != nil {
			return b
		}
	}
	return read("META-INF/MANIFEST.MF", manifestBuild)
}

// manifestBuild reads the revision a jar manifest records: SCM-Revision
// (buildnumber-maven-plugin setups), Implementation-SCM-Revision, Git-Commit,
// Git-Commit-Id, or the tag of an OSGi Bundle-SCM header; the repository from
// SCM-Url or Bundle-SCM's url. Only a full commit SHA counts.
func manifestBuild(r io.Reader) *graph.BuildInfo {
	headers := map[string]string{}
	var last string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, " ") && last != "" { // a continuation line
			headers[last] += line[1:]
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			last = ""
			continue
		}
		last = strings.TrimSpace(k)
		headers[last] = strings.TrimSpace(v)
	}
	b := &graph.BuildInfo{Kind: "manifest", Repo: headers["SCM-Url"]}
	for _, k := range []string{"SCM-Revision", "Implementation-SCM-Revision", "Git-Commit", "Git-Commit-Id"} {
		if v := headers[k]; v != "" {
			b.Revision = strings.ToLower(v)
			break
		}
	}
	if scm := headers["Bundle-SCM"]; scm != "" {
		for _, part := range strings.Split(scm, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			v = strings.Trim(v, `"`)
			switch k {
			case "tag":
				if b.Revision == "" {
					b.Revision = strings.ToLower(v)
				}
			case "url":
				if b.Repo == "" {
					b.Repo = v
				}
			}
		}
	}
	if !fullSHA(b.Revision) {
		return nil
	}
	return b
}

// fullSHA reports whether s is a full SHA-1 or SHA-256 commit hash in hex.
func fullSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
