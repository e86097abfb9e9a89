package libservin

import (
	"context"
	"fmt"
	"time"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/monitor"
	"github.com/servin/servin/libservin/state"
)

// LogOptions select log lines.
type LogOptions struct {
	Since, Until time.Time
	Tail         int // -1: all
	Follow       bool
}

// LogLine is one line of container output.
type LogLine = monitor.LogLine

// Logs calls fn for each selected log line of the container. With Follow it
// keeps going until the container stops or ctx ends.
func (r *Runtime) Logs(ctx context.Context, nameOrID string, o LogOptions, fn func(LogLine) error) error {
	c, err := r.Container(ctx, nameOrID)
	if err != nil {
		return err
	}
	if c.Config.LogDriver == "none" || c.Config.LogPath == "" {
		return fmt.Errorf("this container is using the '%s' log driver, cannot read logs: %w", c.Config.LogDriver, errdefs.ErrFailedPrecondition)
	}
	id := c.ID
	done := func() bool {
		cur, err := r.Container(ctx, id)
		return err != nil || (!cur.Running() && cur.State.Status != StatusCreated) || (cur.State.Status == StatusCreated && !o.Follow)
	}
	return monitor.ReadLogs(ctx, c.Config.LogPath, monitor.LogOptions{
		Since: o.Since, Until: o.Until, Tail: o.Tail, Follow: o.Follow, Done: done,
	}, fn)
}

// EventFilter selects events.
type EventFilter = state.EventFilter

// Event is one recorded event.
type Event = state.Event

// Events calls fn for each matching event; with follow it then waits for
// new ones until ctx ends (or Until passes).
func (r *Runtime) Events(ctx context.Context, f EventFilter, follow bool, fn func(Event) error) error {
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
