package libservin

// Copying files into and out of containers (cp), running or not, and
// exporting a container's filesystem.
//
// The rules are podman's: a container path may be relative to the
// container's working directory; symlinks in it are followed inside the
// container (cp_path.go), including the last one, so that a link is
// copied as what it points to and a copy to a link lands where it points;
// a directory goes into an existing directory under its name ("SRC/."
// copies its content), replaces nothing else, and becomes a new entry
// whose parent must exist; a directory does not replace a file, nor a file
// a directory, unless Overwrite. A host path is resolved by the host,
// a symlink given as the source copied as what it points to.
//
// Nothing leaves the container: every container path is opened inside the
// root that holds it with filepath-securejoin's pathrs-lite, and the copy
// itself (internal/fscopy) never follows a symlink. Tar streams are packed
// and unpacked in this process by internal/fscopy, every entry name
// resolved inside the destination. A running container is reached through
// /proc/PID/root, so its volumes, tmpfs and bind mounts are where the
// container sees them and the kernel enforces their read-only flags; a
// stopped one through its mounted root filesystem, with paths below its
// volumes and bind mounts mapped to their host directories.

import (
	"bufio"
	"bytes"
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
	"go.podman.io/storage/pkg/archive"
	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/internal/fscopy"
	"github.com/servin/servin/libservin/oci"
)

// CopyOptions control the copy functions.
type CopyOptions struct {
	// Chown gives what is copied into a container to the container's user
	// (podman's --archive, its default); without it the source's owners
	// are kept. Copies to the host belong to the calling user; tar
	// streams and copies between containers without Chown keep the owners.
	Chown bool
	// FollowLink is docker's -L. A symlink given as the source is always
	// copied as what it points to, as podman does, so it changes nothing.
	FollowLink bool
	// Overwrite lets a file replace a directory and a directory a file
	// (podman's --overwrite); otherwise that is an error.
	Overwrite bool
}

// copySource is what a copy reads.
type copySource struct {
	h        *os.File // O_PATH handle
	isDir    bool
	name     string // the name the copy gets in a destination directory
	contents bool   // a directory's content is copied, not the directory
}

func (s *copySource) Close() { s.h.Close() }

// contentsOnly reports docker's "SRC/." form: copy what a directory
// contains rather than the directory itself.
func contentsOnly(p string) bool {
	return strings.HasSuffix(p, "/.") || p == "."
}

