-- Documents: opaque values kept by kind and key (SBOMs by image digest, per-layer
-- catalog results by layer chain). Times are unix microseconds, UTC.
CREATE TABLE documents (
	kind       text COLLATE "C" NOT NULL,
	key        text COLLATE "C" NOT NULL,
	value      bytea  NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (kind, key)
);
