// Package testenv lets tests that need a real part (a PostgreSQL server, a registry
// process) skip on a developer machine that lacks it, and fail under CI=true.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true), where every real part must
// be present.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing stops the test because a real part is missing: it fails under CI and skips
// elsewhere, saying how to install the part.
func Missing(t testing.TB, part, install string, err error) {
	t.Helper()
	msg := part + " is not available (" + err.Error() + "); " + install + ", or run scripts/test which installs it"
	if InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// LookPath returns the path of executable name, or stops the test through Missing.
func LookPath(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, install, err)
	}
	return p
}
