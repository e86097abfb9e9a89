package main

// events: print servin's event log, and by default follow it, in podman's
// formats.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

func eventsCommand() *cli.Command {
	return &cli.Command{
		Name:  "events",
		Usage: "show servin events",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter events (container, event/status, image, label, type, volume)"},
			&cli.StringFlag{Name: "format", Usage: "Go template or json"},
			&cli.StringFlag{Name: "since", Usage: "show events since TIMESTAMP (RFC 3339, Unix time or duration)"},
			&cli.StringFlag{Name: "until", Usage: "show events until TIMESTAMP; when following, stop then"},
			&cli.BoolFlag{Name: "stream", Value: true, Usage: "keep printing new events (--stream=false: print the log and exit)"},
			&cli.BoolFlag{Name: "no-trunc", Value: true, Usage: "do not truncate IDs (--format always shows full IDs)"},
		},
		Action: withRuntime(eventsAction),
	}
}

func eventsAction(c *cli.Context, rt *libservin.Runtime) error {
	if c.NArg() > 0 {
		return fmt.Errorf("events takes no arguments: %w", errdefs.ErrInvalidArgument)
	}
	// As podman: with the "none" backend there is nothing to read, whatever
	// the other flags say.
	if err := rt.CheckEventsReadable(); err != nil {
		return err
	}
	now := time.Now()
	f, match, err := eventSelection(c.StringSlice("filter"), c.String("since"), c.String("until"), now)
	if err != nil {
		return err
	}
	follow := c.Bool("stream")
	if follow && f.Since.IsZero() {
		// Following without --since shows only what happens from now on.
		f.Since = now
	}
	print, err := eventPrinter(c.String("format"), c.Bool("no-trunc"))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	return rt.Events(ctx, f, follow, func(e libservin.Event) error {
		if !match(e) {
			return nil
		}
		if err := print(out, e); err != nil {
			return err
		}
		if follow {
			return out.Flush()
		}
		return nil
	})
}

// eventSelection parses --filter, --since and --until. Errors read as
// podman's ("failed to parse event filters: ..."), which scripts match.
func eventSelection(filterFlags []string, since, until string, now time.Time) (libservin.EventFilter, func(libservin.Event) bool, error) {
	fail := func(format string, args ...any) (libservin.EventFilter, func(libservin.Event) bool, error) {
		return libservin.EventFilter{}, nil, errdefs.Worded(errdefs.ErrInvalidArgument, "failed to parse event filters: "+format, args...)
	}
	filters := map[string][]string{}
	for _, fl := range filterFlags {
		k, v, ok := strings.Cut(fl, "=")
		if !ok {
			return fail("%s is an invalid filter", fl)
		}
		// Keys are case-insensitive, as in podman.
		k = strings.ToLower(k)
		filters[k] = append(filters[k], v)
	}
	f, match, err := eventFilter(filters)
	if err != nil {
		return fail("%s", err)
	}
	for _, w := range []struct {
		name, value string
		into        *time.Time
	}{{"since", since, &f.Since}, {"until", until, &f.Until}} {
		if w.value == "" {
			continue
		}
		t, err := parseTimeFlag(w.value, w.name == "since", now)
		if err != nil {
			return fail("unable to convert %s time of %s: unable to interpret time value", w.name, w.value)
		}
		*w.into = t
	}
	return f, match, nil
}

// eventFilter turns --filter values into the database filter (type and
// event) plus a predicate for what the database cannot select. Values of
// one key are ORed, different keys ANDed.
func eventFilter(filters map[string][]string) (libservin.EventFilter, func(libservin.Event) bool, error) {
	var f libservin.EventFilter
	var preds []func(libservin.Event) bool
	for key, vals := range filters {
		switch key {
		case "type":
			f.Types = append(f.Types, vals...)
			continue
		case "event", "status", "action":
			for _, v := range vals {
				f.Actions = append(f.Actions, eventActionAliases(v)...)
			}
			continue
		case "container", "image", "label", "volume", "pod":
		default:
			return f, nil, fmt.Errorf("%s is an invalid filter", key)
		}
		preds = append(preds, func(e libservin.Event) bool {
			for _, v := range vals {
				if eventMatches(key, v, e) {
					return true
				}
			}
			return false
		})
	}
	return f, func(e libservin.Event) bool {
		for _, p := range preds {
			if !p(e) {
				return false
			}
		}
		return true
	}, nil
}

