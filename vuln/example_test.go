package vuln_test

import (
	"context"
	"fmt"
	"os"

	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/vuln"
)

func ExampleMatch() {
	b, err := os.ReadFile("testdata/written/GHSA-jfh8-c2jp-5v3q.json")
	if err != nil {
		panic(err)
	}
	rec, err := osv.DecodeBytes(b)
	if err != nil {
		panic(err)
	}
	s := &sbom.SBOM{Packages: []sbom.Package{
		{ID: "p1", Type: "maven", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.12.1"},
		{ID: "p2", Type: "maven", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.12.2"},
	}}
	findings, err := vuln.Match(context.Background(), vuln.NewIndex([]*osv.Vulnerability{rec}), s, vuln.Options{})
	if err != nil {
		panic(err)
	}
	for _, f := range findings {
		fmt.Println(f.PackageID, f.ID, f.Aliases, f.Version, "fixed in", f.Fixed, f.Severity.Level, f.Severity.Score)
	}
	// Output:
	// p1 CVE-2021-44228 [GHSA-jfh8-c2jp-5v3q] 2.12.1 fixed in [2.12.2] CRITICAL 10
}
