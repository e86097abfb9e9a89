package libservin

// --rootfs: a container whose root filesystem is a directory on the host
// instead of an image. With PATH:O the directory is the lower layer of an
// overlay whose upper layer lives in the container's run directory: the
// container's writes are dropped when it stops and PATH stays as it was.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
)

// Rootfs is a --rootfs container's root filesystem.
type Rootfs struct {
	Path    string `json:"path"`
	Overlay bool   `json:"overlay,omitempty"` // PATH:O
}

func parseRootfs(spec string) (*Rootfs, error) {
	rf := &Rootfs{Path: spec}
	if i := strings.LastIndex(spec, ":"); i > 0 {
		switch opt := spec[i+1:]; {
		case opt == "O":
			rf.Path, rf.Overlay = spec[:i], true
		case strings.HasPrefix(opt, "idmap"):
			return nil, errdefs.Worded(errdefs.ErrNotImplemented, "--rootfs %s: idmap is not supported by servin", spec)
		}
	}
	abs, err := filepath.Abs(rf.Path)
	if err != nil {
		return nil, err
	}
	rf.Path = abs
	st, err := os.Stat(abs)
	if err != nil {
		return nil, errdefs.Worded(errdefs.ErrNotFound, "rootfs %s: %v", abs, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return nil, invalidWorded("rootfs %s is not a directory", abs)
	}
	return rf, nil
}

func (r *Runtime) rootfsOverlayDir(c *Container) string {
	return filepath.Join(r.ctrRunDir(c.ID), "rootfs-overlay")
}

// mountRootfs returns the root filesystem of a --rootfs container, the
// overlay mounted first for PATH:O.
func (r *Runtime) mountRootfs(c *Container) (string, error) {
	rf := c.Config.Rootfs
	if !rf.Overlay {
		return rf.Path, nil
	}
	base := r.rootfsOverlayDir(c)
	r.unmountRootfs(c) // what a crashed run left
	upper, work, merged := filepath.Join(base, "upper"), filepath.Join(base, "work"), filepath.Join(base, "merged")
	for _, d := range []string{upper, work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	opts := "lowerdir=" + rf.Path + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return "", fmt.Errorf("overlay on rootfs %s: %w", rf.Path, err)
	}
	return merged, nil
}

// unmountRootfs drops a PATH:O container's overlay and its writes.
func (r *Runtime) unmountRootfs(c *Container) {
	if c.Config.Rootfs == nil || !c.Config.Rootfs.Overlay {
		return
	}
	base := r.rootfsOverlayDir(c)
	merged := filepath.Join(base, "merged")
	if err := unix.Unmount(merged, 0); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		_ = unix.Unmount(merged, unix.MNT_DETACH)
	}
	_ = os.RemoveAll(base)
}
