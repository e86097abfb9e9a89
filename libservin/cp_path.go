package libservin

// How cp finds a path inside a container, running or not.
//
// A path is resolved one component at a time, the way the container's
// processes would resolve it: relative paths start at the container's
// working directory, symlinks are followed (an absolute target starts
// again at the container's root, ".." never climbs above it), and for a
// stopped container every step is looked up in the directory that holds it
// then: the root filesystem, or the host directory of the volume or bind
// mount the container would see there. The result is a canonical container
// path, free of symlinks, "." and "..", that the copy then opens with
// filepath-securejoin's pathrs-lite inside the root that holds it: if the
// tree changes meanwhile (a running container sharing a volume), the open
// still stays inside that root.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
)

// maxSymlinks bounds the symlinks one lookup follows, as the kernel does.
const maxSymlinks = 40

// containerFS is a container's filesystem opened for a copy.
type containerFS struct {
	id, name  string
	arg       string // the name or ID the user gave, for messages
	workdir   string // the container's working directory
	root      string // /proc/self/fd/N of the pinned root, or the mounted root filesystem
	running   bool
	roRootfs  bool
	mounts    []fsMount // stopped containers: mounts mapped to host paths
	userSpec  string
	pinned    *os.File            // running: the container's root, opened under its lock
	roots     map[string]*os.File // handles on the roots paths resolve in
	unmountFn func()
}

// fsMount is a bind or volume mount of a stopped container.
type fsMount struct {
	dest, source string
	file         string // a bind mount of a single file: its name in source
	sub          string // --mount subpath inside source
	readOnly     bool
}

// ctrEntry is a resolved container path.
type ctrEntry struct {
	path   string // canonical: absolute, no symlink, "." or ".." in it
	exists bool   // false: only the last component is missing
	isDir  bool
}

// openContainerFS makes c's filesystem reachable for a copy. Close it.
func (r *Runtime) openContainerFS(ctx context.Context, nameOrID string) (*containerFS, error) {
	// podman's words for a container that is not there.
	if _, err := r.db.GetContainer(ctx, nameOrID); errors.Is(err, errdefs.ErrNotFound) {
		return nil, errdefs.Worded(errdefs.ErrNotFound, "container %q does not exist", nameOrID)
	}
	fs := &containerFS{arg: nameOrID, roots: map[string]*os.File{}}
	_, err := r.withLock(ctx, nameOrID, func(c *Container) error {
		fs.id, fs.name, fs.userSpec, fs.roRootfs = c.ID, c.Name, c.Config.User, c.Config.ReadOnly
		fs.workdir = c.Config.WorkingDir
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
			fm := fsMount{dest: path.Clean(m.Destination), source: src, sub: m.SubPath, readOnly: m.ReadOnly}
			if st, err := os.Stat(src); err == nil && !st.IsDir() {
				// A bound file: its directory is the root, its name the path.
				fm.source, fm.file = filepath.Dir(src), filepath.Base(src)
			}
			fs.mounts = append(fs.mounts, fm)
		}
		return nil
	})
	if err != nil {
		fs.Close()
		return nil, err
	}
	return fs, nil
}

func (fs *containerFS) Close() {
	for _, h := range fs.roots {
		h.Close()
	}
	fs.roots = nil
	if fs.pinned != nil {
		fs.pinned.Close()
		fs.pinned = nil
	}
	if fs.unmountFn != nil {
		fs.unmountFn()
		fs.unmountFn = nil
	}
}

// abs makes a container path absolute: a relative one starts at the
// working directory. Trailing "/" and "/." stay, they mean something.
func (fs *containerFS) abs(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return strings.TrimSuffix(path.Join("/", fs.workdir), "/") + "/" + p
}

// resolve maps a canonical container path to the root that holds it and
// the path inside that root. For a stopped container a path below a volume
// or bind mount lives in the mount's host directory.
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

