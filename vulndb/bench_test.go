package vulndb_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tether-sec/tether/vulndb"
)

// sharedData is the real data beside the repository (../shared/data); the
// benchmarks that need it skip when it is absent.
const sharedData = "../../shared/data"

func needShared(b *testing.B) string {
	b.Helper()
	p := filepath.Join(sharedData, "osv")
	if _, err := os.Stat(p); err != nil {
		b.Skipf("no shared data at %s", p)
	}
	return sharedData
}

// sharedImportDir makes a folder that links the shared OSV zips and the KEV
// catalog (the KEV schema file next to it is left out by name).
func sharedImportDir(b *testing.B) string {
	root := needShared(b)
	src := b.TempDir()
	zips, _ := filepath.Glob(filepath.Join(root, "osv", "*", "all.zip"))
	for _, z := range zips {
		abs, _ := filepath.Abs(z)
		d := filepath.Join(src, filepath.Base(filepath.Dir(z)))
		os.MkdirAll(d, 0o755)
		if err := os.Symlink(abs, filepath.Join(d, "all.zip")); err != nil {
			b.Fatal(err)
		}
	}
	abs, _ := filepath.Abs(filepath.Join(root, "kev", kevName))
	if err := os.Symlink(abs, filepath.Join(src, kevName)); err != nil {
		b.Fatal(err)
	}
	return src
}

// BenchmarkImportShared imports every shared OSV zip and the full KEV catalog.
func BenchmarkImportShared(b *testing.B) {
	src := sharedImportDir(b)
	ctx := context.Background()
	var st vulndb.Status
	for b.Loop() {
		var err error
		if st, err = vulndb.Import(ctx, b.TempDir(), src, vulndb.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	for _, s := range st.Sources {
		n += s.Records
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(st.Advisories+st.Withdrawn), "advisories")
	if fi, err := os.Stat(filepath.Join(st.Dir, "advisories.db")); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "db-MB")
	}
}

type query struct{ eco, name string }

// BenchmarkAdvisories looks up packages round-robin, over the test data and
// (when present) the shared real data: "mixed" alternates the packages the
// records name with names that match nothing, "hits" and "misses" take one
// kind. A hit's cost is mostly decoding the records' JSON, which the DB's
// record cache saves when a record is asked for again (the packages come in
// name order, as in an SBOM, so the binary packages one advisory names come
// together); "hits-nocache" turns the cache off to show the cost of decoding.
func BenchmarkAdvisories(b *testing.B) {
	run := func(b *testing.B, db *vulndb.DB, qs []query) {
		var hits, misses []query
		for _, q := range qs {
			if strings.HasSuffix(q.name, "-nope") {
				misses = append(misses, q)
			} else {
				hits = append(hits, q)
			}
		}
		// Each run starts with an empty cache, however often -count repeats it.
		cold := func() { db.SetCacheBytes(0); db.SetCacheBytes(vulndb.DefaultCacheBytes) }
		b.Run("mixed", func(b *testing.B) { cold(); benchLookups(b, db, qs) })
		b.Run("hits", func(b *testing.B) { cold(); benchLookups(b, db, hits) })
		b.Run("misses", func(b *testing.B) { benchLookups(b, db, misses) })
		b.Run("hits-nocache", func(b *testing.B) {
			db.SetCacheBytes(0)
			defer db.SetCacheBytes(vulndb.DefaultCacheBytes)
			benchLookups(b, db, hits)
		})
	}
	b.Run("testdata", func(b *testing.B) {
		db, _, _ := importTestdata(b)
		run(b, db, queriesFrom(b, filepath.Join("testdata", "osv"), nil))
	})
	b.Run("shared", func(b *testing.B) {
		src := sharedImportDir(b)
		dir := b.TempDir()
		if _, err := vulndb.Import(context.Background(), dir, src, vulndb.Options{}); err != nil {
			b.Fatal(err)
		}
		db, err := vulndb.Open(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		zips, _ := filepath.Glob(filepath.Join(src, "*", "all.zip"))
		run(b, db, queriesFrom(b, "", zips))
	})
}

func benchLookups(b *testing.B, db *vulndb.DB, qs []query) {
	ctx := context.Background()
	found, i := 0, 0
	b.ResetTimer()
	for b.Loop() {
		q := qs[i%len(qs)]
		i++
		vs, err := db.Advisories(ctx, q.eco, q.name)
		if err != nil {
			b.Fatal(err)
		}
		found += len(vs)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(found)/float64(b.N), "records/lookup")
}

// queriesFrom lists (ecosystem, name) of the records in a testdata folder or
// in zips, sorted, each followed by a lookup that finds nothing.
func queriesFrom(b *testing.B, dir string, zips []string) []query {
	set := map[query]bool{}
	add := func(data []byte) {
		var v struct {
			Affected []struct {
				Package struct{ Ecosystem, Name string }
			}
		}
		if json.Unmarshal(data, &v) != nil {
			return
		}
		for _, a := range v.Affected {
			if a.Package.Name != "" {
				set[query{a.Package.Ecosystem, a.Package.Name}] = true
			}
		}
	}
	if dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			add(data)
		}
	}
	for _, z := range zips {
		zr, err := zip.OpenReader(z)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				b.Fatal(err)
			}
			var data []byte
			buf := make([]byte, 32<<10)
			for {
				n, err := rc.Read(buf)
				data = append(data, buf[:n]...)
				if err != nil {
					break
				}
			}
			rc.Close()
			add(data)
		}
		zr.Close()
	}
	var qs []query
	for q := range set {
		qs = append(qs, q, query{q.eco, q.name + "-nope"})
	}
	sort.Slice(qs, func(i, j int) bool {
		if qs[i].eco != qs[j].eco {
			return qs[i].eco < qs[j].eco
		}
		return qs[i].name < qs[j].name
	})
	if len(qs) == 0 {
		b.Fatal("no queries")
	}
	return qs
}
