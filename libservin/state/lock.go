package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
)

// LockContainer takes the exclusive per-container lock, an flock on
// lockDir/<id>.lock, waiting as long as needed. The lock is released by
// the returned function or when the process exits, so a crashed servin
// never leaves a container locked.
func LockContainer(lockDir, id string) (unlock func(), err error) {
	return lockContainer(lockDir, id, unix.LOCK_EX)
}

// LockContainerShared takes the per-container lock in shared mode, for
// commands that only read the container.
func LockContainerShared(lockDir, id string) (unlock func(), err error) {
	return lockContainer(lockDir, id, unix.LOCK_SH)
}

// RemoveLock deletes the lock file of a removed container. Call it while
// holding the exclusive lock.
func RemoveLock(lockDir, id string) error {
	p, err := lockPath(lockDir, id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func lockPath(lockDir, id string) (string, error) {
	if id == "" || id == "." || id == ".." || strings.ContainsRune(id, '/') {
		return "", fmt.Errorf("container lock: bad ID %q: %w", id, errdefs.ErrInvalidArgument)
	}
	return filepath.Join(lockDir, id+".lock"), nil
}

func lockContainer(lockDir, id string, how int) (func(), error) {
	p, err := lockPath(lockDir, id)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(lockDir, 0o700); err != nil {
		return nil, fmt.Errorf("container lock: %w", err)
	}
	for {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("container lock: %w", err)
		}
		if err := flock(f, how); err != nil {
			f.Close()
			return nil, fmt.Errorf("container lock %s: %w", p, err)
		}
		// RemoveLock may have unlinked the file while we waited; the lock
		// we hold is then on an orphan inode that newcomers will not see.
		// Only a lock on the file that is at p now excludes them.
		if samePath(f, p) {
			return func() {
				unix.Flock(int(f.Fd()), unix.LOCK_UN)
				f.Close()
			}, nil
		}
		f.Close()
	}
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}

// samePath reports whether the open file f is still the file at p.
func samePath(f *os.File, p string) bool {
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) != nil || unix.Stat(p, &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// LockFile takes an flock on the file at path (made when missing), shared
// or exclusive, and returns the function that releases it.
func LockFile(path string, exclusive bool) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	if err := flock(f, how); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
