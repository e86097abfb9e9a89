package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/state"
)

var testNow = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func testContainer(name, id, status string, age time.Duration) *libservin.Container {
	c := &libservin.Container{
		ID: id + strings.Repeat("0", 64-len(id)), Name: name,
		ImageID: "f24b42fb70c4d945d1e27a2d47cc958de2e1f5dba8e62172acc1922d475c0601", ImageName: "localhost/busybox:latest",
		Created: testNow.Add(-age),
		Config:  libservin.ContainerConfig{Cmd: []string{"sleep", "1000"}},
		State:   state.ContainerState{Status: status},
	}
	switch status {
	case libservin.StatusRunning, libservin.StatusPaused:
		c.State.StartedAt = c.Created.Add(time.Second)
		c.State.Pid = 42
	case libservin.StatusExited:
		c.State.StartedAt = c.Created.Add(time.Second)
		c.State.FinishedAt = c.Created.Add(2 * time.Second)
	}
	return c
}

func TestContainerStatus(t *testing.T) {
	run := testContainer("a", "a1", libservin.StatusRunning, 10*time.Second)
	paused := testContainer("b", "b1", libservin.StatusPaused, 10*time.Second)
	exited := testContainer("c", "c1", libservin.StatusExited, 10*time.Second)
	exited.State.ExitCode = 3
	created := testContainer("d", "d1", libservin.StatusCreated, 10*time.Second)
	stopping := testContainer("e", "e1", libservin.StatusStopping, 10*time.Second)
	cases := map[*libservin.Container]string{
		run:      "Up 9 seconds",
		paused:   "Paused",
		exited:   "Exited (3) 8 seconds ago",
		created:  "Created",
		stopping: "Stopping",
	}
	for c, want := range cases {
		if got := containerStatus(c, testNow); got != want {
			t.Errorf("%s: status %q, want %q", c.Name, got, want)
		}
	}
}

func TestPsRowTruncation(t *testing.T) {
	c := testContainer("web", "abcdef0123456789", libservin.StatusExited, time.Minute)
	c.Config.Entrypoint = []string{"sh", "-c"}
	c.Config.Cmd = []string{"echo a; echo b >&2; printf partial"}
	c.Config.Labels = map[string]string{"a": "b"}
	r := newPsRow(c, testNow, false)
	if r.ID != "abcdef012345" || r.ImageID != "f24b42fb70c4" || r.Command != "sh -c echo a; ech..." {
		t.Errorf("truncated row: %+v", r)
	}
	if r.Names != "web" || r.CreatedHuman != "About a minute ago" || !r.Exited || r.Labels["a"] != "b" {
		t.Errorf("row: %+v", r)
	}
	r = newPsRow(c, testNow, true)
	if len(r.ID) != 64 || len(r.ImageID) != 64 || r.Command != "sh -c echo a; echo b >&2; printf partial" {
		t.Errorf("--no-trunc row: %+v", r)
	}
}

func TestPsDefaultTable(t *testing.T) {
	p, err := newRowPrinter("ps", psDefaultFormat, psRow{}, psHeaders)
	if err != nil {
		t.Fatal(err)
	}
	c := testContainer("t1", "66e1e436859c", libservin.StatusRunning, 3*time.Second)
	c.Config.Cmd = []string{"echo", "hello"}
	var b bytes.Buffer
	if err := p.print(&b, []any{newPsRow(c, testNow, false)}, false); err != nil {
		t.Fatal(err)
	}
	want := "CONTAINER ID  IMAGE                     COMMAND     CREATED        STATUS        PORTS       NAMES\n" +
		"66e1e436859c  localhost/busybox:latest  echo hello  3 seconds ago  Up 2 seconds              t1\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestPsJSON(t *testing.T) {
	c := testContainer("t1", "66e1e436859c", libservin.StatusExited, 3*time.Second)
	b, err := json.Marshal(newPsJSON(c, testNow))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["Id"] != c.ID || m["State"] != "exited" || m["Exited"] != true || m["Labels"] != nil {
		t.Errorf("json: %s", b)
	}
	if names, _ := m["Names"].([]any); len(names) != 1 || names[0] != "t1" {
		t.Errorf("Names: %v", m["Names"])
	}
	if m["Created"] != float64(c.Created.Unix()) || m["CreatedAt"] != "3 seconds ago" {
		t.Errorf("Created: %v %v", m["Created"], m["CreatedAt"])
	}
	// Podman's key order: Created (the Unix time) comes last.
	if !strings.HasPrefix(string(b), `{"AutoRemove":false,"Command":["sleep","1000"],`) || !strings.Contains(string(b), `"Status":"Exited (0) 1 second ago","Created":`) {
		t.Errorf("json layout: %s", b)
	}
}

