package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLogs(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("l")
	s.mustRun("run", "--name", name, "--network", "none", busybox, "sh", "-c",
		// stdout and stderr are separate pipes: only time orders them.
		"echo oops >&2; sleep 0.3; for i in 1 2 3 4 5; do echo line$i; done")

	r := s.run("logs", name)
	s.expectExit(r, 0)
	if r.stdout != "line1\nline2\nline3\nline4\nline5\n" {
		t.Errorf("logs stdout = %q", r.stdout)
	}
	if strings.TrimSpace(r.stderr) != "oops" {
		t.Errorf("logs stderr = %q, want the container's stderr", r.stderr)
	}

	r = s.run("logs", "--tail", "2", name)
	if r.stdout != "line4\nline5\n" || r.stderr != "" {
		t.Errorf("logs --tail 2: stdout %q stderr %q", r.stdout, r.stderr)
	}
	if r = s.run("logs", "--tail", "0", name); r.stdout != "" || r.stderr != "" {
		t.Errorf("logs --tail 0: stdout %q stderr %q", r.stdout, r.stderr)
	}

	stamped := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) line1$`)
	if first := s.run("logs", "-t", name).lines()[0]; !stamped.MatchString(first) {
		t.Errorf("logs -t first line = %q, want an RFC 3339 timestamp and line1", first)
	}

	past := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	future := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	if got := s.run("logs", "--since", past, name).lines(); len(got) != 5 {
		t.Errorf("logs --since an hour ago: %q", got)
	}
	if r = s.run("logs", "--since", future, name); r.stdout != "" {
		t.Errorf("logs --since the future: %q", r.stdout)
	}
	if r = s.run("logs", "--since", "1h", name); len(r.lines()) != 5 {
		t.Errorf("logs --since 1h: %q", r.stdout)
	}
	s.expectExit(s.run("logs", "nosuchcontainer"), 125)
}

func TestLogsFollow(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("f")
	s.runDetached(name, busybox, "sh", "-c", "echo first; sleep 1; echo second")
	start := time.Now()
	r := s.run("logs", "-f", name)
	s.expectExit(r, 0)
	if r.stdout != "first\nsecond\n" {
		t.Errorf("logs -f = %q", r.stdout)
	}
	if time.Since(start) < 500*time.Millisecond {
		t.Errorf("logs -f returned before the container exited")
	}
	// On an exited container -f returns at once.
	if r = s.run("logs", "--follow", name); r.stdout != "first\nsecond\n" {
		t.Errorf("logs -f after exit = %q", r.stdout)
	}
}

func TestExec(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("x")
	s.runDetached(name, "-e", "FROM_RUN=1", busybox, "sleep", "100")

	if got := s.mustRun("exec", name, "sh", "-c", "echo $FROM_RUN $(id -u) $(pwd)"); got != "1 0 /" {
		t.Errorf("exec defaults: %q", got)
	}
	if got := s.mustRun("exec", "-e", "FOO=bar", "-u", "1000", "-w", "/tmp", name, "sh", "-c", "echo $FOO $(id -u) $(pwd)"); got != "bar 1000 /tmp" {
		t.Errorf("exec -e -u -w: %q", got)
	}
	r := s.runWithStdin(strings.NewReader("piped\n"), "exec", "-i", name, "cat")
	if r.stdout != "piped\n" {
		t.Errorf("exec -i cat: %q", r.stdout)
	}
	s.expectExit(s.run("exec", name, "sh", "-c", "exit 5"), 5)
	s.expectExit(s.run("exec", name, "nosuchcmd"), 127)
	s.expectExit(s.run("exec", name, "/etc"), 126)
	s.expectExit(s.run("exec", "nosuchcontainer", "true"), 125)

	// exec -d returns at once and the command runs on.
	s.mustRun("exec", "-d", name, "sh", "-c", "sleep 0.2; touch /tmp/detached")
	waitFor(t, waitTimeout, "exec -d to create /tmp/detached", func() bool {
		return s.run("exec", name, "test", "-e", "/tmp/detached").exit == 0
	}, nil)

	// exec joins the container: same hostname, sees the container's PID 1.
	if got := s.mustRun("exec", name, "cat", "/proc/1/cmdline"); !strings.HasPrefix(got, "sleep") {
		t.Errorf("exec sees PID 1 as %q", got)
	}

	stopped := s.name("stopped")
	s.mustRun("create", "--name", stopped, busybox, "true")
	s.expectCode(s.run("exec", stopped, "true"), 125, 255)
}

func TestTop(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("t")
	s.runDetached(name, busybox, "sleep", "100")
	out := s.mustRun("top", name)
	lines := strings.Split(out, "\n")
	if len(lines) < 2 || !strings.Contains(lines[0], "PID") || !strings.Contains(out, "sleep 100") {
		t.Errorf("top output:\n%s", out)
	}
	stopped := s.name("stopped")
	s.mustRun("create", "--name", stopped, busybox, "true")
	s.expectExit(s.run("top", stopped), 125)
}

func TestAttach(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("a")
	s.runDetached(name, "-i", busybox, "sh", "-c", "read line; echo got:$line; exit 6")
	r := s.runWithStdin(strings.NewReader("hello\n"), "attach", name)
	if !strings.Contains(r.stdout, "got:hello") {
		t.Errorf("attach output:\n%s", r)
	}
	if got := s.mustRun("wait", name); got != "6" {
		t.Errorf("wait after attach printed %q", got)
	}
	s.expectExit(s.run("attach", name), 125) // not running any more
}
