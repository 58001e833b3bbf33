// Package vulndb is tether's local advisory database: OSV records, the CISA KEV
// catalog and FIRST EPSS scores in one SQLite file that Update downloads and
// Import builds from local files, swapped in whole so readers never see half of
// an update.
package vulndb
