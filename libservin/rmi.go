package libservin

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/servin/servin/libservin/errdefs"
)

// RemoveImageOf is --rmi's second half: once a container run with --rm
// --rmi is gone, its image goes too. An image that another container uses,
// or that is already gone, stays as it is: the error says why (in use) or
// is nil (not found).
func (r *Runtime) RemoveImageOf(ctx context.Context, c *Container) error {
	if !c.Config.AutoRemoveImage {
		return nil
	}
	// By name, as the user gave it: an image with other names keeps them.
	ref := firstNonEmpty(c.ImageName, c.ImageID)
	if ref == "" {
		return nil
	}
	_, _, err := r.RemoveImage(ctx, ref, false)
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	return err
}

// removeCIDFile removes a removed container's --cidfile, when it still
// holds that container's ID (as podman does).
func removeCIDFile(c *Container) {
	p := c.Config.CIDFile
	if p == "" {
		return
	}
	if data, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(data)) == c.ID {
		_ = os.Remove(p)
	}
}
