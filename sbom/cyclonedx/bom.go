package cyclonedx

import (
	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/tether-sec/tether/sbom"
)

// BOM returns the CycloneDX BOM that EncodeJSON and EncodeXML write for s, for
// callers that add to it before encoding (vulnerabilities, VEX). Each package's
// component has Package.ID as its bom-ref. Encode it as CycloneDX 1.6
// (cdx.SpecVersion1_6): that is the version the schema checks here cover.
func BOM(s *sbom.SBOM) (*cdx.BOM, error) { return toBOM(s) }
