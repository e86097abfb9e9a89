package libservin

// Start-time mounts: volumes mounted through their drivers (and filled
// with the image's content on first use), image layers mounted, U and z/Z
// applied, the result handed to the spec as mounts; and their release when
// the container stops. Also the inspect view of a container's mounts.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/selinux/go-selinux"
	"github.com/opencontainers/selinux/go-selinux/label"
	"go.podman.io/storage/pkg/idtools"
	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/internal/fscopy"
	"github.com/servin/servin/libservin/oci"
	"github.com/servin/servin/libservin/state"
	"github.com/servin/servin/libservin/volume"
)

// containerFileLabel is the SELinux label z/Z give a mount source.
const containerFileLabel = "system_u:object_r:container_file_t:s0"

// imageMountsFile lists, in the container's run dir, the images mounted
// for it, so that release unmounts exactly those.
const imageMountsFile = "image-mounts"

// prepareMounts returns the spec mounts of c's Mounts for one start.
// rootfs is c's mounted root filesystem; the caller holds c's lock.
func (r *Runtime) prepareMounts(ctx context.Context, c *Container, rootfs string) ([]specs.Mount, error) {
	if err := checkWorkdir(c, rootfs); err != nil { // workdir.go
		return nil, err
	}
	if len(c.Config.Mounts) == 0 {
		return nil, nil
	}
	users := &userCache{rootfs: rootfs, spec: c.Config.User, toHost: func(uid, gid uint32) (int, int) { return r.hostIDs(c.ID, uid, gid) }}
	out := make([]specs.Mount, 0, len(c.Config.Mounts))
	for i := range c.Config.Mounts {
		m := &c.Config.Mounts[i]
		var (
			src string
			err error
		)
		switch m.Type {
		case MountTypeBind:
			src = m.Source
			if _, err = os.Stat(src); err != nil {
				return nil, fmt.Errorf("bind mount %s:%s: %w", m.Source, m.Destination, err)
			}
			err = r.applySourceOptions(m, src, users)
		case MountTypeVolume:
			src, err = r.mountVolume(ctx, c, m, rootfs, users)
		case MountTypeImage:
			src, err = r.mountImage(c, m)
		case MountTypeTmpfs:
			out = append(out, specs.Mount{Type: "tmpfs", Source: "tmpfs", Destination: m.Destination, Options: m.tmpfsOptions()})
			continue
		case MountTypeRamfs:
			out = append(out, specs.Mount{Type: "ramfs", Source: "ramfs", Destination: m.Destination, Options: m.Options})
			continue
		default:
			err = fmt.Errorf("unknown mount type %q", m.Type)
		}
		if err != nil {
			return nil, err
		}
		if m.SubPath != "" {
			if src, err = subPath(src, m.SubPath); err != nil {
				return nil, fmt.Errorf("mount %s: %w", m.Destination, err)
			}
		}
		out = append(out, specs.Mount{Type: "bind", Source: src, Destination: m.Destination, Options: m.specOptions()})
	}
	return out, nil
}

// subPath resolves a --mount subpath inside the volume or image at root,
// symlinks included, without leaving it.
func subPath(root, sub string) (string, error) {
	p, err := securejoin.SecureJoin(root, sub)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("subpath %s: %w", sub, err)
	}
	return p, nil
}

// userCache resolves the container's user once, on demand (U, chown).
type userCache struct {
	rootfs, spec string
	toHost       func(uid, gid uint32) (int, int)
	u            *oci.ResolvedUser
	err          error
}

// owner is the container user's uid:gid as the host sees them.
func (uc *userCache) owner() (int, int, error) {
	if uc.u == nil && uc.err == nil {
		uc.u, uc.err = oci.ResolveUser(uc.rootfs, uc.spec, nil)
	}
	if uc.err != nil {
		return 0, 0, uc.err
	}
	uid, gid := uc.toHost(uc.u.UID, uc.u.GID)
	return uid, gid, nil
}

// hostIDs maps a container's uid:gid to the host's: they differ in a user
// namespace.
func (r *Runtime) hostIDs(id string, uid, gid uint32) (int, int) {
	store, err := r.Store()
	if err != nil {
		return int(uid), int(gid)
	}
	uids, gids, err := store.ContainerIDMaps(id)
	if err != nil || (len(uids) == 0 && len(gids) == 0) {
		return int(uid), int(gid)
	}
	p, err := idtools.NewIDMappingsFromMaps(uids, gids).ToHost(idtools.IDPair{UID: int(uid), GID: int(gid)})
	if err != nil {
		return int(uid), int(gid)
	}
	return p.UID, p.GID
}

