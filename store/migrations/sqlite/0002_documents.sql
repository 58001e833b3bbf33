-- Documents: opaque values kept by kind and key (SBOMs by image digest, per-layer
-- catalog results by layer chain). Times are unix microseconds, UTC.
CREATE TABLE documents (
	kind       TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	value      BLOB    NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
) WITHOUT ROWID;
