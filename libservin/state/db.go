package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/servin/servin/libservin/errdefs"
)

// busyTimeout is how long SQLite itself waits for a lock before giving up
// with SQLITE_BUSY. It is long on purpose: with many parallel CLI
// invocations waiting is normal, failing is not.
const busyTimeout = 30 * time.Second

// maxConns bounds the connections of one process. A CLI invocation needs
// one; a few more let a caller iterate over results while writing.
const maxConns = 4

// DB is an open servin state database. It is safe for concurrent use by
// multiple goroutines, and many processes may open the same file at once.
type DB struct {
	db   *sql.DB
	path string
}

// Open opens the database at path, creating it (and its directory, 0700)
// if needed, and brings its schema up to date. It fails with
// errdefs.ErrFailedPrecondition if the database was written by a newer
// servin.
func Open(path string) (*DB, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		// go-sqlite3 treats everything after '?' as DSN options.
		return nil, fmt.Errorf("state database path %q: %w", path, errdefs.ErrInvalidArgument)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("state database: %w", err)
	}
	// These options are applied to every connection the pool opens; none of
	// them touches the file, so opening a connection can never hit a lock.
	// journal_mode is persistent in the file and set once, at creation,
	// by migrate (with retries), not here.
	dsn := fmt.Sprintf("%s?_busy_timeout=%d&_synchronous=NORMAL&_txlock=immediate&_foreign_keys=1",
		path, busyTimeout.Milliseconds())
	sqldb, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening state database %s: %w", path, err)
	}
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	d := &DB{db: sqldb, path: path}
	if err := d.ensureSchema(context.Background()); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("state database %s: %w", path, err)
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Path returns the file the database was opened from.
func (d *DB) Path() string { return d.path }

// isBusy reports whether err is SQLite's "database is locked" family.
func isBusy(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	return false
}

// retryBusy runs fn until it succeeds, fails with something other than
// SQLITE_BUSY, or busyTimeout has passed. SQLite's busy handler covers
// almost every wait, but a few paths (switching a brand new file to WAL
// while another process does the same, WAL recovery) can report
// SQLITE_BUSY immediately; retrying whole operations covers those.
func retryBusy(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		err := fn()
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		// Jitter so that processes that collided do not collide again.
		t := time.NewTimer(time.Duration(2+rand.IntN(18)) * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// withTx runs fn in a write transaction. Transactions start with BEGIN
// IMMEDIATE (the _txlock DSN option): the write lock is taken, or waited
// for, up front, so a transaction never fails with SQLITE_BUSY when it
// upgrades from reading to writing. fn may be run more than once.
//
// Writers from all processes first queue on a file lock beside the
// database. SQLite's own busy handler waits by sleeping with back-off (up
// to 100 ms a try), which under many parallel servin processes leaves the
// database idle most of the time; a blocking flock hands the lock over the
// moment it is released.
func (d *DB) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	unlock, err := d.writeLock()
	if err != nil {
		return err
	}
	defer unlock()
	return retryBusy(ctx, func() error {
		tx, err := d.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	})
}

// writeLock takes the cross-process writer lock (path + ".lock").
func (d *DB) writeLock() (func(), error) {
	f, err := os.OpenFile(d.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state database lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("state database lock: %w", err)
	}
	return func() { f.Close() }, nil
}

// driverName is go-sqlite3 with a connect hook that keeps the WAL and its
// index when the last connection closes, and maps the database file. servin opens and closes the
// database once per CLI invocation: deleting and recreating the WAL files
// every time costs more than the rest of a typical command's queries.
const driverName = "sqlite3_servin"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			const sqliteFcntlPersistWAL = 10
			if err := c.SetFileControlInt("main", sqliteFcntlPersistWAL, 1); err != nil {
				return err
			}
			// Pages are read through a memory map rather than one pread
			// each: a command reads many, and system calls are the
			// expensive part of reading the page cache.
			_, err := c.Exec("PRAGMA mmap_size = 268435456", nil)
			return err
		},
	})
}
