package e2e

import (
	"strings"
	"testing"
)

// TestH7FlagsAfterNames: flags after the name of a volume or network
// being created are flags (podman's 160-volumes does this), while a
// container's create and run keep everything after the image as its
// command line.
func TestH7FlagsAfterNames(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	vol := s.name("v")
	s.mustRun("volume", "create", vol, "--label", "mylabel=rv")
	if got := s.mustRun("volume", "inspect", "--format", "{{.Labels.mylabel}}", vol); got != "rv" {
		t.Errorf("volume label given after the name: %q", got)
	}
	net := s.name("n")
	s.mustRun("network", "create", net, "--label", "a=b")
	if got := s.mustRun("network", "inspect", "--format", "{{.Labels.a}}", net); got != "b" {
		t.Errorf("network label given after the name: %q", got)
	}
	s.mustRun("network", "rm", net)
	if out := s.mustRun("run", "--rm", "--network", "none", busybox, "echo", "--label", "x"); out != "--label x" {
		t.Errorf("run's command line lost its flags: %q", out)
	}
	s.mustRun("volume", "prune", "--force", "-a")
	s.expectExit(s.run("volume", "exists", vol), 1)
}

// TestH7EventLabels: container events carry the container's labels, so
// events --filter label= finds them (podman's 090-events).
func TestH7EventLabels(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	ctr := s.name("evc")
	id := s.mustRun("run", "-d", "--label", "ln=lv", "--name", ctr, "--network", "none", busybox, "true")
	s.waitStatus(ctr, "exited")
	out := s.mustRun("events", "--stream=false", "--filter", "type=container", "--filter", "container="+ctr,
		"--filter", "label=ln=lv", "--filter", "event=start")
	if !strings.Contains(out, "container start "+id+" (image=localhost/busybox:latest, name="+ctr+", ln=lv)") {
		t.Errorf("events --filter label=ln=lv:\n%s", out)
	}
	if out := s.mustRun("events", "--stream=false", "--filter", "label=ln", "--filter", "event=start", "--format", "{{.Attributes.ln}}"); out != "lv" {
		t.Errorf("events --filter label=ln --format {{.Attributes.ln}}: %q", out)
	}
	if out := s.mustRun("events", "--stream=false", "--filter", "label=ln=other", "--filter", "event=start"); out != "" {
		t.Errorf("events --filter label=ln=other: %q", out)
	}
}
