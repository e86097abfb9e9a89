package libservin

import (
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/servin/servin/libservin/errdefs"
)

// checkWorkdir refuses to start a container whose --workdir exists neither
// in its root filesystem nor among its mounts, as podman does (exit 126):
// a mistyped --workdir is not silently created.
func checkWorkdir(c *Container, rootfs string) error {
	wd := c.Config.WorkingDir
	if !c.Config.UserWorkdir || wd == "" || rootfs == "" {
		return nil
	}
	wd = filepath.Clean("/" + wd)
	for _, m := range c.Config.Mounts {
		d := filepath.Clean(m.Destination)
		// At or below a mount, or above one (the mount point is made).
		if wd == d || strings.HasPrefix(wd, d+"/") || strings.HasPrefix(d, wd+"/") {
			return nil
		}
	}
	p, err := securejoin.SecureJoin(rootfs, wd)
	if err == nil {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return nil
		}
	}
	return errdefs.Worded(errdefs.ErrCannotInvoke, "workdir %q does not exist on container %s", wd, c.ID)
}
