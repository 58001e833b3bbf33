package cyclonedx_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tether-sec/tether/internal/golden"
	"github.com/tether-sec/tether/internal/testenv"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/sbom/cyclonedx"
	"github.com/tether-sec/tether/sbom/sbomtest"
)

var encoders = map[string]sbomtest.Encoder{
	"json": cyclonedx.EncodeJSON,
	"xml":  cyclonedx.EncodeXML,
}

func encode(t *testing.T, format string, s *sbom.SBOM) []byte {
	t.Helper()
	return sbomtest.Encode(t, encoders[format], s)
}

func TestRoundTrip(t *testing.T) { sbomtest.RoundTrip(t, encoders, cyclonedx.Decode) }

func TestDeterministic(t *testing.T) {
	for _, format := range []string{"json", "xml"} {
		t.Run(format, func(t *testing.T) {
			a := encode(t, format, sbomtest.Rich())
			shuffled := sbomtest.Rich()
			slices.Reverse(shuffled.Packages)
			slices.Reverse(shuffled.Relationships)
			b := encode(t, format, shuffled)
			if !bytes.Equal(a, b) {
				t.Errorf("the same SBOM in another order encodes differently:\n%s", cmp.Diff(string(a), string(b)))
			}
			other := sbomtest.Rich()
			other.Packages[0].Version = "1.0.1"
			if serial(t, a) == serial(t, encode(t, format, other)) {
				t.Errorf("different SBOMs got the same serial number %s", serial(t, a))
			}
		})
	}
}

func serial(t *testing.T, b []byte) string {
	t.Helper()
	got, err := decodeRaw(b)
	if err != nil {
		t.Fatal(err)
	}
	return got.SerialNumber
}

func decodeRaw(b []byte) (*cdx.BOM, error) {
	var bom cdx.BOM
	format := cdx.BOMFileFormatJSON
	if bytes.HasPrefix(b, []byte("<")) {
		format = cdx.BOMFileFormatXML
	}
	err := cdx.NewBOMDecoder(bytes.NewReader(b), format).Decode(&bom)
	return &bom, err
}

func TestGolden(t *testing.T) {
	for format, name := range map[string]string{"json": "rich.cdx.json", "xml": "rich.cdx.xml"} {
		t.Run(format, func(t *testing.T) {
			golden.Check(t, filepath.Join("testdata", "golden", name), encode(t, format, sbomtest.Rich()))
		})
	}
}

func sbomsToValidate() map[string]*sbom.SBOM {
	dir := sbomtest.Rich()
	dir.Subject = sbom.Subject{Kind: sbom.SubjectDirectory, Name: "./shop"}
	git := sbomtest.Rich()
	git.Subject = sbom.Subject{Kind: sbom.SubjectGit, Name: "https://github.com/acme/shop@main", RepoURL: "https://github.com/acme/shop", Commit: sbomtest.RepoCommit}
	return map[string]*sbom.SBOM{"rich": sbomtest.Rich(), "directory": dir, "git": git, "empty": {}}
}

func TestSchemaJSON(t *testing.T) {
	sch := sbomtest.CycloneDXSchema(t, filepath.Join("testdata", "schema"))
	for name, s := range sbomsToValidate() {
		t.Run(name, func(t *testing.T) {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(encode(t, "json", s)))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err != nil {
				t.Errorf("output is not valid CycloneDX 1.6: %v", err)
			}
		})
	}
}

func TestSchemaJSONRejectsInvalid(t *testing.T) {
	// The validator must have teeth: a BOM with a component lacking its type fails.
	sch := sbomtest.CycloneDXSchema(t, filepath.Join("testdata", "schema"))
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"name":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if sch.Validate(doc) == nil {
		t.Error("schema accepted a component without a type")
	}
}

