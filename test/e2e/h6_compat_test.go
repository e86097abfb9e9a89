package e2e

// Behaviour that podman's system tests (test/system/*.bats) check word for
// word: error messages, exit codes, flags and --format fields.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// expectStderr fails unless r exited with code and printed exactly want
// (trimmed) on stderr.
func (s *servin) expectStderr(r result, code int, want string) {
	s.t.Helper()
	s.expectExit(r, code)
	if got := strings.TrimSpace(r.stderr); got != want {
		s.t.Errorf("stderr:\n got %q\nwant %q\n%s", got, want, r)
	}
}

// prog is the name the CLI calls itself in its messages.
func prog() string {
	if suite.podman {
		return "podman"
	}
	return "servin"
}

func TestH6FlagErrors(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	s.expectStderr(s.run("version", "--remote"), 125, "Error: unknown flag: --remote\nSee '"+prog()+" version --help'")
	s.expectStderr(s.run("ps", "-Q"), 125, "Error: unknown shorthand flag: 'Q' in -Q\nSee '"+prog()+" ps --help'")
	s.expectStderr(s.run("run", "-h"), 125, "Error: flag needs an argument: 'h' in -h\nSee '"+prog()+" run --help'")
	s.expectStderr(s.run("run", "--hostname"), 125, "Error: flag needs an argument: --hostname\nSee '"+prog()+" run --help'")
	s.expectStderr(s.run("bad", "--invalid"), 125, "Error: unknown flag: --invalid\nSee '"+prog()+" --help'")
	r := s.run("bad")
	s.expectExit(r, 125)
	if !strings.HasPrefix(r.stderr, "Error: unrecognized command `"+prog()+" bad`") {
		t.Errorf("unknown command: %s", r)
	}
	r = s.run("container", "bogus")
	s.expectExit(r, 125)
	if !strings.HasPrefix(r.stderr, "Error: unrecognized command `"+prog()+" container bogus`") {
		t.Errorf("unknown subcommand: %s", r)
	}
	r = s.run("container")
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "Error: missing command '"+prog()+" container COMMAND'") {
		t.Errorf("missing subcommand: %s", r)
	}
	// A value that starts with "-" is the flag's value, not a flag.
	name := s.name("since")
	s.mustRun("run", "--name", name, "--network", "none", busybox, "echo", "hello")
	if r := s.run("logs", "--since", "-1s", "-f", name); r.exit != 0 || r.stdout != "" {
		t.Errorf("logs --since -1s -f on an exited container should print nothing:\n%s", r)
	}
}

func TestH6GlobalOutAndLogLevel(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("noout")
	if r := s.run("--noout", "create", "--name", name, busybox, "true"); r.exit != 0 || r.stdout != "" {
		t.Errorf("--noout create printed something:\n%s", r)
	}
	out := filepath.Join(t.TempDir(), "out")
	if r := s.run("--out", out, "rm", name); r.exit != 0 || r.stdout != "" {
		t.Errorf("--out rm:\n%s", r)
	}
	if data, _ := os.ReadFile(out); strings.TrimSpace(string(data)) != name {
		t.Errorf("--out file holds %q, want %q", data, name)
	}

	r := s.run("--log-level=telepathic", "version")
	s.expectExit(r, 1)
	if !strings.HasPrefix(r.stderr, `Log Level "telepathic" is not supported`) {
		t.Errorf("bad log level: %s", r)
	}
	s.expectStderr(s.run("--debug", "--log-level=panic", "version"), 1, "Setting --log-level and --debug is not allowed")
	for _, c := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"--log-level=trace"}, []string{" level=trace ", " level=debug ", " level=info "}, []string{" level=warn"}},
		{[]string{"--log-level=debug"}, []string{" level=debug ", " level=info "}, []string{" level=trace "}},
		{[]string{"-D"}, []string{" level=debug "}, nil},
		{[]string{"--log-level=info"}, []string{" level=info "}, []string{" level=debug "}},
		{[]string{"--log-level=warn"}, nil, []string{" level="}},
	} {
		r := s.run(append(c.args, "version")...)
		s.expectExit(r, 0)
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v version: no %q in stderr:\n%s", c.args, w, r)
			}
		}
		for _, w := range c.not {
			if strings.Contains(r.stderr, w) {
				t.Errorf("%v version: %q in stderr:\n%s", c.args, w, r)
			}
		}
	}
	if r := s.run("--log-level=debug", "run", "--rm", "--network", "none", busybox, "true"); !strings.Contains(r.stderr, "Shutting down engines") {
		t.Errorf("debug run: %s", r)
	}
}

