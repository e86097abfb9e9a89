package main

// events: print servin's event log, and by default follow it.

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
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter events (type, event, container, image, label)"},
			&cli.StringFlag{Name: "format", Usage: "Go template or json"},
			&cli.StringFlag{Name: "since", Usage: "show events since TIMESTAMP (RFC 3339, Unix time or duration)"},
			&cli.StringFlag{Name: "until", Usage: "show events until TIMESTAMP; when following, stop then"},
			&cli.BoolFlag{Name: "stream", Value: true, Usage: "keep printing new events (--stream=false: print the log and exit)"},
			&cli.BoolFlag{Name: "no-trunc", Value: true, Usage: "do not truncate IDs"},
		},
		Action: withRuntime(eventsAction),
	}
}

func eventsAction(c *cli.Context, rt *libservin.Runtime) error {
	if c.NArg() > 0 {
		return fmt.Errorf("events takes no arguments: %w", errdefs.ErrInvalidArgument)
	}
	now := time.Now()
	since, until, err := timeFlags(c.String("since"), c.String("until"), now)
	if err != nil {
		return err
	}
	filters, err := parseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	f, match, err := eventFilter(filters)
	if err != nil {
		return err
	}
	follow := c.Bool("stream")
	f.Since, f.Until = since, until
	if follow && since.IsZero() {
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
		case "container", "image", "label":
		default:
			return f, nil, fmt.Errorf("%q is an invalid filter: %w", key, errdefs.ErrInvalidArgument)
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

// eventActionAliases maps docker's event names onto servin's.
func eventActionAliases(v string) []string {
	switch v {
	case "die":
		return []string{"died"}
	case "destroy":
		return []string{"remove"}
	case "delete":
		return []string{"remove"}
	}
	return []string{v}
}

func eventMatches(key, v string, e libservin.Event) bool {
	switch key {
	case "container":
		return e.Type == "container" && (e.Name == v || v != "" && strings.HasPrefix(e.ActorID, v))
	case "image":
		if e.Type == "image" {
			return e.Name == v || v != "" && strings.HasPrefix(e.ActorID, v) || matchNameForms(e.Name, v)
		}
		img := e.Attributes["image"]
		return img == v || matchNameForms(img, v)
	case "label":
		return matchLabel(e.Attributes, v)
	}
	return false
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

// eventRow is what --format templates see, with podman's field names.
type eventRow struct {
	ContainerExitCode int               `json:"ContainerExitCode,omitempty"`
	ID                string            `json:"ID,omitempty"`
	Image             string            `json:"Image,omitempty"`
	Name              string            `json:"Name,omitempty"`
	Status            string            `json:"Status,omitempty"`
	HealthStatus      string            `json:"health_status,omitempty"`
	HealthStreak      int               `json:"health_failing_streak,omitempty"`
	Time              time.Time         `json:"Time"`
	TimeNano          int64             `json:"-"`
	Type              string            `json:"Type"`
	Attributes        map[string]string `json:"Attributes"`
}

// eventAttrsHidden are attributes shown as fields of their own.
var eventAttrsHidden = map[string]bool{"image": true, "exitCode": true, "health_status": true, "health_failing_streak": true}

func newEventRow(e libservin.Event, noTrunc bool) eventRow {
	r := eventRow{
		ID: e.ActorID, Name: e.Name, Status: e.Action, Time: e.Time, TimeNano: e.Time.UnixNano(), Type: e.Type,
	}
	if !noTrunc {
		r.ID = shortID(r.ID)
	}
	if e.Type == "container" {
		r.Image = e.Attributes["image"]
		r.ContainerExitCode, _ = strconv.Atoi(e.Attributes["exitCode"])
		r.HealthStatus = e.Attributes["health_status"]
		r.HealthStreak, _ = strconv.Atoi(e.Attributes["health_failing_streak"])
		r.Attributes = map[string]string{}
	}
	for k, v := range e.Attributes {
		if e.Type == "container" && eventAttrsHidden[k] {
			continue
		}
		if r.Attributes == nil {
			r.Attributes = map[string]string{}
		}
		r.Attributes[k] = v
	}
	return r
}

// String is podman's default event line:
// "2023-01-02 15:04:05.000000000 +0000 UTC container start ID (image=..., name=...)".
func (r eventRow) String() string {
	t := r.Time.Local().String()
	switch r.Type {
	case "container":
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s %s %s (image=%s, name=%s", t, r.Type, r.Status, r.ID, r.Image, r.Name)
		if r.HealthStatus != "" {
			fmt.Fprintf(&b, ", health_status=%s, health_failing_streak=%d", r.HealthStatus, r.HealthStreak)
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
	case "image":
		return fmt.Sprintf("%s %s %s %s %s", t, r.Type, r.Status, r.ID, r.Name)
	}
	if r.Name != "" {
		return fmt.Sprintf("%s %s %s %s", t, r.Type, r.Status, r.Name)
	}
	return fmt.Sprintf("%s %s %s", t, r.Type, r.Status)
}

// eventPrinter returns the function that prints one event in the chosen format.
func eventPrinter(format string, noTrunc bool) (func(io.Writer, libservin.Event) error, error) {
	switch {
	case format == "":
		return func(w io.Writer, e libservin.Event) error {
			_, err := fmt.Fprintln(w, newEventRow(e, noTrunc).String())
			return err
		}, nil
	case isJSONFormat(format):
		return func(w io.Writer, e libservin.Event) error {
			r := newEventRow(e, noTrunc)
			r.Time = r.Time.UTC()
			return writeJSON(w, r, "", true)
		}, nil
	}
	text, _ := normalizeFormat(format)
	tmpl, err := parseTemplate("events", text)
	if err != nil {
		return nil, err
	}
	return func(w io.Writer, e libservin.Event) error {
		return tmpl.Execute(w, newEventRow(e, noTrunc))
	}, nil
}
