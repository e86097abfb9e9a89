package e2e

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// psEntry is the part of `ps --format json` the tests rely on.
type psEntry struct {
	ID     string            `json:"Id"`
	Names  []string          `json:"Names"`
	Image  string            `json:"Image"`
	State  string            `json:"State"`
	Labels map[string]string `json:"Labels"`
	Exited bool              `json:"Exited"`
	Code   int               `json:"ExitCode"`
}

func TestPs(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	s.mustRun("create", "--name", "c1", busybox, "true")
	runID := s.runDetached("c2", "-l", "tier=web", busybox, "sleep", "100")
	s.expectExit(s.run("run", "--name", "c3", "--network", "none", busybox, "sh", "-c", "exit 1"), 1)

	names := func(args ...string) string {
		t.Helper()
		lines := s.run(append([]string{"ps", "--format", "{{.Names}}"}, args...)...).lines()
		sort.Strings(lines)
		return strings.Join(lines, ",")
	}
	checks := []struct {
		args []string
		want string
	}{
		{nil, "c2"},
		{[]string{"-a"}, "c1,c2,c3"},
		{[]string{"--all"}, "c1,c2,c3"},
		{[]string{"-a", "-n", "1"}, "c3"},
		{[]string{"-a", "--last", "2"}, "c2,c3"},
		{[]string{"-a", "--filter", "status=exited"}, "c3"},
		{[]string{"-a", "--filter", "status=created"}, "c1"},
		{[]string{"-a", "--filter", "status=running"}, "c2"},
		{[]string{"-a", "--filter", "name=c1"}, "c1"},
		{[]string{"-a", "--filter", "id=" + runID[:8]}, "c2"},
		{[]string{"-a", "--filter", "label=tier=web"}, "c2"},
		{[]string{"-a", "--filter", "label=tier"}, "c2"},
		{[]string{"-a", "--filter", "label=tier=db"}, ""},
		{[]string{"-a", "--filter", "exited=1"}, "c3"},
	}
	for _, c := range checks {
		if got := names(c.args...); got != c.want {
			t.Errorf("ps %s: got %q, want %q", strings.Join(c.args, " "), got, c.want)
		}
	}

	ids := s.run("ps", "-a", "-q").lines()
	if len(ids) != 3 {
		t.Errorf("ps -a -q: %q", ids)
	}
	for _, id := range ids {
		if !shortID.MatchString(id) {
			t.Errorf("ps -q printed %q, want a 12-hex ID", id)
		}
	}
	if got := s.mustRun("ps", "-q", "--no-trunc"); got != runID {
		t.Errorf("ps -q --no-trunc = %q, want %q", got, runID)
	}

	table := s.mustRun("ps", "-a")
	for _, want := range []string{"CONTAINER ID", "IMAGE", "COMMAND", "STATUS", "NAMES", "c1", "c2", "c3", "sleep 100"} {
		if !strings.Contains(table, want) {
			t.Errorf("ps -a table lacks %q:\n%s", want, table)
		}
	}

	var entries []psEntry
	if err := json.Unmarshal([]byte(s.mustRun("ps", "-a", "--format", "json")), &entries); err != nil {
		t.Fatalf("ps --format json: %v", err)
	}
	if len(entries) != 3 {
		t.Fatalf("ps --format json: %d entries", len(entries))
	}
	for _, e := range entries {
		if len(e.Names) != 1 || !fullID.MatchString(e.ID) {
			t.Errorf("json entry: %+v", e)
			continue
		}
		want := map[string]string{"c1": "created", "c2": "running", "c3": "exited"}[e.Names[0]]
		if e.State != want {
			t.Errorf("json: %s has State %q, want %q", e.Names[0], e.State, want)
		}
		if e.Names[0] == "c2" && e.Labels["tier"] != "web" {
			t.Errorf("json: c2 labels %v", e.Labels)
		}
		if e.Names[0] == "c3" && (!e.Exited || e.Code != 1) {
			t.Errorf("json: c3 Exited=%v ExitCode=%d", e.Exited, e.Code)
		}
	}
	// An empty result is an empty JSON list, not nothing.
	if got := s.mustRun("ps", "--filter", "name=nosuch", "--format", "json"); got != "[]" {
		t.Errorf("empty ps --format json = %q", got)
	}
}

func TestInspect(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("i")
	id := s.runDetached(name, "-e", "FOO=bar", "--hostname", "inspected", busybox, "sleep", "100")

	if got := s.inspect(name, "{{.State.Status}}"); got != "running" {
		t.Errorf(".State.Status = %q", got)
	}
	if got := s.inspect(name, "{{.State.ExitCode}}"); got != "0" {
		t.Errorf(".State.ExitCode = %q", got)
	}
	if got := s.inspect(name, "{{.Config.Env}}"); !strings.Contains(got, "FOO=bar") {
		t.Errorf(".Config.Env = %q", got)
	}
	if got := s.inspect(name, "{{.Id}}"); got != id {
		t.Errorf(".Id = %q, want %q", got, id)
	}
	if got := s.inspect(name, "{{.Config.Hostname}}"); got != "inspected" {
		t.Errorf(".Config.Hostname = %q", got)
	}
	if got := s.inspect(name, "{{.State.Running}} {{.State.Paused}}"); got != "true false" {
		t.Errorf(".State.Running .State.Paused = %q", got)
	}
	if got := s.inspect(name, "{{.State.Pid}}"); got == "0" || got == "" {
		t.Errorf(".State.Pid = %q for a running container", got)
	}

	var all []map[string]any
	if err := json.Unmarshal([]byte(s.mustRun("inspect", name)), &all); err != nil {
		t.Fatalf("inspect JSON: %v", err)
	}
	if len(all) != 1 || all[0]["Id"] != id || all[0]["Name"] != name {
		t.Errorf("inspect JSON: Id %v Name %v", all[0]["Id"], all[0]["Name"])
	}
	for _, key := range []string{"Created", "Path", "Args", "State", "Image", "Config", "HostConfig"} {
		if _, ok := all[0][key]; !ok {
			t.Errorf("inspect JSON lacks %s", key)
		}
	}

	// Several containers, one of them unknown: output for the known one,
	// and exit 125.
	r := s.run("inspect", "--format", "{{.Name}}", name, "nosuchcontainer")
	s.expectExit(r, 125)
	s.expectExit(s.run("inspect", "nosuchcontainer"), 125)
	s.expectExit(s.run("inspect", "--format", "{{.NoSuchField}}", name), 125)
}
