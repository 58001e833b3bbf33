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

// pep440Match reports whether version satisfies constraint: PEP 440 specifiers
// ("==1.2.*", "~=1.4", ">=2,<3", "!=1.5.7") and Poetry's additions (bare versions,
// "^1.2", "~1.2", "*", "||" between alternatives). Pre-release exclusion rules
// are not applied: a lock pins what it pins.
func pep440Match(constraint, version string) (bool, error) {
	v, err := parsePyVersion(version)
	if err != nil {
		return false, err
	}
	for alt := range strings.SplitSeq(constraint, "||") {
		ok, err := pyMatchAll(alt, version, v)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// pyMatchAll checks the comma- or space-separated clauses of one alternative.
func pyMatchAll(alt, raw string, v pyVersion) (bool, error) {
	s := alt
	for {
		s = strings.TrimLeft(s, " ,\t")
		if s == "" {
			return true, nil
		}
		i := 0
		for i < len(s) && strings.IndexByte("<>=!~^", s[i]) >= 0 {
			i++
		}
		op := s[:i]
		s = strings.TrimLeft(s[i:], " \t")
		j := 0
		for j < len(s) && strings.IndexByte(" ,\t<>=!~^", s[j]) < 0 {
			j++
		}
		arg := s[:j]
		s = s[j:]
		ok, err := pyClause(op, arg, raw, v)
		if err != nil || !ok {
			return false, err
		}
	}
}

func pyClause(op, arg, raw string, v pyVersion) (bool, error) {
	if arg == "*" && (op == "" || op == "==") {
		return true, nil
	}
	if op == "===" {
		return arg == raw, nil
	}
	if prefix, ok := strings.CutSuffix(arg, ".*"); ok && (op == "==" || op == "!=") {
		p, err := parsePyVersion(prefix)
		if err != nil {
			return false, err
		}
		return pyPrefix(v, p.release) == (op == "=="), nil
	}
	a, err := parsePyVersion(arg)
	if err != nil {
		return false, err
	}
	c := comparePy(v, a)
	written := a.release
	switch op {
	case "", "==":
		return c == 0, nil
	case "!=":
		return c != 0, nil
	case ">=":
		return c >= 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	case "<":
		return c < 0, nil
	case "~=":
		if len(written) < 2 {
			return false, fmt.Errorf("~=%s needs two release parts", arg)
		}
		return c >= 0 && pyPrefix(v, written[:len(written)-1]), nil
	case "^":
		i := 0
		for i < len(written)-1 && written[i] == 0 {
			i++
		}
		return c >= 0 && comparePy(v, pyBump(written, i)) < 0, nil
	case "~":
		i := min(1, len(written)-1)
		return c >= 0 && comparePy(v, pyBump(written, i)) < 0, nil
	}
	return false, fmt.Errorf("unknown operator %q", op)
}
