// Package purl parses package URLs (github.com/package-url/purl-spec) into their
// parts. It does no normalisation beyond the spec's: the type is lower-cased, the
// other parts are percent-decoded and kept as written.
package purl

import (
	"fmt"
	"net/url"
	"strings"
)

// PURL is a parsed package URL.
type PURL struct {
	Type, Namespace, Name, Version string
	Qualifiers                     map[string]string
}

// Parse reads "pkg:type/namespace/name@version?qualifiers#subpath"
// (github.com/package-url/purl-spec), percent-decoding each part. A '+' stays a
// '+' (Debian versions have them).
func Parse(s string) (PURL, error) {
	var pu PURL
	rest, ok := strings.CutPrefix(s, "pkg:")
	if !ok {
		return pu, fmt.Errorf("purl %q does not start with \"pkg:\"", s)
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	rest = strings.Trim(rest, "/")
	typ, path, ok := strings.Cut(rest, "/")
	if !ok || typ == "" {
		return pu, fmt.Errorf("purl %q has no type and name", s)
	}
	pu.Type = strings.ToLower(typ)
	// The version follows the last '@' after the last '/' ("pkg:npm/@babel/core@7.0.0").
	slash := strings.LastIndexByte(path, '/')
	if at := strings.LastIndexByte(path, '@'); at > slash {
		path, pu.Version = path[:at], path[at+1:]
	}
	if slash = strings.LastIndexByte(path, '/'); slash >= 0 {
		pu.Namespace, pu.Name = path[:slash], path[slash+1:]
	} else {
		pu.Name = path
	}
	var err error
	for _, f := range []*string{&pu.Namespace, &pu.Name, &pu.Version} {
		if *f, err = url.PathUnescape(*f); err != nil {
			return pu, fmt.Errorf("purl %q: %v", s, err)
		}
	}
	if pu.Name == "" {
		return pu, fmt.Errorf("purl %q has no name", s)
	}
	pu.Qualifiers = map[string]string{}
	for kv := range strings.SplitSeq(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			continue
		}
		if v, err = url.PathUnescape(v); err != nil {
			return pu, fmt.Errorf("purl %q: qualifier %s: %v", s, k, err)
		}
		pu.Qualifiers[strings.ToLower(k)] = v
	}
	return pu, nil
}
