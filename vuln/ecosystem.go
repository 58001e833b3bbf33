package vuln

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tether-sec/tether/osv"
	"github.com/tether-sec/tether/purl"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/sbom/lockdeps"
)

// Target is what one SBOM package is matched as in OSV.
type Target struct {
	// Ecosystems are the OSV ecosystem strings to look in, e.g. ["Debian:12"] or
	// ["Ubuntu:22.04:LTS", "Ubuntu:22.04"].
	Ecosystems []string
	// Name is the OSV package name (NormalizeName applied): the module path, the
	// npm "@scope/name", the Maven "group:artifact", the OS source package.
	Name string
	// Version is the version to match, in the form OSV records use: Go versions
	// without "v", the Go toolchain as semver ("1.21.0-rc.2"), RPM versions with
	// their epoch ("1:3.0.7-27.el9").
	Version string
}

// TargetOf maps a package to its OSV ecosystem, name and version. Its error
// matches ErrUnsupported for a package type OSV does not cover, or ErrNoDistro
// for an OS package whose release cannot be told.
func TargetOf(p sbom.Package) (Target, error) {
	typ := strings.ToLower(p.Type)
	var pu purl.PURL
	if p.PURL != "" {
		var err error
		pu, err = purl.Parse(p.PURL)
		if err != nil {
			return Target{}, fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
		typ = pu.Type
	}
	qual := pu.Qualifiers
	name := pu.Name
	if pu.Namespace != "" {
		name = pu.Namespace + "/" + pu.Name
	}
	if name == "" {
		name = p.Name
	}
	version := pu.Version
	if version == "" {
		version = p.Version
	}
	var t Target
	switch typ {
	case "golang":
		if pu.Namespace == "" && (pu.Name == "stdlib" || pu.Name == "go") || p.PURL == "" && (p.Name == "stdlib" || p.Name == "go") {
			v, ok := goToolchainVersion(version)
			if !ok {
				v = version // reported as unparsable where records exist
			}
			t = Target{Ecosystems: []string{"Go"}, Name: "stdlib", Version: v}
		} else {
			// Module paths are case-sensitive, but some purl writers lower-case
			// them; the package name keeps the go.mod spelling.
			if strings.EqualFold(p.Name, name) {
				name = p.Name
			}
			t = Target{Ecosystems: []string{"Go"}, Name: name, Version: strings.TrimPrefix(version, "v")}
		}
	case "npm":
		t = Target{Ecosystems: []string{"npm"}, Name: name, Version: version}
	case "pypi":
		t = Target{Ecosystems: []string{"PyPI"}, Name: name, Version: version}
	case "maven":
		if pu.Namespace != "" {
			name = pu.Namespace + ":" + pu.Name
		}
		t = Target{Ecosystems: []string{"Maven"}, Name: name, Version: version}
	case "cargo":
		t = Target{Ecosystems: []string{"crates.io"}, Name: name, Version: version}
	case "gem":
		t = Target{Ecosystems: []string{"RubyGems"}, Name: name, Version: version}
	case "composer":
		t = Target{Ecosystems: []string{"Packagist"}, Name: name, Version: version}
	case "nuget":
		t = Target{Ecosystems: []string{"NuGet"}, Name: name, Version: version}
	case "deb":
		ecos, err := debEcosystems(pu.Namespace, qual["distro"])
		if err != nil {
			return Target{}, err
		}
		n, v := source(p, pu.Name, version, debSource(qual))
		t = Target{Ecosystems: ecos, Name: n, Version: v}
	case "apk":
		eco, err := alpineEcosystem(pu.Namespace, qual["distro"])
		if err != nil {
			return Target{}, err
		}
		n, v := source(p, pu.Name, version, apkSource(qual))
		t = Target{Ecosystems: []string{eco}, Name: n, Version: v}
	case "rpm":
		ecos, err := rpmEcosystems(pu.Namespace, qual["distro"])
		if err != nil {
			return Target{}, err
		}
		// RPM distribution advisories (AlmaLinux, Rocky Linux, Red Hat) list the
		// binary packages they fix, with the binary's epoch:version-release; the
		// source RPM's name often differs (python3 from python3.9, vim-minimal
		// from vim), so match the binary.
		n, v := pu.Name, version
		if p.Name != "" {
			n = p.Name
		}
		if e := qual["epoch"]; e != "" && e != "0" && !strings.Contains(v, ":") {
			v = e + ":" + v
		}
		t = Target{Ecosystems: ecos, Name: n, Version: v}
	default:
		return Target{}, fmt.Errorf("%w: purl type %q", ErrUnsupported, typ)
	}
	if t.Name == "" {
		return Target{}, fmt.Errorf("%w: no package name", ErrUnsupported)
	}
	t.Name = NormalizeName(t.Ecosystems[0], t.Name)
	return t, nil
}

// source is the source package name and version of an OS package: the SBOM's
// SourceName/SourceVersion, else what the purl's qualifiers say (from), else the
// binary's own.
func source(p sbom.Package, name, version string, from func() (string, string)) (string, string) {
	sn, sv := p.SourceName, p.SourceVersion
	if sn == "" {
		sn, sv = from()
	}
	if sn != "" {
		name = sn
		if sv != "" {
			version = sv
		}
	}
	if name == "" {
		name = p.Name
	}
	return name, version
}

// debSource reads scalibr's source/source_version or Syft's upstream=name[@version].
func debSource(q map[string]string) func() (string, string) {
	return func() (string, string) {
		if q["source"] != "" {
			return q["source"], q["source_version"]
		}
		n, v, _ := strings.Cut(q["upstream"], "@")
		return n, v
	}
}

// apkSource reads scalibr's origin or Syft's upstream.
func apkSource(q map[string]string) func() (string, string) {
	return func() (string, string) {
		if q["origin"] != "" {
			return q["origin"], ""
		}
		n, v, _ := strings.Cut(q["upstream"], "@")
		return n, v
	}
}

// NormalizeName is the form of a package name Match asks a Source for and
// compares records by: PEP 503 for PyPI, lower case for NuGet and Packagist (whose
// names ignore case), the name unchanged elsewhere. vulndb indexes records by it.
func NormalizeName(ecosystem, name string) string {
	base, _ := osv.Ecosystem(ecosystem)
	switch base {
	case "PyPI":
		return lockdeps.NormalizePyPI(name)
	case "NuGet", "Packagist":
		return strings.ToLower(name)
	}
	return name
}

// Debian releases by code name (distro-info-data).
var debianReleases = map[string]string{
	"buzz": "1.1", "rex": "1.2", "bo": "1.3", "hamm": "2.0", "slink": "2.1",
	"potato": "2.2", "woody": "3.0", "sarge": "3.1", "etch": "4", "lenny": "5",
	"squeeze": "6", "wheezy": "7", "jessie": "8", "stretch": "9", "buster": "10",
	"bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14", "duke": "15",
}

// Ubuntu releases by code name (wiki.ubuntu.com/Releases).
var ubuntuReleases = map[string]string{
	"warty": "4.10", "hoary": "5.04", "breezy": "5.10", "dapper": "6.06", "edgy": "6.10",
	"feisty": "7.04", "gutsy": "7.10", "hardy": "8.04", "intrepid": "8.10", "jaunty": "9.04",
	"karmic": "9.10", "lucid": "10.04", "maverick": "10.10", "natty": "11.04", "oneiric": "11.10",
	"precise": "12.04", "quantal": "12.10", "raring": "13.04", "saucy": "13.10", "trusty": "14.04",
	"utopic": "14.10", "vivid": "15.04", "wily": "15.10", "xenial": "16.04", "yakkety": "16.10",
	"zesty": "17.04", "artful": "17.10", "bionic": "18.04", "cosmic": "18.10", "disco": "19.04",
	"eoan": "19.10", "focal": "20.04", "groovy": "20.10", "hirsute": "21.04", "impish": "21.10",
	"jammy": "22.04", "kinetic": "22.10", "lunar": "23.04", "mantic": "23.10", "noble": "24.04",
	"oracular": "24.10", "plucky": "25.04", "questing": "25.10",
}

// distroParts splits a distro qualifier ("debian-12", "ubuntu-22.04", "bookworm",
// "alpine-3.19.1", "3.19.1", "almalinux-9.3") into an optional ID and a release.
func distroParts(distro string) (id, release string) {
	distro = strings.ToLower(strings.TrimSpace(distro))
	if i := strings.LastIndexByte(distro, '-'); i > 0 {
		return distro[:i], distro[i+1:]
	}
	return "", distro
}

func debEcosystems(namespace, distro string) ([]string, error) {
	id, rel := distroParts(distro)
	if id == "" {
		id = strings.ToLower(namespace)
	}
	switch id {
	case "debian":
		if r, ok := debianReleases[rel]; ok {
			rel = r
		}
		major, _, _ := strings.Cut(rel, ".")
		if !isDigits(major) {
			return nil, fmt.Errorf("%w: Debian release %q", ErrNoDistro, distro)
		}
		// Point releases (12.5) are advised under the major release; before
		// etch (4.0) the releases were x.y.
		if n, _ := strconv.Atoi(major); n < 4 {
			return []string{"Debian:" + rel}, nil
		}
		return []string{"Debian:" + major}, nil
	case "ubuntu":
		if r, ok := ubuntuReleases[rel]; ok {
			rel = r
		}
		y, mo, ok := strings.Cut(rel, ".")
		if !ok || !isDigits(y) || len(mo) != 2 || !isDigits(mo) {
			return nil, fmt.Errorf("%w: Ubuntu release %q", ErrNoDistro, distro)
		}
		rel = y + "." + mo
		if yy, _ := strconv.Atoi(y); mo == "04" && yy%2 == 0 || rel == "6.06" {
			return []string{"Ubuntu:" + rel + ":LTS", "Ubuntu:" + rel}, nil
		}
		return []string{"Ubuntu:" + rel}, nil
	}
	return nil, fmt.Errorf("%w: deb distro %q (namespace %q)", ErrNoDistro, distro, namespace)
}

func alpineEcosystem(namespace, distro string) (string, error) {
	id, rel := distroParts(distro)
	if id == "" {
		id = strings.ToLower(namespace)
	}
	if id != "alpine" {
		return "", fmt.Errorf("%w: apk distro %q (namespace %q)", ErrNoDistro, distro, namespace)
	}
	rel = strings.TrimPrefix(rel, "v")
	parts := strings.SplitN(rel, ".", 3)
	if len(parts) < 2 || !isDigits(parts[0]) {
		return "", fmt.Errorf("%w: Alpine release %q", ErrNoDistro, distro)
	}
	minor := parts[1]
	// "3.21_alpha20240807": the branch is 3.21.
	for i, c := range minor {
		if c < '0' || c > '9' {
			minor = minor[:i]
			break
		}
	}
	if minor == "" {
		return "", fmt.Errorf("%w: Alpine release %q", ErrNoDistro, distro)
	}
	return "Alpine:v" + parts[0] + "." + minor, nil
}

func rpmEcosystems(namespace, distro string) ([]string, error) {
	id, rel := distroParts(distro)
	if id == "" {
		id = strings.ToLower(namespace)
	}
	major, _, _ := strings.Cut(rel, ".")
	if !isDigits(major) {
		return nil, fmt.Errorf("%w: rpm distro %q (namespace %q)", ErrNoDistro, distro, namespace)
	}
	switch id {
	case "almalinux":
		return []string{"AlmaLinux:" + major}, nil
	case "rocky":
		return []string{"Rocky Linux:" + major}, nil
	case "rhel", "redhat":
		// Red Hat advises per product stream; RHEL packages come from BaseOS or
		// AppStream.
		return []string{
			"Red Hat:enterprise_linux:" + major + "::baseos",
			"Red Hat:enterprise_linux:" + major + "::appstream",
		}, nil
	}
	return nil, fmt.Errorf("%w: rpm distro %q (namespace %q)", ErrNoDistro, distro, namespace)
}

// isOS reports whether an ecosystem is an OS distribution's.
func isOS(eco string) bool {
	base, _ := osv.Ecosystem(eco)
	switch base {
	case "Debian", "Ubuntu", "Alpine", "AlmaLinux", "Rocky Linux", "Red Hat", "SUSE", "openSUSE",
		"Mageia", "openEuler", "Wolfi", "Chainguard", "Photon OS", "Alpaquita", "MinimOS":
		return true
	}
	return false
}

var goRelease = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?(?:(alpha|beta|rc)(\d+))?$`)

// goToolchainVersion turns a Go toolchain version ("go1.22.3", "1.21rc2",
// "go1.20", "go1.22.1 X:boringcrypto") into the semver the Go vulnerability
// database uses ("1.22.3", "1.21.0-rc.2", "1.20.0").
func goToolchainVersion(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimPrefix(strings.TrimPrefix(v, "go"), "v")
	if semverRE.MatchString(v) && strings.Count(strings.SplitN(v, "-", 2)[0], ".") == 2 {
		return v, true
	}
	m := goRelease.FindStringSubmatch(v)
	if m == nil {
		return "", false
	}
	patch := m[3]
	if patch == "" {
		patch = "0"
	}
	out := m[1] + "." + m[2] + "." + patch
	if m[4] != "" {
		out += "-" + m[4] + "." + m[5]
	}
	return out, true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