func TestH6LogDrivers(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("json")
	if got := s.mustRun("run", "--name", name, "--network", "none", "--log-driver", "json-file", busybox, "echo", "msg1"); got != "msg1" {
		t.Errorf("run printed %q", got)
	}
	if got := s.inspect(name, "{{.HostConfig.LogConfig.Type}}"); got != "json-file" {
		t.Errorf("json-file driver shows as %q", got)
	}
	path := s.inspect(name, "{{.HostConfig.LogConfig.Path}}")
	data, err := os.ReadFile(path)
	if err != nil || !regexp.MustCompile(`^[0-9T:.+-Z]+ stdout F msg1\n$`).Match(data) {
		t.Errorf("log file %q: %q %v", path, data, err)
	}
	if got := s.mustRun("logs", name); got != "msg1" {
		t.Errorf("logs = %q", got)
	}

	none := s.name("none")
	s.mustRun("run", "--name", none, "--network", "none", "--log-driver", "none", busybox, "true")
	r := s.run("logs", none)
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "this container is using the 'none' log driver, cannot read logs") {
		t.Errorf("logs of a none container: %s", r)
	}
	s.expectStderr(s.run("run", "--log-driver=InvalidDriver", busybox, "true"), 125,
		"Error: running container create option: invalid log driver: invalid argument")
}

func TestH6ContainerEnvFile(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	for _, opts := range [][]string{nil, {"--tmpfs=/run"}, {"--read-only"}, {"--init"}} {
		args := append(append([]string{"run", "--rm", "--network", "none"}, opts...), busybox, "stat", "-c", "%s", "/run/.containerenv")
		if got := s.mustRun(args...); got != "0" {
			t.Errorf("%v: /run/.containerenv size %q, want an empty file", opts, got)
		}
	}
	r := s.run("run", "--rm", "--network", "none", "-v", t.TempDir()+":/run", busybox, "stat", "/run/.containerenv")
	s.expectExit(r, 1) // not written into the user's directory

	name := s.name("priv")
	got := s.mustRun("run", "--rm", "--privileged", "--name", name, "--network", "none", busybox, "sh", "-c",
		". /run/.containerenv; echo $name; echo $id; echo $imageid; echo $rootless")
	lines := strings.Split(got, "\n")
	iid := s.mustRun("image", "inspect", "--format", "{{.ID}}", busybox)
	if len(lines) != 4 || lines[0] != name || !fullID.MatchString(lines[1]) || lines[2] != iid || lines[3] != "0" {
		t.Errorf("privileged .containerenv gave %q", lines)
	}
}

func TestH6ImageNameOfSecondTag(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	tag := "localhost/" + s.name("r") + "/img"
	s.mustRun("tag", busybox, tag)
	id := s.mustRun("create", tag, "true")
	if got := s.inspect(id, "{{.ImageName}}"); got != tag+":latest" {
		t.Errorf("ImageName = %q, want %q", got, tag+":latest")
	}
	s.mustRun("tag", busybox, tag+":v2")
	id = s.mustRun("create", tag+":v2", "true")
	if got := s.inspect(id, "{{.ImageName}}"); got != tag+":v2" {
		t.Errorf("ImageName = %q, want %q", got, tag+":v2")
	}
}

func TestH6Timezone(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/share/zoneinfo/America/New_York"); err != nil {
		t.Skip("the host has no zoneinfo")
	}
	s := newServin(t)
	// The last --tz wins; busybox's date reads /etc/localtime.
	got := s.mustRun("run", "--rm", "--network", "none", "--tz=Iceland", "--tz=America/New_York", busybox, "date", "-d", "@1600000000")
	if !strings.Contains(got, "EDT 2020") || !strings.Contains(got, "08:26:40") {
		t.Errorf("date with --tz=America/New_York: %q", got)
	}
	r := s.run("run", "--rm", "--tz=Bogus/Zone", busybox, "true")
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "unknown time zone Bogus/Zone") {
		t.Errorf("bad zone: %s", r)
	}
}

func TestH6Rmi(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	s.expectStderr(s.run("run", "--rmi", "--rm=false", busybox, "true"), 125, "Error: the --rmi option does not work without --rm")

	img := "localhost/rmi-img:latest"
	s.mustRun("tag", busybox, img)
	s.mustRun("untag", busybox, "localhost/busybox:latest")
	keep := s.name("keep")
	s.mustRun("create", "--name", keep, img, "true")
	r := s.run("run", "--rmi", "--network", "none", img, "true")
	s.expectExit(r, 0)
	if !strings.Contains(r.stderr, "image is in use by a container") {
		t.Errorf("--rmi of an image in use should warn: %s", r)
	}
	s.expectExit(s.run("image", "exists", img), 0)
	s.mustRun("rm", keep)
	name := s.name("d")
	s.mustRun("run", "-d", "--name", name, "--network", "none", "--rmi", img, "true")
	waitFor(t, waitTimeout, "the --rmi image to go", func() bool {
		return s.run("image", "exists", img).exit == 1
	}, func() string { return s.run("images").stdout })
}

