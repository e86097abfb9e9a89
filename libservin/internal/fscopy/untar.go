//go:build linux

package fscopy

// Unpacking tar streams, in this process: no chroot helper, no pipes.
//
// Every name resolves with the destination directory as its root
// (openat2 RESOLVE_IN_ROOT): "../" names are refused, and absolute names
// and symlinks, from the archive or already in the destination, stay
// inside it. The last component of an entry is created with *at calls
// that never follow a symlink; a symlink already there is replaced, never
// written through.
//
// Speed: the loop reading the archive creates directories, links and
// special files itself and hands regular files to up to unpackWorkers
// goroutines, one per directory at a time (untar_sched.go), so that the
// kernel work of creating and filling files (most of the cost) runs on
// several CPUs. When the archive is an uncompressed
// regular file (stdin redirected from a file), the loop reads only the
// headers and each worker copies its file's data from the archive inside
// the kernel (sendfile), one copy instead of a read and a write.

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"go.podman.io/storage/pkg/archive"
	"golang.org/x/sys/unix"
)

// UnpackOptions tune Unpack.
type UnpackOptions struct {
	// Owner, when set, owns every entry instead of the owner its header
	// names.
	Owner *Owner
	// NoOverwriteDirNonDir refuses to replace an existing directory with
	// a non-directory and the reverse; otherwise the archive's entry
	// replaces what is there (directories merge).
	NoOverwriteDirNonDir bool
}

// unpackWorkers is how many directories get files written at once (one
// worker each). Creating and filling a file mostly waits in the kernel
// (inode and block allocation, page copies), so a few more than the CPUs
// keep them busy.
var unpackWorkers = min(max(runtime.NumCPU()*2, 4), 16)

// maxQueuedData bounds the data of one file the loop reads ahead for a
// worker; larger files are written by the loop itself as they stream in.
const maxQueuedData = 4 << 20

// Unpack reads a tar stream (gzip, bzip2, xz and zstd streams are
// decompressed) and creates its entries in the directory dest.
func Unpack(r io.Reader, dest *os.File, o UnpackOptions) error {
	defer runtime.KeepAlive(dest)
	src, direct, closeSrc, err := openArchive(r)
	if err != nil {
		return err
	}
	defer closeSrc()
	rootFd, err := unix.FcntlInt(dest.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	u := &unpacker{dest: dest, o: o, direct: direct}
	u.sched.init()
	u.root = &dirRef{fd: rootFd}
	u.root.refs.Store(1)
	u.bufs.New = func() any { b := make([]byte, 1<<20); return &b }
	err = u.run(tar.NewReader(src))
	u.drain()
	u.dropCache()
	defer u.root.release()
	if err == nil && u.failed.Load() {
		err = u.err
	}
	if err != nil {
		return err
	}
	if direct != nil {
		direct.finish()
	}
	return u.setDirTimes()
}

// openArchive returns the uncompressed stream of r, and r as a
// fileSource when it is an uncompressed regular file.
func openArchive(r io.Reader) (io.Reader, *fileSource, func(), error) {
	if f, ok := r.(*os.File); ok {
		if fs := newFileSource(f); fs != nil {
			return fs, fs, func() {}, nil
		}
		// A pipe: a larger pipe buffer means fewer reads and wake-ups of
		// the writer (best effort: the limit is the system's).
		var st unix.Stat_t
		if unix.Fstat(int(f.Fd()), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
			_, _ = unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, 1<<20)
		}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(10)
	if archive.DetectCompression(head) == archive.Uncompressed {
		return br, nil, func() {}, nil
	}
	rc, err := archive.DecompressStream(br)
	if err != nil {
		return nil, nil, nil, err
	}
	return rc, nil, func() { rc.Close() }, nil
}

// fileSource reads an uncompressed archive file with pread from its
// current offset: Seek (the tar reader skips file data with it) costs no
// system call, and small entries come from one read-ahead buffer.
type fileSource struct {
	f          *os.File
	fd         int
	off        int64 // the reader's position in the file
	buf        []byte
	bufOff     int64 // file offset of buf[0]
	noSendfile atomic.Bool
}

func newFileSource(f *os.File) *fileSource {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	off, err := unix.Seek(int(f.Fd()), 0, io.SeekCurrent)
	if err != nil {
		return nil
	}
	head := make([]byte, 10)
	n, _ := unix.Pread(int(f.Fd()), head, off)
	if archive.DetectCompression(head[:max(n, 0)]) != archive.Uncompressed {
		return nil
	}
	return &fileSource{f: f, fd: int(f.Fd()), off: off, bufOff: off}
}

func (s *fileSource) Read(p []byte) (int, error) {
	if s.off >= s.bufOff && s.off < s.bufOff+int64(len(s.buf)) {
		n := copy(p, s.buf[s.off-s.bufOff:])
		s.off += int64(n)
		return n, nil
	}
	if len(p) >= 64<<10 {
		return s.pread(p)
	}
	if s.buf == nil {
		s.buf = make([]byte, 0, 64<<10)
	}
	s.buf = s.buf[:cap(s.buf)]
	s.bufOff = s.off
	n, err := s.pread(s.buf)
	s.buf = s.buf[:n]
	s.off = s.bufOff // pread advanced it: serve from the buffer instead
	if n == 0 {
		return 0, err
	}
	m := copy(p, s.buf)
	s.off += int64(m)
	return m, nil
}

func (s *fileSource) pread(p []byte) (int, error) {
	for {
		n, err := unix.Pread(s.fd, p, s.off)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, io.EOF
		}
		s.off += int64(n)
		return n, nil
	}
}