// rootHandle returns a handle on root, opened once per copy.
func (fs *containerFS) rootHandle(root string) (*os.File, error) {
	if fs.running && root == fs.root {
		return fs.pinned, nil
	}
	if h, ok := fs.roots[root]; ok {
		return h, nil
	}
	h, err := openRoot(root)
	if err != nil {
		return nil, err
	}
	fs.roots[root] = h
	return h, nil
}

// open opens the canonical container path p (an O_PATH handle), resolved
// inside the root that holds it; it also says whether p is read-only.
func (fs *containerFS) open(p string) (*os.File, bool, error) {
	root, rel, ro := fs.resolve(p)
	h, err := fs.rootHandle(root)
	if err != nil {
		return nil, ro, err
	}
	f, err := pathrs.OpenatInRoot(h, rel)
	return f, ro, err
}

// lstat looks at the canonical container path p without following a
// symlink there; for a symlink it also returns the link's target.
func (fs *containerFS) lstat(p string) (unix.Stat_t, string, error) {
	var st unix.Stat_t
	root, rel, _ := fs.resolve(p)
	h, err := fs.rootHandle(root)
	if err != nil {
		return st, "", err
	}
	if rel == "/" {
		err := unix.Fstatat(int(h.Fd()), "", &st, unix.AT_EMPTY_PATH)
		return st, "", err
	}
	parent, err := pathrs.OpenatInRoot(h, path.Dir(rel))
	if err != nil {
		return st, "", err
	}
	defer parent.Close()
	base := path.Base(rel)
	if err := unix.Fstatat(int(parent.Fd()), base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return st, "", nil
	}
	target, err := readlinkAt(int(parent.Fd()), base)
	return st, target, err
}

func readlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// holdsMount tells whether a mount of the stopped container lies below p:
// the runtime creates p when it mounts, so p is a directory even when the
// root filesystem has no such entry yet.
func (fs *containerFS) holdsMount(p string) bool {
	if fs.running {
		return false
	}
	for _, m := range fs.mounts {
		if strings.HasPrefix(m.dest, p+"/") {
			return true
		}
	}
	return false
}

// components splits a path into its names; a trailing "/" becomes ".",
// so that it demands a directory.
func components(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	if len(out) > 0 && strings.HasSuffix(p, "/") {
		out = append(out, ".")
	}
	return out
}

// lookup resolves the absolute container path p, following every symlink
// inside the container. A missing last component is no error: the entry
// says where it would be (after the symlink that names it, if any). A
// missing directory on the way is ENOENT, a file used as one ENOTDIR.
func (fs *containerFS) lookup(p string) (ctrEntry, error) {
	rest := components(p)
	cur, curDir := "/", true
	links := 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		if !curDir {
			return ctrEntry{}, unix.ENOTDIR
		}
		switch name {
		case ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, name)
		st, target, err := fs.lstat(next)
		switch {
		case err == nil:
		case errors.Is(err, unix.ENOENT) && fs.holdsMount(next):
			cur = next
			continue
		case errors.Is(err, unix.ENOENT) && len(rest) == 0:
			return ctrEntry{path: next}, nil
		default:
			return ctrEntry{}, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			if links++; links > maxSymlinks {
				return ctrEntry{}, unix.ELOOP
			}
			if target == "" {
				return ctrEntry{}, unix.ENOENT
			}
			if strings.HasPrefix(target, "/") {
				cur = "/"
			}
			rest = append(components(target), rest...)
			continue
		}
		cur, curDir = next, st.Mode&unix.S_IFMT == unix.S_IFDIR
	}
	return ctrEntry{path: cur, exists: true, isDir: curDir}, nil
}

// notFound is podman's error for a container path that cannot be used.
func (fs *containerFS) notFound(p string, err error) error {
	return errdefs.Worded(errdefs.ErrNotFound, "%q could not be found on container %s: %s", p, fs.arg, errnoText(err))
}

// errnoText words a lookup failure the way the system does ("no such
// file or directory"), without the path the error may carry.
func errnoText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}
