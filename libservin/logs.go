package libservin

import (
	"context"
	"fmt"
	"time"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/monitor"
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
