package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tether-sec/tether/bench/internal/benchkit"
)

// inputsVersion names the layout of the generated inputs; bump it when what is
// built changes so cached inputs are rebuilt.
const inputsVersion = "2"

// fixedTime stamps generated files and images so inputs are reproducible.
var fixedTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Pinned Go modules whose trees hold the real lockfiles of the inputs (the Go
// module proxy serves a module's whole repository tree).
const (
	modTraefik2 = "github.com/traefik/traefik/v2@v2.11.0"
	modPGV      = "github.com/envoyproxy/protoc-gen-validate@v1.3.3"
	modFlux     = "github.com/influxdata/flux@v0.120.1"
	modTrivy58  = "github.com/aquasecurity/trivy@v0.58.0"
	modTrivy65  = "github.com/aquasecurity/trivy@v0.65.0"
)

const (
	trivyRepo   = "integration/testdata/fixtures/repo/"
	trivyParser = "pkg/dependency/parser/"
)

// sourceFile is one real file of a source input: From inside Module, written to To.
type sourceFile struct{ Module, From, To, Note string }

// inputSpec is one input both tools scan.
type inputSpec struct {
	name, what string
	// files are copied from module trees; build adds generated parts (may be nil).
	files []sourceFile
	build func(ctx context.Context, b *builder, dst string) error
	// image: dst is an OCI layout; else a directory.
	image bool
	// needs names a host tool the input needs (skipped with a note without it).
	needs string
}

var inputSpecs = []inputSpec{
	{
		name: "go-service", what: "traefik v2.11.0 go.mod + go.sum; a Go service binary built with go1.22.0 against pinned older modules",
		files: []sourceFile{
			{modTraefik2, "go.mod", "traefik/go.mod", ""},
			{modTraefik2, "go.sum", "traefik/go.sum", ""},
		},
		build: buildGoService,
	},
	{
		name: "python-app", what: "requirements.txt ×2, poetry.lock, Pipfile.lock",
		files: []sourceFile{
			{modTraefik2, "docs/requirements.txt", "requirements-traefik-docs/requirements.txt", ""},
			{modPGV, "python/requirements.txt", "requirements-pgv/requirements.txt", ""},
			{modTrivy58, trivyParser + "python/poetry/testdata/poetry_many.lock", "poetry-many/poetry.lock", "trivy test fixture"},
			{modTrivy58, trivyParser + "python/pipenv/testdata/Pipfile_many.lock", "pipenv-many/Pipfile.lock", "trivy test fixture"},
		},
	},
	{
		name: "rust-app", what: "Cargo.lock ×2 (influxdata/flux libflux, trivy-ci-test)",
		files: []sourceFile{
			{modFlux, "libflux/Cargo.toml", "libflux/Cargo.toml", ""},
			{modFlux, "libflux/Cargo.lock", "libflux/Cargo.lock", ""},
			{modTrivy65, trivyRepo + "trivy-ci-test/Cargo.lock", "trivy-ci-test/Cargo.lock", "trivy test fixture"},
		},
	},
	{
		name: "npm-app", what: "traefik v2.11.0 web UI: package.json + yarn.lock (v1)",
		files: []sourceFile{
			{modTraefik2, "webui/package.json", "webui/package.json", ""},
			{modTraefik2, "webui/yarn.lock", "webui/yarn.lock", ""},
		},
	},
	{
		name: "java-app", what: "pom.xml (trivy fixture); gradle.lockfile over Spring Boot 3.2 coordinates",
		files: []sourceFile{
			{modTrivy65, trivyRepo + "pom/pom.xml", "maven/pom.xml", "trivy test fixture"},
		},
		build: func(_ context.Context, _ *builder, dst string) error {
			return benchkit.WriteFile(filepath.Join(dst, "gradle/gradle.lockfile"), benchkit.GradleLockfile(benchkit.SpringBoot))
		},
	},
	{
		name: "debian-image", what: "OCI image: Debian 11 os-release + dpkg status (" + countPackages(debianPackages) + ")",
		build: buildDebianImage, image: true,
	},
	{
		name: "almalinux-image", what: "OCI image: AlmaLinux 9.2 os-release + rpmdb.sqlite made with rpmbuild (" + countPackages(almaPackages) + ")",
		build: buildAlmaImage, image: true, needs: "rpmbuild",
	},
}

// builder holds what building inputs needs.
type builder struct {
	cache string
	log   io.Writer
	dirs  map[string]string // module@version → directory in the module cache
}

// goEnv is the environment for go commands run outside the clone.
func goEnv(extra ...string) []string {
	return append(append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GO111MODULE=on"), extra...)
}

// moduleDirs downloads modules with `go mod download` (outside any module, so no
// go.mod is touched) and returns each one's directory in the module cache.
func moduleDirs(ctx context.Context, workDir string, mods []string) (map[string]string, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"mod", "download", "-json"}, mods...)...)
	cmd.Dir = workDir
	cmd.Env = goEnv()
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

