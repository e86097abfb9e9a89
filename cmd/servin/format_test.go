package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/servin/servin/libservin/errdefs"
)

func TestIsJSONFormat(t *testing.T) {
	for f, want := range map[string]bool{
		"json": true, "{{json .}}": true, "{{ json . }}": true, " json ": true,
		"": false, "{{json .Labels}}": false, "table": false, "{{.ID}}": false,
	} {
		if got := isJSONFormat(f); got != want {
			t.Errorf("isJSONFormat(%q) = %v, want %v", f, got, want)
		}
	}
}

func TestNormalizeFormat(t *testing.T) {
	cases := []struct {
		in, want string
		table    bool
	}{
		{"{{.ID}}", "{{.ID}}\n", false},
		{"{{.ID}}  {{.Names}}", "{{.ID}}  {{.Names}}\n", false},
		{`{{.ID}}\t{{.Names}}`, "{{.ID}}\t{{.Names}}\n", false},
		{`{{.ID}}\n`, "{{.ID}}\n", false},
		{"table {{.ID}} {{.Names}}", "{{.ID}}\t{{.Names}}\n", true},
		{"table {{.ID}} x {{.Names}}", "{{.ID}}\tx\t{{.Names}}\n", true},
		// Spaces inside actions are kept, so pipelines and string
		// arguments still work.
		{`table {{.ID | upper}} {{join .Names ", "}}`, "{{.ID | upper}}\t{{join .Names \", \"}}\n", true},
		{`table {{.ID}}\t{{.Names}}`, "{{.ID}}\t{{.Names}}\n", true},
	}
	for _, c := range cases {
		got, table := normalizeFormat(c.in)
		if got != c.want || table != c.table {
			t.Errorf("normalizeFormat(%q) = %q, %v; want %q, %v", c.in, got, table, c.want, c.table)
		}
	}
}