func (s *fileSource) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		s.off += offset
	case io.SeekStart:
		s.off = offset
	default:
		return 0, fmt.Errorf("fileSource: seek whence %d: %w", whence, unix.EINVAL)
	}
	return s.off, nil
}

// finish leaves the file's offset after what the archive used, as a
// reader of the stream would.
func (s *fileSource) finish() {
	_, _ = unix.Seek(s.fd, s.off, io.SeekStart)
	runtime.KeepAlive(s.f)
}

// copyAt copies size bytes at offset off of the archive to dfd.
func (s *fileSource) copyAt(dfd int, off, size int64, buf []byte) error {
	end := off + size
	if !s.noSendfile.Load() {
		for off < end {
			n, err := unix.Sendfile(dfd, s.fd, &off, int(min(end-off, 1<<30)))
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
				s.noSendfile.Store(true) // the filesystems refuse: the buffered way from here on
				break
			}
			if err != nil {
				return err
			}
			if n == 0 {
				return io.ErrUnexpectedEOF
			}
		}
	}
	for off < end {
		n, err := unix.Pread(s.fd, buf[:min(int64(len(buf)), end-off)], off)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrUnexpectedEOF
		}
		if err := writeAll(dfd, buf[:n]); err != nil {
			return err
		}
		off += int64(n)
	}
	return nil
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// dirRef is a directory handle shared by the loop and the workers that
// create entries in it; the last holder closes it.
type dirRef struct {
	fd   int
	refs atomic.Int32
}

func (d *dirRef) hold() *dirRef { d.refs.Add(1); return d }

func (d *dirRef) release() {
	if d.refs.Add(-1) == 0 {
		unix.Close(d.fd)
	}
}

// dirTime is a directory's times, set once everything inside it exists.
type dirTime struct {
	rel          string
	atime, mtime unix.Timespec
}

type unpacker struct {
	dest   *os.File
	root   *dirRef // dest
	o      UnpackOptions
	direct *fileSource

	// The parent directory of the last entry: archives list a
	// directory's entries together.
	cachePath string
	cache     *dirRef

	dirs []dirTime

	sched   scheduler // untar_sched.go
	bufs    sync.Pool
	failed  atomic.Bool
	errOnce sync.Once
	err     error
}

func (u *unpacker) fail(err error) {
	u.errOnce.Do(func() { u.err = err; u.failed.Store(true) })
}

func (u *unpacker) run(tr *tar.Reader) error {
	for !u.failed.Load() {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
		if err := u.entry(tr, h); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
	return nil
}

// entryPath is an entry's name relative to the destination ("" for the
// destination itself); names that climb out of it are refused.
func entryPath(name string) (string, error) {
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%q is outside of the destination", name)
	}
	c = strings.TrimPrefix(path.Clean("/"+c), "/")
	return c, nil
}

