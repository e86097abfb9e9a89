package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hcTest passes until /uh-oh exists, and fails once after /uh-oh-once
// appears (it removes that file), printing on both streams.
const hcTest = `if test -e /uh-oh-once; then rm /uh-oh-once; echo Uh-oh on stdout; echo Uh-oh on stderr >&2; exit 1; fi; ` +
	`test -e /uh-oh && { echo Uh-oh on stdout; echo Uh-oh on stderr >&2; exit 1; }; echo Good on stdout; echo Good on stderr >&2`

// TestH8Healthcheck follows podman's "podman healthcheck" test: a manual
// run, results in inspect, ps and events, then the monitor's timer finding
// the failure and the on-failure action killing the container.
func TestH8Healthcheck(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	name := s.name("hc")
	s.mustRun("run", "-d", "--name", name, "--health-cmd", hcTest, "--health-interval", "1s",
		"--health-retries", "2", "--health-on-failure=kill", busybox, "sleep", "1000")
	if got := s.inspect(name, "{{.Config.HealthcheckOnFailureAction}} {{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Retries}}"); got != "kill [CMD-SHELL "+hcTest+"] 2" {
		t.Errorf("config: %q", got)
	}
	r := s.run("healthcheck", "run", name)
	s.expectExit(r, 0)
	if r.stdout != "" {
		t.Errorf("healthcheck run printed %q", r.stdout)
	}
	var h struct {
		Status        string
		FailingStreak int
		Log           []struct {
			ExitCode int
			Output   string
		}
	}
	health := func() {
		t.Helper()
		if err := json.Unmarshal([]byte(s.inspect(name, "{{json .State.Healthcheck}}")), &h); err != nil || len(h.Log) == 0 {
			t.Fatalf("State.Healthcheck: %v %+v", err, h)
		}
	}
	health()
	if last := h.Log[len(h.Log)-1]; h.Status != "healthy" || h.FailingStreak != 0 || last.ExitCode != 0 || last.Output != "Good on stdout\nGood on stderr\n" {
		t.Errorf("after a passing run: %+v", h)
	}
	if st := s.mustRun("ps", "--filter", "name="+name, "--format", "{{.Status}}"); !strings.HasSuffix(st, " (healthy)") {
		t.Errorf("ps status %q", st)
	}
	if got := s.mustRun("ps", "-q", "--filter", "health=healthy", "--filter", "name="+name); got == "" {
		t.Errorf("ps --filter health=healthy does not list it")
	}
	if got := s.mustRun("ps", "-q", "--filter", "health=unhealthy", "--filter", "name="+name); got != "" {
		t.Errorf("ps --filter health=unhealthy lists it")
	}

	since := time.Now().Add(-time.Second).Format(time.RFC3339)
	s.mustRun("exec", name, "touch", "/uh-oh")
	// The monitor runs the check every second: two failures make it
	// unhealthy, and the on-failure action kills it.
	waitFor(t, 20*time.Second, "the healthcheck timer to kill the container",
		func() bool { return s.inspect(name, "{{.State.Status}}") == "exited" },
		func() string { return s.inspect(name, "{{json .State}}") })
	health()
	if last := h.Log[len(h.Log)-1]; h.Status != "unhealthy" || h.FailingStreak < 2 || last.ExitCode != 1 || last.Output != "Uh-oh on stdout\nUh-oh on stderr\n" {
		t.Errorf("after failures: %+v", h)
	}
	if code := s.inspect(name, "{{.State.ExitCode}}"); code != "137" {
		t.Errorf("killed container exit code %s", code)
	}
	ev := s.mustRun("events", "--stream=false", "--since", since, "--filter", "container="+name, "--filter", "event=health_status", "--format", "{{.HealthStatus}}")
	if lines := strings.Split(ev, "\n"); lines[len(lines)-1] != "unhealthy" || !strings.Contains(ev, "healthy\n") {
		t.Errorf("health_status events:\n%s", ev)
	}
}