// applySourceOptions relabels (z, Z) and chowns (U) a mount source.
func (r *Runtime) applySourceOptions(m *Mount, src string, users *userCache) error {
	if m.Relabel != "" && selinux.GetEnabled() {
		if isSystemDir(src) {
			return fmt.Errorf("relabeling %s is not allowed (a system directory): %w", src, errdefs.ErrInvalidArgument)
		}
		// servin runs containers without MCS categories, so Z labels like z.
		if err := label.Relabel(src, containerFileLabel, true); err != nil {
			return fmt.Errorf("relabeling %s: %w", src, err)
		}
	}
	if m.Chown {
		uid, gid, err := users.owner()
		if err != nil {
			return err
		}
		if err := chownTree(src, uid, gid); err != nil {
			return fmt.Errorf("chown of %s for the U option: %w", src, err)
		}
	}
	return nil
}

func isSystemDir(p string) bool {
	p = filepath.Clean(p)
	return slices.Contains([]string{"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/proc",
		"/root", "/run", "/sbin", "/sys", "/tmp", "/usr", "/var"}, p)
}

func chownTree(p string, uid, gid int) error {
	d, err := os.Open(p)
	if err != nil {
		return err
	}
	defer d.Close()
	st, err := d.Stat()
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return d.Chown(uid, gid)
	}
	return fscopy.ChownTree(d, uid, gid)
}

// mountVolume mounts a volume for c through its driver, copies the image's
// content into it on first use and returns its host path.
func (r *Runtime) mountVolume(ctx context.Context, c *Container, m *Mount, rootfs string, users *userCache) (string, error) {
	unlock, err := state.LockVolume(r.lockDir(), m.Source)
	if err != nil {
		return "", err
	}
	defer unlock()
	v, err := r.volumeExact(ctx, m.Source)
	if err != nil {
		return "", fmt.Errorf("volume of %s: %w", m.Destination, err)
	}
	drv, err := r.volumeRegistry().Get(v.Driver)
	if err != nil {
		return "", err
	}
	path, err := drv.Mount(ctx, &volume.Volume{Name: v.Name, Options: v.Options, Labels: v.Labels, Mountpoint: v.Mountpoint}, c.ID)
	if err != nil {
		return "", err
	}
	st := v.State
	if !slices.Contains(st.MountHolders, c.ID) {
		st.MountHolders = append(st.MountHolders, c.ID)
	}
	if st.NeedsCopyUp || st.NeedsChown {
		done, err := r.firstUse(path, m.Destination, rootfs, st.NeedsCopyUp && !m.NoCopy, st.NeedsChown, users)
		if err != nil {
			_ = r.db.SaveVolumeState(ctx, v.Name, st)
			return "", fmt.Errorf("volume %s: %w", v.Name, err)
		}
		if done {
			// Only once the image had something there to take from, as
			// podman: a later container may mount it where it has.
			st.NeedsCopyUp, st.NeedsChown = false, false
		}
	}
	if err := r.db.SaveVolumeState(ctx, v.Name, st); err != nil {
		return "", err
	}
	if err := r.applySourceOptions(m, path, users); err != nil {
		return "", err
	}
	return path, nil
}