func (u *unpacker) entry(tr *tar.Reader, h *tar.Header) error {
	if h.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	rel, err := entryPath(h.Name)
	if err != nil {
		return err
	}
	if rel == "" {
		// The destination itself: it exists, and keeps its metadata.
		if h.Typeflag != tar.TypeDir {
			return errors.New("refusing to replace the destination directory with a non-directory")
		}
		return nil
	}
	u.settle(rel)
	if h.Typeflag != tar.TypeDir && u.cache != nil && (u.cachePath == rel || strings.HasPrefix(u.cachePath, rel+"/")) {
		// The entry replaces the cached directory (or one above it):
		// later entries below rel must look it up again.
		u.dropCache()
	}
	var target string
	if h.Typeflag == tar.TypeLink {
		if target, err = entryPath(h.Linkname); err != nil || target == "" {
			return fmt.Errorf("invalid hard link to %q: outside of the destination", h.Linkname)
		}
		u.settle(target)
	}
	parent, err := u.parentDir(path.Dir(rel))
	if err != nil {
		return err
	}
	base := path.Base(rel)
	switch h.Typeflag {
	case tar.TypeReg:
		return u.file(tr, h, parent, rel, base) // takes over parent
	case tar.TypeGNUSparse:
		// The reader expands the holes: write what it reads.
		defer parent.release()
		return u.writeFile(parent.fd, base, h, tr, nil, 0)
	}
	defer parent.release()
	switch h.Typeflag {
	case tar.TypeDir:
		return u.mkdir(parent.fd, rel, base, h)
	case tar.TypeSymlink:
		return u.symlink(parent.fd, base, h)
	case tar.TypeLink:
		return u.link(parent.fd, base, target)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return u.mknod(parent.fd, base, h)
	}
	return fmt.Errorf("unhandled tar entry type %q", h.Typeflag)
}

func (u *unpacker) dropCache() {
	if u.cache != nil {
		u.cache.release()
		u.cache, u.cachePath = nil, ""
	}
}

// parentDir returns a handle on the directory rel (creating it and its
// missing parents), held for the caller.
func (u *unpacker) parentDir(rel string) (*dirRef, error) {
	if rel == "." || rel == "" {
		return u.root.hold(), nil
	}
	if u.cache != nil && u.cachePath == rel {
		return u.cache.hold(), nil
	}
	fd, err := u.openIn(rel, unix.O_PATH|unix.O_DIRECTORY)
	if errors.Is(err, unix.ENOENT) {
		var h *os.File
		if h, err = pathrs.MkdirAllHandle(u.dest, rel, 0o755); err == nil {
			fd, err = unix.FcntlInt(h.Fd(), unix.F_DUPFD_CLOEXEC, 0)
			h.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("parent directory %s: %w", rel, err)
	}
	u.setCache(rel, fd)
	return u.cache.hold(), nil
}

func (u *unpacker) setCache(rel string, fd int) {
	u.dropCache()
	u.cache, u.cachePath = &dirRef{fd: fd}, rel
	u.cache.refs.Store(1)
}

// noOpenat2 is set once the kernel turns openat2 down.
var noOpenat2 atomic.Bool

// openIn opens rel below the destination with the destination as the
// root of the lookup.
func (u *unpacker) openIn(rel string, flags int) (int, error) {
	if !noOpenat2.Load() {
		how := unix.OpenHow{
			Flags:   uint64(flags | unix.O_CLOEXEC),
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
		}
		for i := 0; ; i++ {
			fd, err := unix.Openat2(u.root.fd, rel, &how)
			if (errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR)) && i < 32 {
				continue // a concurrent rename: the kernel asks to retry
			}
			if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) && i == 0 && !probeOpenat2() {
				noOpenat2.Store(true)
				break
			}
			return fd, err
		}
	}
	h, err := pathrs.OpenatInRoot(u.dest, rel)
	if err != nil {
		return -1, err
	}
	defer h.Close()
	if flags&unix.O_PATH != 0 {
		if flags&unix.O_DIRECTORY != 0 {
			var st unix.Stat_t
			if err := unix.Fstat(int(h.Fd()), &st); err != nil {
				return -1, err
			}
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				return -1, unix.ENOTDIR
			}
		}
		return unix.FcntlInt(h.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	}
	f, err := pathrs.Reopen(h, flags)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	return unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
}

