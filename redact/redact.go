// Package redact keeps secrets out of what tether stores and prints. It does no I/O.
package redact

import (
	"sort"
	"strings"
)

// Placeholder replaces a redacted value.
const Placeholder = "<redacted>"

// Env returns a replacer that turns "NAME=VALUE" (also quoted with ' or ") into
// "NAME=<redacted>" for every variable of env ("NAME=VALUE" entries) that has a
// value. Image builders echo ENV instructions and the build arguments of RUN steps
// into an image's history, so history text is passed through it before it is kept.
func Env(env []string) *strings.Replacer {
	type pair struct{ old, new string }
	var pairs []pair
	for _, e := range env {
		k, v, ok := strings.Cut(e, "=")
		if !ok || k == "" || v == "" {
			continue
		}
		pairs = append(pairs,
			pair{k + `="` + v + `"`, k + `="` + Placeholder + `"`},
			pair{k + `='` + v + `'`, k + `='` + Placeholder + `'`},
			pair{k + "=" + v, k + "=" + Placeholder},
		)
	}
	// Longer first, so that a value that extends another wins.
	sort.SliceStable(pairs, func(i, j int) bool { return len(pairs[i].old) > len(pairs[j].old) })
	args := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		args = append(args, p.old, p.new)
	}
	return strings.NewReplacer(args...)
}
