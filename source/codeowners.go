package source

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/hmarr/codeowners"
)

// codeownersPaths are where GitHub looks for a CODEOWNERS file, in the order it
// looks: the first one found is the one that applies.
var codeownersPaths = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

func isCodeownersPath(p string) bool {
	for _, c := range codeownersPaths {
		if p == c {
			return true
		}
	}
	return false
}

// maxCodeownersLine is below the 64 KiB line limit of the bufio.Scanner that
// codeowners.ParseFile uses without checking its error.
const maxCodeownersLine = 60_000

// ownerMatchers are codeowners' default matchers, except that an e-mail's
// top-level domain may be longer than six letters ("ops@acme.engineering"), as
// GitHub allows.
var ownerMatchers = []codeowners.OwnerMatcher{
	codeowners.OwnerMatchFunc(matchEmail),
	codeowners.OwnerMatchFunc(codeowners.MatchTeamOwner),
	codeowners.OwnerMatchFunc(codeowners.MatchUsernameOwner),
}

var emailRE = regexp.MustCompile(`\A[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,63}\z`)

func matchEmail(s string) (codeowners.Owner, error) {
	if !emailRE.MatchString(s) {
		return codeowners.Owner{}, codeowners.ErrNoMatch
	}
	return codeowners.Owner{Value: s, Type: codeowners.EmailOwner}, nil
}

// ownerRule is one valid line of a CODEOWNERS file.
type ownerRule struct {
	Line    int      `json:"line"`
	Pattern string   `json:"pattern"`
	Owners  []string `json:"owners,omitempty"`

	types []string // owner types (team, username, email), parallel to Owners
	rule  codeowners.Rule
}

// parseCodeowners parses a CODEOWNERS file line by line. As on GitHub, a line
// with invalid syntax is skipped and the others still apply; each skipped line
// gives one message "line N: why".
func parseCodeowners(data []byte) (rules []ownerRule, problems []string) {
	for i, raw := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		line := strings.TrimSpace(string(raw))
		if line == "" || line[0] == '#' {
			continue
		}
		if len(line) > maxCodeownersLine {
			problems = append(problems, fmt.Sprintf("line %d: longer than %d bytes", n, maxCodeownersLine))
			continue
		}
		rs, err := codeowners.ParseFile(strings.NewReader(line), codeowners.WithOwnerMatchers(ownerMatchers))
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s", n, strings.TrimPrefix(err.Error(), "line 1: ")))
			continue
		}
		for _, r := range rs {
			r.LineNumber = n
			or := ownerRule{Line: n, Pattern: r.RawPattern(), rule: r}
			for _, o := range r.Owners {
				or.Owners = append(or.Owners, o.String())
				or.types = append(or.types, o.Type)
			}
			rules = append(rules, or)
		}
	}
	return rules, problems
}

// matchOwners returns the rule that decides who owns path: the last rule that
// matches it, as on GitHub. A rule without owners matches and leaves the path
// unowned.
func matchOwners(rules []ownerRule, path string) (ownerRule, bool) {
	for i := len(rules) - 1; i >= 0; i-- {
		if ruleMatches(rules[i], path) {
			return rules[i], true
		}
	}
	return ownerRule{}, false
}

func ruleMatches(r ownerRule, path string) (ok bool) {
	// codeowners v1.2.1 indexes past the end of the anchored literal "/" (which
	// matches nothing); guard against that and any other panic on odd patterns.
	if strings.Trim(r.Pattern, "/") == "" {
		return false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	m, err := r.rule.Match(path)
	return err == nil && m
}
