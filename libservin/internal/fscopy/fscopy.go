//go:build linux

// Package fscopy copies file trees between open directory handles, the way
// `cp -a` does (owners, modes, times, extended attributes, hard links,
// symlinks and device nodes are kept), at disk speed and without ever
// following a symlink.
//
// Every step is a *at system call relative to a handle that is already
// open, and every open uses O_NOFOLLOW: a container that swaps a directory
// for a symlink to a host path while it is being copied makes the copy
// fail, never write or read outside the trees it was given. Callers
// resolve the starting points inside a root with filepath-securejoin.
package fscopy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Owner is a numeric file owner.
type Owner struct{ UID, GID int }

// Options tune a copy.
type Options struct {
	// Owner, when set, owns every entry the copy creates instead of the
	// source entry's owner.
	Owner *Owner
}

// Copy copies the object src (a handle on any file type: directories are
// copied recursively, symlinks as symlinks) to the entry dstName of the
// directory dstDir. A directory is merged into an existing directory; any
// other existing entry except a directory is replaced.
func Copy(src *os.File, dstDir *os.File, dstName string, o Options) error {
	// The copy works on the descriptors: keep their files (and so the
	// descriptors) from being finalized meanwhile.
	defer runtime.KeepAlive(src)
	defer runtime.KeepAlive(dstDir)
	c := newCopier(o)
	defer c.close()
	fd, err := unix.FcntlInt(src.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", src.Name(), err)
	}
	defer unix.Close(fd)
	return c.copy(fd, int(dstDir.Fd()), dstName, dstName)
}

// CopyContents copies what the directory src contains into the directory
// dst, and gives dst the owner, mode and times of src.
func CopyContents(src, dst *os.File, o Options) error {
	defer runtime.KeepAlive(src)
	defer runtime.KeepAlive(dst)
	c := newCopier(o)
	defer c.close()
	sfd, err := unix.Open(procFd(int(src.Fd())), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", src.Name(), err)
	}
	dir := os.NewFile(uintptr(sfd), src.Name())
	defer dir.Close()
	var st unix.Stat_t
	if err := unix.Fstat(sfd, &st); err != nil {
		return err
	}
	return c.copyDirContents(dir, &st, int(dst.Fd()), ".")
}

type inode struct {
	dev, ino uint64
}

// copier is one copy. Directories are walked by one goroutine; the data
// of regular files is copied by up to `workers` goroutines at once, which
// keeps the disk busy while the walker creates entries (a single-threaded
// `cp -a` waits for each file in turn).
type copier struct {
	o       Options
	mu      sync.Mutex
	links   map[inode]int // source inode -> O_PATH handle of its first copy
	slots   chan struct{} // a token per file copy running in the background
	bufs    sync.Pool
	noCFR   sync.Map    // devPair -> true: copy_file_range refused between them
	failed  atomic.Bool // a background copy failed: stop starting new ones
	errOnce sync.Once
	err     error
}

type devPair struct{ src, dst uint64 }

// maxLinkHandles bounds the handles kept open to recreate hard links;
// beyond it, further links are copied as separate files.
const maxLinkHandles = 1024

// workers is how many file copies may run besides the walker.
var workers = min(max(runtime.NumCPU(), 2), 8)

func newCopier(o Options) *copier {
	c := &copier{o: o, links: map[inode]int{}, slots: make(chan struct{}, workers)}
	c.bufs.New = func() any { b := make([]byte, 1<<20); return &b }
	return c
}

func (c *copier) close() {
	for _, fd := range c.links {
		unix.Close(fd)
	}
}

func (c *copier) fail(err error) {
	c.errOnce.Do(func() { c.err = err; c.failed.Store(true) })
}

