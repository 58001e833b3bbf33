package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PutDocument implements Store.
func (s *sqlStore) PutDocument(ctx context.Context, kind, key string, value []byte) error {
	if kind == "" || key == "" {
		return errors.New("store: a document needs a kind and a key")
	}
	if value == nil {
		value = []byte{}
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO documents (kind, key, value, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
		kind, key, value, time.Now().UTC().UnixMicro())
	if err != nil {
		return s.wrap(ctx, "write document", err)
	}
	return nil
}

// Document implements Store.
func (s *sqlStore) Document(ctx context.Context, kind, key string) ([]byte, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM documents WHERE kind = ? AND key = ?`), kind, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: document %s %s", ErrNotFound, kind, key)
	}
	if err != nil {
		return nil, s.wrap(ctx, "read document", err)
	}
	return v, nil
}
