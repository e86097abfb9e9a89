package libservin

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/servin/servin/libservin/errdefs"
)

// Files a container keeps beside its state: --rmi, --cidfile and
// --conmon-pidfile.

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

// writeMonitorPidFile writes the PID of a starting container's monitor
// (podman's conmon) to its --conmon-pidfile, for service managers.
func writeMonitorPidFile(c *Container) {
	if p := c.Config.MonitorPidFile; p != "" && c.State.MonitorPid > 0 {
		_ = os.WriteFile(p, []byte(strconv.Itoa(c.State.MonitorPid)), 0o644)
	}
}
