package image

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestUnpackConfinedLeavesProcessAlone: the chroot of a confined unpack
// never reaches the rest of the process. /proc/self shows the process as
// its main thread sees it: were the main thread ever chrooted, its root
// link would no longer be "/".
func TestUnpackConfinedLeavesProcessAlone(t *testing.T) {
	requireRoot(t)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "f", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.WriteHeader(&tar.Header{Name: "escape", Linkname: "/", Typeflag: tar.TypeSymlink})
	tw.WriteHeader(&tar.Header{Name: "escape/tmp/" + filepath.Base(t.TempDir()) + "-out", Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Close()
	for range 50 {
		d := t.TempDir()
		if err := unpackConfined(bytes.NewReader(b.Bytes()), d, nil); err != nil {
			t.Fatal(err)
		}
		if data, err := os.ReadFile(filepath.Join(d, "f")); err != nil || string(data) != "x" {
			t.Fatalf("unpacked file: %q %v", data, err)
		}
		if root, err := os.Readlink("/proc/self/root"); err != nil || root != "/" {
			t.Fatalf("the process's root is %q (%v) after a confined unpack", root, err)
		}
		if wd, err := os.Getwd(); err != nil || wd == "/" {
			t.Fatalf("working directory %q %v", wd, err)
		}
	}
}
