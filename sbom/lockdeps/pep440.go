package lockdeps

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// pyVersion is a PEP 440 version, reduced to what ordering needs (the local
// label is dropped). The release keeps its parts as written: 1.0 and 1.0.0 compare
// equal, but ^1.0 and ^1.0.0 differ.
type pyVersion struct {
	epoch   int
	release []int
	pre     [2]int // kind (0 a, 1 b, 2 rc; -1 a dev release without one; 3 none), number
	post    int    // -1 when none
	dev     int    // max int when none
}

const noDev = int(^uint(0) >> 1)

var errVersion = errors.New("not a PEP 440 version")

// pyNumber reads a decimal number at the start of s; empty reads as 0.
func pyNumber(s string) (n int, rest string, err error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, s, nil
	}
	if i > 9 { // more than fits comfortably: not a version a lockfile pins
		return 0, s, errVersion
	}
	n, _ = strconv.Atoi(s[:i])
	return n, s[i:], nil
}

// pyLabel reads an optional separator and one of labels (longest first) at the
// start of s.
func pyLabel(s string, labels ...string) (label, rest string) {
	t := strings.TrimLeft(s, "-_.")
	if len(s)-len(t) > 1 {
		return "", s
	}
	for _, l := range labels {
		if strings.HasPrefix(t, l) {
			return l, strings.TrimLeft(t[len(l):], "-_.")
		}
	}
	return "", s
}

func parsePyVersion(s string) (pyVersion, error) {
	v := pyVersion{post: -1, dev: noDev, pre: [2]int{3, 0}}
	s = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "v")
	s, _, _ = strings.Cut(s, "+")
	if e, rest, ok := strings.Cut(s, "!"); ok {
		n, r, err := pyNumber(e)
		if err != nil || r != "" || e == "" {
			return v, errVersion
		}
		v.epoch, s = n, rest
	}
	for {
		if s == "" || s[0] < '0' || s[0] > '9' {
			return v, errVersion
		}
		n, rest, err := pyNumber(s)
		if err != nil || len(v.release) == maxNesting {
			return v, errVersion
		}
		v.release, s = append(v.release, n), rest
		if len(s) < 2 || s[0] != '.' || s[1] < '0' || s[1] > '9' {
			break
		}
		s = s[1:]
	}
	var err error
	if l, rest := pyLabel(s, "alpha", "a", "beta", "b", "preview", "pre", "rc", "c"); l != "" {
		v.pre[0] = map[string]int{"alpha": 0, "a": 0, "beta": 1, "b": 1}[l]
		if l == "preview" || l == "pre" || l == "rc" || l == "c" {
			v.pre[0] = 2
		}
		if v.pre[1], s, err = pyNumber(rest); err != nil {
			return v, err
		}
	}
	if strings.HasPrefix(s, "-") && len(s) > 1 && s[1] >= '0' && s[1] <= '9' {
		if v.post, s, err = pyNumber(s[1:]); err != nil {
			return v, err
		}
	} else if l, rest := pyLabel(s, "post", "rev", "r"); l != "" {
		if v.post, s, err = pyNumber(rest); err != nil {
			return v, err
		}
	}
	if l, rest := pyLabel(s, "dev"); l != "" {
		if v.dev, s, err = pyNumber(rest); err != nil {
			return v, err
		}
		if v.pre[0] == 3 && v.post < 0 {
			v.pre[0] = -1 // 1.0.dev1 sorts before 1.0a1
		}
	}
	if s != "" {
		return v, errVersion
	}
	return v, nil
}

func comparePy(a, b pyVersion) int {
	c := cmp.Compare(a.epoch, b.epoch)
	for i := 0; c == 0 && i < max(len(a.release), len(b.release)); i++ {
		c = cmp.Compare(part(a.release, i), part(b.release, i))
	}
	return cmp.Or(c, slices.Compare(a.pre[:], b.pre[:]), cmp.Compare(a.post, b.post), cmp.Compare(a.dev, b.dev))
}

// part is release part i, 0 past the end.
func part(release []int, i int) int {
	if i < len(release) {
		return release[i]
	}
	return 0
}

// samePublic reports whether v is a post-release (post) or a pre- or
// dev-release (!post) of a's release.
func samePublic(v, a pyVersion, post bool) bool {
	if v.epoch != a.epoch || !pyPrefix(v, a.release) || !pyPrefix(a, v.release) {
		return false
	}
	if post {
		return v.post >= 0
	}
	return v.pre[0] != 3 || v.dev != noDev
}

// pyPrefix reports whether v's release starts with prefix (missing parts are 0).
func pyPrefix(v pyVersion, prefix []int) bool {
	for i, p := range prefix {
		if part(v.release, i) != p {
			return false
		}
	}
	return true
}

