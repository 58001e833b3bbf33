package vulndb

import (
	"strings"

	"github.com/tether-sec/tether/osv"
)

// knownEcosystems are the ecosystem bases the OSV schema defines
// (ossf/osv-schema, bindings/go/osvconstants). A record naming another base is
// kept, with a warning: its names are compared as written.
var knownEcosystems = []string{
	"AlmaLinux", "Alpaquita", "Alpine", "Android", "Azure Linux",
	"BellSoft Hardened Containers", "Bioconductor", "Bitnami", "Chainguard",
	"CleanStart", "ConanCenter", "CRAN", "crates.io", "Debian",
	"Docker Hardened Images", "Echo", "FreeBSD", "GHC", "GIT", "GitHub Actions",
	"Go", "Hackage", "Hex", "Julia", "Kubernetes", "Linux", "Mageia", "Maven",
	"MinimOS", "npm", "NuGet", "opam", "openEuler", "openSUSE", "OSS-Fuzz",
	"Packagist", "Photon OS", "Pub", "PyPI", "Red Hat", "Rocky Linux", "Root",
	"RubyGems", "SUSE", "SwiftURL", "TuxCare", "Ubuntu", "VSCode", "Wolfi",
}

// defaultEcosystems are the OSV bucket folders Update fetches by default: the
// ecosystems of the packages tether's catalogers find (language lockfiles and
// binaries; dpkg, apk and rpm databases) plus Bitnami images.
var defaultEcosystems = []string{
	"Go", "npm", "PyPI", "Maven", "crates.io", "RubyGems", "Packagist", "NuGet",
	"Debian", "Ubuntu", "Alpine", "Wolfi", "Chainguard",
	"AlmaLinux", "Rocky Linux", "Red Hat", "openSUSE", "SUSE", "Bitnami",
}

// DefaultEcosystems returns the OSV ecosystems Update downloads when
// Options.Ecosystems is empty.
func DefaultEcosystems() []string { return append([]string(nil), defaultEcosystems...) }

var canonicalBase = func() map[string]string {
	m := make(map[string]string, len(knownEcosystems))
	for _, e := range knownEcosystems {
		m[strings.ToLower(e)] = e
	}
	return m
}()

// canonicalEcosystem spells the base of an ecosystem string the way OSV does
// ("pypi" → "PyPI", "debian:12" → "Debian:12") and says whether it is known.
func canonicalEcosystem(eco string) (string, bool) {
	base, suffix := osv.Ecosystem(strings.TrimSpace(eco))
	c, ok := canonicalBase[strings.ToLower(base)]
	if !ok {
		return strings.TrimSpace(eco), false
	}
	if !strings.Contains(eco, ":") {
		return c, true
	}
	return c + ":" + suffix, true
}
