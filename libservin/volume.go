package libservin

// Volumes: create, inspect, list, remove, prune, export and import. The
// record lives in the state database (state/volumes.go), the data with the
// volume's driver (package volume); every change to a volume holds the
// volume's lock (see state/doc.go).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/internal/fscopy"
	"github.com/servin/servin/libservin/state"
	"github.com/servin/servin/libservin/volume"
)

// Volume is a volume as inspect shows it (podman's fields).
type Volume struct {
	Name        string            `json:"Name"`
	Driver      string            `json:"Driver"`
	Mountpoint  string            `json:"Mountpoint"`
	CreatedAt   time.Time         `json:"CreatedAt"`
	Labels      map[string]string `json:"Labels"`
	Scope       string            `json:"Scope"`
	Options     map[string]string `json:"Options"`
	Anonymous   bool              `json:"Anonymous,omitempty"`
	MountCount  uint              `json:"MountCount"`
	NeedsCopyUp bool              `json:"NeedsCopyUp,omitempty"`
	NeedsChown  bool              `json:"NeedsChown,omitempty"`
	// Containers is how many containers use the volume (not in podman's
	// document; filters and prune need it).
	Containers int `json:"-"`
	// Size is the data's size in bytes, filled by PruneVolumes and
	// DiskUsage only.
	Size int64 `json:"-"`
}

// VolumeCreateOptions are `volume create`'s options.
type VolumeCreateOptions struct {
	Name    string // "" generates a 64-hex name
	Driver  string // "" is local
	Options map[string]string
	Labels  map[string]string
	// IgnoreIfExists returns an existing volume of that name instead of
	// failing (podman's --ignore).
	IgnoreIfExists bool
}

// volumeDrivers is the runtime's driver registry, made on first use.
type volumeDrivers struct {
	once sync.Once
	reg  *volume.Registry
}

func (r *Runtime) volumeRegistry() *volume.Registry {
	r.volDrivers.once.Do(func() {
		r.volDrivers.reg = volume.NewRegistry(volume.NewLocal(r.volumesDir()))
	})
	return r.volDrivers.reg
}

func (r *Runtime) volumesDir() string {
	return firstNonEmpty(r.opts.VolumePath, filepath.Join(r.opts.Root, "volumes"))
}

// RegisterVolumeDriver adds a volume driver (a plugin) beside "local".
func (r *Runtime) RegisterVolumeDriver(d volume.Driver) error {
	return r.volumeRegistry().Register(d)
}

// VolumeDrivers lists the registered volume drivers.
func (r *Runtime) VolumeDrivers() []string { return r.volumeRegistry().Names() }

// checkVolumeDriver validates a driver name given for the volumes a
// container creates (--volume-driver): an unknown one is an error that
// names it, whether or not a volume gets created.
func (r *Runtime) checkVolumeDriver(name string) error {
	if name == "" {
		return nil
	}
	if _, err := r.volumeRegistry().Get(name); err != nil {
		return fmt.Errorf("--volume-driver: %w", err)
	}
	return nil
}