// pyBump is the exclusive upper bound that bumps part i of release.
func pyBump(release []int, i int) pyVersion {
	r := slices.Clone(release[:i+1])
	r[i]++
	return pyVersion{release: r, pre: [2]int{-2, 0}, post: -1, dev: noDev} // below any pre or dev release of r
}

// pyClause is one comparison of a constraint.
type pyClause struct {
	op  string
	raw string    // the version as written, for ===
	arg pyVersion // the version compared with; for == and != with .*, the prefix
	any bool      // "*"
	pre bool      // a prefix match (1.2.*)
}

// pyConstraint is a parsed constraint: alternatives ("||") of clauses that must
// all hold (separated by commas or spaces). It reads PEP 440 specifiers
// ("==1.2.*", "~=1.4", ">=2,<3", "!=1.5.7") and Poetry's additions (bare
// versions, "^1.2", "~1.2", "*", "||").
type pyConstraint [][]pyClause

func parsePyConstraint(constraint string) (pyConstraint, error) {
	var c pyConstraint
	for alt := range strings.SplitSeq(constraint, "||") {
		var clauses []pyClause
		s := alt
		for {
			s = strings.TrimLeft(s, " ,\t")
			if s == "" {
				break
			}
			i := 0
			for i < len(s) && strings.IndexByte("<>=!~^", s[i]) >= 0 {
				i++
			}
			cl := pyClause{op: s[:i]}
			s = strings.TrimLeft(s[i:], " \t")
			j := 0
			for j < len(s) && strings.IndexByte(" ,\t<>=~^", s[j]) < 0 && !strings.HasPrefix(s[j:], "!=") {
				j++
			}
			cl.raw, s = s[:j], s[j:]
			switch prefix, wild := strings.CutSuffix(cl.raw, ".*"); {
			case cl.raw == "*" && (cl.op == "" || cl.op == "=="):
				cl.any = true
			case cl.op == "===":
			case wild && (cl.op == "==" || cl.op == "!="):
				v, err := parsePyVersion(prefix)
				if err != nil {
					return nil, err
				}
				cl.arg, cl.pre = v, true
			default:
				if !slices.Contains([]string{"", "==", "!=", ">=", "<=", ">", "<", "~=", "^", "~"}, cl.op) {
					return nil, fmt.Errorf("unknown operator %q", cl.op)
				}
				v, err := parsePyVersion(cl.raw)
				if err != nil {
					return nil, err
				}
				if cl.op == "~=" && len(v.release) < 2 {
					return nil, fmt.Errorf("~=%s needs two release parts", cl.raw)
				}
				cl.arg = v
			}
			clauses = append(clauses, cl)
		}
		c = append(c, clauses)
	}
	return c, nil
}

// match reports whether v (written raw) satisfies the constraint. The exclusive
// comparisons keep PEP 440's rules (<2.0 admits no 2.0 pre-release, >1.0 no 1.0
// post-release), but pre-releases are not excluded otherwise: a lock pins what
// it pins.
func (c pyConstraint) match(v pyVersion, raw string) bool {
	for _, alt := range c {
		if !slices.ContainsFunc(alt, func(cl pyClause) bool { return !cl.match(v, raw) }) {
			return true
		}
	}
	return false
}

func (cl pyClause) match(v pyVersion, raw string) bool {
	a := cl.arg
	switch {
	case cl.any:
		return true
	case cl.op == "===":
		return cl.raw == raw
	case cl.pre:
		return pyPrefix(v, a.release) == (cl.op == "==")
	}
	c := comparePy(v, a)
	switch cl.op {
	case "", "==":
		return c == 0
	case "!=":
		return c != 0
	case ">=":
		return c >= 0
	case "<=":
		return c <= 0
	case ">": // not a post-release of the bound, unless the bound is one
		return c > 0 && (a.post >= 0 || !samePublic(v, a, true))
	case "<": // not a pre-release of the bound, unless the bound is one
		return c < 0 && (a.pre[0] != 3 || a.dev != noDev || !samePublic(v, a, false))
	case "~=":
		return c >= 0 && pyPrefix(v, a.release[:len(a.release)-1])
	case "^": // bump the first non-zero part as written: ^0.2.3 → <0.3
		i := 0
		for i < len(a.release)-1 && a.release[i] == 0 {
			i++
		}
		return c >= 0 && comparePy(v, pyBump(a.release, i)) < 0
	case "~": // bump the minor part, or the major if that is all: ~1.2.3 → <1.3
		return c >= 0 && comparePy(v, pyBump(a.release, min(1, len(a.release)-1))) < 0
	}
	return false
}

// pep440Match reports whether version satisfies constraint.
func pep440Match(constraint, version string) (bool, error) {
	v, err := parsePyVersion(version)
	if err != nil {
		return false, err
	}
	c, err := parsePyConstraint(constraint)
	if err != nil {
		return false, err
	}
	return c.match(v, version), nil
}
