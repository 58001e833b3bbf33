package dockerfile

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/command"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// File is a parsed Dockerfile.
type File struct {
	// Args are the global ARGs: those declared before the first FROM. They are the
	// only variables a FROM line can use.
	Args []Arg `json:"args,omitempty"`
	// Stages are the build stages in order; Stages[i].Index == i.
	Stages []Stage `json:"stages"`
	// Instructions are all instructions in file order, FROM and global ARGs included.
	Instructions []Instruction `json:"instructions"`
	// Warnings are problems BuildKit tolerates, such as empty continuation lines.
	Warnings []Warning `json:"warnings,omitempty"`
}

// Arg is one variable declared by a global ARG instruction.
type Arg struct {
	Name string `json:"name"`
	// Default is the default value as written (quotes and variables kept);
	// HasDefault tells "ARG X" from "ARG X=".
	Default    string `json:"default,omitempty"`
	HasDefault bool   `json:"has_default,omitempty"`
	// Line is the first line of the ARG instruction.
	Line int `json:"line"`
}

// Stage is one build stage: a FROM instruction and what follows it up to the next FROM.
type Stage struct {
	Index int `json:"index"`
	// Name is the stage's AS alias, lower-cased as BuildKit compares it; "" if none.
	Name string `json:"name,omitempty"`
	// From is the base image (or stage) as written, e.g. "golang:${GO_VERSION}".
	From string `json:"from"`
	// FromResolved is From with the global ARG defaults substituted, e.g.
	// "golang:1.22". Variables without a default (including BuildKit's automatic
	// platform ARGs) are left as written.
	FromResolved string `json:"from_resolved"`
	// FromDigest is the digest the base image is pinned to with "@", e.g.
	// "sha256:…", or "".
	FromDigest string `json:"from_digest,omitempty"`
	// Platform is the value of FROM --platform as written, or "".
	Platform string `json:"platform,omitempty"`
	// FromStage is the index of the earlier stage FROM names, or -1 when it names an image.
	FromStage int `json:"from_stage"`
	// StartLine is the line of FROM; EndLine the last line of the stage's last instruction.
	StartLine int `json:"start_line"`
	EndLine   int `json:"end_line"`
}

// Instruction is one Dockerfile instruction.
type Instruction struct {
	// Stage is the index of the stage the instruction belongs to, or -1 for a
	// global ARG before the first FROM.
	Stage int `json:"stage"`
	// Command is the instruction keyword in upper case, e.g. "RUN".
	Command string `json:"command"`
	// Original is the instruction as written with continuation lines joined
	// (heredoc bodies are not included).
	Original string `json:"original"`
	// Args are the instruction's arguments after its flags. For JSON (exec) form
	// they are the array elements; for shell form RUN, CMD and ENTRYPOINT, one
	// string; for ENV and LABEL, "key=value" pairs; for ONBUILD, the trigger's
	// keyword, flags and arguments.
	Args []string `json:"args,omitempty"`
	// Flags are the "--name=value" flags as written, e.g. "--platform=linux/amd64".
	Flags []string `json:"flags,omitempty"`
	// StartLine and EndLine are 1-based and cover continuation lines and heredoc bodies.
	StartLine int `json:"start_line"`
	EndLine   int `json:"end_line"`
	// Heredoc is true when the instruction carries one or more heredocs (<<EOF).
	Heredoc bool `json:"heredoc,omitempty"`
	// JSON is true when the arguments were written in JSON (exec) form.
	JSON bool `json:"json,omitempty"`
}

// Warning is a problem BuildKit accepts but reports.
type Warning struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// ErrInvalid is the sentinel every *ParseError matches.
var ErrInvalid = errors.New("dockerfile: invalid Dockerfile")

// ParseError says where and why a Dockerfile does not parse. It matches ErrInvalid.
type ParseError struct {
	// Line is 1-based, or 0 when the problem is the file as a whole.
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("Dockerfile line %d: %s", e.Line, e.Msg)
	}
	return "Dockerfile: " + e.Msg
}

// Is makes a ParseError match ErrInvalid.
func (e *ParseError) Is(target error) bool { return target == ErrInvalid }

