package e2e

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// knownStates are the State.Status values a container may show.
var knownStates = map[string]bool{
	"created": true, "running": true, "paused": true, "exited": true,
	"stopped": true, "configured": true, "initialized": true, "stopping": true,
}

// TestKillCLIDuringRun SIGKILLs `run` at several points of its life. Whatever
// point it dies at, the store must stay coherent: ps works, the container
// (if it got created) shows a known state and rm -f removes it for good.
func TestKillCLIDuringRun(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	delays := []time.Duration{0, 30 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, -1}
	for i, delay := range delays {
		name := s.name(fmt.Sprintf("k%d", i))
		p := s.start(nil, "run", "--name", name, "--network", "none", busybox, "sleep", "100")
		if delay < 0 {
			// The last round kills the CLI only once the container runs.
			s.waitStatus(name, "running")
		} else {
			time.Sleep(delay) // where in its life the CLI dies, not a wait
		}
		_ = p.signal(syscall.SIGKILL)
		p.wait(t, waitTimeout)

		r := s.run("ps", "-a", "--filter", "name="+name, "--format", "{{.Names}} {{.State}}")
		s.expectExit(r, 0)
		if st := s.status(name); st != "" && !knownStates[st] {
			t.Errorf("round %d (delay %v): status %q after the CLI died", i, delay, st)
		}
		if delay < 0 {
			// The monitor, not the CLI, owns the container.
			if st := s.status(name); st != "running" {
				t.Errorf("container stopped when its attached CLI was killed: %q", st)
			}
		}
		// Killed early enough, the CLI may not have created the container.
		if s.exists(name) {
			s.expectExit(s.run("rm", "-f", "-t", "0", name), 0)
			if s.exists(name) {
				t.Errorf("round %d: rm -f left the container", i)
			}
		}
		// The name is free again.
		s.mustRun("create", "--name", name, busybox, "true")
		s.mustRun("rm", name)
	}
}

// TestKillMonitor SIGKILLs the container's monitor and then the container
// process: nothing is left to report the exit, yet servin must not show the
// container as running forever.
func TestKillMonitor(t *testing.T) {
	if suite.podman {
		t.Skip("podman 4.3 shows the container as running for ever once conmon is gone")
	}
	t.Parallel()
	s := newServin(t)
	name := s.name("m")
	s.runDetached(name, busybox, "sleep", "100")
	monitor := mustAtoi(t, s.inspect(name, "{{.State.ConmonPid}}"))
	pid := mustAtoi(t, s.inspect(name, "{{.State.Pid}}"))
	if monitor <= 0 || pid <= 0 || monitor == pid {
		t.Fatalf("monitor pid %d, container pid %d", monitor, pid)
	}
	if err := syscall.Kill(monitor, syscall.SIGKILL); err != nil {
		t.Fatalf("kill monitor %d: %v", monitor, err)
	}
	// The monitor may take its container with it; either way it must go.
	_ = syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, waitTimeout, "the container process to be gone", func() bool {
		return syscall.Kill(pid, 0) != nil
	}, nil)

	var last string
	waitFor(t, waitTimeout, "the container to show as exited", func() bool {
		last = s.status(name)
		return last == "exited" || last == "stopped"
	}, func() string { return "status " + last })
	var entries []psEntry
	if err := json.Unmarshal([]byte(s.mustRun("ps", "-a", "--filter", "name="+name, "--format", "json")), &entries); err != nil {
		t.Fatalf("ps --format json: %v", err)
	}
	if len(entries) != 1 || entries[0].State == "running" {
		t.Errorf("ps after monitor and container died: %+v", entries)
	}
	s.mustRun("rm", "-f", "-t", "0", name)
	if s.exists(name) {
		t.Errorf("rm -f left the container")
	}
}

// TestParallelRunRm starts 8 containers at once, then removes them at once:
// the store's locking must serialise without failing any call.
func TestParallelRunRm(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	const n = 8
	parallel := func(args func(i int) []string) {
		var wg sync.WaitGroup
		results := make([]result, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.run(args(i)...)
			}()
		}
		wg.Wait()
		for _, r := range results {
			if r.exit != 0 {
				t.Errorf("parallel call failed:\n%s", r)
			}
		}
	}
	parallel(func(i int) []string {
		return []string{"run", "-d", "--name", "p" + strconv.Itoa(i), "--network", "none", busybox, "sleep", "100"}
	})
	if got := len(s.run("ps", "-q").lines()); got != n {
		t.Errorf("ps shows %d running containers, want %d", got, n)
	}
	parallel(func(i int) []string { return []string{"rm", "-f", "-t", "0", "p" + strconv.Itoa(i)} })
	if got := s.run("ps", "-a", "-q").lines(); len(got) != 0 {
		t.Errorf("ps -a after parallel rm -f: %q", got)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}
