package spdx_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/santhosh-tekuri/jsonschema/v6"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"
	"github.com/spdx/tools-golang/tagvalue"

	"github.com/tether-sec/tether/internal/golden"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/sbom/sbomtest"
	"github.com/tether-sec/tether/sbom/spdx"
)

var encoders = map[string]sbomtest.Encoder{
	"json":      spdx.EncodeJSON,
	"tag-value": spdx.EncodeTagValue,
}

func encode(t *testing.T, format string, s *sbom.SBOM) []byte {
	t.Helper()
	return sbomtest.Encode(t, encoders[format], s)
}

func TestRoundTrip(t *testing.T) { sbomtest.RoundTrip(t, encoders, spdx.Decode) }

func TestDeterministic(t *testing.T) {
	for _, format := range []string{"json", "tag-value"} {
		t.Run(format, func(t *testing.T) {
			a := encode(t, format, sbomtest.Rich())
			shuffled := sbomtest.Rich()
			slices.Reverse(shuffled.Packages)
			slices.Reverse(shuffled.Relationships)
			if b := encode(t, format, shuffled); !bytes.Equal(a, b) {
				t.Errorf("the same SBOM in another order encodes differently:\n%s", cmp.Diff(string(a), string(b)))
			}
		})
	}
	a, b := sbomtest.Rich(), sbomtest.Rich()
	b.Packages[0].Version = "1.0.1"
	if namespace(t, encode(t, "json", a)) == namespace(t, encode(t, "json", b)) {
		t.Error("different SBOMs got the same document namespace")
	}
	if ns := namespace(t, encode(t, "json", a)); !strings.HasPrefix(ns, spdx.NamespacePrefix+"registry.example.com-acme-shop-1.2.3-") {
		t.Errorf("namespace = %q, want it derived from the subject", ns)
	}
}

func namespace(t *testing.T, b []byte) string {
	t.Helper()
	var doc struct{ DocumentNamespace string }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.DocumentNamespace
}

