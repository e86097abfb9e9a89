package libservin

// Create-time mount resolution: the user's mount flags, --volumes-from,
// --read-only-tmpfs and the image's VOLUMEs become the container's Mounts;
// named volumes are created when missing, anonymous ones made, bind sources
// checked (or created for -v) and image mounts resolved to image IDs.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/image"
	"github.com/servin/servin/libservin/state"
)

// mountPlan is the mounts of a container being created. It holds the locks
// of the volumes the container will use (shared) until the container's
// database row links them, so that no volume is removed in between.
type mountPlan struct {
	r       *Runtime
	mounts  []Mount
	volumes []string        // volumes to link to the container
	locked  map[string]bool // volumes whose lock the plan holds
	created []string        // anonymous volumes made for this container
	unlocks []func()
	ok      bool
	driver  string // --volume-driver
}

// readOnlyTmpfsDirs get a tmpfs with --read-only (unless --read-only-tmpfs=false).
var readOnlyTmpfsDirs = []string{"/run", "/tmp", "/var/tmp"}

// planMounts resolves o for a container of image img; readOnlyTmpfs is
// --read-only without --read-only-tmpfs=false. Making those tmpfs mounts
// here, rather than leaving them to the spec generator, orders them with
// the other mounts: a volume at /tmp/x goes on top of the /tmp tmpfs. The
// caller must call release, and commit on success.
func (r *Runtime) planMounts(ctx context.Context, o *MountOptions, readOnlyTmpfs bool, img *image.Image) (plan *mountPlan, err error) {
	p := &mountPlan{r: r, locked: map[string]bool{}, driver: o.VolumeDriver}
	if err := r.checkVolumeDriver(o.VolumeDriver); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			p.release(ctx)
		}
	}()
	if err := p.collect(ctx, o, readOnlyTmpfs, img); err != nil {
		return nil, err
	}
	for i := range p.mounts {
		if err := p.resolve(ctx, &p.mounts[i]); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// collect gathers the mounts in precedence order: the user's own, then
// those of --volumes-from, then the read-only tmpfs dirs, then the image's
// volumes. A destination is taken by the first that claims it; the user's
// own mounts may not claim one twice.
func (p *mountPlan) collect(ctx context.Context, o *MountOptions, readOnlyTmpfs bool, img *image.Image) error {
	taken := map[string]bool{}
	mine := map[string]Mount{}
	user := func(m Mount, err error) error {
		if err != nil {
			return err
		}
		if taken[m.Destination] {
			if prev, ok := mine[m.Destination]; ok && reflect.DeepEqual(prev, m) {
				return nil // the same mount given twice, as podman allows
			}
			return errdefs.Worded(errdefs.ErrInvalidArgument, "%s: duplicate mount destination", m.Destination)
		}
		taken[m.Destination] = true
		mine[m.Destination] = m
		p.mounts = append(p.mounts, m)
		return nil
	}
	for _, s := range o.Volumes {
		if err := user(ParseVolumeFlag(s)); err != nil {
			return err
		}
	}
	for _, s := range o.Mounts {
		m, err := ParseMountFlag(s)
		if err != nil {
			return err
		}
		if m.Type != MountTypeGlob {
			if err := user(m, nil); err != nil {
				return err
			}
			continue
		}
		binds, err := expandGlob(m) // mounts.go
		if err != nil {
			return err
		}
		for _, b := range binds {
			if taken[b.Destination] {
				return errdefs.Worded(errdefs.ErrInvalidArgument, "%s: duplicate mount destination", b.Destination)
			}
			if err := user(b, nil); err != nil {
				return err
			}
		}
	}
	for _, s := range o.Tmpfs {
		if err := user(ParseTmpfsFlag(s)); err != nil {
			return err
		}
	}
	implicit := func(m Mount) {
		if !taken[m.Destination] {
			taken[m.Destination] = true
			p.mounts = append(p.mounts, m)
		}
	}
	for _, s := range o.VolumesFrom {
		ms, err := p.volumesFrom(ctx, s)
		if err != nil {
			return err
		}
		for _, m := range ms {
			implicit(m)
		}
	}
	if readOnlyTmpfs {
		for _, d := range readOnlyTmpfsDirs {
			implicit(Mount{Type: MountTypeTmpfs, Destination: d, Options: []string{"nosuid", "nodev"}, TmpCopyUp: true})
		}
	}
	var vols []string
	if img != nil && img.Config != nil {
		for v := range img.Config.Config.Volumes {
			if filepath.IsAbs(v) && filepath.Clean(v) != "/" {
				vols = append(vols, filepath.Clean(v))
			}
		}
	}
	sort.Strings(vols)
	for _, d := range vols {
		switch o.ImageVolume {
		case "", "anonymous", "bind":
			implicit(Mount{Type: MountTypeVolume, Destination: d, Anonymous: true})
		case "tmpfs":
			implicit(Mount{Type: MountTypeTmpfs, Destination: d, Options: []string{"nosuid", "nodev"}, TmpCopyUp: true})
		case "ignore":
		default:
			return invalidMount("invalid --image-volume %q: must be anonymous (bind), tmpfs or ignore", o.ImageVolume)
		}
	}
	return nil
}

// volumesFrom returns the bind and volume mounts of another container,
// with the mode --volumes-from asks for.
func (p *mountPlan) volumesFrom(ctx context.Context, spec string) ([]Mount, error) {
	name, mode, err := parseVolumesFrom(spec)
	if err != nil {
		return nil, err
	}
	rec, err := p.r.db.GetContainer(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("--volumes-from %s: %w", name, err)
	}
	src, err := fromRecord(rec)
	if err != nil {
		return nil, err
	}
	var out []Mount
	for _, m := range src.Config.Mounts {
		if m.Type != MountTypeBind && m.Type != MountTypeVolume {
			continue
		}
		// The volume belongs to the source container: rm -v of this one
		// must leave it alone.
		m.Anonymous = false
		m.Chown = false
		switch mode {
		case "ro":
			m.ReadOnly = true
		case "rw":
			m.ReadOnly = false
		}
		out = append(out, m)
	}
	return out, nil
}

// resolve checks a mount against the host and makes its volume.
func (p *mountPlan) resolve(ctx context.Context, m *Mount) error {
	switch m.Type {
	case MountTypeBind:
		if _, err := os.Stat(m.Source); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("bind source %s: %w", m.Source, err)
			}
			if !m.createSource {
				return errdefs.Worded(errdefs.ErrInvalidArgument, "statfs %s: no such file or directory", m.Source)
			}
			// docker's -v creates a missing host directory.
			if err := os.MkdirAll(m.Source, 0o755); err != nil {
				return fmt.Errorf("creating bind source %s: %w", m.Source, err)
			}
		}
	case MountTypeVolume:
		create := VolumeCreateOptions{Name: m.Source, Driver: firstNonEmpty(m.volumeDriver, p.driver), Options: m.volumeOpts, Labels: m.volumeLabels}
		if m.Anonymous {
			id, err := newID()
			if err != nil {
				return err
			}
			m.Source, create.Name = id, id
		}
		if err := p.useVolume(ctx, create, m.Anonymous); err != nil {
			return err
		}
	case MountTypeImage:
		store, err := p.r.Store()
		if err != nil {
			return err
		}
		img, err := store.Lookup(ctx, m.Source)
		if err != nil {
			return fmt.Errorf("image mount %s: %w", m.Source, err)
		}
		m.ImageName, m.Source = m.Source, img.ID
	}
	return nil
}