func TestH6RmStopWaitMessages(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	missing := s.name("missing")
	s.expectStderr(s.run("stop", missing), 125, `Error: no container with name or ID "`+missing+`" found: no such container`)
	s.expectStderr(s.run("rm", missing), 1, `Error: no container with ID or name "`+missing+`" found: no such container`)
	s.expectStderr(s.run("pause", missing), 125, `Error: no container with name or ID "`+missing+`" found: no such container`)
	if r := s.run("wait", "--ignore", missing); r.out() != "-1" || r.exit != 0 {
		t.Errorf("wait --ignore: %s", r)
	}
	if r := s.run("stop", "--ignore", missing); r.out() != "" || r.exit != 0 {
		t.Errorf("stop --ignore: %s", r)
	}
	nofile := filepath.Join(t.TempDir(), "no-such-file")
	s.expectStderr(s.run("stop", "--cidfile="+nofile), 125, "Error: reading CIDFile: open "+nofile+": no such file or directory")
	s.expectExit(s.run("stop", "--cidfile="+nofile, "--ignore"), 0)

	// run --cidfile truncates the file, stop/rm read it, rm removes it.
	cidfile := filepath.Join(t.TempDir(), "cid")
	if err := os.WriteFile(cidfile, []byte(strings.Repeat("x", 120)), 0o644); err != nil {
		t.Fatal(err)
	}
	name := s.name("running")
	id := s.mustRun("run", "-d", "--name", name, "--network", "none", "--cidfile", cidfile, busybox, "sleep", "100")
	if data, _ := os.ReadFile(cidfile); string(data) != id {
		t.Errorf("cidfile holds %q, want %q", data, id)
	}
	r := s.run("rm", name)
	s.expectStderr(r, 2, "Error: cannot remove container "+id+" as it is running - running or paused containers cannot be removed without force: container state improper")
	start := time.Now()
	r = s.run("stop", "-t", "1", "--cidfile", cidfile)
	s.expectExit(r, 0)
	if !strings.Contains(r.stderr, "StopSignal SIGTERM failed to stop container "+name+" in 1 seconds, resorting to SIGKILL") {
		t.Errorf("stop -t 1 of a container ignoring SIGTERM should warn: %s", r)
	}
	if time.Since(start) < time.Second {
		t.Errorf("stop -t 1 returned before its timeout")
	}
	s.mustRun("rm", "-t", "-1", "--cidfile", cidfile)
	if _, err := os.Stat(cidfile); !os.IsNotExist(err) {
		t.Errorf("rm left the cidfile: %v", err)
	}

	// wait on a container that never ran answers at once.
	created := s.name("created")
	s.mustRun("create", "--name", created, busybox, "true")
	if r := s.run("wait", created); r.exit != 0 || r.out() != "0" {
		t.Errorf("wait on a created container: %s", r)
	}
	if got := s.inspect(created, "{{.State.StoppedByUser}}"); got != "false" {
		t.Errorf("StoppedByUser = %q", got)
	}
}

func TestH6KillSignals(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	for sig, want := range map[string]string{
		"0": "invalid signal: 0", "SIGBADSIG": "invalid signal: SIGBADSIG", "-BADSIG": "invalid signal: BADSIG",
		"65": "valid signals are 1 through 64", "-65": "valid signals are 1 through 64", "99999999": "valid signals are 1 through 64",
	} {
		s.expectStderr(s.run("kill", "-s", sig, "nosuchcontainer"), 125, "Error: "+want)
	}
	s.expectStderr(s.run("create", "--stop-signal=99", busybox), 125, "Error: valid signals are 1 through 64")

	name := s.name("trap")
	s.runDetached(name, "--restart=always", busybox, "sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.2; done")
	waitFor(t, waitTimeout, "the trap", func() bool {
		return strings.Contains(s.run("exec", name, "ps").stdout, "sleep")
	}, nil)
	s.mustRun("kill", "-s=-TERM", name)
	if got := s.mustRun("wait", name); got != "42" {
		t.Errorf("wait = %q", got)
	}
	if got := s.inspect(name, "{{.State.StoppedByUser}} {{.State.Status}}"); got != "true exited" {
		t.Errorf("after kill: %q, want a stopped-by-user container that was not restarted", got)
	}
}

