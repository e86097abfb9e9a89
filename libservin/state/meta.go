package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/servin/servin/libservin/errdefs"
)

// GetMeta returns the value stored under key, or errdefs.ErrNotFound.
func (d *DB) GetMeta(ctx context.Context, key string) (string, error) {
	var v string
	err := d.db.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("setting %q: %w", key, errdefs.ErrNotFound)
	}
	return v, err
}

// SetMeta stores value under key, replacing any previous value.
func (d *DB) SetMeta(ctx context.Context, key, value string) error {
	return d.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			"INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", key, value)
		return err
	})
}

// InitMeta stores value under key unless key already has a value, and
// returns the value now stored. It is atomic, so two processes that first
// initialise servin at the same time agree on one value (for example the
// storage driver); the caller compares the result with what it wanted.
func (d *DB) InitMeta(ctx context.Context, key, value string) (string, error) {
	var stored string
	err := d.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO meta (k, v) VALUES (?, ?)", key, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = ?", key).Scan(&stored)
	})
	return stored, err
}
