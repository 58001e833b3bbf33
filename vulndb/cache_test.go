package vulndb_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/vulndb"
)

// The record cache changes neither what lookups return nor their order, and
// shares one decoded record between lookups that return it.
func TestRecordCache(t *testing.T) {
	db, _, _ := importTestdata(t)
	ctx := context.Background()
	queries := []struct{ eco, name string }{
		{"PyPI", "pillow"}, {"Go", "golang.org/x/net"}, {"Go", "stdlib"}, {"crates.io", "hyper"},
		{"AlmaLinux", "memcached"}, {"AlmaLinux:8", "java-1.8.0-openjdk"}, {"AlmaLinux:9", "java-1.8.0-openjdk"},
	}
	lookup := func() [][]*osv.Vulnerability {
		var out [][]*osv.Vulnerability
		for _, q := range queries {
			vs, err := db.Advisories(ctx, q.eco, q.name)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, vs)
		}
		for _, id := range []string{"GO-2022-0969", "CVE-2022-27664"} {
			vs, err := db.AliasGroup(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, vs)
			v, err := db.Advisory(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, []*osv.Vulnerability{v})
		}
		return out
	}
	db.SetCacheBytes(0)
	uncached := lookup()
	db.SetCacheBytes(vulndb.DefaultCacheBytes)
	first, second := lookup(), lookup()
	if diff := cmp.Diff(uncached, first); diff != "" {
		t.Errorf("cached lookups differ (-uncached +cached):\n%s", diff)
	}
	// Records returned twice are the same record; the same record under two
	// ecosystems of one package too.
	for i := range first {
		for j := range first[i] {
			if first[i][j] != second[i][j] {
				t.Errorf("lookup %d record %s: decoded again though cached", i, first[i][j].ID)
			}
		}
	}
	if a, b := first[5], first[6]; len(a) == 0 || a[0] != b[0] {
		t.Error("one record found under AlmaLinux:8 and AlmaLinux:9 was decoded twice")
	}
	// Without the cache every lookup decodes anew.
	db.SetCacheBytes(0)
	again := lookup()
	if again[0][0] == uncached[0][0] {
		t.Error("a disabled cache returned a shared record")
	}
}

// Lookups from many goroutines, with a cache smaller than what they read,
// return the same records as one goroutine (run with -race).
func TestRecordCacheConcurrentLookups(t *testing.T) {
	db, _, _ := importTestdata(t)
	ctx := context.Background()
	db.SetCacheBytes(16 << 10)
	names := []struct{ eco, name string }{
		{"PyPI", "django"}, {"PyPI", "pillow"}, {"Go", "stdlib"}, {"Go", "golang.org/x/net"},
		{"crates.io", "hyper"}, {"AlmaLinux", "java-1.8.0-openjdk"}, {"AlmaLinux", "memcached"},
	}
	want := map[int][]string{}
	for i, q := range names {
		vs, err := db.Advisories(ctx, q.eco, q.name)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = ids(vs)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := range 200 {
				i := (k + g) % len(names)
				vs, err := db.Advisories(ctx, names[i].eco, names[i].name)
				if err != nil {
					t.Error(err)
					return
				}
				if diff := cmp.Diff(want[i], ids(vs)); diff != "" {
					t.Errorf("%v (-want +got):\n%s", names[i], diff)
					return
				}
			}
		})
	}
	wg.Wait()
}
