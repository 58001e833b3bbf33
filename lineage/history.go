package lineage

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// step is one build step, as an image history entry or a Dockerfile instruction
// describes it, normalized so the two can be compared.
type step struct {
	cmd  string // upper-case instruction: RUN, COPY, ENV …
	args string // normalized argument text
}

var (
	// "|2 GOOS=linux GOARCH=amd64 /bin/sh -c make": a classic-builder RUN with build args.
	buildArgsPrefix = regexp.MustCompile(`^\|\d+\s+(?:\S+=\S*\s+)*`)
	spaces          = regexp.MustCompile(`\s+`)
	quoted          = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

var instructions = map[string]bool{
	"ADD": true, "ARG": true, "CMD": true, "COPY": true, "ENTRYPOINT": true, "ENV": true,
	"EXPOSE": true, "HEALTHCHECK": true, "LABEL": true, "MAINTAINER": true, "ONBUILD": true,
	"RUN": true, "SHELL": true, "STOPSIGNAL": true, "USER": true, "VOLUME": true, "WORKDIR": true,
}

// parseHistory normalizes an image history "created_by" as written by BuildKit
// ("RUN /bin/sh -c make # buildkit"), the classic builder ("/bin/sh -c #(nop)  CMD
// [\"/app\"]", "|1 A=b /bin/sh -c make") and buildah. ok is false for entries that
// say nothing comparable (empty, or made by a tool that records no instruction).
func parseHistory(createdBy string) (step, bool) {
	s := strings.TrimSpace(createdBy)
	s = strings.TrimSpace(strings.TrimSuffix(s, "# buildkit"))
	if s == "" {
		return step{}, false
	}
	s = buildArgsPrefix.ReplaceAllString(s, "")
	if i := strings.Index(s, "#(nop)"); i >= 0 {
		s = strings.TrimSpace(s[i+len("#(nop)"):])
		cmd, rest, _ := strings.Cut(s, " ")
		cmd = strings.ToUpper(cmd)
		if !instructions[cmd] {
			return step{}, false
		}
		return step{cmd, normArgs(cmd, rest)}, true
	}
	for _, sh := range []string{"/bin/sh -c ", "/bin/bash -c ", "/bin/sh -o pipefail -c ", "/bin/bash -o pipefail -c "} {
		if strings.HasPrefix(s, sh) {
			return step{"RUN", normArgs("RUN", s[len(sh):])}, true
		}
	}
	cmd, rest, _ := strings.Cut(s, " ")
	cmd = strings.ToUpper(cmd)
	if !instructions[cmd] {
		return step{}, false
	}
	if cmd == "RUN" {
		for _, sh := range []string{"/bin/sh -c ", "/bin/bash -c "} {
			rest = strings.TrimPrefix(strings.TrimSpace(rest), sh)
		}
	}
	return step{cmd, normArgs(cmd, rest)}, true
}

// instructionStep normalizes a Dockerfile instruction's command and arguments.
func instructionStep(cmd string, args []string) step {
	cmd = strings.ToUpper(cmd)
	return step{cmd, normArgs(cmd, strings.Join(args, " "))}
}

// producesHistory reports whether BuildKit and the classic builder both record a
// history entry for an instruction of this kind. ARG is recorded by the classic
// builder only, FROM never.
func producesHistory(cmd string) bool {
	return cmd != "FROM" && cmd != "ARG" && cmd != "ONBUILD" && cmd != "MAINTAINER"
}

func normArgs(cmd, a string) string {
	a = strings.TrimSpace(a)
	switch cmd {
	case "CMD", "ENTRYPOINT", "SHELL", "VOLUME", "RUN":
		// Exec form ["a","b"] and shell form "a b" say the same thing.
		if strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]") {
			a = strings.Join(execForm(a), " ")
		}
	case "EXPOSE":
		// BuildKit writes "EXPOSE map[8080/tcp:{}]"; the Dockerfile says "EXPOSE 8080".
		a = strings.NewReplacer("map[", "", ":{}", "", "]", "", "/tcp", "").Replace(a)
	case "ENV", "LABEL":
		a = strings.ReplaceAll(a, `"`, "")
	}
	return strings.TrimSpace(spaces.ReplaceAllString(a, " "))
}

// execForm reads ["a", "b"] (a Dockerfile's JSON) or ["a" "b"] (the classic
// builder's history) into its words.
func execForm(a string) []string {
	var words []string
	if json.Unmarshal([]byte(a), &words) == nil {
		return words
	}
	for _, q := range quoted.FindAllString(a, -1) {
		if w, err := strconv.Unquote(q); err == nil {
			words = append(words, w)
		}
	}
	return words
}

// matches reports whether a history step was made by an instruction step.
func matches(h, in step) bool {
	if h.cmd != in.cmd {
		return false
	}
	if h.args == in.args {
		return true
	}
	switch h.cmd {
	case "COPY", "ADD":
		// The classic builder hides sources: "COPY dir:3f2a… in /app". Only the
		// destination can be compared, and only when the history names no source.
		src, dst, ok := strings.Cut(h.args, " in ")
		if ok && (strings.HasPrefix(src, "dir:") || strings.HasPrefix(src, "file:") || strings.HasPrefix(src, "multi:")) {
			f := strings.Fields(in.args)
			return len(f) > 0 && strings.TrimSuffix(f[len(f)-1], "/") == strings.TrimSuffix(strings.TrimSpace(dst), "/")
		}
		// BuildKit keeps flags like --chown in the instruction but may drop --link.
		return stripFlags(h.args) == stripFlags(in.args)
	case "RUN":
		return stripFlags(h.args) == stripFlags(in.args)
	}
	return false
}

// stripFlags drops leading --flag=value words (--mount, --chown, --link, --network).
func stripFlags(a string) string {
	f := strings.Fields(a)
	for len(f) > 0 && strings.HasPrefix(f[0], "--") {
		f = f[1:]
	}
	return strings.Join(f, " ")
}

// alignment is the result of matching history entries to instructions.
type alignment struct {
	// pairs maps history index → instruction index, in order.
	pairs [][2]int
	// countable is the number of instructions that should have left a history
	// entry, matched how many of those did.
	countable, matched int
}

func (a alignment) score() float64 {
	if a.countable == 0 {
		return 0
	}
	return float64(a.matched) / float64(a.countable)
}

// align finds the longest in-order matching between history entries and
// instructions (a longest common subsequence under matches). hist entries with ok
// false never match.
func align(hist []step, histOK []bool, ins []step) alignment {
	n, m := len(hist), len(ins)
	// dp[i][j]: best match count for hist[i:], ins[j:].
	dp := make([][]int32, n+1)
	for i := range dp {
		dp[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			best := max(dp[i+1][j], dp[i][j+1])
			if histOK[i] && matches(hist[i], ins[j]) && dp[i+1][j+1]+1 > best {
				best = dp[i+1][j+1] + 1
			}
			dp[i][j] = best
		}
	}
	var a alignment
	for _, s := range ins {
		if producesHistory(s.cmd) {
			a.countable++
		}
	}
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case histOK[i] && matches(hist[i], ins[j]) && dp[i][j] == dp[i+1][j+1]+1:
			a.pairs = append(a.pairs, [2]int{i, j})
			if producesHistory(ins[j].cmd) {
				a.matched++
			}
			i++
			j++
		case dp[i+1][j] >= dp[i][j+1]:
			i++
		default:
			j++
		}
	}
	return a
}
