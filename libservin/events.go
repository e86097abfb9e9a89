package libservin

// The event log: what servin records (container, image, volume and network
// events, podman's names and shapes) and how the events command reads it.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/state"
)

// EventFilter selects events.
type EventFilter = state.EventFilter

// Event is one recorded event.
type Event = state.Event

// Events backends (podman's --events-backend). servin keeps one event log,
// in its database: "file" and "journald" both mean that log.
const (
	EventsBackendFile     = "file"
	EventsBackendJournald = "journald"
	EventsBackendNone     = "none"
)

// Attributes servin records beside a container's labels. The events
// command shows them as fields of their own (Image, ContainerExitCode,
// OOMKilled, Error), not as attributes.
const (
	EventAttrImage     = "image"
	EventAttrExitCode  = "exitCode"
	EventAttrOOMKilled = "oomKilled"
	EventAttrError     = "error"
	// EventAttrInspectData is the inspect JSON of a created container
	// (Options.EventsCreateInspectData).
	EventAttrInspectData = "containerInspectData"
)

// checkEventsBackend accepts podman's backend names ("" is the default).
func checkEventsBackend(b string) error {
	switch b {
	case "", EventsBackendFile, EventsBackendJournald, EventsBackendNone:
		return nil
	}
	return fmt.Errorf("configuring runtime: %q is not a valid events backend: %w", b, errdefs.ErrInvalidArgument)
}

// eventsOff tells whether events are not recorded (--events-backend=none).
func (r *Runtime) eventsOff() bool { return r.opts.EventsBackend == EventsBackendNone }

// ctrEvent records a container event: podman's attributes are the
// container's labels, its image, then extra.
func (r *Runtime) ctrEvent(ctx context.Context, action string, c *Container, extra map[string]string) {
	r.event(ctx, "container", action, c.ID, c.Name, ctrEventAttrs(c.Config.Labels, c.ImageName, extra))
}

// ctrEventsAt records several events of c, each at its time, in one
// database write.
func (r *Runtime) ctrEventsAt(ctx context.Context, c *Container, actions []string, times []time.Time) {
	if r.eventsOff() {
		return
	}
	attrs := ctrEventAttrs(c.Config.Labels, c.ImageName, nil)
	evs := make([]state.Event, len(actions))
	for i, a := range actions {
		evs[i] = state.Event{Time: times[i], Type: "container", Action: a, ActorID: c.ID, Name: c.Name, Attributes: attrs}
	}
	_ = r.db.AddEvents(ctx, evs...)
}

func ctrEventAttrs(labels map[string]string, image string, extra map[string]string) map[string]string {
	attrs := make(map[string]string, len(labels)+len(extra)+1)
	for k, v := range labels {
		attrs[k] = v
	}
	attrs[EventAttrImage] = image
	for k, v := range extra {
		attrs[k] = v
	}
	return attrs
}

// createEventAttrs are the attributes of a container's create event; c
// may be nil when the container could not be read back.
func (r *Runtime) createEventAttrs(labels map[string]string, image string, c *Container) map[string]string {
	attrs := ctrEventAttrs(labels, image, nil)
	if r.opts.EventsCreateInspectData && c != nil {
		if data, err := json.Marshal(r.inspectView(c)); err == nil {
			attrs[EventAttrInspectData] = string(data)
		}
	}
	return attrs
}

// diedAttrs are the attributes of a container's died event: its exit
// code and, when the kernel killed it for memory, that it was.
func diedAttrs(c *Container) map[string]string {
	a := map[string]string{EventAttrExitCode: strconv.Itoa(c.State.ExitCode)}
	if c.State.OOMKilled {
		a[EventAttrOOMKilled] = "true"
	}
	return a
}

// removeAttrs are the attributes of a container's remove event: as in
// podman, the exit code of a container that ran.
func removeAttrs(c *Container) map[string]string {
	if c.State.FinishedAt.IsZero() {
		return nil
	}
	return map[string]string{EventAttrExitCode: strconv.Itoa(c.State.ExitCode)}
}

// event records one event. Recording is best effort: an operation that
// succeeded is not failed for its event.
func (r *Runtime) event(ctx context.Context, typ, action, id, name string, attrs map[string]string) {
	if r.eventsOff() {
		return
	}
	_ = r.db.AddEvent(ctx, state.Event{
		Time: time.Now(), Type: typ, Action: action, ActorID: id, Name: name, Attributes: attrs,
	})
}

// imageEvent records an image event: podman's ID is the image's and its
// name is what the operation was given (a reference, a path, a transport).
func (r *Runtime) imageEvent(ctx context.Context, action, id, name string) {
	r.event(ctx, "image", action, id, name, nil)
}

// pullErrorEvent records a failed pull of name.
func (r *Runtime) pullErrorEvent(ctx context.Context, name string, err error) {
	r.event(ctx, "image", "pull-error", "", name, map[string]string{EventAttrError: err.Error()})
}

// Events calls fn for each matching event; with follow it then waits for
// new ones until ctx ends (or Until passes).
func (r *Runtime) Events(ctx context.Context, f EventFilter, follow bool, fn func(Event) error) error {
	if err := r.CheckEventsReadable(); err != nil {
		return err
	}
	var last int64
	for {
		evs, err := r.db.ListEvents(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := fn(e); err != nil {
				return err
			}
			last = e.ID
		}
		if !follow || (!f.Until.IsZero() && time.Now().After(f.Until)) {
			return nil
		}
		f.AfterID = last
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CheckEventsReadable fails when events are not recorded, as podman's
// "none" backend does.
func (r *Runtime) CheckEventsReadable() error {
	if r.eventsOff() {
		return errdefs.Worded(errdefs.ErrFailedPrecondition, "cannot read events with the %q backend", EventsBackendNone)
	}
	return nil
}
