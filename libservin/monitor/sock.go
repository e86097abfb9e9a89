package monitor

import (
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Unix sockets are handled with raw syscalls and os.File rather than the
// net package: it keeps the monitor binary (and its RSS) small, and
// os.File on a non-blocking fd still uses the runtime poller.

// maxSunPath is the usable length of sockaddr_un.sun_path.
const maxSunPath = 107

// withSockPath calls fn with a name for path that fits in sun_path. Long
// paths are reached through /proc/self/fd/N of an O_PATH fd of the parent
// directory, which Linux resolves like any other path.
func withSockPath(path string, fn func(name string) error) error {
	if len(path) <= maxSunPath {
		return fn(path)
	}
	dfd, err := unix.Open(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: filepath.Dir(path), Err: err}
	}
	defer unix.Close(dfd)
	return fn("/proc/self/fd/" + strconv.Itoa(dfd) + "/" + filepath.Base(path))
}

// listenUnix creates a listening unix stream socket at path (mode 0600),
// replacing a stale socket file. The returned file is non-blocking.
func listenUnix(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	os.Remove(path)
	err = withSockPath(path, func(name string) error {
		return unix.Bind(fd, &unix.SockaddrUnix{Name: name})
	})
	if err == nil {
		err = os.Chmod(path, 0o600)
	}
	if err == nil {
		err = unix.Listen(fd, 32)
	}
	if err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "listen", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// dialUnix connects to the unix stream socket at path. The returned file
// is non-blocking so that Close unblocks a pending Read.
func dialUnix(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	err = withSockPath(path, func(name string) error {
		for {
			err := unix.Connect(fd, &unix.SockaddrUnix{Name: name})
			if err != unix.EINTR {
				return err
			}
		}
	})
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "dial", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// acceptUnix waits for and accepts one connection on a listener made by
// listenUnix. The connection is non-blocking (pollable).
func acceptUnix(l *os.File) (*os.File, error) {
	rc, err := l.SyscallConn()
	if err != nil {
		return nil, err
	}
	var nfd int
	var aerr error
	err = rc.Read(func(fd uintptr) bool {
		// Raw accept4 without an address: unix.Accept4 would allocate a
		// sockaddr per connection for nothing.
		r, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, fd, 0, 0, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		nfd, aerr = int(r), nil
		if errno != 0 {
			aerr = errno
		}
		return aerr != unix.EAGAIN
	})
	if err != nil {
		return nil, err
	}
	if aerr != nil {
		return nil, os.NewSyscallError("accept4", aerr)
	}
	return os.NewFile(uintptr(nfd), "attach"), nil
}
