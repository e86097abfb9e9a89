//go:build linux

package fscopy

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func requiresRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown, mknod)")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func openDir(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	must(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// makeTree builds a tree with every kind of entry fscopy handles.
func makeTree(t *testing.T, dir string) {
	must(t, os.MkdirAll(filepath.Join(dir, "sub", "deep"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "file"), []byte("hello"), 0o640))
	must(t, os.WriteFile(filepath.Join(dir, "sub", "deep", "data"), make([]byte, 3<<20), 0o600))
	must(t, os.Chown(filepath.Join(dir, "file"), 1000, 1001))
	must(t, unix.Chmod(filepath.Join(dir, "sub"), 0o1750))
	must(t, os.Symlink("/etc/passwd", filepath.Join(dir, "abs-link")))
	must(t, os.Symlink("../file", filepath.Join(dir, "sub", "rel-link")))
	must(t, os.Link(filepath.Join(dir, "file"), filepath.Join(dir, "hardlink")))
	must(t, unix.Mkfifo(filepath.Join(dir, "fifo"), 0o620))
	must(t, unix.Setxattr(filepath.Join(dir, "file"), "user.test", []byte("v"), 0))
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	must(t, os.Chtimes(filepath.Join(dir, "file"), old, old))
	// The read-only directory must still receive its content.
	must(t, os.Mkdir(filepath.Join(dir, "ro"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "ro", "x"), []byte("x"), 0o644))
	must(t, os.Chmod(filepath.Join(dir, "ro"), 0o555))
}

func checkTree(t *testing.T, dir string) {
	t.Helper()
	st := func(p string) *unix.Stat_t {
		var s unix.Stat_t
		must(t, unix.Lstat(filepath.Join(dir, p), &s))
		return &s
	}
	if b, err := os.ReadFile(filepath.Join(dir, "file")); err != nil || string(b) != "hello" {
		t.Errorf("file: %q %v", b, err)
	}
	f := st("file")
	if f.Uid != 1000 || f.Gid != 1001 || f.Mode&0o7777 != 0o640 {
		t.Errorf("file owner/mode %d:%d %o", f.Uid, f.Gid, f.Mode&0o7777)
	}
	if time.Unix(f.Mtim.Unix()).Year() != 2001 {
		t.Errorf("file mtime not kept: %v", time.Unix(f.Mtim.Unix()))
	}
	if h := st("hardlink"); h.Ino != f.Ino {
		t.Error("hard link became a copy")
	}
	if s := st("sub"); s.Mode&0o7777 != 0o1750 {
		t.Errorf("sub mode %o", s.Mode&0o7777)
	}
	if l, err := os.Readlink(filepath.Join(dir, "abs-link")); err != nil || l != "/etc/passwd" {
		t.Errorf("abs-link -> %q %v", l, err)
	}
	if l, err := os.Readlink(filepath.Join(dir, "sub", "rel-link")); err != nil || l != "../file" {
		t.Errorf("rel-link -> %q %v", l, err)
	}
	if s := st("fifo"); s.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Error("fifo is not a fifo")
	}
	if fi, err := os.Stat(filepath.Join(dir, "sub", "deep", "data")); err != nil || fi.Size() != 3<<20 {
		t.Errorf("big file: %v %v", fi, err)
	}
	buf := make([]byte, 8)
	if n, err := unix.Getxattr(filepath.Join(dir, "file"), "user.test", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("xattr: %q %v", buf[:n], err)
	}
	if s := st("ro"); s.Mode&0o7777 != 0o555 {
		t.Errorf("ro mode %o", s.Mode&0o7777)
	}
}

func TestCopyTree(t *testing.T) {
	requiresRoot(t)
	src, dst := t.TempDir(), t.TempDir()
	makeTree(t, src)
	s, err := os.OpenFile(src, unix.O_PATH, 0)
	must(t, err)
	defer s.Close()
	must(t, Copy(s, openDir(t, dst), "copy", Options{}))
	checkTree(t, filepath.Join(dst, "copy"))

	// CopyContents into an existing directory merges and takes src's mode.
	must(t, os.Mkdir(filepath.Join(dst, "merge"), 0o700))
	must(t, os.WriteFile(filepath.Join(dst, "merge", "keep"), nil, 0o644))
	must(t, CopyContents(openDir(t, src), openDir(t, filepath.Join(dst, "merge")), Options{}))
	checkTree(t, filepath.Join(dst, "merge"))
	if _, err := os.Stat(filepath.Join(dst, "merge", "keep")); err != nil {
		t.Error("existing entry was removed by a merge")
	}
}