// buildInput writes one input into dst: its real files, SOURCES.md naming where
// each came from, and the generated parts.
func (b *builder) buildInput(ctx context.Context, in inputSpec, dst string) error {
	if len(in.files) > 0 {
		var mods []string
		for _, f := range in.files {
			if b.dirs[f.Module] == "" && !contains(mods, f.Module) {
				mods = append(mods, f.Module)
			}
		}
		if len(mods) > 0 {
			fmt.Fprintf(b.log, "inputs: go mod download %s (kept in the Go module cache)\n", strings.Join(mods, " "))
			dirs, err := moduleDirs(ctx, b.cache, mods)
			if err != nil {
				return err
			}
			for k, v := range dirs {
				b.dirs[k] = v
			}
		}
		var src strings.Builder
		src.WriteString("# Where each file of this input comes from\n\n| file | module | path in module | note |\n|---|---|---|---|\n")
		for _, f := range in.files {
			data, err := os.ReadFile(filepath.Join(b.dirs[f.Module], filepath.FromSlash(f.From)))
			if err != nil {
				return err
			}
			if err := benchkit.WriteFile(filepath.Join(dst, filepath.FromSlash(f.To)), data); err != nil {
				return err
			}
			fmt.Fprintf(&src, "| %s | %s | %s | %s |\n", f.To, f.Module, f.From, f.Note)
		}
		if err := benchkit.WriteFile(filepath.Join(dst, "SOURCES.md"), []byte(src.String())); err != nil {
			return err
		}
	}
	if in.build != nil {
		return in.build(ctx, b, dst)
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// The Go service: a small program that links pinned, older releases of
// widely used modules, built with the go1.22.0 toolchain (which the Go
// module proxy serves as golang.org/toolchain), so its build info names the
// toolchain and module versions the advisories are about.
const (
	svcToolchain = "go1.22.0"
	svcGoMod     = `module example.com/tether-bench/svc

go 1.22.0

require (
	github.com/golang-jwt/jwt/v4 v4.5.0
	golang.org/x/crypto v0.16.0
	golang.org/x/net v0.17.0
	google.golang.org/grpc v1.58.2
	gopkg.in/yaml.v3 v3.0.0-20210107192922-496545a6307b
)
`
	svcMain = `// Command svc is the Go service input of tether's bench/vuln: it links the
// modules its go.mod pins so that its build info lists them.
package main

import (
	"fmt"
	"net/http"

	"github.com/golang-jwt/jwt/v4"
	"golang.org/x/crypto/ssh"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"gopkg.in/yaml.v3"
)

func main() {
	srv := &http.Server{Addr: "127.0.0.1:8080"}
	if err := http2.ConfigureServer(srv, nil); err != nil {
		panic(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte("listen: 127.0.0.1:8080"), &cfg); err != nil {
		panic(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "svc"})
	_, _ = tok.SignedString([]byte("bench"))
	_ = ssh.Marshal(struct{ A uint32 }{1})
	_ = grpc.NewServer()
	fmt.Println(cfg)
}
`
)

func buildGoService(ctx context.Context, b *builder, dst string) error {
	src := filepath.Join(dst, "svc")
	if err := benchkit.WriteFile(filepath.Join(src, "go.mod"), []byte(svcGoMod)); err != nil {
		return err
	}
	if err := benchkit.WriteFile(filepath.Join(src, "main.go"), []byte(svcMain)); err != nil {
		return err
	}
	fmt.Fprintf(b.log, "inputs: building the Go service with %s (the toolchain and modules download once)\n", svcToolchain)
	env := goEnv("GOTOOLCHAIN="+svcToolchain, "CGO_ENABLED=0")
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "-trimpath", "-o", "svc", "."}} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir, cmd.Env = src, env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	// The sources stay: the input is the service's go.mod, go.sum and binary.
	return os.Remove(filepath.Join(src, "main.go"))
}

