// Package lockdeps reads the dependency graph a lockfile records: which pinned
// package depends on which, and which ones the project itself depends on.
//
// osv-scalibr catalogs the packages in these files; lockdeps adds the edges
// between them, named by Key so that the caller can join them to its catalog.
// Parse picks the format by the file's base name:
//
//   - package-lock.json, npm-shrinkwrap.json, node_modules/.package-lock.json:
//     lockfileVersion 1 (the nested "dependencies" tree with "requires") and 2–3
//     (the "packages" map by node_modules folder). Each dependency name is
//     resolved as Node's require resolves it: the nearest node_modules upward.
//     Links to workspace members are followed. Roots: the dependencies of the
//     root package ("") and of the workspace members.
//   - yarn.lock: classic v1 syntax (descriptor lists, "dependencies" blocks) and
//     berry (v2 and later, YAML with __metadata), through the descriptors the
//     lockfile lists. Roots (berry only): the dependencies of the workspaces.
//   - pnpm-lock.yaml: lockfileVersion 5.x ("/name/1.0.0_peer" keys), 6.x
//     ("/name@1.0.0(peer@2.0.0)") and 9.x (snapshots "name@1.0.0(peer@2.0.0)"),
//     every YAML document of the file. Roots: the importers' dependencies.
//   - Cargo.lock: versions 1 to 4, dependencies written "name", "name version" or
//     "name version (source)". Roots: the dependencies of the packages without
//     a source (workspace members and path dependencies).
//   - poetry.lock: [package.dependencies], names matched per PEP 503; when the lock
//     pins several versions of a name, the ones the constraint admits. No roots:
//     they live in pyproject.toml.
//   - uv.lock: dependencies, optional-dependencies and dev-dependencies (Dev).
//     Roots: the dependencies of the project (the package at ".") and the
//     workspace members.
//   - composer.lock: "require" of packages and packages-dev, platform requirements
//     (php, ext-*, …) skipped, replace and provide honoured. No roots: they live in
//     composer.json.
//   - Gemfile.lock, gems.locked: the specs of the GEM, GIT, PATH and PLUGIN SOURCE
//     sections. Roots: the DEPENDENCIES section.
//
// An edge only ever points at a package the lockfile pins; a dependency it does
// not resolve (another platform's optional package, a peer nobody installed, a
// name pinned at several versions with nothing to choose between them) has none.
// Output is sorted. Parse does no I/O, bounds its work by the content's size and
// MaxEdges, and reports a malformed file with an error wrapping ErrMalformed (or
// ErrTooLarge) that names it.
//
// What the formats do not say is not guessed: yarn.lock v1, package-lock.json v1,
// poetry.lock and composer.lock have no roots; yarn.lock does not say which
// package provides a peer dependency, so berry peers have no edge; only npm
// workspace members and uv dependency groups mark a dependency as development-only
// (Edge.Dev), the root project's development dependencies are roots like the others.
package lockdeps
