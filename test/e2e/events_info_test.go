package e2e

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// eventEntry is the part of `events --format json` the tests rely on.
type eventEntry struct {
	ID     string `json:"ID"`
	Name   string `json:"Name"`
	Status string `json:"Status"`
	Type   string `json:"Type"`
	Image  string `json:"Image"`
}

func unixArg(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestEventsHistory(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("ev")
	since := unixArg(time.Now().Add(-time.Second))
	s.mustRun("run", "--rm", "--name", name, "--network", "none", busybox, "true")

	// Without --until, events replays the history from --since and then
	// follows: read until the last expected event shows up.
	statuses := s.eventsUntil("remove", "--since", since, "--filter", "container="+name, "--format", "{{.Status}}")
	for _, want := range []string{"create", "start", "died", "remove"} {
		if !contains(statuses, want) {
			t.Errorf("events lack %q: %q", want, statuses)
		}
	}
	if i, j := index(statuses, "start"), index(statuses, "died"); i < 0 || j < i || index(statuses, "remove") < j {
		t.Errorf("events out of order: %q", statuses)
	}

	died := s.eventsUntil("died", "--since", since, "--filter", "container="+name, "--filter", "event=died",
		"--format", "{{.Status}} {{.Name}}")
	if strings.Join(died, ",") != "died "+name {
		t.Errorf("events --filter event=died: %q", died)
	}

	for _, line := range s.eventsUntil(`"remove"`, "--since", since, "--filter", "container="+name, "--format", "json") {
		var e eventEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Errorf("events json line %q: %v", line, err)
			continue
		}
		if e.Name != name || e.Type != "container" || !fullID.MatchString(e.ID) {
			t.Errorf("events json: %+v", e)
		}
	}

	// The default format names the event and the container.
	plain := strings.Join(s.eventsUntil("container remove", "--since", since, "--filter", "container="+name), "\n")
	if !strings.Contains(plain, "container start") || !strings.Contains(plain, "name="+name) {
		t.Errorf("events default format:\n%s", plain)
	}
}

// eventsUntil runs `events args...` until its output contains sentinel, then
// stops it and returns the output lines.
func (s *servin) eventsUntil(sentinel string, args ...string) []string {
	s.t.Helper()
	p := s.start(nil, append([]string{"events"}, args...)...)
	waitFor(s.t, waitTimeout, "events to print "+sentinel, func() bool {
		return strings.Contains(p.stdout.String(), sentinel) || p.exited()
	}, func() string { return "printed: " + p.stdout.String() })
	p.cancel()
	<-p.done
	return result{stdout: p.stdout.String()}.lines()
}

// TestEventsUntil checks the bounded form of events, which exits by itself.
func TestEventsUntil(t *testing.T) {
	if suite.podman {
		t.Skip("podman 4.3 prints nothing for an absolute --until")
	}
	t.Parallel()
	s := newServin(t)
	name := s.name("ev")
	before := time.Now().Add(-time.Second).UTC()
	s.mustRun("run", "--rm", "--name", name, "--network", "none", busybox, "true")
	after := time.Now().UTC()

	windows := [][2]string{
		{unixArg(before), after.Format(time.RFC3339Nano)},
		{before.Format(time.RFC3339), after.Format(time.RFC3339Nano)},
		{"1m", "0s"},
	}
	for _, w := range windows {
		r := s.run("events", "--since", w[0], "--until", w[1], "--filter", "container="+name, "--format", "{{.Status}}")
		s.expectExit(r, 0)
		if got := r.lines(); !contains(got, "start") || !contains(got, "remove") {
			t.Errorf("events --since %s --until %s: %q", w[0], w[1], got)
		}
	}

	// A window before the container existed holds none of its events.
	r := s.run("events", "--since", unixArg(before.Add(-time.Hour)), "--until", unixArg(before.Add(-time.Minute)),
		"--filter", "container="+name)
	if r.out() != "" {
		t.Errorf("events before the container existed:\n%s", r.stdout)
	}
}

func TestEventsStream(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("stream")
	p := s.start(nil, "events", "--filter", "container="+name, "--format", "{{.Status}}")
	// The stream starts empty; give it a moment to be listening by running
	// the container until an event shows up.
	waitFor(t, waitTimeout, "events to stream the container's remove", func() bool {
		if !strings.Contains(p.stdout.String(), "start") {
			s.run("run", "--rm", "--name", name, "--network", "none", busybox, "true")
		}
		return strings.Contains(p.stdout.String(), "remove")
	}, func() string { return "streamed: " + p.stdout.String() })
	if p.exited() {
		t.Errorf("events without --until exited:\n%s", p.res)
	}
}

func TestInfoVersion(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	// podman stores images right in --root; servin may keep them in a
	// directory below it, next to its state.
	graphRoot := s.mustRun("info", "--format", "{{.Store.GraphRoot}}")
	if graphRoot != s.st.root && !strings.HasPrefix(graphRoot, s.st.root+"/") {
		t.Errorf("info .Store.GraphRoot = %q, want %q or below", graphRoot, s.st.root)
	}
	if got := s.mustRun("info", "--format", "{{.Store.RunRoot}}"); got != s.st.runroot && !strings.HasPrefix(got, s.st.runroot+"/") {
		t.Errorf("info .Store.RunRoot = %q, want %q or below", got, s.st.runroot)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(s.mustRun("info", "--format", "json")), &info); err != nil {
		t.Errorf("info --format json: %v", err)
	}
	for _, key := range []string{"host", "store", "version"} {
		if _, ok := info[key]; !ok {
			t.Errorf("info JSON lacks %q", key)
		}
	}
	if out := s.mustRun("info"); !strings.Contains(out, "graphRoot: "+graphRoot) {
		t.Errorf("info does not show graphRoot:\n%s", out)
	}

	out := s.mustRun("version")
	if !strings.Contains(out, "Version:") || !strings.Contains(out, "Go Version:") {
		t.Errorf("version:\n%s", out)
	}
	if v := s.mustRun("version", "--format", "{{.Client.Version}}"); v == "" {
		t.Errorf("version --format {{.Client.Version}} is empty")
	}
	if v := s.mustRun("--version"); !strings.Contains(v, "version") {
		t.Errorf("--version printed %q", v)
	}
}

func index(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
