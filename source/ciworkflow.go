package source

import (
	"cmp"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// roleCIWorkflow is the role of a GitHub Actions workflow or a .gitlab-ci.yml.
const roleCIWorkflow = "ci-workflow"

// maxWorkflowSize bounds a CI workflow file read for its image builds.
const maxWorkflowSize = 1 << 20

// isCIWorkflowPath reports whether p is a GitHub Actions workflow or GitLab's
// pipeline file.
func isCIWorkflowPath(p string) bool {
	if p == ".gitlab-ci.yml" {
		return true
	}
	dir, file := path.Split(p)
	return dir == ".github/workflows/" && (strings.HasSuffix(file, ".yml") || strings.HasSuffix(file, ".yaml"))
}

// CIBuild is one image build a CI workflow runs: which job builds which
// Dockerfile and pushes which image repositories.
type CIBuild struct {
	Job        string   `json:"job"`
	Dockerfile string   `json:"dockerfile,omitempty"`
	Context    string   `json:"context,omitempty"`
	Images     []string `json:"images"`
	Line       int      `json:"line"`
	// Tool is the action or command that builds: docker/build-push-action,
	// docker build, buildah, kaniko, …
	Tool string `json:"tool"`
}

// ParseCIWorkflow reads the image builds of a GitHub Actions workflow or a
// .gitlab-ci.yml (by name): docker/build-push-action steps (with the images of
// docker/metadata-action steps they take their tags from), and docker, podman,
// buildah and kaniko commands in run/script lines. repoURL resolves
// ${{ github.repository }}, ${{ github.repository_owner }} and
// $CI_REGISTRY_IMAGE where the host is github.com or gitlab.com. Image
// repositories are given without tag or digest.
func ParseCIWorkflow(name string, data []byte, repoURL string) ([]CIBuild, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("source: %s: %w", name, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil
	}
	root := doc.Content[0]
	vars := ciVars(repoURL)
	for k, v := range mapOf(mapGet(root, "env")) {
		vars[k] = v
	}
	for k, v := range mapOf(mapGet(root, "variables")) {
		vars[k] = v
	}
	var out []CIBuild
	if path.Base(name) == ".gitlab-ci.yml" {
		for i := 0; i+1 < len(root.Content); i += 2 {
			job, body := root.Content[i].Value, root.Content[i+1]
			if gitlabReserved[job] || body.Kind != yaml.MappingNode {
				continue
			}
			jv := withVars(vars, mapOf(mapGet(body, "variables")))
			for _, line := range scriptLines(mapGet(body, "script")) {
				out = append(out, commandBuilds(job, line.Value, line.Line, jv)...)
			}
		}
		return out, nil
	}
	jobs := mapGet(root, "jobs")
	if jobs == nil || jobs.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		job, body := jobs.Content[i].Value, jobs.Content[i+1]
		jv := withVars(vars, mapOf(mapGet(body, "env")))
		steps := mapGet(body, "steps")
		if steps == nil || steps.Kind != yaml.SequenceNode {
			continue
		}
		metaImages := map[string][]string{} // metadata-action step id → images
		for _, st := range steps.Content {
			uses := scalar(mapGet(st, "uses"))
			with := mapOf(mapGet(st, "with"))
			switch {
			case strings.HasPrefix(uses, "docker/metadata-action"):
				if id := scalar(mapGet(st, "id")); id != "" {
					for _, im := range splitList(expand(with["images"], jv)) {
						metaImages[id] = append(metaImages[id], imageRepo(im))
					}
				}
			case strings.HasPrefix(uses, "docker/build-push-action"):
				b := CIBuild{Job: job, Tool: "docker/build-push-action", Line: st.Line,
					Context: expand(cmp.Or(with["context"], "."), jv)}
				b.Dockerfile = expand(with["file"], jv)
				if b.Dockerfile == "" {
					b.Dockerfile = path.Join(b.Context, "Dockerfile")
				}
				tags := with["tags"]
				if m := stepOutputRE.FindStringSubmatch(tags); m != nil {
					b.Images = append(b.Images, metaImages[m[1]]...)
				} else {
					for _, t := range splitList(expand(tags, jv)) {
						b.Images = append(b.Images, imageRepo(t))
					}
				}
				b.Images = compactImages(b.Images)
				out = append(out, b)
			default:
				if run := mapGet(st, "run"); run != nil {
					first := run.Line
					if run.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
						first++ // the text starts on the line after "|"
					}
					sv := withVars(jv, mapOf(mapGet(st, "env")))
					for _, l := range shellLines(run.Value, first) {
						out = append(out, commandBuilds(job, l.text, l.line, sv)...)
					}
				}
			}
		}
	}
	return out, nil
}