// writeImage writes files (path → content) as the one layer of a linux/amd64
// OCI image layout at dst.
func writeImage(dst, createdBy string, files map[string][]byte) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	dirs := map[string]bool{}
	for _, n := range names {
		parts := strings.Split(n, "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/")
			if !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: fixedTime, Format: tar.FormatPAX}); err != nil {
					return err
				}
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(files[n])), ModTime: fixedTime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		return err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: createdBy, Created: v1.Time{Time: fixedTime}}})
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: fixedTime}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	lp, err := layout.Write(dst, empty.Index)
	if err != nil {
		return err
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "bench"})); err != nil {
		return err
	}
	// The same image as a `docker save` archive, for `osv-scanner scan image --archive`.
	tag, err := name.NewTag("bench/image:latest")
	if err != nil {
		return err
	}
	return tarball.WriteToFile(filepath.Join(dst, archiveName), tag, img)
}

// archiveName is the docker archive of an image input, inside its OCI layout folder.
const archiveName = "image.tar"

// osPackage is one binary package of an OS image input.
type osPackage struct {
	Name, Source string
	// Version is the binary package's version ([epoch:]version-release).
	Version string
	// SourceVersion is the source package's version where it differs (a Debian
	// binary-only rebuild, "+b1").
	SourceVersion string
}

func countPackages(ps []osPackage) string {
	src := map[string]bool{}
	for _, p := range ps {
		src[p.Source] = true
	}
	return fmt.Sprintf("%d binary packages of %d source packages", len(ps), len(src))
}

// debianPackages are the packages of the Debian 11 image: binary package names
// and source packages as Debian 11 (bullseye) ships them. Each version is a real
// Debian 11 version: the oldest fixed version the Debian Security Advisory list
// (shared/data/debian-security-tracker/DSA-list.txt) gives for bullseye, or, for
// packages with one advisory, the version Debian 11.0 released with.
var debianPackages = []osPackage{
	{"openssl", "openssl", "1.1.1k-1+deb11u1", ""},
	{"libssl1.1", "openssl", "1.1.1k-1+deb11u1", ""},
	{"curl", "curl", "7.74.0-1.3+deb11u2", ""},
	{"libcurl4", "curl", "7.74.0-1.3+deb11u2", ""},
	{"zlib1g", "zlib", "1:1.2.11.dfsg-2+deb11u1", ""},
	{"libxml2", "libxml2", "2.9.10+dfsg-6.7+deb11u2", ""},
	{"libexpat1", "expat", "2.2.10-2+deb11u1", ""},
	{"libgnutls30", "gnutls28", "3.7.1-5+deb11u2", ""},
	{"git", "git", "1:2.30.2-1+deb11u1", ""},
	{"git-man", "git", "1:2.30.2-1+deb11u1", ""},
	{"dpkg", "dpkg", "1.20.9", ""},
	{"gzip", "gzip", "1.10-4", ""},
	{"xz-utils", "xz-utils", "5.2.5-2", ""},
	{"liblzma5", "xz-utils", "5.2.5-2", ""},
	{"libkrb5-3", "krb5", "1.18.3-6", ""},
	{"libgssapi-krb5-2", "krb5", "1.18.3-6", ""},
	{"libk5crypto3", "krb5", "1.18.3-6", ""},
	{"libkrb5support0", "krb5", "1.18.3-6", ""},
	{"libksba8", "libksba", "1.5.0-3", ""},
	{"sudo", "sudo", "1.9.5p2-3", ""},
	{"bash", "bash", "5.1-2+deb11u1", ""},
	{"coreutils", "coreutils", "8.32-4+b1", "8.32-4"},
	{"libc6", "glibc", "2.31-13+deb11u5", ""},
	{"libc-bin", "glibc", "2.31-13+deb11u5", ""},
}

