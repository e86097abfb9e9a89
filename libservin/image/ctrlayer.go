package image

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.podman.io/storage"
	drivers "go.podman.io/storage/drivers"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/mount"
	"golang.org/x/sys/unix"
)

// Container layers. A container's read-write layer is made by the graph
// driver directly, named after the container's ID, and is not recorded in
// storage's layers.json, containers.json or mountpoints.json: servin's
// database already records which containers exist and which image each
// one is made from. Storage rewrites (and fsyncs) those whole JSON files
// on every create, mount, unmount and delete, so with N containers each
// of those costs O(N), and creating or removing many containers costs
// O(N²); driver layers cost the same whatever the number of containers.
//
// What storage's records did, servin does here:
//   - Mount counts: a file per mounted layer under RunRoot/servin-mounts
//     holds how many mounts are outstanding (a container's own, `servin
//     mount`s, copies); the layer is unmounted when it drops to zero.
//     RunRoot is normally a tmpfs, which forgets them with the mounts.
//   - Images in use: an image's layers must outlive the containers made
//     from it. Image removal asks the database (Remove, Prune), and the
//     layers lock (below) orders it against container creation.
//   - Shutdown: storage unmounts the driver's home when it knows of no
//     mounted layer; it is only asked to when no driver layer is mounted
//     either.
//
// The layers lock, an flock on GRAPHROOT/servin-layers.lock, is taken
// shared to create a layer and exclusively to mount, unmount, remove
// images and shut down.
//
// Containers whose layer needs ID mappings (user namespaces) still get a
// storage container, as do containers made by older versions: every method
// checks for a driver layer first, a directory named after the container
// ID (storage's container layers have IDs of their own).

const (
	layersLockName = "servin-layers.lock"
	mountsDirName  = "servin-mounts"
)

// layersLock takes the layers lock; the returned func releases it.
func (s *Store) layersLock(exclusive bool) (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.graphRoot, layersLockName), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, os.NewSyscallError("flock", err)
	}
	return func() { f.Close() }, nil
}

// driver returns the graph driver, reloaded first if another process
// changed it (a shutdown unmounted its home, for one).
func (s *Store) driver() (drivers.Driver, error) {
	return s.store.GraphDriver()
}

// isDriverLayer reports whether container id's layer is a driver layer.
func (s *Store) isDriverLayer(drv drivers.Driver, id string) bool {
	return drv.Exists(id)
}

// createDriverLayer makes container id's read-write layer on top of the
// image's top layer. The caller holds the layers lock (shared).
func (s *Store) createDriverLayer(drv drivers.Driver, id, topLayer string) error {
	if err := drv.CreateReadWrite(id, topLayer, &drivers.CreateOpts{}); err != nil {
		_ = drv.Remove(id)
		return err
	}
	return nil
}

func (s *Store) mountCountPath(id string) string {
	return filepath.Join(s.store.RunRoot(), mountsDirName, id)
}

func (s *Store) mountCount(id string) int {
	data, err := os.ReadFile(s.mountCountPath(id))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return max(n, 0)
}

func (s *Store) setMountCount(id string, n int) error {
	p := s.mountCountPath(id)
	if n <= 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(strconv.Itoa(n)+"\n"), 0o600)
}

// mountDriverLayer mounts container id's driver layer (again) and counts
// the mount. The caller holds the layers lock (exclusive).
func (s *Store) mountDriverLayer(drv drivers.Driver, id string, o MountOptions) (string, error) {
	p, err := drv.Get(id, drivers.MountOpts{Volatile: o.Volatile})
	if err != nil {
		return "", err
	}
	if err := s.setMountCount(id, s.mountCount(id)+1); err != nil {
		s.releaseDriverMount(drv, id)
		return "", err
	}
	return p, nil
}

// unmountDriverLayer drops one mount of container id's driver layer (all
// with force), unmounting it when none is left. The caller holds the
// layers lock (exclusive).
func (s *Store) unmountDriverLayer(drv drivers.Driver, id string, force bool) error {
	n := s.mountCount(id)
	if n == 0 {
		if force && s.driverLayerMounted(drv, id) {
			return s.releaseDriverMount(drv, id) // mounted, uncounted
		}
		return nil
	}
	if force {
		n = 0
	} else {
		n--
	}
	if err := s.setMountCount(id, n); err != nil {
		return err
	}
	if n == 0 {
		return s.releaseDriverMount(drv, id)
	}
	return nil
}

// releaseDriverMount unmounts container id's layer. The driver counts
// the mounts this process made (and one for a mount it found): it lets go
// of the mount when the count it keeps reaches zero.
func (s *Store) releaseDriverMount(drv drivers.Driver, id string) error {
	merged := ""
	if md, err := drv.Metadata(id); err == nil {
		merged = md["MergedDir"]
	}
	for range 64 {
		if err := drv.Put(id); err != nil {
			return fmt.Errorf("unmounting container layer %s: %w", id, err)
		}
		if merged == "" {
			return nil // not a mounting driver (vfs)
		}
		if m, err := mount.Mounted(merged); err != nil || !m {
			return nil
		}
	}
	if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
		return fmt.Errorf("unmounting container layer %s: %w", id, err)
	}
	return nil
}