// firstUse prepares a fresh volume for its first container, as docker
// does: the volume root takes the owner and mode of the destination in the
// image (or the container user's ownership when the image has none there)
// and, if the volume is empty, the image's content there is copied in.
func (r *Runtime) firstUse(path, dest, rootfs string, copyUp, chown bool, users *userCache) (done bool, err error) {
	dst, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer dst.Close()
	src, err := pathrs.OpenInRoot(rootfs, dest)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		if !chown {
			return false, nil
		}
		uid, gid, err := users.owner()
		if err != nil {
			return false, err
		}
		return false, dst.Chown(uid, gid)
	}
	if err != nil {
		return false, fmt.Errorf("looking up %s in the image: %w", dest, err)
	}
	defer src.Close()
	var sst unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &sst); err != nil {
		return false, err
	}
	if sst.Mode&unix.S_IFMT != unix.S_IFDIR {
		return false, nil
	}
	if srcEmpty, err := fscopy.IsEmptyDir(src); err == nil && srcEmpty {
		// Nothing to take from the image here but the directory's owner
		// and mode: a later container may still mount the volume where
		// the image has content, which it then takes.
		if chown || copyUp {
			if err := dst.Chown(int(sst.Uid), int(sst.Gid)); err != nil {
				return false, err
			}
			if err := unix.Fchmod(int(dst.Fd()), sst.Mode&0o7777); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	empty, err := fscopy.IsEmptyDir(dst)
	if err != nil {
		return false, err
	}
	if copyUp && empty {
		return true, fscopy.CopyContents(src, dst, fscopy.Options{})
	}
	if chown {
		if err := dst.Chown(int(sst.Uid), int(sst.Gid)); err != nil {
			return false, err
		}
		return true, unix.Fchmod(int(dst.Fd()), sst.Mode&0o7777)
	}
	return true, nil
}

// mountImage mounts an image's root filesystem (read-only layers) for c.
func (r *Runtime) mountImage(c *Container, m *Mount) (string, error) {
	store, err := r.Store()
	if err != nil {
		return "", err
	}
	var opts []string
	if m.ReadOnly {
		opts = []string{"ro"}
	}
	p, err := store.Storage().MountImage(m.Source, opts, "")
	if err != nil {
		return "", fmt.Errorf("mounting image %s: %w", firstNonEmpty(m.ImageName, m.Source), err)
	}
	f, err := os.OpenFile(filepath.Join(r.ctrRunDir(c.ID), imageMountsFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		_, _ = store.Storage().UnmountImage(m.Source, false)
		return "", err
	}
	defer f.Close()
	if _, err := fmt.Fprintln(f, m.Source); err != nil {
		return "", err
	}
	if m.ReadOnly {
		return p, nil
	}
	return r.writableImageMount(c, p)
}

// imageOverlaysDir holds the writable layers of rw image mounts.
const imageOverlaysDir = "image-overlays"

// writableImageMount puts a layer of the container's own over a mounted
// image (--mount type=image,rw=true): writes land there and are dropped
// with it when the container stops.
func (r *Runtime) writableImageMount(c *Container, lower string) (string, error) {
	base, err := os.MkdirTemp(filepath.Join(r.ctrRunDir(c.ID)), imageOverlaysDir+"-")
	if err != nil {
		return "", err
	}
	upper, work, merged := filepath.Join(base, "upper"), filepath.Join(base, "work"), filepath.Join(base, "merged")
	for _, d := range []string{upper, work, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", err
		}
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return "", fmt.Errorf("writable layer over image mount: %w", err)
	}
	return merged, nil
}

// unmountImageOverlays undoes writableImageMount for every rw image mount.
func (r *Runtime) unmountImageOverlays(c *Container) {
	dirs, _ := filepath.Glob(filepath.Join(r.ctrRunDir(c.ID), imageOverlaysDir+"-*"))
	for _, d := range dirs {
		merged := filepath.Join(d, "merged")
		if err := unix.Unmount(merged, 0); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			_ = unix.Unmount(merged, unix.MNT_DETACH)
		}
		_ = os.RemoveAll(d)
	}
}

// releaseMounts undoes prepareMounts: the container no longer holds its
// volumes' driver mounts nor its image mounts. Idempotent, like
// releaseRuntime, which calls it.
func (r *Runtime) releaseMounts(c *Container) {
	if len(c.Config.Mounts) == 0 {
		return
	}
	ctx := context.Background()
	for _, name := range volumeNames(c.Config.Mounts) {
		_ = r.unmountVolume(ctx, c.ID, name)
	}
	r.unmountImages(c)
}

func (r *Runtime) unmountImages(c *Container) {
	r.unmountImageOverlays(c) // before the images under them
	p := filepath.Join(r.ctrRunDir(c.ID), imageMountsFile)
	f, err := os.Open(p)
	if err != nil {
		return
	}
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			ids = append(ids, id)
		}
	}
	f.Close()
	_ = os.Remove(p)
	store, err := r.Store()
	if err != nil {
		return
	}
	for _, id := range ids {
		_, _ = store.Storage().UnmountImage(id, false)
	}
}

