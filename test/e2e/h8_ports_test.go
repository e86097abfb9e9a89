package e2e

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestH8PortReserved follows podman's "run failed --rm" test: a published
// host port belongs to its container while it runs. A second container, or
// a host process, cannot take it; the failure is exit 126; a failed --rm
// container leaves nothing behind; the port is free again once the
// container stops, and traffic still reaches the container.
func TestH8PortReserved(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	port := freeHostPort(t, "tcp")
	pub := fmt.Sprintf("127.0.0.1:%d:80", port)
	ok, noRm, withRm := s.name("ok"), s.name("fail-no-rm"), s.name("fail-rm")
	s.mustRun("run", "-d", "--name", ok, "-p", pub, busybox, "httpd", "-f", "-p", "80", "-h", "/etc")
	for _, args := range [][]string{{"--name", noRm}, {"--rm", "--name", withRm}} {
		r := s.run(append(append([]string{"run", "-d", "-p", pub}, args...), busybox, "top")...)
		s.expectExit(r, 126)
		if !strings.Contains(r.stderr, "ddress already in use") {
			t.Errorf("second container on port %d: %s", port, r)
		}
	}
	names := s.mustRun("ps", "-a", "--format", "{{.Names}}")
	if strings.Contains(names, withRm) || !strings.Contains(names, noRm) {
		t.Errorf("ps -a after the failures:\n%s", names)
	}
	// The host cannot take the port either.
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
		l.Close()
		t.Errorf("a host process could bind the published port %d", port)
	}
	// The forwarding still reaches the container.
	waitFor(t, 10*time.Second, "the published port to answer", func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /hostname HTTP/1.0\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		b, _ := io.ReadAll(c)
		return strings.Contains(string(b), "200 OK")
	}, nil)
	// A restart takes the port again; once stopped, it is free.
	s.mustRun("restart", "-t", "0", ok)
	if st := s.inspect(ok, "{{.State.Status}}"); st != "running" {
		t.Errorf("after restart: %s", st)
	}
	s.mustRun("stop", "-t", "0", ok)
	s.mustRun("start", noRm)
	if st := s.inspect(noRm, "{{.State.Status}}"); st != "running" {
		t.Errorf("the second container once the port was free: %s", st)
	}
}