var (
	stepOutputRE = regexp.MustCompile(`\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.tags\s*\}\}`)
	exprRE       = regexp.MustCompile(`\$\{\{\s*([A-Za-z0-9_.]+)\s*\}\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
)

// gitlabReserved are the top-level keys of a .gitlab-ci.yml that are not jobs.
var gitlabReserved = map[string]bool{"stages": true, "variables": true, "include": true, "default": true, "workflow": true,
	"image": true, "services": true, "before_script": true, "after_script": true, "cache": true, "pages": false}

// ciVars gives the CI variables a repository URL determines.
func ciVars(repoURL string) map[string]string {
	v := map[string]string{}
	u := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(repoURL, "https://"), "http://"), ".git")
	u = strings.TrimPrefix(u, "git@")
	u = strings.Replace(u, ":", "/", 1)
	parts := strings.Split(u, "/")
	if len(parts) < 3 {
		return v
	}
	owner, repo := parts[1], strings.Join(parts[2:], "/")
	switch parts[0] {
	case "github.com":
		v["github.repository"] = owner + "/" + repo
		v["github.repository_owner"] = owner
		v["GITHUB_REPOSITORY"] = owner + "/" + repo
	case "gitlab.com":
		v["CI_PROJECT_PATH"] = owner + "/" + repo
		v["CI_REGISTRY"] = "registry.gitlab.com"
		v["CI_REGISTRY_IMAGE"] = "registry.gitlab.com/" + strings.ToLower(owner+"/"+repo)
	}
	return v
}

func withVars(base, more map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(more))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// expand substitutes ${{ x }}, ${X} and $X from vars ("env.X" and "vars.X" look
// up X); unknown ones stay as they are.
func expand(s string, vars map[string]string) string {
	for range 3 { // variables that name variables
		next := exprRE.ReplaceAllStringFunc(s, func(m string) string {
			g := exprRE.FindStringSubmatch(m)
			key := cmp.Or(g[1], cmp.Or(g[2], g[3]))
			key = strings.TrimPrefix(strings.TrimPrefix(key, "env."), "vars.")
			if v, ok := vars[key]; ok {
				return v
			}
			return m
		})
		if next == s {
			break
		}
		s = next
	}
	return strings.TrimSpace(s)
}

// commandBuilds reads one shell line for an image build: docker/podman
// build|buildx build, buildah bud|build, kaniko's executor.
func commandBuilds(job, line string, lineNo int, vars map[string]string) []CIBuild {
	words := strings.Fields(expand(line, vars))
	for i, w := range words {
		b := CIBuild{Job: job, Line: lineNo}
		var rest []string
		switch {
		case (w == "docker" || w == "podman") && i+1 < len(words) && words[i+1] == "build":
			b.Tool, rest = w+" build", words[i+2:]
		case w == "docker" && i+2 < len(words) && words[i+1] == "buildx" && words[i+2] == "build":
			b.Tool, rest = "docker buildx build", words[i+3:]
		case w == "buildah" && i+1 < len(words) && (words[i+1] == "bud" || words[i+1] == "build"):
			b.Tool, rest = "buildah "+words[i+1], words[i+2:]
		case strings.HasSuffix(w, "/kaniko/executor") || w == "executor" && strings.Contains(line, "kaniko"):
			b.Tool, rest = "kaniko", words[i+1:]
		default:
			continue
		}
		var positional []string
		for k := 0; k < len(rest); k++ {
			flag, val, hasVal := strings.Cut(rest[k], "=")
			next := func() string {
				if hasVal {
					return val
				}
				if k+1 < len(rest) {
					k++
					return rest[k]
				}
				return ""
			}
			switch flag {
			case "-f", "--file", "--dockerfile":
				b.Dockerfile = strings.Trim(next(), `"'`)
			case "-t", "--tag", "--destination", "-d":
				b.Images = append(b.Images, imageRepo(strings.Trim(next(), `"'`)))
			case "--context", "-c":
				b.Context = strings.Trim(next(), `"'`)
			case "&&", ";", "|", "||":
				k = len(rest)
			default:
				if !strings.HasPrefix(flag, "-") {
					positional = append(positional, strings.Trim(rest[k], `"'`))
				} else if !hasVal && k+1 < len(rest) && valueFlags[flag] {
					k++
				}
			}
		}
		if b.Context == "" && len(positional) > 0 {
			b.Context = positional[len(positional)-1]
		}
		b.Context = strings.TrimPrefix(cmp.Or(b.Context, "."), "dir://")
		if b.Dockerfile == "" {
			b.Dockerfile = path.Join(b.Context, "Dockerfile")
		}
		b.Images = compactImages(b.Images)
		return []CIBuild{b}
	}
	return nil
}

// valueFlags are build flags that take a value, so that the value is not read
// as the context.
var valueFlags = map[string]bool{"--build-arg": true, "--platform": true, "--target": true, "--label": true,
	"--cache-from": true, "--cache-to": true, "--secret": true, "--ssh": true, "--network": true, "--output": true,
	"-o": true, "--iidfile": true, "--format": true, "--layers": false, "--isolation": true, "--annotation": true}

// imageRepo strips the tag or digest of an image reference.
func imageRepo(ref string) string {
	ref = strings.TrimSpace(ref)
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return strings.ToLower(ref)
}

func compactImages(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

type shellLine struct {
	text string
	line int
}

// shellLines splits a script into commands, joining backslash continuations,
// each with the line it starts on (first is the line of the script's first).
func shellLines(s string, first int) []shellLine {
	var out []shellLine
	var cur strings.Builder
	start := first
	for i, l := range strings.Split(s, "\n") {
		if cur.Len() == 0 {
			start = first + i
		}
		if t, ok := strings.CutSuffix(strings.TrimRight(l, " \t"), "\\"); ok {
			cur.WriteString(t + " ")
			continue
		}
		cur.WriteString(l)
		out = append(out, shellLine{cur.String(), start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, shellLine{cur.String(), start})
	}
	return out
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func mapOf(n *yaml.Node) map[string]string {
	out := map[string]string{}
	if n == nil || n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := n.Content[i+1]; v.Kind == yaml.ScalarNode {
			out[n.Content[i].Value] = v.Value
		} else if v.Kind == yaml.SequenceNode {
			var items []string
			for _, it := range v.Content {
				items = append(items, it.Value)
			}
			out[n.Content[i].Value] = strings.Join(items, "\n")
		}
	}
	return out
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// scriptLines returns the lines of a GitLab script (a string or a list).
func scriptLines(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []*yaml.Node{n}
	}
	if n.Kind == yaml.SequenceNode {
		return n.Content
	}
	return nil
}
