package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tether-sec/tether/bench/internal/benchkit"
)

// inputsVersion names the layout of the generated inputs; bump it when what is
// built changes so cached inputs are rebuilt.
const inputsVersion = "1"

// Pinned Go modules whose trees hold the real lockfiles of the source input. The
// Go module proxy serves a module's whole tree, so `go mod download` fetches
// other ecosystems' lockfiles of real projects reproducibly.
const (
	modGitea     = "code.gitea.io/gitea@v1.27.3"
	modTelemetry = "golang.org/x/telemetry@v0.0.0-20261009151841-97e8ea77aa2a"
	modTraefik2  = "github.com/traefik/traefik/v2@v2.11.0"
	modTraefik3  = "github.com/traefik/traefik/v3@v3.7.13"
	modPGV       = "github.com/envoyproxy/protoc-gen-validate@v1.3.3"
	modFlux      = "github.com/influxdata/flux@v0.120.1"
	modGomega    = "github.com/onsi/gomega@v1.34.1"
	modTrivy58   = "github.com/aquasecurity/trivy@v0.58.0"
	modTrivy65   = "github.com/aquasecurity/trivy@v0.65.0"
)

// sourceFile is one file of the source input: From inside Module, written to To.
type sourceFile struct {
	Module, From, To string
	// Note says where the file comes from when that is not the project itself
	// (a third-party tool's test fixture of a real project's lockfile).
	Note string
}

const (
	trivyFixture = "trivy test fixture"
	trivyRepo    = "integration/testdata/fixtures/repo/"
	trivyParser  = "pkg/dependency/parser/"
)

var sourceFiles = []sourceFile{
	// Go: gitea's module graph.
	{modGitea, "go.mod", "go/gitea/go.mod", ""},
	{modGitea, "go.sum", "go/gitea/go.sum", ""},
	// JavaScript: npm v3, yarn classic, yarn berry, pnpm v9.
	{modTelemetry, "package.json", "javascript/npm-x-telemetry/package.json", ""},
	{modTelemetry, "package-lock.json", "javascript/npm-x-telemetry/package-lock.json", ""},
	{modTraefik2, "webui/package.json", "javascript/yarn1-traefik-webui/package.json", ""},
	{modTraefik2, "webui/yarn.lock", "javascript/yarn1-traefik-webui/yarn.lock", ""},
	{modTraefik3, "webui/package.json", "javascript/yarn4-traefik-webui/package.json", ""},
	{modTraefik3, "webui/yarn.lock", "javascript/yarn4-traefik-webui/yarn.lock", ""},
	{modGitea, "package.json", "javascript/pnpm-gitea/package.json", ""},
	{modGitea, "pnpm-lock.yaml", "javascript/pnpm-gitea/pnpm-lock.yaml", ""},
	// Python: requirements, poetry (1.x and 2.x), Pipfile.lock, uv.lock.
	{modTraefik3, "docs/requirements.txt", "python/requirements-traefik-docs/requirements.txt", ""},
	{modPGV, "python/requirements.txt", "python/requirements-pgv/requirements.txt", ""},
	{modTrivy58, trivyParser + "python/poetry/testdata/poetry_many.lock", "python/poetry-many/poetry.lock", trivyFixture},
	{modTrivy65, trivyParser + "python/poetry/testdata/poetry_v2_flask.lock", "python/poetry2-flask/poetry.lock", trivyFixture},
	{modTrivy58, trivyParser + "python/pipenv/testdata/Pipfile_many.lock", "python/pipenv-many/Pipfile.lock", trivyFixture},
	{modTrivy65, trivyRepo + "trivy-ci-test/Pipfile.lock", "python/pipenv-trivy-ci-test/Pipfile.lock", trivyFixture},
	{modGitea, "pyproject.toml", "python/uv-gitea/pyproject.toml", ""},
	{modGitea, "uv.lock", "python/uv-gitea/uv.lock", ""},
	{modTrivy65, trivyParser + "python/uv/testdata/uv_normal.lock", "python/uv-normal/uv.lock", trivyFixture},
	// Java: a Maven multi-module build, a single pom (a gradle.lockfile is generated).
	{modPGV, "java/pom.xml", "java/maven-pgv/pom.xml", ""},
	{modPGV, "java/pgv-java-stub/pom.xml", "java/maven-pgv/pgv-java-stub/pom.xml", ""},
	{modPGV, "java/pgv-java-grpc/pom.xml", "java/maven-pgv/pgv-java-grpc/pom.xml", ""},
	{modPGV, "java/pgv-java-validation/pom.xml", "java/maven-pgv/pgv-java-validation/pom.xml", ""},
	{modPGV, "java/pgv-artifacts/pom.xml", "java/maven-pgv/pgv-artifacts/pom.xml", ""},
	{modTrivy65, trivyRepo + "pom/pom.xml", "java/maven-trivy/pom.xml", trivyFixture},
	// Rust.
	{modFlux, "libflux/Cargo.toml", "rust/cargo-flux/Cargo.toml", ""},
	{modFlux, "libflux/Cargo.lock", "rust/cargo-flux/Cargo.lock", ""},
	{modTrivy65, trivyRepo + "trivy-ci-test/Cargo.lock", "rust/cargo-trivy-ci-test/Cargo.lock", trivyFixture},
	// Ruby.
	{modGomega, "docs/Gemfile", "ruby/bundler-gomega-docs/Gemfile", ""},
	{modGomega, "docs/Gemfile.lock", "ruby/bundler-gomega-docs/Gemfile.lock", ""},
	// PHP.
	{modTrivy58, trivyParser + "php/composer/testdata/composer_happy.lock", "php/composer-happy/composer.lock", trivyFixture},
	{modTrivy65, trivyRepo + "composer/composer.lock", "php/composer-trivy-repo/composer.lock", trivyFixture},
	// .NET.
	{modTrivy58, trivyParser + "nuget/lock/testdata/packages_lock_multi.json", "dotnet/nuget-multi/packages.lock.json", trivyFixture},
	{modTrivy65, trivyRepo + "nuget/packages.lock.json", "dotnet/nuget-trivy-repo/packages.lock.json", trivyFixture},
}

