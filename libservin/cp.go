package libservin

// Copying files into and out of containers (cp), running or not, and
// exporting a container's filesystem.
//
// Every path inside a container is resolved inside a root handle with
// filepath-securejoin's pathrs-lite (symlinks, "..", absolute links all stay
// in the container), and the copy itself (internal/fscopy) never follows a
// symlink. Tar streams are packed and unpacked in this process by
// internal/fscopy, every entry name resolved inside the destination. A
// running container is reached through /proc/PID/root, so its volumes,
// tmpfs and bind mounts are where the container sees them and the kernel
// enforces their read-only flags; a stopped one through its mounted root
// filesystem, with paths below its volumes and bind mounts mapped to their
// host directories.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/internal/fscopy"
	"github.com/servin/servin/libservin/oci"
)

// CopyOptions control the copy functions.
type CopyOptions struct {
	// Chown gives what is copied into a container to the container's user
	// (podman's --archive, its default); without it the source's owners
	// are kept. Copies out of a container always keep the owners.
	Chown bool
	// FollowLink copies what a source symlink points to (docker's -L).
	FollowLink bool
}

// containerFS is a container's filesystem opened for a copy.
type containerFS struct {
	id, name  string
	root      string // /proc/PID/root, or the mounted root filesystem
	running   bool
	roRootfs  bool
	mounts    []fsMount // stopped containers: mounts mapped to host paths
	userSpec  string
	pinned    *os.File // running: the container's root, opened under its lock
	unmountFn func()
}

// fsMount is a bind or volume mount of a stopped container.
type fsMount struct {
	dest, source string
	file         string // a bind mount of a single file: its name in source
	sub          string // --mount subpath inside source
	readOnly     bool
}

