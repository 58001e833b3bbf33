package cyclonedx_test

import (
	"bytes"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/sbom/cyclonedx"
	"github.com/tether-sec/tether/sbom/sbomtest"
)

// TestBOM checks that BOM is what EncodeJSON writes and that components carry
// the package IDs as bom-refs, which vulnerability affects entries point at.
func TestBOM(t *testing.T) {
	s := sbomtest.Rich()
	bom, err := cyclonedx.BOM(s)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	enc := cdx.NewBOMEncoder(&got, cdx.BOMFileFormatJSON)
	enc.SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(encode(t, "json", s)), got.String()); diff != "" {
		t.Errorf("BOM encoded differs from EncodeJSON (-EncodeJSON +BOM):\n%s", diff)
	}
	refs := map[string]bool{}
	for _, c := range *bom.Components {
		refs[c.BOMRef] = true
	}
	for _, p := range s.Packages {
		if !refs[p.ID] {
			t.Errorf("no component with bom-ref %q", p.ID)
		}
	}
	if _, err := cyclonedx.BOM(nil); err == nil {
		t.Error("BOM(nil): no error")
	}
}
