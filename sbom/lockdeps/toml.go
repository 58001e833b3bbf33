package lockdeps

import (
	"bytes"
	"fmt"

	"github.com/BurntSushi/toml"
)

// tomlMaxNesting bounds brackets and dotted keys in a TOML lockfile; real ones
// nest three deep.
const tomlMaxNesting = 8

// decodeTOML decodes a TOML lockfile into v after checking its nesting: the
// decoder's time grows with the square of the nesting depth, and deep enough
// brackets overflow its stack.
func decodeTOML(content []byte, v any) error {
	if err := tomlCheck(content); err != nil {
		return err
	}
	_, err := toml.NewDecoder(bytes.NewReader(content)).Decode(v)
	return err
}

// tomlCheck scans content outside strings and comments for more than
// tomlMaxNesting open brackets or braces, or dots on one line.
func tomlCheck(content []byte) error {
	depth, dots, line := 0, 0, 1
	for i := 0; i < len(content); i++ {
		switch c := content[i]; c {
		case '\n':
			dots = 0
			line++
		case '#':
			if j := bytes.IndexByte(content[i:], '\n'); j >= 0 {
				i += j - 1
			} else {
				i = len(content)
			}
		case '"', '\'':
			delim := content[i : i+1]
			if bytes.HasPrefix(content[i:], []byte{c, c, c}) {
				delim = content[i : i+3]
			}
			j := i + len(delim)
			for ; j < len(content); j++ {
				if content[j] == '\\' && c == '"' {
					j++
					continue
				}
				if content[j] == '\n' {
					if len(delim) == 1 {
						break // unterminated: the decoder reports it
					}
					line++
				}
				if bytes.HasPrefix(content[j:], delim) {
					break
				}
			}
			i = j + len(delim) - 1
		case '[', '{':
			if depth++; depth > tomlMaxNesting {
				return fmt.Errorf("%w: line %d: brackets nest deeper than %d", ErrTooLarge, line, tomlMaxNesting)
			}
		case ']', '}':
			depth = max(depth-1, 0)
		case '.':
			if dots++; dots > tomlMaxNesting {
				return fmt.Errorf("%w: line %d: more than %d dots in keys and numbers", ErrTooLarge, line, tomlMaxNesting)
			}
		}
	}
	return nil
}