// errReader remembers the first read error so that Parse can tell a failing
// reader from a malformed Dockerfile.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// Parse reads a Dockerfile and returns its stages and instructions. A malformed
// Dockerfile gives an error matching ErrInvalid that names the line; BuildKit's
// warnings are kept in File.Warnings and are not errors. Errors from r are
// returned wrapped.
func Parse(r io.Reader) (*File, error) {
	er := &errReader{r: r}
	res, err := parser.Parse(er)
	if er.err != nil {
		return nil, fmt.Errorf("dockerfile: reading: %w", er.err)
	}
	if err != nil {
		return nil, fromBuildkit(err)
	}

	f := &File{}
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil {
			line = w.Location.Start.Line
		}
		f.Warnings = append(f.Warnings, Warning{Line: line, Message: w.Short})
	}

	lex := shell.NewLex(res.EscapeToken)
	lex.SkipUnsetEnv = true
	env := &argEnv{}
	stageByName := map[string]int{}

	for _, n := range res.AST.Children {
		kw := strings.ToLower(n.Value)
		if _, ok := command.Commands[kw]; !ok {
			if !isText(n.Value) {
				return nil, &ParseError{Line: n.StartLine, Msg: "binary data where an instruction should be: this is not a Dockerfile"}
			}
			return nil, &ParseError{Line: n.StartLine, Msg: fmt.Sprintf(
				"unknown instruction %s: check its spelling (instructions are ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, FROM, HEALTHCHECK, LABEL, MAINTAINER, ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR)",
				quoteShort(n.Value))}
		}
		in := Instruction{
			Stage:     len(f.Stages) - 1,
			Command:   strings.ToUpper(kw),
			Original:  n.Original,
			Args:      nodeArgs(kw, n.Next),
			Flags:     nonEmpty(n.Flags),
			StartLine: n.StartLine,
			EndLine:   n.EndLine,
			Heredoc:   len(n.Heredocs) > 0,
			JSON:      n.Attributes["json"],
		}
		switch kw {
		case command.From:
			st, err := newStage(len(f.Stages), in, lex, env, stageByName)
			if err != nil {
				return nil, err
			}
			if st.Name != "" {
				stageByName[st.Name] = st.Index
			}
			f.Stages = append(f.Stages, st)
			in.Stage = st.Index
		case command.Arg:
			if len(in.Args) == 0 {
				return nil, &ParseError{Line: n.StartLine, Msg: "ARG requires at least one argument: write ARG NAME or ARG NAME=default"}
			}
			if in.Stage >= 0 {
				break
			}
			for _, w := range in.Args {
				name, def, has := strings.Cut(w, "=")
				if name == "" {
					return nil, &ParseError{Line: n.StartLine, Msg: "ARG names can not be blank"}
				}
				f.Args = append(f.Args, Arg{Name: name, Default: def, HasDefault: has, Line: n.StartLine})
				if has {
					if v, _, err := lex.ProcessWord(def, env); err == nil {
						env.set(name, v)
					} else {
						f.Warnings = append(f.Warnings, Warning{Line: n.StartLine, Message: "cannot expand ARG " + name + ": " + err.Error()})
					}
				}
			}
		default:
			if in.Stage < 0 {
				return nil, &ParseError{Line: n.StartLine, Msg: in.Command + " comes before the first FROM: only ARG may precede FROM"}
			}
		}
		if in.Stage >= 0 {
			f.Stages[in.Stage].EndLine = in.EndLine
		}
		f.Instructions = append(f.Instructions, in)
	}
	if len(f.Stages) == 0 {
		return nil, &ParseError{Msg: "no FROM instruction: a Dockerfile must start a build stage with FROM"}
	}
	return f, nil
}

var validStageName = regexp.MustCompile(`^[a-z][a-z0-9-_.]*$`)

// digestRE is the OCI digest grammar: algorithm ":" encoded.
var digestRE = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)

