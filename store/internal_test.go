package store

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestMigrationsMatch(t *testing.T) {
	lite, err := migrations(sqliteDialect.name)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := migrations(postgresDialect.name)
	if err != nil {
		t.Fatal(err)
	}
	names := func(ms []migration) (out []string) {
		for _, m := range ms {
			out = append(out, m.name)
		}
		return out
	}
	if diff := cmp.Diff(names(lite), names(pg)); diff != "" {
		t.Errorf("SQLite and PostgreSQL migrations differ (-sqlite +postgres):\n%s", diff)
	}
	if KnownSchemaVersion() != len(lite) {
		t.Errorf("KnownSchemaVersion() = %d, want %d", KnownSchemaVersion(), len(lite))
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"commit:a@", "commit:aA", true},
		{"ab\u00ff", "ab\u0100", true},
		{"a\U0010FFFF", "b", true},
		{"\U0010FFFF", "", false},
		{"x\uD7FF", "x\uE000", true},
		{"a\xff", "b", true}, // not UTF-8: bytes
		{"", "", false},
	} {
		got, ok := prefixEnd(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && utf8.ValidString(tc.in) && !utf8.ValidString(got) {
			t.Errorf("prefixEnd(%q) = %q is not UTF-8", tc.in, got)
		}
		if ok && (got <= tc.in || strings.HasPrefix(got, tc.in)) {
			t.Errorf("prefixEnd(%q) = %q is not past every string with the prefix", tc.in, got)
		}
	}
}

func TestRebind(t *testing.T) {
	pg := &sqlStore{d: postgresDialect}
	if got := pg.q("a = ? AND b IN (?, ?)"); got != "a = $1 AND b IN ($2, $3)" {
		t.Errorf("q() = %q", got)
	}
	lite := &sqlStore{d: sqliteDialect}
	if got := lite.q("a = ?"); got != "a = ?" {
		t.Errorf("q() = %q", got)
	}
}
