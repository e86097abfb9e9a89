package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestH8Rootfs runs containers in a host directory (--rootfs): writes land
// in it, or with PATH:O in a throwaway overlay that leaves it untouched.
func TestH8Rootfs(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	dir := t.TempDir()
	if out, err := exec.Command("tar", "-xf", suite.rootfsTar, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("unpacking the test rootfs: %v\n%s", err, out)
	}
	if out := s.mustRun("run", "--rm", "--rootfs", dir, "sh", "-c", "echo hi > /written; cat /written"); out != "hi" {
		t.Errorf("run --rootfs: %q", out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "written")); err != nil || string(b) != "hi\n" {
		t.Errorf("the write did not reach the directory: %q %v", b, err)
	}
	s.mustRun("run", "--rm", "--rootfs", dir+":O", "sh", "-c", "echo x > /overlaid; rm /written")
	if _, err := os.Stat(filepath.Join(dir, "overlaid")); err == nil {
		t.Errorf("a write under :O reached the directory")
	}
	if _, err := os.Stat(filepath.Join(dir, "written")); err != nil {
		t.Errorf("a removal under :O reached the directory: %v", err)
	}
	name := s.name("rootfs")
	s.mustRun("create", "--name", name, "--rootfs", dir+":O", "sleep", "1000")
	s.mustRun("start", name)
	if got := s.inspect(name, "{{.Rootfs}} {{.State.Status}}"); got != dir+" running" {
		t.Errorf("inspect: %q", got)
	}
	if out := s.mustRun("exec", name, "cat", "/written"); out != "hi" {
		t.Errorf("exec in a --rootfs container: %q", out)
	}
	s.mustRun("rm", "-f", "-t0", name)
	r := s.run("run", "--rm", "--rootfs", filepath.Join(dir, "missing"), "true")
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "no such file or directory") {
		t.Errorf("missing rootfs: %s", r)
	}
}