// TestH8HealthOnFailure follows podman's --health-on-failure test, with
// manual runs only (--health-interval=disable).
func TestH8HealthOnFailure(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	s.expectStderr(s.run("create", "--health-on-failure=kill", busybox), 125,
		"Error: cannot set on-failure action to kill without a health check")
	plain := s.name("plain")
	s.mustRun("run", "-d", "--name", plain, busybox, "sleep", "1000")
	r := s.run("healthcheck", "run", plain)
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "has no defined healthcheck") {
		t.Errorf("no healthcheck: %s", r)
	}
	r = s.run("healthcheck", "run", "--ignore-result", s.name("nonexistent"))
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "no such container") {
		t.Errorf("missing container: %s", r)
	}

	for _, policy := range []string{"none", "kill", "restart", "stop"} {
		name := s.name(policy)
		s.mustRun("run", "-d", "--name", name, "--stop-signal", "KILL", "--health-cmd", hcTest, "--health-retries=1",
			"--health-on-failure="+policy, "--health-interval=disable", busybox, "sleep", "1000")
		s.mustRun("healthcheck", "run", name)
		uhoh := "/uh-oh-once"
		if policy == "none" {
			uhoh = "/uh-oh"
		}
		s.mustRun("exec", name, "touch", uhoh)
		r := s.run("healthcheck", "run", name)
		s.expectExit(r, 1)
		if r.out() != "unhealthy" {
			t.Errorf("%s: healthcheck run printed %q", policy, r.stdout)
		}
		state := s.inspect(name, "{{.State.Status}} {{.Config.HealthcheckOnFailureAction}}")
		switch policy {
		case "none":
			if state != "running none" {
				t.Errorf("none: %q", state)
			}
			r := s.run("healthcheck", "run", "--ignore-result", name)
			s.expectExit(r, 0)
			if r.out() != "unhealthy" {
				t.Errorf("--ignore-result printed %q", r.stdout)
			}
		case "restart":
			if state != "running restart" {
				t.Errorf("restart: %q", state)
			}
			if got := s.inspect(name, "{{.State.Healthcheck.FailingStreak}} {{.State.Healthcheck.Status}}"); got != "0 starting" {
				t.Errorf("restarted container's health: %q", got)
			}
			s.mustRun("healthcheck", "run", name)
		default:
			if state != "exited "+policy {
				t.Errorf("%s: %q", policy, state)
			}
		}
	}
}

// TestH8HealthState covers a check that outlives the container (podman's
// "stop container when healthcheck runs"), a timeout, the number of
// results kept, a restart clearing the results, and wait --condition.
func TestH8HealthState(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	name := s.name("stop")
	s.mustRun("run", "-d", "--name", name, "--stop-signal", "KILL", "--health-cmd", "sleep 20; echo hc-msg", busybox, "sleep", "1000")
	bg := s.start(nil, "healthcheck", "run", name)
	time.Sleep(500 * time.Millisecond)
	s.mustRun("stop", name)
	r := bg.wait(t, 15*time.Second)
	s.expectExit(r, 1)
	if r.out() != "stopped" {
		t.Errorf("healthcheck run of a stopped container printed %q", r.stdout)
	}
	if got := s.inspect(name, "{{.State.Status}}--{{.State.Health.Status}}--{{.State.Health.FailingStreak}}"); got != "exited--stopped--0" {
		t.Errorf("after stop: %q", got)
	}
	if log := s.inspect(name, "{{.State.Health.Log}}"); strings.Contains(log, "hc-msg") {
		t.Errorf("the check's message was logged: %s", log)
	}
	r = s.run("healthcheck", "run", name)
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "is not running") {
		t.Errorf("exited container: %s", r)
	}

	name = s.name("timeout")
	s.mustRun("run", "-d", "--name", name, "--health-cmd", "sleep 10", "--health-timeout", "1s", "--health-interval=disable", busybox, "sleep", "1000")
	start := time.Now()
	s.expectExit(s.run("healthcheck", "run", name), 1)
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("a 1s timeout took %v", d)
	}
	if got := s.inspect(name, "{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}"); got != "-1 healthcheck command exceeded timeout of 1s" {
		t.Errorf("timed-out result: %q", got)
	}

	name = s.name("count")
	s.mustRun("run", "-d", "--name", name, "--health-cmd", "test ! -e /bad && echo hc-count", "--health-max-log-count", "3",
		"--health-max-log-size", "5", "--health-retries", "3", "--health-interval=disable", busybox, "sleep", "1000")
	for range 5 {
		s.mustRun("healthcheck", "run", name)
	}
	if got := s.inspect(name, "{{.Config.HealthMaxLogCount}} {{.Config.HealthMaxLogSize}} {{len .State.Health.Log}} {{(index .State.Health.Log 0).Output}}"); got != "3 5 3 hc-co" {
		t.Errorf("log count and size: %q", got)
	}
	// wait --condition unhealthy returns once the check fails.
	s.mustRun("exec", name, "touch", "/bad")
	bg = s.start(nil, "wait", "--condition", "unhealthy", name)
	time.Sleep(300 * time.Millisecond)
	select {
	case <-bg.done:
		t.Fatalf("wait --condition unhealthy returned while healthy: %s", bg.res)
	default:
	}
	for range 3 {
		s.run("healthcheck", "run", name)
	}
	s.expectExit(bg.wait(t, 10*time.Second), 0)
	if got := s.inspect(name, "{{.State.Health.Status}} {{.State.Health.FailingStreak}}"); got != "unhealthy 3" {
		t.Errorf("after three failures: %q", got)
	}
	s.mustRun("restart", "-t", "0", name)
	if got := s.inspect(name, "{{.State.Health.Status}} {{.State.Health.FailingStreak}} {{len .State.Health.Log}}"); got != "starting 0 0" {
		t.Errorf("after restart: %q", got)
	}
	plain := s.name("plain")
	s.mustRun("create", "--name", plain, busybox, "true")
	r = s.run("wait", "--condition", "healthy", plain)
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "has no healthcheck") {
		t.Errorf("wait --condition healthy without a healthcheck: %s", r)
	}
}