func TestGolden(t *testing.T) {
	for format, name := range map[string]string{"json": "rich.spdx.json", "tag-value": "rich.spdx"} {
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
	// External references SPDX cannot hold (empty, or with spaces) are left out.
	badRefs := &sbom.SBOM{Packages: []sbom.Package{{ID: "x", Name: "x", PURL: "pkg:npm/a b@1", CPEs: []string{"", "cpe:2.3:a:x:x:1 :*:*:*:*:*:*:*"}}}}
	return map[string]*sbom.SBOM{"rich": sbomtest.Rich(), "directory": dir, "git": git, "empty": {}, "bad refs": badRefs}
}

// spdxSchema compiles the official SPDX 2.3 JSON schema, registered under its $id so
// that nothing is fetched.
func spdxSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	const id = "http://spdx.org/rdf/terms/2.3"
	fh, err := os.Open(filepath.Join("testdata", "schema", "spdx-schema-2.3.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	doc, err := jsonschema.UnmarshalJSON(fh)
	if err != nil {
		t.Fatalf("spdx-schema-2.3.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatalf("spdx-schema-2.3.json: %v", err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compiling the SPDX 2.3 schema: %v", err)
	}
	return sch
}

// validate reports what in the JSON document raw breaks the SPDX 2.3 schema or the
// rules checkSPDX23 adds.
func validate(t *testing.T, sch *jsonschema.Schema, raw []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Errorf("output is not valid SPDX 2.3: %v", err)
	}
	for _, problem := range checkSPDX23(raw) {
		t.Error(problem)
	}
}

// TestValid checks the output against the official SPDX 2.3 JSON schema, the SPDX
// library's own validation and checkSPDX23.
func TestValid(t *testing.T) {
	sch := spdxSchema(t)
	for name, s := range sbomsToValidate() {
		t.Run(name, func(t *testing.T) {
			raw := encode(t, "json", s)
			validate(t, sch, raw)
			doc, err := spdxjson.Read(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("tools-golang cannot read the JSON: %v", err)
			}
			if err := spdxlib.ValidateDocument(doc); err != nil {
				t.Errorf("tools-golang validation: %v", err)
			}
			if _, err := tagvalue.Read(bytes.NewReader(encode(t, "tag-value", s))); err != nil {
				t.Errorf("tools-golang cannot read the tag-value: %v", err)
			}
		})
	}
}

// TestValidReencoded checks that other tools' documents, decoded and encoded again,
// are valid SPDX 2.3.
func TestValidReencoded(t *testing.T) {
	sch := spdxSchema(t)
	for _, name := range []string{"syft-1.x.spdx.json", "trivy-0.50.spdx.json"} {
		t.Run(name, func(t *testing.T) {
			s, err := spdx.Decode(bytes.NewReader(readFixture(t, name)))
			if err != nil {
				t.Fatal(err)
			}
			validate(t, sch, encode(t, "json", s))
		})
	}
}

func TestSchemaRejectsInvalid(t *testing.T) {
	// The schema must have teeth: each of these breaks a rule it states.
	sch := spdxSchema(t)
	raw := string(encode(t, "json", sbomtest.Rich()))
	var noCreationInfo map[string]any
	if err := json.Unmarshal([]byte(raw), &noCreationInfo); err != nil {
		t.Fatal(err)
	}
	delete(noCreationInfo, "creationInfo")
	b, err := json.Marshal(noCreationInfo)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, broken, want string }{
		{"space in package SPDXID", strings.Replace(raw, `"SPDXID": "SPDXRef-deb-openssl"`, `"SPDXID": "SPDXRef-deb openssl"`, 1), "/SPDXID'"},
		{"no creationInfo", string(b), "'creationInfo'"},
		{"bad created date", strings.Replace(raw, `"created": "2026-01-02T03:04:05Z"`, `"created": "2026-01-02 03:04:05"`, 1), "/creationInfo/created'"},
		{"unknown relationship", strings.Replace(raw, `"relationshipType": "DEPENDS_ON"`, `"relationshipType": "USES"`, 1), "/relationshipType'"},
		{"unknown purpose", strings.Replace(raw, `"primaryPackagePurpose": "CONTAINER"`, `"primaryPackagePurpose": "IMAGE"`, 1), "/primaryPackagePurpose'"},
		{"unknown field", strings.Replace(raw, `"spdxVersion":`, `"color": "blue", "spdxVersion":`, 1), "'color'"},
	} {
		if tt.broken == raw {
			t.Fatalf("%s: the replacement did not apply", tt.name)
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.broken))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if err := sch.Validate(doc); err == nil {
			t.Errorf("%s: the schema accepted a broken document", tt.name)
		} else if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: the schema rejected the document for another reason, want one at %s: %v", tt.name, tt.want, err)
		}
	}
}

var (
	creatorPattern = regexp.MustCompile(`^(Tool|Organization|Person): .+`)
	refPattern     = regexp.MustCompile(`LicenseRef-[A-Za-z0-9.\-]+`)
)

