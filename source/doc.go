// Package source indexes git repositories: commits, files, Dockerfiles and
// CODEOWNERS, as graph facts.
package source
