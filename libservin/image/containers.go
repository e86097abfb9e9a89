package image

import (
	"context"
	"errors"
	"fmt"

	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/idtools"
)

// Container is the storage record of a container's read-write layer.
type Container = storage.Container

// ContainerOptions tune CreateContainerWithOptions.
type ContainerOptions struct {
	// Volatile keeps the layer's records under RunRoot without fsync and
	// mounts overlay with "volatile" (no syncing of the upper directory).
	// Much cheaper, but the layer does not survive a crash or a reboot:
	// meant for containers removed when they exit (run --rm), as podman does.
	Volatile bool
	// UIDMap and GIDMap give the layer the ownership a user namespace
	// needs (the driver shifts it at mount time or chowns a copy). With
	// AutoUserNS, storage picks free ranges of AutoUserNSSize IDs (0: sized
	// from the image) from the subordinate IDs of user "containers".
	UIDMap, GIDMap []idtools.IDMap
	AutoUserNS     bool
	AutoUserNSSize uint32
}

// CreateContainer creates the read-write layer for container id on top of
// image imageID (an ID or anything Lookup accepts). name, if not empty, is
// recorded as the storage container's name.
func (s *Store) CreateContainer(ctx context.Context, id, imageID, name string) (*Container, error) {
	return s.CreateContainerWithOptions(ctx, id, imageID, name, ContainerOptions{})
}

// CreateContainerWithOptions is CreateContainer with options. The layer
// is a driver layer (ctrlayer.go) unless it needs ID mappings.
func (s *Store) CreateContainerWithOptions(ctx context.Context, id, imageID, name string, opts ContainerOptions) (*Container, error) {
	if len(opts.UIDMap) == 0 && len(opts.GIDMap) == 0 && !opts.AutoUserNS {
		return s.createDriverContainer(id, imageID)
	}
	img, _, err := s.resolve(imageID)
	if err != nil {
		return nil, err
	}
	var names []string
	if name != "" {
		names = []string{name}
	}
	c, err := s.store.CreateContainer(id, names, img.ID, "", "", &storage.ContainerOptions{Volatile: opts.Volatile, IDMappingOptions: idMappingOptions(opts)})
	if err != nil {
		if errors.Is(err, storage.ErrDuplicateID) || errors.Is(err, storage.ErrDuplicateName) {
			return nil, fmt.Errorf("creating container layer for %s: %w: %w", id, err, errdefs.ErrAlreadyExists)
		}
		return nil, fmt.Errorf("creating container layer for %s: %w", id, err)
	}
	return c, nil
}

func (s *Store) createDriverContainer(id, imageID string) (*Container, error) {
	// Shared: an image being removed (exclusive) is either gone before
	// the lookup or outlives the new layer.
	unlock, err := s.layersLock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	img, _, err := s.resolve(imageID)
	if err != nil {
		return nil, err
	}
	drv, err := s.driver()
	if err != nil {
		return nil, err
	}
	if s.isDriverLayer(drv, id) {
		return nil, fmt.Errorf("creating container layer for %s: %w", id, errdefs.ErrAlreadyExists)
	}
	if err := s.createDriverLayer(drv, id, img.TopLayer); err != nil {
		return nil, fmt.Errorf("creating container layer for %s: %w", id, err)
	}
	return &Container{ID: id, LayerID: id, ImageID: img.ID}, nil
}

// MountOptions tune MountWith.
type MountOptions struct {
	// Volatile mounts overlay with "volatile": the upper directory is
	// never synced (a container removed when it exits).
	Volatile bool
}

// Mount mounts the container's root filesystem and returns its path.
// Mounts are counted: every Mount needs an Unmount (or a forced one).
func (s *Store) Mount(id string) (string, error) {
	return s.MountWith(id, MountOptions{})
}

// MountWith is Mount with options.
func (s *Store) MountWith(id string, o MountOptions) (string, error) {
	drv, err := s.driver()
	if err != nil {
		return "", err
	}
	if s.isDriverLayer(drv, id) {
		unlock, err := s.layersLock(true)
		if err != nil {
			return "", err
		}
		defer unlock()
		// Again under the lock: a shutdown in between reloads it.
		if drv, err = s.driver(); err != nil {
			return "", err
		}
		p, err := s.mountDriverLayer(drv, id, o)
		if err != nil {
			return "", fmt.Errorf("mounting container %s: %w", id, err)
		}
		return p, nil
	}
	rootfs, err := s.store.Mount(id, "")
	if err != nil {
		return "", fmt.Errorf("mounting container %s: %w", id, notAContainer(err))
	}
	return rootfs, nil
}

// Unmount drops one mount reference (all of them with force) and unmounts
// the root filesystem when none is left. Unmounting a container that is not
// mounted is not an error.
func (s *Store) Unmount(id string, force bool) error {
	drv, err := s.driver()
	if err != nil {
		return err
	}
	if s.isDriverLayer(drv, id) {
		unlock, err := s.layersLock(true)
		if err != nil {
			return err
		}
		defer unlock()
		if drv, err = s.driver(); err != nil {
			return err
		}
		return s.unmountDriverLayer(drv, id, force)
	}
	return s.unmountStorageContainer(id, force)
}

func (s *Store) unmountStorageContainer(id string, force bool) error {
	// storage decrements the mount count even when it is already zero, so
	// look first.
	n, err := s.store.Mounted(id)
	if err != nil {
		return fmt.Errorf("unmounting container %s: %w", id, notAContainer(err))
	}
	if n == 0 {
		return nil
	}
	_, err = s.store.Unmount(id, force)
	if err == nil || errors.Is(err, storage.ErrLayerNotMounted) {
		return nil
	}
	return fmt.Errorf("unmounting container %s: %w", id, notAContainer(err))
}

// DeleteContainer unmounts and deletes the container's layer and record.
// It is idempotent: a container that is already gone is not an error.
func (s *Store) DeleteContainer(id string) error {
	drv, err := s.driver()
	if err != nil {
		return err
	}
	if s.isDriverLayer(drv, id) {
		return s.deleteDriverLayer(drv, id)
	}
	if _, err := s.store.Container(id); err != nil {
		return nil
	}
	if err := s.unmountStorageContainer(id, true); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return err
	}
	err = s.store.DeleteContainer(id)
	if err == nil || errors.Is(err, storage.ErrNotAContainer) || errors.Is(err, storage.ErrContainerUnknown) {
		return nil
	}
	return fmt.Errorf("deleting container layer %s: %w", id, err)
}

// ContainerExists reports whether a storage container with this ID (or
// name) exists.
func (s *Store) ContainerExists(id string) bool {
	if drv, err := s.driver(); err == nil && s.isDriverLayer(drv, id) {
		return true
	}
	_, err := s.store.Container(id)
	return err == nil
}

// notAContainer classes storage's "unknown container/layer" as not found.
func notAContainer(err error) error {
	if errors.Is(err, storage.ErrContainerUnknown) || errors.Is(err, storage.ErrLayerUnknown) ||
		errors.Is(err, storage.ErrNotAContainer) {
		return fmt.Errorf("%w: %w", err, errdefs.ErrNotFound)
	}
	return err
}
