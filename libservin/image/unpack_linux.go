package image

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/unshare"
	"golang.org/x/sys/unix"
)

// unpackConfined unpacks an uncompressed layer tar into dest with
// storage's own unpacker (archive.Unpack), confined by a chroot to dest as
// storage's re-executed untar helper confines it, but without a process:
// the work runs on an OS thread of its own that first leaves the process's
// shared filesystem context (unshare CLONE_FS), so the chroot applies to
// that thread alone. The thread is never handed back to the Go scheduler
// (LockOSThread without unlock): it exits with the goroutine. Nothing in
// the layer can resolve outside dest, "../" and absolute symlinks
// included, exactly as in the helper's chroot.
//
// The thread is never the main one: /proc/self (mountinfo, used to find
// mounts) shows the process as its main thread sees it, and a goroutine
// that exits locked to the main thread parks it for good instead of
// ending it.
func unpackConfined(r io.Reader, dest string, options *archive.TarOptions) error {
	if options == nil {
		options = &archive.TarOptions{}
	}
	// Reads /proc and caches the answer: done before any chroot, as the
	// helper does.
	_ = unshare.IsRootless()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() != unix.Getpid() {
			errc <- unpackInChroot(r, dest, options)
			return // exits the thread
		}
		// The main thread: keep it (locked to us, so the worker cannot
		// be scheduled on it) while another thread does the work.
		inner := make(chan error, 1)
		go func() {
			runtime.LockOSThread()
			inner <- unpackInChroot(r, dest, options)
		}()
		err := <-inner
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// unpackInChroot runs on a locked thread that is not the main one.
func unpackInChroot(r io.Reader, dest string, options *archive.TarOptions) error {
	if unix.Gettid() == unix.Getpid() {
		return errors.New("internal error: confined unpacking on the main thread")
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return os.NewSyscallError("unshare CLONE_FS", err)
	}
	if err := unix.Chroot(dest); err != nil {
		return fmt.Errorf("chroot %q: %w", dest, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("changing to new root after chroot: %w", err)
	}
	if err := archive.Unpack(r, "/", options); err != nil {
		return err
	}
	// Trailing zero padding belongs to the stream.
	_, err := io.Copy(io.Discard, r)
	return err
}