func (r *Runtime) toVolume(v *state.Volume, users int) *Volume {
	scope := "local"
	if d, err := r.volumeRegistry().Get(v.Driver); err == nil {
		scope = d.Scope()
	}
	return &Volume{
		Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, CreatedAt: v.Created.Local(),
		Labels: nonNilMap(v.Labels), Scope: scope, Options: nonNilMap(v.Options), Anonymous: v.Anonymous,
		MountCount: uint(len(v.State.MountHolders)), NeedsCopyUp: v.State.NeedsCopyUp,
		NeedsChown: v.State.NeedsChown, Containers: users,
	}
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// CreateVolume creates a volume; one created without a name is
// anonymous (volume prune takes it without --all), as in podman 5.
func (r *Runtime) CreateVolume(ctx context.Context, o VolumeCreateOptions) (*Volume, error) {
	v, err := r.createVolume(ctx, o, o.Name == "")
	if err != nil {
		return nil, err
	}
	return r.toVolume(v, 0), nil
}

func (r *Runtime) createVolume(ctx context.Context, o VolumeCreateOptions, anonymous bool) (*state.Volume, error) {
	name := o.Name
	if name == "" {
		id, err := newID()
		if err != nil {
			return nil, err
		}
		name = id
	}
	if err := volume.ValidName(name); err != nil {
		return nil, err
	}
	drv, err := r.volumeRegistry().Get(o.Driver)
	if err != nil {
		return nil, err
	}
	unlock, err := state.LockVolume(r.lockDir(), name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if v, err := r.volumeExact(ctx, name); err == nil {
		if o.IgnoreIfExists {
			return v, nil
		}
		return nil, fmt.Errorf("volume with name %s already exists: %w", name, errdefs.ErrAlreadyExists)
	} else if !errors.Is(err, errdefs.ErrNotFound) {
		return nil, err
	}
	dv := &volume.Volume{Name: name, Options: o.Options, Labels: o.Labels}
	if err := drv.Create(ctx, dv); err != nil {
		if errors.Is(err, errdefs.ErrInvalidArgument) {
			return nil, err // the option at fault is named, as in podman
		}
		return nil, fmt.Errorf("creating volume %s: %w", name, err)
	}
	rec := &state.Volume{
		Name: name, Driver: drv.Name(), Mountpoint: dv.Mountpoint, Created: time.Now().UTC(),
		Anonymous: anonymous, Labels: o.Labels, Options: o.Options,
		State: state.VolumeState{NeedsCopyUp: !noCopyOption(o.Options), NeedsChown: true},
	}
	if err := r.db.AddVolume(ctx, rec); err != nil {
		_ = drv.Remove(ctx, dv)
		return nil, err
	}
	r.event(ctx, "volume", "create", "", name, map[string]string{"driver": drv.Name()})
	return rec, nil
}

// noCopyOption reports whether the options turn copy-up off (podman's
// -o nocopy, -o copy=false, -o o=nocopy).
func noCopyOption(o map[string]string) bool {
	if v, ok := o["nocopy"]; ok && v != "false" {
		return true
	}
	if v, ok := o["copy"]; ok && v == "false" {
		return true
	}
	for _, f := range strings.Split(o["o"], ",") {
		if f == "nocopy" {
			return true
		}
	}
	return false
}

// volumeExact finds a volume by its exact name (mounts never match a
// prefix: -v data:/x must not pick "database").
func (r *Runtime) volumeExact(ctx context.Context, name string) (*state.Volume, error) {
	v, err := r.db.GetVolume(ctx, name)
	if err != nil {
		return nil, err
	}
	if v.Name != name {
		return nil, fmt.Errorf("no volume with name %q found: %w", name, errdefs.ErrNotFound)
	}
	return v, nil
}

// Volume returns one volume by name or unique name prefix.
func (r *Runtime) Volume(ctx context.Context, name string) (*Volume, error) {
	v, err := r.db.GetVolume(ctx, name)
	if err != nil {
		return nil, err
	}
	users, err := r.db.VolumeUsers(ctx, v.Name)
	if err != nil {
		return nil, err
	}
	return r.toVolume(v, len(users)), nil
}

// VolumeExists reports whether a volume of exactly that name exists.
func (r *Runtime) VolumeExists(ctx context.Context, name string) (bool, error) {
	_, err := r.volumeExact(ctx, name)
	if errors.Is(err, errdefs.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Volumes lists all volumes, by name.
func (r *Runtime) Volumes(ctx context.Context) ([]*Volume, error) {
	recs, err := r.db.ListVolumes(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := r.db.VolumeUseCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Volume, 0, len(recs))
	for _, v := range recs {
		out = append(out, r.toVolume(v, counts[v.Name]))
	}
	return out, nil
}

// VolumeRemoveOptions control RemoveVolume.
type VolumeRemoveOptions struct {
	// Force removes the stopped containers that use the volume first. A
	// volume that a running container uses is never removed.
	Force   bool
	Timeout *uint
}

// RemoveVolume deletes a volume and its data. A volume in use by a
// container is refused (errdefs.ErrInUse) unless Force, and even then
// while a container using it runs.
func (r *Runtime) RemoveVolume(ctx context.Context, name string, o VolumeRemoveOptions) (*Volume, error) {
	v, err := r.db.GetVolume(ctx, name)
	if err != nil {
		return nil, err
	}
	if o.Force {
		// Containers first, without the volume lock: removing a container
		// takes its lock, and the order is container lock, volume lock.
		if err := r.removeVolumeUsers(ctx, v.Name, o.Timeout); err != nil {
			return nil, err
		}
	}
	unlock, err := state.LockVolume(r.lockDir(), v.Name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := r.removeVolumeLocked(ctx, v.Name); err != nil {
		return nil, err
	}
	return r.toVolume(v, 0), nil
}

// removeVolumeUsers removes the containers using volume name, stopping
// running ones first (within timeout), as podman's volume rm --force.
func (r *Runtime) removeVolumeUsers(ctx context.Context, name string, timeout *uint) error {
	users, err := r.db.VolumeUsers(ctx, name)
	if err != nil {
		return err
	}
	for _, id := range users {
		if _, err := r.Remove(ctx, id, RemoveOptions{Force: true, Timeout: timeout}); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			return fmt.Errorf("removing container %s that uses volume %s: %w", id, name, err)
		}
	}
	return nil
}

// removeVolumeLocked removes volume name; the caller holds its lock.
func (r *Runtime) removeVolumeLocked(ctx context.Context, name string) error {
	v, err := r.volumeExact(ctx, name)
	if err != nil {
		return err
	}
	users, err := r.db.VolumeUsers(ctx, name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return errdefs.Worded(errdefs.ErrInUse, "volume %s is being used by the following container(s): %s: volume is being used",
			name, strings.Join(users, ", "))
	}
	if len(v.State.MountHolders) > 0 {
		return fmt.Errorf("volume %s is mounted by container(s) %s: %w", name, strings.Join(v.State.MountHolders, ", "), errdefs.ErrInUse)
	}
	drv, err := r.volumeRegistry().Get(v.Driver)
	if err != nil {
		return err
	}
	// The data goes first: should that fail, the record stays and rm can
	// be retried; a record without data would be a lie.
	if err := drv.Remove(ctx, &volume.Volume{Name: v.Name, Options: v.Options, Labels: v.Labels, Mountpoint: v.Mountpoint}); err != nil {
		return err
	}
	if err := r.db.RemoveVolume(ctx, name); err != nil {
		return err
	}
	_ = state.RemoveVolumeLock(r.lockDir(), name)
	r.event(ctx, "volume", "remove", "", name, nil)
	return nil
}

// removeVolumeIfUnused removes an anonymous volume once no container uses
// it (rm -v, run --rm); a volume still in use stays, as with docker.
func (r *Runtime) removeVolumeIfUnused(ctx context.Context, name string) error {
	unlock, err := state.LockVolume(r.lockDir(), name)
	if err != nil {
		return err
	}
	defer unlock()
	err = r.removeVolumeLocked(ctx, name)
	if errors.Is(err, errdefs.ErrInUse) || errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	return err
}

// PruneVolumes removes every volume no container uses for which keep (may
// be nil) returns false, and returns the removed volumes.
func (r *Runtime) PruneVolumes(ctx context.Context, match func(*Volume) bool) ([]*Volume, error) {
	vols, err := r.Volumes(ctx)
	if err != nil {
		return nil, err
	}
	var (
		removed []*Volume
		errs    []error
	)
	for _, v := range vols {
		if v.Containers > 0 || (match != nil && !match(v)) {
			continue
		}
		v.MountCount = 0
		v.Size, _ = dirSize(v.Mountpoint)
		err := func() error {
			unlock, err := state.LockVolume(r.lockDir(), v.Name)
			if err != nil {
				return err
			}
			defer unlock()
			return r.removeVolumeLocked(ctx, v.Name)
		}()
		switch {
		case err == nil:
			removed = append(removed, v)
			// podman records a prune event for each volume pruned,
			// after its remove event.
			r.event(ctx, "volume", "prune", "", v.Name, nil)
		case errors.Is(err, errdefs.ErrInUse), errors.Is(err, errdefs.ErrNotFound):
			// Taken into use (or removed) since the listing.
		default:
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}

// withVolumeData runs fn on the host path of a volume's data, mounting it
// through its driver for the duration when no container holds it mounted.
func (r *Runtime) withVolumeData(ctx context.Context, name string, fn func(path string) error) error {
	v, err := r.db.GetVolume(ctx, name)
	if err != nil {
		return err
	}
	unlock, err := state.LockVolume(r.lockDir(), v.Name)
	if err != nil {
		return err
	}
	defer unlock()
	if v, err = r.volumeExact(ctx, v.Name); err != nil {
		return err
	}
	drv, err := r.volumeRegistry().Get(v.Driver)
	if err != nil {
		return err
	}
	dv := &volume.Volume{Name: v.Name, Options: v.Options, Labels: v.Labels, Mountpoint: v.Mountpoint}
	path, err := drv.Mount(ctx, dv, "")
	if err != nil {
		return err
	}
	if len(v.State.MountHolders) == 0 {
		defer drv.Unmount(ctx, dv, "")
	}
	return fn(path)
}

// ExportVolume writes the content of a volume as a tar stream.
func (r *Runtime) ExportVolume(ctx context.Context, name string, w io.Writer) error {
	return r.withVolumeData(ctx, name, func(path string) error {
		// The archiver never follows a symlink: links in the volume
		// cannot lead it to host files.
		d, err := os.Open(path)
		if err != nil {
			return err
		}
		defer d.Close()
		return fscopy.Archive(w, d, "")
	})
}

// ImportVolume unpacks a tar stream (optionally compressed) into a volume.
// Every entry name resolves with the volume as its root, so "../" names
// and symlinks never reach outside it.
func (r *Runtime) ImportVolume(ctx context.Context, name string, rd io.Reader) error {
	return r.withVolumeData(ctx, name, func(path string) error {
		d, err := os.Open(path)
		if err != nil {
			return err
		}
		defer d.Close()
		if err := fscopy.Unpack(rd, d, fscopy.UnpackOptions{}); err != nil {
			return fmt.Errorf("importing into volume %s: %w", name, err)
		}
		return nil
	})
}

// MountVolume mounts a volume on the host (volume mount) and returns where
// its data is: for a volume of the local driver without mount options,
// its directory; otherwise the driver mounts it now.
func (r *Runtime) MountVolume(ctx context.Context, name string) (string, error) {
	unlock, err := state.LockVolume(r.lockDir(), name)
	if err != nil {
		return "", err
	}
	defer unlock()
	v, err := r.volumeExact(ctx, name)
	if err != nil {
		return "", err
	}
	drv, err := r.volumeRegistry().Get(v.Driver)
	if err != nil {
		return "", err
	}
	return drv.Mount(ctx, &volume.Volume{Name: v.Name, Options: v.Options, Labels: v.Labels, Mountpoint: v.Mountpoint}, "")
}

// UnmountVolume undoes MountVolume, unless a running container uses the
// volume.
func (r *Runtime) UnmountVolume(ctx context.Context, name string) error {
	unlock, err := state.LockVolume(r.lockDir(), name)
	if err != nil {
		return err
	}
	defer unlock()
	v, err := r.volumeExact(ctx, name)
	if err != nil {
		return err
	}
	if len(v.State.MountHolders) > 0 {
		return nil // still mounted for a container
	}
	drv, err := r.volumeRegistry().Get(v.Driver)
	if err != nil {
		return err
	}
	return drv.Unmount(ctx, &volume.Volume{Name: v.Name, Options: v.Options, Labels: v.Labels, Mountpoint: v.Mountpoint}, "")
}
