package state

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/servin/servin/libservin/errdefs"
)

// migrations holds the schema history: migrations[i] takes a database from
// version i to version i+1 (PRAGMA user_version). Never edit a step that
// has shipped; append a new one.
var migrations = []string{
	// 1: initial schema.
	`CREATE TABLE containers (
		id         TEXT PRIMARY KEY NOT NULL,
		name       TEXT NOT NULL UNIQUE,
		image_id   TEXT NOT NULL DEFAULT '',
		image_name TEXT NOT NULL DEFAULT '',
		created    INTEGER NOT NULL,
		config     TEXT NOT NULL DEFAULT '{}',
		status     TEXT NOT NULL DEFAULT '',
		state      TEXT NOT NULL DEFAULT '{}'
	);
	CREATE INDEX containers_image_id ON containers(image_id);
	CREATE INDEX containers_created ON containers(created);
	CREATE INDEX containers_status ON containers(status);

	CREATE TABLE events (
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		time       INTEGER NOT NULL,
		type       TEXT NOT NULL,
		action     TEXT NOT NULL,
		actor_id   TEXT NOT NULL DEFAULT '',
		name       TEXT NOT NULL DEFAULT '',
		attributes TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX events_time ON events(time);

	CREATE TABLE meta (
		k TEXT PRIMARY KEY NOT NULL,
		v TEXT NOT NULL
	);`,
	// 2: volumes and the containers that use them.
	`CREATE TABLE volumes (
		name       TEXT PRIMARY KEY NOT NULL,
		driver     TEXT NOT NULL,
		mountpoint TEXT NOT NULL DEFAULT '',
		created    INTEGER NOT NULL,
		anonymous  INTEGER NOT NULL DEFAULT 0,
		labels     TEXT NOT NULL DEFAULT '{}',
		options    TEXT NOT NULL DEFAULT '{}',
		state      TEXT NOT NULL DEFAULT '{}'
	);

	CREATE TABLE volume_users (
		volume    TEXT NOT NULL REFERENCES volumes(name) ON DELETE RESTRICT,
		container TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
		PRIMARY KEY (volume, container)
	);
	CREATE INDEX volume_users_container ON volume_users(container);`,
	// 3: networks and their member containers (networks.go).
	`CREATE TABLE networks (
		name    TEXT PRIMARY KEY NOT NULL,
		id      TEXT NOT NULL UNIQUE,
		created INTEGER NOT NULL,
		config  TEXT NOT NULL DEFAULT '{}'
	);

	CREATE TABLE network_endpoints (
		network   TEXT NOT NULL REFERENCES networks(name) ON DELETE RESTRICT,
		container TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
		config    TEXT NOT NULL DEFAULT '{}',
		state     TEXT,
		PRIMARY KEY (network, container)
	);
	CREATE INDEX network_endpoints_container ON network_endpoints(container);`,
}

// schemaVersion is the version this servin writes.
func schemaVersion() int { return len(migrations) }

// ensureSchema brings the database to schemaVersion. The common case, an
// up-to-date database, costs a single header read.
func (d *DB) ensureSchema(ctx context.Context) error {
	var v int
	err := retryBusy(ctx, func() error {
		return d.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	})
	if err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if err := checkVersion(v); err != nil || v == schemaVersion() {
		return err
	}
	if err := d.setWAL(ctx); err != nil {
		return err
	}
	for v < schemaVersion() {
		if err := d.migrateOne(ctx, &v); err != nil {
			return err
		}
	}
	return nil
}

func checkVersion(v int) error {
	if v > schemaVersion() {
		return fmt.Errorf("schema version %d is newer than this servin supports (%d); "+
			"the database was written by a newer servin, upgrade servin: %w",
			v, schemaVersion(), errdefs.ErrFailedPrecondition)
	}
	return nil
}

// setWAL switches the file to WAL mode. The mode is persistent, so this
// is needed once, when the database is created; several processes doing it
// at once may see SQLITE_BUSY, hence the retry.
func (d *DB) setWAL(ctx context.Context) error {
	var mode string
	err := retryBusy(ctx, func() error {
		return d.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
	})
	if err != nil {
		return fmt.Errorf("enabling WAL: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("enabling WAL: journal mode is %q", mode)
	}
	return nil
}

// migrateOne applies the step after the version found inside the
// transaction and stores the new version in *v. Reading the version inside
// the write transaction makes concurrent openers safe: the loser of the
// race finds the step already applied and skips it.
func (d *DB) migrateOne(ctx context.Context, v *int) error {
	return d.withTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(v); err != nil {
			return fmt.Errorf("reading schema version: %w", err)
		}
		if err := checkVersion(*v); err != nil || *v == schemaVersion() {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[*v]); err != nil {
			return fmt.Errorf("migrating schema to version %d: %w", *v+1, err)
		}
		// user_version lives in the file header, so setting it is part of
		// the transaction: the step and the version commit together.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", *v+1)); err != nil {
			return fmt.Errorf("setting schema version %d: %w", *v+1, err)
		}
		*v++
		return nil
	})
}
