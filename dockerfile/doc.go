// Package dockerfile parses Dockerfiles into stages and instructions with line ranges.
package dockerfile