// fixedTime stamps generated files and image history so inputs are reproducible.
var fixedTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// moduleDirs downloads modules with `go mod download` (outside any module, so no
// go.mod is touched) and returns each one's directory in the module cache.
func moduleDirs(ctx context.Context, workDir string, mods []string) (map[string]string, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"mod", "download", "-json"}, mods...)...)
	cmd.Dir = workDir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("go mod download: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	dirs := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var m struct{ Path, Version, Dir, Error string }
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go mod download output: %w", err)
		}
		if m.Error != "" {
			return nil, fmt.Errorf("go mod download %s@%s: %s", m.Path, m.Version, m.Error)
		}
		dirs[m.Path+"@"+m.Version] = m.Dir
	}
	for _, m := range mods {
		if dirs[m] == "" {
			return nil, fmt.Errorf("go mod download: no directory for %s: %s", m, strings.TrimSpace(stderr.String()))
		}
	}
	return dirs, nil
}

// buildSource writes the source input: real lockfiles copied from pinned module
// trees, a generated gradle.lockfile and SOURCES.md naming where each file came from.
func buildSource(ctx context.Context, cacheDir, dst string, log io.Writer) error {
	var mods []string
	seen := map[string]bool{}
	for _, f := range sourceFiles {
		if !seen[f.Module] {
			seen[f.Module] = true
			mods = append(mods, f.Module)
		}
	}
	fmt.Fprintf(log, "inputs: go mod download %d modules (cached by the Go module cache)\n", len(mods))
	dirs, err := moduleDirs(ctx, cacheDir, mods)
	if err != nil {
		return err
	}
	var src strings.Builder
	src.WriteString("# Where each file of this tree comes from\n\n| file | module | path in module | note |\n|---|---|---|---|\n")
	for _, f := range sourceFiles {
		b, err := os.ReadFile(filepath.Join(dirs[f.Module], filepath.FromSlash(f.From)))
		if err != nil {
			return err
		}
		if err := benchkit.WriteFile(filepath.Join(dst, filepath.FromSlash(f.To)), b); err != nil {
			return err
		}
		fmt.Fprintf(&src, "| %s | %s | %s | %s |\n", f.To, f.Module, f.From, f.Note)
	}
	if err := benchkit.WriteFile(filepath.Join(dst, "java/gradle-spring/gradle.lockfile"), benchkit.GradleLockfile(benchkit.SpringBoot)); err != nil {
		return err
	}
	src.WriteString("| java/gradle-spring/gradle.lockfile | (generated) | | Gradle's lockfile format over real Spring Boot 3.2 coordinates |\n")
	return benchkit.WriteFile(filepath.Join(dst, "SOURCES.md"), []byte(src.String()))
}

