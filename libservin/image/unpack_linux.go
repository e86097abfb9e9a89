package image

import (
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
		errc <- func() error {
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
		}()
	}()
	return <-errc
}
