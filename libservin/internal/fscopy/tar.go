//go:build linux

package fscopy

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Archive writes the object src (any file type; a directory with its
// content) as a tar stream to w, its entries named under name ("" puts the
// content of a directory at the top of the archive). Like the copy, it
// walks with *at calls and never follows a symlink, so it reads nothing
// outside src whatever the tree's symlinks say. The stream is finished
// (end-of-archive blocks written) on success.
func Archive(w io.Writer, src *os.File, name string) error {
	defer runtime.KeepAlive(src)
	a := &archiver{tw: tar.NewWriter(w), links: map[inode]string{}, buf: make([]byte, 1<<20)}
	fd, err := unix.FcntlInt(src.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := a.entry(fd, strings.Trim(name, "/"), name == ""); err != nil {
		return err
	}
	return a.tw.Close()
}

type archiver struct {
	tw    *tar.Writer
	links map[inode]string // first name of each multiply-linked file
	buf   []byte
}

// entry archives the object open as the handle fd under name; top (with
// an empty name) writes no entry for the directory itself.
func (a *archiver) entry(fd int, name string, top bool) error {
	var st unix.Stat_t
	if err := unix.Fstatat(fd, "", &st, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	h := &tar.Header{
		Name: name, Mode: int64(st.Mode & 0o7777), Uid: int(st.Uid), Gid: int(st.Gid),
		ModTime: time.Unix(st.Mtim.Unix()).Truncate(time.Second),
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return a.dir(fd, h, &st, top)
	case unix.S_IFREG:
		return a.file(fd, h, &st)
	case unix.S_IFLNK:
		target, err := readlinkEmpty(fd)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		h.Typeflag, h.Linkname = tar.TypeSymlink, target
	case unix.S_IFCHR, unix.S_IFBLK:
		h.Typeflag = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			h.Typeflag = tar.TypeBlock
		}
		h.Devmajor, h.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		h.Typeflag = tar.TypeFifo
	default:
		return nil // sockets have no place in an archive
	}
	return a.tw.WriteHeader(h)
}

func (a *archiver) dir(fd int, h *tar.Header, st *unix.Stat_t, top bool) error {
	dfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	d := os.NewFile(uintptr(dfd), h.Name)
	defer d.Close()
	if !top {
		h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		a.xattrs(dfd, h)
		if err := a.tw.WriteHeader(h); err != nil {
			return err
		}
	}
	prefix := strings.TrimSuffix(h.Name, "/")
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	// Sorted, so that the same tree always makes the same archive.
	slices.Sort(names)
	for _, n := range names {
		child, err := unix.Openat(dfd, n, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			continue // removed meanwhile (a running container)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path.Join(prefix, n), err)
		}
		err = a.entry(child, path.Join(prefix, n), false)
		unix.Close(child)
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *archiver) file(fd int, h *tar.Header, st *unix.Stat_t) error {
	if st.Nlink > 1 {
		key := inode{uint64(st.Dev), st.Ino}
		if first, ok := a.links[key]; ok {
			h.Typeflag, h.Linkname = tar.TypeLink, first
			return a.tw.WriteHeader(h)
		}
		a.links[key] = h.Name
	}
	f, err := unix.Open(procFd(fd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	defer unix.Close(f)
	h.Typeflag, h.Size = tar.TypeReg, st.Size
	a.xattrs(f, h)
	if err := a.tw.WriteHeader(h); err != nil {
		return err
	}
	// Exactly Size bytes: a file that grows is cut, one that shrinks is
	// padded, so the archive stays well-formed.
	left := st.Size
	for left > 0 {
		n, err := unix.Read(f, a.buf[:min(int64(len(a.buf)), left)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		if n == 0 {
			clear(a.buf)
			for left > 0 {
				m := min(int64(len(a.buf)), left)
				if _, err := a.tw.Write(a.buf[:m]); err != nil {
					return err
				}
				left -= m
			}
			break
		}
		if _, err := a.tw.Write(a.buf[:n]); err != nil {
			return err
		}
		left -= int64(n)
	}
	return nil
}

// xattrs records the extended attributes of fd as PAX records, as GNU tar
// and containers/storage do (SCHILY.xattr.NAME).
func (a *archiver) xattrs(fd int, h *tar.Header) {
	size, err := unix.Flistxattr(fd, nil)
	if err != nil || size == 0 {
		return
	}
	list := make([]byte, size)
	if size, err = unix.Flistxattr(fd, list); err != nil {
		return
	}
	for _, name := range strings.Split(strings.TrimRight(string(list[:size]), "\x00"), "\x00") {
		if name == "" || name == "security.selinux" {
			continue
		}
		n, err := unix.Fgetxattr(fd, name, nil)
		if err != nil {
			continue
		}
		val := make([]byte, n)
		if n, err = unix.Fgetxattr(fd, name, val); err != nil {
			continue
		}
		if h.PAXRecords == nil {
			h.PAXRecords = map[string]string{}
		}
		h.PAXRecords["SCHILY.xattr."+name] = string(val[:n])
	}
}
