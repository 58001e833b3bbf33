package dockerfile

import (
	"path"
	"strings"
)

// notDockerfileExt lists suffixes of "Dockerfile.<suffix>" names that are not
// Dockerfiles: BuildKit's per-Dockerfile ignore files, documentation, templates
// that only become a Dockerfile once rendered, and editor or patch leftovers.
var notDockerfileExt = map[string]bool{
	"dockerignore": true,
	"md":           true, "markdown": true, "rst": true, "txt": true, "adoc": true, "html": true,
	"tmpl": true, "tpl": true, "template": true, "j2": true, "jinja": true, "jinja2": true,
	"erb": true, "mustache": true, "hbs": true, "gotmpl": true, "in": true, "m4": true,
	"orig": true, "rej": true, "bak": true, "swp": true, "swo": true, "patch": true, "diff": true,
	"json": true, "yml": true, "yaml": true, "toml": true, "xml": true,
	"sh": true, "bash": true, "ps1": true, "py": true, "go": true, "js": true, "ts": true, "rs": true,
	"rb": true, "java": true, "kt": true, "c": true, "h": true, "cc": true, "cpp": true, "cs": true,
	"php": true, "lua": true, "el": true, "vim": true, "scala": true, "swift": true, "pl": true,
	"lock": true, "sum": true, "gz": true, "tgz": true, "zip": true, "tar": true, "png": true, "svg": true,
}

// IsDockerfile reports whether path names a Dockerfile by its base name, compared
// case-insensitively as BuildKit users name them: "Dockerfile", "Containerfile",
// "<name>.Dockerfile" or "<name>.Containerfile" (e.g. "api.Dockerfile"), and
// "Dockerfile.<name>" or "Containerfile.<name>" (e.g. "Dockerfile.prod"). Names
// whose last extension marks another kind of file ("Dockerfile.dockerignore",
// "Dockerfile.md", "Dockerfile.j2", "Dockerfile.orig") are not Dockerfiles.
// Both "/" and "\" separate directories.
func IsDockerfile(p string) bool {
	base := strings.ToLower(path.Base(strings.ReplaceAll(p, `\`, "/")))
	switch base {
	case "dockerfile", "containerfile":
		return true
	}
	if i := strings.LastIndexByte(base, '.'); i >= 0 && notDockerfileExt[base[i+1:]] {
		return false
	}
	for _, n := range []string{"dockerfile", "containerfile"} {
		if rest, ok := strings.CutPrefix(base, n+"."); ok && rest != "" {
			return true
		}
		if stem, ok := strings.CutSuffix(base, "."+n); ok && stem != "" {
			return true
		}
	}
	return false
}