// layerBuilder writes one image layer as an uncompressed tar file, adding parent
// directories as needed.
type layerBuilder struct {
	f     *os.File
	tw    *tar.Writer
	dirs  map[string]bool
	files int
}

func newLayer(tmpDir string) (*layerBuilder, error) {
	f, err := os.CreateTemp(tmpDir, "layer-*.tar")
	if err != nil {
		return nil, err
	}
	return &layerBuilder{f: f, tw: tar.NewWriter(f), dirs: map[string]bool{}}, nil
}

func (l *layerBuilder) dir(name string) error {
	name = strings.Trim(path.Clean(name), "/")
	if name == "." || name == "" || l.dirs[name] {
		return nil
	}
	if err := l.dir(path.Dir(name)); err != nil {
		return err
	}
	l.dirs[name] = true
	return l.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: fixedTime, Format: tar.FormatPAX})
}

func (l *layerBuilder) file(name string, mode int64, b []byte) error {
	name = strings.Trim(path.Clean(name), "/")
	if err := l.dir(path.Dir(name)); err != nil {
		return err
	}
	if err := l.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(b)), ModTime: fixedTime, Format: tar.FormatPAX}); err != nil {
		return err
	}
	l.files++
	_, err := l.tw.Write(b)
	return err
}

func (l *layerBuilder) symlink(name, target string) error {
	name = strings.Trim(path.Clean(name), "/")
	if err := l.dir(path.Dir(name)); err != nil {
		return err
	}
	l.files++
	return l.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: fixedTime, Format: tar.FormatPAX})
}

// hostTree copies the regular files and symlinks under the host directory root
// (if it exists) to the same path in the layer; keep filters base names of the
// top-level entries (nil keeps all). It reports whether root existed.
func (l *layerBuilder) hostTree(root string, keep func(base string) bool) (bool, error) {
	if _, err := os.Lstat(root); err != nil {
		return false, nil
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if keep != nil && p != root {
			rel, _ := filepath.Rel(root, p)
			top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
			if !keep(top) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		name := filepath.ToSlash(p)
		switch {
		case d.IsDir():
			return l.dir(name)
		case d.Type()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return l.symlink(name, t)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			return l.file(name, int64(fi.Mode().Perm()), b)
		}
		return nil
	})
	return true, err
}

func (l *layerBuilder) close() (v1.Layer, error) {
	if err := l.tw.Close(); err != nil {
		return nil, err
	}
	if err := l.f.Close(); err != nil {
		return nil, err
	}
	return tarball.LayerFromFile(l.f.Name())
}

// imagePart is one layer of the image input and the history line that made it.
type imagePart struct {
	createdBy string
	build     func(l *layerBuilder) (string, error) // returns a one-line summary
}