func TestH6DeviceCgroupRules(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	for _, ok := range []string{"b 7:* rmw", "a 7 rmw", "c 7:1 r"} {
		s.mustRun("create", "--device-cgroup-rule="+ok, busybox, "true")
	}
	for rule, want := range map[string]string{
		"b 7:* rmX": "invalid device access in device-access-add: X",
		"b 7:2":     `invalid device cgroup rule requires type, major:Minor, and access rules: "b 7:2"`,
		"x 7:* rmw": "invalid device type in device-access-add: x",
		"a a:* rmw": `strconv.ParseUint: parsing "a": invalid syntax`,
	} {
		s.expectStderr(s.run("create", "--device-cgroup-rule="+rule, busybox, "true"), 125, "Error: "+want)
	}
}

func TestH6OptionConflicts(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	for _, c := range [][3]string{
		{"--cpu-period=1000", "--cpus=2", "--cpu-period and --cpus"},
		{"--cpu-quota=1000", "--cpus=2", "--cpu-quota and --cpus"},
		{"--no-hosts", "--add-host=foo:1.1.1.1", "--no-hosts and --add-host"},
	} {
		for _, cmd := range []string{"create", "run"} {
			s.expectStderr(s.run(cmd, c[0], c[1], busybox), 125, "Error: "+c[2]+" cannot be set together")
			s.expectStderr(s.run(cmd, c[1], c[0], busybox), 125, "Error: "+c[2]+" cannot be set together")
		}
	}
	s.expectStderr(s.run("create", "--platform=foo", "--arch=bar", "sdfsdf"), 125,
		"Error: --platform option can not be specified with --arch or --os")
}

func TestH6PsFormat(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("lbl")
	id := s.runDetached(name, "--label", "mylabel=v1", "--label", "a=b", busybox, "sleep", "100")
	filter := "--filter=name=" + name
	if got := s.mustRun("ps", filter, "--no-trunc", "--format", "{{.ID}} {{.State}} {{.Label \"mylabel\"}}"); got != id+" running v1" {
		t.Errorf("ps = %q", got)
	}
	if got := s.mustRun("ps", filter, "--format", "{{json .Labels}}"); got != `"a=b,mylabel=v1"` {
		t.Errorf("json .Labels = %s, want a string", got)
	}
	if got := s.mustRun("ps", filter, "--format", "{{.Labels}}"); got != "a=b,mylabel=v1" {
		t.Errorf(".Labels = %s", got)
	}
	for _, f := range []string{id[:3], strings.ToUpper(id[:5]), "^" + id[:13]} {
		if got := s.mustRun("ps", "-a", "--filter", "id="+f, "--format", "{{.Names}}"); !strings.Contains(got, name) {
			t.Errorf("ps --filter id=%s: %q", f, got)
		}
	}
	if got := s.mustRun("ps", "-a", "--filter", "id=[^0-9a-f]", "--noheading"); got != "" {
		t.Errorf("id=[^0-9a-f] matched %q", got)
	}
	s.mustRun("pause", name)
	if got := s.mustRun("ps", "-a", filter, "--format", "{{.Names}} {{.Status}}"); got != name+" Paused" {
		t.Errorf("ps of a paused container: %q", got)
	}
	s.mustRun("unpause", name)
}

func TestH6StartFilterAndErrors(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	s.expectStderr(s.run("start", "--all", "12333"), 125, "Error: either start all containers or the container(s) provided in the arguments")
	c1, c2 := s.name("c1"), s.name("c2")
	id1 := s.mustRun("create", "--name", c1, "--network", "none", "--restart=always", busybox, "sleep", "100")
	s.mustRun("create", "--name", c2, "--network", "none", "--restart=on-failure", busybox, "true")
	if got := s.mustRun("start", "--filter", "restart-policy=on-failure", c1, c2); got != c2 {
		t.Errorf("start --filter with names printed %q, want %q", got, c2)
	}
	if got := s.mustRun("start", "--filter", "restart-policy=always", "--filter", "name="+c1); got != id1 {
		t.Errorf("start --filter printed %q, want %q", got, id1)
	}
	s.expectStderr(s.run("start", "--filter", "restart-policy=fakepolicy", c1), 125, "Error: fakepolicy invalid restart policy")

	bad := s.name("bad")
	s.mustRun("create", "--name", bad, "--network", "none", busybox, "/no/such/command")
	s.expectExit(s.run("start", bad), 125) // run says 127; start's failure is servin's
}