// unmountVolume drops container id from the volume's mount holders and
// unmounts it through its driver when none is left.
func (r *Runtime) unmountVolume(ctx context.Context, id, name string) error {
	v, err := r.volumeExact(ctx, name)
	if err != nil || !slices.Contains(v.State.MountHolders, id) {
		return err // the common case costs one read and no lock
	}
	unlock, err := state.LockVolume(r.lockDir(), name)
	if err != nil {
		return err
	}
	defer unlock()
	if v, err = r.volumeExact(ctx, name); err != nil {
		return err
	}
	st := v.State
	st.MountHolders = slices.DeleteFunc(st.MountHolders, func(h string) bool {
		if h == id {
			return true
		}
		// A holder that no longer exists (removed, crashed) holds nothing.
		_, err := r.db.GetContainer(ctx, h)
		return errors.Is(err, errdefs.ErrNotFound)
	})
	if len(st.MountHolders) == 0 {
		drv, err := r.volumeRegistry().Get(v.Driver)
		if err != nil {
			return err
		}
		if err := drv.Unmount(ctx, &volume.Volume{Name: v.Name, Options: v.Options, Labels: v.Labels, Mountpoint: v.Mountpoint}, id); err != nil {
			return err
		}
		st.MountHolders = nil
	}
	return r.db.SaveVolumeState(ctx, name, st)
}

// InspectMount is one entry of inspect's Mounts (podman's fields).
type InspectMount struct {
	Type        string   `json:"Type"`
	Name        string   `json:"Name,omitempty"`
	Source      string   `json:"Source"`
	Destination string   `json:"Destination"`
	Driver      string   `json:"Driver"`
	Mode        string   `json:"Mode"`
	Options     []string `json:"Options"`
	RW          bool     `json:"RW"`
	Propagation string   `json:"Propagation"`
	SubPath     string   `json:"SubPath,omitempty"`
}

// inspectMounts is the Mounts of inspect: where each mount's data is.
func (r *Runtime) inspectMounts(c *Container) []any {
	out := []any{}
	for _, m := range c.Config.Mounts {
		im := InspectMount{
			Type: m.Type, Source: m.Source, Destination: m.Destination, Mode: m.mode(),
			RW: !m.ReadOnly, Propagation: firstNonEmpty(m.Propagation, "rprivate"), SubPath: m.SubPath,
		}
		switch m.Type {
		case MountTypeVolume:
			im.Name = m.Source
			im.Options = m.specOptions()
			if v, err := r.volumeExact(context.Background(), m.Source); err == nil {
				im.Source, im.Driver = v.Mountpoint, v.Driver
			}
		case MountTypeBind:
			im.Options = m.specOptions()
		case MountTypeImage:
			// podman shows the image as it was asked for.
			im.Name = firstNonEmpty(m.ImageName, m.Source)
			im.Source = im.Name
			im.Options = m.specOptions()
		case MountTypeTmpfs:
			im.Source = "tmpfs"
			im.Options = m.tmpfsOptions()
			im.Propagation = ""
		}
		out = append(out, im)
	}
	return out
}

// inspectBinds is HostConfig.Binds: SOURCE:DEST:OPTIONS of volumes and binds.
func inspectBinds(c *Container) []string {
	out := []string{}
	for _, m := range c.Config.Mounts {
		if m.Type != MountTypeBind && m.Type != MountTypeVolume {
			continue
		}
		mode := "rw"
		if m.ReadOnly {
			mode = "ro"
		}
		opts := []string{mode}
		for _, o := range m.specOptions() {
			if o != "ro" && o != "rro" {
				opts = append(opts, o)
			}
		}
		out = append(out, m.Source+":"+m.Destination+":"+strings.Join(opts, ","))
	}
	return out
}

// inspectTmpfs is HostConfig.Tmpfs: destination -> options.
func inspectTmpfs(c *Container) map[string]string {
	out := map[string]string{}
	for _, m := range c.Config.Mounts {
		if m.Type != MountTypeTmpfs {
			continue
		}
		mode := "rw"
		if m.ReadOnly {
			mode = "ro"
		}
		out[m.Destination] = strings.Join(append([]string{mode}, m.Options...), ",")
	}
	return out
}
