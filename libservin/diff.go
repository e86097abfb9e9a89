package libservin

// A container's filesystem as a whole: what changed against its image
// (diff), and mounting it on the host for the user (container mount,
// unmount).

import (
	"context"
	"fmt"
	"sort"

	"go.podman.io/storage/pkg/archive"

	"github.com/servin/servin/libservin/errdefs"
)

// Change is one path that differs between a container and its image:
// Kind is "A" (added), "C" (changed) or "D" (deleted).
type Change struct {
	Path string
	Kind string
}

// Diff lists what changed in a container's filesystem since it was created
// from its image, sorted by path. Volumes and bind mounts are not part of
// the container's layer, so they do not show.
func (r *Runtime) Diff(ctx context.Context, nameOrID string) ([]Change, error) {
	c, err := r.Container(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	store, err := r.Store()
	if err != nil {
		return nil, err
	}
	if !store.ContainerExists(c.ID) {
		return nil, fmt.Errorf("container %s has no storage: %w", c.Name, errdefs.ErrNotFound)
	}
	changes, err := store.ContainerChanges(c.ID, c.ImageID)
	if err != nil {
		return nil, fmt.Errorf("comparing container %s with its image: %w", c.Name, err)
	}
	// The mountpoints the runtime creates in the layer (for /etc/hosts,
	// volumes...) are servin's doing, not the container's: podman hides
	// them too.
	mountpoints := map[string]bool{"/etc/hosts": true, "/etc/hostname": true, "/etc/resolv.conf": true, "/run/.containerenv": true}
	for _, m := range c.Config.Mounts {
		mountpoints[m.Destination] = true
	}
	for _, p := range secretMountpoints(c) { // secrets_container.go
		mountpoints[p] = true
	}
	out := make([]Change, 0, len(changes))
	for _, ch := range changes {
		if ch.Kind == archive.ChangeAdd && mountpoints[ch.Path] {
			continue
		}
		kind := "C"
		switch ch.Kind {
		case archive.ChangeAdd:
			kind = "A"
		case archive.ChangeDelete:
			kind = "D"
		}
		out = append(out, Change{Path: ch.Path, Kind: kind})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// MountContainer mounts a container's root filesystem on the host and
// returns where. Each mount needs an UnmountContainer.
func (r *Runtime) MountContainer(ctx context.Context, nameOrID string) (string, error) {
	store, err := r.Store()
	if err != nil {
		return "", err
	}
	var p string
	c, err := r.withLock(ctx, nameOrID, func(c *Container) error {
		p, err = store.Mount(c.ID)
		return err
	})
	if err == nil {
		r.ctrEvent(ctx, "mount", c, nil)
	}
	return p, err
}

// UnmountContainer drops one mount of the container's root filesystem made
// by MountContainer (all of them with force). A running container keeps
// its own mount; force is refused for it.
func (r *Runtime) UnmountContainer(ctx context.Context, nameOrID string, force bool) error {
	store, err := r.Store()
	if err != nil {
		return err
	}
	c, err := r.withLock(ctx, nameOrID, func(c *Container) error {
		if c.Running() {
			if force {
				return fmt.Errorf("container %s is running: stop it before a forced unmount: %w", c.Name, errdefs.ErrFailedPrecondition)
			}
			n, _, err := store.ContainerMount(c.ID)
			if err != nil || n <= 1 {
				return err // only the container's own mount is left
			}
		}
		return store.Unmount(c.ID, force)
	})
	if err == nil {
		r.ctrEvent(ctx, "unmount", c, nil)
	}
	return err
}

// MountedContainer is a container whose root filesystem is mounted.
type MountedContainer struct {
	ID, Name, Path string
}

// MountedContainers lists the containers whose root filesystem is mounted
// (by MountContainer or because they run).
func (r *Runtime) MountedContainers(ctx context.Context) ([]MountedContainer, error) {
	store, err := r.Store()
	if err != nil {
		return nil, err
	}
	ctrs, err := r.Containers(ctx)
	if err != nil {
		return nil, err
	}
	var out []MountedContainer
	for _, c := range ctrs {
		n, path, err := store.ContainerMount(c.ID)
		if err != nil || n == 0 || path == "" {
			continue
		}
		out = append(out, MountedContainer{ID: c.ID, Name: c.Name, Path: path})
	}
	return out, nil
}
