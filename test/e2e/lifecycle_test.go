package e2e

import (
	"strings"
	"testing"
	"time"
)

func TestCreateStartWait(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("c")
	id := s.mustRun("create", "--name", name, "--network", "none", busybox, "sh", "-c", "echo started; exit 2")
	if !fullID.MatchString(id) {
		t.Errorf("create printed %q, want a full ID", id)
	}
	if got := s.status(name); got != "created" {
		t.Errorf("after create, status = %q", got)
	}
	if got := s.mustRun("ps", "-a", "--filter", "status=created", "--filter", "name="+name, "--format", "{{.Names}}"); got != name {
		t.Errorf("ps --filter status=created: %q", got)
	}
	if got := s.mustRun("start", name); got != name {
		t.Errorf("start printed %q, want the name", got)
	}
	if got := s.mustRun("wait", name); got != "2" {
		t.Errorf("wait printed %q, want 2", got)
	}
	if got := s.inspect(name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 2" {
		t.Errorf("status, exit code = %q", got)
	}
	if got := s.mustRun("logs", name); got != "started" {
		t.Errorf("logs = %q", got)
	}
	// A container starts again after it exited.
	s.mustRun("start", name)
	if got := s.mustRun("wait", name); got != "2" {
		t.Errorf("second wait printed %q", got)
	}
	if got := s.mustRun("logs", name); got != "started\nstarted" {
		t.Errorf("logs after two starts = %q", got)
	}
}

func TestWaitSeveral(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	a, b := s.name("a"), s.name("b")
	s.expectExit(s.run("run", "--name", a, "--network", "none", busybox, "sh", "-c", "exit 4"), 4)
	s.mustRun("run", "-d", "--name", b, "--network", "none", busybox, "sh", "-c", "sleep 0.3; exit 5")
	if got := s.mustRun("wait", a, b); got != "4\n5" {
		t.Errorf("wait a b printed %q, want 4 and 5", got)
	}
}

func TestStopTimeout(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	// sleep as PID 1 ignores SIGTERM, so stop must escalate to SIGKILL.
	name := s.name("stubborn")
	s.runDetached(name, busybox, "sleep", "100")
	start := time.Now()
	if got := s.mustRun("stop", "-t", "1", name); got != name {
		t.Errorf("stop printed %q, want the name", got)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 10*time.Second {
		t.Errorf("stop -t 1 took %v", d)
	}
	if got := s.inspect(name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
		t.Errorf("after stop: %q", got)
	}

	// -t 0 kills at once.
	quick := s.name("quick")
	s.runDetached(quick, busybox, "sleep", "100")
	start = time.Now()
	s.mustRun("stop", "-t", "0", quick)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop -t 0 took %v", d)
	}

	// --stop-timeout sets the default of stop.
	fromRun := s.name("fromrun")
	s.runDetached(fromRun, "--stop-timeout", "1", busybox, "sleep", "100")
	start = time.Now()
	s.mustRun("stop", fromRun)
	if d := time.Since(start); d < 900*time.Millisecond || d > 8*time.Second {
		t.Errorf("stop of a --stop-timeout 1 container took %v", d)
	}

	// Stopping a stopped container is fine.
	s.mustRun("stop", name)
	s.expectExit(s.run("stop", "nosuchcontainer"), 125)
}

func TestStopSignal(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("sig")
	s.runDetached(name, "--stop-signal", "USR1", busybox, "sh", "-c", `trap "exit 9" USR1; touch /tmp/ready; while :; do sleep 0.1; done`)
	s.waitReady(name)
	start := time.Now()
	s.mustRun("stop", "-t", "20", name)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stop with a handled stop signal took %v", d)
	}
	if got := s.inspect(name, "{{.State.ExitCode}}"); got != "9" {
		t.Errorf("exit code = %q, want 9 from the USR1 trap", got)
	}
}

func TestKill(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("term")
	s.runDetached(name, busybox, "sh", "-c", `trap "exit 7" TERM; touch /tmp/ready; while :; do sleep 0.1; done`)
	s.waitReady(name)
	s.mustRun("kill", "-s", "TERM", name)
	if got := s.mustRun("wait", name); got != "7" {
		t.Errorf("wait after kill -s TERM printed %q, want 7", got)
	}

	def := s.name("default")
	s.runDetached(def, busybox, "sleep", "100")
	s.mustRun("kill", def) // SIGKILL by default
	if got := s.mustRun("wait", def); got != "137" {
		t.Errorf("wait after kill printed %q, want 137", got)
	}
	// Killing a container that is not running is an error.
	s.expectExit(s.run("kill", def), 125)
	s.expectExit(s.run("kill", "-s", "NOSUCHSIGNAL", name), 125)
}

func TestRestart(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("r")
	s.runDetached(name, busybox, "sleep", "100")
	pid := s.inspect(name, "{{.State.Pid}}")
	s.mustRun("restart", "-t", "0", name)
	s.waitStatus(name, "running")
	if got := s.inspect(name, "{{.State.Pid}}"); got == pid || got == "0" {
		t.Errorf("restart kept pid %s (now %s)", pid, got)
	}
	// restart starts a stopped container too.
	s.mustRun("stop", "-t", "0", name)
	s.mustRun("restart", name)
	s.waitStatus(name, "running")
}