// TestH8HealthStartup covers podman's startup healthcheck: it runs instead
// of the regular check until it passes, then the regular one takes over.
func TestH8HealthStartup(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	name := s.name("startup")
	s.mustRun("run", "-d", "--name", name, "--health-startup-cmd", "test -e /ready", "--health-startup-interval", "1s",
		"--health-cmd", "echo regular", "--health-interval", "1s", busybox, "sleep", "1000")
	if got := s.inspect(name, "{{.Config.StartupHealthCheck.Test}}"); got != "[CMD-SHELL test -e /ready]" {
		t.Errorf("StartupHealthCheck.Test %q", got)
	}
	r := s.run("healthcheck", "run", name)
	s.expectExit(r, 1)
	if r.out() != "starting" {
		t.Errorf("failing startup check printed %q", r.stdout)
	}
	if got := s.inspect(name, "{{.State.Health.Status}} {{.State.Health.FailingStreak}}"); got != "starting 0" {
		t.Errorf("during startup: %q", got)
	}
	s.mustRun("exec", name, "touch", "/ready")
	// A passing startup check is a healthy result, as in podman.
	if r := s.run("healthcheck", "run", name); r.exit != 0 || r.stdout != "" {
		t.Errorf("passing startup check: %s", r)
	}
	waitFor(t, 15*time.Second, "the regular check after the startup check passed",
		func() bool {
			return s.inspect(name, "{{.State.Health.Status}}") == "healthy" &&
				strings.Contains(s.inspect(name, "{{range .State.Health.Log}}{{.Output}}{{end}}"), "regular")
		},
		func() string { return s.inspect(name, "{{json .State.Health}}") })
}

// TestH8HealthFromImage runs an image whose docker config has a
// HEALTHCHECK: the container inherits it, flags override its settings, and
// --no-healthcheck drops it.
func TestH8HealthFromImage(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	img := "localhost/" + s.prefix + "-hcimg:latest"
	archive := filepath.Join(t.TempDir(), "hc.tar")
	writeHealthImage(t, archive, img, map[string]any{
		"Test": []string{"CMD", "test", "-d", "/etc"}, "Interval": int64(7 * time.Second), "Retries": 5,
	})
	s.mustRun("load", "-i", archive)
	t.Cleanup(func() { s.run("rmi", "-f", img) })

	name := s.name("img")
	s.mustRun("run", "-d", "--name", name, img, "sleep", "1000")
	if got := s.inspect(name, "{{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}} {{.Config.Healthcheck.Timeout}}"); got != "[CMD test -d /etc] 7s 5 30s" {
		t.Errorf("image healthcheck: %q", got)
	}
	s.mustRun("healthcheck", "run", name)
	if got := s.inspect(name, "{{.State.Health.Status}}"); got != "healthy" {
		t.Errorf("status %q", got)
	}
	name = s.name("override")
	s.mustRun("create", "--name", name, "--health-retries", "1", "--health-interval", "2s", img)
	if got := s.inspect(name, "{{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}}"); got != "[CMD test -d /etc] 2s 1" {
		t.Errorf("overridden image healthcheck: %q", got)
	}
	name = s.name("none")
	s.mustRun("create", "--name", name, "--no-healthcheck", img)
	if got := s.inspect(name, "{{.Config.Healthcheck}} {{.State.Health}}"); got != "<nil> <nil>" {
		t.Errorf("--no-healthcheck: %q", got)
	}
}

