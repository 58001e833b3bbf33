// Package sbomtest holds the SBOM fixtures the format packages' tests share.
package sbomtest

import (
	"os"
	"path/filepath"

	"bytes"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"slices"
	"strings"
	"time"

	"github.com/tether-sec/tether/sbom"
)

// Digests and a commit the fixtures use.
const (
	Layer0     = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	Diff0      = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	Layer3     = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	Diff3      = "sha256:4444444444444444444444444444444444444444444444444444444444444444"
	Manifest   = "sha256:abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd"
	RepoCommit = "0123456789abcdef0123456789abcdef01234567"
)

// Rich has an image subject with digest and lineage, packages of several types
// with locations, CPEs, licences (an id, an expression, a name), relationships and a
// dev dependency.
func Rich() *sbom.SBOM {
	return &sbom.SBOM{
		Subject: sbom.Subject{
			Kind: sbom.SubjectImage, Name: "registry.example.com/acme/shop:1.2.3", ImageDigest: Manifest,
			Platform: "linux/amd64", RepoURL: "https://github.com/acme/shop", Commit: RepoCommit,
		},
		Tool:    sbom.Tool{Name: "tether", Version: "0.1.0"},
		Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Packages: []sbom.Package{
			{
				ID: "npm:@acme/ui@1.0.0", Name: "@acme/ui", Version: "1.0.0", Type: "npm",
				Licenses: []string{"MIT", "Apache-2.0 OR MIT"}, FoundBy: "javascript/packagelockjson",
				Locations: []sbom.Location{{Path: "app/package-lock.json", LayerDigest: Layer3, LayerDiffID: Diff3, LayerIndex: 3, HistoryIndex: 7, CreatedBy: "COPY . /app # buildkit"}},
			},
			{
				ID: "deb-openssl", Name: "openssl", Version: "3.0.11-1~deb12u2", Type: "deb",
				PURL:          "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12",
				CPEs:          []string{"cpe:2.3:a:openssl:openssl:3.0.11-1\\~deb12u2:*:*:*:*:*:*:*", "cpe:2.3:a:openssl_project:openssl:3.0.11-1~deb12u2:*:*:*:*:*:*:*"},
				Licenses:      []string{"Apache-2.0"},
				SourceName:    "openssl",
				SourceVersion: "3.0.11-1~deb12u2",
				FoundBy:       "os/dpkg",
				Locations: []sbom.Location{{
					Path: "var/lib/dpkg/status", LayerDigest: Layer0, LayerDiffID: Diff0, HistoryIndex: 1,
					CreatedBy: "/bin/sh -c #(nop) ADD file:4b1c in / ", InBaseImage: true,
				}},
			},
			{
				ID: "go-shop", Name: "github.com/acme/shop", Version: "v1.2.3", Type: "golang",
				PURL: "pkg:golang/github.com/acme/shop@v1.2.3", FoundBy: "go/binary",
				Locations: []sbom.Location{{Path: "app/server", LayerDigest: Layer3, LayerDiffID: Diff3, LayerIndex: 3, HistoryIndex: 7,
					Dockerfile: &sbom.DockerfileRef{Path: "build/Dockerfile", Instruction: "COPY", StartLine: 12, EndLine: 13}}},
			},
			{
				ID: "golang-x-net", Name: "golang.org/x/net", Version: "v0.20.0", Type: "golang",
				PURL: "pkg:golang/golang.org/x/net@v0.20.0", Licenses: []string{"BSD-3-Clause"}, FoundBy: "go/binary",
				Locations: []sbom.Location{{Path: "app/server", LayerDigest: Layer3, LayerDiffID: Diff3, LayerIndex: 3, HistoryIndex: 7}},
			},
			{
				ID: "maven-jaxb", Name: "jaxb-api", Version: "2.3.1", Type: "maven",
				PURL:     "pkg:maven/javax.xml.bind/jaxb-api@2.3.1",
				Licenses: []string{"GPL-2.0-only WITH Classpath-exception-2.0"}, FoundBy: "java/archive",
				Locations: []sbom.Location{{Path: "app/lib/jaxb-api-2.3.1.jar", LayerDigest: Layer3, LayerDiffID: Diff3, LayerIndex: 3, HistoryIndex: 7}},
			},
			{
				ID: "npm-jest", Name: "jest", Version: "29.7.0", Type: "npm", PURL: "pkg:npm/jest@29.7.0",
				Licenses: []string{"Acme Internal Licence v2"}, CPEs: []string{"cpe:2.3:a:jest:jest:29.7.0~bad:*:*:*:*:*:*:*", "cpe:2.3:a:jestjs:jest:29.7.0:*:*:*:*:*:*:*"}, FoundBy: "javascript/packagelockjson", Dev: true,
				Locations: []sbom.Location{{Path: "app/package-lock.json", LayerDigest: Layer3, LayerDiffID: Diff3, LayerIndex: 3, HistoryIndex: 7}},
			},
			{
				ID: "npm-lodash", Name: "lodash", Version: "4.17.21", Type: "npm", PURL: "pkg:npm/lodash@4.17.21",
				Licenses: []string{"MIT"}, FoundBy: "javascript/packagelockjson",
				Locations: []sbom.Location{{Path: "app/package-lock.json", LayerDigest: Layer3, LayerDiffID: Diff3, LayerIndex: 3, HistoryIndex: 7}},
			},
			{
				ID: "pypi-requests", Name: "requests", Version: "2.31.0", Type: "pypi", PURL: "pkg:pypi/requests@2.31.0",
				Licenses: []string{"Apache-2.0"}, FoundBy: "python/wheelegg",
				Locations: []sbom.Location{
					{Path: "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", LayerDigest: Layer0, LayerDiffID: Diff0, HistoryIndex: 1, InBaseImage: true},
					{Path: "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/RECORD", LayerDigest: Layer0, LayerDiffID: Diff0, HistoryIndex: 1, InBaseImage: true},
				},
			},
		},
		Relationships: []sbom.Relationship{
			{From: "npm:@acme/ui@1.0.0", To: "npm-lodash", Type: sbom.DependsOn},
			{From: "npm:@acme/ui@1.0.0", To: "npm-jest", Type: sbom.DevDependsOn},
			{From: "go-shop", To: "golang-x-net", Type: sbom.Contains},
			{From: "go-shop", To: "golang-x-net", Type: sbom.DependsOn},
		},
		Problems: []sbom.Problem{{Path: "app/broken/package-lock.json", Layer: Layer3, Message: "invalid JSON at offset 12"}},
	}
}