// buildImage writes the image input as an OCI layout at dst. Its layers: the
// host's Debian package database, a Go binary, node_modules, Python
// site-packages and jars. Parts taken from the host are listed in the summary.
func buildImage(srcDir, dst string, log io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	parts := []imagePart{
		{"ADD debian-rootfs / # this host's dpkg database and os-release", func(l *layerBuilder) (string, error) {
			for _, f := range []string{"/etc/os-release", "/var/lib/dpkg/status"} {
				b, err := os.ReadFile(f)
				if err != nil {
					return "", fmt.Errorf("the image input needs a Debian host (%v)", err)
				}
				if err := l.file(f, 0o644, b); err != nil {
					return "", err
				}
			}
			return "host /etc/os-release, /var/lib/dpkg/status", nil
		}},
		{"COPY sbomcompare /usr/local/bin/ # a Go binary with buildinfo", func(l *layerBuilder) (string, error) {
			b, err := os.ReadFile(self)
			if err != nil {
				return "", err
			}
			return "Go binary /usr/local/bin/sbomcompare", l.file("usr/local/bin/sbomcompare", 0o755, b)
		}},
		{"RUN npm ci # node_modules of golang.org/x/telemetry", func(l *layerBuilder) (string, error) {
			n, err := nodeModules(l, filepath.Join(srcDir, "javascript/npm-x-telemetry"), "app")
			if err != nil {
				return "", err
			}
			sum := fmt.Sprintf("%d package.json under /app/node_modules (from the x/telemetry lockfile)", n)
			if ok, err := l.hostTree("/usr/lib/node_modules", nil); err != nil {
				return "", err
			} else if ok {
				sum += "; host /usr/lib/node_modules"
			}
			return sum, nil
		}},
		{"RUN pip install # site-packages", func(l *layerBuilder) (string, error) {
			n, err := sitePackages(l, filepath.Join(srcDir, "python/poetry-many/poetry.lock"), "app/.venv/lib/python3.11/site-packages")
			if err != nil {
				return "", err
			}
			sum := fmt.Sprintf("%d dist-info under /app/.venv (from poetry-many)", n)
			isMeta := func(b string) bool { return strings.HasSuffix(b, ".dist-info") || strings.HasSuffix(b, ".egg-info") }
			if ok, err := l.hostTree("/usr/lib/python3/dist-packages", isMeta); err != nil {
				return "", err
			} else if ok {
				sum += "; host /usr/lib/python3/dist-packages/*.{dist,egg}-info"
			}
			return sum, nil
		}},
		{"COPY app.jar /app/ # Spring Boot fat jar", func(l *layerBuilder) (string, error) {
			b, err := fatJar(benchkit.SpringBoot)
			if err != nil {
				return "", err
			}
			if err := l.file("app/app.jar", 0o644, b); err != nil {
				return "", err
			}
			sum := fmt.Sprintf("/app/app.jar with %d nested jars", len(benchkit.SpringBoot))
			if ok, err := l.hostTree("/usr/share/java", nil); err != nil {
				return "", err
			} else if ok {
				sum += "; host /usr/share/java"
			}
			return sum, nil
		}},
	}

	tmp, err := os.MkdirTemp("", "sbomcompare-layers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	img := empty.Image
	for _, p := range parts {
		l, err := newLayer(tmp)
		if err != nil {
			return err
		}
		sum, err := p.build(l)
		if err != nil {
			return err
		}
		files := l.files
		layer, err := l.close()
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "inputs: image layer: %s (%d files)\n", sum, files)
		img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: p.createdBy, Created: v1.Time{Time: fixedTime}}})
		if err != nil {
			return err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: fixedTime}
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cf.Config.WorkingDir = "/app"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	lp, err := layout.Write(dst, empty.Index)
	if err != nil {
		return err
	}
	return lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "bench"}))
}