// checkSPDX23 returns what in a JSON document breaks the SPDX 2.3 rules that the JSON
// schema cannot state (fixed header values, identifiers that are unique and resolve,
// licence expression syntax, agent syntax) and tether's own choices (no file
// analysis). The schema checks the rest.
func checkSPDX23(raw []byte) []string {
	var doc struct {
		SPDXVersion, DataLicense, SPDXID, Name, DocumentNamespace string
		CreationInfo                                              struct{ Creators []string }
		Packages                                                  []struct {
			SPDXID, LicenseConcluded, LicenseDeclared, Supplier string
			FilesAnalyzed                                       *bool
			ExternalRefs                                        []struct {
				ReferenceCategory, ReferenceType, ReferenceLocator string
			}
		}
		HasExtractedLicensingInfos []struct{ LicenseID, ExtractedText string }
		Relationships              []struct{ SpdxElementID, RelatedSpdxElement, RelationshipType string }
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return []string{err.Error()}
	}
	var bad []string
	fail := func(f string, a ...any) { bad = append(bad, fmt.Sprintf(f, a...)) }
	if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.SPDXID != "SPDXRef-DOCUMENT" || doc.Name == "" {
		fail("document header: %q %q %q %q", doc.SPDXVersion, doc.DataLicense, doc.SPDXID, doc.Name)
	}
	if !strings.HasPrefix(doc.DocumentNamespace, "https://") || strings.Contains(doc.DocumentNamespace, "#") {
		fail("documentNamespace %q is not an absolute URI without a fragment", doc.DocumentNamespace)
	}
	for _, c := range doc.CreationInfo.Creators {
		if !creatorPattern.MatchString(c) {
			fail("creator %q", c)
		}
	}
	defined := map[string]bool{}
	for _, l := range doc.HasExtractedLicensingInfos {
		if !refPattern.MatchString(l.LicenseID) || l.ExtractedText == "" {
			fail("extracted licensing info %+v", l)
		}
		defined[l.LicenseID] = true
	}
	ids := map[string]bool{"SPDXRef-DOCUMENT": true}
	for _, p := range doc.Packages {
		if ids[p.SPDXID] {
			fail("package SPDXID %q is not unique", p.SPDXID)
		}
		ids[p.SPDXID] = true
		if p.FilesAnalyzed == nil || *p.FilesAnalyzed {
			fail("package %s: filesAnalyzed is not false", p.SPDXID)
		}
		if p.Supplier != "NOASSERTION" && !strings.HasPrefix(p.Supplier, "Organization: ") && !strings.HasPrefix(p.Supplier, "Person: ") {
			fail("package %s: supplier %q", p.SPDXID, p.Supplier)
		}
		for _, l := range []string{p.LicenseConcluded, p.LicenseDeclared} {
			if l != "NOASSERTION" && l != "NONE" && !spdx.ValidExpression(l) {
				fail("package %s: licence %q is not an SPDX expression", p.SPDXID, l)
			}
			for _, ref := range refPattern.FindAllString(l, -1) {
				if !defined[ref] {
					fail("package %s: %s has no extracted licensing info", p.SPDXID, ref)
				}
			}
		}
		for _, r := range p.ExternalRefs {
			ok := r.ReferenceCategory == "PACKAGE-MANAGER" && r.ReferenceType == "purl" && strings.HasPrefix(r.ReferenceLocator, "pkg:") ||
				r.ReferenceCategory == "SECURITY" && (r.ReferenceType == "cpe23Type" && strings.HasPrefix(r.ReferenceLocator, "cpe:2.3:") ||
					r.ReferenceType == "cpe22Type" && strings.HasPrefix(r.ReferenceLocator, "cpe:/"))
			if !ok || strings.ContainsAny(r.ReferenceLocator, " \t\n") {
				fail("package %s: external ref %+v", p.SPDXID, r)
			}
		}
	}
	describes := 0
	for _, r := range doc.Relationships {
		if !ids[r.SpdxElementID] || !ids[r.RelatedSpdxElement] {
			fail("relationship %+v refers to an element the document lacks", r)
		}
		if r.RelationshipType == "DESCRIBES" && r.SpdxElementID == "SPDXRef-DOCUMENT" {
			describes++
		}
	}
	if describes != 1 {
		fail("%d DESCRIBES relationships, want 1", describes)
	}
	return bad
}

