//go:build linux && cgo && seccomp

// Package scmpcache caches compiled seccomp filters across container
// starts. Linked into a binary, it interposes the libseccomp functions
// libcontainer uses to build and export a filter (see scmpcache.c); the
// cache stays off until Enable is called, so importing the package alone
// changes nothing.
//
// servin-runtime enables it in the container's init process, before
// libcontainer pivots into the container's root, with a directory under
// servin's run root. A hit replaces compiling docker's default profile
// (30-40 ms of CPU) with reading a few kilobytes.
package scmpcache

/*
#cgo pkg-config: libseccomp
void scmpcache_enable(int dirfd);
*/
import "C"

import (
	"os"

	"golang.org/x/sys/unix"
)

// Enable turns the cache on for this process with dir, which must exist
// and belong to root with no access for others (it is never created
// here: the init process must not create paths). The directory stays
// open, close-on-exec, for the life of the process, so the cache works
// after the process changed its root.
func Enable(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Uid != 0 || st.Mode&0o077 != 0 {
		unix.Close(fd)
		return &os.PathError{Op: "use", Path: dir, Err: os.ErrPermission}
	}
	C.scmpcache_enable(C.int(fd))
	return nil
}

// Supported reports whether this build has the cache.
const Supported = true

// disable turns the cache off again (tests).
func disable() { C.scmpcache_enable(-1) }
