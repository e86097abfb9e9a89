package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/servin/servin/libservin/errdefs"
)

// Container statuses, as stored in ContainerState.Status.
const (
	StatusConfigured = "configured" // recorded, rootfs not yet prepared
	StatusCreated    = "created"    // bundle ready, process not started
	StatusRunning    = "running"
	StatusPaused     = "paused"
	StatusStopped    = "stopped" // stopped by the runtime, not yet reaped
	StatusExited     = "exited"
	StatusRemoving   = "removing"
)

// Container is the database record of a container.
type Container struct {
	ID        string // 64 hex characters
	Name      string // unique
	ImageID   string
	ImageName string
	Created   time.Time
	Config    json.RawMessage // the full creation config, owned by libservin (opaque here)
	State     ContainerState
}

// ContainerState is the mutable part of a container, stored as JSON.
type ContainerState struct {
	Status        string    `json:"status"` // one of the Status* constants
	Pid           int       `json:"pid,omitempty"`
	MonitorPid    int       `json:"monitorPid,omitempty"`
	StartedAt     time.Time `json:"startedAt,omitzero"`
	FinishedAt    time.Time `json:"finishedAt,omitzero"`
	ExitCode      int       `json:"exitCode"`
	OOMKilled     bool      `json:"oomKilled,omitempty"`
	RestartCount  int       `json:"restartCount,omitempty"`
	Error         string    `json:"error,omitempty"`
	StoppedByUser bool      `json:"stoppedByUser,omitempty"`
	Mountpoint    string    `json:"mountpoint,omitempty"`
}

const containerColumns = "id, name, image_id, image_name, created, config, state"

// AddContainer records a new container. It fails with
// errdefs.ErrAlreadyExists if the name or the ID is taken.
func (d *DB) AddContainer(ctx context.Context, c *Container) error {
	if c.ID == "" || c.Name == "" {
		return fmt.Errorf("container needs an ID and a name: %w", errdefs.ErrInvalidArgument)
	}
	st, err := json.Marshal(c.State)
	if err != nil {
		return fmt.Errorf("encoding container state: %w", err)
	}
	cfg := string(c.Config)
	if cfg == "" {
		cfg = "{}"
	}
	return d.withTx(ctx, func(tx *sql.Tx) error {
		if err := checkNameFree(ctx, tx, c.Name); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM containers WHERE id = ?", c.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("container ID %q: %w", c.ID, errdefs.ErrAlreadyExists)
		}
		_, err := tx.ExecContext(ctx,
			"INSERT INTO containers ("+containerColumns+", status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			c.ID, c.Name, c.ImageID, c.ImageName, c.Created.UnixNano(), cfg, string(st), c.State.Status)
		return err
	})
}

// checkNameFree fails with ErrAlreadyExists, naming the owner, if a
// container already uses name.
func checkNameFree(ctx context.Context, tx *sql.Tx, name string) error {
	var owner string
	err := tx.QueryRowContext(ctx, "SELECT id FROM containers WHERE name = ?", name).Scan(&owner)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return errdefs.Worded(errdefs.ErrAlreadyExists, "the container name %q is already in use by %s. You have to remove that container to be able to reuse that name: that name is already in use", name, owner)
}

// GetContainer finds a container by exact ID, exact name, or unique ID
// prefix, in that order of preference. An ambiguous prefix fails with
// errdefs.ErrInvalidArgument, no match with errdefs.ErrNotFound.
func (d *DB) GetContainer(ctx context.Context, idOrName string) (*Container, error) {
	// "/name" is name, as docker and podman take it.
	if len(idOrName) > 1 {
		idOrName = strings.TrimPrefix(idOrName, "/")
	}
	if idOrName == "" {
		return nil, fmt.Errorf("empty container name or ID: %w", errdefs.ErrInvalidArgument)
	}
	// One query, so that all candidates come from the same snapshot. Exact
	// matches sort first; two prefix-only rows mean ambiguity.
	rows, err := d.db.QueryContext(ctx,
		"SELECT "+containerColumns+", id = ?1 OR name = ?1 FROM containers"+
			" WHERE id = ?1 OR name = ?1 OR substr(id, 1, length(?1)) = ?1"+
			" ORDER BY id = ?1 DESC, name = ?1 DESC LIMIT 2", idOrName)
	if err != nil {
		return nil, err
	}
	found, n, err := pickOne(rows, scanContainer)
	switch {
	case err != nil:
		return nil, err
	case n == 0:
		return nil, errdefs.Worded(errdefs.ErrNotFound, "no container with name or ID %q found: no such container", idOrName)
	case n > 1:
		return nil, fmt.Errorf("more than one container matches ID prefix %q: %w", idOrName, errdefs.ErrInvalidArgument)
	}
	return found, nil
}

