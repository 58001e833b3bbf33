package vulndb

import (
	"sync"

	"github.com/tether-sec/tether/osv"
)

// DefaultCacheBytes bounds the decoded records a DB keeps (SetCacheBytes),
// measured as the size of their compacted JSON. Decoded, a record takes about
// twice its JSON in memory (the shared data: 42 MB of JSON, 82 MB decoded), so
// the cache holds at most about 32 MB.
const DefaultCacheBytes = 16 << 20

// recordCache is a least-recently-used cache of decoded records by rid,
// bounded by the sum of their JSON sizes. Records are shared between callers,
// which must not modify them.
type recordCache struct {
	mu         sync.Mutex
	limit, sum int64
	byRID      map[int64]*cacheEntry
	head       cacheEntry // sentinel: head.next is the most recently used
}

type cacheEntry struct {
	rid        int64
	v          *osv.Vulnerability
	size       int64
	prev, next *cacheEntry
}

func newRecordCache(limit int64) *recordCache {
	c := &recordCache{limit: limit, byRID: map[int64]*cacheEntry{}}
	c.head.prev, c.head.next = &c.head, &c.head
	return c
}

func (c *recordCache) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (c *recordCache) pushFront(e *cacheEntry) {
	e.prev, e.next = &c.head, c.head.next
	c.head.next.prev = e
	c.head.next = e
}

// get returns the record stored under rid, marking it recently used.
func (c *recordCache) get(rid int64) *osv.Vulnerability {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byRID[rid]
	if !ok {
		return nil
	}
	if c.head.next != e {
		c.unlink(e)
		c.pushFront(e)
	}
	return e.v
}

// put stores a record decoded from size bytes of JSON and evicts the least
// recently used ones past the limit. A record larger than the limit is not kept.
// It returns the record to use: the one already cached under rid, if another
// caller stored it first.
func (c *recordCache) put(rid int64, v *osv.Vulnerability, size int64) *osv.Vulnerability {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byRID[rid]; ok {
		return e.v
	}
	if size > c.limit {
		return v
	}
	e := &cacheEntry{rid: rid, v: v, size: size}
	c.byRID[rid] = e
	c.pushFront(e)
	c.sum += size
	c.evict()
	return v
}

func (c *recordCache) evict() {
	for c.sum > c.limit && c.head.prev != &c.head {
		e := c.head.prev
		c.unlink(e)
		delete(c.byRID, e.rid)
		c.sum -= e.size
	}
}

// setLimit changes the bound, evicting as needed; 0 empties the cache and keeps
// it empty.
func (c *recordCache) setLimit(limit int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limit = max(limit, 0)
	c.evict()
}

// stats returns the number of records cached and their JSON size.
func (c *recordCache) stats() (n int, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byRID), c.sum
}
