package libservin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// stoppedFS builds the filesystem of a stopped container: a root
// filesystem and a volume at /data, each a directory of the test's, with
// the symlinks a container could plant.
func stoppedFS(t *testing.T) *containerFS {
	t.Helper()
	rootfs, vol := t.TempDir(), t.TempDir()
	for _, d := range []string{"etc", "srv/sub", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(rootfs, "etc/passwd"): "root",
		filepath.Join(vol, "etc/passwd"):    "volume's",
	}
	for p, content := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		filepath.Join(rootfs, "abs"):          "/etc",
		filepath.Join(rootfs, "srv/up"):       "../../../../..",
		filepath.Join(rootfs, "srv/sub/rel"):  "../../etc/passwd",
		filepath.Join(rootfs, "tmp/dangling"): "/tmp/newfile",
		filepath.Join(rootfs, "tmp/loop"):     "loop",
		filepath.Join(rootfs, "tmp/host"):     rootfs + "/etc",
		filepath.Join(vol, "etc-link"):        "/etc",
		filepath.Join(vol, "up"):              "..",
	}
	for p, target := range links {
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	fs := &containerFS{arg: "c", workdir: "/srv", root: rootfs, roots: map[string]*os.File{},
		mounts: []fsMount{{dest: "/data", source: vol}, {dest: "/mnt/deep/vol", source: vol}}}
	t.Cleanup(fs.Close)
	return fs
}

func TestCpLookup(t *testing.T) {
	fs := stoppedFS(t)
	cases := []struct {
		in          string
		path        string
		exists, dir bool
		err         error
	}{
		{in: "/", path: "/", exists: true, dir: true},
		{in: "/etc/passwd", path: "/etc/passwd", exists: true},
		{in: "/abs/passwd", path: "/etc/passwd", exists: true},
		{in: "/abs", path: "/etc", exists: true, dir: true},
		{in: "sub/rel", path: "/etc/passwd", exists: true},
		{in: "up/etc/passwd", path: "/etc/passwd", exists: true},
		{in: "/../../etc/./passwd", path: "/etc/passwd", exists: true},
		{in: "/tmp/dangling", path: "/tmp/newfile"},
		{in: "/tmp/new", path: "/tmp/new"},
		// A symlink to the host's path of the root filesystem means that
		// path inside the container, where there is no such thing.
		{in: "/tmp/host/passwd", err: unix.ENOENT},
		{in: "/tmp/dangling/", err: unix.ENOENT},
		{in: "/nodir/file", err: unix.ENOENT},
		{in: "/etc/passwd/", err: unix.ENOTDIR},
		{in: "/etc/passwd/x", err: unix.ENOTDIR},
		{in: "/tmp/loop", err: unix.ELOOP},
		// In the volume: its links resolve in the container, not in the
		// volume (whose own etc/passwd is another file).
		{in: "/data/etc-link/passwd", path: "/etc/passwd", exists: true},
		{in: "/data/etc/passwd", path: "/data/etc/passwd", exists: true},
		{in: "/data/up/etc/passwd", path: "/etc/passwd", exists: true},
		// Directories the runtime makes for a mount exist.
		{in: "/mnt/deep/vol/etc/passwd", path: "/mnt/deep/vol/etc/passwd", exists: true},
		{in: "/mnt/deep", path: "/mnt/deep", exists: true, dir: true},
	}
	for _, c := range cases {
		e, err := fs.lookup(fs.abs(c.in))
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: error %v, want %v", c.in, err, c.err)
			}
			continue
		}
		if err != nil || e.path != c.path || e.exists != c.exists || e.isDir != c.dir {
			t.Errorf("%s: %+v %v, want %s exists=%v dir=%v", c.in, e, err, c.path, c.exists, c.dir)
		}
	}
	// What the canonical paths open is the right file.
	for p, want := range map[string]string{"/etc/passwd": "root", "/data/etc/passwd": "volume's", "/mnt/deep/vol/etc/passwd": "volume's"} {
		h, _, err := fs.open(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile("/proc/self/fd/" + strconv.Itoa(int(h.Fd())))
		h.Close()
		if err != nil || string(b) != want {
			t.Errorf("%s opened %q %v, want %q", p, b, err, want)
		}
	}
}

func TestTarChecksum(t *testing.T) {
	block := make([]byte, 512)
	copy(block, "file.txt")
	copy(block[100:], "0000644\x00")
	copy(block[156:], "0")
	var sum int
	for i, b := range block {
		if i >= 148 && i < 156 {
			b = ' '
		}
		sum += int(b)
	}
	copy(block[148:], fmt.Sprintf("%06o\x00 ", sum))
	if !tarChecksumOK(block) {
		t.Errorf("a valid header was refused")
	}
	block[0] = 'g'
	if tarChecksumOK(block) {
		t.Errorf("a header with a wrong checksum was accepted")
	}
	if tarChecksumOK(make([]byte, 512)) {
		t.Errorf("a zero block was accepted")
	}
	if looksLikeTar([]byte("plain text\n")) || looksLikeTar(nil) {
		t.Errorf("text was taken for a tar archive")
	}
}
