package vuln_test

import (
	"testing"

	"github.com/tether-sec/tether/vuln"
)

// The expected scores are the ones NVD and FIRST's calculators publish for these
// vectors.
func TestScoreVector(t *testing.T) {
	tests := []struct {
		vector  string
		version string
		score   float64
		level   vuln.Level
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "3.1", 10.0, vuln.LevelCritical}, // CVE-2021-44228
		{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", "3.1", 7.2, vuln.LevelHigh},      // CVE-2021-23337
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "3.1", 7.5, vuln.LevelHigh},      // CVE-2023-39325
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H", "3.1", 7.4, vuln.LevelHigh},      // CVE-2023-0286
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N", "3.0", 5.3, vuln.LevelMedium},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "3.1", 0, vuln.LevelNone},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 9.3, vuln.LevelCritical},
		{"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", "4.0", 4.8, vuln.LevelMedium},
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", "2.0", 7.5, vuln.LevelHigh},
		{"(AV:N/AC:M/Au:N/C:N/I:P/A:N)", "2.0", 4.3, vuln.LevelMedium},
	}
	for _, tt := range tests {
		got, err := vuln.ScoreVector(tt.vector)
		if err != nil {
			t.Errorf("%s: %v", tt.vector, err)
			continue
		}
		if got.Version != tt.version || got.Score != tt.score || got.Level != tt.level || got.Vector != tt.vector {
			t.Errorf("ScoreVector(%s) = %+v, want %s %.1f %s", tt.vector, got, tt.version, tt.score, tt.level)
		}
	}
	for _, bad := range []string{"", "CVSS:3.1/AV:N", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "CVSS:5.0/AV:N", "high"} {
		if c, err := vuln.ScoreVector(bad); err == nil {
			t.Errorf("ScoreVector(%q) = %+v, want an error", bad, c)
		}
	}
}

func TestLevelRank(t *testing.T) {
	levels := []vuln.Level{vuln.LevelUnknown, vuln.LevelNone, vuln.LevelLow, vuln.LevelMedium, vuln.LevelHigh, vuln.LevelCritical}
	for i, l := range levels {
		if l.Rank() != i {
			t.Errorf("%q.Rank() = %d, want %d", l, l.Rank(), i)
		}
	}
}
