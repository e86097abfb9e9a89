package libservin

// Container mounts: parsing -v/--volume, --mount, --tmpfs and
// --volumes-from into Mounts at create time (mountsplan.go resolves them
// against volumes and images), and turning Mounts into runtime-spec mounts
// at start.

import (
	"encoding/csv"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.podman.io/storage/pkg/mount"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/volume"
)

// Mount types.
const (
	MountTypeBind   = "bind"
	MountTypeVolume = "volume"
	MountTypeTmpfs  = "tmpfs"
	MountTypeImage  = "image"
	MountTypeRamfs  = "ramfs"
	// MountTypeGlob (--mount type=glob) stands for one bind mount per
	// host path its source pattern matches; it is never stored.
	MountTypeGlob = "glob"
)

// Mount is one mount of a container, resolved at create time and stored
// in the container's config.
type Mount struct {
	Type        string `json:"type"`
	Source      string `json:"source,omitempty"` // host path (bind), volume name (volume), image ID (image)
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"readOnly,omitempty"`
	// Options are further mount options: nosuid, noexec, nodev and their
	// opposites; size=, mode= for tmpfs.
	Options      []string `json:"options,omitempty"`
	Propagation  string   `json:"propagation,omitempty"`  // "" is rprivate
	NonRecursive bool     `json:"nonRecursive,omitempty"` // bind instead of rbind
	Relabel      string   `json:"relabel,omitempty"`      // "z" (shared) or "Z" (private)
	Chown        bool     `json:"chown,omitempty"`        // U: give the source to the container's user
	NoCopy       bool     `json:"noCopy,omitempty"`       // no copy-up of image content into the volume
	SubPath      string   `json:"subPath,omitempty"`      // mount this path inside the volume or image
	Anonymous    bool     `json:"anonymous,omitempty"`    // the volume was made for this container
	ImageName    string   `json:"imageName,omitempty"`    // the image as the user named it (image mounts)
	TmpCopyUp    bool     `json:"tmpCopyUp,omitempty"`    // tmpfs starts with the image's content

	// What to create a missing named volume with (--mount volume-*).
	volumeDriver string
	volumeOpts   map[string]string
	volumeLabels map[string]string
	// createSource: a missing bind source is created (-v), not refused (--mount).
	createSource bool
}

// MountOptions are the create options about mounts: the CLI's flags as
// typed, parsed by the engine so that every front end gets the same rules.
type MountOptions struct {
	Volumes     []string // -v, --volume [SRC:]DST[:OPTS]
	Mounts      []string // --mount type=...,source=...,destination=...
	Tmpfs       []string // --tmpfs DST[:OPTS]
	VolumesFrom []string // --volumes-from CONTAINER[:ro|rw]
	// ImageVolume says what the image's VOLUMEs become: "anonymous" (the
	// default; "bind" is podman's name for it), "tmpfs" or "ignore".
	ImageVolume string
	// VolumeDriver is the driver of the volumes the container creates
	// (docker's --volume-driver; "" is local). --mount's volume-driver
	// wins over it.
	VolumeDriver string
}

var propagations = []string{"private", "rprivate", "shared", "rshared", "slave", "rslave"}

func invalidMount(format string, a ...any) error {
	return fmt.Errorf(format+": %w", append(a, errdefs.ErrInvalidArgument)...)
}

// checkDestination requires an absolute container path other than "/".
func checkDestination(dst, spec string) (string, error) {
	if dst == "" {
		return "", invalidMount("invalid mount %q: no destination (container path)", spec)
	}
	if !filepath.IsAbs(dst) {
		return "", invalidMount("invalid container path %q in %q: must be an absolute path", dst, spec)
	}
	dst = filepath.Clean(dst)
	if dst == "/" {
		return "", invalidMount("invalid mount %q: the destination cannot be /", spec)
	}
	return dst, nil
}

// ParseVolumeFlag parses -v [SRC:]DST[:OPTS]. SRC is a host path when it
// starts with "/" or "." (bind mount; created when missing, as docker
// does), else a volume name; without SRC the mount is an anonymous volume.
func ParseVolumeFlag(spec string) (Mount, error) {
	parts := strings.Split(spec, ":")
	var src, dst, opts string
	switch len(parts) {
	case 1:
		dst = parts[0]
	case 2:
		src, dst = parts[0], parts[1]
	case 3:
		src, dst, opts = parts[0], parts[1], parts[2]
	default:
		return Mount{}, invalidMount("invalid volume specification %q: expected [SOURCE:]DESTINATION[:OPTIONS]", spec)
	}
	if len(parts) > 1 && src == "" {
		return Mount{}, invalidMount("invalid volume specification %q: empty source", spec)
	}
	d, err := checkDestination(dst, spec)
	if err != nil {
		return Mount{}, err
	}
	m := Mount{Type: MountTypeVolume, Destination: d}
	switch {
	case src == "":
		m.Anonymous = true
	case strings.HasPrefix(src, "/") || strings.HasPrefix(src, "."):
		abs, err := filepath.Abs(src)
		if err != nil {
			return Mount{}, err
		}
		m.Type, m.Source, m.createSource = MountTypeBind, abs, true
	default:
		if err := volume.ValidName(src); err != nil {
			return Mount{}, invalidMount("invalid volume specification %q: %q is neither an absolute host path nor a valid volume name", spec, src)
		}
		m.Source = src
	}
	if opts == "" {
		return m, nil
	}
	seen := map[string]string{}
	for _, o := range strings.Split(opts, ",") {
		if err := m.applyVolumeOption(o, seen); err != nil {
			return Mount{}, fmt.Errorf("invalid volume specification %q: %w", spec, err)
		}
	}
	return m, nil
}

// applyVolumeOption applies one -v option; seen catches contradictions
// such as ro,rw (keyed by option group).
func (m *Mount) applyVolumeOption(o string, seen map[string]string) error {
	group := o
	switch o {
	case "ro", "rw":
		group, m.ReadOnly = "mode", o == "ro"
	case "z", "Z":
		group, m.Relabel = "relabel", o
	case "U":
		m.Chown = true
	case "nocopy", "copy":
		group, m.NoCopy = "copy", o == "nocopy"
	case "bind", "rbind":
		group, m.NonRecursive = "recursive", o == "bind"
	case "exec", "noexec", "suid", "nosuid", "dev", "nodev":
		group = strings.TrimPrefix(o, "no")
		m.Options = append(m.Options, o)
	case "O", "idmap":
		return fmt.Errorf("option %q is not supported by servin: %w", o, errdefs.ErrNotImplemented)
	default:
		if slices.Contains(propagations, o) {
			group, m.Propagation = "propagation", o
			break
		}
		return invalidMount("invalid option %q (valid: ro, rw, z, Z, U, nocopy, bind, rbind, [no]exec, [no]suid, [no]dev, %s)", o, strings.Join(propagations, ", "))
	}
	if prev, ok := seen[group]; ok && prev != o {
		return invalidMount("conflicting options %q and %q", prev, o)
	}
	seen[group] = o
	return nil
}

// ParseMountFlag parses --mount with docker's and podman's keys, e.g.
// type=bind,source=/src,destination=/dst,readonly or
// type=volume,src=data,dst=/data,volume-opt=type=tmpfs.
func ParseMountFlag(spec string) (Mount, error) {
	r := csv.NewReader(strings.NewReader(spec))
	fields, err := r.Read()
	if err != nil {
		return Mount{}, invalidMount("invalid --mount %q: %v", spec, err)
	}
	m := Mount{Type: MountTypeVolume}
	used := map[string]string{} // key -> the type it needs ("" any)
	var tmpfsSize, tmpfsMode string
	for _, f := range fields {
		rawKey, v, hasV := strings.Cut(strings.TrimSpace(f), "=")
		k := strings.ToLower(rawKey)
		flag := func() (bool, error) {
			if !hasV {
				return true, nil
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return false, invalidMount("invalid --mount %q: %s=%q is not a boolean", spec, k, v)
			}
			return b, nil
		}
		var b bool
		switch k {
		case "type":
			m.Type = v
		case "source", "src":
			m.Source = v
		case "destination", "dst", "target":
			m.Destination = v
		case "readonly", "ro":
			if b, err = flag(); err == nil {
				m.ReadOnly = b
			}
		case "rw", "readwrite":
			if b, err = flag(); err == nil {
				m.ReadOnly = !b
			}
		case "bind-propagation":
			if !slices.Contains(propagations, v) {
				return Mount{}, invalidMount("invalid --mount %q: bind-propagation must be one of %s", spec, strings.Join(propagations, ", "))
			}
			m.Propagation, used[k] = v, MountTypeBind
		case "bind-nonrecursive":
			if b, err = flag(); err == nil {
				m.NonRecursive, used[k] = b, MountTypeBind
			}
		case "bind-recursive":
			switch v {
			case "enabled":
			case "disabled":
				m.NonRecursive = true
			case "readonly":
				m.ReadOnly = true
			default:
				return Mount{}, invalidMount("invalid --mount %q: bind-recursive must be enabled, disabled or readonly", spec)
			}
			used[k] = MountTypeBind
		case "consistency":
			// macOS-only tuning in docker; meaningless here.
		case "relabel":
			switch v {
			case "shared":
				m.Relabel = "z"
			case "private":
				m.Relabel = "Z"
			default:
				return Mount{}, invalidMount("invalid --mount %q: relabel must be shared or private", spec)
			}
		case "z":
			m.Relabel = rawKey
		case "u", "chown":
			if b, err = flag(); err == nil {
				m.Chown = b
			}
		case "volume-nocopy", "nocopy":
			if b, err = flag(); err == nil {
				m.NoCopy, used[k] = b, MountTypeVolume
			}
		case "volume-opt":
			ok, ov, _ := strings.Cut(v, "=")
			if m.volumeOpts == nil {
				m.volumeOpts = map[string]string{}
			}
			m.volumeOpts[ok], used[k] = ov, MountTypeVolume
		case "volume-label":
			lk, lv, _ := strings.Cut(v, "=")
			if m.volumeLabels == nil {
				m.volumeLabels = map[string]string{}
			}
			m.volumeLabels[lk], used[k] = lv, MountTypeVolume
		case "volume-driver":
			m.volumeDriver, used[k] = v, MountTypeVolume
		case "volume-subpath", "subpath":
			m.SubPath = v
			if k == "volume-subpath" {
				used[k] = MountTypeVolume
			}
		case "tmpfs-size":
			tmpfsSize, used[k] = v, MountTypeTmpfs
		case "tmpfs-mode":
			tmpfsMode, used[k] = v, MountTypeTmpfs
		case "tmpcopyup", "notmpcopyup":
			m.TmpCopyUp, used[k] = k == "tmpcopyup", MountTypeTmpfs
		case "exec", "noexec", "suid", "nosuid", "dev", "nodev":
			m.Options = append(m.Options, k)
		case "noswap":
			// tmpfs pages never go to swap (Linux 6.4 and later).
			m.Options, used[k] = append(m.Options, k), MountTypeTmpfs
		case "idmap":
			return Mount{}, fmt.Errorf("invalid --mount %q: idmap is not supported by servin: %w", spec, errdefs.ErrNotImplemented)
		default:
			return Mount{}, invalidMount("invalid --mount %q: unknown key %q", spec, k)
		}
		if err != nil {
			return Mount{}, err
		}
	}
	for k, typ := range used {
		if typ != m.Type {
			return Mount{}, invalidMount("invalid --mount %q: %s is only valid with type=%s", spec, k, typ)
		}
	}
	if m.Type == MountTypeGlob {
		// Checked per match: the destination is optional.
		if m.Source == "" || !filepath.IsAbs(m.Source) {
			return Mount{}, invalidMount("invalid --mount %q: type=glob needs an absolute source= pattern", spec)
		}
		if m.Destination != "" {
			if _, err := checkDestination(m.Destination, spec); err != nil {
				return Mount{}, err
			}
		}
		return m, nil
	}
	if m.Type == MountTypeBind && m.Destination == "" {
		return Mount{}, errdefs.Worded(errdefs.ErrInvalidArgument, "must set volume destination")
	}
	d, err := checkDestination(m.Destination, spec)
	if err != nil {
		return Mount{}, err
	}
	m.Destination = d
	switch m.Type {
	case MountTypeBind:
		if m.Source == "" {
			return Mount{}, invalidMount("invalid --mount %q: type=bind needs source=", spec)
		}
		if !filepath.IsAbs(m.Source) {
			return Mount{}, invalidMount("invalid --mount %q: bind source %q must be an absolute path", spec, m.Source)
		}
		m.Source = filepath.Clean(m.Source)
	case MountTypeVolume:
		if m.Source == "" {
			m.Anonymous = true
		} else if err := volume.ValidName(m.Source); err != nil {
			return Mount{}, fmt.Errorf("invalid --mount %q: %w", spec, err)
		}
	case MountTypeTmpfs:
		if m.Source != "" {
			return Mount{}, invalidMount("invalid --mount %q: type=tmpfs takes no source", spec)
		}
		// The defaults of --tmpfs; exec, suid and dev given as keys win.
		m.Options = append([]string{"noexec", "nosuid", "nodev"}, m.Options...)
		if tmpfsSize != "" {
			n, err := ParseSize(tmpfsSize)
			if err != nil || n <= 0 {
				return Mount{}, invalidMount("invalid --mount %q: bad tmpfs-size %q", spec, tmpfsSize)
			}
			m.Options = append(m.Options, "size="+strconv.FormatInt(n, 10))
		}
		if tmpfsMode != "" {
			if _, err := strconv.ParseUint(tmpfsMode, 8, 32); err != nil {
				return Mount{}, invalidMount("invalid --mount %q: tmpfs-mode %q is not an octal mode", spec, tmpfsMode)
			}
			m.Options = append(m.Options, "mode="+tmpfsMode)
		}
		if _, used := used["notmpcopyup"]; !used {
			m.TmpCopyUp = true
		}
	case MountTypeImage:
		if m.Source == "" {
			return Mount{}, invalidMount("invalid --mount %q: type=image needs source=IMAGE", spec)
		}
		// Read-only unless asked otherwise (rw=true, readwrite=true): then
		// the container writes to a layer of its own on top, dropped when
		// it stops.
		if _, ok := fieldsHave(fields, "rw", "readwrite", "readonly", "ro"); !ok {
			m.ReadOnly = true
		}
	case MountTypeRamfs:
		if m.Source != "" {
			return Mount{}, invalidMount("invalid --mount %q: type=ramfs takes no source", spec)
		}
		m.Options = append([]string{"nosuid", "nodev"}, m.Options...)
	default:
		return Mount{}, invalidMount("invalid --mount %q: unsupported type %q (supported: bind, volume, tmpfs, ramfs, image, glob)", spec, m.Type)
	}
	if m.SubPath != "" && (filepath.IsAbs(m.SubPath) || m.Type == MountTypeTmpfs || m.Type == MountTypeBind) {
		return Mount{}, invalidMount("invalid --mount %q: subpath must be a relative path inside a volume or image", spec)
	}
	return m, nil
}

// expandGlob turns a type=glob mount into a read-only (unless ro=false)
// bind mount of every host path its pattern matches: at DEST/NAME when it
// has a destination, else at the same path in the container.
func expandGlob(m Mount) ([]Mount, error) {
	matches, err := filepath.Glob(m.Source)
	if err != nil {
		return nil, invalidMount("invalid glob %q: %v", m.Source, err)
	}
	if len(matches) == 0 {
		return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "no file paths matching glob %q", m.Source)
	}
	var out []Mount
	for _, p := range matches {
		b := m
		b.Type, b.Source, b.Destination = MountTypeBind, p, p
		if m.Destination != "" {
			b.Destination = filepath.Join(m.Destination, filepath.Base(p))
		}
		out = append(out, b)
	}
	return out, nil
}

func fieldsHave(fields []string, keys ...string) (string, bool) {
	for _, f := range fields {
		k, _, _ := strings.Cut(strings.TrimSpace(f), "=")
		if slices.Contains(keys, strings.ToLower(k)) {
			return k, true
		}
	}
	return "", false
}

// ParseTmpfsFlag parses --tmpfs DST[:OPTS]. The defaults are
// rw,noexec,nosuid,nodev, and the tmpfs starts with the image's content at
// DST; OPTS may override each.
func ParseTmpfsFlag(spec string) (Mount, error) {
	dst, opts, _ := strings.Cut(spec, ":")
	d, err := checkDestination(dst, spec)
	if err != nil {
		return Mount{}, err
	}
	m := Mount{Type: MountTypeTmpfs, Destination: d, TmpCopyUp: true, Options: []string{"noexec", "nosuid", "nodev"}}
	if opts == "" {
		return m, nil
	}
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "ro", "rw":
			m.ReadOnly = o == "ro"
			continue
		case "tmpcopyup", "notmpcopyup":
			m.TmpCopyUp = o == "tmpcopyup"
			continue
		}
		m.Options = append(m.Options, o)
	}
	if _, _, err := mount.ParseTmpfsOptions(strings.Join(m.Options, ",")); err != nil {
		return Mount{}, invalidMount("invalid --tmpfs %q: %v", spec, err)
	}
	return m, nil
}

// parseVolumesFrom splits --volumes-from CONTAINER[:ro|rw|z].
func parseVolumesFrom(spec string) (ctr, mode string, err error) {
	ctr, opts, _ := strings.Cut(spec, ":")
	if ctr == "" {
		return "", "", invalidMount("invalid --volumes-from %q: no container", spec)
	}
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "":
		case "ro", "rw":
			mode = o
		case "z", "Z":
			// Relabelling happens with the source container's own options.
		default:
			return "", "", invalidMount("invalid --volumes-from %q: option %q (valid: ro, rw, z)", spec, o)
		}
	}
	return ctr, mode, nil
}

// specOptions are the runtime-spec mount options of a bind or volume mount.
func (m *Mount) specOptions() []string {
	opts := []string{"rbind"}
	if m.NonRecursive {
		opts[0] = "bind"
	}
	opts = append(opts, firstNonEmpty(m.Propagation, "rprivate"))
	if m.Type == MountTypeVolume {
		// podman's defaults for volumes; -v NAME:/x:suid,dev lifts them.
		if !slices.Contains(m.Options, "suid") {
			opts = append(opts, "nosuid")
		}
		if !slices.Contains(m.Options, "dev") {
			opts = append(opts, "nodev")
		}
	}
	for _, o := range m.Options {
		if !slices.Contains(opts, o) {
			opts = append(opts, o)
		}
	}
	if m.ReadOnly {
		// Recursive read-only (mount_setattr) so that mounts below a
		// read-only bind are read-only too.
		if m.NonRecursive {
			opts = append(opts, "ro")
		} else {
			opts = append(opts, "rro")
		}
	}
	return opts
}

// tmpfsOptions are the runtime-spec options of a tmpfs mount.
func (m *Mount) tmpfsOptions() []string {
	opts := append([]string{}, m.Options...)
	if m.ReadOnly {
		opts = append(opts, "ro")
	}
	if m.TmpCopyUp {
		opts = append(opts, "tmpcopyup")
	}
	return opts
}

// Mode is the mount's mode string as inspect shows it (docker's "z", "Z").
func (m *Mount) mode() string { return m.Relabel }