func TestCamelToHeader(t *testing.T) {
	for in, want := range map[string]string{
		"ID": "ID", "Names": "NAMES", "ImageID": "IMAGE ID", "ExitCode": "EXIT CODE",
		"CreatedAt": "CREATED AT", "RunningFor": "RUNNING FOR", "AutoRemove": "AUTO REMOVE",
		"HTTPServer": "HTTP SERVER",
	} {
		if got := camelToHeader(in); got != want {
			t.Errorf("camelToHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

type testRow struct {
	ID     string
	Names  string
	Labels map[string]string
}

func TestRowPrinterTable(t *testing.T) {
	p, err := newRowPrinter("t", "table {{.ID}}\t{{.Names}}\t{{.Labels}}", testRow{}, map[string]string{"ID": "CONTAINER ID"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	rows := []any{testRow{ID: "0123456789ab", Names: "t1"}, testRow{ID: "ba9876543210", Names: "longer-name"}}
	if err := p.print(&b, rows, false); err != nil {
		t.Fatal(err)
	}
	// Podman's layout: columns at least 12 wide, two spaces apart, no
	// padding after the last column.
	want := "CONTAINER ID  NAMES        LABELS\n" +
		"0123456789ab  t1           map[]\n" +
		"ba9876543210  longer-name  map[]\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	b.Reset()
	if err := p.print(&b, rows[:1], true); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "0123456789ab  t1          map[]\n" {
		t.Errorf("noheading: got %q", got)
	}
}

func TestRowPrinterFuncsAndErrors(t *testing.T) {
	p, err := newRowPrinter("t", `{{upper .Names}} {{json .Labels}} {{.Labels.a}} {{truncate .ID 4}} {{title "exited"}}`, testRow{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	rows := []any{testRow{ID: "abcdef", Names: "web", Labels: map[string]string{"a": "<b>"}}}
	if err := p.print(&b, rows, false); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), `WEB {"a":"<b>"} <b> abcd Exited`+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	p, err = newRowPrinter("t", "{{.Names}} {{.Bogus}}", testRow{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := p.print(&b, rows, false); err == nil {
		t.Error("unknown field: no error")
	}
	if _, err := newRowPrinter("t", "{{.Names", testRow{}, nil); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad template: %v, want invalid argument", err)
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSON(&b, map[string]string{"a": "<&>"}, "  ", false); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "{\n  \"a\": \"<&>\"\n}\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	b.Reset()
	_ = writeJSON(&b, map[string]string{"a": "<"}, "", true)
	if got, want := b.String(), `{"a":"\u003c"}`+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 999: "999 B", 1997895: "2 MB", 1234567: "1.23 MB",
		5_600_000_000: "5.6 GB", 12_345: "12.3 kB",
	} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		500 * time.Millisecond: "Less than a second ago",
		time.Second:            "1 second ago",
		3 * time.Second:        "3 seconds ago",
		70 * time.Second:       "About a minute ago",
		5 * time.Minute:        "5 minutes ago",
		2 * time.Hour:          "2 hours ago",
	} {
		if got := humanDuration(now, now.Add(-d)); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParseTimeFlag(t *testing.T) {
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		in    string
		since bool
		want  time.Time
	}{
		{"2023-05-06T07:08:09Z", true, time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)},
		{"2023-05-06T07:08:09.5+02:00", true, time.Date(2023, 5, 6, 5, 8, 9, 5e8, time.UTC)},
		{"2023-05-06T07:08:09", true, time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)},
		{"2023-05-06", true, time.Date(2023, 5, 6, 0, 0, 0, 0, time.UTC)},
		{"1700000000", true, time.Unix(1700000000, 0)},
		{"1700000000.25", true, time.Unix(1700000000, 25e7)},
		{"10m", true, now.Add(-10 * time.Minute)},
		{"10m", false, now.Add(10 * time.Minute)},
		{"1h30m", true, now.Add(-90 * time.Minute)},
	}
	for _, c := range cases {
		got, err := parseTimeFlag(c.in, c.since, now)
		if err != nil {
			t.Errorf("parseTimeFlag(%q): %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("parseTimeFlag(%q, %v) = %v, want %v", c.in, c.since, got, c.want)
		}
	}
	for _, bad := range []string{"bogus", "", "10x", "2023-13-45"} {
		if _, err := parseTimeFlag(bad, true, now); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("parseTimeFlag(%q) = %v, want invalid argument", bad, err)
		}
	}
}

func TestTimeFlags(t *testing.T) {
	now := time.Now()
	s, u, err := timeFlags("", "", now)
	if err != nil || !s.IsZero() || !u.IsZero() {
		t.Errorf("empty flags: %v %v %v", s, u, err)
	}
	_, _, err = timeFlags("bogus", "", now)
	if err == nil || !strings.Contains(err.Error(), `parsing --since "bogus": unable to interpret time value`) {
		t.Errorf("bad --since: %v", err)
	}
	_, _, err = timeFlags("", "x", now)
	if err == nil || !strings.HasPrefix(err.Error(), `parsing --until "x"`) {
		t.Errorf("bad --until: %v", err)
	}
}

func TestParseFilters(t *testing.T) {
	m, err := parseFilters([]string{"status=exited", "status=paused", "label=a=b", "name="})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m["status"], ",") != "exited,paused" || m["label"][0] != "a=b" || len(m["name"]) != 1 {
		t.Errorf("got %v", m)
	}
	for _, bad := range []string{"status", "=x"} {
		if _, err := parseFilters([]string{bad}); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("parseFilters(%q) = %v, want invalid argument", bad, err)
		}
	}
}

func TestMatchLabel(t *testing.T) {
	l := map[string]string{"a": "b", "empty": ""}
	for f, want := range map[string]bool{
		"a": true, "a=b": true, "a=c": false, "empty": true, "empty=": true, "x": false, "x=": false,
	} {
		if got := matchLabel(l, f); got != want {
			t.Errorf("matchLabel(%q) = %v, want %v", f, got, want)
		}
	}
	if matchLabel(nil, "a") {
		t.Error("nil labels matched")
	}
}