// driverLayerMounted reports whether container id's layer is mounted.
func (s *Store) driverLayerMounted(drv drivers.Driver, id string) bool {
	md, err := drv.Metadata(id)
	if err != nil || md["MergedDir"] == "" {
		return false
	}
	m, err := mount.Mounted(md["MergedDir"])
	return err == nil && m
}

// deleteDriverLayer unmounts and removes container id's driver layer.
func (s *Store) deleteDriverLayer(drv drivers.Driver, id string) error {
	unlock, err := s.layersLock(true)
	if err != nil {
		return err
	}
	if drv, err = s.driver(); err == nil { // again under the lock
		err = s.unmountDriverLayer(drv, id, true)
	}
	unlock()
	if err != nil {
		return err
	}
	if err := drv.Remove(id); err != nil {
		return fmt.Errorf("deleting container layer %s: %w", id, err)
	}
	return nil
}

// anyDriverLayerMounted reports whether a driver layer's mount count is
// not zero. The caller holds the layers lock.
func (s *Store) anyDriverLayerMounted() bool {
	entries, err := os.ReadDir(filepath.Join(s.store.RunRoot(), mountsDirName))
	return err == nil && len(entries) > 0
}

// unmountAllDriverLayers unmounts every mounted driver layer (a forced
// shutdown).
func (s *Store) unmountAllDriverLayers() {
	unlock, err := s.layersLock(true)
	if err != nil {
		return
	}
	defer unlock()
	entries, err := os.ReadDir(filepath.Join(s.store.RunRoot(), mountsDirName))
	if err != nil {
		return
	}
	drv, err := s.driver()
	if err != nil {
		return
	}
	for _, e := range entries {
		if drv.Exists(e.Name()) {
			_ = s.unmountDriverLayer(drv, e.Name(), true)
		} else {
			_ = s.setMountCount(e.Name(), 0)
		}
	}
}

// driverLayerOn reports whether container id's layer is a driver layer
// and, if so, the layer it was made on: the top layer of its image
// (imageID). ok is false for a storage container.
func (s *Store) driverLayerOn(id, imageID string) (drv drivers.Driver, parent string, ok bool, err error) {
	if drv, err = s.driver(); err != nil || !s.isDriverLayer(drv, id) {
		return drv, "", false, err
	}
	if imageID != "" {
		img, err := s.store.Image(imageID)
		if err != nil {
			return nil, "", false, fmt.Errorf("image %s of the container: %w", imageID, err)
		}
		parent = img.TopLayer
	}
	return drv, parent, true, nil
}

// storageLayer is the layer of storage container id.
func (s *Store) storageLayer(id string) (string, error) {
	ctr, err := s.store.Container(id)
	if err != nil {
		return "", notAContainer(err)
	}
	return ctr.LayerID, nil
}

// containerDiff is the uncompressed tar of what container id changed on
// top of its image.
func (s *Store) containerDiff(id, imageID string) (io.ReadCloser, error) {
	drv, parent, ok, err := s.driverLayerOn(id, imageID)
	if err != nil {
		return nil, err
	}
	if ok {
		return drv.Diff(id, nil, parent, nil, "")
	}
	layer, err := s.storageLayer(id)
	if err != nil {
		return nil, err
	}
	return s.store.Diff("", layer, &storage.DiffOptions{Compression: ptr(archive.Uncompressed)})
}

// ContainerChanges lists what container id (made from image imageID)
// changed on top of its image.
func (s *Store) ContainerChanges(id, imageID string) ([]archive.Change, error) {
	drv, parent, ok, err := s.driverLayerOn(id, imageID)
	if err != nil {
		return nil, err
	}
	if ok {
		return drv.Changes(id, nil, parent, nil, "")
	}
	layer, err := s.storageLayer(id)
	if err != nil {
		return nil, err
	}
	return s.store.Changes("", layer)
}

// ContainerSize is the size of what container id (made from image
// imageID) wrote to its layer.
func (s *Store) ContainerSize(id, imageID string) (int64, error) {
	drv, parent, ok, err := s.driverLayerOn(id, imageID)
	if err != nil {
		return 0, err
	}
	if ok {
		return drv.DiffSize(id, nil, parent, nil, "")
	}
	return s.store.ContainerSize(id)
}

// ContainerMount reports how many mounts of container id's root
// filesystem are outstanding and where it is mounted.
func (s *Store) ContainerMount(id string) (count int, path string, err error) {
	drv, err := s.driver()
	if err != nil {
		return 0, "", err
	}
	if s.isDriverLayer(drv, id) {
		n := s.mountCount(id)
		if n > 0 {
			if md, err := drv.Metadata(id); err == nil {
				path = md["MergedDir"]
			}
		}
		return n, path, nil
	}
	n, err := s.store.Mounted(id)
	if err != nil || n == 0 {
		return 0, "", notAContainer(err)
	}
	ctr, err := s.store.Container(id)
	if err != nil {
		return 0, "", notAContainer(err)
	}
	l, err := s.store.Layer(ctr.LayerID)
	if err != nil {
		return 0, "", notAContainer(err)
	}
	return n, l.MountPoint, nil
}
