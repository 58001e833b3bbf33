package lockdeps

import (
	"bufio"
	"bytes"
	"strings"
)

// gemLine splits a Gemfile.lock entry, "name (version)", "name (>= 1, < 3)" or
// "name!", into its name and the parenthesized part.
func gemLine(s string) (name, paren string) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "!")
	name, rest, _ := strings.Cut(s, " ")
	if p, ok := strings.CutPrefix(rest, "("); ok {
		paren, _, _ = strings.Cut(p, ")")
	}
	return name, paren
}

func parseGemfile(b *builder, content []byte) error {
	type spec struct {
		key  Key
		deps []string
	}
	var specs []*spec
	var roots []string
	section, inSpecs := "", false
	var cur *spec
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(nil, len(content)+1)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if indent == 0 {
			section, inSpecs, cur = line, false, nil
			continue
		}
		switch section {
		case "GEM", "GIT", "PATH", "PLUGIN SOURCE":
			switch {
			case indent == 2:
				inSpecs, cur = strings.TrimSpace(line) == "specs:", nil
			case indent == 4 && inSpecs:
				name, version := gemLine(line)
				// A platform-specific build ("1.15.4-x86_64-linux") is the same
				// release: RubyGems versions have no dash.
				version, _, _ = strings.Cut(version, "-")
				cur = &spec{key: Key{Gem, name, version}}
				specs = append(specs, cur)
			case indent == 6 && cur != nil:
				name, _ := gemLine(line)
				cur.deps = append(cur.deps, name)
			}
		case "DEPENDENCIES":
			if indent == 2 {
				name, _ := gemLine(line)
				roots = append(roots, name)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	byName := index{}
	for _, s := range specs {
		byName.add(s.key.Name, s.key)
	}
	for _, name := range roots {
		if k, ok := byName.unique(name); ok {
			if err := b.root(k); err != nil {
				return err
			}
		}
	}
	for _, s := range specs {
		for _, name := range s.deps {
			if to, ok := byName.unique(name); ok {
				if err := b.edge(s.key, to, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
