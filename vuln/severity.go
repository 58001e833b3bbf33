package vuln

import (
	"encoding/json"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// Level is a qualitative severity.
type Level string

// Levels, lowest first. LevelUnknown is the zero value.
const (
	LevelUnknown  Level = ""
	LevelNone     Level = "NONE"
	LevelLow      Level = "LOW"
	LevelMedium   Level = "MEDIUM"
	LevelHigh     Level = "HIGH"
	LevelCritical Level = "CRITICAL"
)

// Rank orders levels: 0 for unknown up to 5 for critical.
func (l Level) Rank() int {
	switch l {
	case LevelNone:
		return 1
	case LevelLow:
		return 2
	case LevelMedium:
		return 3
	case LevelHigh:
		return 4
	case LevelCritical:
		return 5
	}
	return 0
}

// CVSS is one scored CVSS vector.
type CVSS struct {
	// Version is "4.0", "3.1", "3.0" or "2.0".
	Version string
	Vector  string
	// Score is the base score computed from the vector.
	Score float64
	// Level is the rating of Score (CVSS v2 by NVD's ranges).
	Level Level
}

// Severity is the severity of a finding: the highest of its advisory group.
type Severity struct {
	// Level and Score are from the highest-scoring CVSS v4.0 or v3.x vector,
	// else the CVSS v2 vector, else (Score 0) the database's own word.
	Level Level
	Score float64
	// V4, V3 and V2 are the highest-scoring vector of each CVSS version in the
	// group, nil when none.
	V4, V3, V2 *CVSS
	// Database is the highest severity word a database gave, as written: GHSA
	// "MODERATE", an Ubuntu priority "medium", a Red Hat style "Important".
	Database string
}

// ScoreVector scores a CVSS vector of any version ("CVSS:4.0/…", "CVSS:3.1/…",
// "CVSS:3.0/…", or a bare v2 vector "AV:N/AC:L/…").
func ScoreVector(vector string) (CVSS, error) {
	vector = strings.TrimSpace(vector)
	switch {
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		c, err := gocvss40.ParseVector(vector)
		if err != nil {
			return CVSS{}, err
		}
		s := c.Score()
		r, _ := gocvss40.Rating(s)
		return CVSS{Version: "4.0", Vector: vector, Score: s, Level: Level(r)}, nil
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		c, err := gocvss31.ParseVector(vector)
		if err != nil {
			return CVSS{}, err
		}
		s := c.BaseScore()
		r, _ := gocvss31.Rating(s)
		return CVSS{Version: "3.1", Vector: vector, Score: s, Level: Level(r)}, nil
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		c, err := gocvss30.ParseVector(vector)
		if err != nil {
			return CVSS{}, err
		}
		s := c.BaseScore()
		r, _ := gocvss30.Rating(s)
		return CVSS{Version: "3.0", Vector: vector, Score: s, Level: Level(r)}, nil
	default:
		v2 := strings.TrimPrefix(strings.Trim(vector, "()"), "CVSS:2.0/")
		c, err := gocvss20.ParseVector(v2)
		if err != nil {
			return CVSS{}, err
		}
		s := c.BaseScore()
		return CVSS{Version: "2.0", Vector: vector, Score: s, Level: v2Level(s)}, nil
	}
}

// v2Level rates a CVSS v2 score by NVD's ranges.
func v2Level(s float64) Level {
	switch {
	case s >= 7:
		return LevelHigh
	case s >= 4:
		return LevelMedium
	case s > 0:
		return LevelLow
	}
	return LevelNone
}

// wordLevel reads a database's severity word.
func wordLevel(w string) Level {
	switch strings.ToLower(strings.TrimSpace(w)) {
	case "critical":
		return LevelCritical
	case "high", "important":
		return LevelHigh
	case "moderate", "medium":
		return LevelMedium
	case "low", "negligible":
		return LevelLow
	case "none":
		return LevelNone
	}
	return LevelUnknown
}

// severity is the highest severity of a group's records (order: preferred first).
func (m *matcher) severity(order []hit) Severity {
	var sev Severity
	keep := func(slot **CVSS, c CVSS) {
		if *slot == nil || c.Score > (*slot).Score {
			cc := c
			*slot = &cc
		}
	}
	var word string
	for _, h := range order {
		r := h.rec
		all := r.Severity
		for _, a := range h.aff {
			all = append(all[:len(all):len(all)], a.Severity...)
		}
		for _, s := range all {
			switch s.Type {
			case "CVSS_V4", "CVSS_V3", "CVSS_V2":
				c, err := ScoreVector(s.Score)
				if err != nil {
					m.warn("vuln: record has a CVSS vector that cannot be scored", "record", r.ID, "vector", s.Score, "err", err)
					continue
				}
				switch c.Version {
				case "4.0":
					keep(&sev.V4, c)
				case "3.1", "3.0":
					keep(&sev.V3, c)
				default:
					keep(&sev.V2, c)
				}
			case "Ubuntu":
				word = higherWord(word, s.Score)
			}
		}
		word = higherWord(word, databaseWord(r.DatabaseSpecific))
		if isOS(h.eco) {
			// Red Hat style summaries: "Important: openssl security update".
			if w, _, ok := strings.Cut(r.Summary, ":"); ok && wordLevel(w) != LevelUnknown && !strings.Contains(w, " ") {
				word = higherWord(word, w)
			}
		}
	}
	sev.Database = word
	switch {
	case sev.V4 != nil || sev.V3 != nil:
		best := sev.V4
		if best == nil || sev.V3 != nil && sev.V3.Score > best.Score {
			best = sev.V3
		}
		sev.Level, sev.Score = best.Level, best.Score
	case sev.V2 != nil:
		sev.Level, sev.Score = sev.V2.Level, sev.V2.Score
	default:
		sev.Level = wordLevel(word)
	}
	return sev
}

func higherWord(a, b string) string {
	if a == "" || wordLevel(b).Rank() > wordLevel(a).Rank() {
		return b
	}
	return a
}

// databaseWord reads GHSA's database_specific.severity.
func databaseWord(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var ds struct {
		Severity any `json:"severity"`
	}
	if json.Unmarshal(raw, &ds) != nil {
		return ""
	}
	if s, ok := ds.Severity.(string); ok && wordLevel(s) != LevelUnknown {
		return s
	}
	return ""
}
