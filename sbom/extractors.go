package sbom

import (
	"fmt"

	cpb "github.com/google/osv-scalibr/binary/proto/config_go_proto"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/language/dotnet/depsjson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/dotnet/packagesconfig"
	"github.com/google/osv-scalibr/extractor/filesystem/language/dotnet/packageslockjson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/golang/gobinary"
	"github.com/google/osv-scalibr/extractor/filesystem/language/golang/gomod"
	javaarchive "github.com/google/osv-scalibr/extractor/filesystem/language/java/archive"
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/gradlelockfile"
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/pomxml"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagejson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagelockjson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/pnpmlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/yarnlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/php/composerlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/pipfilelock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/poetrylock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/requirements"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/uvlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/wheelegg"
	"github.com/google/osv-scalibr/extractor/filesystem/language/ruby/gemfilelock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/ruby/gemspec"
	"github.com/google/osv-scalibr/extractor/filesystem/language/rust/cargoauditable"
	"github.com/google/osv-scalibr/extractor/filesystem/language/rust/cargolock"
	"github.com/google/osv-scalibr/extractor/filesystem/os/apk"
	"github.com/google/osv-scalibr/extractor/filesystem/os/dpkg"
	"github.com/google/osv-scalibr/extractor/filesystem/os/rpm"
	"github.com/google/osv-scalibr/plugin"
)

// extractorFactory builds one osv-scalibr filesystem extractor from its config.
type extractorFactory func(cfg *cpb.PluginConfig) (filesystem.Extractor, error)

// extractorFactories is the one list of osv-scalibr extractors tether runs, in a
// fixed order. Every entry is offline, reads files only and yields packages.
//
// Left out on purpose: extractors that need the network (the transitive-dependency
// enrichers that resolve pom.xml and requirements.txt against a registry), ones that
// are not package catalogs (secrets, container image references, git repos, VM disk
// images, SBOM files — `tether ingest sbom` reads those), and ecosystems outside the
// issue's list (Dart, Elixir, Haskell, Swift, …), which can be added here later.
//
// Gaps in osv-scalibr v0.5.3 against the issue: no extractor for yarn/pnpm
// node_modules metadata beyond package.json; Gradle build scripts without a
// lockfile are not read; .NET assemblies are read only on Windows (dotnetpe), so
// it is not listed. None of these extractors reports dependency edges: in v0.5.3
// only the network-backed enrichers fill extractor.Package.ParentIDs.
var extractorFactories = []extractorFactory{
	// OS packages. rpm reads BerkeleyDB, NDB and SQLite databases in pure Go.
	dpkg.New,
	apk.New,
	rpm.New,
	// Go: go.mod and binaries (buildinfo).
	gomod.New,
	gobinary.New,
	// JavaScript: lockfiles and installed package.json under node_modules.
	packagelockjson.New,
	yarnlock.New,
	pnpmlock.New,
	packagejson.New,
	// Python: lockfiles, requirements and installed dist-info/egg-info.
	requirements.New,
	poetrylock.New,
	pipfilelock.New,
	uvlock.New,
	wheelegg.New,
	// Java: pom.xml (declared versions only, offline), Gradle lockfiles, jar/war/ear
	// including nested archives and pom.properties.
	pomxml.New,
	gradlelockfile.New,
	javaarchive.New,
	// Rust: Cargo.lock and cargo-auditable binaries.
	cargolock.New,
	cargoauditable.New,
	// Ruby.
	gemfilelock.New,
	gemspec.New,
	// PHP.
	composerlock.New,
	// .NET.
	packageslockjson.New,
	depsjson.New,
	packagesconfig.New,
}

// capabilities describes where tether runs extractors: offline, over a directory or
// an image's file system, never the running host's package state.
var capabilities = &plugin.Capabilities{
	OS:            plugin.OSLinux,
	Network:       plugin.NetworkOffline,
	DirectFS:      true,
	RunningSystem: false,
}

// newExtractors builds the extractor list with a file size limit (0: none).
func newExtractors(maxFileSize int64) ([]filesystem.Extractor, error) {
	cfg := &cpb.PluginConfig{MaxFileSizeBytes: maxFileSize}
	out := make([]filesystem.Extractor, 0, len(extractorFactories))
	for _, f := range extractorFactories {
		e, err := f(cfg)
		if err != nil {
			return nil, fmt.Errorf("sbom: set up extractor: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// ExtractorNames returns the names of the osv-scalibr extractors a catalog runs, in
// order.
func ExtractorNames() []string {
	ps, err := newExtractors(0)
	if err != nil {
		return nil
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name()
	}
	return names
}