// openRoot opens a root directory as a handle.
func openRoot(root string) (*os.File, error) {
	return os.OpenFile(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

func isDirHandle(f *os.File) (bool, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(int(f.Fd()), "", &st, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false, err
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}

// errDirOntoFile is podman's error for a directory copied onto a file.
func errDirOntoFile() error {
	return errdefs.Worded(errdefs.ErrInvalidArgument, "destination must be a directory when copying a directory")
}

// errStdinDest is podman's error for a tar stream sent anywhere but into
// an existing directory.
func errStdinDest() error {
	return errdefs.Worded(errdefs.ErrInvalidArgument, "destination must be a directory when copying from stdin")
}

// hostNotFound is podman's error for a host path that cannot be used.
func hostNotFound(p string, err error) error {
	return errdefs.Worded(errdefs.ErrNotFound, "%q could not be found on the host: %s", p, errnoText(err))
}

// hostSource opens the host path src. A symlink there is followed: the
// copy is what it points to, under the link's name.
func hostSource(src string) (*copySource, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, err
	}
	// The path as given: "file/" or "file/." is not a directory.
	h, err := os.OpenFile(src, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, hostNotFound(src, err)
	}
	isDir, err := isDirHandle(h)
	if err != nil {
		h.Close()
		return nil, hostNotFound(src, err)
	}
	return &copySource{h: h, isDir: isDir, name: filepath.Base(abs), contents: isDir && (contentsOnly(src) || abs == "/")}, nil
}

// ctrSource opens the container path src, following its symlinks inside
// the container: a link is copied as what it points to, under that name.
func ctrSource(fs *containerFS, src string) (*copySource, error) {
	// podman takes no wildcards, and refuses a path that has one.
	if strings.Contains(src, "*") {
		return nil, fs.notFound(src, unix.ENOENT)
	}
	e, err := fs.lookup(fs.abs(src))
	if err == nil && !e.exists {
		err = unix.ENOENT
	}
	if err != nil {
		return nil, fs.notFound(src, err)
	}
	h, _, err := fs.open(e.path)
	if err != nil {
		return nil, fs.notFound(src, err)
	}
	isDir, err := isDirHandle(h)
	if err != nil {
		h.Close()
		return nil, fs.notFound(src, err)
	}
	return &copySource{h: h, isDir: isDir, name: path.Base(e.path), contents: isDir && (contentsOnly(src) || e.path == "/")}, nil
}

// landing says where a copy goes: into the directory dir as the entry
// name, or with name "" the source directory's content into dir itself.
type landing struct{ dir, name string }

// land decides where src goes given the resolved destination dst: into
// an existing directory, over an existing file, or as a new entry.
// dirOf and baseOf split a path (host or container).
func land(src *copySource, dst string, exists, dstIsDir bool, dirOf, baseOf func(string) string) (landing, error) {
	switch {
	case exists && dstIsDir && src.contents:
		return landing{dir: dst}, nil
	case exists && dstIsDir:
		return landing{dir: dst, name: src.name}, nil
	case exists && src.isDir:
		return landing{}, errDirOntoFile()
	default:
		return landing{dir: dirOf(dst), name: baseOf(dst)}, nil
	}
}

// place copies src into the open directory dir as name. A directory
// merges into a directory and a file replaces a file; a directory and a
// file do not replace each other unless overwrite. shown names the entry
// in messages as podman does, full is its path.
func place(src *copySource, dir *os.File, name, shown, full string, overwrite bool, o fscopy.Options) error {
	var st unix.Stat_t
	err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case err == nil:
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if isDir && src.isDir {
			break // merged
		}
		if isDir != src.isDir && !overwrite {
			op := "open"
			if src.isDir {
				op = "mkdir"
			}
			return errdefs.Worded(errdefs.ErrAlreadyExists, "error creating %q: %s %s: file exists", shown, op, full)
		}
		// Replacing the entry removes it first. Removing a running
		// container's mount point from outside its namespace would
		// detach the mount: refuse, as the container itself would be.
		if isMountRoot(dir, name) {
			return errdefs.Worded(errdefs.ErrFailedPrecondition, "error creating %q: unlinkat %s: device or resource busy", shown, full)
		}
		if isDir != src.isDir {
			if err := removeAt(dir, name, isDir); err != nil {
				return fmt.Errorf("replacing %q: %w", shown, err)
			}
		}
	case !errors.Is(err, unix.ENOENT):
		return err
	}
	return fscopy.Copy(src.h, dir, name, o)
}

// isMountRoot tells whether the entry name of dir is the root of a mount.
func isMountRoot(dir *os.File, name string) bool {
	var stx unix.Statx_t
	if unix.Statx(int(dir.Fd()), name, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &stx) != nil {
		return false
	}
	return stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
}

// removeAt removes the entry name of dir, a directory with its content;
// nothing outside dir is touched, whatever the entries are.
func removeAt(dir *os.File, name string, isDir bool) error {
	if !isDir {
		return unix.Unlinkat(int(dir.Fd()), name, 0)
	}
	root, err := os.OpenRoot("/proc/self/fd/" + strconv.Itoa(int(dir.Fd())))
	if err != nil {
		return err
	}
	defer root.Close()
	return root.RemoveAll(name)
}

// fill copies src as planned into the open directory dir: the content of
// a source directory when l.name is "", else the entry l.name.
func fill(src *copySource, dir *os.File, l landing, shown, full string, overwrite bool, o fscopy.Options) error {
	if l.name != "" {
		return place(src, dir, l.name, shown, full, overwrite, o)
	}
	sdir, err := pathrs.Reopen(src.h, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer sdir.Close()
	return fscopy.CopyContents(sdir, dir, o)
}

// reopenDir turns an O_PATH handle on a directory into one that *at
// calls can create entries in.
func reopenDir(h *os.File) (*os.File, error) {
	defer h.Close()
	return pathrs.Reopen(h, unix.O_RDONLY|unix.O_DIRECTORY)
}

// copyIntoContainer copies src to dst in the container fs: dst resolves
// inside the container's root and mounts, read-only destinations are
// refused, Chown gives the copy to the container's user.
func (r *Runtime) copyIntoContainer(src *copySource, fs *containerFS, dst string, o CopyOptions) error {
	e, err := fs.lookup(fs.abs(dst))
	if err != nil {
		return fs.notFound(dst, err)
	}
	l, err := land(src, e.path, e.exists, e.isDir, path.Dir, path.Base)
	if err != nil {
		return err
	}
	entry := path.Join(l.dir, l.name)
	root, rel, ro := fs.resolve(entry)
	if ro {
		return fmt.Errorf("cannot copy into %s:%s: it is on a read-only mount or root filesystem: %w", fs.name, dst, errdefs.ErrFailedPrecondition)
	}
	var fo fscopy.Options
	if o.Chown {
		if fo.Owner, err = r.owner(fs); err != nil {
			return err
		}
	}
	rootH, err := fs.rootHandle(root)
	if err != nil {
		return err
	}
	if rel == "/" && l.name != "" {
		// The entry is a mount's root (a volume or bind mount of a
		// stopped container): a directory merges into it, as into any
		// existing directory.
		if !src.isDir {
			return fmt.Errorf("copying to container: error creating %q: open %s: file exists: %w", entry, entry, errdefs.ErrAlreadyExists)
		}
		l.name = ""
		src = &copySource{h: src.h, isDir: true, contents: true}
	}
	dirRel := rel
	if l.name != "" {
		// The entry's name where it is stored: a bound file's own name
		// on the host may differ from its name in the container.
		dirRel, l.name = path.Dir(rel), path.Base(rel)
	}
	h, err := pathrs.OpenatInRoot(rootH, dirRel)
	if err != nil {
		return fs.notFound(dst, err)
	}
	dir, err := reopenDir(h)
	if err != nil {
		return fs.notFound(dst, err)
	}
	defer dir.Close()
	if err := fill(src, dir, l, entry, entry, o.Overwrite, fo); err != nil {
		return fmt.Errorf("copying to container: %w", err)
	}
	return nil
}

// CopyToContainer copies the host path src into the container at dst.
func (r *Runtime) CopyToContainer(ctx context.Context, nameOrID, src, dst string, o CopyOptions) error {
	fs, err := r.openContainerFS(ctx, nameOrID)
	if err != nil {
		return err
	}
	defer fs.Close()
	s, err := hostSource(src)
	if err != nil {
		return err
	}
	defer s.Close()
	return r.copyIntoContainer(s, fs, dst, o)
}

// CopyFromContainer copies src from the container to the host path dst.
// The copy belongs to the calling user, as with podman and docker.
func (r *Runtime) CopyFromContainer(ctx context.Context, nameOrID, src, dst string, o CopyOptions) error {
	fs, err := r.openContainerFS(ctx, nameOrID)
	if err != nil {
		return err
	}
	defer fs.Close()
	s, err := ctrSource(fs, src)
	if err != nil {
		return err
	}
	defer s.Close()
	l, err := hostLanding(s, dst)
	if err != nil {
		return err
	}
	dir, err := os.OpenFile(l.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return hostNotFound(dst, err)
	}
	defer dir.Close()
	fo := fscopy.Options{Owner: &fscopy.Owner{UID: os.Getuid(), GID: os.Getgid()}}
	// podman names the entry relative to the directory it lands in.
	if err := fill(s, dir, l, "/"+l.name, filepath.Join(l.dir, l.name), o.Overwrite, fo); err != nil {
		return fmt.Errorf("copying to host: %w", err)
	}
	return nil
}

// hostLanding resolves the host destination dst of a copy of src: an
// existing directory or regular file, or a new entry in an existing
// directory.
func hostLanding(src *copySource, dst string) (landing, error) {
	abs, err := filepath.Abs(dst)
	if err != nil {
		return landing{}, err
	}
	st, err := os.Stat(dst)
	if err != nil {
		if strings.HasSuffix(dst, "/") {
			return landing{}, hostNotFound(dst, err)
		}
		if pst, perr := os.Stat(filepath.Dir(abs)); perr != nil || !pst.IsDir() {
			return landing{}, hostNotFound(dst, err)
		}
		return land(src, abs, false, false, filepath.Dir, filepath.Base)
	}
	if !st.IsDir() && !st.Mode().IsRegular() {
		return landing{}, errdefs.Worded(errdefs.ErrInvalidArgument, "invalid destination: %q must be a directory or a regular file", dst)
	}
	return land(src, abs, true, st.IsDir(), filepath.Dir, filepath.Base)
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
	dfs, err := r.openContainerFS(ctx, dstCtr)
	if err != nil {
		return err
	}
	defer dfs.Close()
	s, err := ctrSource(sfs, src)
	if err != nil {
		return err
	}
	defer s.Close()
	return r.copyIntoContainer(s, dfs, dst, o)
}

// CopyArchiveToContainer unpacks a tar stream (optionally compressed) into
// the container directory dst.
func (r *Runtime) CopyArchiveToContainer(ctx context.Context, nameOrID, dst string, tar io.Reader, o CopyOptions) error {
	fs, err := r.openContainerFS(ctx, nameOrID)
	if err != nil {
		return err
	}
	defer fs.Close()
	e, err := fs.lookup(fs.abs(dst))
	switch {
	case err != nil && strings.HasSuffix(dst, "/"):
		return fs.notFound(dst, err)
	case err != nil || !e.exists || !e.isDir:
		return errStdinDest()
	}
	tar, err = checkTarStream(tar)
	if err != nil {
		return err
	}
	root, rel, ro := fs.resolve(e.path)
	if ro {
		return fmt.Errorf("cannot copy into %s:%s: it is on a read-only mount or root filesystem: %w", fs.name, dst, errdefs.ErrFailedPrecondition)
	}
	rootH, err := fs.rootHandle(root)
	if err != nil {
		return err
	}
	d, err := pathrs.OpenatInRoot(rootH, rel)
	if err != nil {
		return fs.notFound(dst, err)
	}
	defer d.Close()
	if isDir, err := isDirHandle(d); err != nil || !isDir {
		return errStdinDest()
	}
	opts := fscopy.UnpackOptions{NoOverwriteDirNonDir: !o.Overwrite}
	if o.Chown {
		if opts.Owner, err = r.owner(fs); err != nil {
			return err
		}
	}
	// Every entry resolves inside the destination directory.
	if err := fscopy.Unpack(tar, d, opts); err != nil {
		return fmt.Errorf("copying to container: %w", err)
	}
	return nil
}

// checkTarStream refuses a stream that is not a tar archive, compressed
// or not, before anything is unpacked, as podman does. It returns the
// stream to unpack: r itself when it is a regular file (unpacked in
// place), else a buffered reader that still holds what was looked at.
func checkTarStream(r io.Reader) (io.Reader, error) {
	const peek = 64 << 10
	errNotTar := errdefs.Worded(errdefs.ErrInvalidArgument, "source must be a (compressed) tar archive when copying from stdin")
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			if off, err := f.Seek(0, io.SeekCurrent); err == nil {
				head := make([]byte, peek)
				n, _ := f.ReadAt(head, off)
				if !looksLikeTar(head[:n]) {
					return nil, errNotTar
				}
				return f, nil
			}
		}
	}
	br := bufio.NewReaderSize(r, peek)
	head, _ := br.Peek(peek)
	if !looksLikeTar(head) {
		return nil, errNotTar
	}
	return br, nil
}