// eventActionAliases maps docker's event names onto servin's (podman's).
func eventActionAliases(v string) []string {
	switch v {
	case "die":
		return []string{"died"}
	case "destroy", "delete":
		return []string{"remove"}
	}
	return []string{v}
}

func eventMatches(key, v string, e libservin.Event) bool {
	switch key {
	case "container":
		return e.Type == "container" && matchNameOrID(e, v)
	case "pod":
		// servin has no pods: only podman's pod events would match.
		return e.Type == "pod" && matchNameOrID(e, v)
	case "volume":
		// A prefix of the name, as podman and docker match volumes.
		return e.Type == "volume" && v != "" && strings.HasPrefix(e.Name, v)
	case "image":
		if e.Type == "image" {
			return matchNameOrID(e, v) || matchNameForms(e.Name, v)
		}
		// Docker's reading, kept by servin: an image's containers too.
		img := e.Attributes[libservin.EventAttrImage]
		return img == v || matchNameForms(img, v)
	case "label":
		return matchLabel(e.Attributes, v)
	}
	return false
}

// matchNameOrID: v is the event's name or a prefix of its ID.
func matchNameOrID(e libservin.Event, v string) bool {
	return e.Name == v || v != "" && strings.HasPrefix(e.ActorID, v)
}

// matchNameForms reports whether v is a spelling of the image name n.
func matchNameForms(n, v string) bool {
	if n == "" {
		return false
	}
	for _, f := range imageNameForms(n) {
		if f == v {
			return true
		}
	}
	return false
}

// eventRow is one event as podman's events command shows it: the fields
// --format templates see, in the order and with the names of its JSON.
type eventRow struct {
	ContainerExitCode *int   `json:",omitempty"`
	OOMKilled         *bool  `json:",omitempty"`
	ID                string `json:",omitempty"`
	Image             string `json:",omitempty"`
	Name              string `json:",omitempty"`
	Network           string `json:"network,omitempty"`
	Status            string
	Time              int64 `json:"time,omitempty"`     // Unix seconds
	TimeNano          int64 `json:"timeNano,omitempty"` // Unix nanoseconds
	Type              string
	HealthStatus      string `json:"health_status,omitempty"`
	// HealthFailingStreak is in podman's default line, not in its JSON.
	HealthFailingStreak int    `json:"-"`
	Error               string `json:",omitempty"`
	// ContainerInspectData is a create event's inspect JSON, when the
	// configuration asks for it (events_container_create_inspect_data).
	ContainerInspectData string `json:",omitempty"`
	PodID                string `json:",omitempty"` // servin has no pods
	// Attributes are a container's labels, or a network's driver.
	Attributes map[string]string

	when time.Time
}

// eventAttrsShown tells which recorded attributes are podman's Attributes;
// the others are fields of their own (Image, ContainerExitCode, ...).
func eventAttrsShown(typ, key string) bool {
	switch typ {
	case "container":
		switch key {
		case libservin.EventAttrImage, libservin.EventAttrExitCode, libservin.EventAttrOOMKilled,
			libservin.EventAttrInspectData, "health_status", "health_failing_streak":
			return false
		}
	case "network":
		return key == "driver"
	case "image":
		return key != libservin.EventAttrError
	case "volume":
		// podman's volume events have none (servin records the driver).
		return false
	}
	return true
}

