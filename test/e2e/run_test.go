package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestRunEcho(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	// Default networking on purpose: the plainest possible run.
	r := s.run("run", "--rm", busybox, "echo", "hello", "from", "servin")
	s.expectExit(r, 0)
	if r.stdout != "hello from servin\n" {
		t.Errorf("stdout = %q", r.stdout)
	}
}

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	run := func(name string, args ...string) []string {
		return append([]string{"run", "--rm", "--name", s.name(name), "--network", "none"}, args...)
	}
	cases := []struct {
		desc string
		args []string
		want int
	}{
		{"container exit code", run("exit3", busybox, "sh", "-c", "exit 3"), 3},
		{"command not found", run("notfound", busybox, "nosuchcmd"), 127},
		{"command is a directory", run("dir", busybox, "/etc"), 126},
		{"unknown image", run("noimage", "nosuchimage", "true"), 125},
		{"bad flag value", run("badvalue", "--stop-timeout", "abc", busybox, "true"), 125},
		{"unknown flag", run("badflag", "--no-such-flag", busybox, "true"), 125},
		{"unknown command", []string{"no-such-command"}, 125},
	}
	for _, c := range cases {
		r := s.run(c.args...)
		if r.exit != c.want {
			t.Errorf("%s: want exit %d, got:\n%s", c.desc, c.want, r)
		}
	}
	// Failed runs leave no container behind: they used --rm, and a
	// container that could not start is removed too.
	if out := s.mustRun("ps", "-a", "--format", "{{.Names}}", "--filter", "name="+s.prefix); out != "" {
		t.Errorf("failed runs left containers: %q", out)
	}
}

