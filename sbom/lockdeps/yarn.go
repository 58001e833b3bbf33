package lockdeps

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// parseYarn reads yarn.lock: classic (v1, its own syntax) or berry (v2 and later,
// YAML with a __metadata entry).
func parseYarn(b *builder, content []byte) error {
	for line := range bytes.Lines(content) {
		if string(bytes.TrimRight(line, " \r\n")) == "__metadata:" {
			return parseYarnBerry(b, content)
		}
	}
	return parseYarnV1(b, content)
}

// splitDescriptor splits "name@range" ("@scope/name@range" for a scoped package).
func splitDescriptor(d string) (name, rng string, ok bool) {
	if len(d) < 2 {
		return "", "", false
	}
	i := strings.IndexByte(d[1:], '@') + 1
	if i == 0 {
		return "", "", false
	}
	return d[:i], d[i+1:], true
}

// yarnRealName is the name of the package a descriptor resolves to: the aliased
// one for "alias@npm:real@^1".
func yarnRealName(desc string) string {
	name, rng, ok := splitDescriptor(desc)
	if !ok {
		return ""
	}
	if rest, ok := strings.CutPrefix(rng, "npm:"); ok {
		if real, _, ok := splitDescriptor(rest); ok {
			return real
		}
	}
	return name
}

// yarnEntry is one package entry of a classic yarn.lock.
type yarnEntry struct {
	descs   []string
	version string
	deps    [][2]string // name, range
}

// yarnToken reads one token from s: a JSON-quoted string or a bare word ending
// at a space, a comma or a colon. It returns the rest of s after the token.
func yarnToken(s string) (tok, rest string, err error) {
	if !strings.HasPrefix(s, `"`) {
		i := strings.IndexAny(s, " ,:")
		if i < 0 {
			return s, "", nil
		}
		return s[:i], s[i:], nil
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			if err := json.Unmarshal([]byte(s[:i+1]), &tok); err != nil {
				return "", "", fmt.Errorf("bad quoted string %.40q", s[:i+1])
			}
			return tok, s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("unterminated string %.40q", s)
}

// yarnValue reads the value that ends a line: quoted, or the bare rest.
func yarnValue(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, `"`) {
		return s, nil
	}
	v, _, err := yarnToken(s)
	return v, err
}

