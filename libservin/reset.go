package libservin

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/network"
)

// Reset removes everything servin keeps (system reset): every container
// (killed first), volume, network but the default, secret and image, then
// the contents of the root and run root directories, the database
// included. The runtime is unusable afterwards: the caller exits.
func (r *Runtime) Reset(ctx context.Context) error {
	var errs []error
	zero := uint(0)
	ctrs, err := r.Containers(ctx)
	errs = append(errs, err)
	for _, c := range ctrs {
		_, err := r.Remove(ctx, c.ID, RemoveOptions{Force: true, Timeout: &zero, Volumes: true})
		errs = append(errs, ignoreNotFound(err))
	}
	if vols, err := r.Volumes(ctx); err == nil {
		for _, v := range vols {
			_, err := r.RemoveVolume(ctx, v.Name, VolumeRemoveOptions{Force: true, Timeout: &zero})
			errs = append(errs, ignoreNotFound(err))
		}
	} else {
		errs = append(errs, err)
	}
	if nets, err := r.Networks(ctx); err == nil {
		for _, n := range nets {
			if n.Name != network.DefaultName {
				_, err := r.RemoveNetwork(ctx, n.Name, true, &zero)
				errs = append(errs, ignoreNotFound(err))
			}
		}
	} else {
		errs = append(errs, err)
	}
	if secrets, err := r.Secrets(ctx); err == nil {
		for _, s := range secrets {
			_, err := r.RemoveSecret(ctx, s.ID)
			errs = append(errs, ignoreNotFound(err))
		}
	} else {
		errs = append(errs, err)
	}
	if imgs, err := r.Images(ctx); err == nil {
		for _, img := range imgs {
			_, _, err := r.RemoveImage(ctx, img.ID, true)
			errs = append(errs, ignoreNotFound(err))
		}
	} else {
		errs = append(errs, err)
	}
	// Then the directories themselves: storage, database, run state.
	if r.store != nil {
		r.store.Shutdown(true)
		r.store = nil
	}
	errs = append(errs, r.db.Close())
	for _, dir := range []string{r.opts.Root, r.opts.RunRoot} {
		errs = append(errs, removeContents(dir))
	}
	return errors.Join(errs...)
}

func ignoreNotFound(err error) error {
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	return err
}

// removeContents empties dir, leaving dir itself (it may be a mount).
func removeContents(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
	}
	return errors.Join(errs...)
}
