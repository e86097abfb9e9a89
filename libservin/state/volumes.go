package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/servin/servin/libservin/errdefs"
)

// Volume is the database record of a volume.
type Volume struct {
	Name       string
	Driver     string
	Mountpoint string
	Created    time.Time
	// Anonymous volumes were made for one container (-v /path, an image
	// VOLUME) and are removed with it by rm -v and run --rm.
	Anonymous bool
	Labels    map[string]string
	Options   map[string]string
	State     VolumeState
}

// VolumeState is the mutable part of a volume, stored as JSON.
type VolumeState struct {
	// NeedsCopyUp: the first container to mount the volume copies the
	// image's content at the mount destination into it (docker semantics).
	NeedsCopyUp bool `json:"needsCopyUp,omitempty"`
	// NeedsChown: the first container to mount the volume gives the volume
	// root the owner of the destination (or of the container's user).
	NeedsChown bool `json:"needsChown,omitempty"`
	// MountHolders are the containers that hold the driver's mount of the
	// volume; the driver unmounts when the last one lets go.
	MountHolders []string `json:"mountHolders,omitempty"`
}

const volumeColumns = "name, driver, mountpoint, created, anonymous, labels, options, state"

// AddVolume records a new volume. It fails with errdefs.ErrAlreadyExists
// when the name is taken.
func (d *DB) AddVolume(ctx context.Context, v *Volume) error {
	if v.Name == "" || v.Driver == "" {
		return fmt.Errorf("volume needs a name and a driver: %w", errdefs.ErrInvalidArgument)
	}
	labels, err := marshalMap(v.Labels)
	if err != nil {
		return err
	}
	opts, err := marshalMap(v.Options)
	if err != nil {
		return err
	}
	st, err := json.Marshal(v.State)
	if err != nil {
		return fmt.Errorf("encoding volume state: %w", err)
	}
	return d.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM volumes WHERE name = ?", v.Name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("volume with name %s already exists: %w", v.Name, errdefs.ErrAlreadyExists)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO volumes ("+volumeColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			v.Name, v.Driver, v.Mountpoint, v.Created.UnixNano(), v.Anonymous, labels, opts, string(st))
		return err
	})
}

func marshalMap(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// GetVolume finds a volume by exact name or unique name prefix. No match is
// errdefs.ErrNotFound, an ambiguous prefix errdefs.ErrInvalidArgument.
func (d *DB) GetVolume(ctx context.Context, name string) (*Volume, error) {
	if name == "" {
		return nil, fmt.Errorf("empty volume name: %w", errdefs.ErrInvalidArgument)
	}
	rows, err := d.db.QueryContext(ctx,
		"SELECT "+volumeColumns+", name = ?1 FROM volumes"+
			" WHERE name = ?1 OR substr(name, 1, length(?1)) = ?1 ORDER BY name = ?1 DESC LIMIT 2", name)
	if err != nil {
		return nil, err
	}
	found, n, err := pickOne(rows, scanVolume)
	switch {
	case err != nil:
		return nil, err
	case n == 0:
		return nil, fmt.Errorf("no volume with name %q found: %w", name, errdefs.ErrNotFound)
	case n > 1:
		return nil, fmt.Errorf("more than one volume matches %q: %w", name, errdefs.ErrInvalidArgument)
	}
	return found, nil
}

// ListVolumes returns all volumes, by name.
func (d *DB) ListVolumes(ctx context.Context) ([]*Volume, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+volumeColumns+" FROM volumes ORDER BY name")
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scanVolume)
}