func TestH6ExecTermAndErrors(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("tty")
	s.runDetached(name, "-t", busybox, "sleep", "100")
	// The container's TERM (set by run -t) is seen by exec without -t.
	if got := s.mustRun("exec", name, "sh", "-c", "echo -n $TERM"); got != "xterm" {
		t.Errorf("exec TERM = %q", got)
	}
	r := s.run("exec", name)
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "must provide a non-empty command to start an exec session") {
		t.Errorf("exec without a command: %s", r)
	}
	s.expectExit(s.run("exec", name, "blahblah"), 127)
	s.expectExit(s.run("exec", "-d", name, "blahblah"), 125)
	created := s.name("created")
	s.mustRun("create", "--name", created, busybox, "true")
	r = s.run("exec", created, "true")
	if !strings.Contains(r.stderr, "can only create exec sessions on running containers: container state improper") {
		t.Errorf("exec in a created container: %s", r)
	}
}

func TestH6LabelFileAndInfo(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	dir := t.TempDir()
	f1, f2 := filepath.Join(dir, "labels1,withcomma"), filepath.Join(dir, "labels2")
	os.WriteFile(f1, []byte("simple=value1\n# comment\n"), 0o644)
	os.WriteFile(f2, []byte("simple=abc\nspecial=bcd#e!f|g hij=lmnop\nquoted=\"q\"\n"), 0o644)
	name := s.name("lf")
	s.mustRun("create", "--name", name, "--label-file", f1, "--label-file", f2, busybox, "true")
	for k, want := range map[string]string{"simple": "abc", "special": "bcd#e!f|g hij=lmnop", "quoted": `"q"`} {
		if got := s.inspect(name, `{{index .Config.Labels "`+k+`"}}`); got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	got := s.mustRun("info", "--format", "{{.Host.CgroupsVersion}} {{.Host.NetworkBackend}} {{.Host.DatabaseBackend}}")
	if !regexp.MustCompile(`^v[12] \S+ \S+$`).MatchString(got) {
		t.Errorf("info = %q", got)
	}
	if r := s.run("system", "events", "--stream=false", "--since", "1s", "--format", `{{"\n"}}`); r.exit != 0 || r.out() != "" {
		t.Errorf("system events: %s", r)
	}
}

func TestH6RunAttachAndWorkdir(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	r := s.run("run", "--rm", "--network", "none", "-a", "stderr", busybox, "sh", "-c", "echo out; echo err >&2")
	if r.exit != 0 || r.stdout != "" || strings.TrimSpace(r.stderr) != "err" {
		t.Errorf("run -a stderr:\n%s", r)
	}
	r = s.run("run", "--rm", "--network", "none", "--attach", "stdout", busybox, "sh", "-c", "echo out; echo err >&2")
	if r.exit != 0 || r.out() != "out" || r.stderr != "" {
		t.Errorf("run --attach stdout:\n%s", r)
	}

	r = s.run("run", "--rm", "--network", "none", "--workdir", "/i/do/not/exist", busybox, "pwd")
	s.expectExit(r, 126)
	if !strings.Contains(r.stderr, `workdir "/i/do/not/exist" does not exist on container`) {
		t.Errorf("missing --workdir: %s", r)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "content"), []byte("hello\n"), 0o644)
	if got := s.mustRun("run", "--rm", "--network", "none", "-w", "/notinimage", "-v", dir+":/notinimage", busybox, "cat", "content"); got != "hello" {
		t.Errorf("workdir on a volume: %q", got)
	}
	if got := s.mustRun("run", "--rm", "--network", "none", "-w", "/notinimage2", "-v", filepath.Join(dir, "content")+":/notinimage2/foo", busybox, "cat", "foo"); got != "hello" {
		t.Errorf("workdir above a mount: %q", got)
	}
}

func TestH6RmDepend(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	base := s.mustRun("create", "--name", s.name("base"), busybox, "true")
	dep := s.mustRun("create", "--name", s.name("dep"), "--network", "container:"+base, busybox, "true")
	r := s.run("rm", base)
	s.expectExit(r, 125)
	if !strings.HasPrefix(r.stderr, "Error: container "+base+" has dependent containers which must be removed before it:") {
		t.Errorf("rm of a container others depend on: %s", r)
	}
	if got := s.mustRun("rm", "--depend", base); got != dep+"\n"+base {
		t.Errorf("rm --depend printed %q, want the dependent, then the container", got)
	}
	if s.exists(dep) || s.exists(base) {
		t.Errorf("rm --depend left containers behind")
	}
}