// writeHealthImage writes a docker-archive of the busybox rootfs whose
// config carries healthcheck.
func writeHealthImage(t *testing.T, path, tag string, healthcheck map[string]any) {
	t.Helper()
	layer, err := os.ReadFile(suite.rootfsTar)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(layer)
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Cmd": []string{"/bin/sh"}, "Healthcheck": healthcheck},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(sum[:])}},
	})
	csum := sha256.Sum256(config)
	configName := hex.EncodeToString(csum[:]) + ".json"
	manifest, _ := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{tag}, "Layers": []string{"layer.tar"}}})
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range []struct {
		name string
		data []byte
	}{{configName, config}, {"layer.tar", layer}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestH8UpdateHealthRestart follows podman's 280-update tests of the
// healthcheck flags and the restart policy, on a running container whose
// monitor must take the new settings at once.
func TestH8UpdateHealthRestart(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "sentinel"), nil, 0o644)
	name := s.name("upd")
	s.mustRun("run", "-d", "--name", name, "-v", dir+":/testdir", busybox, "sh", "-c",
		"touch /testdir/alive; while test -e /testdir/sentinel; do sleep 0.1; done")
	for _, f := range []string{"--health-interval=10s", "--health-retries=5", "--health-timeout=10s", "--health-start-period=10s"} {
		r := s.run("update", f, name)
		s.expectExit(r, 125)
		if !strings.Contains(r.stderr, "healthcheck command is not set") {
			t.Errorf("update %s without a healthcheck: %s", f, r)
		}
	}
	r := s.run("update", "--health-startup-interval=10s", name)
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "startup healthcheck command is not set") {
		t.Errorf("update --health-startup-interval without a startup healthcheck: %s", r)
	}

	logDir := t.TempDir()
	s.mustRun("update", "--health-cmd=echo upd-msg", "--health-interval=1s", "--health-log-destination="+logDir,
		"--health-max-log-count=17", "--health-max-log-size=23", "--health-on-failure=restart", "--health-retries=4",
		"--health-timeout=9s", "--health-start-period=3s", "--health-startup-cmd=echo st", "--health-startup-interval=1s",
		"--health-startup-retries=6", "--health-startup-success=2", "--health-startup-timeout=8s", name)
	for format, want := range map[string]string{
		"{{.Config.Healthcheck.Test}}":                         "[CMD-SHELL echo upd-msg]",
		"{{.Config.Healthcheck.Interval}}":                     "1s",
		"{{.Config.HealthLogDestination}}":                     logDir,
		"{{.Config.HealthMaxLogCount}}":                        "17",
		"{{.Config.HealthMaxLogSize}}":                         "23",
		"{{.Config.HealthcheckOnFailureAction}}":               "restart",
		"{{.Config.Healthcheck.Retries}}":                      "4",
		"{{.Config.Healthcheck.Timeout}}":                      "9s",
		"{{.Config.Healthcheck.StartPeriod}}":                  "3s",
		"{{.Config.StartupHealthCheck.Test}}":                  "[CMD-SHELL echo st]",
		"{{.Config.StartupHealthCheck.Interval}}":              "1s",
		"{{.Config.StartupHealthCheck.Retries}}":               "6",
		"{{.Config.StartupHealthCheck.Successes}}":             "2",
		"{{.Config.StartupHealthCheck.Timeout}}":               "8s",
		"{{.HostConfig.RestartPolicy.Name}} {{.State.Status}}": "no running",
	} {
		if got := s.inspect(name, format); got != want {
			t.Errorf("after update, %s = %q, want %q", format, got, want)
		}
	}
	// The monitor picked up the new healthcheck: two startup passes, then
	// the regular check, all in the log directory.
	logFile := filepath.Join(logDir, s.inspect(name, "{{.Id}}")+"-healthcheck.log")
	waitFor(t, 20*time.Second, "the monitor to run the updated healthcheck",
		func() bool { b, _ := os.ReadFile(logFile); return bytes.Contains(b, []byte("upd-msg")) },
		func() string { b, _ := os.ReadFile(logFile); return string(b) })

	s.mustRun("update", "--no-healthcheck", name)
	if got := s.inspect(name, "{{.Config.Healthcheck.Test}} {{.Config.StartupHealthCheck}}"); got != "[NONE] <nil>" {
		t.Errorf("after --no-healthcheck: %q", got)
	}
	r = s.run("update", "--no-healthcheck", "--health-cmd=true", name)
	s.expectExit(r, 125)

	// A restart policy given to a running container applies to its exit.
	waitFor(t, 10*time.Second, "the container to start", func() bool {
		_, err := os.Stat(filepath.Join(dir, "alive"))
		return err == nil
	}, nil)
	s.mustRun("update", "--restart", "always", name)
	if got := s.inspect(name, "{{.HostConfig.RestartPolicy.Name}}"); got != "always" {
		t.Errorf("restart policy %q", got)
	}
	os.Remove(filepath.Join(dir, "alive"))
	os.Remove(filepath.Join(dir, "sentinel"))
	waitFor(t, 10*time.Second, "the container to be restarted", func() bool {
		_, err := os.Stat(filepath.Join(dir, "alive"))
		return err == nil
	}, func() string { return s.inspect(name, "{{json .State}}") })
	if n := s.inspect(name, "{{.RestartCount}}"); n == "0" {
		t.Errorf("RestartCount %s after a restart", n)
	}
}