const debianOSRelease = `PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"
NAME="Debian GNU/Linux"
VERSION_ID="11"
VERSION="11 (bullseye)"
VERSION_CODENAME=bullseye
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`

// buildDebianImage writes the Debian image: os-release and a dpkg status file
// in dpkg's format, one stanza per package, Source: where the names differ.
func buildDebianImage(_ context.Context, b *builder, dst string) error {
	var st strings.Builder
	for _, p := range debianPackages {
		fmt.Fprintf(&st, "Package: %s\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 1024\n", p.Name)
		fmt.Fprintf(&st, "Maintainer: Debian maintainers <debian@example.org>\nArchitecture: amd64\n")
		switch {
		case p.SourceVersion != "":
			fmt.Fprintf(&st, "Source: %s (%s)\n", p.Source, p.SourceVersion)
		case p.Source != p.Name:
			fmt.Fprintf(&st, "Source: %s\n", p.Source)
		}
		fmt.Fprintf(&st, "Version: %s\nDescription: %s (bench/vuln input)\n\n", p.Version, p.Name)
	}
	fmt.Fprintf(b.log, "inputs: debian-image: %d packages\n", len(debianPackages))
	return writeImage(dst, "bench/vuln: Debian 11 package database", map[string][]byte{
		"etc/os-release":      []byte(debianOSRelease),
		"var/lib/dpkg/status": []byte(st.String()),
		"etc/debian_version":  []byte("11.6\n"),
	})
}

// almaPackages are the packages of the AlmaLinux 9.2 image: binary RPM names and
// source RPMs as AlmaLinux 9 ships them. Each version is the oldest fixed
// version the AlmaLinux 9 OSV records (shared/data/osv/AlmaLinux) give for the
// package, so it is a version AlmaLinux released and later advisories apply to it.
var almaPackages = []osPackage{
	{"openssl", "openssl", "1:3.0.1-41.el9_0", ""},
	{"openssl-libs", "openssl", "1:3.0.1-41.el9_0", ""},
	{"curl", "curl", "7.76.1-14.el9_0.5", ""},
	{"libcurl", "curl", "7.76.1-14.el9_0.5", ""},
	{"python3", "python3.9", "3.9.10-3.el9_0", ""},
	{"python3-libs", "python3.9", "3.9.10-3.el9_0", ""},
	{"libxml2", "libxml2", "2.9.13-3.el9_1", ""},
	{"openssh", "openssh", "8.7p1-29.el9_2", ""},
	{"openssh-clients", "openssh", "8.7p1-29.el9_2", ""},
	{"vim-minimal", "vim", "2:8.2.2637-16.el9_0.2", ""},
	{"glibc", "glibc", "2.34-60.el9_2.7", ""},
	{"glibc-common", "glibc", "2.34-60.el9_2.7", ""},
	{"krb5-libs", "krb5", "1.19.1-24.el9_1", ""},
	{"expat", "expat", "2.2.10-12.el9_0.2", ""},
	{"sqlite-libs", "sqlite", "3.34.1-6.el9_1", ""},
	{"systemd", "systemd", "250-12.el9_1.1", ""},
	{"systemd-libs", "systemd", "250-12.el9_1.1", ""},
	{"sudo", "sudo", "1.9.5p2-7.el9_1.1", ""},
	{"tar", "tar", "2:1.34-6.el9_1", ""},
	{"less", "less", "590-2.el9_2", ""},
	{"gnutls", "gnutls", "3.7.6-12.el9_0", ""},
	{"libarchive", "libarchive", "3.5.3-2.el9_0", ""},
	{"nss", "nss", "3.79.0-17.el9_1", ""},
}

const almaOSRelease = `NAME="AlmaLinux"
VERSION="9.2 (Turquoise Kodkod)"
ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.2"
PLATFORM_ID="platform:el9"
PRETTY_NAME="AlmaLinux 9.2 (Turquoise Kodkod)"
ANSI_COLOR="0;34"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:almalinux:almalinux:9::baseos"
HOME_URL="https://almalinux.org/"
`

