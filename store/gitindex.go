package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tether-sec/tether/graph"
)

// BlobPath says that a repository held a blob at a path in some indexed commit.
type BlobPath struct {
	Repo, Path, Blob string
}

// graph.GitCommits implements Store.
func (s *sqlStore) GitCommits(ctx context.Context, repo string) ([]graph.GitCommit, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT hash, first_parent, committed_at FROM git_commits WHERE repo = ? ORDER BY committed_at, hash`), repo)
	if err != nil {
		return nil, s.wrap(ctx, "read the blob index", err)
	}
	defer rows.Close()
	var out []graph.GitCommit
	for rows.Next() {
		var c graph.GitCommit
		var at int64
		if err := rows.Scan(&c.Hash, &c.FirstParent, &at); err != nil {
			return nil, s.wrap(ctx, "read the blob index", err)
		}
		c.Committed = time.UnixMicro(at).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, "read the blob index", err)
	}
	return out, nil
}

// PutGitIndex implements Store.
func (s *sqlStore) PutGitIndex(ctx context.Context, repo string, commits []graph.GitCommit, changes []graph.GitChange) error {
	if repo == "" {
		return errors.New("store: a blob index needs a repository")
	}
	if len(commits) == 0 {
		return nil
	}
	in := make(map[string]bool, len(commits))
	for _, c := range commits {
		in[c.Hash] = true
	}
	for _, ch := range changes {
		if !in[ch.Commit] {
			return fmt.Errorf("store: blob index change of %s at %s names a commit not in the batch", ch.Commit, ch.Path)
		}
	}
	select {
	case s.writeSem <- struct{}{}:
		defer func() { <-s.writeSem }()
	case <-ctx.Done():
		return fmt.Errorf("store: blob index: %w", ctx.Err())
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.wrap(ctx, "blob index", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(ctx, "blob index: begin", err)
	}
	defer tx.Rollback()
	if s.d.lock != "" {
		if _, err := tx.ExecContext(ctx, s.d.lock); err != nil {
			return s.wrap(ctx, "blob index: lock", err)
		}
	}
	// Commits another process indexed meanwhile are left out, with their changes.
	done, err := s.indexedAmong(ctx, tx, repo, commits)
	if err != nil {
		return s.wrap(ctx, "blob index", err)
	}
	if len(done) > 0 {
		commits = filterCommits(commits, done)
		kept := changes[:0:0]
		for _, ch := range changes {
			if !done[ch.Commit] {
				kept = append(kept, ch)
			}
		}
		changes = kept
	}
	err = s.d.bulk(ctx, conn, tx, "git_commits", []string{"repo", "hash", "first_parent", "committed_at"}, len(commits), func(i int, dst []any) []any {
		c := &commits[i]
		return append(dst, repo, c.Hash, c.FirstParent, c.Committed.UTC().UnixMicro())
	})
	if err != nil {
		return s.wrap(ctx, "blob index: commits", err)
	}
	err = s.d.bulk(ctx, conn, tx, "git_changes", []string{"repo", "commit_hash", "path", "blob"}, len(changes), func(i int, dst []any) []any {
		c := &changes[i]
		return append(dst, repo, c.Commit, c.Path, c.Blob)
	})
	if err != nil {
		return s.wrap(ctx, "blob index: changes", err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(ctx, "blob index: commit", err)
	}
	return nil
}

func filterCommits(commits []graph.GitCommit, done map[string]bool) []graph.GitCommit {
	out := commits[:0:0]
	for _, c := range commits {
		if !done[c.Hash] {
			out = append(out, c)
		}
	}
	return out
}

// indexedAmong returns which of commits repo's index already holds.
func (s *sqlStore) indexedAmong(ctx context.Context, tx *sql.Tx, repo string, commits []graph.GitCommit) (map[string]bool, error) {
	done := map[string]bool{}
	const chunk = 500
	for start := 0; start < len(commits); start += chunk {
		part := commits[start:min(start+chunk, len(commits))]
		args := []any{repo}
		for _, c := range part {
			args = append(args, c.Hash)
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT hash FROM git_commits WHERE repo = ? AND hash IN (?`+strings.Repeat(", ?", len(part)-1)+`)`), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return nil, err
			}
			done[h] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return done, nil
}

// BlobPaths implements Store.
func (s *sqlStore) BlobPaths(ctx context.Context, blobs []string) ([]BlobPath, error) {
	var out []BlobPath
	const chunk = 500
	for start := 0; start < len(blobs); start += chunk {
		part := blobs[start:min(start+chunk, len(blobs))]
		args := make([]any, len(part))
		for i, b := range part {
			args[i] = b
		}
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT DISTINCT repo, path, blob FROM git_changes WHERE blob IN (?`+strings.Repeat(", ?", len(part)-1)+`)`), args...)
		if err != nil {
			return nil, s.wrap(ctx, "look up blobs", err)
		}
		for rows.Next() {
			var bp BlobPath
			if err := rows.Scan(&bp.Repo, &bp.Path, &bp.Blob); err != nil {
				rows.Close()
				return nil, s.wrap(ctx, "look up blobs", err)
			}
			out = append(out, bp)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, s.wrap(ctx, "look up blobs", err)
		}
	}
	return out, nil
}

// graph.GitChanges implements Store.
func (s *sqlStore) GitChanges(ctx context.Context, repo string, paths []string) ([]graph.GitChange, error) {
	var out []graph.GitChange
	const chunk = 500
	for start := 0; start < len(paths); start += chunk {
		part := paths[start:min(start+chunk, len(paths))]
		args := []any{repo}
		for _, p := range part {
			args = append(args, p)
		}
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT commit_hash, path, blob FROM git_changes WHERE repo = ? AND path IN (?`+strings.Repeat(", ?", len(part)-1)+`)`), args...)
		if err != nil {
			return nil, s.wrap(ctx, "read the blob index", err)
		}
		for rows.Next() {
			var c graph.GitChange
			if err := rows.Scan(&c.Commit, &c.Path, &c.Blob); err != nil {
				rows.Close()
				return nil, s.wrap(ctx, "read the blob index", err)
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, s.wrap(ctx, "read the blob index", err)
		}
	}
	return out, nil
}
