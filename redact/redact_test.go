package redact_test

import (
	"testing"

	"github.com/tether-sec/tether/redact"
)

func TestEnv(t *testing.T) {
	r := redact.Env([]string{"TOKEN=abc", "TOKEN_LONG=abcdef", "EMPTY=", "NOVALUE", "PATH=/usr/bin"})
	for in, want := range map[string]string{
		"RUN TOKEN=abc make":                 "RUN TOKEN=<redacted> make",
		`ENV TOKEN="abc"`:                    `ENV TOKEN="<redacted>"`,
		"ENV TOKEN='abc'":                    "ENV TOKEN='<redacted>'",
		"RUN |2 TOKEN_LONG=abcdef TOKEN=abc": "RUN |2 TOKEN_LONG=<redacted> TOKEN=<redacted>",
		"ENV EMPTY= PATH=/usr/bin":           "ENV EMPTY= PATH=<redacted>",
		"echo abc":                           "echo abc", // a bare value is not a NAME=VALUE pair
	} {
		if got := r.Replace(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}
