package source_test

import (
	"strings"
	"testing"

	"github.com/tether-sec/tether/source"
)

// FuzzCodeowners feeds arbitrary CODEOWNERS files to the step that turns them
// into owners: it must not panic, and what it returns must be well formed. Its
// seed corpus is under testdata/fuzz/FuzzCodeowners.
func FuzzCodeowners(f *testing.F) {
	paths := []string{"Dockerfile", "deploy/api/Dockerfile", "a/b/c/Dockerfile.prod", "docs/x.md", ""}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range paths {
			owners, line, problems := source.Owners(data, p)
			if line < 0 || (line == 0 && len(owners) > 0) {
				t.Fatalf("Owners(%q) = %q from line %d", p, owners, line)
			}
			for _, o := range owners {
				if o == "" || strings.ContainsAny(o, " \t\n") {
					t.Fatalf("Owners(%q) gave owner %q", p, o)
				}
			}
			for _, pr := range problems {
				if !strings.HasPrefix(pr, "line ") {
					t.Fatalf("problem %q does not name its line", pr)
				}
			}
		}
	})
}

func TestOwners(t *testing.T) {
	const co = `# comment
*                     @acme/platform
/deploy/              @acme/sre ops@acme.engineering
/deploy/legacy/
*.Dockerfile          @builders # trailing comment
/                     @nobody
docs/**               @docs bad owner!
`
	tests := []struct {
		path   string
		owners []string
		line   int
	}{
		{"Dockerfile", []string{"@acme/platform"}, 2},
		{"deploy/Dockerfile", []string{"@acme/sre", "ops@acme.engineering"}, 3},
		{"deploy/legacy/Dockerfile", nil, 4},
		{"deploy/api.Dockerfile", []string{"@builders"}, 5},
		{"docs/Dockerfile", []string{"@acme/platform"}, 2},
	}
	for _, tt := range tests {
		owners, line, problems := source.Owners([]byte(co), tt.path)
		if strings.Join(owners, ",") != strings.Join(tt.owners, ",") || line != tt.line {
			t.Errorf("Owners(%q) = %q from line %d, want %q from line %d", tt.path, owners, line, tt.owners, tt.line)
		}
		if len(problems) != 1 || problems[0] != "line 7: invalid owner format 'bad' at position 29" {
			t.Errorf("problems = %q, want one on line 7", problems)
		}
	}
}