func TestCheckerHasTeeth(t *testing.T) {
	raw := string(encode(t, "json", sbomtest.Rich()))
	for name, broken := range map[string]string{
		"bad licence":       strings.Replace(raw, `"licenseDeclared": "Apache-2.0"`, `"licenseDeclared": "Apache 2"`, 1),
		"undefined":         strings.Replace(raw, `"licenseId": "LicenseRef-`, `"licenseId": "LicenseRef-x`, 1),
		"dangling":          strings.Replace(raw, `"relatedSpdxElement": "SPDXRef-npm-lodash"`, `"relatedSpdxElement": "SPDXRef-npm-lodash2"`, 1),
		"duplicate id":      strings.Replace(raw, `"SPDXID": "SPDXRef-npm-lodash"`, `"SPDXID": "SPDXRef-npm-jest"`, 1),
		"bad creator":       strings.Replace(raw, `"Tool: tether-0.1.0"`, `"tether-0.1.0"`, 1),
		"files analyzed":    strings.Replace(raw, `"filesAnalyzed": false`, `"filesAnalyzed": true`, 1),
		"wrong spdxVersion": strings.Replace(raw, `"spdxVersion": "SPDX-2.3"`, `"spdxVersion": "SPDX-2.2"`, 1),
	} {
		if broken == raw {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		if len(checkSPDX23([]byte(broken))) == 0 {
			t.Errorf("%s: the checker accepted a broken document", name)
		}
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
	got, err := spdx.Decode(bytes.NewReader(readFixture(t, "syft-1.x.spdx.json")))
	if err != nil {
		t.Fatal(err)
	}
	want := &sbom.SBOM{
		Subject: sbom.Subject{Kind: sbom.SubjectImage, Name: "alpine:3.19", ImageDigest: "sha256:13b7e62e8df80264dbb747995705a986aa530415763a6c58f84a3ca8af9a5bcd"},
		Tool:    sbom.Tool{Name: "syft", Version: "1.4.1"},
		Created: time.Date(2024, 5, 21, 8, 11, 12, 0, time.UTC),
		Packages: []sbom.Package{
			{
				ID: "Package-apk-busybox-27e8b4b5a6b1a1d1", Name: "busybox", Version: "1.36.1-r15", Type: "apk",
				PURL:     "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1",
				CPEs:     []string{"cpe:2.3:a:busybox:busybox:1.36.1-r15:*:*:*:*:*:*:*"},
				Licenses: []string{"GPL-2.0-only"}, FoundBy: "APK DB",
				Locations: []sbom.Location{{Path: "lib/apk/db/installed"}},
			},
			{
				ID: "Package-go-module-github.com-acme-tool-9d2ab1e0c3b4a5f6", Name: "github.com/acme/tool", Version: "v0.3.0", Type: "golang",
				PURL:     "pkg:golang/github.com/acme/tool@v0.3.0",
				CPEs:     []string{"cpe:2.3:a:acme:tool:v0.3.0:*:*:*:*:*:*:*", "cpe:2.3:a:acme:acme-tool:v0.3.0:*:*:*:*:*:*:*"},
				Licenses: []string{"MIT", "Acme Source Available"}, FoundBy: "go module information",
				Locations: []sbom.Location{{Path: "usr/local/bin/tool"}, {Path: "usr/local/bin/tool2"}},
			},
		},
		Relationships: []sbom.Relationship{{From: "Package-apk-busybox-27e8b4b5a6b1a1d1", To: "Package-go-module-github.com-acme-tool-9d2ab1e0c3b4a5f6", Type: sbom.DependsOn}},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Syft SPDX (-want +got):\n%s", diff)
	}
}

func TestDecodeTrivy(t *testing.T) {
	got, err := spdx.Decode(bytes.NewReader(readFixture(t, "trivy-0.50.spdx.json")))
	if err != nil {
		t.Fatal(err)
	}
	want := &sbom.SBOM{
		Subject: sbom.Subject{Kind: sbom.SubjectImage, Name: "debian:12", ImageDigest: "sha256:fac2c0fd33e88dfd3bc88a872cfb78dcb167e74af6162d31724df69e482f886c"},
		Tool:    sbom.Tool{Name: "trivy", Version: "0.50.1"},
		Created: time.Date(2024, 4, 2, 8, 9, 10, 0, time.UTC),
		Packages: []sbom.Package{
			{
				ID: "Package-2f1c7a4e5b6d8f90", Name: "libssl3", Version: "3.0.11-1~deb12u2", Type: "deb",
				PURL:     "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5",
				Licenses: []string{"Apache-2.0"}, FoundBy: "debian", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2",
				Locations: []sbom.Location{{LayerDiffID: "sha256:ae134a4ad1b3f5e9a2a5d7e8c0b2f4e6a8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8", LayerDigest: "sha256:8a1e25ce7c4f75e372e9884f8f7b1bedcfe4a7a7d452eb4b0a1c7477c9a90345"}},
			},
			{
				ID: "Package-7c3e9a1b2d4f6e80", Name: "express", Version: "4.18.2", Type: "npm", PURL: "pkg:npm/express@4.18.2",
				Licenses: []string{"MIT"}, FoundBy: "node-pkg",
				Locations: []sbom.Location{{Path: "app/node_modules/express/package.json", LayerDiffID: "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"}},
			},
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Trivy SPDX (-want +got):\n%s", diff)
	}
}

func TestDecodeBadInput(t *testing.T) {
	good := string(encode(t, "json", sbomtest.Rich()))
	goodTV := string(encode(t, "tag-value", sbomtest.Rich()))
	tests := []struct {
		name, in string
		want     error // nil: any error
	}{
		{"empty", "", spdx.ErrUnknownFormat},
		{"not SPDX", "hello world", spdx.ErrUnknownFormat},
		{"JSON of another format", `{"bomFormat":"CycloneDX","specVersion":"1.6"}`, spdx.ErrUnknownFormat},
		{"JSON array", `[1,2,3]`, spdx.ErrUnknownFormat},
		{"XML", `<bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>`, spdx.ErrUnknownFormat},
		{"unknown JSON version", `{"spdxVersion":"SPDX-9.9","SPDXID":"SPDXRef-DOCUMENT"}`, spdx.ErrUnsupportedVersion},
		{"SPDX 3 JSON-LD", `{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[]}`, spdx.ErrUnknownFormat},
		{"unknown tag-value version", "SPDXVersion: SPDX-1.2\nDataLicense: CC0-1.0\n", spdx.ErrUnsupportedVersion},
		{"truncated JSON", good[:len(good)/2], spdx.ErrUnknownFormat},
		{"truncated tag-value", goodTV[:len(goodTV)/3] + "\nPackageName: <text>unterminated", nil},
		{"wrong types", `{"spdxVersion":"SPDX-2.3","packages":{"a":1}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := spdx.Decode(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("Decode(%.40q) = %+v, want an error", tt.in, got)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Decode(%.40q) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestValidExpression(t *testing.T) {
	for in, want := range map[string]bool{
		"MIT": true, "mit": true, "Apache-2.0 OR MIT": true, "(MIT AND BSD-3-Clause) OR GPL-2.0-or-later": true,
		"GPL-2.0-only WITH Classpath-exception-2.0": true, "LicenseRef-acme-1": true, "GPL-2.0+": true,
		"": false, "MIT OR": false, "(MIT": false, "Apache 2": false, "Acme Licence": false, "MIT WITH MIT": false,
		"BSD": false, "LicenseRef-": false, "MIT AND AND MIT": false, strings.Repeat("(", 100) + "MIT" + strings.Repeat(")", 100): false,
	} {
		if got := spdx.ValidExpression(in); got != want {
			t.Errorf("ValidExpression(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	sch := spdxSchema(f)
	for _, name := range []string{"syft-1.x.spdx.json", "trivy-0.50.spdx.json", "golden/rich.spdx.json", "golden/rich.spdx"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := spdx.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, format := range []string{"json", "tag-value"} {
			var buf bytes.Buffer
			if err := encoders[format](&buf, s); err != nil {
				t.Fatalf("encode %s of a decoded document: %v", format, err)
			}
			raw := buf.Bytes()
			if format == "json" {
				doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				if err := sch.Validate(doc); err != nil {
					t.Fatalf("re-encoded JSON is not valid SPDX 2.3: %v\n%s", err, raw)
				}
			}
			if _, err := spdx.Decode(bytes.NewReader(raw)); err != nil {
				t.Fatalf("decode of re-encoded %s: %v\n%s", format, err, raw)
			}
		}
	})
}