func procFd(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// copy copies the object open as the O_PATH handle src to dstName in dstDir.
// rel names the entry in error messages.
func (c *copier) copy(src int, dstDir int, dstName, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(src, "", &st, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	var err error
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		err = c.copyDir(src, &st, dstDir, dstName, rel)
	case unix.S_IFREG:
		err = c.copyFile(src, &st, dstDir, dstName)
	case unix.S_IFLNK:
		err = c.copySymlink(src, &st, dstDir, dstName)
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		err = c.copyNode(&st, dstDir, dstName)
	default:
		// Sockets cannot be copied (tar skips them too).
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	return nil
}

// prepareDest removes a non-directory entry at dstName; an existing
// directory is an error unless keepDir (a directory merges into it).
func prepareDest(dstDir int, dstName string, keepDir bool) (exists bool, err error) {
	var st unix.Stat_t
	err = unix.Fstatat(dstDir, dstName, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if keepDir {
			return true, nil
		}
		return false, fmt.Errorf("cannot overwrite directory %q with non-directory", dstName)
	}
	return false, unix.Unlinkat(dstDir, dstName, 0)
}

func (c *copier) copyDir(src int, st *unix.Stat_t, dstDir int, dstName, rel string) error {
	exists, err := prepareDest(dstDir, dstName, true)
	if err != nil {
		return err
	}
	if !exists {
		// Owner-only until the content is in: the final mode may forbid
		// writing, and nobody else should see a half-copied tree.
		if err := unix.Mkdirat(dstDir, dstName, 0o700); err != nil {
			return err
		}
	}
	dfd, err := unix.Openat(dstDir, dstName, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	sfd, err := unix.Openat(src, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	dir := os.NewFile(uintptr(sfd), rel)
	defer dir.Close()
	return c.copyDirContents(dir, st, dfd, rel)
}

// copyDirContents copies the entries of the open directory dir into dfd,
// then gives dfd the metadata st.
func (c *copier) copyDirContents(dir *os.File, st *unix.Stat_t, dfd int, rel string) error {
	sfd := int(dir.Fd())
	// Background copies of this directory's files use dfd: wait for them
	// before returning (the caller closes dfd) and before setting the
	// directory's times, which creating entries would change.
	var wg sync.WaitGroup
	err := c.walkDir(dir, sfd, dfd, rel, &wg)
	wg.Wait()
	if err != nil {
		return err
	}
	if c.failed.Load() {
		return c.err
	}
	return c.setMeta(sfd, dfd, st)
}

func (c *copier) walkDir(dir *os.File, sfd, dfd int, rel string, wg *sync.WaitGroup) error {
	for {
		names, err := dir.Readdirnames(256)
		for _, name := range names {
			if c.failed.Load() {
				return c.err
			}
			child, err := unix.Openat(sfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				if errors.Is(err, unix.ENOENT) {
					continue // removed meanwhile (a running container)
				}
				return fmt.Errorf("%s: %w", path.Join(rel, name), err)
			}
			if c.background(child, dfd, name, path.Join(rel, name), wg) {
				continue
			}
			err = c.copy(child, dfd, name, path.Join(rel, name))
			unix.Close(child)
			if err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && len(names) == 0) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
	}
}

// background hands the copy of a regular file or of a whole directory to
// a free worker and takes ownership of child; it reports false (and does
// nothing) when no worker is free or the entry is of another kind. Workers
// never wait for a free worker (they copy inline instead), so a directory
// worker waiting for its own background copies cannot deadlock. Hard-linked
// files stay with their directory's walker.
func (c *copier) background(child, dfd int, name, rel string, wg *sync.WaitGroup) bool {
	var st unix.Stat_t
	if err := unix.Fstatat(child, "", &st, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false
	}
	kind := st.Mode & unix.S_IFMT
	if (kind != unix.S_IFREG || st.Nlink > 1) && kind != unix.S_IFDIR {
		return false
	}
	select {
	case c.slots <- struct{}{}:
	default:
		return false
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() { <-c.slots }()
		defer unix.Close(child)
		var err error
		if kind == unix.S_IFDIR {
			err = c.copyDir(child, &st, dfd, name, rel)
		} else {
			err = c.copyFile(child, &st, dfd, name)
		}
		if err != nil {
			c.fail(fmt.Errorf("%s: %w", rel, err))
		}
	}()
	return true
}

func (c *copier) copyFile(src int, st *unix.Stat_t, dstDir int, dstName string) error {
	if _, err := prepareDest(dstDir, dstName, false); err != nil {
		return err
	}
	key := inode{uint64(st.Dev), st.Ino}
	if st.Nlink > 1 {
		c.mu.Lock()
		first, ok := c.links[key]
		c.mu.Unlock()
		if ok {
			if err := unix.Linkat(first, "", dstDir, dstName, unix.AT_EMPTY_PATH); err == nil {
				return nil
			}
		}
	}
	sfd, err := unix.Open(procFd(src), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(sfd)
	dfd, err := unix.Openat(dstDir, dstName, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	if err := c.copyData(sfd, dfd, st); err != nil {
		return err
	}
	if err := c.setMeta(sfd, dfd, st); err != nil {
		return err
	}
	if st.Nlink > 1 {
		c.mu.Lock()
		if len(c.links) < maxLinkHandles {
			if h, err := unix.Openat(dstDir, dstName, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0); err == nil {
				c.links[key] = h
			}
		}
		c.mu.Unlock()
	}
	return nil
}

// copyData copies the file's data in the kernel when it can
// (copy_file_range, which also clones on filesystems that support it) and
// through a buffer otherwise.
func (c *copier) copyData(sfd, dfd int, st *unix.Stat_t) error {
	var dst unix.Stat_t
	pair := devPair{uint64(st.Dev), 0}
	if unix.Fstat(dfd, &dst) == nil {
		pair.dst = uint64(dst.Dev)
	}
	size := st.Size
	var done int64
	if _, refused := c.noCFR.Load(pair); !refused {
		for done < size {
			n, err := unix.CopyFileRange(sfd, nil, dfd, nil, int(min(size-done, 1<<30)), 0)
			if err != nil {
				if errors.Is(err, unix.EINTR) {
					continue
				}
				if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) ||
					errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EPERM) {
					// Between these two filesystems it will never work:
					// stop asking for the rest of the copy.
					c.noCFR.Store(pair, true)
					break
				}
				return err
			}
			if n == 0 {
				break // the file shrank, or the filesystem wants the slow path
			}
			done += int64(n)
		}
	}
	bp := c.bufs.Get().(*[]byte)
	defer c.bufs.Put(bp)
	buf := *bp
	// Whatever is left (all of it when copy_file_range is refused), and
	// anything appended since the stat.
	for {
		n, err := unix.Read(sfd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		for w := 0; w < n; {
			m, err := unix.Write(dfd, buf[w:n])
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return err
			}
			w += m
		}
	}
}

func (c *copier) copySymlink(src int, st *unix.Stat_t, dstDir int, dstName string) error {
	target, err := readlinkEmpty(src)
	if err != nil {
		return err
	}
	if _, err := prepareDest(dstDir, dstName, false); err != nil {
		return err
	}
	if err := unix.Symlinkat(target, dstDir, dstName); err != nil {
		return err
	}
	uid, gid := c.owner(st)
	if err := unix.Fchownat(dstDir, dstName, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	return unix.UtimesNanoAt(dstDir, dstName, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func readlinkEmpty(fd int) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

func (c *copier) copyNode(st *unix.Stat_t, dstDir int, dstName string) error {
	if _, err := prepareDest(dstDir, dstName, false); err != nil {
		return err
	}
	if err := unix.Mknodat(dstDir, dstName, st.Mode, int(st.Rdev)); err != nil {
		return err
	}
	uid, gid := c.owner(st)
	if err := unix.Fchownat(dstDir, dstName, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if err := unix.Fchmodat(dstDir, dstName, st.Mode&0o7777, 0); err != nil {
		return err
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	return unix.UtimesNanoAt(dstDir, dstName, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func (c *copier) owner(st *unix.Stat_t) (int, int) {
	if c.o.Owner != nil {
		return c.o.Owner.UID, c.o.Owner.GID
	}
	return int(st.Uid), int(st.Gid)
}

// setMeta gives the open file dfd the owner, extended attributes, mode and
// times of the source sfd (whose stat is st). The owner comes first: chown
// clears set-user-ID bits and file capabilities.
func (c *copier) setMeta(sfd, dfd int, st *unix.Stat_t) error {
	uid, gid := c.owner(st)
	if err := unix.Fchown(dfd, uid, gid); err != nil {
		return err
	}
	if err := c.copyXattrs(sfd, dfd); err != nil {
		return err
	}
	if err := unix.Fchmod(dfd, st.Mode&0o7777); err != nil {
		return err
	}
	return futimens(dfd, st.Atim, st.Mtim)
}

func futimens(fd int, atime, mtime unix.Timespec) error {
	ts := [2]unix.Timespec{atime, mtime}
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// copyXattrs copies extended attributes except the SELinux label (the
// destination gets the label of where it is, as with tar). A destination
// filesystem without xattr support is not an error.
func (c *copier) copyXattrs(sfd, dfd int) error {
	size, err := unix.Flistxattr(sfd, nil)
	if err != nil || size == 0 {
		if errors.Is(err, unix.ENOTSUP) {
			err = nil
		}
		return err
	}
	list := make([]byte, size)
	size, err = unix.Flistxattr(sfd, list)
	if err != nil {
		return err
	}
	for _, name := range strings.Split(strings.TrimRight(string(list[:size]), "\x00"), "\x00") {
		if name == "" || name == "security.selinux" {
			continue
		}
		n, err := unix.Fgetxattr(sfd, name, nil)
		if err != nil {
			continue // vanished, or not readable
		}
		val := make([]byte, n)
		if n, err = unix.Fgetxattr(sfd, name, val); err != nil {
			continue
		}
		if err := unix.Fsetxattr(dfd, name, val[:n], 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return fmt.Errorf("setting xattr %s: %w", name, err)
		}
	}
	return nil
}

// ChownTree gives dir and everything below it to uid:gid, with the same
// care as the copy: no symlink is ever followed, so a tree changed under
// it by a running container cannot redirect it to host files.
func ChownTree(dir *os.File, uid, gid int) error {
	defer runtime.KeepAlive(dir)
	fd, err := unix.Open(procFd(int(dir.Fd())), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir.Name(), err)
	}
	return chownDir(os.NewFile(uintptr(fd), dir.Name()), uid, gid)
}

// chownDir chowns the open directory d and its content, then closes it.
func chownDir(d *os.File, uid, gid int) error {
	defer d.Close()
	dfd := int(d.Fd())
	if err := unix.Fchown(dfd, uid, gid); err != nil {
		return fmt.Errorf("%s: %w", d.Name(), err)
	}
	for {
		names, err := d.Readdirnames(256)
		for _, name := range names {
			if err := unix.Fchownat(dfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				if errors.Is(err, unix.ENOENT) {
					continue
				}
				return fmt.Errorf("%s: %w", path.Join(d.Name(), name), err)
			}
			sub, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				// Not a directory (or a symlink, or gone): done with it.
				continue
			}
			if err := chownDir(os.NewFile(uintptr(sub), path.Join(d.Name(), name)), uid, gid); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && len(names) == 0) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", d.Name(), err)
		}
	}
}

// IsEmptyDir reports whether the open directory dir has no entries.
func IsEmptyDir(dir *os.File) (bool, error) {
	defer runtime.KeepAlive(dir)
	fd, err := unix.Open(procFd(int(dir.Fd())), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	d := os.NewFile(uintptr(fd), dir.Name())
	defer d.Close()
	names, err := d.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}