// looksLikeTar tells whether head, the start of a stream, is the start of
// a tar archive: its first header's checksum is right, after
// decompression if head is compressed.
func looksLikeTar(head []byte) bool {
	rd := io.Reader(bytes.NewReader(head))
	if archive.DetectCompression(head) != archive.Uncompressed {
		dr, err := archive.DecompressStream(bytes.NewReader(head))
		if err != nil {
			return false
		}
		defer dr.Close()
		rd = dr
	}
	block := make([]byte, 512)
	if _, err := io.ReadFull(rd, block); err != nil {
		return false
	}
	return tarChecksumOK(block)
}

// tarChecksumOK checks a tar header block: the checksum field holds the
// sum of the block's bytes with the field itself counted as spaces
// (unsigned, or signed as some old tars wrote it). A block of zeros, the
// end of an empty archive, is no header.
func tarChecksumOK(block []byte) bool {
	field := strings.Trim(string(block[148:156]), " \x00")
	want, err := strconv.ParseInt(field, 8, 64)
	if err != nil || field == "" {
		return false
	}
	var unsigned, signed int64
	for i, b := range block {
		if i >= 148 && i < 156 {
			b = ' '
		}
		unsigned += int64(b)
		signed += int64(int8(b))
	}
	return want == unsigned || want == signed
}

// CopyArchiveFromContainer writes src from the container as a tar stream
// whose top entry is src's name (its content only for "SRC/."); owners
// are kept.
func (r *Runtime) CopyArchiveFromContainer(ctx context.Context, nameOrID, src string, w io.Writer, o CopyOptions) error {
	fs, err := r.openContainerFS(ctx, nameOrID)
	if err != nil {
		return err
	}
	defer fs.Close()
	s, err := ctrSource(fs, src)
	if err != nil {
		return err
	}
	defer s.Close()
	name := s.name
	if s.contents {
		name = ""
	}
	return fscopy.Archive(w, s.h, name)
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