// nodeModules writes dir's package.json at /<app>/package.json and a package.json
// for every installed package its package-lock.json v3 lists.
func nodeModules(l *layerBuilder, dir, app string) (int, error) {
	pj, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return 0, err
	}
	if err := l.file(app+"/package.json", 0o644, pj); err != nil {
		return 0, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return 0, err
	}
	var lock struct {
		Packages map[string]struct {
			Name, Version, License string
			Link                   bool
		}
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	keys := make([]string, 0, len(lock.Packages))
	for k := range lock.Packages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		p := lock.Packages[k]
		i := strings.LastIndex(k, "node_modules/")
		if k == "" || p.Link || i < 0 || p.Version == "" {
			continue
		}
		name := p.Name
		if name == "" {
			name = k[i+len("node_modules/"):]
		}
		m := map[string]any{"name": name, "version": p.Version, "description": name + " (installed by the benchmark)", "main": "index.js"}
		if p.License != "" {
			m["license"] = p.License
		}
		out, _ := json.MarshalIndent(m, "", "  ")
		if err := l.file(app+"/"+k+"/package.json", 0o644, append(out, '\n')); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

var pypiNormalize = regexp.MustCompile(`[-_.]+`)

// sitePackages writes a wheel-installed dist-info directory for every package a
// poetry.lock lists.
func sitePackages(l *layerBuilder, lockPath, dir string) (int, error) {
	f, err := os.Open(lockPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	type pkg struct{ name, version, summary string }
	var pkgs []pkg
	var cur *pkg
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "[[package]]" {
			pkgs = append(pkgs, pkg{})
			cur = &pkgs[len(pkgs)-1]
			continue
		}
		if strings.HasPrefix(line, "[") {
			cur = nil
			continue
		}
		if cur == nil {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.TrimSpace(k) {
		case "name":
			cur.name = v
		case "version":
			cur.version = v
		case "description":
			cur.summary = v
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	for _, p := range pkgs {
		if p.name == "" || p.version == "" {
			return 0, fmt.Errorf("%s: package without name or version", lockPath)
		}
		mod := pypiNormalize.ReplaceAllString(strings.ToLower(p.name), "_")
		di := fmt.Sprintf("%s/%s-%s.dist-info", dir, mod, p.version)
		files := map[string]string{
			"METADATA":      fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\nRequires-Python: >=3.7\n\n", p.name, p.version, p.summary),
			"INSTALLER":     "pip\n",
			"WHEEL":         "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.40.0)\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
			"top_level.txt": mod + "\n",
		}
		var record strings.Builder
		names := []string{"INSTALLER", "METADATA", "WHEEL", "top_level.txt"}
		for _, n := range names {
			if err := l.file(di+"/"+n, 0o644, []byte(files[n])); err != nil {
				return 0, err
			}
			fmt.Fprintf(&record, "%s-%s.dist-info/%s,,\n", mod, p.version, n)
		}
		if err := l.file(dir+"/"+mod+"/__init__.py", 0o644, nil); err != nil {
			return 0, err
		}
		fmt.Fprintf(&record, "%s/__init__.py,,\n%s-%s.dist-info/RECORD,,\n", mod, mod, p.version)
		if err := l.file(di+"/RECORD", 0o644, []byte(record.String())); err != nil {
			return 0, err
		}
	}
	return len(pkgs), nil
}

// fatJar builds a Spring Boot style executable jar: its own pom.properties and
// every coordinate as a stored jar under BOOT-INF/lib.
func fatJar(coords []string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, b []byte, method uint16) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: fixedTime})
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	manifest := "Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.launch.JarLauncher\r\nStart-Class: com.example.demo.DemoApplication\r\nSpring-Boot-Version: 3.2.0\r\nSpring-Boot-Classes: BOOT-INF/classes/\r\nSpring-Boot-Lib: BOOT-INF/lib/\r\nImplementation-Title: demo\r\nImplementation-Version: 0.0.1-SNAPSHOT\r\n\r\n"
	if err := add("META-INF/MANIFEST.MF", []byte(manifest), zip.Deflate); err != nil {
		return nil, err
	}
	if err := add("META-INF/maven/com.example/demo/pom.properties", []byte("artifactId=demo\ngroupId=com.example\nversion=0.0.1-SNAPSHOT\n"), zip.Deflate); err != nil {
		return nil, err
	}
	if err := add("BOOT-INF/classes/com/example/demo/DemoApplication.class", []byte{0xca, 0xfe, 0xba, 0xbe}, zip.Deflate); err != nil {
		return nil, err
	}
	for _, c := range coords {
		parts := strings.Split(c, ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("bad coordinate %q", c)
		}
		inner, err := libJar(parts[0], parts[1], parts[2])
		if err != nil {
			return nil, err
		}
		if err := add(fmt.Sprintf("BOOT-INF/lib/%s-%s.jar", parts[1], parts[2]), inner, zip.Store); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// libJar builds a library jar as Maven writes it: a manifest naming the
// artifact, pom.properties and pom.xml under META-INF/maven and one class.
func libJar(group, artifact, version string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := []struct{ name, body string }{
		{"META-INF/MANIFEST.MF", fmt.Sprintf("Manifest-Version: 1.0\r\nCreated-By: Maven JAR Plugin 3.3.0\r\nBuild-Jdk-Spec: 17\r\nImplementation-Title: %s\r\nImplementation-Version: %s\r\nImplementation-Vendor-Id: %s\r\n\r\n", artifact, version, group)},
		{"META-INF/maven/" + group + "/" + artifact + "/pom.properties", fmt.Sprintf("artifactId=%s\ngroupId=%s\nversion=%s\n", artifact, group, version)},
		{"META-INF/maven/" + group + "/" + artifact + "/pom.xml", fmt.Sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>%s</groupId>\n  <artifactId>%s</artifactId>\n  <version>%s</version>\n  <packaging>jar</packaging>\n</project>\n", group, artifact, version)},
		{strings.ReplaceAll(group, ".", "/") + "/" + strings.ReplaceAll(artifact, "-", "") + "/Package.class", "\xca\xfe\xba\xbe"},
	}
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: fixedTime})
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(w, f.body); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
