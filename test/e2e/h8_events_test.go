package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The events command as podman's system test 090-events.bats checks it:
// backends, image/volume/container event shapes, filters, formats.

// nowArg is a --since value for events from now on (nanosecond RFC 3339).
func nowArg() string { return time.Now().Format(time.RFC3339Nano) }

// TestH8EventsBackend: --events-backend none records nothing and cannot be
// read; file and journald name servin's one event log.
func TestH8EventsBackend(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	want := `Error: cannot read events with the "none" backend`
	s.expectStderr(s.run("--events-backend", "none", "events", "--stream=false"), 125, want)
	// Streaming fails the same way, at once.
	s.expectStderr(s.run("--events-backend", "none", "events"), 125, want)
	if r := s.run("--events-backend", "bogus", "events", "--stream=false"); r.exit != 125 || !strings.Contains(r.stderr, `"bogus" is not a valid events backend`) {
		t.Errorf("bogus backend: %s", r)
	}

	since := nowArg()
	quiet, loud := s.name("none"), s.name("file")
	// --rm: the cleanup process records died and remove, so it must know
	// the backend too.
	s.mustRun("--events-backend=none", "run", "--rm", "--name", quiet, "--network", "none", busybox, "true")
	s.mustRun("--events-backend=file", "run", "--rm", "--name", loud, "--network", "none", busybox, "true")
	if out := s.mustRun("events", "--stream=false", "--since", since, "--filter", "container="+quiet); out != "" {
		t.Errorf("--events-backend=none recorded events:\n%s", out)
	}
	backends := []string{"file", "journald"}
	if suite.podman {
		backends = backends[:1] // no journal here
	}
	for _, backend := range backends {
		out := s.mustRun("--events-backend="+backend, "events", "--stream=false", "--since", since,
			"--filter", "container="+loud, "--format", "{{.Status}}")
		if strings.Join(strings.Fields(out), " ") != "create init start attach died remove" {
			t.Errorf("--events-backend=%s events: %q", backend, out)
		}
	}
}