func TestSchemaXML(t *testing.T) {
	xmllint := testenv.LookPath(t, "xmllint", "apt-get install -y libxml2-utils")
	schema := filepath.Join("testdata", "schema", "bom-1.6.xsd")
	for name, s := range sbomsToValidate() {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "bom.xml")
			if err := os.WriteFile(f, encode(t, "xml", s), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", schema, f).CombinedOutput()
			if err != nil {
				t.Errorf("output is not valid against bom-1.6.xsd: %v\n%s", err, out)
			}
		})
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeSyft(t *testing.T) {
	got, err := cyclonedx.Decode(bytes.NewReader(readFixture(t, "syft-1.x.cdx.json")))
	if err != nil {
		t.Fatal(err)
	}
	want := &sbom.SBOM{
		Subject: sbom.Subject{Kind: sbom.SubjectImage, Name: "alpine:3.19", ImageDigest: "sha256:13b7e62e8df80264dbb747995705a986aa530415763a6c58f84a3ca8af9a5bcd"},
		Tool:    sbom.Tool{Name: "syft", Version: "1.4.1"},
		Created: time.Date(2024, 5, 21, 10, 11, 12, 0, time.FixedZone("", 2*3600)),
		Packages: []sbom.Package{
			{
				ID: "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1&package-id=27e8b4b5a6b1a1d1", Name: "busybox", Version: "1.36.1-r15",
				Type: "apk", PURL: "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1",
				CPEs:     []string{"cpe:2.3:a:busybox:busybox:1.36.1-r15:*:*:*:*:*:*:*"},
				Licenses: []string{"GPL-2.0-only"}, FoundBy: "apk-db-cataloger", SourceName: "busybox",
				Locations: []sbom.Location{{Path: "lib/apk/db/installed", LayerDiffID: "sha256:d4fc045c9e3a848011de66f34b81f052d4f2c15a17bb196d637e526349601820"}},
			},
			{
				ID: "pkg:golang/github.com/google/uuid@v1.6.0?package-id=9d2ab1e0c3b4a5f6", Name: "github.com/google/uuid", Version: "v1.6.0",
				Type: "golang", PURL: "pkg:golang/github.com/google/uuid@v1.6.0",
				CPEs:     []string{"cpe:2.3:a:google:uuid:v1.6.0:*:*:*:*:*:*:*", "cpe:2.3:a:google:go-uuid:v1.6.0:*:*:*:*:*:*:*"},
				Licenses: []string{"BSD-3-Clause"}, FoundBy: "go-module-binary-cataloger",
				Locations: []sbom.Location{{Path: "usr/local/bin/app", LayerDiffID: "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"}},
			},
		},
		Relationships: []sbom.Relationship{{
			From: "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1&package-id=27e8b4b5a6b1a1d1",
			To:   "pkg:golang/github.com/google/uuid@v1.6.0?package-id=9d2ab1e0c3b4a5f6", Type: sbom.DependsOn,
		}},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Syft BOM (-want +got):\n%s", diff)
	}
}