func newStage(index int, in Instruction, lex *shell.Lex, env *argEnv, stageByName map[string]int) (Stage, error) {
	args := in.Args
	st := Stage{Index: index, FromStage: -1, StartLine: in.StartLine, EndLine: in.EndLine}
	switch {
	case len(args) == 3 && strings.EqualFold(args[1], "as"):
		st.Name = strings.ToLower(args[2])
		if !validStageName.MatchString(st.Name) {
			return st, &ParseError{Line: in.StartLine, Msg: fmt.Sprintf("invalid build stage name %s: a name starts with a letter and has only letters, digits, '-', '_' and '.'", quoteShort(args[2]))}
		}
		if _, dup := stageByName[st.Name]; dup {
			return st, &ParseError{Line: in.StartLine, Msg: fmt.Sprintf("duplicate build stage name %q: give each stage its own name", st.Name)}
		}
	case len(args) != 1:
		return st, &ParseError{Line: in.StartLine, Msg: "FROM requires either one or three arguments: write FROM IMAGE [AS NAME]"}
	}
	st.From = args[0]
	for _, fl := range in.Flags {
		if v, ok := cutPrefixFold(fl, "--platform="); ok {
			st.Platform = v
		}
	}
	st.FromResolved = st.From
	if strings.ContainsAny(st.From, "$'\"\\`") {
		if v, _, err := lex.ProcessWord(st.From, env); err == nil {
			st.FromResolved = v
		}
	}
	if i, ok := stageByName[strings.ToLower(st.FromResolved)]; ok {
		st.FromStage = i
	} else if at := strings.LastIndexByte(st.FromResolved, '@'); at >= 0 && digestRE.MatchString(st.FromResolved[at+1:]) {
		st.FromDigest = st.FromResolved[at+1:]
	}
	return st, nil
}

// nodeArgs flattens the argument nodes BuildKit's parser builds for an instruction.
func nodeArgs(kw string, n *parser.Node) []string {
	var out []string
	switch kw {
	case command.Env, command.Label:
		// Triplets of key, value, separator ("=" or "" for the legacy "ENV k v" form).
		for ; n != nil; n = n.Next {
			k := n.Value
			var v string
			if n.Next != nil {
				n = n.Next
				v = n.Value
				if n.Next != nil {
					n = n.Next
				}
			}
			out = append(out, k+"="+v)
		}
		return out
	case command.Onbuild:
		if n != nil && len(n.Children) > 0 {
			c := n.Children[0]
			out = append(out, strings.ToUpper(c.Value))
			out = append(out, c.Flags...)
			return append(out, nodeArgs(strings.ToLower(c.Value), c.Next)...)
		}
	}
	for ; n != nil; n = n.Next {
		out = append(out, n.Value)
	}
	return out
}

// fromBuildkit turns an error of BuildKit's parser into a *ParseError with a line.
func fromBuildkit(err error) error {
	line := 0
	msg := err.Error()
	var le *parser.LocationError
	if errors.As(err, &le) {
		for _, rs := range le.Locations {
			if len(rs) > 0 {
				line = rs[0].Start.Line
				break
			}
		}
		if inner := le.Unwrap(); inner != nil {
			msg = inner.Error()
		}
	}
	if msg == "file with no instructions" {
		return &ParseError{Msg: "no FROM instruction: the file has no instructions"}
	}
	// BuildKit reports errors found while reading a line (a parser directive,
	// an over-long line) with the count of lines read before it.
	for _, p := range []string{"invalid escape token", "only one ", "dockerfile line greater than"} {
		if strings.HasPrefix(msg, p) {
			line++
			break
		}
	}
	if line < 1 {
		line = 1
	}
	return &ParseError{Line: line, Msg: msg}
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

// nonEmpty returns a copy of s, or nil when s is empty.
func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}

// isText reports whether s is UTF-8 without control characters.
func isText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' {
			return false
		}
	}
	return true
}

// quoteShort quotes s for an error message, cut to a readable length.
func quoteShort(s string) string {
	const max = 40
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// argEnv holds global ARG values for expanding FROM lines.
type argEnv struct {
	keys []string
	vals map[string]string
}

func (e *argEnv) set(k, v string) {
	if e.vals == nil {
		e.vals = map[string]string{}
	}
	if _, ok := e.vals[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
}

func (e *argEnv) Get(k string) (string, bool) {
	v, ok := e.vals[k]
	return v, ok
}

func (e *argEnv) Keys() []string { return e.keys }
