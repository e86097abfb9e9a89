package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestH8MountTypes follows podman's 060-mount tests of --mount type=glob,
// type=ramfs and writable image mounts.
func TestH8MountTypes(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	dir := t.TempDir()
	for _, f := range []string{"v1a", "v1b", "v2"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v1a, v1b, v2 := filepath.Join(dir, "v1a"), filepath.Join(dir, "v1b"), filepath.Join(dir, "v2")
	s.mustRun("run", "--rm", "--mount", "type=glob,src="+dir+"/v1*,ro", busybox, "ls", v1a, v1b)
	r := s.run("run", "--rm", "--mount", "source="+dir+"/v1*,type=glob,ro", busybox, "ls", v2)
	s.expectExit(r, 1)
	s.expectStderr(s.run("run", "--rm", "--mount", "source="+dir+"/v3*,type=glob,ro", busybox, "true"), 125,
		`Error: no file paths matching glob "`+dir+`/v3*"`)
	r = s.run("run", "--rm", "--mount", "source="+dir+"/v2*,type=glob,ro", busybox, "touch", v2)
	s.expectExit(r, 1)
	if !strings.Contains(r.out()+r.stderr, "Read-only file system") {
		t.Errorf("read-only glob mount: %s", r)
	}
	s.mustRun("run", "--rm", "--mount", "source="+dir+"/v2*,type=glob,ro=false", busybox, "touch", v2)
	if out := s.mustRun("run", "--rm", "--mount", "type=glob,src="+dir+"/v1*,destination=/non/existing/directory,ro", busybox, "ls", "/non/existing/directory"); out != "v1a\nv1b" {
		t.Errorf("glob into a directory: %q", out)
	}
	s.expectStderr(s.run("run", "--rm", "--mount", "type=bind,source="+dir+"/v2*,ro=false", busybox, "true"), 125,
		"Error: must set volume destination")
	for _, d := range []string{"foo1", "foo2"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
		os.WriteFile(filepath.Join(dir, d, "bar"), nil, 0o644)
	}
	s.expectStderr(s.run("run", "--rm", "--mount", "type=glob,source="+dir+"/foo?/bar,destination=/tmp", busybox, "true"), 125,
		"Error: /tmp/bar: duplicate mount destination")

	if out := s.mustRun("run", "--rm", "--mount", "type=ramfs,destination=/ram", busybox, "stat", "-f", "-c", "%T", "/ram"); out != "ramfs" {
		t.Errorf("ramfs mount: %q", out)
	}

	img := "type=image,src=" + busybox + ",dst=/image-mount"
	r = s.run("run", "--rm", "--mount", img, busybox, "touch", "/image-mount/read-only")
	s.expectExit(r, 1)
	if !strings.Contains(r.stderr, "Read-only file system") {
		t.Errorf("image mount without rw: %s", r)
	}
	for _, rw := range []string{"rw=true", "readwrite=true"} {
		s.mustRun("run", "--rm", "--mount", img+","+rw, busybox, "touch", "/image-mount/readwrite")
	}
	// The writes went to the container's own layer, not the image.
	if out := s.mustRun("run", "--rm", "--mount", img, busybox, "ls", "/image-mount/"); strings.Contains(out, "readwrite") {
		t.Errorf("a write through a rw image mount reached the image:\n%s", out)
	}
}