// openContainerFS makes c's filesystem reachable for a copy. Close it.
func (r *Runtime) openContainerFS(ctx context.Context, nameOrID string) (*containerFS, error) {
	fs := &containerFS{}
	_, err := r.withLock(ctx, nameOrID, func(c *Container) error {
		fs.id, fs.name, fs.userSpec, fs.roRootfs = c.ID, c.Name, c.Config.User, c.Config.ReadOnly
		if c.Running() && c.State.Pid > 0 {
			// Open the root now, under the lock, and use only this handle
			// (as /proc/self/fd/N): the PID cannot be reused by another
			// process while we still work.
			pid := strconv.Itoa(c.State.Pid)
			h, err := openRoot("/proc/" + pid + "/root")
			if err != nil {
				return fmt.Errorf("container %s: %w", c.Name, err)
			}
			if cg, err := os.ReadFile("/proc/" + pid + "/cgroup"); err != nil || !strings.Contains(string(cg), c.ID) {
				h.Close()
				return fmt.Errorf("container %s: process %s is no longer the container's: %w", c.Name, pid, errdefs.ErrFailedPrecondition)
			}
			fs.pinned, fs.running = h, true
			fs.root = "/proc/self/fd/" + strconv.Itoa(int(h.Fd()))
			return nil
		}
		store, err := r.Store()
		if err != nil {
			return err
		}
		rootfs, err := store.Mount(c.ID)
		if err != nil {
			return err
		}
		fs.root = rootfs
		id := c.ID
		fs.unmountFn = func() {
			_, _ = r.withLock(context.Background(), id, func(c *Container) error {
				if !c.Running() {
					return store.Unmount(id, false)
				}
				return nil
			})
		}
		for _, m := range c.Config.Mounts {
			src := m.Source
			switch m.Type {
			case MountTypeBind:
			case MountTypeVolume:
				v, err := r.volumeExact(ctx, m.Source)
				if err != nil {
					continue
				}
				src = v.Mountpoint
			default:
				continue
			}
			// A subpath stays a path inside the volume, resolved with the
			// rest of the copy's path inside the volume's root.
			fm := fsMount{dest: m.Destination, source: src, sub: m.SubPath, readOnly: m.ReadOnly}
			if st, err := os.Stat(src); err == nil && !st.IsDir() {
				// A bound file: its directory is the root, its name the path.
				fm.source, fm.file = filepath.Dir(src), filepath.Base(src)
			}
			fs.mounts = append(fs.mounts, fm)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fs, nil
}

func (fs *containerFS) Close() {
	if fs.pinned != nil {
		fs.pinned.Close()
	}
	if fs.unmountFn != nil {
		fs.unmountFn()
	}
}

// resolve maps a container path to the root that holds it and the path
// inside that root. For a stopped container a path below a volume or bind
// mount lives in the mount's host directory.
func (fs *containerFS) resolve(p string) (root, rel string, readOnly bool) {
	clean := path.Clean("/" + p)
	if fs.running {
		return fs.root, clean, false
	}
	best := -1
	for i, m := range fs.mounts {
		if (clean == m.dest || strings.HasPrefix(clean, m.dest+"/")) && (best < 0 || len(m.dest) > len(fs.mounts[best].dest)) {
			best = i
		}
	}
	if best < 0 {
		return fs.root, clean, fs.roRootfs
	}
	m := fs.mounts[best]
	rest := strings.TrimPrefix(strings.TrimPrefix(clean, m.dest), "/")
	if m.file != "" {
		return m.source, path.Join("/", m.file, rest), m.readOnly
	}
	return m.source, path.Join("/", m.sub, rest), m.readOnly
}

// owner is the container user's uid:gid on the host, for Chown.
func (r *Runtime) owner(fs *containerFS) (*fscopy.Owner, error) {
	u, err := oci.ResolveUser(fs.root, fs.userSpec, nil)
	if err != nil {
		return nil, err
	}
	uid, gid := r.hostIDs(fs.id, u.UID, u.GID)
	return &fscopy.Owner{UID: uid, GID: gid}, nil
}

// pathError classes a failed lookup: a missing path is ErrNotFound.
func pathError(what, p string, err error) error {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%s %q: no such file or directory: %w", what, p, errdefs.ErrNotFound)
	}
	if errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("%s %q: a path component is not a directory: %w", what, p, errdefs.ErrInvalidArgument)
	}
	return fmt.Errorf("%s %q: %w", what, p, err)
}

// contentsOnly reports docker's "SRC/." form: copy what a directory
// contains rather than the directory itself.
func contentsOnly(p string) bool {
	return strings.HasSuffix(p, "/.") || p == "."
}

// openRoot opens a root directory as a handle.
func openRoot(root string) (*os.File, error) {
	return os.OpenFile(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// openSource opens the copy source rel inside root: symlinks on the way
// are resolved inside root, the last one only with follow.
func openSource(root *os.File, rel string, follow bool) (*os.File, error) {
	rel = path.Clean("/" + rel)
	if follow || rel == "/" {
		return pathrs.OpenatInRoot(root, rel)
	}
	parent, err := pathrs.OpenatInRoot(root, path.Dir(rel))
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	fd, err := unix.Openat(int(parent.Fd()), path.Base(rel), unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), rel), nil
}

func isDirHandle(f *os.File) (bool, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(int(f.Fd()), "", &st, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false, err
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}

// copyInto copies the source handle src (named srcPath by the user) to
// dstRel inside dstRoot with docker's rules: into an existing directory
// (its content only for "SRC/."), over an existing file, or as a new entry
// whose parent must exist.
func copyInto(src *os.File, srcPath string, dstRoot *os.File, dstRel, dstPath string, o fscopy.Options) error {
	srcIsDir, err := isDirHandle(src)
	if err != nil {
		return pathError("source", srcPath, err)
	}
	dstRel = path.Clean("/" + dstRel)
	dst, err := pathrs.OpenatInRoot(dstRoot, dstRel)
	switch {
	case err == nil:
		defer dst.Close()
		dstIsDir, err := isDirHandle(dst)
		if err != nil {
			return err
		}
		if dstIsDir {
			dir, err := pathrs.Reopen(dst, unix.O_RDONLY|unix.O_DIRECTORY)
			if err != nil {
				return err
			}
			defer dir.Close()
			if srcIsDir && (contentsOnly(srcPath) || path.Clean(srcPath) == "/") {
				sdir, err := pathrs.Reopen(src, unix.O_RDONLY|unix.O_DIRECTORY)
				if err != nil {
					return err
				}
				defer sdir.Close()
				return fscopy.CopyContents(sdir, dir, o)
			}
			return fscopy.Copy(src, dir, path.Base(path.Clean(srcPath)), o)
		}
		if srcIsDir {
			return fmt.Errorf("cannot copy directory %q onto file %q: %w", srcPath, dstPath, errdefs.ErrInvalidArgument)
		}
	case errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOENT):
		if !srcIsDir && strings.HasSuffix(dstPath, "/") {
			return fmt.Errorf("destination directory %q does not exist: %w", dstPath, errdefs.ErrNotFound)
		}
	default:
		return pathError("destination", dstPath, err)
	}
	if dstRel == "/" {
		return fmt.Errorf("cannot replace the root directory: %w", errdefs.ErrInvalidArgument)
	}
	parent, err := pathrs.OpenatInRoot(dstRoot, path.Dir(dstRel))
	if err != nil {
		return pathError("destination's parent directory", path.Dir(dstPath), err)
	}
	defer parent.Close()
	pdir, err := pathrs.Reopen(parent, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return pathError("destination's parent directory", path.Dir(dstPath), err)
	}
	defer pdir.Close()
	return fscopy.Copy(src, pdir, path.Base(dstRel), o)
}

// CopyToContainer copies the host path src into the container at dst.
func (r *Runtime) CopyToContainer(ctx context.Context, nameOrID, src, dst string, o CopyOptions) error {
	if !filepath.IsAbs(src) {
		abs, err := filepath.Abs(src)
		if err != nil {
			return err
		}
		if contentsOnly(src) {
			abs += "/."
		}
		src = abs
	}
	hostRoot, err := openRoot("/")
	if err != nil {
		return err
	}
	defer hostRoot.Close()
	s, err := openSource(hostRoot, src, o.FollowLink)
	if err != nil {
		return pathError("source", src, err)
	}
	defer s.Close()
	return r.copyIntoContainer(ctx, s, src, nameOrID, dst, o, func(name string, err error) error {
		return fmt.Errorf("copying to container %s: %w", name, err)
	})
}

// copyIntoContainer copies the open source s (named srcPath) to dst in
// container nameOrID: dst resolves inside the container's root and mounts,
// read-only destinations are refused, Chown gives the copy to the
// container's user. wrap words a failure of the copy itself.
func (r *Runtime) copyIntoContainer(ctx context.Context, s *os.File, srcPath, nameOrID, dst string, o CopyOptions, wrap func(name string, err error) error) error {
	fs, err := r.openContainerFS(ctx, nameOrID)
	if err != nil {
		return err
	}
	defer fs.Close()
	root, rel, ro := fs.resolve(dst)
	if ro {
		return fmt.Errorf("cannot copy into %s:%s: it is on a read-only mount or root filesystem: %w", fs.name, dst, errdefs.ErrFailedPrecondition)
	}
	var fo fscopy.Options
	if o.Chown {
		if fo.Owner, err = r.owner(fs); err != nil {
			return err
		}
	}
	rootH, err := openRoot(root)
	if err != nil {
		return err
	}
	defer rootH.Close()
	if err := copyInto(s, srcPath, rootH, rel, dst, fo); err != nil {
		return wrap(fs.name, err)
	}
	return nil
}

// CopyFromContainer copies src from the container to the host path dst.
func (r *Runtime) CopyFromContainer(ctx context.Context, nameOrID, src, dst string, o CopyOptions) error {
	fs, err := r.openContainerFS(ctx, nameOrID)
	if err != nil {
		return err
	}
	defer fs.Close()
	root, rel, _ := fs.resolve(src)
	rootH, err := openRoot(root)
	if err != nil {
		return err
	}
	defer rootH.Close()
	s, err := openSource(rootH, rel, o.FollowLink)
	if err != nil {
		return pathError("source "+fs.name+":", src, err)
	}
	defer s.Close()
	if contentsOnly(src) {
		rel += "/."
	}
	dstAbs, err := filepath.Abs(dst)
	if err != nil {
		return err
	}
	if strings.HasSuffix(dst, "/") {
		dstAbs += "/"
	}
	hostRoot, err := openRoot("/")
	if err != nil {
		return err
	}
	defer hostRoot.Close()
	if err := copyInto(s, rel, hostRoot, dstAbs, dst, fscopy.Options{}); err != nil {
		return fmt.Errorf("copying from container %s: %w", fs.name, err)
	}
	return nil
}

// CopyBetweenContainers copies src of container srcCtr to dst in
// container dstCtr (either running or not; they may be the same), with
// the rules of the host copies: paths resolve inside each container's
// root, Chown gives the copy to the destination container's user.
func (r *Runtime) CopyBetweenContainers(ctx context.Context, srcCtr, src, dstCtr, dst string, o CopyOptions) error {
	sfs, err := r.openContainerFS(ctx, srcCtr)
	if err != nil {
		return err
	}
	defer sfs.Close()
	sroot, srel, _ := sfs.resolve(src)
	srootH, err := openRoot(sroot)
	if err != nil {
		return err
	}
	defer srootH.Close()
	s, err := openSource(srootH, srel, o.FollowLink)
	if err != nil {
		return pathError("source "+sfs.name+":", src, err)
	}
	defer s.Close()
	if contentsOnly(src) {
		srel += "/."
	}
	return r.copyIntoContainer(ctx, s, srel, dstCtr, dst, o, func(name string, err error) error {
		return fmt.Errorf("copying from container %s to container %s: %w", sfs.name, name, err)
	})
}

// CopyArchiveToContainer unpacks a tar stream (optionally compressed) into
// the container directory dst.
func (r *Runtime) CopyArchiveToContainer(ctx context.Context, nameOrID, dst string, tar io.Reader, o CopyOptions) error {
	fs, err := r.openContainerFS(ctx, nameOrID)
	if err != nil {
		return err
	}
	defer fs.Close()
	root, rel, ro := fs.resolve(dst)
	if ro {
		return fmt.Errorf("cannot copy into %s:%s: it is on a read-only mount or root filesystem: %w", fs.name, dst, errdefs.ErrFailedPrecondition)
	}
	rootH, err := openRoot(root)
	if err != nil {
		return err
	}
	defer rootH.Close()
	d, err := pathrs.OpenatInRoot(rootH, rel)
	if err != nil {
		return pathError("destination", dst, err)
	}
	defer d.Close()
	isDir, err := isDirHandle(d)
	if err != nil {
		return err
	}
	if !isDir {
		return fmt.Errorf("destination %q must be a directory when copying from stdin: %w", dst, errdefs.ErrInvalidArgument)
	}
	opts := fscopy.UnpackOptions{NoOverwriteDirNonDir: true}
	if o.Chown {
		if opts.Owner, err = r.owner(fs); err != nil {
			return err
		}
	}
	// Every entry resolves inside the destination directory.
	if err := fscopy.Unpack(tar, d, opts); err != nil {
		return fmt.Errorf("copying to container %s: %w", fs.name, err)
	}
	return nil
}

// CopyArchiveFromContainer writes src from the container as a tar stream
// whose top entry is src's base name (its content only for "SRC/.").
func (r *Runtime) CopyArchiveFromContainer(ctx context.Context, nameOrID, src string, w io.Writer, o CopyOptions) error {
	fs, err := r.openContainerFS(ctx, nameOrID)
	if err != nil {
		return err
	}
	defer fs.Close()
	root, rel, _ := fs.resolve(src)
	rootH, err := openRoot(root)
	if err != nil {
		return err
	}
	defer rootH.Close()
	s, err := openSource(rootH, rel, o.FollowLink)
	if err != nil {
		return pathError("source "+fs.name+":", src, err)
	}
	defer s.Close()
	isDir, err := isDirHandle(s)
	if err != nil {
		return err
	}
	// Entries are named after the source (a followed link: after the
	// link), or hold a directory's content at the top for "SRC/.".
	name := path.Base(rel)
	if isDir && (contentsOnly(src) || rel == "/") {
		name = ""
	}
	return fscopy.Archive(w, s, name)
}

// Export writes the container's root filesystem as a tar stream (volumes
// and bind mounts are not part of it).
func (r *Runtime) Export(ctx context.Context, nameOrID string, w io.Writer) error {
	var (
		rootfs string
		id     string
	)
	store, err := r.Store()
	if err != nil {
		return err
	}
	_, err = r.withLock(ctx, nameOrID, func(c *Container) error {
		id = c.ID
		rootfs, err = store.Mount(c.ID)
		return err
	})
	if err != nil {
		return err
	}
	defer func() {
		_, _ = r.withLock(context.Background(), id, func(c *Container) error {
			return store.Unmount(id, false)
		})
	}()
	root, err := openRoot(rootfs)
	if err != nil {
		return err
	}
	defer root.Close()
	return fscopy.Archive(w, root, "")
}
