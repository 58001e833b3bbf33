// Package graph defines tether's node and edge kinds, their stable IDs and the
// evidence every edge carries. It does no I/O and imports no other tether package.
package graph
