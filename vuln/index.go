package vuln

import (
	"context"
	"slices"

	"github.com/tether-sec/tether/osv"
)

// Index is an in-memory Source over a set of records, keyed by each affected
// entry's ecosystem and normalized package name. It suits tests, small feeds and
// benchmarks; tether's database implements Source for the full data.
type Index struct {
	by map[string][]*osv.Vulnerability
}

// NewIndex indexes records. A record is listed once per package it names.
func NewIndex(records []*osv.Vulnerability) *Index {
	ix := &Index{by: map[string][]*osv.Vulnerability{}}
	for _, r := range records {
		if r == nil {
			continue
		}
		for _, a := range r.Affected {
			k := a.Package.Ecosystem + "\x00" + NormalizeName(a.Package.Ecosystem, a.Package.Name)
			if l := ix.by[k]; len(l) > 0 && l[len(l)-1] == r {
				continue
			}
			ix.by[k] = append(ix.by[k], r)
		}
	}
	return ix
}

// Advisories implements Source.
func (ix *Index) Advisories(_ context.Context, ecosystem, name string) ([]*osv.Vulnerability, error) {
	return slices.Clip(ix.by[ecosystem+"\x00"+NormalizeName(ecosystem, name)]), nil
}
