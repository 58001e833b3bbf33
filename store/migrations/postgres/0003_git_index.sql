-- Blob index of git repositories, for matching an image's files to the commits
-- whose trees hold them. Per repository (by the URL the repo scan uses): every
-- indexed commit with its first parent, and the files each commit changed against
-- that parent (every file for a root commit); blob is the git blob SHA-1 in hex,
-- '' for a deletion. Times are unix microseconds, UTC.
CREATE TABLE git_commits (
	repo         text COLLATE "C" NOT NULL,
	hash         text COLLATE "C" NOT NULL,
	first_parent text COLLATE "C" NOT NULL,
	committed_at bigint NOT NULL,
	PRIMARY KEY (repo, hash)
);

CREATE TABLE git_changes (
	repo        text COLLATE "C" NOT NULL,
	commit_hash text COLLATE "C" NOT NULL,
	path        text COLLATE "C" NOT NULL,
	blob        text COLLATE "C" NOT NULL,
	PRIMARY KEY (repo, path, commit_hash)
);

CREATE INDEX git_changes_blob ON git_changes (blob);