func psNames(t *testing.T, flt []string, ctrs []*libservin.Container) string {
	t.Helper()
	filters, err := parseFilters(flt)
	if err != nil {
		t.Fatal(err)
	}
	m, err := psFilter(filters)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range ctrs {
		if m(c, ctrs) {
			names = append(names, c.Name)
		}
	}
	return strings.Join(names, ",")
}

func TestPsFilter(t *testing.T) {
	a := testContainer("alpha", "aa11", libservin.StatusRunning, 5*time.Second)
	a.Config.Labels = map[string]string{"app": "web", "tier": "front"}
	b := testContainer("beta", "bb22", libservin.StatusExited, 4*time.Second)
	b.State.ExitCode = 3
	b.Config.Labels = map[string]string{"app": "db"}
	c := testContainer("gamma", "ab33", libservin.StatusPaused, 3*time.Second)
	c.ImageName, c.ImageID = "docker.io/library/alpine:3.19", "deadbeef"+strings.Repeat("0", 56)
	d := testContainer("alphabet", "cc44", libservin.StatusCreated, 2*time.Second)
	all := []*libservin.Container{a, b, c, d}

	cases := []struct {
		filters []string
		want    string
	}{
		{nil, "alpha,beta,gamma,alphabet"},
		{[]string{"status=running"}, "alpha"},
		{[]string{"status=exited", "status=paused"}, "beta,gamma"},
		{[]string{"status=stopped"}, "beta"},
		{[]string{"name=alpha"}, "alpha,alphabet"},
		{[]string{"name=^alpha$"}, "alpha"},
		{[]string{"name=["}, ""},
		{[]string{"name=alpha", "status=created"}, "alphabet"},
		{[]string{"id=a"}, "alpha,gamma"},
		{[]string{"id=aa", "id=bb"}, "alpha,beta"},
		{[]string{"label=app"}, "alpha,beta"},
		{[]string{"label=app=web"}, "alpha"},
		{[]string{"label=app", "label=tier=front"}, "alpha,beta"},
		{[]string{"exited=3"}, "beta"},
		{[]string{"exited=0"}, ""},
		{[]string{"ancestor=busybox"}, "alpha,beta,alphabet"},
		{[]string{"ancestor=localhost/busybox"}, "alpha,beta,alphabet"},
		{[]string{"ancestor=alpine:3.19"}, "gamma"},
		{[]string{"ancestor=alpine"}, ""},
		{[]string{"ancestor=deadbeef"}, "gamma"},
		{[]string{"before=gamma"}, "alpha,beta"},
		{[]string{"since=beta"}, "gamma,alphabet"},
		{[]string{"since=nosuch"}, ""},
	}
	for _, tc := range cases {
		if got := psNames(t, tc.filters, all); got != tc.want {
			t.Errorf("filters %v: got %q, want %q", tc.filters, got, tc.want)
		}
	}
}

func TestPsFilterErrors(t *testing.T) {
	for _, f := range []string{"bogus=1", "status=bogus", "exited=x"} {
		filters, _ := parseFilters([]string{f})
		if _, err := psFilter(filters); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: %v, want invalid argument", f, err)
		}
	}
	filters, _ := parseFilters([]string{"bogus=1"})
	if _, err := psFilter(filters); err == nil || !strings.HasPrefix(err.Error(), "bogus is an invalid filter") {
		t.Errorf("message: %v", err)
	}
}

func TestSortContainers(t *testing.T) {
	a := testContainer("b", "aa", libservin.StatusRunning, 5*time.Second)
	b := testContainer("a", "bb", libservin.StatusRunning, 9*time.Second)
	ctrs := []*libservin.Container{a, b}
	if err := sortContainers(ctrs, "created", testNow); err != nil || ctrs[0] != b {
		t.Errorf("created: oldest first expected (%v)", err)
	}
	if err := sortContainers(ctrs, "id", testNow); err != nil || ctrs[0] != a {
		t.Errorf("id sort (%v)", err)
	}
	if err := sortContainers(ctrs, "names", testNow); err != nil || ctrs[0] != b {
		t.Errorf("names sort (%v)", err)
	}
	if err := sortContainers(ctrs, "bogus", testNow); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bogus sort: %v", err)
	}
}

func TestImageNameForms(t *testing.T) {
	got := strings.Join(imageNameForms("docker.io/library/alpine:latest"), ",")
	if got != "docker.io/library/alpine:latest,docker.io/library/alpine,alpine:latest,alpine" {
		t.Errorf("got %s", got)
	}
	got = strings.Join(imageNameForms("quay.io/x/y:1"), ",")
	if got != "quay.io/x/y:1" {
		t.Errorf("got %s", got)
	}
}
