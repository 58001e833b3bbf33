package testpodman

import "testing"

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{
		`/tmp/a`:        "/tmp/a",
		`/tmp/a\040b`:   "/tmp/a b",
		`/tmp/a\134b`:   `/tmp/a\b`,
		`/tmp/a\04`:     `/tmp/a\04`,
		`/tmp/x\09zz`:   `/tmp/x\09zz`,
		`/tmp/tab\011x`: "/tmp/tab\tx",
		`\040\040`:      "  ",
	} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}
