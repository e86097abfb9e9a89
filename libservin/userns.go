package libservin

// User namespaces: --userns and --uidmap/--gidmap. Root in such a
// container is an unprivileged ID on the host; the storage layer gives the
// container's root filesystem the matching ownership (shifted at mount time
// or chowned), and the effective mappings are the ones storage recorded.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/storage/pkg/idtools"

	"github.com/servin/servin/libservin/image"
	"github.com/servin/servin/libservin/oci"
)

// User namespace modes.
const (
	UserNSAuto    = "auto"    // free ranges of /etc/subuid and /etc/subgid
	UserNSKeepID  = "keep-id" // as root: the current (identity) mapping in a new namespace
	UserNSPrivate = "private" // the mappings given with --uidmap/--gidmap
)

// UserNSConfig is a container's user namespace; the zero value is none
// (the host's).
type UserNSConfig struct {
	// Mode is "", auto, keep-id, private or container:ID.
	Mode string `json:"mode,omitempty"`
	// Size of an auto namespace (0: storage's heuristic from the image).
	Size uint32 `json:"size,omitempty"`
	// UIDMap and GIDMap are the mappings asked for (private mode).
	UIDMap []IDMapping `json:"uidMap,omitempty"`
	GIDMap []IDMapping `json:"gidMap,omitempty"`
}

// IDMapping maps Size IDs from ContainerID in the container to HostID.
type IDMapping struct {
	ContainerID int64 `json:"container_id"`
	HostID      int64 `json:"host_id"`
	Size        int64 `json:"size"`
}

// identityMapping is keep-id as root: every ID is itself.
var identityMapping = []IDMapping{{ContainerID: 0, HostID: 0, Size: 4294967295}}

func (r *Runtime) parseUserNS(ctx context.Context, o *SecurityOptions) (UserNSConfig, error) {
	var u UserNSConfig
	uidMap, err := parseIDMaps("uidmap", o.UIDMap)
	if err != nil {
		return u, err
	}
	gidMap, err := parseIDMaps("gidmap", o.GIDMap)
	if err != nil {
		return u, err
	}
	if len(uidMap) == 0 && len(gidMap) > 0 {
		uidMap = gidMap
	}
	if len(gidMap) == 0 {
		gidMap = uidMap // as podman: one map for both
	}
	mode, opts, _ := strings.Cut(o.UserNS, ":")
	if mode != "" && mode != "private" && mode != "host" && len(uidMap) > 0 {
		return u, invalid("--uidmap/--gidmap cannot be combined with --userns=%s", o.UserNS)
	}
	switch mode {
	case "", "host":
		if opts != "" {
			return u, invalid("invalid --userns %q", o.UserNS)
		}
		if len(uidMap) > 0 {
			if mode == "host" {
				return u, invalid("--uidmap/--gidmap cannot be combined with --userns=host")
			}
			return UserNSConfig{Mode: UserNSPrivate, UIDMap: uidMap, GIDMap: gidMap}, nil
		}
		return u, nil
	case "private":
		if len(uidMap) == 0 {
			return u, invalid("--userns=private needs --uidmap (or use --userns=auto)")
		}
		return UserNSConfig{Mode: UserNSPrivate, UIDMap: uidMap, GIDMap: gidMap}, nil
	case UserNSAuto:
		u.Mode = UserNSAuto
		for _, opt := range strings.Split(opts, ",") {
			if opt == "" {
				continue
			}
			k, v, _ := strings.Cut(opt, "=")
			n, err := strconv.ParseUint(v, 10, 32)
			if k != "size" || err != nil || n == 0 {
				return u, invalid("invalid --userns %q: auto[:size=N] expected", o.UserNS)
			}
			u.Size = uint32(n)
		}
		f := DetectHostFeatures()
		if len(f.SubUIDs) == 0 || len(f.SubGIDs) == 0 {
			return u, invalid("--userns=auto allocates from the subordinate IDs of user %q, and /etc/subuid or /etc/subgid has none (add e.g. %q to both)", SubordinateUser, SubordinateUser+":100000:1000000")
		}
		if !f.UserNamespaces {
			return u, invalid("--userns=auto: this kernel does not allow user namespaces")
		}
		return u, nil
	case UserNSKeepID:
		if opts != "" {
			return u, invalid("--userns=keep-id takes no options when servin runs as root")
		}
		return UserNSConfig{Mode: UserNSKeepID, UIDMap: identityMapping, GIDMap: identityMapping}, nil
	case "nomap":
		return u, invalid("--userns=nomap only applies to rootless containers, whose own user it leaves unmapped; servin runs as root: use --userns=auto or --uidmap")
	case "container":
		rec, err := r.db.GetContainer(ctx, opts)
		if err != nil {
			return u, fmt.Errorf("--userns=%s: %w", o.UserNS, err)
		}
		other, err := fromRecord(rec)
		if err != nil {
			return u, err
		}
		if other.Config.Security.UserNS.Mode == "" {
			return u, invalid("--userns=%s: container %s has no user namespace of its own", o.UserNS, rec.Name)
		}
		return UserNSConfig{Mode: "container:" + rec.ID}, nil
	}
	return u, invalid("invalid --userns %q: host, auto[:size=N], keep-id, private (with --uidmap), nomap or container:NAME expected", o.UserNS)
}

