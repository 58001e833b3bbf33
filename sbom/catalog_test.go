package sbom_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/gosymbols"
	"github.com/tether-sec/tether/sbom"
)

func TestCatalogDirEcosystems(t *testing.T) {
	ctx := context.Background()
	tree, err := sbom.CatalogDir(ctx, "testdata/tree", sbom.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	alpine, err := sbom.CatalogDir(ctx, "testdata/alpine", sbom.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		s    *sbom.SBOM
		typ  string
		// want is every purl of the type, unless subset is set.
		want   []string
		subset bool
	}{
		{name: "dpkg", s: tree, typ: "deb", want: []string{
			"pkg:deb/debian/base-files@12.4%2Bdeb12u11?arch=amd64&distro=bookworm",
			"pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=bookworm&source=bash&sourceversion=5.2.15-2",
			"pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=bookworm&source=glibc",
			"pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=bookworm&source=openssl",
			"pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=bookworm&source=zlib",
		}},
		{name: "apk", s: alpine, typ: "apk", want: []string{
			"pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=3.20.3&origin=busybox",
			"pkg:apk/alpine/libcrypto3@3.3.2-r1?arch=x86_64&distro=3.20.3&origin=openssl",
			"pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=3.20.3&origin=musl",
			"pkg:apk/alpine/zlib@1.3.1-r1?arch=x86_64&distro=3.20.3&origin=zlib",
		}},
		{name: "go.mod", s: tree, typ: "golang", want: []string{
			"pkg:golang/github.com/google/go-cmp@v0.7.0",
			"pkg:golang/github.com/pkg/errors@v0.9.1",
			"pkg:golang/stdlib@1.22",
		}},
		{name: "npm lockfile v3", s: tree, typ: "npm", subset: true, want: []string{
			"pkg:npm/express@4.19.2",
			"pkg:npm/left-pad@1.3.0",
			"pkg:npm/lodash@4.17.21",
			"pkg:npm/ms@2.0.0",
			"pkg:npm/ms@2.1.3",
			"pkg:npm/tether-fixture-web@1.0.0", // the project's own package.json
			// yarn.lock v1
			"pkg:npm/js-tokens@4.0.0",
			"pkg:npm/loose-envify@1.4.0",
			"pkg:npm/react@18.3.1",
		}},
		{name: "python", s: tree, typ: "pypi", want: []string{
			"pkg:pypi/black@24.4.2", // Pipfile.lock develop
			"pkg:pypi/certifi@2024.7.4",
			"pkg:pypi/idna@3.7",   // uv.lock
			"pkg:pypi/six@1.16.0", // Pipfile.lock default
			"pkg:pypi/flask@3.0",  // "flask>=3.0": osv-scalibr reports the lower bound
			"pkg:pypi/iniconfig@2.0.0",
			"pkg:pypi/pytest@8.3.2",
			"pkg:pypi/requests@2.32.3",
			"pkg:pypi/urllib3@2.2.2",
		}},
		{name: "cargo", s: tree, typ: "cargo", want: []string{
			"pkg:cargo/fixture-cli@0.1.0",
			"pkg:cargo/serde@1.0.204",
			"pkg:cargo/serde_derive@1.0.204",
		}},
		{name: "gem", s: tree, typ: "gem", want: []string{
			"pkg:gem/mustermann@3.0.0",
			"pkg:gem/rack-test@2.1.0",
			"pkg:gem/rack@3.1.7",
			"pkg:gem/ruby2_keywords@0.0.5",
			"pkg:gem/sinatra@4.0.0",
			"pkg:gem/tilt@2.4.0",
		}},
		{name: "composer", s: tree, typ: "composer", want: []string{
			"pkg:composer/monolog/monolog@3.7.0",
			"pkg:composer/phpunit/phpunit@11.2.8",
			"pkg:composer/psr/log@3.0.0",
		}},
		{name: "nuget packages.lock.json", s: tree, typ: "nuget", want: []string{
			"pkg:nuget/Newtonsoft.Json@13.0.3",
			"pkg:nuget/Serilog@4.0.1",
		}},
		{name: "maven pom.xml and gradle.lockfile", s: tree, typ: "maven", want: []string{
			"pkg:maven/com.google.guava/failureaccess@1.0.2",
			"pkg:maven/com.google.guava/guava@33.2.1-jre",
			"pkg:maven/org.slf4j/slf4j-api@2.0.13",
			"pkg:maven/com.example.fixture/fixture-api@1.0.0",
			"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.17.2",
			"pkg:maven/junit/junit@4.13.2",
			"pkg:maven/org.apache.commons/commons-lang3@3.14.0",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := purlsOfType(tt.s, tt.typ)
			if tt.subset {
				var missing []string
				for _, w := range tt.want {
					if !slices.Contains(got, w) {
						missing = append(missing, w)
					}
				}
				if len(missing) > 0 {
					t.Errorf("missing purls %v; got %v", missing, got)
				}
				return
			}
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("purls (-want +got):\n%s", diff)
			}
		})
	}
	if len(tree.Problems) != 0 || len(alpine.Problems) != 0 {
		t.Errorf("problems: %v %v", tree.Problems, alpine.Problems)
	}
}