func newEventRow(e libservin.Event) eventRow {
	r := eventRow{
		ID: e.ActorID, Name: e.Name, Status: e.Action, Type: e.Type,
		Time: e.Time.Unix(), TimeNano: e.Time.UnixNano(), when: e.Time,
	}
	a := e.Attributes
	if v, ok := a[libservin.EventAttrExitCode]; ok {
		if code, err := strconv.Atoi(v); err == nil {
			r.ContainerExitCode = &code
		}
	}
	if a[libservin.EventAttrOOMKilled] == "true" {
		oom := true
		r.OOMKilled = &oom
	}
	r.Error = a[libservin.EventAttrError]
	r.ContainerInspectData = a[libservin.EventAttrInspectData]
	switch e.Type {
	case "container":
		r.Image = a[libservin.EventAttrImage]
		r.HealthStatus = a["health_status"]
		r.HealthFailingStreak, _ = strconv.Atoi(a["health_failing_streak"])
		// podman always has a container's labels, if none.
		r.Attributes = map[string]string{}
	case "network":
		// servin records the network as the actor; podman's network
		// field is its name, and a (dis)connect names the container.
		r.Network, r.Name = e.Name, ""
		if ctr, ok := a["container"]; ok {
			r.ID, r.Name = ctr, a["containerName"]
		}
	}
	for k, v := range a {
		if !eventAttrsShown(e.Type, k) {
			continue
		}
		if r.Attributes == nil {
			r.Attributes = map[string]string{}
		}
		r.Attributes[k] = v
	}
	return r
}

// line is podman's default event line, for example
// "2023-01-02 15:04:05.000000000 +0000 UTC container start ID (image=..., name=...)";
// truncate shortens IDs (--no-trunc=false).
func (r eventRow) line(truncate bool) string {
	id := r.ID
	if truncate {
		id = shortID(id)
	}
	head := fmt.Sprintf("%s %s %s", r.when.Local(), r.Type, r.Status)
	switch r.Type {
	case "container", "pod":
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s (image=%s, name=%s", head, id, r.Image, r.Name)
		if r.Status == "health_status" {
			fmt.Fprintf(&b, ", health_status=%s, health_failing_streak=%d, health_log=", r.HealthStatus, r.HealthFailingStreak)
		}
		keys := make([]string, 0, len(r.Attributes))
		for k := range r.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, ", %s=%s", k, r.Attributes[k])
		}
		b.WriteString(")")
		return b.String()
	case "network":
		if r.Status == "create" || r.Status == "remove" {
			if drv, ok := r.Attributes["driver"]; ok {
				return fmt.Sprintf("%s %s (name=%s, type=%s)", head, r.ID, r.Network, drv)
			}
			return fmt.Sprintf("%s %s (name=%s)", head, r.ID, r.Network)
		}
		return fmt.Sprintf("%s %s (container=%s, name=%s)", head, id, id, r.Network)
	case "image":
		// An event without an image (pull-error) keeps the empty column.
		s := fmt.Sprintf("%s %s %s", head, id, r.Name)
		if r.Error != "" {
			s += " " + r.Error
		}
		return s
	case "system":
		if r.Name == "" {
			return head
		}
	}
	return head + " " + r.Name
}

// eventPrinter returns the function that prints one event in the chosen
// format. Only the default line truncates IDs: --format and json always
// show them whole, as in podman.
func eventPrinter(format string, noTrunc bool) (func(io.Writer, libservin.Event) error, error) {
	switch {
	case format == "":
		return func(w io.Writer, e libservin.Event) error {
			_, err := fmt.Fprintln(w, newEventRow(e).line(!noTrunc))
			return err
		}, nil
	case isJSONFormat(format):
		return func(w io.Writer, e libservin.Event) error {
			return writeJSON(w, newEventRow(e), "", true)
		}, nil
	}
	text, _ := normalizeFormat(format)
	tmpl, err := parseTemplate("events", text)
	if err != nil {
		return nil, err
	}
	return func(w io.Writer, e libservin.Event) error {
		return tmpl.Execute(w, newEventRow(e))
	}, nil
}
