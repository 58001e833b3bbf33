-- Blob index of git repositories, for matching an image's files to the commits
-- whose trees hold them. Per repository (by the URL the repo scan uses): every
-- indexed commit with its first parent, and the files each commit changed against
-- that parent (every file for a root commit); blob is the git blob SHA-1 in hex,
-- '' for a deletion. Times are unix microseconds, UTC.
CREATE TABLE git_commits (
	repo         TEXT    NOT NULL,
	hash         TEXT    NOT NULL,
	first_parent TEXT    NOT NULL,
	committed_at INTEGER NOT NULL,
	PRIMARY KEY (repo, hash)
) WITHOUT ROWID;

CREATE TABLE git_changes (
	repo        TEXT NOT NULL,
	commit_hash TEXT NOT NULL,
	path        TEXT NOT NULL,
	blob        TEXT NOT NULL,
	PRIMARY KEY (repo, path, commit_hash)
) WITHOUT ROWID;

CREATE INDEX git_changes_blob ON git_changes (blob);