func TestRunEnv(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	envFile := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(envFile, []byte("# comment\n\nFROM_FILE=file value\nSHARED=from-file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := s.mustRun("run", "--rm", "--network", "none",
		"-e", "A=1", "--env", "B=two words", "--env-file", envFile, "-e", "SHARED=from-flag",
		busybox, "env")
	env := strings.Split(out, "\n")
	for _, want := range []string{"A=1", "B=two words", "FROM_FILE=file value", "SHARED=from-flag", "HOME=/root"} {
		if !contains(env, want) {
			t.Errorf("env lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^PATH=.*/bin`).MatchString(out) {
		t.Errorf("env has no default PATH:\n%s", out)
	}
}

func TestRunWorkdirUserHostname(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	if got := s.mustRun("run", "--rm", "--network", "none", "-w", "/tmp", busybox, "pwd"); got != "/tmp" {
		t.Errorf("-w /tmp: pwd = %q", got)
	}
	if got := s.mustRun("run", "--rm", "--network", "none", "--workdir", "/root", busybox, "pwd"); got != "/root" {
		t.Errorf("--workdir /root: pwd = %q", got)
	}
	if got := s.mustRun("run", "--rm", "--network", "none", "-u", "1000:1001", busybox, "sh", "-c", "echo $(id -u) $(id -g)"); got != "1000 1001" {
		t.Errorf("-u 1000:1001: id = %q", got)
	}
	if got := s.mustRun("run", "--rm", "--network", "none", "--user", "nobody", busybox, "id", "-u"); got != "65534" {
		t.Errorf("-u nobody: id -u = %q", got)
	}
	if got := s.mustRun("run", "--rm", "--network", "none", busybox, "id", "-u"); got != "0" {
		t.Errorf("default user: id -u = %q", got)
	}
	if got := s.mustRun("run", "--rm", "--network", "none", "--hostname", "myhost", busybox, "hostname"); got != "myhost" {
		t.Errorf("--hostname: hostname = %q", got)
	}
}

func TestRunEntrypoint(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	if got := s.mustRun("run", "--rm", "--network", "none", "--entrypoint", "echo", busybox, "hi", "there"); got != "hi there" {
		t.Errorf("--entrypoint echo: %q", got)
	}
	name := s.name("ep")
	s.mustRun("create", "--name", name, "--network", "none", "--entrypoint", "/bin/sh", busybox, "-c", "exit 0")
	if got := s.inspect(name, "{{.Config.Entrypoint}}"); !strings.Contains(got, "/bin/sh") {
		t.Errorf("Config.Entrypoint = %q", got)
	}
}

func TestRunStdin(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	r := s.runWithStdin(strings.NewReader("line one\nline two\n"), "run", "--rm", "-i", "--network", "none", busybox, "cat")
	s.expectExit(r, 0)
	if r.stdout != "line one\nline two\n" {
		t.Errorf("run -i cat echoed %q", r.stdout)
	}
	// Without -i the container's stdin is not connected.
	r = s.runWithStdin(strings.NewReader("ignored\n"), "run", "--rm", "--network", "none", busybox, "cat")
	s.expectExit(r, 0)
	if r.stdout != "" {
		t.Errorf("run without -i passed stdin through: %q", r.stdout)
	}
	// Standard error stays separate from standard output.
	r = s.run("run", "--rm", "--network", "none", busybox, "sh", "-c", "echo out; echo err >&2")
	if r.stdout != "out\n" || !strings.Contains(r.stderr, "err") {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}
}

func TestRunDetachedAndRm(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("d")
	id := s.runDetached(name, "-l", "purpose=e2e", "-l", "other=x", busybox, "sleep", "100")
	if got := s.inspect(name, "{{.Id}}"); got != id {
		t.Errorf("inspect .Id = %q, run -d printed %q", got, id)
	}
	if got := s.inspect(id[:12], "{{.Name}}"); got != name {
		t.Errorf("inspect by short ID: .Name = %q, want %q", got, name)
	}
	if got := s.inspect(name, `{{index .Config.Labels "purpose"}}`); got != "e2e" {
		t.Errorf("label purpose = %q", got)
	}

	rmName := s.name("rm")
	s.mustRun("run", "--rm", "--name", rmName, "--network", "none", busybox, "true")
	if s.exists(rmName) {
		t.Errorf("run --rm left container %s", rmName)
	}
}

func TestRunNameConflict(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("dup")
	s.mustRun("create", "--name", name, busybox, "true")
	r := s.run("create", "--name", name, busybox, "true")
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, name) {
		t.Errorf("name-conflict error does not mention the name: %q", r.stderr)
	}
	s.expectExit(s.run("run", "--rm", "--name", name, busybox, "true"), 125)
}

func TestRunInit(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	if got := s.mustRun("run", "--rm", "--network", "none", busybox, "sh", "-c", "echo $$"); got != "1" {
		t.Errorf("without --init the command should be PID 1, got %q", got)
	}
	if got := s.mustRun("run", "--rm", "--network", "none", "--init", busybox, "sh", "-c", "echo $$"); got == "1" {
		t.Errorf("with --init the command must not be PID 1")
	}
	// The init forwards the exit code, and death by a signal as 128+signal.
	// (Without an init the shell is PID 1, which SIGKILL from inside its
	// own PID namespace cannot kill.)
	s.expectExit(s.run("run", "--rm", "--network", "none", "--init", busybox, "sh", "-c", "exit 5"), 5)
	s.expectExit(s.run("run", "--rm", "--network", "none", "--init", busybox, "sh", "-c", "kill -9 $$"), 137)
}

func TestRunNetworkModes(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	if got := netDevs(s.mustRun("run", "--rm", "--network", "none", busybox, "cat", "/proc/net/dev")); strings.Join(got, ",") != "lo" {
		t.Errorf("--network none interfaces = %v, want only lo", got)
	}
	host, err := os.ReadFile("/proc/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	got := netDevs(s.mustRun("run", "--rm", "--network", "host", busybox, "cat", "/proc/net/dev"))
	// Other tests add and delete veth interfaces concurrently: compare the
	// host's other interfaces only.
	for _, dev := range netDevs(string(host)) {
		if !strings.HasPrefix(dev, "veth") && !contains(got, dev) {
			t.Errorf("--network host: container lacks host interface %s (has %v)", dev, got)
		}
	}
}

// netDevs returns the interface names in a /proc/net/dev listing, sorted.
func netDevs(procNetDev string) []string {
	var names []string
	for _, line := range strings.Split(procNetDev, "\n") {
		if i := strings.Index(line, ":"); i > 0 {
			names = append(names, strings.TrimSpace(line[:i]))
		}
	}
	sort.Strings(names)
	return names
}

func TestRunLogMaxSize(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("big")
	// 2000 lines are about 15 kB; the log must keep no more than a small
	// multiple of max-size.
	s.mustRun("run", "--name", name, "--network", "none", "--log-opt", "max-size=1k", busybox,
		"sh", "-c", `i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done`)
	logs := s.mustRun("logs", name)
	if len(logs) > 8*1024 {
		t.Errorf("logs with max-size=1k hold %d bytes", len(logs))
	}
	if !strings.HasSuffix(logs, "line1999") {
		t.Errorf("log rotation lost the newest lines: ...%q", logs[max(0, len(logs)-40):])
	}
}

func TestRunRestartPolicy(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("onfail")
	s.mustRun("run", "-d", "--name", name, "--network", "none", "--restart", "on-failure:2", busybox, "sh", "-c", "exit 1")
	var last string
	waitFor(t, waitTimeout, "two restarts and then exited", func() bool {
		last = s.inspect(name, "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}")
		return last == "exited 2 1"
	}, func() string { return "status, restarts, exit code: " + last })

	// A stopped always-restart container stays stopped.
	always := s.name("always")
	s.runDetached(always, "--restart", "always", "--stop-timeout", "0", busybox, "sleep", "100")
	s.mustRun("stop", always)
	if got := s.status(always); got != "exited" {
		t.Errorf("after stop, status = %q", got)
	}
	if got := s.inspect(always, "{{.HostConfig.RestartPolicy.Name}}"); got != "always" {
		t.Errorf("HostConfig.RestartPolicy.Name = %q", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
