package testimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestRootfsTar(t *testing.T) {
	var buf bytes.Buffer
	if err := RootfsTar(&buf); err != nil {
		t.Fatal(err)
	}
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[hdr.Name] = hdr
	}
	for _, name := range []string{"bin/busybox", "etc/passwd", "etc/group", "tmp/"} {
		if entries[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
	for _, a := range []string{"sh", "echo", "cat", "ls", "sleep", "true", "false", "id", "env", "top", "ps"} {
		hdr := entries["bin/"+a]
		if hdr == nil || hdr.Typeflag != tar.TypeSymlink || hdr.Linkname != "busybox" {
			t.Errorf("bin/%s is not a symlink to busybox: %+v", a, hdr)
		}
	}
	if m := entries["tmp/"].Mode; m != 0o1777 {
		t.Errorf("tmp mode %o", m)
	}
}

func TestRootfsTarIsReproducible(t *testing.T) {
	var a, b bytes.Buffer
	if err := RootfsTar(&a); err != nil {
		t.Fatal(err)
	}
	if err := RootfsTar(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two builds differ")
	}
}

func TestArchives(t *testing.T) {
	dir := t.TempDir()
	docker := filepath.Join(dir, "docker.tar")
	if err := DockerArchive(docker, "busybox:1"); err != nil {
		t.Fatal(err)
	}
	if !tarHas(t, docker, "manifest.json") {
		t.Error("docker archive has no manifest.json")
	}
	oci := filepath.Join(dir, "oci.tar")
	if err := OCIArchive(oci, "busybox:oci"); err != nil {
		t.Fatal(err)
	}
	if !tarHas(t, oci, "index.json") {
		t.Error("oci archive has no index.json")
	}
}

func tarHas(t *testing.T, path, name string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return false
		}
		if filepath.Clean(hdr.Name) == name {
			return true
		}
	}
}
