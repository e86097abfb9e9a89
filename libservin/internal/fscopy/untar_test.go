//go:build linux

package fscopy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tarBytes builds an archive of header/content pairs.
func tarBytes(t *testing.T, entries ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(entries); i += 2 {
		h := entries[i].(*tar.Header)
		data := entries[i+1].(string)
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(data))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		must(t, tw.WriteHeader(h))
		_, err := tw.Write([]byte(data))
		must(t, err)
	}
	must(t, tw.Close())
	return buf.Bytes()
}

// sources gives the same archive as each kind of stream Unpack reads
// differently: a regular file (read in place), a pipe, and gzip.
func sources(t *testing.T, data []byte) map[string]func() io.Reader {
	return map[string]func() io.Reader{
		"file": func() io.Reader {
			p := filepath.Join(t.TempDir(), "a.tar")
			must(t, os.WriteFile(p, data, 0o644))
			f, err := os.Open(p)
			must(t, err)
			t.Cleanup(func() { f.Close() })
			return f
		},
		"pipe": func() io.Reader {
			r, w, err := os.Pipe()
			must(t, err)
			go func() { w.Write(data); w.Close() }()
			t.Cleanup(func() { r.Close() })
			return r
		},
		"gzip": func() io.Reader {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(data)
			zw.Close()
			return &buf
		},
	}
}

var time2001 = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

func TestUnpackRoundTrip(t *testing.T) {
	requiresRoot(t)
	src := t.TempDir()
	makeTree(t, src)
	s, err := os.OpenFile(src, unix.O_PATH, 0)
	must(t, err)
	defer s.Close()
	var buf bytes.Buffer
	must(t, Archive(&buf, s, ""))
	for name, open := range sources(t, buf.Bytes()) {
		t.Run(name, func(t *testing.T) {
			dst := t.TempDir()
			must(t, Unpack(open(), openDir(t, dst), UnpackOptions{}))
			checkTree(t, dst)
		})
	}
}

// TestUnpackManyFiles: files written in parallel all get their own data,
// and directories their times once their content is in.
func TestUnpackManyFiles(t *testing.T) {
	requiresRoot(t)
	var entries []any
	for d := 0; d < 5; d++ {
		entries = append(entries, &tar.Header{Typeflag: tar.TypeDir, Name: fmt.Sprintf("d%d/", d), Mode: 0o755, ModTime: time2001}, "")
		for f := 0; f < 60; f++ {
			size := 100 + f*997
			if f%20 == 0 {
				size = 5<<20 + f // above the queued size: streamed by the loop
			}
			data := bytes.Repeat([]byte{byte(d*60 + f)}, size)
			entries = append(entries, &tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("d%d/f%d", d, f), Mode: 0o640, Uid: 7, Gid: 9, ModTime: time2001}, string(data))
		}
	}
	data := tarBytes(t, entries...)
	for name, open := range sources(t, data) {
		t.Run(name, func(t *testing.T) {
			dst := t.TempDir()
			must(t, Unpack(open(), openDir(t, dst), UnpackOptions{}))
			for d := 0; d < 5; d++ {
				for f := 0; f < 60; f++ {
					p := filepath.Join(dst, fmt.Sprintf("d%d/f%d", d, f))
					b, err := os.ReadFile(p)
					size := 100 + f*997
					if f%20 == 0 {
						size = 5<<20 + f
					}
					if err != nil || len(b) != size || b[0] != byte(d*60+f) || b[len(b)-1] != byte(d*60+f) {
						t.Fatalf("%s: %d bytes %v", p, len(b), err)
					}
					var st unix.Stat_t
					must(t, unix.Lstat(p, &st))
					if st.Uid != 7 || st.Gid != 9 || st.Mode&0o7777 != 0o640 || st.Mtim.Sec != time2001.Unix() {
						t.Fatalf("%s: %d:%d %o %d", p, st.Uid, st.Gid, st.Mode&0o7777, st.Mtim.Sec)
					}
				}
				var st unix.Stat_t
				must(t, unix.Lstat(filepath.Join(dst, fmt.Sprintf("d%d", d)), &st))
				if st.Mtim.Sec != time2001.Unix() {
					t.Errorf("d%d mtime %d", d, st.Mtim.Sec)
				}
			}
		})
	}
}

// TestUnpackOrder: entries apply in archive order even when a worker is
// still writing an earlier one: a later duplicate wins, a hard link sees
// its target's data, a directory may replace a file.
func TestUnpackOrder(t *testing.T) {
	requiresRoot(t)
	data := tarBytes(t,
		&tar.Header{Typeflag: tar.TypeReg, Name: "dup"}, "first",
		&tar.Header{Typeflag: tar.TypeReg, Name: "dup"}, "second",
		&tar.Header{Typeflag: tar.TypeReg, Name: "target"}, "linked",
		&tar.Header{Typeflag: tar.TypeLink, Name: "hard", Linkname: "target"}, "",
		&tar.Header{Typeflag: tar.TypeReg, Name: "x"}, "file",
		&tar.Header{Typeflag: tar.TypeDir, Name: "x/"}, "",
		&tar.Header{Typeflag: tar.TypeReg, Name: "x/in"}, "inside",
		&tar.Header{Typeflag: tar.TypeReg, Name: "implicit/parent/f"}, "deep",
	)
	for name, open := range sources(t, data) {
		t.Run(name, func(t *testing.T) {
			dst := t.TempDir()
			must(t, Unpack(open(), openDir(t, dst), UnpackOptions{}))
			for p, want := range map[string]string{"dup": "second", "hard": "linked", "x/in": "inside", "implicit/parent/f": "deep"} {
				if b, err := os.ReadFile(filepath.Join(dst, p)); err != nil || string(b) != want {
					t.Errorf("%s = %q %v, want %q", p, b, err, want)
				}
			}
			var a, b unix.Stat_t
			must(t, unix.Lstat(filepath.Join(dst, "target"), &a))
			must(t, unix.Lstat(filepath.Join(dst, "hard"), &b))
			if a.Ino != b.Ino {
				t.Error("hard link became a copy")
			}
		})
	}
}