// ListContainers returns all containers, newest first.
func (d *DB) ListContainers(ctx context.Context) ([]*Container, error) {
	rows, err := d.db.QueryContext(ctx,
		"SELECT "+containerColumns+" FROM containers ORDER BY created DESC, id")
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scanContainer)
}

// ContainersWithConfigText lists the containers whose creation config
// contains text: a cheap filter in SQLite for callers that look for
// references (e.g. "container:ID") and then decode the few that match.
func (d *DB) ContainersWithConfigText(ctx context.Context, text string) ([]*Container, error) {
	rows, err := d.db.QueryContext(ctx,
		"SELECT "+containerColumns+" FROM containers WHERE instr(config, ?) > 0 ORDER BY created DESC, id", text)
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scanContainer)
}

// scanContainer reads one row of containerColumns, followed by extra.
func scanContainer(rows *sql.Rows, extra ...any) (*Container, error) {
	var (
		c       Container
		created int64
		cfg, st []byte
	)
	dest := append([]any{&c.ID, &c.Name, &c.ImageID, &c.ImageName, &created, &cfg, &st}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	c.Created = time.Unix(0, created)
	// Scan into []byte gives a copy, so cfg can be kept as is.
	c.Config = json.RawMessage(cfg)
	if err := json.Unmarshal(st, &c.State); err != nil {
		return nil, fmt.Errorf("container %s: decoding state: %w", c.ID, err)
	}
	return &c, nil
}

// SaveState replaces the state of container id.
func (d *DB) SaveState(ctx context.Context, id string, st ContainerState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding container state: %w", err)
	}
	return d.updateOne(ctx, id, "UPDATE containers SET state = ?, status = ? WHERE id = ?", string(b), st.Status, id)
}

// UpdateConfig replaces the creation config of container id.
func (d *DB) UpdateConfig(ctx context.Context, id string, cfg json.RawMessage) error {
	if len(cfg) == 0 {
		cfg = json.RawMessage("{}")
	}
	return d.updateOne(ctx, id, "UPDATE containers SET config = ? WHERE id = ?", string(cfg), id)
}

// RenameContainer gives container id a new name. It fails with
// errdefs.ErrAlreadyExists if another container has that name.
func (d *DB) RenameContainer(ctx context.Context, id, newName string) error {
	if newName == "" {
		return fmt.Errorf("empty container name: %w", errdefs.ErrInvalidArgument)
	}
	return d.withTx(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, "SELECT name FROM containers WHERE id = ?", id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(id)
		}
		if err != nil || cur == newName {
			return err
		}
		if err := checkNameFree(ctx, tx, newName); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE containers SET name = ? WHERE id = ?", newName, id)
		return err
	})
}

// RemoveContainer deletes the record of container id.
func (d *DB) RemoveContainer(ctx context.Context, id string) error {
	return d.updateOne(ctx, id, "DELETE FROM containers WHERE id = ?", id)
}

// ContainersUsingImage returns the IDs of the containers created from
// image imageID.
func (d *DB) ContainersUsingImage(ctx context.Context, imageID string) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT id FROM containers WHERE image_id = ? ORDER BY created DESC", imageID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// updateOne runs a statement that must touch exactly the row of container
// id, and reports ErrNotFound if there is none.
func (d *DB) updateOne(ctx context.Context, id, query string, args ...any) error {
	return d.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound(id)
		}
		return nil
	})
}

func notFound(id string) error {
	return fmt.Errorf("no container with ID %q found: %w", id, errdefs.ErrNotFound)
}
