//go:build linux

package volume

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/moby/sys/mountinfo"
	"go.podman.io/storage/pkg/mount"
	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
)

// Local is the "local" driver. Each volume is a directory,
// <dir>/<name>/_data. With docker's options it is instead a mountpoint:
//
//	-o type=tmpfs [-o device=tmpfs] [-o o=size=64m,uid=1000]
//	-o type=none -o device=/host/dir -o o=bind
//	-o type=ext4 -o device=/dev/sdb1 [-o o=noatime]
//
// The filesystem is mounted when a container using the volume starts and
// unmounted when the last one stops. Without a type, -o o=uid=N,gid=N
// sets the owner of the data directory.
type Local struct {
	dir string
}

// NewLocal returns the local driver keeping volumes under dir
// (<root>/volumes).
func NewLocal(dir string) *Local { return &Local{dir: dir} }

// Name implements Driver.
func (l *Local) Name() string { return "local" }

// Scope implements Driver.
func (l *Local) Scope() string { return "local" }

// Dir is the directory holding all volumes of the driver.
func (l *Local) Dir() string { return l.dir }

// localOptions are the driver options as parsed by parseLocalOptions.
type localOptions struct {
	fsType string // "" for a plain directory
	device string
	opts   string // the mount options (o=), uid/gid removed for plain dirs
	uid    int    // -1: unchanged
	gid    int
}

func parseLocalOptions(o map[string]string) (*localOptions, error) {
	lo := &localOptions{uid: -1, gid: -1}
	for k, v := range o {
		switch k {
		case "type":
			lo.fsType = v
		case "device":
			lo.device = v
		case "o":
			lo.opts = v
		case "copy", "nocopy":
			// Whether image content is copied up: the runtime's business.
		default:
			return nil, invalidOpt("invalid option %q for the local volume driver (supported: type, device, o, copy, nocopy)", k)
		}
	}
	if lo.fsType == "" {
		if lo.device != "" {
			return nil, invalidOpt("option device=%s needs type= (for a bind mount: -o type=none -o o=bind)", lo.device)
		}
		return lo, lo.parsePlainOpts()
	}
	if lo.fsType == "bind" {
		// podman's spelling of type=none,o=bind.
		if _, err := os.Stat(lo.device); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "invalid volume option device for driver 'local': faccessat %s: %v", lo.device, err)
		}
		lo.fsType = "none"
		if !hasOpt(lo.opts, "bind") && !hasOpt(lo.opts, "rbind") {
			lo.opts = strings.TrimSuffix("bind,"+lo.opts, ",")
		}
	}
	switch lo.fsType {
	case "tmpfs":
		if lo.device == "" {
			lo.device = "tmpfs"
		}
		if _, _, err := mount.ParseTmpfsOptions(lo.opts); err != nil {
			return nil, invalidOpt("invalid tmpfs options %q: %v", lo.opts, err)
		}
	case "none":
		if !hasOpt(lo.opts, "bind") && !hasOpt(lo.opts, "rbind") {
			return nil, invalidOpt("type=none needs o=bind or o=rbind")
		}
		if !filepath.IsAbs(lo.device) {
			return nil, invalidOpt("device=%q must be an absolute path of a host directory for a bind mount", lo.device)
		}
		if st, err := os.Stat(lo.device); err != nil || !st.IsDir() {
			return nil, invalidOpt("bind device %s is not an existing directory", lo.device)
		}
	default:
		if lo.device == "" {
			return nil, invalidOpt("type=%s needs device=", lo.fsType)
		}
	}
	return lo, nil
}

// parsePlainOpts accepts o=uid=N,gid=N[,noquota] for a plain directory.
func (lo *localOptions) parsePlainOpts() error {
	if lo.opts == "" {
		return nil
	}
	for _, f := range strings.Split(lo.opts, ",") {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "uid", "gid":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return invalidOpt("invalid %s=%q", k, v)
			}
			if k == "uid" {
				lo.uid = n
			} else {
				lo.gid = n
			}
		case "noquota", "nocopy", "copy":
		case "size", "inodes":
			return invalidOpt("o=%s needs a filesystem with quota support; use -o type=tmpfs -o o=size=... for a size-limited volume", k)
		default:
			return invalidOpt("invalid mount option %q for a volume without type= (supported: uid, gid)", f)
		}
	}
	return nil
}