func TestCopyOwner(t *testing.T) {
	requiresRoot(t)
	src, dst := t.TempDir(), t.TempDir()
	makeTree(t, src)
	must(t, CopyContents(openDir(t, src), openDir(t, dst), Options{Owner: &Owner{UID: 7, GID: 8}}))
	for _, p := range []string{"file", "sub/deep/data", "abs-link", "."} {
		var st unix.Stat_t
		must(t, unix.Lstat(filepath.Join(dst, p), &st))
		if st.Uid != 7 || st.Gid != 8 {
			t.Errorf("%s owned by %d:%d, want 7:8", p, st.Uid, st.Gid)
		}
	}
}

// TestCopyNeverFollowsDestinationSymlinks: a symlink already at the
// destination (planted by a container) is replaced, never written through.
func TestCopyNeverFollowsDestinationSymlinks(t *testing.T) {
	requiresRoot(t)
	src, dst, outside := t.TempDir(), t.TempDir(), t.TempDir()
	must(t, os.Mkdir(filepath.Join(src, "d"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "d", "f"), []byte("new"), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "f"), []byte("new"), 0o644))
	must(t, os.WriteFile(filepath.Join(outside, "f"), []byte("host"), 0o644))
	must(t, os.Symlink(outside, filepath.Join(dst, "d")))
	must(t, os.Symlink(filepath.Join(outside, "f"), filepath.Join(dst, "f")))
	must(t, CopyContents(openDir(t, src), openDir(t, dst), Options{}))
	if b, _ := os.ReadFile(filepath.Join(outside, "f")); string(b) != "host" {
		t.Fatalf("the copy wrote through a symlink: outside file now %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(dst, "d")); err != nil || !fi.IsDir() {
		t.Errorf("d should now be a directory: %v %v", fi, err)
	}
}

func TestCopyDirOverFileRefused(t *testing.T) {
	requiresRoot(t)
	src, dst := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(src, "x"), nil, 0o644))
	must(t, os.Mkdir(filepath.Join(dst, "x"), 0o755))
	if err := CopyContents(openDir(t, src), openDir(t, dst), Options{}); err == nil {
		t.Error("a file replaced a directory")
	}
}

func TestArchive(t *testing.T) {
	requiresRoot(t)
	src := t.TempDir()
	makeTree(t, src)
	s, err := os.OpenFile(src, unix.O_PATH, 0)
	must(t, err)
	defer s.Close()
	var buf bytes.Buffer
	must(t, Archive(&buf, s, "top"))
	got := map[string]*tar.Header{}
	var order []string
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		got[h.Name] = h
		order = append(order, h.Name)
		if h.Name == "top/file" {
			b, _ := io.ReadAll(tr)
			if string(b) != "hello" {
				t.Errorf("file content %q", b)
			}
		}
	}
	want := map[string]byte{
		"top/": tar.TypeDir, "top/file": tar.TypeReg, "top/hardlink": tar.TypeLink, "top/abs-link": tar.TypeSymlink,
		"top/fifo": tar.TypeFifo, "top/sub/": tar.TypeDir, "top/sub/deep/data": tar.TypeReg, "top/ro/": tar.TypeDir,
	}
	for name, typ := range want {
		h := got[name]
		if h == nil || h.Typeflag != typ {
			t.Errorf("%s: %+v, want type %c (entries %v)", name, h, typ, order)
		}
	}
	if h := got["top/file"]; h != nil && (h.Uid != 1000 || h.Gid != 1001 || h.Mode != 0o640 || h.PAXRecords["SCHILY.xattr.user.test"] != "v" || h.ModTime.Year() != 2001) {
		t.Errorf("file header %+v", h)
	}
	if h := got["top/hardlink"]; h != nil && h.Linkname != "top/file" && h.Linkname != "top/hardlink" {
		t.Errorf("hard link to %q", h.Linkname)
	}
	if h := got["top/abs-link"]; h != nil && h.Linkname != "/etc/passwd" {
		t.Errorf("symlink to %q", h.Linkname)
	}
	if h := got["top/sub/"]; h != nil && h.Mode != 0o1750 {
		t.Errorf("sub mode %o", h.Mode)
	}
	if got["top/sub/deep/data"].Size != 3<<20 {
		t.Errorf("big file size %d", got["top/sub/deep/data"].Size)
	}
	// An empty name puts a directory's content at the top.
	buf.Reset()
	must(t, Archive(&buf, s, ""))
	h, err := tar.NewReader(&buf).Next()
	must(t, err)
	if strings.HasPrefix(h.Name, "/") || strings.HasPrefix(h.Name, "top") || h.Name == "" {
		t.Errorf("first entry of a content archive: %q", h.Name)
	}
}