func TestH6RunSmallFlags(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	// --group-add takes a comma-separated list.
	name := s.name("groups")
	s.runDetached(name, "--group-add", "1,2,3", busybox, "sleep", "100")
	if got := s.mustRun("exec", "--user", "root:root", name, "id", "-G"); got != "0 1 2 3" {
		t.Errorf("id -G = %q", got)
	}
	r := s.run("run", "--rm", "--network", "none", "--kernel-memory", "100", busybox, "true")
	s.expectExit(r, 0)
	if !strings.Contains(r.stderr, "The --kernel-memory flag is no longer supported. This flag is a noop.") {
		t.Errorf("--kernel-memory: %s", r)
	}
	logged := s.name("logsize")
	s.mustRun("create", "--name", logged, "--log-opt", "max-size=1.234m", busybox, "true")
	if got := s.inspect(logged, "{{.HostConfig.LogConfig.Size}}"); got != "1.234MB" {
		t.Errorf("LogConfig.Size = %q", got)
	}
	// Attached to stdin only, run prints the container's ID.
	stdinOnly := s.name("stdin")
	out := s.mustRun("run", "--name", stdinOnly, "--network", "none", "--attach", "stdin", busybox, "echo", "hello")
	if id := s.inspect(stdinOnly, "{{.Id}}"); out != id {
		t.Errorf("run --attach stdin printed %q, want the ID %q", out, id)
	}
	s.expectStderr(s.run("run", "--rm", "--ulimit", "core=-1:1000", busybox, "true"), 125,
		`Error: ulimit option "core=-1:1000" requires name=SOFT:HARD, failed to be parsed: ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 1000`)
	// "/name" is name.
	slash := s.name("slash")
	s.mustRun("create", "--name", "/"+slash, busybox, "true")
	if got := s.mustRun("ps", "-a", "--filter", "name=^/"+slash+"$", "--format", "{{.Names}}"); got != slash {
		t.Errorf("ps --filter name=^/NAME$ = %q", got)
	}
	s.mustRun("rm", "/"+slash)
	s.expectExit(s.run("create", "--name", slash+"/", busybox, "true"), 125)
}

func TestH6StopUnlocksWhileWaiting(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("stubborn")
	s.runDetached(name, busybox, "sh", "-c", "trap 'echo got TERM' TERM; echo READY; while :; do sleep 0.2; done")
	waitFor(t, waitTimeout, "READY", func() bool { return strings.Contains(s.run("logs", name).stdout, "READY") }, nil)
	stop := s.start(nil, "stop", "-t", "20", name)
	waitFor(t, waitTimeout, "the stop signal", func() bool { return strings.Contains(s.run("logs", name).stdout, "got TERM") }, nil)
	// The container is stopping, and stop holds no lock while it waits.
	if got := s.status(name); got != "stopping" {
		t.Errorf("status during stop = %q, want stopping", got)
	}
	start := time.Now()
	s.mustRun("kill", name)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("kill waited %v for stop", d)
	}
	if r := stop.wait(t, waitTimeout); r.exit != 0 {
		t.Errorf("stop: %s", r)
	}
	if got := s.inspect(name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
		t.Errorf("after kill: %q", got)
	}
}

func TestH6RunReplace(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("r")
	first := s.mustRun("create", "--name", name, busybox, "true")
	second := s.mustRun("run", "-d", "--replace", "--name", name, "--network", "none", busybox, "sleep", "100")
	if second == first {
		t.Fatalf("--replace kept the old container")
	}
	if got := s.inspect(name, "{{.Id}}"); got != second {
		t.Errorf("%s is %s, want the new container %s", name, got, second)
	}
	s.expectExit(s.run("container", "exists", first), 1)
	s.expectExit(s.run("create", "--replace", busybox, "true"), 125)
}

func TestH6NameInUseMessage(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("dup")
	id := s.mustRun("create", "--name", name, busybox, "true")
	r := s.run("create", "--name", name, busybox, "true")
	s.expectExit(r, 125)
	want := regexp.MustCompile(`^Error: .*: the container name "` + name + `" is already in use by ` + id +
		`\. You have to remove that container to be able to reuse that name: that name is already in use, or use --replace to instruct \w+ to do so\.`)
	if !want.MatchString(r.stderr) {
		t.Errorf("name clash: %s", r)
	}
}

func TestH6MonitorPidFile(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	pidfile := filepath.Join(t.TempDir(), "pid")
	name := s.name("p")
	s.runDetached(name, "--conmon-pidfile", pidfile, busybox, "sleep", "100")
	data, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	if want := s.inspect(name, "{{.State.ConmonPid}}"); string(data) != want || want == "0" {
		t.Errorf("pidfile holds %q, inspect says ConmonPid %q", data, want)
	}
}

