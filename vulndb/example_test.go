package vulndb_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/tether-sec/tether/vulndb"
)

// Import a folder laid out like the OSV bucket (here one ecosystem of JSON
// records and the KEV catalog), then look a package up.
func ExampleImport() {
	ctx := context.Background()
	src, _ := os.MkdirTemp("", "osv")
	defer os.RemoveAll(src)
	for _, id := range []string{"PYSEC-2023-175", "PYSEC-2014-10"} {
		b, _ := os.ReadFile(filepath.Join("testdata", "osv", "PyPI", id+".json"))
		os.MkdirAll(filepath.Join(src, "PyPI"), 0o755)
		os.WriteFile(filepath.Join(src, "PyPI", id+".json"), b, 0o644)
	}
	b, _ := os.ReadFile(filepath.Join("testdata", "kev", "known_exploited_vulnerabilities.json"))
	os.WriteFile(filepath.Join(src, "known_exploited_vulnerabilities.json"), b, 0o644)

	dir, _ := os.MkdirTemp("", "tetherdb")
	defer os.RemoveAll(dir)
	st, err := vulndb.Import(ctx, dir, src, vulndb.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Advisories, "advisories,", st.KEV, "KEV entries")

	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	vs, _ := db.Advisories(ctx, "PyPI", "Pillow")
	for _, v := range vs {
		fmt.Println(v.ID, v.Affected[0].Package.Name)
	}
	kev, ok, _ := db.KEV(ctx, "CVE-2023-4863")
	fmt.Println(ok, kev.DateAdded.Format("2006-01-02"), kev.Product)
	// Output:
	// 2 advisories, 29 KEV entries
	// PYSEC-2014-10 pillow
	// PYSEC-2023-175 pillow
	// true 2023-09-13 Chromium WebP
}