func TestRm(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("running")
	s.runDetached(name, busybox, "sleep", "100")
	r := s.run("rm", name)
	// podman documents 2 for "container is running"; servin follows.
	s.expectExit(r, 2)
	if got := s.status(name); got != "running" {
		t.Errorf("failed rm changed status to %q", got)
	}
	if got := s.mustRun("rm", "-f", "-t", "0", name); got != name {
		t.Errorf("rm -f printed %q, want the name", got)
	}
	if s.exists(name) {
		t.Errorf("rm -f left the container")
	}

	stopped := s.name("stopped")
	id := s.mustRun("create", "--name", stopped, busybox, "true")
	if got := s.mustRun("rm", id); got != id {
		t.Errorf("rm <id> printed %q", got)
	}
	// podman documents 1 for "no such container"; servin follows.
	s.expectExit(s.run("rm", "nosuchcontainer"), 1)
	s.expectExit(s.run("rm", "-f", "nosuchcontainer"), 0)
}

func TestRmAll(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	s.mustRun("create", "--name", "created", busybox, "true")
	s.mustRun("run", "--name", "exited", "--network", "none", busybox, "true")
	s.runDetached("running", busybox, "sleep", "100")

	// Without -f, rm -a removes what is not running and fails on the rest.
	r := s.run("rm", "-a")
	if r.exit == 0 {
		t.Errorf("rm -a with a running container succeeded:\n%s", r)
	}
	if got := s.mustRun("ps", "-a", "--format", "{{.Names}}"); got != "running" {
		t.Errorf("after rm -a, ps -a lists %q, want only running", got)
	}
	s.mustRun("rm", "-a", "-f", "-t", "0")
	if got := s.mustRun("ps", "-a", "-q"); got != "" {
		t.Errorf("after rm -af, ps -a lists %q", got)
	}
}

func TestPauseUnpause(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("p")
	s.runDetached(name, busybox, "sleep", "100")
	s.mustRun("pause", name)
	if got := s.status(name); got != "paused" {
		t.Errorf("after pause, status = %q", got)
	}
	if got := s.mustRun("ps", "--filter", "status=paused", "--filter", "name="+name, "--format", "{{.Names}}"); got != name {
		t.Errorf("ps --filter status=paused: %q", got)
	}
	s.expectExit(s.run("pause", name), 125)
	s.mustRun("unpause", name)
	if got := s.status(name); got != "running" {
		t.Errorf("after unpause, status = %q", got)
	}
	s.expectExit(s.run("unpause", name), 125)
	// A paused container can be force-removed.
	s.mustRun("pause", name)
	s.mustRun("rm", "-f", "-t", "0", name)
}

func TestRename(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	old, renamed := s.name("old"), s.name("new")
	id := s.runDetached(old, busybox, "sleep", "100")
	s.mustRun("rename", old, renamed)
	if got := s.inspect(renamed, "{{.Id}}"); got != id {
		t.Errorf("renamed container has ID %q, want %q", got, id)
	}
	if s.exists(old) {
		t.Errorf("old name still resolves")
	}
	if got := s.mustRun("ps", "--filter", "id="+id, "--format", "{{.Names}}"); got != renamed {
		t.Errorf("ps shows name %q", got)
	}
	// The old name is free again; the new one is taken.
	s.mustRun("create", "--name", old, busybox, "true")
	s.expectExit(s.run("rename", old, renamed), 125)
	s.expectExit(s.run("rename", "nosuchcontainer", s.name("x")), 125)
}

func TestContainerPrune(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	s.mustRun("create", "--name", "created", busybox, "true")
	s.mustRun("run", "--name", "exited", "--network", "none", busybox, "true")
	s.runDetached("running", busybox, "sleep", "100")
	out := s.mustRun("container", "prune", "-f")
	if got := s.mustRun("ps", "-a", "--format", "{{.Names}}"); got != "running" {
		t.Errorf("after prune, ps -a lists %q, want only running", got)
	}
	if len(strings.Fields(out)) != 2 {
		t.Errorf("prune should print the 2 removed IDs, printed %q", out)
	}
}

// waitReady waits until the container has created /tmp/ready: its shell
// has installed its signal traps (a signal sent earlier would be ignored
// by the container's PID 1).
func (s *servin) waitReady(name string) {
	s.t.Helper()
	waitFor(s.t, 20*time.Second, name+" ready", func() bool {
		return s.run("exec", name, "test", "-e", "/tmp/ready").exit == 0
	}, func() string { return s.status(name) })
}

// An attached `run --rm` removes its container itself; when that CLI is
// killed, the monitor's exit command still removes the container once it
// exits.
func TestRunRmCallerKilled(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("rmkilled")
	p := s.start(nil, "run", "--rm", "--name", name, busybox, "sh", "-c", "sleep 2")
	s.waitStatus(name, "running")
	p.cmd.Process.Kill()
	p.wait(t, 10*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for s.exists(name) {
		if time.Now().After(deadline) {
			t.Fatalf("container of a killed `run --rm` still exists: %s", s.run("ps", "-a"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
