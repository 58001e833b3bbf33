package lockdeps

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// YAML lockfiles are read as node trees and walked here rather than decoded into
// structs: yaml.v3's decoder checks every mapping for duplicate keys pair by pair,
// which takes quadratic time in a lockfile's thousands of packages. Aliases are
// not followed: lockfiles have none, and following them invites exponential work.

// yamlDocs returns the documents of a YAML stream.
func yamlDocs(content []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) > 0 {
			docs = append(docs, n.Content[0])
		}
	}
}

func yamlNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// yamlPairs returns the keys and values of a mapping, alternating; nothing for a
// null.
func yamlPairs(n *yaml.Node, what string) ([]*yaml.Node, error) {
	if yamlNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode || len(n.Content)%2 != 0 {
		return nil, fmt.Errorf("line %d: %s: want a mapping", n.Line, what)
	}
	return n.Content, nil
}

// yamlScalar returns a scalar's text; "" for a null.
func yamlScalar(n *yaml.Node, what string) (string, error) {
	if yamlNull(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("line %d: %s: want a string", n.Line, what)
	}
	return n.Value, nil
}

// yamlFields reads the scalar fields names of a mapping and hands every other
// field to other, if not nil.
func yamlFields(n *yaml.Node, what string, scalars map[string]*string, other func(key string, v *yaml.Node) error) error {
	kv, err := yamlPairs(n, what)
	if err != nil {
		return err
	}
	for i := 0; i < len(kv); i += 2 {
		key := kv[i].Value
		if dst, ok := scalars[key]; ok {
			if *dst, err = yamlScalar(kv[i+1], what+"."+key); err != nil {
				return err
			}
		} else if other != nil {
			if err := other(key, kv[i+1]); err != nil {
				return err
			}
		}
	}
	return nil
}
