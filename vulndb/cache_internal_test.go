package vulndb

import (
	"fmt"
	"sync"
	"testing"

	"github.com/tether-sec/tether/osv"
)

func TestRecordCacheLRU(t *testing.T) {
	c := newRecordCache(30)
	rec := func(i int64) *osv.Vulnerability { return &osv.Vulnerability{ID: fmt.Sprint("R-", i)} }
	for i := int64(1); i <= 3; i++ {
		c.put(i, rec(i), 10)
	}
	if n, size := c.stats(); n != 3 || size != 30 {
		t.Fatalf("stats = %d, %d; want 3, 30", n, size)
	}
	c.get(1)             // 1 is now the most recent: 2 goes first
	c.put(4, rec(4), 10) // evicts 2
	if c.get(2) != nil {
		t.Error("2 was not evicted")
	}
	for _, rid := range []int64{1, 3, 4} {
		if v := c.get(rid); v == nil || v.ID != fmt.Sprint("R-", rid) {
			t.Errorf("get(%d) = %v", rid, v)
		}
	}
	// The first record stored under a rid wins.
	first := c.get(4)
	if got := c.put(4, rec(4), 10); got != first {
		t.Error("put over a cached rid replaced it")
	}
	// A record larger than the bound is returned but not kept.
	big := rec(5)
	if got := c.put(5, big, 31); got != big || c.get(5) != nil {
		t.Error("a record over the bound was kept")
	}
	c.put(6, rec(6), 25) // evicts all but 6
	if n, size := c.stats(); n != 1 || size != 25 || c.get(6) == nil {
		t.Errorf("after a large put: %d records, %d bytes", n, size)
	}
	c.setLimit(0)
	if n, size := c.stats(); n != 0 || size != 0 {
		t.Errorf("after setLimit(0): %d records, %d bytes", n, size)
	}
	c.put(7, rec(7), 1)
	if c.get(7) != nil {
		t.Error("a cache of size 0 kept a record")
	}
}

func TestRecordCacheConcurrent(t *testing.T) {
	c := newRecordCache(100)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				rid := int64((i*7 + g) % 50)
				v := c.get(rid)
				if v == nil {
					v = c.put(rid, &osv.Vulnerability{ID: fmt.Sprint(rid)}, int64(1+rid%5))
				}
				if v.ID != fmt.Sprint(rid) {
					t.Errorf("rid %d holds %s", rid, v.ID)
					return
				}
			}
		})
	}
	wg.Wait()
	n, size := c.stats()
	var sum int64
	for e := c.head.next; e != &c.head; e = e.next {
		sum += e.size
		n--
	}
	if n != 0 || sum != size || size > 100 {
		t.Errorf("list and map disagree: %d left, sum %d, size %d", n, sum, size)
	}
}
