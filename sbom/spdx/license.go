package spdx

import (
	"strings"
	"sync"
)

var knownIDs = sync.OnceValues(func() (map[string]string, map[string]string) {
	fold := func(list string) map[string]string {
		m := make(map[string]string)
		for _, id := range strings.Fields(list) {
			m[strings.ToLower(id)] = id
		}
		return m
	}
	return fold(licenseIDs), fold(exceptionIDs)
})

// LicenseID returns the canonical spelling of s if it is an identifier on the SPDX
// License List (matched without regard to case), and false otherwise.
func LicenseID(s string) (string, bool) {
	ids, _ := knownIDs()
	id, ok := ids[strings.ToLower(strings.TrimSpace(s))]
	return id, ok
}

// ValidExpression reports whether s is an SPDX license expression (SPDX 2.3 Annex D)
// whose identifiers are all on the SPDX License List or are LicenseRef- references:
// "MIT", "Apache-2.0 OR MIT", "GPL-2.0-only WITH Classpath-exception-2.0".
func ValidExpression(s string) bool {
	toks, ok := tokenize(s)
	if !ok || len(toks) == 0 {
		return false
	}
	p := exprParser{toks: toks}
	return p.expr(0) && p.pos == len(p.toks)
}

// CompoundExpression reports whether s has an operator (AND, OR, WITH), so that it
// names more than a single licence.
func CompoundExpression(s string) bool {
	toks, _ := tokenize(s)
	for _, t := range toks {
		switch strings.ToUpper(t) {
		case "AND", "OR", "WITH":
			return true
		}
	}
	return false
}

func tokenize(s string) ([]string, bool) {
	var toks []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r == '(' || r == ')':
			flush()
			toks = append(toks, string(r))
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			flush()
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '+', r == ':':
			cur.WriteRune(r)
		default:
			return nil, false
		}
	}
	flush()
	return toks, true
}

// exprParser is a recursive descent parser over the grammar
//
//	expr   = term { ("AND" | "OR") term }
//	term   = "(" expr ")" | simple [ "WITH" exception ]
type exprParser struct {
	toks []string
	pos  int
}

const maxDepth = 64

func (p *exprParser) next() string {
	if p.pos >= len(p.toks) {
		return ""
	}
	return p.toks[p.pos]
}

func (p *exprParser) expr(depth int) bool {
	if depth > maxDepth || !p.term(depth) {
		return false
	}
	for {
		switch strings.ToUpper(p.next()) {
		case "AND", "OR":
			p.pos++
			if !p.term(depth) {
				return false
			}
		default:
			return true
		}
	}
}

func (p *exprParser) term(depth int) bool {
	t := p.next()
	if t == "(" {
		p.pos++
		if !p.expr(depth+1) || p.next() != ")" {
			return false
		}
		p.pos++
		return true
	}
	if !simpleLicense(t) {
		return false
	}
	p.pos++
	if strings.ToUpper(p.next()) == "WITH" {
		p.pos++
		_, exc := knownIDs()
		if _, ok := exc[strings.ToLower(p.next())]; !ok {
			return false
		}
		p.pos++
	}
	return true
}

func simpleLicense(t string) bool {
	switch strings.ToUpper(t) {
	case "", "(", ")", "AND", "OR", "WITH":
		return false
	}
	if ref, ok := strings.CutPrefix(t, "DocumentRef-"); ok {
		_, after, found := strings.Cut(ref, ":")
		if !found {
			return false
		}
		t = after
	}
	if ref, ok := strings.CutPrefix(t, "LicenseRef-"); ok {
		return ref != "" && idChars(ref)
	}
	if strings.Contains(t, ":") {
		return false
	}
	_, ok := LicenseID(strings.TrimSuffix(t, "+"))
	return ok
}

func idChars(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}
