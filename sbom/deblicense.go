package sbom

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// maxCopyrightFile bounds a Debian copyright file read for licences.
const maxCopyrightFile = 1 << 20

// isDebCopyright reports whether p is a Debian package's copyright file,
// usr/share/doc/PACKAGE/copyright.
func isDebCopyright(p string) bool {
	rest, ok := strings.CutPrefix(p, "usr/share/doc/")
	if !ok {
		return false
	}
	name, file, ok := strings.Cut(rest, "/")
	return ok && name != "" && file == "copyright"
}

// addDebLicenses fills the licences of dpkg packages without any from their
// copyright files under root (usr/share/doc/NAME/copyright), as dpkg installs them.
func addDebLicenses(root string, pkgs []Package) {
	for i := range pkgs {
		p := &pkgs[i]
		if p.Type != "deb" || len(p.Licenses) > 0 {
			continue
		}
		name, _, _ := strings.Cut(p.Name, ":") // libc6:amd64 → libc6
		f, err := os.Open(filepath.Join(root, "usr", "share", "doc", filepath.Base(name), "copyright"))
		if err != nil {
			continue
		}
		p.Licenses = debLicenses(io.LimitReader(f, maxCopyrightFile))
		f.Close()
	}
}

var commonLicenseRef = regexp.MustCompile(`/usr/share/common-licenses/([A-Za-z0-9.+_-]+)`)

// debLicenses returns the licences a Debian copyright file names: the "License:"
// fields of a machine-readable (DEP-5) file, else the /usr/share/common-licenses
// files a free-text one points at, as SPDX expressions where the Debian short
// name has an SPDX equivalent and as written otherwise. Sorted, unique.
func debLicenses(r io.Reader) []string {
	var out, refs []string
	add := func(v string) {
		v = strings.TrimSpace(v)
		if v == "" {
			return
		}
		v = debToSPDX(v)
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if v, ok := bytes.CutPrefix(line, []byte("License:")); ok {
			add(string(v))
			continue
		}
		for _, m := range commonLicenseRef.FindAllSubmatch(line, -1) {
			if name := strings.TrimRight(string(m[1]), "."); name != "" {
				refs = append(refs, name)
			}
		}
	}
	// In a machine-readable file the License fields say it all; the common-licenses
	// paths in it only point at full texts. Older free-text files have only those.
	if len(out) == 0 {
		for _, r := range refs {
			add(r)
		}
	}
	slices.Sort(out)
	return out
}

var (
	gnuLicense   = regexp.MustCompile(`(?i)^(A|L)?GPL-?v?(\d)(?:\.(\d))?(\+)?$`)
	gfdlLicense  = regexp.MustCompile(`(?i)^GFDL-(\d)\.(\d)(\+)?$`)
	exprOperator = regexp.MustCompile(`(?i)\s+(or|and)\s+`)
)

// debSPDX maps Debian short licence names (copyright-format 1.0 and common use) to
// SPDX identifiers, keyed by lower case.
var debSPDX = map[string]string{
	"apache-2":          "Apache-2.0",
	"apache-2.0":        "Apache-2.0",
	"artistic":          "Artistic-1.0-Perl",
	"artistic-2.0":      "Artistic-2.0",
	"bsd-2-clause":      "BSD-2-Clause",
	"bsd-3-clause":      "BSD-3-Clause",
	"bsd-4-clause":      "BSD-4-Clause",
	"bsl-1.0":           "BSL-1.0",
	"cc0-1.0":           "CC0-1.0",
	"cc-by-4.0":         "CC-BY-4.0",
	"cc-by-sa-4.0":      "CC-BY-SA-4.0",
	"curl":              "curl",
	"expat":             "MIT",
	"mit":               "MIT",
	"isc":               "ISC",
	"mpl-1.1":           "MPL-1.1",
	"mpl-2.0":           "MPL-2.0",
	"openssl":           "OpenSSL",
	"python-2.0":        "Python-2.0",
	"zlib":              "Zlib",
	"x11":               "X11",
	"ftl":               "FTL",
	"fsfullr":           "FSFULLR",
	"fsfap":             "FSFAP",
	"ofl-1.1":           "OFL-1.1",
	"openldap-2.8":      "OLDAP-2.8",
	"psf-2":             "PSF-2.0",
	"sleepycat":         "Sleepycat",
	"unicode-dfs-2016":  "Unicode-DFS-2016",
	"w3c":               "W3C",
	"wtfpl":             "WTFPL",
	"0bsd":              "0BSD",
	"unlicense":         "Unlicense",
	"epl-1.0":           "EPL-1.0",
	"epl-2.0":           "EPL-2.0",
	"cddl-1.0":          "CDDL-1.0",
	"ipl-1.0":           "IPL-1.0",
	"mit-0":             "MIT-0",
	"bsd-3-clause-lbnl": "BSD-3-Clause-LBNL",
}

// debToSPDX turns a Debian licence field into an SPDX expression when every part
// of it maps, else returns it as written.
func debToSPDX(v string) string {
	if one, ok := debSPDXID(v); ok {
		return one
	}
	parts := exprOperator.Split(v, -1)
	ops := exprOperator.FindAllStringSubmatch(v, -1)
	if len(parts) < 2 {
		return v
	}
	var b strings.Builder
	for i, p := range parts {
		id, ok := debSPDXID(p)
		if !ok {
			return v
		}
		if i > 0 {
			b.WriteString(" " + strings.ToUpper(ops[i-1][1]) + " ")
		}
		b.WriteString(id)
	}
	return b.String()
}

func debSPDXID(name string) (string, bool) {
	name = strings.TrimSpace(name)
	if id, ok := debSPDX[strings.ToLower(name)]; ok {
		return id, true
	}
	if m := gnuLicense.FindStringSubmatch(name); m != nil {
		minor := m[3]
		if minor == "" {
			minor = "0"
		}
		suffix := "-only"
		if m[4] != "" {
			suffix = "-or-later"
		}
		return strings.ToUpper(m[1]) + "GPL-" + m[2] + "." + minor + suffix, true
	}
	if m := gfdlLicense.FindStringSubmatch(name); m != nil {
		suffix := "-only"
		if m[3] != "" {
			suffix = "-or-later"
		}
		return "GFDL-" + m[1] + "." + m[2] + suffix, true
	}
	return "", false
}