func scanVolume(rows *sql.Rows, extra ...any) (*Volume, error) {
	var (
		v                Volume
		created          int64
		labels, opts, st []byte
	)
	dest := append([]any{&v.Name, &v.Driver, &v.Mountpoint, &created, &v.Anonymous, &labels, &opts, &st}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	v.Created = time.Unix(0, created)
	v.Labels, v.Options = map[string]string{}, map[string]string{}
	if err := json.Unmarshal(labels, &v.Labels); err != nil {
		return nil, fmt.Errorf("volume %s: decoding labels: %w", v.Name, err)
	}
	if err := json.Unmarshal(opts, &v.Options); err != nil {
		return nil, fmt.Errorf("volume %s: decoding options: %w", v.Name, err)
	}
	if err := json.Unmarshal(st, &v.State); err != nil {
		return nil, fmt.Errorf("volume %s: decoding state: %w", v.Name, err)
	}
	return &v, nil
}

// SaveVolumeState replaces the state of volume name. Callers hold the
// volume's exclusive lock.
func (d *DB) SaveVolumeState(ctx context.Context, name string, st VolumeState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding volume state: %w", err)
	}
	return d.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE volumes SET state = ? WHERE name = ?", string(b), name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = fmt.Errorf("no volume with name %q found: %w", name, errdefs.ErrNotFound)
			}
			return err
		}
		return nil
	})
}

// RemoveVolume deletes the record of volume name. It fails with
// errdefs.ErrInUse, naming the containers, while any container uses it.
func (d *DB) RemoveVolume(ctx context.Context, name string) error {
	return d.withTx(ctx, func(tx *sql.Tx) error {
		users, err := volumeUsers(ctx, tx, name)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return fmt.Errorf("volume %s is being used by the following container(s): %s: %w",
				name, strings.Join(users, ", "), errdefs.ErrInUse)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM volumes WHERE name = ?", name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = fmt.Errorf("no volume with name %q found: %w", name, errdefs.ErrNotFound)
			}
			return err
		}
		return nil
	})
}

// AddVolumeUsers records that container containerID uses volumes. The
// links vanish with the container's row (ON DELETE CASCADE) and keep the
// volumes from being removed meanwhile.
func (d *DB) AddVolumeUsers(ctx context.Context, containerID string, volumes []string) error {
	if len(volumes) == 0 {
		return nil
	}
	return d.withTx(ctx, func(tx *sql.Tx) error {
		for _, v := range volumes {
			_, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO volume_users (volume, container) VALUES (?, ?)", v, containerID)
			if err != nil {
				if strings.Contains(err.Error(), "FOREIGN KEY") {
					return fmt.Errorf("volume %s or container %s no longer exists: %w", v, containerID, errdefs.ErrNotFound)
				}
				return err
			}
		}
		return nil
	})
}

// VolumeUsers returns the IDs of the containers that use volume name.
func (d *DB) VolumeUsers(ctx context.Context, name string) ([]string, error) {
	return volumeUsers(ctx, d.db, name)
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func volumeUsers(ctx context.Context, q querier, name string) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT container FROM volume_users WHERE volume = ? ORDER BY container", name)
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

// VolumeUseCounts returns how many containers use each volume that has
// users; volumes absent from the map are unused.
func (d *DB) VolumeUseCounts(ctx context.Context) (map[string]int, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT volume, count(*) FROM volume_users GROUP BY volume")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			name string
			n    int
		)
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}

// LockVolume takes the exclusive lock of volume name (an flock on
// lockDir/volumes/<name>.lock), for work that changes the volume: removal,
// mounting, copy-up.
func LockVolume(lockDir, name string) (unlock func(), err error) {
	return lockVolume(lockDir, name, true)
}

// LockVolumeShared takes volume name's lock in shared mode: container
// creation holds it while it links a container to the volume, so that the
// volume cannot be removed in between.
func LockVolumeShared(lockDir, name string) (unlock func(), err error) {
	return lockVolume(lockDir, name, false)
}

// RemoveVolumeLock deletes the lock file of a removed volume. Call it while
// holding the exclusive lock.
func RemoveVolumeLock(lockDir, name string) error {
	return RemoveLock(filepath.Join(lockDir, "volumes"), name)
}

func lockVolume(lockDir, name string, exclusive bool) (func(), error) {
	dir := filepath.Join(lockDir, "volumes")
	var (
		unlock func()
		err    error
	)
	if exclusive {
		unlock, err = LockContainer(dir, name)
	} else {
		unlock, err = LockContainerShared(dir, name)
	}
	if err != nil {
		return nil, fmt.Errorf("volume %s: %w", name, err)
	}
	return unlock, nil
}
