// Package osv holds the Open Source Vulnerability format (https://ossf.github.io/osv-schema/)
// as tether reads it: the record types, a strict-enough decoder, and the ecosystem
// names. It does no I/O beyond decoding and knows nothing of matching.
package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrNotOSV is matched by the error of a document that is not an OSV record.
var ErrNotOSV = errors.New("osv: not an OSV record")

// MaxRecordSize bounds one record's JSON.
const MaxRecordSize = 16 << 20

// Vulnerability is one OSV record.
type Vulnerability struct {
	SchemaVersion string     `json:"schema_version,omitempty"`
	ID            string     `json:"id"`
	Modified      time.Time  `json:"modified"`
	Published     time.Time  `json:"published,omitzero"`
	Withdrawn     time.Time  `json:"withdrawn,omitzero"`
	Aliases       []string   `json:"aliases,omitempty"`
	Related       []string   `json:"related,omitempty"`
	Upstream      []string   `json:"upstream,omitempty"`
	Summary       string     `json:"summary,omitempty"`
	Details       string     `json:"details,omitempty"`
	Severity      []Severity `json:"severity,omitempty"`
	Affected      []Affected `json:"affected,omitempty"`
	References    []Ref      `json:"references,omitempty"`
	// DatabaseSpecific is kept raw: each database puts its own fields there.
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is a scored severity: Type is CVSS_V2, CVSS_V3, CVSS_V4 or Ubuntu, Score
// the vector (or the Ubuntu priority word).
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected names one package and the versions of it a vulnerability affects.
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []Severity      `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package identifies a package within an ecosystem.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// Range types.
const (
	RangeSemver    = "SEMVER"
	RangeEcosystem = "ECOSYSTEM"
	RangeGit       = "GIT"
)

// Range is a list of events over one version ordering.
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one range event: exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Ref is a reference URL.
type Ref struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// IsWithdrawn reports whether the record was withdrawn.
func (v *Vulnerability) IsWithdrawn() bool { return !v.Withdrawn.IsZero() }

// Decode reads one OSV record. It checks what matching relies on: an ID, each
// affected entry's ecosystem and name, known range types, and events with exactly
// one field set. Errors match ErrNotOSV and name the record where known.
func Decode(r io.Reader) (*Vulnerability, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotOSV, err)
	}
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrNotOSV, MaxRecordSize)
	}
	return DecodeBytes(b)
}

// DecodeBytes is Decode over bytes.
func DecodeBytes(b []byte) (*Vulnerability, error) {
	var v Vulnerability
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotOSV, err)
	}
	if err := v.validate(); err != nil {
		return nil, err
	}
	return &v, nil
}

func (v *Vulnerability) validate() error {
	if strings.TrimSpace(v.ID) == "" {
		return fmt.Errorf("%w: no id", ErrNotOSV)
	}
	for i, a := range v.Affected {
		if a.Package.Ecosystem == "" || a.Package.Name == "" {
			// OSS-Fuzz style records name only a repository and GIT ranges;
			// those need no package.
			if !onlyGit(a.Ranges) {
				return fmt.Errorf("%w: %s: affected[%d] has no package ecosystem and name", ErrNotOSV, v.ID, i)
			}
		}
		for j, rg := range a.Ranges {
			switch rg.Type {
			case RangeSemver, RangeEcosystem, RangeGit:
			default:
				return fmt.Errorf("%w: %s: affected[%d].ranges[%d] has unknown type %q", ErrNotOSV, v.ID, i, j, rg.Type)
			}
			for k, e := range rg.Events {
				n := 0
				for _, s := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
					if s != "" {
						n++
					}
				}
				if n != 1 {
					return fmt.Errorf("%w: %s: affected[%d].ranges[%d].events[%d] sets %d fields, want 1", ErrNotOSV, v.ID, i, j, k, n)
				}
			}
		}
	}
	return nil
}

func onlyGit(rs []Range) bool {
	if len(rs) == 0 {
		return false
	}
	for _, r := range rs {
		if r.Type != RangeGit {
			return false
		}
	}
	return true
}

// Ecosystem splits an OSV ecosystem string into its base and suffix: "Debian:12"
// → ("Debian", "12"), "Alpine:v3.19" → ("Alpine", "v3.19"), "PyPI" → ("PyPI", "").
func Ecosystem(s string) (base, suffix string) {
	base, suffix, _ = strings.Cut(s, ":")
	return base, suffix
}