// TestUnpackStaysInside: no name, symlink or hard link of the archive, nor
// a symlink already in the destination, leads outside the destination.
func TestUnpackStaysInside(t *testing.T) {
	requiresRoot(t)
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	archives := map[string][]byte{
		"dotdot":   tarBytes(t, &tar.Header{Typeflag: tar.TypeReg, Name: "../../../../../../../../" + outside[1:] + "/dotdot"}, "x"),
		"absolute": tarBytes(t, &tar.Header{Typeflag: tar.TypeReg, Name: outside + "/absolute"}, "x"),
		"symlink": tarBytes(t, &tar.Header{Typeflag: tar.TypeSymlink, Name: "link", Linkname: outside}, "",
			&tar.Header{Typeflag: tar.TypeReg, Name: "link/through"}, "x"),
		"relative-symlink": tarBytes(t, &tar.Header{Typeflag: tar.TypeSymlink, Name: "rlink", Linkname: "../../../../../../../.." + outside}, "",
			&tar.Header{Typeflag: tar.TypeReg, Name: "rlink/through"}, "x"),
		"symlink-to-file": tarBytes(t, &tar.Header{Typeflag: tar.TypeSymlink, Name: "flink", Linkname: victim}, "",
			&tar.Header{Typeflag: tar.TypeReg, Name: "flink"}, "x"),
		"hardlink": tarBytes(t, &tar.Header{Typeflag: tar.TypeLink, Name: "hard", Linkname: victim}, "",
			&tar.Header{Typeflag: tar.TypeReg, Name: "hard"}, "x"),
		"hardlink-dotdot": tarBytes(t, &tar.Header{Typeflag: tar.TypeLink, Name: "hard2", Linkname: "../../../../../../../.." + victim}, ""),
		"planted": tarBytes(t, &tar.Header{Typeflag: tar.TypeReg, Name: "planted/f"}, "x",
			&tar.Header{Typeflag: tar.TypeReg, Name: "planted-file"}, "x"),
	}
	for name, data := range archives {
		for kind, open := range sources(t, data) {
			must(t, os.WriteFile(victim, []byte("original"), 0o644))
			dst := t.TempDir()
			// What a container could have planted in the destination.
			must(t, os.Symlink(outside, filepath.Join(dst, "planted")))
			must(t, os.Symlink(victim, filepath.Join(dst, "planted-file")))
			err := Unpack(open(), openDir(t, dst), UnpackOptions{})
			t.Logf("%s/%s: %v", name, kind, err)
			entries, _ := os.ReadDir(outside)
			if len(entries) != 1 {
				t.Errorf("%s/%s: wrote outside: %v", name, kind, entries)
			}
			if b, _ := os.ReadFile(victim); string(b) != "original" {
				t.Errorf("%s/%s: victim now %q", name, kind, b)
			}
		}
	}
	// "../" names are refused, not silently moved.
	if err := Unpack(bytes.NewReader(archives["dotdot"]), openDir(t, t.TempDir()), UnpackOptions{}); err == nil {
		t.Error("a ../ name was accepted")
	}
}

func TestUnpackOptions(t *testing.T) {
	requiresRoot(t)
	dst := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dst, "d"), 0o755))
	must(t, os.WriteFile(filepath.Join(dst, "f"), nil, 0o644))
	if err := Unpack(bytes.NewReader(tarBytes(t, &tar.Header{Typeflag: tar.TypeReg, Name: "d"}, "x")), openDir(t, dst), UnpackOptions{NoOverwriteDirNonDir: true}); err == nil {
		t.Error("a file replaced a directory")
	}
	if err := Unpack(bytes.NewReader(tarBytes(t, &tar.Header{Typeflag: tar.TypeDir, Name: "f/"}, "")), openDir(t, dst), UnpackOptions{NoOverwriteDirNonDir: true}); err == nil {
		t.Error("a directory replaced a file")
	}
	data := tarBytes(t, &tar.Header{Typeflag: tar.TypeDir, Name: "o/", Uid: 1, Gid: 1}, "",
		&tar.Header{Typeflag: tar.TypeReg, Name: "o/f", Uid: 1, Gid: 1}, "x",
		&tar.Header{Typeflag: tar.TypeSymlink, Name: "o/l", Linkname: "f", Uid: 1, Gid: 1}, "",
		&tar.Header{Typeflag: tar.TypeFifo, Name: "o/p", Uid: 1, Gid: 1, Mode: 0o604}, "")
	must(t, Unpack(bytes.NewReader(data), openDir(t, dst), UnpackOptions{Owner: &Owner{UID: 5, GID: 6}}))
	for _, p := range []string{"o", "o/f", "o/l", "o/p"} {
		var st unix.Stat_t
		must(t, unix.Lstat(filepath.Join(dst, p), &st))
		if st.Uid != 5 || st.Gid != 6 {
			t.Errorf("%s owned by %d:%d", p, st.Uid, st.Gid)
		}
		if p == "o/p" && (st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Mode&0o7777 != 0o604) {
			t.Errorf("fifo mode %o", st.Mode)
		}
	}
}