// TestH8EventsImage follows the bats "image events" test: every image
// operation records podman's status, the image ID and what it was given.
func TestH8EventsImage(t *testing.T) {
	if suite.podman {
		t.Skip("podman 4.3 records loadfromarchive without an ID and untags in another order than podman 5")
	}
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	dir := t.TempDir()
	pushed, tarball := filepath.Join(dir, "pushed"), filepath.Join(dir, "ball.tar")
	if err := os.Mkdir(pushed, 0o755); err != nil {
		t.Fatal(err)
	}
	const image = "localhost/busybox:latest"
	const tag = "registry.com/img-events"
	const bogus = "localhost:1/bogus"
	id := s.mustRun("image", "inspect", "--format", "{{.ID}}", image)
	since := nowArg()

	s.mustRun("--events-backend=file", "push", image, "dir:"+pushed)
	s.mustRun("save", image, "-o", tarball)
	s.mustRun("load", "-i", tarball)
	s.mustRun("pull", "docker-archive:"+tarball)
	s.expectExit(s.run("pull", "--retry", "0", bogus), 125)
	s.mustRun("tag", image, tag)
	s.mustRun("untag", image, tag)
	s.mustRun("tag", image, tag)
	s.mustRun("rmi", "-f", id)
	s.mustRun("load", "-i", tarball)

	lines := s.mustRun("events", "--stream=false", "--filter", "type=image", "--since", since)
	want := []string{
		"image push " + id + " dir:" + pushed,
		"image save " + id + " " + tarball,
		"image loadfromarchive " + id + " " + tarball,
		"image pull " + id + " docker-archive:" + tarball,
		// No image: an empty ID column, then the error.
		"image pull-error  " + bogus + " .*pinging container registry localhost.*connection refused",
		"image tag " + id + " " + tag,
		"image untag " + id + " " + tag + ":latest",
		"image tag " + id + " " + tag,
		"image untag " + id + " " + tag + ":latest",
		"image untag " + id + " " + image,
		"image remove " + id + " " + id,
		"image loadfromarchive " + id + " " + tarball,
	}
	got := strings.Split(lines, "\n")
	if len(got) != len(want) {
		t.Fatalf("events: %d lines, want %d:\n%s", len(got), len(want), lines)
	}
	for i, w := range want {
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \S+ \S+ \S+ ` + strings.ReplaceAll(regexp.QuoteMeta(w), `\.\*`, `.*`) + `$`).MatchString(got[i]) {
			t.Errorf("events line %d:\n got %q\nwant %q", i, got[i], w)
		}
	}

	// With --format the exact names show.
	out := s.mustRun("events", "--stream=false", "--filter", "type=image", "--since", since, "--format", "{{.Status}}--{{.Name}}")
	exact := []string{
		"push--dir:" + pushed, "save--" + tarball, "loadfromarchive--" + tarball, "pull--docker-archive:" + tarball,
		"pull-error--" + bogus, "tag--" + tag, "untag--" + tag + ":latest", "tag--" + tag, "untag--" + tag + ":latest",
		"untag--" + image, "remove--" + id, "loadfromarchive--" + tarball,
	}
	if out != strings.Join(exact, "\n") {
		t.Errorf("events --format {{.Status}}--{{.Name}}:\n%s\nwant:\n%s", out, strings.Join(exact, "\n"))
	}
	if e := s.mustRun("events", "--stream=false", "--filter", "event=pull-error", "--since", since, "--format", "{{.ID}}|{{.Error}}"); !strings.HasPrefix(e, "|") || !strings.Contains(e, "connection refused") {
		t.Errorf("pull-error --format {{.ID}}|{{.Error}}: %q", e)
	}
}

// TestH8EventsContainerFilters follows the bats label, --no-trunc and
// disjunctive filter tests.
func TestH8EventsContainerFilters(t *testing.T) {
	if suite.podman {
		t.Skip("podman 4.3 lacks label-key filters and `system events` flags (podman 5 has them)")
	}
	t.Parallel()
	s := newServin(t)
	name := s.name("lbl")
	label, value := "h8label", "value with spaces "+s.prefix
	since := nowArg()
	id := s.mustRun("run", "-d", "--rm", "--label", label+"="+value, "--name", name, "--network", "none", busybox, "sh", "-c", "exit 17")
	// The container may be gone already (--rm): wait then fails, fine.
	s.run("wait", id)
	expect := regexp.MustCompile(`^.* container start ` + id + ` \(image=localhost/busybox:latest, name=` + regexp.QuoteMeta(name) + `,.* ` + label + `=` + regexp.QuoteMeta(value) + `\)$`)
	for _, filters := range [][]string{
		{"-f", "type=container", "-f", "container=" + name, "--filter", "label=" + label + "=" + value, "--filter", "event=start"},
		{"--filter", "type=container", "--filter", "label=" + label + "=" + value, "--filter", "event=start"},
		{"--filter", "type=container", "--filter", "label=" + label, "--filter", "Event=start"},
		{"--filter", "container=" + id[:12], "--filter", "status=start"},
	} {
		out := s.mustRun(append([]string{"events", "--since", since, "--stream=false"}, filters...)...)
		if !expect.MatchString(out) {
			t.Errorf("events %q:\n%s", filters, out)
		}
	}
	short := s.mustRun("system", "events", "--since", since, "--filter", "container="+name, "--filter", "event=start", "--stream=false", "--no-trunc=false")
	if !strings.Contains(short, " container start "+id[:12]+" (image=") {
		t.Errorf("--no-trunc=false:\n%s", short)
	}
	// --no-trunc does not shorten what --format shows; die is docker's died.
	out := s.mustRun("events", "--since", since, "--filter", "container="+name, "--filter", "event=die", "--stream=false",
		"--format", "{{.ID}}--{{.Image}}--{{.ContainerExitCode}}--{{.Attributes."+label+"}}", "--no-trunc=false")
	if want := id + "--localhost/busybox:latest--17--" + value; out != want {
		t.Errorf("died --format: %q, want %q", out, want)
	}

	// Values of one key are ORed.
	c1, c2 := s.name("c1"), s.name("c2")
	s.mustRun("run", "--rm", "--name", c1, "--network", "none", busybox, "true")
	s.mustRun("run", "--rm", "--name", c2, "--network", "none", busybox, "true")
	out = s.mustRun("events", "--stream=false", "--since", since, "--filter", "container="+c1, "--filter", "container="+c2, "--filter", "event=start",
		"--format", "{{.Name}}")
	if out != c1+"\n"+c2 {
		t.Errorf("disjunctive container filters: %q", out)
	}
}

// TestH8EventsVolume: volume create, remove and prune events, filtered by
// a name prefix.
func TestH8EventsVolume(t *testing.T) {
	if suite.podman {
		t.Skip("podman 4.3 has no volume filter (podman 5 has)")
	}
	t.Parallel()
	s := newVolumeServin(t)
	vol := s.name("vol")
	since := nowArg()
	s.mustRun("volume", "create", vol)
	s.mustRun("volume", "rm", vol)
	full := s.mustRun("events", "--since", since, "--stream=false", "--filter", "volume="+vol)
	lines := strings.Split(full, "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " volume create "+vol) || !strings.HasSuffix(lines[1], " volume remove "+vol) {
		t.Errorf("volume events:\n%s", full)
	}
	if prefix := s.mustRun("events", "--since", since, "--stream=false", "--filter", "volume="+vol[:len(vol)-2]); prefix != full {
		t.Errorf("volume prefix filter:\n%s\nwant\n%s", prefix, full)
	}
	if other := s.mustRun("events", "--since", since, "--stream=false", "--filter", "volume="+vol+"x"); other != "" {
		t.Errorf("volume filter matched another name:\n%s", other)
	}
	js := s.mustRun("events", "--since", since, "--stream=false", "--filter", "volume="+vol, "--filter", "event=create", "--format", "json")
	if !regexp.MustCompile(`^\{"Name":"` + regexp.QuoteMeta(vol) + `","Status":"create","time":\d+,"timeNano":\d+,"Type":"volume","Attributes":null\}$`).MatchString(js) {
		t.Errorf("volume create --format json: %s", js)
	}

	iso := newIsolatedServin(t)
	pv := iso.name("pv")
	iso.mustRun("volume", "create", pv)
	iso.mustRun("volume", "prune", "-f", "-a")
	js = iso.mustRun("events", "--stream=false", "--filter", "type=volume", "--filter", "event=remove", "--filter", "event=prune", "--format", "json")
	var evs []map[string]any
	for _, l := range strings.Split(js, "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("json line %q: %v", l, err)
		}
		evs = append(evs, e)
	}
	if len(evs) != 2 || evs[0]["Status"] != "remove" || evs[1]["Status"] != "prune" || evs[1]["Name"] != pv {
		t.Errorf("volume prune events:\n%s", js)
	}
	if _, ok := evs[0]["ID"]; ok {
		t.Errorf("volume events have no ID in podman:\n%s", js)
	}
}

// TestH8EventsJSON: --format json is podman's line: Unix time and
// nanoseconds, fields in podman's order, the exit code on died and remove.
func TestH8EventsJSON(t *testing.T) {
	if suite.podman {
		t.Skip(`podman 4.3 prints "Time" as a string; podman 5 prints time and timeNano`)
	}
	t.Parallel()
	s := newServin(t)
	name := s.name("js")
	since := time.Now()
	s.mustRun("run", "--rm", "--label", "k=v", "--name", name, "--network", "none", busybox, "true")
	out := s.mustRun("events", "--stream=false", "--since", since.Format(time.RFC3339Nano), "--filter", "container="+name,
		"--filter", "event=remove", "--format", "json")
	re := regexp.MustCompile(`^\{"ContainerExitCode":0,"ID":"[0-9a-f]{64}","Image":"localhost/busybox:latest","Name":"` + regexp.QuoteMeta(name) +
		`","Status":"remove","time":(\d+),"timeNano":(\d+),"Type":"container","Attributes":\{"k":"v"\}\}$`)
	m := re.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("events --format json:\n%s", out)
	}
	var sec, nano int64
	_ = json.Unmarshal([]byte(m[1]), &sec)
	_ = json.Unmarshal([]byte(m[2]), &nano)
	if nano/1e9 != sec || sec < since.Unix() || sec > time.Now().Unix() {
		t.Errorf("time %d, timeNano %d: not the event's time", sec, nano)
	}
	// Templates see the same numbers.
	got := s.mustRun("events", "--stream=false", "--since", since.Format(time.RFC3339Nano), "--filter", "container="+name,
		"--filter", "event=remove", "--format", "{{.Time}} {{.TimeNano}}")
	if got != m[1]+" "+m[2] {
		t.Errorf("--format {{.Time}} {{.TimeNano}}: %q, want %q", got, m[1]+" "+m[2])
	}
}