func TestH6WaitConditions(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("w")
	s.mustRun("create", "--name", name, "--network", "none", busybox, "sh", "-c", "sleep 1; exit 3")
	if got := s.mustRun("wait", "--condition=created", name); got != "-1" {
		t.Errorf("wait --condition=created printed %q", got)
	}
	s.mustRun("start", name)
	if got := s.mustRun("wait", "--condition=running", name); got != "-1" {
		t.Errorf("wait --condition=running printed %q", got)
	}
	if got := s.mustRun("wait", "--condition=stopped,removing", name); got != "3" {
		t.Errorf("wait for the exit printed %q", got)
	}
	s.expectExit(s.run("wait", "--condition=bogus", name), 125)

	gone := s.name("rm")
	s.runDetached(gone, "--rm", busybox, "sleep", "100")
	w := s.start(nil, "wait", "--condition=removing", gone)
	time.Sleep(300 * time.Millisecond) // let wait find the container
	s.mustRun("stop", "-t", "0", gone) // --rm: its monitor removes it
	if r := w.wait(t, waitTimeout); r.exit != 0 {
		t.Errorf("wait --condition=removing: %s", r)
	}
	if s.exists(gone) {
		t.Errorf("wait --condition=removing returned before the removal")
	}
}

func TestH6NoHostname(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	mounted := func(args ...string) bool {
		full := append(append([]string{"run", "--rm", "--network", "none"}, args...), busybox, "cat", "/proc/self/mountinfo")
		return strings.Contains(s.mustRun(full...), " /etc/hostname ")
	}
	if !mounted() {
		t.Errorf("servin should provide /etc/hostname by default")
	}
	if mounted("--no-hostname") {
		t.Errorf("--no-hostname still mounted an /etc/hostname")
	}
}

func TestH6StopRmContainer(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	// A --rm container that exits on SIGTERM is removed by its monitor
	// while stop waits: stop still succeeds.
	name := s.name("rm")
	s.runDetached(name, "--rm", busybox, "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done")
	waitFor(t, waitTimeout, "the trap", func() bool {
		return strings.Contains(s.run("exec", name, "ps").stdout, "sleep")
	}, nil)
	if got := s.mustRun("stop", name); got != name {
		t.Errorf("stop printed %q", got)
	}
	waitFor(t, waitTimeout, "the removal", func() bool { return !s.exists(name) }, nil)
}

func TestH6ExecSessions(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("x")
	s.runDetached(name, busybox, "sleep", "100")
	for i := 0; i < 2; i++ {
		s.expectExit(s.run("exec", name, "blahblah"), 127)
		s.expectExit(s.run("exec", "-d", name, "blahblah"), 125)
	}
	if got := s.inspect(name, "{{len .ExecIDs}}"); got != "0" {
		t.Errorf("failed execs left sessions: %s", got)
	}
	id := s.mustRun("exec", "-d", name, "sleep", "3")
	if !fullID.MatchString(id) {
		t.Errorf("exec -d printed %q, want a session ID", id)
	}
	if got := s.inspect(name, "{{range .ExecIDs}}{{.}}{{end}}"); got != id {
		t.Errorf("ExecIDs = %q, want the running session %s", got, id)
	}
	waitFor(t, waitTimeout, "the session to end", func() bool {
		return s.inspect(name, "{{len .ExecIDs}}") == "0"
	}, nil)
}

// --unsetenv drops a default or image variable; --unsetenv-all leaves only
// the user's own.
func TestUnsetEnv(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	out := s.mustRun("run", "--rm", busybox, "env")
	if !strings.Contains(out, "PATH=") || !strings.Contains(out, "HOSTNAME=") || strings.Contains(out, "TERM=") {
		t.Fatalf("default env: %q", out)
	}
	out = s.mustRun("run", "--rm", "--unsetenv", "HOSTNAME", "--unsetenv", "PATH", busybox, "/bin/env")
	if strings.Contains(out, "HOSTNAME=") || strings.Contains(out, "PATH=") || !strings.Contains(out, "HOME=") {
		t.Errorf("--unsetenv HOSTNAME --unsetenv PATH: %q", out)
	}
	// (HOME is the OCI runtime's own: runc sets it when it is missing.)
	out = s.mustRun("run", "--rm", "-t=false", "--unsetenv-all", busybox, "/bin/env")
	for _, v := range []string{"PATH=", "container=", "HOSTNAME=", "TERM="} {
		if strings.Contains(out, v) {
			t.Errorf("--unsetenv-all left %s: %q", v, out)
		}
	}
	out = s.mustRun("run", "--rm", "--unsetenv-all", "-e", "TERM=abc", busybox, "/bin/env")
	if !strings.Contains(out, "TERM=abc") || strings.Contains(out, "PATH=") {
		t.Errorf("--unsetenv-all -e TERM=abc: %q", out)
	}
}

