// Package report renders tether's answers as tables and JSON for people and tools.
package report
