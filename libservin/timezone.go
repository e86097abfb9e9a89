package libservin

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/servin/servin/libservin/errdefs"
)

// zoneinfoDir is where the host's time zone files live.
const zoneinfoDir = "/usr/share/zoneinfo"

// checkTimezone validates --tz: "local" (the host's /etc/localtime) or a
// zone the host's zoneinfo has, such as "Europe/Berlin". "" is the image's.
func checkTimezone(tz string) (string, error) {
	if tz == "" || tz == "local" {
		return tz, nil
	}
	if _, err := zoneFile(tz); err != nil {
		return "", err
	}
	return tz, nil
}

// zoneFile resolves a --tz value to the host file holding that zone.
func zoneFile(tz string) (string, error) {
	if tz == "local" {
		p, err := filepath.EvalSymlinks("/etc/localtime")
		if err != nil {
			return "", fmt.Errorf("finding the host's time zone: %w: %w", err, errdefs.ErrInvalidArgument)
		}
		return p, nil
	}
	clean := filepath.Clean("/" + tz)
	if strings.Contains(tz, "..") || clean == "/" {
		return "", fmt.Errorf("finding timezone: unknown time zone %s: %w", tz, errdefs.ErrInvalidArgument)
	}
	p := filepath.Join(zoneinfoDir, clean)
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("finding timezone: unknown time zone %s: %w", tz, errdefs.ErrInvalidArgument)
	}
	return p, nil
}

// timezoneMount gives a --tz container its /etc/localtime. When the image
// has the zone in its own zoneinfo, /etc/localtime becomes a link to it
// (as on a normal system); otherwise the host's zone file is copied into
// the container's run dir and bind mounted.
func (r *Runtime) timezoneMount(c *Container, rootfs, runDir string) ([]specs.Mount, error) {
	tz := c.Config.Timezone
	if tz == "" {
		return nil, nil
	}
	if tz != "local" && linkImageZone(rootfs, tz) {
		return nil, nil
	}
	src, err := zoneFile(tz)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("reading time zone %s: %w", tz, err)
	}
	p := filepath.Join(runDir, "localtime")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return nil, err
	}
	return []specs.Mount{bindMount(p, "/etc/localtime", true)}, nil
}

// linkImageZone points the rootfs's /etc/localtime at the image's own
// zoneinfo file for tz, when the image has one.
func linkImageZone(rootfs, tz string) bool {
	rel := filepath.Join("../usr/share/zoneinfo", filepath.Clean("/"+tz))
	if st, err := os.Stat(filepath.Join(rootfs, "usr/share/zoneinfo", filepath.Clean("/"+tz))); err != nil || !st.Mode().IsRegular() {
		return false
	}
	etc := filepath.Join(rootfs, "etc")
	if st, err := os.Lstat(etc); err != nil || !st.IsDir() {
		return false
	}
	lt := filepath.Join(etc, "localtime")
	_ = os.Remove(lt)
	return os.Symlink(rel, lt) == nil
}