// Normalized sorts what the encoders sort, so a decoded SBOM compares with its input.
func Normalized(s *sbom.SBOM) *sbom.SBOM {
	n := *s
	n.Packages = slices.Clone(s.Packages)
	slices.SortFunc(n.Packages, func(a, b sbom.Package) int { return strings.Compare(a.ID, b.ID) })
	n.Relationships = slices.Clone(s.Relationships)
	sbom.SortRelationships(n.Relationships)
	return &n
}

// Encoder writes an SBOM in one format.
type Encoder func(io.Writer, *sbom.SBOM) error

// Encode runs enc over s and returns the bytes, failing t on an error.
func Encode(t testing.TB, enc Encoder, s *sbom.SBOM) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := enc(&buf, s); err != nil {
		t.Fatalf("encode: %v", err)
	}
	return buf.Bytes()
}

// RoundTrip checks, for every format, that decoding what the encoder wrote for
// Rich gives Rich back (in the order encoders write).
func RoundTrip(t *testing.T, encoders map[string]Encoder, decode func(io.Reader) (*sbom.SBOM, error)) {
	for format, enc := range encoders {
		t.Run(format, func(t *testing.T) {
			in := Rich()
			got, err := decode(bytes.NewReader(Encode(t, enc, in)))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(Normalized(in), got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("decode(encode(s)) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// CycloneDXSchema compiles the official CycloneDX 1.6 JSON schema kept in
// sbom/cyclonedx/testdata/schema (dir is that folder, relative to the calling
// test), with its sub-schemas registered under their official URLs so nothing is
// fetched.
func CycloneDXSchema(t testing.TB, dir string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	for _, f := range []string{"bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"} {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.AddResource("http://cyclonedx.org/schema/"+f, doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	sch, err := c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		t.Fatalf("compiling the CycloneDX 1.6 schema: %v", err)
	}
	return sch
}
