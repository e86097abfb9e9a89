package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestH8Systemd covers --systemd as podman's 030-run tests it: the tmpfs
// mounts systemd needs, /run/.containerenv still there, the stop signal,
// the detection of an init command, and no virtual terminals for a
// privileged systemd container.
func TestH8Systemd(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	out := s.mustRun("run", "--rm", "--systemd=always", busybox, "sh", "-c",
		`stat -c %s /run/.containerenv; for d in /run /run/lock /tmp /var/log/journal; do grep " $d " /proc/self/mountinfo | grep -q " - tmpfs " && echo "$d tmpfs"; done; grep " /sys/fs/cgroup " /proc/self/mountinfo | cut -d" " -f6`)
	want := "0\n/run tmpfs\n/run/lock tmpfs\n/tmp tmpfs\n/var/log/journal tmpfs\nrw,"
	if !strings.HasPrefix(out, want) {
		t.Errorf("--systemd=always:\n%s\nwant prefix\n%s", out, want)
	}
	// Without systemd mode, /run is the image's.
	if out := s.mustRun("run", "--rm", busybox, "sh", "-c", `grep -c " /run " /proc/self/mountinfo || true`); out != "0" {
		t.Errorf("/run mounted without systemd mode: %s", out)
	}
	name := s.name("init")
	s.mustRun("create", "--name", name, busybox, "/sbin/init")
	if got := s.inspect(name, "{{.Config.SystemdMode}} {{.Config.StopSignal}}"); got != "true SIGRTMIN+3" {
		t.Errorf("/sbin/init: %q", got)
	}
	name = s.name("noinit")
	s.mustRun("create", "--name", name, "--systemd=false", busybox, "/sbin/init")
	if got := s.inspect(name, "{{.Config.SystemdMode}} {{.Config.StopSignal}}"); got != "false SIGTERM" {
		t.Errorf("--systemd=false: %q", got)
	}
	s.expectStderr(s.run("create", "--systemd=sometimes", busybox, "true"), 125,
		`Error: invalid value "sometimes" for --systemd: use true, false or always`)

	ttys, _ := filepath.Glob("/dev/tty[0-9]*")
	if len(ttys) == 0 {
		t.Skip("no /dev/ttyN on this host")
	}
	if _, err := os.Stat(ttys[0]); err != nil {
		t.Skip(err)
	}
	count := `find /dev -regex '/dev/tty[0-9].*' | wc -w`
	if got := s.mustRun("run", "--rm", "--privileged", busybox, "sh", "-c", count); got == "0" {
		t.Errorf("a privileged container has no /dev/ttyN")
	}
	if got := s.mustRun("run", "--rm", "--privileged", "--systemd=always", busybox, "sh", "-c", count); got != "0" {
		t.Errorf("a privileged systemd container has %s /dev/ttyN", got)
	}
}