// buildAlmaImage builds one empty RPM per binary package with rpmbuild (one spec
// per source package, so each binary names its source RPM), registers them in
// a fresh SQLite rpmdb with `rpm --justdb`, and writes the image.
func buildAlmaImage(ctx context.Context, b *builder, dst string) error {
	if _, err := exec.LookPath("rpmbuild"); err != nil {
		return fmt.Errorf("rpmbuild not found (apt-get install rpm): %w", err)
	}
	work, err := os.MkdirTemp("", "vulncompare-rpm-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bySource := map[string][]osPackage{}
	var sources []string
	for _, p := range almaPackages {
		if bySource[p.Source] == nil {
			sources = append(sources, p.Source)
		}
		bySource[p.Source] = append(bySource[p.Source], p)
	}
	top := filepath.Join(work, "rpmbuild")
	rpmDefs := []string{"--define", "_topdir " + top, "--define", "_db_backend sqlite", "--define", "_build_id_links none", "--define", "debug_package %{nil}"}
	for _, src := range sources {
		pkgs := bySource[src]
		epoch, ver, rel, err := splitEVR(pkgs[0].Version)
		if err != nil {
			return err
		}
		var spec strings.Builder
		fmt.Fprintf(&spec, "Name: %s\nVersion: %s\nRelease: %s\n", src, ver, rel)
		if epoch != "" {
			fmt.Fprintf(&spec, "Epoch: %s\n", epoch)
		}
		fmt.Fprintf(&spec, "Summary: %s (bench/vuln input)\nLicense: MIT\nAutoReqProv: no\nVendor: AlmaLinux\n\n%%description\nbench/vuln input.\n\n", src)
		main := false
		for _, p := range pkgs {
			if p.Name == src {
				main = true
				continue
			}
			fmt.Fprintf(&spec, "%%package -n %s\nSummary: %s\n\n%%description -n %s\nbench/vuln input.\n\n%%files -n %s\n\n", p.Name, p.Name, p.Name, p.Name)
		}
		if main {
			spec.WriteString("%files\n\n")
		}
		specPath := filepath.Join(work, src+".spec")
		if err := os.WriteFile(specPath, []byte(spec.String()), 0o644); err != nil {
			return err
		}
		args := append(append([]string{}, rpmDefs...), "--target", "x86_64-redhat-linux", "-bb", specPath)
		if out, err := exec.CommandContext(ctx, "rpmbuild", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("rpmbuild %s: %v: %s", src, err, out)
		}
	}
	var rpms []string
	err = filepath.WalkDir(filepath.Join(top, "RPMS"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".rpm") {
			rpms = append(rpms, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	if len(rpms) != len(almaPackages) {
		return fmt.Errorf("rpmbuild made %d packages, want %d", len(rpms), len(almaPackages))
	}
	root := filepath.Join(work, "root")
	base := append(append([]string{}, rpmDefs...), "--root", root, "--dbpath", "/var/lib/rpm")
	if out, err := exec.CommandContext(ctx, "rpm", append(base, "--initdb")...).CombinedOutput(); err != nil {
		return fmt.Errorf("rpm --initdb: %v: %s", err, out)
	}
	args := append(base, "-i", "--justdb", "--nodeps", "--noscripts", "--notriggers", "--ignorearch", "--ignoreos", "--nosignature", "--nodigest")
	if out, err := exec.CommandContext(ctx, "rpm", append(args, rpms...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("rpm -i --justdb: %v: %s", err, out)
	}
	db, err := os.ReadFile(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"))
	if err != nil {
		return fmt.Errorf("rpm made no SQLite database: %w", err)
	}
	fmt.Fprintf(b.log, "inputs: almalinux-image: %d packages from %d source RPMs\n", len(rpms), len(sources))
	return writeImage(dst, "bench/vuln: AlmaLinux 9.2 package database", map[string][]byte{
		"etc/os-release":           []byte(almaOSRelease),
		"etc/redhat-release":       []byte("AlmaLinux release 9.2 (Turquoise Kodkod)\n"),
		"var/lib/rpm/rpmdb.sqlite": db,
	})
}

// splitEVR splits "[epoch:]version-release".
func splitEVR(evr string) (epoch, version, release string, err error) {
	if e, rest, ok := strings.Cut(evr, ":"); ok {
		epoch, evr = e, rest
	}
	i := strings.LastIndexByte(evr, '-')
	if i <= 0 {
		return "", "", "", errors.New("no release in " + evr)
	}
	return epoch, evr[:i], evr[i+1:], nil
}
