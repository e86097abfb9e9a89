package e2e

import (
	"strings"
	"testing"
)

// --init puts a reaping, signal-forwarding PID 1 in front of the command.
func TestRunInitPID1(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	r := s.run("run", "--rm", "--init", "--name", s.name("init"), busybox, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; exit 7")
	s.expectExit(r, 7)
	if !strings.Contains(r.stdout, "--") || strings.HasPrefix(r.stdout, "sh ") {
		t.Errorf("PID 1 is %q, want the init in front of sh", r.stdout)
	}
	// Without --init the command itself is PID 1.
	r = s.run("run", "--rm", busybox, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '")
	if !strings.HasPrefix(r.stdout, "sh -c") {
		t.Errorf("without --init PID 1 is %q", r.stdout)
	}
}

// A container killed by the OOM killer exits 137 with OOMKilled in inspect
// and an oom event.
func TestOOMKilled(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("oom")
	r := s.run("run", "--name", name, "--memory", "16m", busybox, "sh", "-c",
		`x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived`)
	s.expectExit(r, 137)
	if got := s.inspect(name, "{{.State.OOMKilled}} {{.State.ExitCode}}"); got != "true 137" {
		t.Errorf("inspect = %q, want OOMKilled true and exit 137", got)
	}
	if got := s.inspect(name, "{{.HostConfig.Memory}}"); got != "16777216" {
		t.Errorf("HostConfig.Memory = %q", got)
	}
	ev := s.run("events", "--stream=false", "--filter", "event=oom", "--filter", "container="+name)
	if !strings.Contains(ev.stdout, "oom") {
		t.Errorf("no oom event: %q", ev.stdout)
	}
	// A plain exit is not an OOM kill.
	other := s.name("nooom")
	s.run("run", "--name", other, busybox, "true")
	if got := s.inspect(other, "{{.State.OOMKilled}}"); got != "false" {
		t.Errorf("OOMKilled = %q for a clean exit", got)
	}
}