// TestH8EventsInvalid: unreadable times and unknown filters fail as in
// podman.
func TestH8EventsInvalid(t *testing.T) {
	if suite.podman {
		t.Skip("podman 4.3 ignores unreadable times (podman 5 fails)")
	}
	t.Parallel()
	s := newServin(t)
	for _, args := range [][]string{
		{"--since", "the dawn of time...ish"},
		{"--until", "the end of time", "--stream=false"},
		{"--filter", "bogus=1", "--stream=false"},
		{"--filter", "noequals", "--stream=false"},
	} {
		r := s.run(append([]string{"events"}, args...)...)
		s.expectExit(r, 125)
		if !strings.Contains(r.stderr, "failed to parse event filters") {
			t.Errorf("events %q: %s", args, r)
		}
	}
}

// TestH8EventsOOMKilled: the died event of a container the kernel killed
// for memory says so; others leave OOMKilled unset, as podman does.
func TestH8EventsOOMKilled(t *testing.T) {
	if suite.podman {
		t.Skip("podman 4.3 events have no OOMKilled (podman 5 has)")
	}
	t.Parallel()
	s := newServin(t)
	name, ok := s.name("oom"), s.name("ok")
	s.mustRun("run", "-d", "--rm", "--name", name, "--memory", "16m", "--network", "none", busybox, "sh", "-c",
		`x=$(head -c 200000000 /dev/zero | tr "\0" a)`)
	s.run("wait", name)
	// wait returns once the exit is recorded: the died event is there.
	if got := s.mustRun("events", "--stream=false", "--filter", "container="+name, "--filter", "event=died", "--format", "{{.OOMKilled}}"); got != "true" {
		t.Errorf("died {{.OOMKilled}} = %q, want true", got)
	}
	s.mustRun("run", "--rm", "--name", ok, "--network", "none", busybox, "true")
	if got := s.mustRun("events", "--stream=false", "--filter", "container="+ok, "--filter", "event=died", "--format", "{{.OOMKilled}}"); got != "<nil>" {
		t.Errorf("died {{.OOMKilled}} of a clean exit = %q, want <nil>", got)
	}
}