func TestDecodeTrivy(t *testing.T) {
	got, err := cyclonedx.Decode(bytes.NewReader(readFixture(t, "trivy-0.50.cdx.json")))
	if err != nil {
		t.Fatal(err)
	}
	want := &sbom.SBOM{
		Subject: sbom.Subject{Kind: sbom.SubjectImage, Name: "debian:12", ImageDigest: "sha256:fac2c0fd33e88dfd3bc88a872cfb78dcb167e74af6162d31724df69e482f886c"},
		Tool:    sbom.Tool{Name: "trivy", Version: "0.50.1"},
		Created: time.Date(2024, 4, 2, 8, 9, 10, 0, time.UTC),
		Packages: []sbom.Package{
			{
				ID: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5", Name: "libssl3", Version: "3.0.11-1~deb12u2",
				Type: "deb", PURL: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5",
				Licenses: []string{"Apache-2.0"}, FoundBy: "debian", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2",
				Locations: []sbom.Location{{LayerDigest: "sha256:8a1e25ce7c4f75e372e9884f8f7b1bedcfe4a7a7d452eb4b0a1c7477c9a90345", LayerDiffID: "sha256:ae134a4ad1b3f5e9a2a5d7e8c0b2f4e6a8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8"}},
			},
			{
				ID: "pkg:npm/express@4.18.2", Name: "express", Version: "4.18.2", Type: "npm", PURL: "pkg:npm/express@4.18.2",
				Licenses: []string{"MIT"}, FoundBy: "node-pkg",
				Locations: []sbom.Location{{Path: "app/node_modules/express/package.json", LayerDigest: "sha256:9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0", LayerDiffID: "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"}},
			},
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Trivy BOM (-want +got):\n%s", diff)
	}
}

func TestDecodeBadInput(t *testing.T) {
	good := string(encode(t, "json", sbomtest.Rich()))
	goodXML := string(encode(t, "xml", sbomtest.Rich()))
	tests := []struct {
		name, in string
		want     error // nil: any error
	}{
		{"empty", "", cyclonedx.ErrUnknownFormat},
		{"not JSON or XML", "hello world", cyclonedx.ErrUnknownFormat},
		{"JSON of another format", `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT"}`, cyclonedx.ErrUnknownFormat},
		{"JSON array", `[1,2,3]`, cyclonedx.ErrUnknownFormat},
		{"XML of another format", `<?xml version="1.0"?><project xmlns="http://maven.apache.org/POM/4.0.0"/>`, cyclonedx.ErrUnknownFormat},
		{"unknown specVersion", `{"bomFormat":"CycloneDX","specVersion":"9.9","version":1}`, cyclonedx.ErrUnsupportedVersion},
		{"old specVersion", `{"bomFormat":"CycloneDX","specVersion":"1.2","version":1}`, cyclonedx.ErrUnsupportedVersion},
		{"unknown XML namespace", `<bom xmlns="http://cyclonedx.org/schema/bom/2.0" version="1"/>`, cyclonedx.ErrUnsupportedVersion},
		{"truncated JSON", good[:len(good)/2], cyclonedx.ErrUnknownFormat},
		{"truncated XML", goodXML[:len(goodXML)/2], nil},
		{"wrong types", `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":{"a":1}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cyclonedx.Decode(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("Decode(%.40q) = %+v, want an error", tt.in, got)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Decode(%.40q) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestDecodeAcceptsOlderSpecs(t *testing.T) {
	for _, v := range []cdx.SpecVersion{cdx.SpecVersion1_4, cdx.SpecVersion1_5} {
		for _, format := range []cdx.BOMFileFormat{cdx.BOMFileFormatJSON, cdx.BOMFileFormatXML} {
			bom := cdx.NewBOM()
			bom.Components = &[]cdx.Component{{BOMRef: "a", Type: cdx.ComponentTypeLibrary, Name: "a", Version: "1", PackageURL: "pkg:npm/a@1"}}
			var buf bytes.Buffer
			if err := cdx.NewBOMEncoder(&buf, format).EncodeVersion(bom, v); err != nil {
				t.Fatal(err)
			}
			got, err := cyclonedx.Decode(&buf)
			if err != nil {
				t.Fatalf("spec %s: %v", v, err)
			}
			want := []sbom.Package{{ID: "a", Name: "a", Version: "1", Type: "npm", PURL: "pkg:npm/a@1"}}
			if diff := cmp.Diff(want, got.Packages, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("spec %s (-want +got):\n%s", v, diff)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"syft-1.x.cdx.json", "trivy-0.50.cdx.json", "golden/rich.cdx.json", "golden/rich.cdx.xml"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := cyclonedx.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever decodes must encode, and encode to something that decodes.
		for _, format := range []string{"json", "xml"} {
			var buf bytes.Buffer
			if err := encoders[format](&buf, s); err != nil {
				if strings.Contains(err.Error(), "two packages with ID") {
					continue
				}
				t.Fatalf("encode %s of a decoded BOM: %v", format, err)
			}
			if _, err := cyclonedx.Decode(&buf); err != nil {
				t.Fatalf("decode of re-encoded %s: %v", format, err)
			}
		}
	})
}