// probeOpenat2 tells a seccomp filter that refuses openat2 with EPERM from
// a real permission error.
func probeOpenat2() bool {
	fd, err := unix.Openat2(unix.AT_FDCWD, "/", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC})
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// file queues a regular file for the workers (with its data, unless the
// workers read it from the archive file), or writes one too big to read
// ahead itself. It takes over the caller's hold on parent.
func (u *unpacker) file(tr *tar.Reader, h *tar.Header, parent *dirRef, rel, base string) error {
	t := &fileTask{parent: parent, dirKey: path.Dir(rel), rel: rel, base: base, h: h}
	switch {
	case u.direct != nil:
		t.off = u.direct.off // the reader stops right after the header
	case h.Size <= maxQueuedData:
		t.bp = u.bufs.Get().(*[]byte)
		if int64(cap(*t.bp)) < h.Size {
			*t.bp = make([]byte, h.Size)
		}
		t.data = (*t.bp)[:h.Size]
		if _, err := io.ReadFull(tr, t.data); err != nil {
			u.bufs.Put(t.bp)
			parent.release()
			return err
		}
	default:
		defer parent.release()
		return u.writeFile(parent.fd, base, h, tr, nil, 0)
	}
	u.dispatch(t)
	return nil
}

// writeFile creates base in dir with the entry's data: from r, from
// data, or (neither) from the archive file at offset off.
func (u *unpacker) writeFile(dir int, base string, h *tar.Header, r io.Reader, data []byte, off int64) error {
	fd, err := u.create(dir, base, func() (int, error) {
		return unix.Openat(dir, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	})
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	switch {
	case data != nil:
		err = writeAll(fd, data)
	case r != nil:
		bp := u.bufs.Get().(*[]byte)
		err = copyStream(fd, r, *bp)
		u.bufs.Put(bp)
	default:
		bp := u.bufs.Get().(*[]byte)
		err = u.direct.copyAt(fd, off, h.Size, *bp)
		u.bufs.Put(bp)
	}
	if err != nil {
		return err
	}
	return u.setMeta(fd, h)
}

func copyStream(fd int, r io.Reader, buf []byte) error {
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if werr := writeAll(fd, buf[:n]); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// create runs mk (which makes base in dir and fails with EEXIST when
// something is there); an existing entry is replaced as the options allow
// and mk runs again.
func (u *unpacker) create(dir int, base string, mk func() (int, error)) (int, error) {
	fd, err := mk()
	if !errors.Is(err, unix.EEXIST) {
		return fd, err
	}
	if err := u.replace(dir, base, false); err != nil {
		return -1, err
	}
	return mk()
}

// replace removes the entry base of dir to make room for an entry that is
// a directory (isDir) or not. It reports whether an existing directory
// stays (a directory merges into it).
func (u *unpacker) replace(dir int, base string, isDir bool) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dir, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	existingDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if u.o.NoOverwriteDirNonDir && existingDir != isDir {
		if existingDir {
			return fmt.Errorf("cannot overwrite directory %q with non-directory", base)
		}
		return fmt.Errorf("cannot overwrite non-directory %q with directory", base)
	}
	if existingDir {
		if isDir {
			return nil
		}
		return removeAllAt(dir, base)
	}
	return unix.Unlinkat(dir, base, 0)
}

// removeAllAt removes base of dir and, for a directory, its content,
// never following a symlink.
func removeAllAt(dir int, base string) error {
	err := unix.Unlinkat(dir, base, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EISDIR) && !errors.Is(err, unix.EPERM) {
		return err
	}
	fd, err := unix.Openat(dir, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(fd), base)
	for {
		names, rerr := d.Readdirnames(256)
		for _, n := range names {
			if err := removeAllAt(fd, n); err != nil {
				d.Close()
				return err
			}
		}
		if rerr != nil || len(names) == 0 {
			break
		}
	}
	d.Close()
	return unix.Unlinkat(dir, base, unix.AT_REMOVEDIR)
}

func (u *unpacker) owner(h *tar.Header) (int, int) {
	if u.o.Owner != nil {
		return u.o.Owner.UID, u.o.Owner.GID
	}
	return h.Uid, h.Gid
}

func times(h *tar.Header) (atime, mtime unix.Timespec) {
	a := h.AccessTime
	if a.Before(h.ModTime) {
		a = h.ModTime // never accessed before it was written
	}
	return timespec(a), timespec(h.ModTime)
}

func timespec(t time.Time) unix.Timespec {
	if t.IsZero() {
		return unix.Timespec{} // no time in the header: the epoch, as tar does
	}
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// setMeta gives the open entry fd the header's owner, extended
// attributes, mode and times, in that order (chown clears set-user-ID
// bits and capabilities).
func (u *unpacker) setMeta(fd int, h *tar.Header) error {
	uid, gid := u.owner(h)
	if err := unix.Fchown(fd, uid, gid); err != nil {
		return err
	}
	if err := setXattrs(fd, h); err != nil {
		return err
	}
	if err := unix.Fchmod(fd, uint32(h.Mode)&0o7777); err != nil {
		return err
	}
	a, m := times(h)
	return futimens(fd, a, m)
}

// setXattrs sets the SCHILY.xattr.* records of the header, except the
// SELinux label (the copy gets the label of where it lands).
func setXattrs(fd int, h *tar.Header) error {
	for k, v := range h.PAXRecords {
		name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || name == "security.selinux" {
			continue
		}
		if err := unix.Fsetxattr(fd, name, []byte(v), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return fmt.Errorf("setting xattr %s: %w", name, err)
		}
	}
	return nil
}

func (u *unpacker) mkdir(dir int, rel, base string, h *tar.Header) error {
	err := unix.Mkdirat(dir, base, 0o700)
	if errors.Is(err, unix.EEXIST) {
		if err = u.replace(dir, base, true); err == nil {
			if err = unix.Mkdirat(dir, base, 0o700); errors.Is(err, unix.EEXIST) {
				err = nil // a directory that merges
			}
		}
	}
	if err != nil {
		return err
	}
	fd, err := unix.Openat(dir, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	uid, gid := u.owner(h)
	err = unix.Fchown(fd, uid, gid)
	if err == nil {
		err = setXattrs(fd, h)
	}
	if err == nil {
		err = unix.Fchmod(fd, uint32(h.Mode)&0o7777)
	}
	if err != nil {
		unix.Close(fd)
		return err
	}
	a, m := times(h)
	u.dirs = append(u.dirs, dirTime{rel: rel, atime: a, mtime: m})
	// Its entries most likely come next.
	u.setCache(rel, fd)
	return nil
}

func (u *unpacker) symlink(dir int, base string, h *tar.Header) error {
	if _, err := u.create(dir, base, func() (int, error) {
		return -1, unix.Symlinkat(h.Linkname, dir, base)
	}); err != nil {
		return err
	}
	uid, gid := u.owner(h)
	if err := unix.Fchownat(dir, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	a, m := times(h)
	return unix.UtimesNanoAt(dir, base, []unix.Timespec{a, m}, unix.AT_SYMLINK_NOFOLLOW)
}

// link makes base a hard link to target, an earlier entry of the archive
// (a path relative to the destination).
func (u *unpacker) link(dir int, base, target string) error {
	tdir, err := u.openIn(path.Dir(target), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("hard link target %s: %w", target, err)
	}
	defer unix.Close(tdir)
	_, err = u.create(dir, base, func() (int, error) {
		return -1, unix.Linkat(tdir, path.Base(target), dir, base, 0)
	})
	return err
}

func (u *unpacker) mknod(dir int, base string, h *tar.Header) error {
	mode := uint32(unix.S_IFIFO)
	switch h.Typeflag {
	case tar.TypeChar:
		mode = unix.S_IFCHR
	case tar.TypeBlock:
		mode = unix.S_IFBLK
	}
	dev := int(unix.Mkdev(uint32(h.Devmajor), uint32(h.Devminor)))
	if _, err := u.create(dir, base, func() (int, error) {
		return -1, unix.Mknodat(dir, base, mode|0o600, dev)
	}); err != nil {
		return err
	}
	// Set the metadata through a handle on the node itself: a path could
	// be swapped for a symlink meanwhile.
	fd, err := unix.Openat(dir, base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != mode {
		return fmt.Errorf("%s changed while being created", base)
	}
	uid, gid := u.owner(h)
	if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
		return err
	}
	if err := unix.Chmod(procFd(fd), uint32(h.Mode)&0o7777); err != nil {
		return err
	}
	a, m := times(h)
	return unix.UtimesNanoAt(unix.AT_FDCWD, procFd(fd), []unix.Timespec{a, m}, 0)
}

// setDirTimes gives the directories the archive made their times, now
// that nothing is created in them any more. A directory a later entry
// replaced is left alone.
func (u *unpacker) setDirTimes() error {
	for i := len(u.dirs) - 1; i >= 0; i-- {
		d := u.dirs[i]
		fd, err := u.openIn(d.rel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", d.rel, err)
		}
		err = futimens(fd, d.atime, d.mtime)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("%s: %w", d.rel, err)
		}
	}
	return nil
}