// parseIDMaps parses CONTAINER_ID:HOST_ID:SIZE mappings.
func parseIDMaps(flag string, vals []string) ([]IDMapping, error) {
	var out []IDMapping
	for _, v := range vals {
		f := strings.Split(v, ":")
		if len(f) != 3 {
			return nil, invalid("invalid --%s %q: CONTAINER_ID:HOST_ID:SIZE expected", flag, v)
		}
		var n [3]int64
		for i, s := range f {
			x, err := strconv.ParseInt(s, 10, 64)
			if err != nil || x < 0 || x > 4294967295 {
				return nil, invalid("invalid --%s %q: %q is not an ID", flag, v, s)
			}
			n[i] = x
		}
		m := IDMapping{ContainerID: n[0], HostID: n[1], Size: n[2]}
		if m.Size == 0 {
			return nil, invalid("invalid --%s %q: the size must be positive", flag, v)
		}
		for _, o := range out {
			if overlap(o.ContainerID, o.Size, m.ContainerID, m.Size) || overlap(o.HostID, o.Size, m.HostID, m.Size) {
				return nil, invalid("invalid --%s %q: it overlaps %d:%d:%d", flag, v, o.ContainerID, o.HostID, o.Size)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func overlap(a, an, b, bn int64) bool { return a < b+bn && b < a+an }

func init() {
	// runc resolves the root filesystem's path from inside the container's
	// user namespace, so the layer's directories must belong to the
	// container's root: storage is told to chown layers for a mapping
	// rather than to idmap them at mount time (which leaves them root's).
	// Containers without a user namespace are not affected.
	os.Setenv("_CONTAINERS_OVERLAY_DISABLE_IDMAP", "yes")
}

// storageUserNS sets the storage options that give a new container's layer
// the ownership its user namespace needs.
func (r *Runtime) storageUserNS(ctx context.Context, u *UserNSConfig, o *image.ContainerOptions) error {
	if u.Mode != "" && u.Mode != UserNSKeepID {
		if err := r.makeStorageTraversable(); err != nil {
			return err
		}
	}
	switch {
	case u.Mode == UserNSAuto:
		o.AutoUserNS, o.AutoUserNSSize = true, u.Size
	case u.Mode == UserNSPrivate:
		o.UIDMap, o.GIDMap = toIDMaps(u.UIDMap), toIDMaps(u.GIDMap)
	case strings.HasPrefix(u.Mode, "container:"):
		// Same mappings as the container whose namespace is joined.
		store, err := r.Store()
		if err != nil {
			return err
		}
		uids, gids, err := store.ContainerIDMaps(strings.TrimPrefix(u.Mode, "container:"))
		if err != nil {
			return err
		}
		o.UIDMap, o.GIDMap = uids, gids
	}
	// keep-id: identity, the layer's ownership stays as it is.
	return nil
}

// makeStorageTraversable lets the host IDs a user namespace maps reach the
// container's layer: every directory above it needs search permission for
// others (as podman requires of its graph root). Servin's own directories
// get it; a parent without it is reported.
func (r *Runtime) makeStorageTraversable() error {
	graph := filepath.Join(r.opts.Root, "storage")
	for _, d := range []string{r.opts.Root, graph} {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, st.Mode().Perm()|0o111); err != nil {
				return err
			}
		}
	}
	for d := filepath.Dir(r.opts.Root); ; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o001 == 0 {
			return invalid("user namespaces need search permission for others on every directory above the storage: %s has mode %o", d, st.Mode().Perm())
		}
		if d == "/" || d == "." {
			return nil
		}
	}
}

func toIDMaps(ms []IDMapping) []idtools.IDMap {
	var out []idtools.IDMap
	for _, m := range ms {
		out = append(out, idtools.IDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	return out
}

func toSpecMaps(ms []idtools.IDMap) []specs.LinuxIDMapping {
	var out []specs.LinuxIDMapping
	for _, m := range ms {
		out = append(out, specs.LinuxIDMapping{ContainerID: uint32(m.ContainerID), HostID: uint32(m.HostID), Size: uint32(m.Size)})
	}
	return out
}

// applyUserNS gives the spec input the container's user namespace: the
// mappings storage recorded for its layer, or the namespace of the
// container it shares.
func (r *Runtime) applyUserNS(ctx context.Context, c *Container, sec *oci.Security) error {
	u := &c.Config.Security.UserNS
	switch {
	case u.Mode == "":
		return nil
	case u.Mode == UserNSKeepID:
		sec.UIDMappings = toSpecMaps(toIDMaps(identityMapping))
		sec.GIDMappings = sec.UIDMappings
		return nil
	case strings.HasPrefix(u.Mode, "container:"):
		p, err := r.nsPath(ctx, u.Mode, "user")
		if err != nil {
			return err
		}
		sec.UserNSPath = p
		return nil
	}
	store, err := r.Store()
	if err != nil {
		return err
	}
	uids, gids, err := store.ContainerIDMaps(c.ID)
	if err != nil {
		return err
	}
	if len(uids) == 0 || len(gids) == 0 {
		return fmt.Errorf("the storage of container %s has no ID mappings for its user namespace", c.Name)
	}
	sec.UIDMappings, sec.GIDMappings = toSpecMaps(uids), toSpecMaps(gids)
	return nil
}