func hasOpt(opts, want string) bool {
	for _, f := range strings.Split(opts, ",") {
		if f == want {
			return true
		}
	}
	return false
}

func invalidOpt(format string, a ...any) error {
	return fmt.Errorf(format+": %w", append(a, errdefs.ErrInvalidArgument)...)
}

func (l *Local) path(name string) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	return filepath.Join(l.dir, name), nil
}

// volumeDir is the directory of an existing volume: where its recorded
// mountpoint (DIR/_data) says, so that a volume made under another
// volumes directory (--volumepath) is still found; else under l.dir.
func (l *Local) volumeDir(v *Volume) (string, error) {
	if err := ValidName(v.Name); err != nil {
		return "", err
	}
	if v.Mountpoint != "" && filepath.Base(v.Mountpoint) == "_data" && filepath.Base(filepath.Dir(v.Mountpoint)) == v.Name {
		return filepath.Dir(v.Mountpoint), nil
	}
	return l.path(v.Name)
}

// Create implements Driver.
func (l *Local) Create(ctx context.Context, v *Volume) error {
	lo, err := parseLocalOptions(v.Options)
	if err != nil {
		return err
	}
	dir, err := l.path(v.Name)
	if err != nil {
		return err
	}
	// Only root may look inside the volumes directory; containers see
	// _data itself, bind-mounted.
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data := filepath.Join(dir, "_data")
	if err := os.Mkdir(data, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if lo.uid >= 0 || lo.gid >= 0 {
		if err := os.Lchown(data, lo.uid, lo.gid); err != nil {
			return err
		}
	}
	v.Mountpoint = data
	return nil
}

// Remove implements Driver. It refuses to delete a directory that is still
// a mountpoint: that would delete the content of a bound host directory.
func (l *Local) Remove(ctx context.Context, v *Volume) error {
	dir, err := l.volumeDir(v)
	if err != nil {
		return err
	}
	data := filepath.Join(dir, "_data")
	if err := l.unmount(data); err != nil {
		return fmt.Errorf("removing volume %s: %w", v.Name, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing volume %s: %w", v.Name, err)
	}
	return nil
}

// Mount implements Driver.
func (l *Local) Mount(ctx context.Context, v *Volume, containerID string) (string, error) {
	lo, err := parseLocalOptions(v.Options)
	if err != nil {
		return "", err
	}
	dir, err := l.volumeDir(v)
	if err != nil {
		return "", err
	}
	data := filepath.Join(dir, "_data")
	if lo.fsType == "" {
		return data, nil
	}
	if mounted, err := mountinfo.Mounted(data); err != nil {
		return "", err
	} else if mounted {
		return data, nil
	}
	fsType := lo.fsType
	if fsType == "none" {
		fsType = ""
	}
	if err := mount.Mount(lo.device, data, fsType, lo.opts); err != nil {
		return "", fmt.Errorf("mounting volume %s (type=%s device=%s o=%s): %w", v.Name, lo.fsType, lo.device, lo.opts, err)
	}
	return data, nil
}

// Unmount implements Driver.
func (l *Local) Unmount(ctx context.Context, v *Volume, containerID string) error {
	dir, err := l.volumeDir(v)
	if err != nil {
		return err
	}
	return l.unmount(filepath.Join(dir, "_data"))
}

// unmount unmounts data if it is a mountpoint, lazily when busy, and
// makes sure it is no longer one.
func (l *Local) unmount(data string) error {
	for range 8 {
		mounted, err := mountinfo.Mounted(data)
		if errors.Is(err, os.ErrNotExist) || (err == nil && !mounted) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := unix.Unmount(data, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			if err := unix.Unmount(data, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("unmounting %s: %w", data, err)
			}
		}
	}
	return fmt.Errorf("%s is still a mountpoint", data)
}