// --cgroupns host|private picks the cgroup namespace; --umask sets the
// processes' umask.
func TestCgroupNSAndUmask(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	host, err := os.Readlink("/proc/self/ns/cgroup")
	if err != nil {
		t.Skipf("no cgroup namespaces here: %v", err)
	}
	if got := s.mustRun("run", "--rm", "--cgroupns", "host", busybox, "readlink", "/proc/self/ns/cgroup"); got != host {
		t.Errorf("--cgroupns host: %q, host has %q", got, host)
	}
	if got := s.mustRun("run", "--rm", "--cgroupns", "private", busybox, "readlink", "/proc/self/ns/cgroup"); got == host || !strings.HasPrefix(got, "cgroup:") {
		t.Errorf("--cgroupns private: %q, host has %q", got, host)
	}
	s.expectExit(s.run("run", "--rm", "--cgroupns", "bogus", busybox, "true"), 125)

	if got := s.mustRun("run", "--rm", "--umask", "0027", busybox, "sh", "-c", "umask"); got != "0027" {
		t.Errorf("--umask 0027: umask is %q", got)
	}
	if got := s.mustRun("run", "--rm", busybox, "sh", "-c", "umask"); got != "0022" {
		t.Errorf("default umask is %q", got)
	}
	s.expectStderr(s.run("run", "--rm", "--umask", "8888", busybox, "true"), 125, "Error: invalid umask string 8888: invalid argument")
}

// An --authfile that does not exist is refused by every command that
// reads credentials, in podman's words; login creates it.
func TestAuthfileMissing(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	bogus := filepath.Join(t.TempDir(), "bogus-authfile")
	want := "Error: credential file is not accessible: faccessat " + bogus + ": no such file or directory"
	for _, args := range [][]string{
		{"create", "--authfile=" + bogus, busybox, "true"},
		{"run", "--rm", "--authfile=" + bogus, busybox, "false"},
		{"pull", "--authfile=" + bogus, busybox},
		{"push", "--authfile=" + bogus, busybox},
		{"logout", "--authfile=" + bogus, busybox},
		{"search", "--authfile=" + bogus, busybox},
		{"manifest", "inspect", "--authfile=" + bogus, busybox},
	} {
		s.expectStderr(s.run(args...), 125, want)
	}
}

// run --timeout kills the container after that many seconds: exit code
// -1 in inspect, 255 from run, as podman.
func TestRunTimeout(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("timeout")
	t0 := time.Now()
	r := s.run("run", "--name", name, "--timeout", "2", busybox, "sleep", "60")
	s.expectExit(r, 255)
	if d := time.Since(t0); d < 2*time.Second || d > 15*time.Second {
		t.Errorf("run --timeout 2 took %v", d)
	}
	if got := s.inspect(name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited -1" {
		t.Errorf("inspect after the timeout: %q", got)
	}
	if got := s.mustRun("wait", name); got != "-1" {
		t.Errorf("wait: %q", got)
	}
	// A run that ends first keeps its own exit code.
	s.expectExit(s.run("run", "--rm", "--timeout", "30", busybox, "sh", "-c", "exit 3"), 3)
}

// -l/--latest acts on the newest container; with names or --all it is an
// error in podman's words.
func TestLatestFlag(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	s.mustRun("create", "--name", "older", busybox, "sleep", "100")
	s.mustRun("run", "-d", "--name", "newest", busybox, "sleep", "100")
	if got := s.mustRun("inspect", "-l", "--format", "{{.Name}}"); got != "newest" {
		t.Errorf("inspect -l: %q", got)
	}
	if got := s.mustRun("container", "inspect", "--latest", "--format", "{{.Name}}"); got != "newest" {
		t.Errorf("container inspect --latest: %q", got)
	}
	s.mustRun("stop", "-l", "-t", "0")
	if got := s.status("newest"); got != "exited" {
		t.Errorf("stop -l left newest %s", got)
	}
	if got := s.mustRun("wait", "-l"); got != "137" && got != "143" {
		t.Errorf("wait -l after stop: %q", got)
	}
	s.expectStderr(s.run("rm", "-l", "older"), 125, "Error: --latest and containers cannot be used together")
	s.expectStderr(s.run("rm", "--all", "--latest"), 125, "Error: --all and --latest cannot be used together")
	s.mustRun("rm", "-l")
	if s.exists("newest") || !s.exists("older") {
		t.Errorf("rm -l removed the wrong container: %s", s.run("ps", "-a"))
	}
}
