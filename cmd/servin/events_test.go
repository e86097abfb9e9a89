package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

var testEventTime = time.Date(2023, 1, 2, 15, 4, 5, 123456789, time.UTC)

func TestEventLine(t *testing.T) {
	id := strings.Repeat("ab", 32)
	cases := []struct {
		e    libservin.Event
		want string
	}{
		{
			libservin.Event{Type: "container", Action: "start", ActorID: id, Name: "web",
				Attributes: map[string]string{"image": "localhost/busybox:latest"}},
			"container start " + id + " (image=localhost/busybox:latest, name=web)",
		},
		{
			libservin.Event{Type: "container", Action: "died", ActorID: id, Name: "web",
				Attributes: map[string]string{"image": "i", "exitCode": "3", "oomKilled": "true", "zz": "1", "aa": "2"}},
			"container died " + id + " (image=i, name=web, aa=2, zz=1)",
		},
		{
			libservin.Event{Type: "container", Action: "health_status", ActorID: id, Name: "web",
				Attributes: map[string]string{"image": "i", "health_status": "healthy", "health_failing_streak": "0"}},
			"container health_status " + id + " (image=i, name=web, health_status=healthy, health_failing_streak=0, health_log=)",
		},
		{
			libservin.Event{Type: "image", Action: "tag", ActorID: id, Name: "localhost/bb2:v1"},
			"image tag " + id + " localhost/bb2:v1",
		},
		{
			libservin.Event{Type: "image", Action: "pull-error", Name: "localhost:1/x", Attributes: map[string]string{"error": "connection refused"}},
			"image pull-error  localhost:1/x connection refused",
		},
		{libservin.Event{Type: "volume", Action: "create", Name: "v1", Attributes: map[string]string{"driver": "local"}}, "volume create v1"},
		{
			libservin.Event{Type: "network", Action: "create", ActorID: id, Name: "n1", Attributes: map[string]string{"driver": "bridge"}},
			"network create " + id + " (name=n1, type=bridge)",
		},
		{
			libservin.Event{Type: "network", Action: "connect", ActorID: "netid", Name: "n1", Attributes: map[string]string{"container": id, "containerName": "web"}},
			"network connect " + id + " (container=" + id + ", name=n1)",
		},
		{libservin.Event{Type: "system", Action: "refresh"}, "system refresh"},
	}
	for _, c := range cases {
		c.e.Time = testEventTime
		got := newEventRow(c.e).line(false)
		want := testEventTime.Local().String() + " " + c.want
		if got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
	if got := newEventRow(cases[0].e).line(true); !strings.Contains(got, " "+id[:12]+" (") {
		t.Errorf("truncated line %q", got)
	}
}

func TestEventJSON(t *testing.T) {
	p, err := eventPrinter("json", false)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	e := libservin.Event{Time: testEventTime, Type: "container", Action: "died", ActorID: "abc", Name: "web",
		Attributes: map[string]string{"image": "busybox", "exitCode": "3", "oomKilled": "true", "l": "v"}}
	if err := p(&b, e); err != nil {
		t.Fatal(err)
	}
	// podman's shape: Unix time and nanoseconds, full IDs even when
	// --no-trunc=false.
	want := `{"ContainerExitCode":3,"OOMKilled":true,"ID":"abc","Image":"busybox","Name":"web","Status":"died",` +
		`"time":1672671845,"timeNano":1672671845123456789,"Type":"container","Attributes":{"l":"v"}}` + "\n"
	if b.String() != want {
		t.Errorf("got  %s\nwant %s", b.String(), want)
	}
	b.Reset()
	_ = p(&b, libservin.Event{Time: testEventTime, Type: "image", Action: "tag", ActorID: "abc", Name: "x"})
	if want := `{"ID":"abc","Name":"x","Status":"tag","time":1672671845,"timeNano":1672671845123456789,"Type":"image","Attributes":null}` + "\n"; b.String() != want {
		t.Errorf("image event: got %s want %s", b.String(), want)
	}
	b.Reset()
	_ = p(&b, libservin.Event{Time: testEventTime, Type: "volume", Action: "create", Name: "v", Attributes: map[string]string{"driver": "local"}})
	if want := `{"Name":"v","Status":"create","time":1672671845,"timeNano":1672671845123456789,"Type":"volume","Attributes":null}` + "\n"; b.String() != want {
		t.Errorf("volume event: got %s want %s", b.String(), want)
	}
}

func TestEventTemplate(t *testing.T) {
	// --no-trunc=false does not shorten IDs in templates.
	p, err := eventPrinter("{{.Type}} {{.Status}} {{.Name}} {{.Image}} {{.ID}} {{.Time}}", false)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	e := libservin.Event{Time: testEventTime, Type: "container", Action: "start", ActorID: strings.Repeat("c", 64), Name: "web",
		Attributes: map[string]string{"image": "busybox"}}
	if err := p(&b, e); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "container start web busybox "+strings.Repeat("c", 64)+" 1672671845\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := eventPrinter("{{.Type", true); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad template: %v", err)
	}
}

func TestEventFilter(t *testing.T) {
	now := time.Now()
	f, match, err := eventSelection([]string{"type=container", "event=die", "Event=start", "container=web", "container=abc"}, "", "", now)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.Types, ",") != "container" || strings.Join(f.Actions, ",") != "died,start" {
		t.Errorf("database filter: %+v", f)
	}
	for e, want := range map[*libservin.Event]bool{
		{Type: "container", ActorID: "abcdef", Name: "x"}:   true,
		{Type: "container", ActorID: "ffff", Name: "web"}:   true,
		{Type: "container", ActorID: "ffff", Name: "other"}: false,
		{Type: "image", ActorID: "abcdef", Name: "web"}:     false,
	} {
		if got := match(*e); got != want {
			t.Errorf("match(%+v) = %v, want %v", *e, got, want)
		}
	}

	_, match, err = eventSelection([]string{"image=busybox"}, "", "", now)
	if err != nil {
		t.Fatal(err)
	}
	for e, want := range map[*libservin.Event]bool{
		{Type: "container", Attributes: map[string]string{"image": "localhost/busybox:latest"}}: true,
		{Type: "container", Attributes: map[string]string{"image": "alpine"}}:                   false,
		{Type: "image", ActorID: "abc", Name: "localhost/busybox:latest"}:                       true,
		{Type: "image", ActorID: "busybox0", Name: "x"}:                                         true,
	} {
		if got := match(*e); got != want {
			t.Errorf("image match(%+v) = %v, want %v", *e, got, want)
		}
	}

	_, match, err = eventSelection([]string{"volume=data"}, "", "", now)
	if err != nil {
		t.Fatal(err)
	}
	for e, want := range map[*libservin.Event]bool{
		{Type: "volume", Name: "data1"}:    true,
		{Type: "volume", Name: "dat"}:      false,
		{Type: "container", Name: "data1"}: false,
	} {
		if got := match(*e); got != want {
			t.Errorf("volume match(%+v) = %v, want %v", *e, got, want)
		}
	}

	for _, bad := range [][3]string{
		{"bogus=1", "", ""}, {"bogus", "", ""}, {"", "the dawn of time", ""}, {"", "", "later"},
	} {
		var fl []string
		if bad[0] != "" {
			fl = []string{bad[0]}
		}
		_, _, err := eventSelection(fl, bad[1], bad[2], now)
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.HasPrefix(err.Error(), "failed to parse event filters: ") {
			t.Errorf("eventSelection(%q): %v", bad, err)
		}
	}
	f, _, err = eventSelection(nil, "1m", "0s", now)
	if err != nil || !f.Since.Equal(now.Add(-time.Minute)) || !f.Until.Equal(now) {
		t.Errorf("relative times: %+v %v", f, err)
	}
}