func TestCatalogDirPackageFields(t *testing.T) {
	ctx := context.Background()
	s, err := sbom.CatalogDir(ctx, "testdata/tree", sbom.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	a, err := sbom.CatalogDir(ctx, "testdata/alpine", sbom.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	s.Packages = append(s.Packages, a.Packages...)
	ignoreID := func(p sbom.Package) sbom.Package { p.ID = ""; return p }
	tests := []struct {
		purl string
		want sbom.Package
	}{
		{
			purl: "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=bookworm&source=bash&sourceversion=5.2.15-2",
			want: sbom.Package{
				Name: "bash", Version: "5.2.15-2+b8", Type: "deb",
				PURL:       "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=bookworm&source=bash&sourceversion=5.2.15-2",
				SourceName: "bash", SourceVersion: "5.2.15-2",
				FoundBy:   "os/dpkg",
				Locations: []sbom.Location{{Path: "var/lib/dpkg/status"}},
			},
		},
		{
			// "Source: glibc" without a version: the binary's version is the source's.
			purl: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=bookworm&source=glibc",
			want: sbom.Package{
				Name: "libc6", Version: "2.36-9+deb12u14", Type: "deb",
				PURL:       "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=bookworm&source=glibc",
				SourceName: "glibc", SourceVersion: "2.36-9+deb12u14",
				FoundBy:   "os/dpkg",
				Locations: []sbom.Location{{Path: "var/lib/dpkg/status"}},
			},
		},
		{
			purl: "pkg:apk/alpine/libcrypto3@3.3.2-r1?arch=x86_64&distro=3.20.3&origin=openssl",
			want: sbom.Package{
				Name: "libcrypto3", Version: "3.3.2-r1", Type: "apk",
				PURL:     "pkg:apk/alpine/libcrypto3@3.3.2-r1?arch=x86_64&distro=3.20.3&origin=openssl",
				Licenses: []string{"Apache-2.0"}, SourceName: "openssl", SourceVersion: "3.3.2-r1",
				FoundBy:   "os/apk",
				Locations: []sbom.Location{{Path: "lib/apk/db/installed"}},
			},
		},
		{
			purl: "pkg:npm/left-pad@1.3.0",
			want: sbom.Package{
				Name: "left-pad", Version: "1.3.0", Type: "npm", PURL: "pkg:npm/left-pad@1.3.0",
				FoundBy: "javascript/packagelockjson", Dev: true,
				Locations: []sbom.Location{{Path: "app/js/package-lock.json"}},
			},
		},
		{
			purl: "pkg:composer/phpunit/phpunit@11.2.8",
			want: sbom.Package{
				Name: "phpunit/phpunit", Version: "11.2.8", Type: "composer", PURL: "pkg:composer/phpunit/phpunit@11.2.8",
				FoundBy: "php/composerlock", Dev: true,
				Locations: []sbom.Location{{Path: "app/php/composer.lock"}},
			},
		},
		{
			purl: "pkg:maven/junit/junit@4.13.2",
			want: sbom.Package{
				Name: "junit:junit", Version: "4.13.2", Type: "maven", PURL: "pkg:maven/junit/junit@4.13.2",
				FoundBy: "java/pomxml", Dev: true,
				Locations: []sbom.Location{{Path: "app/java/pom.xml"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.purl, func(t *testing.T) {
			got, ok := byPURL(s, tt.purl)
			if !ok {
				t.Fatalf("no package %s", tt.purl)
			}
			if got.ID == "" || len(got.ID) != 16 {
				t.Errorf("ID = %q, want 16 hex digits", got.ID)
			}
			if diff := cmp.Diff(tt.want, ignoreID(got)); diff != "" {
				t.Errorf("package (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCatalogDirGoBinary(t *testing.T) {
	dir := t.TempDir()
	buildGoBinary(t, dir)
	s, err := sbom.CatalogDir(context.Background(), dir, sbom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := byPURL(s, "pkg:golang/github.com/google/go-cmp@v0.7.0")
	if !ok {
		t.Fatalf("go-cmp not found in the binary; got %v", purlsOfType(s, "golang"))
	}
	if diff := cmp.Diff([]sbom.Location{{Path: "bin/app"}}, p.Locations); diff != "" {
		t.Errorf("locations (-want +got):\n%s", diff)
	}
	if p.FoundBy != "go/binary" {
		t.Errorf("FoundBy = %q", p.FoundBy)
	}
	// The binary's functions come with its modules, for advisories that name symbols.
	checkGoSymbols(t, s, "bin/app")
}

// checkGoSymbols checks that the Go packages found in the binary at path share
// its function table, and that the table is the binary's: the go-cmp and fmt
// functions main calls are in it, a go-cmp function it never reaches is not.
func checkGoSymbols(t *testing.T, s *sbom.SBOM, path string) {
	t.Helper()
	var tables []*gosymbols.Table
	for _, p := range s.Packages {
		if p.FoundBy == "go/binary" && p.Locations[0].Path == path {
			if p.GoSymbols == nil {
				t.Fatalf("%s has no function table", p.PURL)
			}
			tables = append(tables, p.GoSymbols)
		} else if p.GoSymbols != nil {
			t.Errorf("%s (%s) has a function table", p.PURL, p.FoundBy)
		}
	}
	if len(tables) < 2 {
		t.Fatalf("%d Go packages in %s, want the main module, go-cmp and stdlib", len(tables), path)
	}
	tab := tables[0]
	for _, other := range tables[1:] {
		if other != tab {
			t.Error("the packages of one binary do not share its table")
		}
	}
	if !tab.Has("github.com/google/go-cmp/cmp", "Diff") || !tab.Has("fmt", "Println") {
		t.Errorf("table lacks cmp.Diff or fmt.Println: cmp has %d functions", len(tab.Packages["github.com/google/go-cmp/cmp"]))
	}
	if tab.Has("github.com/google/go-cmp/cmp/cmpopts", "EquateApprox") {
		t.Error("table holds cmpopts.EquateApprox, which the program never imports")
	}
}

func TestCatalogDirDeterministic(t *testing.T) {
	ctx := context.Background()
	a, err := sbom.CatalogDir(ctx, "testdata/tree", sbom.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	b, err := sbom.CatalogDir(ctx, "testdata/tree", sbom.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs differ (-first +second):\n%s", diff)
	}
	ids := map[string]bool{}
	for _, p := range a.Packages {
		if ids[p.ID] {
			t.Errorf("duplicate ID %s", p.ID)
		}
		ids[p.ID] = true
	}
	if a.Tool.Name != sbom.ToolName || !a.Created.Equal(created) || a.Subject.Kind != sbom.SubjectDirectory {
		t.Errorf("metadata: %+v %v %+v", a.Tool, a.Created, a.Subject)
	}
}

func TestCatalogDirProblemsAndLimits(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("bad/package-lock.json", "{ not json")
	write("good/Cargo.lock", readFile(t, "testdata/tree/app/rust/Cargo.lock"))

	s, err := sbom.CatalogDir(context.Background(), dir, sbom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Problems) != 1 || s.Problems[0].Path != "bad/package-lock.json" {
		t.Errorf("problems = %+v, want one for bad/package-lock.json", s.Problems)
	}
	if got := purlsOfType(s, "cargo"); len(got) != 3 {
		t.Errorf("cargo purls = %v: a bad file must not stop the catalog", got)
	}

	// A size limit below Cargo.lock's size skips it.
	s, err = sbom.CatalogDir(context.Background(), dir, sbom.Options{MaxFileSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if got := purlsOfType(s, "cargo"); len(got) != 0 {
		t.Errorf("MaxFileSize 64: cargo purls = %v, want none", got)
	}

	if _, err := sbom.CatalogDir(context.Background(), filepath.Join(dir, "good", "Cargo.lock"), sbom.Options{}); !errors.Is(err, sbom.ErrNotDirectory) {
		t.Errorf("file as root: err = %v, want ErrNotDirectory", err)
	}
}

func TestExtractorNames(t *testing.T) {
	names := sbom.ExtractorNames()
	for _, want := range []string{"os/dpkg", "os/apk", "os/rpm", "go/gomod", "go/binary", "javascript/packagelockjson", "python/poetrylock", "java/archive", "rust/cargolock", "ruby/gemfilelock", "php/composerlock", "dotnet/packageslockjson"} {
		if !slices.Contains(names, want) {
			t.Errorf("extractor %s not listed in %v", want, names)
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("extractor %s listed twice", n)
		}
		seen[n] = true
	}
}

// zipBytes returns a zip archive holding files, in the order given.
func zipBytes(t *testing.T, files ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f[0], Method: zip.Deflate, Modified: created})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCatalogDirJavaArchive(t *testing.T) {
	manifest := "Manifest-Version: 1.0\r\nCreated-By: Maven JAR Plugin 3.3.0\r\n\r\n"
	inner := zipBytes(t,
		[2]string{"META-INF/MANIFEST.MF", manifest},
		[2]string{"META-INF/maven/com.google.code.gson/gson/pom.properties", "artifactId=gson\ngroupId=com.google.code.gson\nversion=2.11.0\n"},
	)
	outer := zipBytes(t,
		[2]string{"META-INF/MANIFEST.MF", manifest},
		[2]string{"META-INF/maven/com.example/app/pom.properties", "artifactId=app\ngroupId=com.example\nversion=1.2.3\n"},
		[2]string{"BOOT-INF/lib/gson-2.11.0.jar", string(inner)},
	)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "opt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "opt", "app.jar"), outer, 0o644); err != nil {
		t.Fatal(err)
	}
	// A jar with no Maven coordinates at all (Debian's gettext.jar).
	plain := zipBytes(t, [2]string{"META-INF/MANIFEST.MF", manifest}, [2]string{"gnu/gettext/GettextResource.class", "\xca\xfe\xba\xbe"})
	if err := os.WriteFile(filepath.Join(dir, "opt", "gettext.jar"), plain, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := sbom.CatalogDir(context.Background(), dir, sbom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Packages {
		if strings.Contains(p.PURL, "unknown") || (p.Name == "unknown" && p.Version == "unknown") {
			t.Errorf("a jar without coordinates became %q %s@%s", p.PURL, p.Name, p.Version)
		}
	}
	if p, ok := byName(s, "gettext"); !ok || p.PURL != "" || p.Version != "" {
		t.Errorf("gettext.jar = %+v, want a package named after the file, without version or purl", p)
	}
	want := []string{"pkg:maven/com.example/app@1.2.3", "pkg:maven/com.google.code.gson/gson@2.11.0"}
	if diff := cmp.Diff(want, slices.DeleteFunc(purlsOfType(s, "maven"), func(p string) bool { return p == "" })); diff != "" {
		t.Errorf("purls (-want +got):\n%s", diff)
	}
	for _, p := range s.Packages {
		if p.PURL == "" {
			continue
		}
		if p.FoundBy != "java/archive" || !strings.HasPrefix(p.Locations[0].Path, "opt/app.jar") {
			t.Errorf("%s: found by %s at %v", p.PURL, p.FoundBy, p.Locations)
		}
		t.Logf("%s at %s", p.PURL, p.Locations[0].Path)
	}
}
