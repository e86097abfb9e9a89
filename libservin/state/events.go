package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/servin/servin/libservin/errdefs"
)

// Event types.
const (
	EventContainer = "container"
	EventImage     = "image"
	EventVolume    = "volume"
	EventNetwork   = "network"
	EventSystem    = "system"
)

// Event is one entry of the event log.
type Event struct {
	ID         int64     // assigned by AddEvent; increasing, never reused
	Time       time.Time // nanosecond precision
	Type       string    // container, image, volume, network, system
	Action     string    // create, start, died, stop, remove, ...
	ActorID    string
	Name       string
	Attributes map[string]string
}

// EventFilter selects events. Zero fields do not filter; within a slice
// field any value matches (OR); different fields must all match (AND).
type EventFilter struct {
	Since   time.Time // Time >= Since
	Until   time.Time // Time <= Until
	AfterID int64     // ID > AfterID: the cursor for following the log
	Types   []string
	Actions []string
	Actors  []string // matches ActorID or Name
	Limit   int      // at most this many events (the oldest matching); 0: no limit
}

// Keep about maxEvents rows; pruning runs every pruneEvery inserts, so it
// costs one indexed range delete now and then. Variables for tests.
var (
	maxEvents  int64 = 10000
	pruneEvery int64 = 256
)

// AddEvent appends e to the event log. A zero Time means now; e.ID is
// ignored.
func (d *DB) AddEvent(ctx context.Context, e Event) error {
	return d.AddEvents(ctx, e)
}

// AddEvents records events in one transaction (one write of the database
// for what one operation reports).
func (d *DB) AddEvents(ctx context.Context, evs ...Event) error {
	type row struct {
		e     Event
		attrs string
	}
	rows := make([]row, 0, len(evs))
	for _, e := range evs {
		if e.Type == "" || e.Action == "" {
			return fmt.Errorf("event needs a type and an action: %w", errdefs.ErrInvalidArgument)
		}
		if e.Time.IsZero() {
			e.Time = time.Now()
		}
		attrs := ""
		if len(e.Attributes) > 0 {
			b, err := json.Marshal(e.Attributes)
			if err != nil {
				return fmt.Errorf("encoding event attributes: %w", err)
			}
			attrs = string(b)
		}
		rows = append(rows, row{e, attrs})
	}
	return d.withTx(ctx, func(tx *sql.Tx) error {
		for _, r := range rows {
			e := r.e
			res, err := tx.ExecContext(ctx,
				"INSERT INTO events (time, type, action, actor_id, name, attributes) VALUES (?, ?, ?, ?, ?, ?)",
				e.Time.UnixNano(), e.Type, e.Action, e.ActorID, e.Name, r.attrs)
			if err != nil {
				return err
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			if id%pruneEvery == 0 {
				if _, err := tx.ExecContext(ctx, "DELETE FROM events WHERE id <= ?", id-maxEvents); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// ListEvents returns the events matching f, oldest first.
func (d *DB) ListEvents(ctx context.Context, f EventFilter) ([]Event, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if f.AfterID > 0 {
		add("id > ?", f.AfterID)
	}
	if !f.Since.IsZero() {
		add("time >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("time <= ?", f.Until.UnixNano())
	}
	if len(f.Types) > 0 {
		add("type IN ("+placeholders(len(f.Types))+")", strArgs(f.Types)...)
	}
	if len(f.Actions) > 0 {
		add("action IN ("+placeholders(len(f.Actions))+")", strArgs(f.Actions)...)
	}
	if len(f.Actors) > 0 {
		p := placeholders(len(f.Actors))
		a := strArgs(f.Actors)
		add("(actor_id IN ("+p+") OR name IN ("+p+"))", append(a, a...)...)
	}
	q := "SELECT id, time, type, action, actor_id, name, attributes FROM events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e     Event
			t     int64
			attrs string
		)
		if err := rows.Scan(&e.ID, &t, &e.Type, &e.Action, &e.ActorID, &e.Name, &attrs); err != nil {
			return nil, err
		}
		e.Time = time.Unix(0, t)
		if attrs != "" {
			if err := json.Unmarshal([]byte(attrs), &e.Attributes); err != nil {
				return nil, fmt.Errorf("event %d: decoding attributes: %w", e.ID, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func strArgs(s []string) []any {
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = v
	}
	return a
}
