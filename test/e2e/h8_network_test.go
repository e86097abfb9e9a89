package e2e

import (
	"strings"
	"testing"
)

// TestH8NetworkCompat follows podman's 500-networking checks: the host is
// host.containers.internal at 127.0.0.1 with --network host, --dns-opt,
// the wording for a missing network, network inspect listing running
// members only, and /etc files owned by root in a user namespace.
func TestH8NetworkCompat(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	if out := s.mustRun("run", "--rm", "--network", "host", busybox, "grep", "host.containers.internal", "/etc/hosts"); !strings.HasPrefix(out, "127.0.0.1\t") {
		t.Errorf("--network host: %q", out)
	}
	if out := s.mustRun("run", "--rm", "--network", "none", "--dns-opt=ndots:3", busybox, "grep", "ndots", "/etc/resolv.conf"); out != "options ndots:3" {
		t.Errorf("--dns-opt: %q", out)
	}
	bogus := s.name("bogus")
	s.expectStderr(s.run("network", "rm", "--force", bogus), 1,
		"Error: unable to find network with name or ID "+bogus+": network not found")

	net := s.name("net")
	s.mustRun("network", "create", net)
	t.Cleanup(func() { s.run("network", "rm", "-f", net) })
	name := s.name("member")
	id := s.mustRun("create", "--name", name, "--network", net, busybox, "sleep", "1000")
	if got := s.mustRun("network", "inspect", "--format", "{{json .Containers}}", net); got != "{}" {
		t.Errorf("a created container is listed: %s", got)
	}
	s.mustRun("start", name)
	if got := s.mustRun("network", "inspect", "--format", "{{json .Containers}}", net); !strings.Contains(got, id) {
		t.Errorf("the running container is not listed: %s", got)
	}

	allowTraversal(t, s) // userns_test.go
	out := s.mustRun("run", "--rm", "--network", "none", "--uidmap=0:1111111:65536", "--gidmap=0:1111111:65536", busybox,
		"stat", "-c", "%u:%g", "/etc/hosts", "/etc/resolv.conf", "/etc/hostname")
	if out != "0:0\n0:0\n0:0" {
		t.Errorf("/etc files in a user namespace:\n%s", out)
	}
}
