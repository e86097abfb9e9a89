package libservin

// Storage housekeeping: what images, containers and volumes take on disk
// (system df) and removing what nothing uses (system prune).

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"
	"time"

	"github.com/servin/servin/libservin/errdefs"
)

// ImageUsage is one image in DiskUsage.
type ImageUsage struct {
	ID         string
	Names      []string
	Created    time.Time
	Size       int64
	Containers int // containers created from the image
}

// ContainerUsage is one container in DiskUsage.
type ContainerUsage struct {
	ID      string
	Name    string
	Image   string // its name
	ImageID string
	Command []string
	Created time.Time
	Status  string
	Running bool
	Size    int64 // the container's writable layer
	Volumes int   // volumes it mounts
}

// VolumeUsage is one volume in DiskUsage.
type VolumeUsage struct {
	Name  string
	Links int // containers using it
	Size  int64
}

// DiskUsage is `system df`.
type DiskUsage struct {
	Images     []ImageUsage
	Containers []ContainerUsage
	Volumes    []VolumeUsage
}

// DiskUsage measures what servin's images, containers and volumes take.
func (r *Runtime) DiskUsage(ctx context.Context) (*DiskUsage, error) {
	store, err := r.Store()
	if err != nil {
		return nil, err
	}
	ctrs, err := r.Containers(ctx)
	if err != nil {
		return nil, err
	}
	imgs, err := store.Images(ctx)
	if err != nil {
		return nil, err
	}
	vols, err := r.Volumes(ctx)
	if err != nil {
		return nil, err
	}
	du := &DiskUsage{}
	users := map[string]int{}
	for _, c := range ctrs {
		users[c.ImageID]++
		size, _ := store.ContainerSize(c.ID, c.ImageID)
		du.Containers = append(du.Containers, ContainerUsage{
			ID: c.ID, Name: c.Name, Image: c.ImageName, ImageID: c.ImageID, Command: c.Config.Args(), Created: c.Created,
			Status: c.State.Status, Running: c.Running(), Size: max(size, 0), Volumes: len(volumeNames(c.Config.Mounts)),
		})
	}
	for _, img := range imgs {
		du.Images = append(du.Images, ImageUsage{ID: img.ID, Names: img.Names, Created: img.Created, Size: img.Size, Containers: users[img.ID]})
	}
	for _, v := range vols {
		size, _ := dirSize(v.Mountpoint)
		du.Volumes = append(du.Volumes, VolumeUsage{Name: v.Name, Links: v.Containers, Size: size})
	}
	return du, nil
}

// dirSize adds up the sizes of the files below dir, counting hard-linked
// files once and never following symlinks.
func dirSize(dir string) (int64, error) {
	type ino struct{ dev, ino uint64 }
	seen := map[ino]bool{}
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 && !fi.IsDir() {
			k := ino{uint64(st.Dev), st.Ino}
			if seen[k] {
				return nil
			}
			seen[k] = true
		}
		if fi.Mode().IsRegular() {
			total += fi.Size()
		}
		return nil
	})
	return total, err
}

// SystemPruneOptions control SystemPrune.
type SystemPruneOptions struct {
	All     bool // remove every image no container uses, not only dangling ones
	Volumes bool // remove the volumes no container uses
}

// SystemPruneReport is what SystemPrune removed.
type SystemPruneReport struct {
	Containers []string
	Images     []string
	Volumes    []string
	Networks   []string // network.go
	Reclaimed  int64    // bytes
}

// SystemPrune removes stopped containers, then dangling (with All: all
// unused) images, then (with Volumes) unused volumes.
func (r *Runtime) SystemPrune(ctx context.Context, o SystemPruneOptions) (*SystemPruneReport, error) {
	rep := &SystemPruneReport{}
	var errs []error
	store, err := r.Store()
	if err != nil {
		return nil, err
	}
	sizes := map[string]int64{}
	if ctrs, err := r.Containers(ctx); err == nil {
		for _, c := range ctrs {
			if !c.Running() {
				sizes[c.ID], _ = store.ContainerSize(c.ID, c.ImageID)
			}
		}
	}
	ids, err := r.Prune(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	rep.Containers = ids
	for _, id := range ids {
		rep.Reclaimed += max(sizes[id], 0)
	}
	if rep.Networks, err = r.PruneNetworks(ctx, nil); err != nil { // network.go
		errs = append(errs, err)
	}
	imgs, err := store.Images(ctx)
	if err != nil {
		return rep, err
	}
	for _, img := range imgs {
		if len(img.Names) > 0 && !o.All {
			continue
		}
		users, err := r.db.ContainersUsingImage(ctx, img.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(users) > 0 {
			continue
		}
		_, deleted, err := r.RemoveImage(ctx, img.ID, false)
		if err != nil {
			if !errors.Is(err, errdefs.ErrNotFound) && !errors.Is(err, errdefs.ErrInUse) && !errors.Is(err, errdefs.ErrFailedPrecondition) {
				errs = append(errs, err)
			}
			continue
		}
		if len(deleted) > 0 {
			rep.Images = append(rep.Images, img.ID)
			rep.Reclaimed += img.Size
		}
	}
	if o.Volumes {
		vols, err := r.PruneVolumes(ctx, nil)
		if err != nil {
			errs = append(errs, err)
		}
		for _, v := range vols {
			rep.Volumes = append(rep.Volumes, v.Name)
			rep.Reclaimed += v.Size
		}
	}
	return rep, errors.Join(errs...)
}
