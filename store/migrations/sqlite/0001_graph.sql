-- Nodes, edges and scans. Times are unix microseconds, UTC.
CREATE TABLE nodes (
	id          TEXT    NOT NULL PRIMARY KEY,
	kind        TEXT    NOT NULL,
	name        TEXT    NOT NULL DEFAULT '',
	attrs       TEXT,
	stub        INTEGER NOT NULL DEFAULT 0 CHECK (stub IN (0, 1)),
	observed_at INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX nodes_kind ON nodes (kind, id);
CREATE INDEX nodes_name ON nodes (name);

CREATE TABLE edges (
	from_id     TEXT    NOT NULL REFERENCES nodes (id),
	kind        TEXT    NOT NULL,
	to_id       TEXT    NOT NULL REFERENCES nodes (id),
	method      TEXT    NOT NULL,
	confidence  REAL    NOT NULL,
	evidence    TEXT,
	attrs       TEXT,
	observed_at INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	PRIMARY KEY (from_id, kind, to_id, method)
) WITHOUT ROWID;

CREATE INDEX edges_to ON edges (to_id);

CREATE TABLE scans (
	id          INTEGER PRIMARY KEY,
	source      TEXT    NOT NULL,
	target      TEXT    NOT NULL,
	observed_at INTEGER NOT NULL,
	ingested_at INTEGER NOT NULL,
	nodes       INTEGER NOT NULL,
	edges       INTEGER NOT NULL
);