func parseYarnV1(b *builder, content []byte) error {
	var entries []*yarnEntry
	var cur *yarnEntry
	block := "" // the indented block being read: "dependencies", …
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(nil, len(content)+1)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		line = line[indent:]
		switch {
		case indent == 0:
			descs, err := yarnHeader(line)
			if err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			cur = &yarnEntry{descs: descs}
			entries = append(entries, cur)
			block = ""
		case cur == nil:
			return fmt.Errorf("line %d: indented line before the first package", n)
		case indent == 2:
			key, rest, err := yarnToken(line)
			if err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			rest = strings.TrimSpace(rest)
			if rest == ":" {
				block = key
				continue
			}
			block = ""
			if key == "version" {
				if cur.version, err = yarnValue(rest); err != nil {
					return fmt.Errorf("line %d: %w", n, err)
				}
			}
		case indent == 4 && (block == "dependencies" || block == "optionalDependencies"):
			name, rest, err := yarnToken(line)
			if err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			rng, err := yarnValue(rest)
			if err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			cur.deps = append(cur.deps, [2]string{name, rng})
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}

	byDesc := map[string]Key{}
	for _, e := range entries {
		if e.version == "" {
			continue
		}
		k := Key{Npm, yarnRealName(e.descs[0]), e.version}
		for _, d := range e.descs {
			byDesc[d] = k
		}
	}
	for _, e := range entries {
		from, ok := byDesc[e.descs[0]]
		if !ok {
			continue
		}
		for _, d := range e.deps {
			if to, ok := byDesc[d[0]+"@"+d[1]]; ok {
				if err := b.edge(from, to, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// yarnHeader splits a classic entry header, `"a@^1", a@^1.2:`, into descriptors.
func yarnHeader(line string) ([]string, error) {
	s, ok := strings.CutSuffix(line, ":")
	if !ok {
		return nil, fmt.Errorf("expected a package header ending in a colon, got %.60q", line)
	}
	var descs []string
	for {
		s = strings.TrimLeft(s, " ")
		var tok string
		if strings.HasPrefix(s, `"`) {
			var err error
			if tok, s, err = yarnToken(s); err != nil {
				return nil, err
			}
			if s = strings.TrimLeft(s, " "); s != "" && s[0] != ',' {
				return nil, fmt.Errorf("expected a comma after %.40q", tok)
			}
		} else { // a bare descriptor runs to the comma
			i := strings.IndexByte(s, ',')
			if i < 0 {
				i = len(s)
			}
			tok, s = strings.TrimSpace(s[:i]), s[i:]
		}
		if tok == "" {
			return nil, fmt.Errorf("empty descriptor in %.60q", line)
		}
		descs = append(descs, tok)
		if s == "" {
			return descs, nil
		}
		s = s[1:] // the comma
	}
}

// yarnBerryEntry is one entry of a berry yarn.lock.
type yarnBerryEntry struct {
	version, resolution string
	deps                [][2]string // name, range
}

// hasProtocol reports whether a berry range names its protocol ("npm:^1",
// "workspace:*", "patch:…").
func hasProtocol(rng string) bool {
	i := strings.IndexByte(rng, ':')
	if i <= 0 {
		return false
	}
	for _, c := range rng[:i] {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func parseYarnBerry(b *builder, content []byte) error {
	docs, err := yamlDocs(content)
	if err != nil {
		return err
	}
	if len(docs) != 1 {
		return errors.New("want one YAML document")
	}
	kv, err := yamlPairs(docs[0], "lockfile")
	if err != nil {
		return err
	}
	byDesc := map[string]Key{}
	entries := map[*yarnBerryEntry]Key{}
	for i := 0; i < len(kv); i += 2 {
		header := kv[i].Value
		if header == "__metadata" {
			continue
		}
		e := &yarnBerryEntry{}
		err := yamlFields(kv[i+1], header, map[string]*string{"version": &e.version, "resolution": &e.resolution},
			func(key string, v *yaml.Node) error {
				if key != "dependencies" && key != "optionalDependencies" {
					return nil // peers: the lockfile does not say who provides them
				}
				deps, err := yamlPairs(v, header+"."+key)
				if err != nil {
					return err
				}
				for j := 0; j < len(deps); j += 2 {
					rng, err := yamlScalar(deps[j+1], header+"."+key+"."+deps[j].Value)
					if err != nil {
						return err
					}
					e.deps = append(e.deps, [2]string{deps[j].Value, rng})
				}
				return nil
			})
		if err != nil {
			return err
		}
		descs := strings.Split(header, ",")
		for i := range descs {
			descs[i] = strings.TrimSpace(descs[i])
		}
		name, _, ok := splitDescriptor(e.resolution)
		if !ok {
			name = yarnRealName(descs[0])
		}
		k := Key{Npm, name, e.version}
		entries[e] = k
		for _, d := range descs {
			byDesc[d] = k
		}
	}
	for e, from := range entries {
		_, ref, _ := splitDescriptor(e.resolution)
		workspace := strings.HasPrefix(ref, "workspace:")
		for _, d := range e.deps {
			to, ok := byDesc[d[0]+"@"+d[1]]
			if !ok && !hasProtocol(d[1]) {
				to, ok = byDesc[d[0]+"@npm:"+d[1]]
			}
			if !ok {
				continue
			}
			if workspace {
				if err := b.root(to); err != nil {
					return err
				}
			}
			// The project's root workspace is not a package of its own.
			if ref != "workspace:." {
				if err := b.edge(from, to, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