// TestH8EventsCreateInspectData: with events_container_create_inspect_data
// the create event carries the container's inspect JSON; the default line
// does not show it.
func TestH8EventsCreateInspectData(t *testing.T) {
	if suite.podman {
		t.Skip("servin.conf option; podman reads containers.conf")
	}
	t.Parallel()
	s := newServin(t)
	conf := filepath.Join(t.TempDir(), "servin.conf")
	if err := os.WriteFile(conf, []byte("[engine]\nevents_container_create_inspect_data = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	name := s.name("insp")
	since := nowArg()
	s.mustRun("--config", conf, "create", "--name", name, "--network", "none", busybox, "true")
	var inspect, event []any
	if err := json.Unmarshal([]byte(s.mustRun("container", "inspect", "--size=true", name)), &inspect); err != nil {
		t.Fatal(err)
	}
	data := s.mustRun("--config", conf, "events", "--since", since, "--filter", "status="+name, "--filter", "status=create",
		"--stream=false", "--format", "{{.ContainerInspectData}}")
	if err := json.Unmarshal([]byte("["+data+"]"), &event); err != nil {
		t.Fatalf("ContainerInspectData %q: %v", data, err)
	}
	if !reflect.DeepEqual(inspect, event) {
		t.Errorf("ContainerInspectData differs from inspect:\n%s", data)
	}
	line := s.mustRun("events", "--since", since, "--filter", "container="+name, "--stream=false")
	if !strings.Contains(line, "container create") || strings.Contains(line, "ConmonPidFile") {
		t.Errorf("default line:\n%s", line)
	}
	// Without the option, create events carry no inspect data.
	plain := s.name("plain")
	s.mustRun("create", "--name", plain, "--network", "none", busybox, "true")
	if got := s.mustRun("events", "--since", since, "--filter", "container="+plain, "--stream=false", "--format", "{{.ContainerInspectData}}"); got != "" {
		t.Errorf("create event without the option: %q", got)
	}
}

// TestH8EventsNetwork: network events read as podman's.
func TestH8EventsNetwork(t *testing.T) {
	if suite.podman {
		t.Skip("podman 4.3 leaves the network name out of create events")
	}
	t.Parallel()
	s := newServin(t)
	since := nowArg()
	net := s.netCreate("net")
	netID := s.mustRun("network", "inspect", "--format", "{{.ID}}", net)
	s.mustRun("network", "rm", net)
	out := s.mustRun("events", "--since", since, "--stream=false", "--filter", "type=network")
	// Other tests running meanwhile may add their own network events.
	for _, action := range []string{"create", "remove"} {
		want := regexp.MustCompile(`(?m)^.* network ` + action + ` ` + netID + ` \(name=` + regexp.QuoteMeta(net) + `, type=bridge\)$`)
		if !want.MatchString(out) {
			t.Errorf("network %s event missing:\n%s", action, out)
		}
	}
}