// useVolume makes sure the volume exists (creating it when missing) and
// holds its lock shared until release.
func (p *mountPlan) useVolume(ctx context.Context, create VolumeCreateOptions, anonymous bool) error {
	name := create.Name
	if p.locked[name] {
		return nil
	}
	// Each round either finds the volume under the lock or creates it; a
	// concurrent prune can remove a fresh volume between the two, hence
	// the retries.
	for range 10 {
		unlock, err := state.LockVolumeShared(p.r.lockDir(), name)
		if err != nil {
			return err
		}
		_, err = p.r.volumeExact(ctx, name)
		if err == nil {
			p.locked[name] = true
			p.unlocks = append(p.unlocks, unlock)
			p.volumes = append(p.volumes, name)
			return nil
		}
		unlock()
		if !errors.Is(err, errdefs.ErrNotFound) {
			return err
		}
		if _, err := p.r.createVolume(ctx, create, anonymous); err != nil && !errors.Is(err, errdefs.ErrAlreadyExists) {
			return err
		}
		if anonymous && !containsString(p.created, name) {
			p.created = append(p.created, name)
		}
	}
	return fmt.Errorf("volume %s was removed while the container was being created", name)
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// link records that container id uses the plan's volumes.
func (p *mountPlan) link(ctx context.Context, id string) error {
	return p.r.db.AddVolumeUsers(ctx, id, p.volumes)
}

// commit marks the plan as used: release keeps the volumes it made.
func (p *mountPlan) commit() { p.ok = true }

// release drops the volume locks and, unless committed, removes the
// anonymous volumes made for the container that was not created.
func (p *mountPlan) release(ctx context.Context) {
	for _, u := range p.unlocks {
		u()
	}
	p.unlocks = nil
	if p.ok {
		return
	}
	for _, name := range p.created {
		_ = p.r.removeVolumeIfUnused(ctx, name)
	}
	p.created = nil
}

// anonymousVolumes lists the volumes made for container c alone.
func anonymousVolumes(c *Container) []string {
	var out []string
	for _, m := range c.Config.Mounts {
		if m.Type == MountTypeVolume && m.Anonymous {
			out = append(out, m.Source)
		}
	}
	return out
}

// removeAnonymousVolumes is rm -v: the container's anonymous volumes go
// with it, unless another container (--volumes-from) still uses them.
func (r *Runtime) removeAnonymousVolumes(ctx context.Context, c *Container) error {
	var errs []error
	for _, name := range anonymousVolumes(c) {
		if err := r.removeVolumeIfUnused(ctx, name); err != nil {
			errs = append(errs, fmt.Errorf("removing anonymous volume %s of container %s: %w", name, c.Name, err))
		}
	}
	return errors.Join(errs...)
}

// volumeNames lists the distinct volumes of mounts.
func volumeNames(mounts []Mount) []string {
	var out []string
	for _, m := range mounts {
		if m.Type == MountTypeVolume && !containsString(out, m.Source) {
			out = append(out, m.Source)
		}
	}
	return out
}
