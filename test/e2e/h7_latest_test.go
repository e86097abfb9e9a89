package e2e

import (
	"strings"
	"testing"
)

// TestH7Latest: -l/--latest picks the newest container on attach, start,
// diff, exec, top, stats, update, mount and umount too, as in podman;
// with a container argument as well it is refused.
func TestH7Latest(t *testing.T) {
	s := newIsolatedServin(t) // "latest" must not see other tests' containers
	s.importBusybox()
	first := s.name("first")
	s.mustRun("run", "-d", "--name", first, "--network", "none", busybox, "sleep", "300")
	ctr := s.name("created")
	s.mustRun("create", "--name", ctr, "--network", "none", busybox, "sh", "-c", "echo started; touch /latest-was-here")
	if out := s.mustRun("start", "-a", "-l"); out != "started" {
		t.Errorf("start -a -l printed %q", out)
	}
	if out := s.mustRun("diff", "-l"); !strings.Contains(out, "A /latest-was-here") {
		t.Errorf("diff -l: %q", out)
	}
	last := s.name("last")
	id := s.mustRun("run", "-d", "--name", last, "--network", "none", "--hostname", "newest", busybox, "sleep", "300")
	if out := s.mustRun("exec", "-l", "hostname"); out != "newest" {
		t.Errorf("exec -l hostname: %q", out)
	}
	if out := s.mustRun("top", "-l"); !strings.Contains(out, "sleep 300") {
		t.Errorf("top -l: %q", out)
	}
	if out := s.mustRun("top", "--latest", "pid", "args"); !strings.Contains(out, "sleep 300") || strings.Contains(out, "USER") {
		t.Errorf("top --latest pid args: %q", out)
	}
	if out := s.mustRun("stats", "-l", "--no-stream", "--format", "{{.Name}}"); out != last {
		t.Errorf("stats -l: %q", out)
	}
	if out := s.mustRun("update", "-l", "--cpu-shares", "512"); out != id {
		t.Errorf("update -l printed %q, want %s", out, id)
	}
	if got := s.inspect(last, "{{.HostConfig.CpuShares}}"); got != "512" {
		t.Errorf("update -l: cpu shares %s", got)
	}
	if got := s.inspect(first, "{{.HostConfig.CpuShares}}"); got == "512" {
		t.Errorf("update -l changed an older container")
	}
	mnt := s.mustRun("mount", "-l")
	if !strings.Contains(mnt, id) {
		t.Errorf("mount -l printed %q", mnt)
	}
	s.mustRun("umount", "-l")
	// --latest and a container together are refused.
	s.expectExit(s.run("diff", "-l", first), 125)
	s.expectExit(s.run("attach", "-l", first), 125)
	s.mustRun("stop", "-t", "0", last)
	s.expectExit(s.run("exec", "-l", "true"), 125)
}
