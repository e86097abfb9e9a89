package libservin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	units "github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
)

// ParseSignal accepts "TERM", "SIGTERM", "sigterm" or "15".
func ParseSignal(s string) (syscall.Signal, error) {
	// "-HUP" and "-1" are HUP and 1, as for kill(1). Messages are podman's.
	s = strings.TrimPrefix(s, "-")
	if n, err := strconv.Atoi(s); err == nil {
		if n == 0 {
			return 0, errdefs.Worded(errdefs.ErrInvalidArgument, "invalid signal: %s", s)
		}
		if n < 0 || n > 64 {
			return 0, errdefs.Worded(errdefs.ErrInvalidArgument, "valid signals are 1 through 64")
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if strings.HasPrefix(name, "SIGRTMIN+") || strings.HasPrefix(name, "SIGRTMAX-") {
		off, err := strconv.Atoi(name[9:])
		if err == nil {
			if name[6] == 'I' {
				return syscall.Signal(34 + off), nil
			}
			return syscall.Signal(64 - off), nil
		}
	}
	return 0, errdefs.Worded(errdefs.ErrInvalidArgument, "invalid signal: %s", s)
}

// ParseSize parses "10k", "10MB", "1g" (binary units, as docker does).
// The empty string is 0.
func ParseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := units.RAMInBytes(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q: %w", s, errdefs.ErrInvalidArgument)
	}
	return n, nil
}

func bindMount(src, dst string, ro bool) specs.Mount {
	opts := []string{"rbind", "rprivate"}
	if ro {
		opts = append(opts, "ro")
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
}

// writeEtcFiles writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf into its run dir and returns the bind mounts for them.
func (r *Runtime) writeEtcFiles(c *Container, runDir string) ([]specs.Mount, error) {
	var mounts []specs.Mount
	hostname := c.Config.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	hosts, resolv, noHosts := r.netEtc(context.Background(), c, hostname) // network.go
	shared := r.sharedEtcDir(c)
	files := []struct{ name, content, dst string }{
		{"hostname", hostname + "\n", "/etc/hostname"},
		{"hosts", hosts, "/etc/hosts"},
		{"resolv.conf", resolv, "/etc/resolv.conf"},
	}
	for _, f := range files {
		if f.name == "hosts" && noHosts || f.name == "hostname" && c.Config.NoHostname {
			continue // --no-hosts, --no-hostname: the image's own file
		}
		p := filepath.Join(runDir, f.name)
		if shared != "" && f.name != "hostname" {
			// --network container:NAME sees that container's files.
			if _, err := os.Stat(filepath.Join(shared, f.name)); err == nil {
				mounts = append(mounts, bindMount(filepath.Join(shared, f.name), f.dst, c.Config.ReadOnly))
				continue
			}
		}
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			return nil, err
		}
		if err := r.chownToContainerRoot(c, p); err != nil {
			return nil, err
		}
		mounts = append(mounts, bindMount(p, f.dst, c.Config.ReadOnly))
	}
	tzMounts, err := r.timezoneMount(c, c.State.Mountpoint, runDir) // timezone.go
	if err != nil {
		return nil, err
	}
	mounts = append(mounts, tzMounts...)
	if m, ok, err := r.writeContainerEnv(c, runDir); err != nil {
		return nil, err
	} else if ok {
		mounts = append(mounts, m)
	}
	return mounts, nil
}

// chownToContainerRoot gives a file servin writes for a container with a
// user namespace to the container's root, so that it is root's in there
// too rather than nobody's.
func (r *Runtime) chownToContainerRoot(c *Container, p string) error {
	if c.Config.Security.UserNS.Mode == "" {
		return nil
	}
	uid, gid := r.hostIDs(c.ID, 0, 0) // mountstart.go
	if uid == 0 && gid == 0 {
		return nil
	}
	return os.Lchown(p, uid, gid)
}

// writeContainerEnv writes /run/.containerenv, the file by which programs
// learn they run in a container (as under podman): empty, except for a
// privileged container, which may learn its engine, name and image. A
// bind mount of the user's on /run hides nothing: no file is added there.
func (r *Runtime) writeContainerEnv(c *Container, runDir string) (specs.Mount, bool, error) {
	for _, m := range c.Config.Mounts {
		if filepath.Clean(m.Destination) == "/run" && m.Type != "tmpfs" {
			return specs.Mount{}, false, nil
		}
	}
	var content string
	if c.Config.Security.Privileged {
		rootless := 0
		if os.Geteuid() != 0 {
			rootless = 1
		}
		content = fmt.Sprintf("engine=%q\nname=%q\nid=%q\nimage=%q\nimageid=%q\nrootless=%d\n",
			"servin-"+r.opts.Version, c.Name, c.ID, c.ImageName, c.ImageID, rootless)
	}
	p := filepath.Join(runDir, ".containerenv")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		return specs.Mount{}, false, err
	}
	if err := r.chownToContainerRoot(c, p); err != nil {
		return specs.Mount{}, false, err
	}
	return bindMount(p, "/run/.containerenv", true), true, nil
}
