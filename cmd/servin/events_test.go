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

func TestEventRowString(t *testing.T) {
	id := strings.Repeat("ab", 32)
	cases := []struct {
		e    libservin.Event
		want string
	}{
		{
			libservin.Event{Time: testEventTime, Type: "container", Action: "start", ActorID: id, Name: "web",
				Attributes: map[string]string{"image": "localhost/busybox:latest"}},
			"container start " + id + " (image=localhost/busybox:latest, name=web)",
		},
		{
			libservin.Event{Time: testEventTime, Type: "container", Action: "died", ActorID: id, Name: "web",
				Attributes: map[string]string{"image": "i", "exitCode": "3", "zz": "1", "aa": "2"}},
			"container died " + id + " (image=i, name=web, aa=2, zz=1)",
		},
		{
			libservin.Event{Time: testEventTime, Type: "image", Action: "tag", ActorID: id, Name: "localhost/bb2:v1"},
			"image tag " + id + " localhost/bb2:v1",
		},
		{libservin.Event{Time: testEventTime, Type: "system", Action: "refresh"}, "system refresh"},
	}
	for _, c := range cases {
		got := newEventRow(c.e, true).String()
		want := testEventTime.Local().String() + " " + c.want
		if got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
	if r := newEventRow(cases[0].e, false); r.ID != id[:12] {
		t.Errorf("truncated ID %q", r.ID)
	}
}

func TestEventJSON(t *testing.T) {
	p, err := eventPrinter("json", true)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	e := libservin.Event{Time: testEventTime, Type: "container", Action: "died", ActorID: "abc", Name: "web",
		Attributes: map[string]string{"image": "busybox", "exitCode": "3"}}
	if err := p(&b, e); err != nil {
		t.Fatal(err)
	}
	want := `{"ContainerExitCode":3,"ID":"abc","Image":"busybox","Name":"web","Status":"died","Time":"2023-01-02T15:04:05.123456789Z","Type":"container","Attributes":{}}` + "\n"
	if b.String() != want {
		t.Errorf("got  %s\nwant %s", b.String(), want)
	}
	b.Reset()
	_ = p(&b, libservin.Event{Time: testEventTime, Type: "image", Action: "tag", ActorID: "abc", Name: "x"})
	if !strings.HasSuffix(b.String(), `"Type":"image","Attributes":null}`+"\n") {
		t.Errorf("image event: %s", b.String())
	}
}

func TestEventTemplate(t *testing.T) {
	p, err := eventPrinter("{{.Type}} {{.Status}} {{.Name}} {{.Image}} {{.ID}}", false)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	e := libservin.Event{Time: testEventTime, Type: "container", Action: "start", ActorID: strings.Repeat("c", 64), Name: "web",
		Attributes: map[string]string{"image": "busybox"}}
	if err := p(&b, e); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "container start web busybox cccccccccccc\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := eventPrinter("{{.Type", true); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad template: %v", err)
	}
}

func TestEventFilter(t *testing.T) {
	filters, _ := parseFilters([]string{"type=container", "event=die", "event=start", "container=web", "container=abc"})
	f, match, err := eventFilter(filters)
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

	filters, _ = parseFilters([]string{"image=busybox"})
	_, match, err = eventFilter(filters)
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

	filters, _ = parseFilters([]string{"bogus=1"})
	if _, _, err := eventFilter(filters); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bogus filter: %v", err)
	}
}
