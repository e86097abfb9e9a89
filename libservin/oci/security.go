package oci

// Confinement of a container: capabilities, seccomp, masked paths, devices,
// sysctls, rlimits and shared namespaces. Generate calls applySecurity
// after it built the unconfined skeleton of the spec.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/profiles/seccomp"
	"github.com/moby/sys/capability"
	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Namespace modes of Security.PidNS, IpcNS and UtsNS: "" (or NSPrivate)
// gives the container its own namespace, NSHost shares servin's, and any
// other value is the path of a namespace to join (/proc/PID/ns/TYPE).
const (
	NSPrivate = "private"
	NSHost    = "host"
)

// Seccomp modes besides a profile's JSON text.
const (
	SeccompDefault    = ""           // docker's default profile
	SeccompUnconfined = "unconfined" // no filter
)

// Security is how a container is confined. The zero value is docker's
// default confinement.
type Security struct {
	// Privileged lifts the confinement: every capability servin holds, no
	// seccomp filter, no masked or read-only paths, all host devices and
	// writable /sys.
	Privileged bool
	// Systemd prepares the container for systemd as its init, as podman
	// does: tmpfs on /run, /run/lock, /tmp and /var/log/journal, a
	// writable cgroup tree, and no virtual terminals (/dev/ttyN) among a
	// privileged container's devices.
	Systemd bool
	// CapAdd and CapDrop change the default capability set; "ALL" stands
	// for every capability servin holds. Names are CAP_-prefixed.
	CapAdd, CapDrop []string
	// Seccomp is SeccompDefault, SeccompUnconfined or the JSON text of a
	// docker-format profile.
	Seccomp         string
	NoNewPrivileges bool
	// AppArmorProfile is applied as is; "" and "unconfined" apply none.
	AppArmorProfile string
	// Unmask lists masked or read-only paths to expose ("ALL" for every
	// one); Mask adds paths to mask.
	Unmask, Mask []string
	Sysctls      map[string]string
	// Ulimits replace the default rlimits of the same type.
	Ulimits []specs.POSIXRlimit
	// Devices are host device nodes to create in the container; each gets
	// a cgroup rule with its Access (rwm).
	Devices []Device
	// DeviceRules are extra device cgroup rules (--device-cgroup-rule).
	DeviceRules []specs.LinuxDeviceCgroup
	// PidNS, IpcNS and UtsNS: see NSPrivate and NSHost.
	PidNS, IpcNS, UtsNS string
	// OOMScoreAdj, when set, is written to the init's oom_score_adj.
	OOMScoreAdj *int
	// UIDMappings and GIDMappings, when set, give the container a user
	// namespace with these mappings.
	UIDMappings, GIDMappings []specs.LinuxIDMapping
	// UserNSPath joins an existing user namespace instead.
	UserNSPath string
	// NoReadOnlyTmpfs keeps /tmp, /var/tmp and /run read-only with a
	// read-only root (by default they get a tmpfs, as with podman).
	NoReadOnlyTmpfs bool
}

// Device is a device node of the container and the access it gets.
type Device struct {
	specs.LinuxDevice
	Access string // r, w, m or a combination
}

// AllCapabilities returns every capability servin itself may hold: those of
// its bounding set that the kernel knows. A container can get no other.
func AllCapabilities() []string {
	var out []string
	last, err := capability.LastCap()
	if err != nil {
		return append([]string(nil), DefaultCapabilities...)
	}
	bnd := boundingSet()
	for _, c := range capability.ListKnown() {
		if c > last || (bnd != nil && !bnd[c]) {
			continue
		}
		out = append(out, "CAP_"+strings.ToUpper(c.String()))
	}
	return out
}

func boundingSet() map[capability.Cap]bool {
	p, err := capability.NewPid2(0)
	if err != nil || p.Load() != nil {
		return nil
	}
	m := map[capability.Cap]bool{}
	for _, c := range capability.ListKnown() {
		if p.Get(capability.BOUNDING, c) {
			m[c] = true
		}
	}
	return m
}

// KnownCapability reports whether name (CAP_-prefixed, upper case) is a
// capability this build knows.
func KnownCapability(name string) bool {
	for _, c := range capability.ListKnown() {
		if "CAP_"+strings.ToUpper(c.String()) == name {
			return true
		}
	}
	return false
}

// NormalizeCapability turns "net_admin", "NET_ADMIN" or "cap_net_admin"
// into "CAP_NET_ADMIN"; "all" becomes "ALL".
func NormalizeCapability(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "ALL" {
		return s
	}
	if !strings.HasPrefix(s, "CAP_") {
		s = "CAP_" + s
	}
	return s
}

// Capabilities computes the container's capability set the way docker
// does: the default set (or all with privileged), minus drops, plus adds;
// "ALL" in CapDrop starts from nothing, in CapAdd grants everything.
func Capabilities(sec *Security) ([]string, error) {
	all := AllCapabilities()
	if sec.Privileged || slices.Contains(sec.CapAdd, "ALL") {
		return all, nil
	}
	var caps []string
	if !slices.Contains(sec.CapDrop, "ALL") {
		for _, c := range DefaultCapabilities {
			if !slices.Contains(sec.CapDrop, c) {
				caps = append(caps, c)
			}
		}
	}
	for _, c := range sec.CapAdd {
		if slices.Contains(caps, c) {
			continue
		}
		if !slices.Contains(all, c) {
			if !KnownCapability(c) {
				return nil, fmt.Errorf("unknown capability %q", c)
			}
			return nil, fmt.Errorf("capability %s cannot be added: it is not in servin's own capability bounding set on this host", c)
		}
		caps = append(caps, c)
	}
	return caps, nil
}

// applySecurity confines the spec Generate built as sec asks.
func applySecurity(s *specs.Spec, sec *Security, network string) error {
	caps, err := Capabilities(sec)
	if err != nil {
		return err
	}
	pc := &specs.LinuxCapabilities{Bounding: caps}
	// As with docker, a non-root user keeps the bounding set but starts
	// without effective or permitted capabilities.
	if s.Process.User.UID == 0 {
		pc.Effective, pc.Permitted = caps, caps
	}
	s.Process.Capabilities = pc
	s.Process.NoNewPrivileges = sec.NoNewPrivileges
	if sec.AppArmorProfile != "" && sec.AppArmorProfile != "unconfined" {
		s.Process.ApparmorProfile = sec.AppArmorProfile
	}
	s.Process.OOMScoreAdj = sec.OOMScoreAdj
	if err := applySeccomp(s, sec); err != nil {
		return err
	}
	applyPaths(s, sec)
	if s.Root.Readonly && !sec.NoReadOnlyTmpfs {
		for _, d := range []string{"/tmp", "/var/tmp", "/run"} {
			if !hasMount(s.Mounts, d) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: d, Type: "tmpfs", Source: "tmpfs",
					Options: []string{"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}})
			}
		}
	}
	if sec.Systemd {
		applySystemd(s)
	}
	if err := applyNamespaces(s, sec); err != nil {
		return err
	}
	if err := checkSysctls(sec.Sysctls, s.Linux.Namespaces, network); err != nil {
		return err
	}
	if len(sec.Sysctls) > 0 {
		s.Linux.Sysctl = sec.Sysctls
	}
	s.Process.Rlimits = mergeRlimits(s.Process.Rlimits, sec.Ulimits)
	if sec.Privileged {
		if err := applyPrivileged(s, sec.Systemd); err != nil {
			return err
		}
	}
	for _, d := range sec.Devices {
		addDevice(s, d)
	}
	s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, sec.DeviceRules...)
	applyUserNS(s, sec)
	return nil
}

func applySeccomp(s *specs.Spec, sec *Security) error {
	if sec.Privileged || sec.Seccomp == SeccompUnconfined {
		s.Linux.Seccomp = nil
		return nil
	}
	var (
		prof *specs.LinuxSeccomp
		err  error
	)
	if sec.Seccomp == SeccompDefault {
		prof, err = seccomp.GetDefaultProfile(s)
	} else {
		prof, err = seccomp.LoadProfile(sec.Seccomp, s)
	}
	if err != nil {
		return fmt.Errorf("seccomp profile: %w", err)
	}
	s.Linux.Seccomp = prof
	return nil
}

// ValidateSeccompProfile checks that text is a usable docker-format profile.
func ValidateSeccompProfile(text string) error {
	s := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: DefaultCapabilities}}}
	p, err := seccomp.LoadProfile(text, s)
	if err != nil {
		return err
	}
	if p == nil {
		return errors.New("the profile has neither a defaultAction nor syscalls")
	}
	return nil
}

func applyPaths(s *specs.Spec, sec *Security) {
	if sec.Privileged || slices.Contains(sec.Unmask, "ALL") {
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
	} else {
		keep := func(p string) bool { return !slices.Contains(sec.Unmask, p) }
		s.Linux.MaskedPaths = filter(DefaultMaskedPaths, keep)
		s.Linux.ReadonlyPaths = filter(DefaultReadonlyPaths, keep)
	}
	for _, p := range sec.Mask {
		if !slices.Contains(s.Linux.MaskedPaths, p) {
			s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, p)
		}
	}
}

func filter(in []string, keep func(string) bool) []string {
	var out []string
	for _, v := range in {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// applyNamespaces shares or joins the PID, IPC and UTS namespaces.
func applyNamespaces(s *specs.Spec, sec *Security) error {
	for _, x := range []struct {
		t    specs.LinuxNamespaceType
		mode string
	}{{specs.PIDNamespace, sec.PidNS}, {specs.IPCNamespace, sec.IpcNS}, {specs.UTSNamespace, sec.UtsNS}} {
		switch x.mode {
		case "", NSPrivate:
			continue
		case NSHost:
			s.Linux.Namespaces = removeNS(s.Linux.Namespaces, x.t)
		default:
			if !filepath.IsAbs(x.mode) {
				return fmt.Errorf("invalid %s namespace mode %q", x.t, x.mode)
			}
			s.Linux.Namespaces = removeNS(s.Linux.Namespaces, x.t)
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: x.t, Path: x.mode})
		}
		switch x.t {
		case specs.UTSNamespace:
			// The host's (or the other container's) name stays.
			s.Hostname = ""
		case specs.IPCNamespace:
			// The mqueue mount shows the queues of whichever IPC namespace
			// the container is in; shared memory files need the host's
			// /dev/shm, as podman does.
			if _, err := os.Stat("/dev/shm"); err == nil && x.mode == NSHost {
				s.Mounts = replaceMount(s.Mounts, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "nosuid", "noexec", "nodev"}})
			}
		}
	}
	return nil
}

func hasMount(ms []specs.Mount, dst string) bool {
	for _, m := range ms {
		if filepath.Clean(m.Destination) == dst {
			return true
		}
	}
	return false
}

func replaceMount(ms []specs.Mount, m specs.Mount) []specs.Mount {
	for i := range ms {
		if filepath.Clean(ms[i].Destination) == m.Destination {
			ms[i] = m
			return ms
		}
	}
	return append(ms, m)
}

func hasNS(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) (specs.LinuxNamespace, bool) {
	for _, n := range ns {
		if n.Type == t {
			return n, true
		}
	}
	return specs.LinuxNamespace{}, false
}

// namespacedSysctl tells which namespace a sysctl belongs to: "ipc", "net",
// "uts" or "" when it is not namespaced (and so would change the host).
func namespacedSysctl(key string) string {
	switch key {
	case "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced":
		return "ipc"
	case "kernel.domainname":
		return "uts"
	}
	switch {
	case strings.HasPrefix(key, "fs.mqueue."):
		return "ipc"
	case strings.HasPrefix(key, "net."):
		return "net"
	}
	return ""
}

// NormalizeSysctl writes a sysctl name with dots ("net/ipv4/ip_forward"
// becomes "net.ipv4.ip_forward").
func NormalizeSysctl(key string) string {
	if strings.Contains(key, "/") && !strings.Contains(key, ".") {
		return strings.ReplaceAll(key, "/", ".")
	}
	if strings.Contains(key, "/") {
		// sysctl(8): with slashes, dots are part of names (eth0.100).
		parts := strings.Split(key, "/")
		for i, p := range parts {
			parts[i] = strings.ReplaceAll(p, ".", "/")
		}
		return strings.Join(parts, ".")
	}
	return key
}

// CheckSysctl refuses a sysctl that is not confined to a namespace the
// container has of its own: setting it would change the host. ipcPrivate,
// netPrivate and utsPrivate say which namespaces are the container's own.
func CheckSysctl(key string, ipcPrivate, netPrivate, utsPrivate bool) error {
	switch namespacedSysctl(NormalizeSysctl(key)) {
	case "ipc":
		if !ipcPrivate {
			return fmt.Errorf("sysctl %q is not allowed: the container shares its IPC namespace", key)
		}
	case "net":
		if !netPrivate {
			return fmt.Errorf("sysctl %q is not allowed: the container shares the host's network namespace", key)
		}
	case "uts":
		if !utsPrivate {
			return fmt.Errorf("sysctl %q is not allowed: the container shares its UTS namespace", key)
		}
	default:
		return fmt.Errorf("sysctl %q is not allowed: it is not namespaced, so setting it would change the host (allowed: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.* with a private network, kernel.domainname)", key)
	}
	return nil
}

func checkSysctls(sysctls map[string]string, ns []specs.LinuxNamespace, network string) error {
	private := func(t specs.LinuxNamespaceType) bool {
		n, ok := hasNS(ns, t)
		return ok && n.Path == ""
	}
	for k := range sysctls {
		if err := CheckSysctl(k, private(specs.IPCNamespace), private(specs.NetworkNamespace) && network != "host", private(specs.UTSNamespace)); err != nil {
			return err
		}
	}
	return nil
}

func mergeRlimits(base, over []specs.POSIXRlimit) []specs.POSIXRlimit {
	out := append([]specs.POSIXRlimit(nil), base...)
	for _, u := range over {
		i := slices.IndexFunc(out, func(r specs.POSIXRlimit) bool { return r.Type == u.Type })
		if i >= 0 {
			out[i] = u
		} else {
			out = append(out, u)
		}
	}
	return out
}

// applyPrivileged gives the container all host devices and writable /sys.
func applyPrivileged(s *specs.Spec, systemd bool) error {
	devs, err := HostDevices()
	if err != nil {
		return fmt.Errorf("listing host devices: %w", err)
	}
	for _, d := range devs {
		if systemd && isVirtualTerminal(d.Path) {
			continue // systemd would start gettys on them
		}
		if _, ok := findDevice(s.Linux.Devices, d.Path); !ok {
			s.Linux.Devices = append(s.Linux.Devices, d.LinuxDevice)
		}
	}
	s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Access: "rwm"})
	for i, m := range s.Mounts {
		if m.Destination == "/sys" || m.Destination == "/sys/fs/cgroup" {
			s.Mounts[i].Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" })
			s.Mounts[i].Options = append(s.Mounts[i].Options, "rw")
		}
	}
	return nil
}

func findDevice(ds []specs.LinuxDevice, path string) (int, bool) {
	for i, d := range ds {
		if d.Path == path {
			return i, true
		}
	}
	return -1, false
}

func addDevice(s *specs.Spec, d Device) {
	if i, ok := findDevice(s.Linux.Devices, d.Path); ok {
		s.Linux.Devices[i] = d.LinuxDevice
	} else {
		s.Linux.Devices = append(s.Linux.Devices, d.LinuxDevice)
	}
	major, minor := d.Major, d.Minor
	s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{
		Allow: true, Type: d.Type, Major: &major, Minor: &minor, Access: d.Access,
	})
}

// DeviceFromPath describes the host device node at path, to appear in the
// container at ctrPath with the given access.
func DeviceFromPath(path, ctrPath, access string) (Device, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Device{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		typ = "b"
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFIFO:
		typ = "p"
	default:
		return Device{}, fmt.Errorf("%s is not a device node", path)
	}
	mode := os.FileMode(st.Mode &^ unix.S_IFMT)
	uid, gid := st.Uid, st.Gid
	return Device{
		LinuxDevice: specs.LinuxDevice{
			Path: ctrPath, Type: typ,
			Major: int64(unix.Major(uint64(st.Rdev))), Minor: int64(unix.Minor(uint64(st.Rdev))),
			FileMode: &mode, UID: &uid, GID: &gid,
		},
		Access: access,
	}, nil
}

// DevicesUnder lists the device nodes in the directory tree at dir, mapped
// below ctrDir in the container.
func DevicesUnder(dir, ctrDir, access string) ([]Device, error) {
	var out []Device
	err := filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() {
			return nil
		}
		d, err := DeviceFromPath(p, filepath.Join(ctrDir, strings.TrimPrefix(p, dir)), access)
		if err != nil {
			return nil // not a device: skip
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// HostDevices lists the host's device nodes under /dev, leaving out the
// ones every container has its own of (pts, shm, mqueue, console).
func HostDevices() ([]Device, error) {
	var out []Device
	err := filepath.WalkDir("/dev", func(p string, de os.DirEntry, err error) error {
		if err != nil {
			if p != "/dev" && errors.Is(err, os.ErrPermission) {
				return nil
			}
			return err
		}
		if de.IsDir() {
			switch de.Name() {
			case "pts", "shm", "mqueue", "fd", ".lxc", ".udev":
				return filepath.SkipDir
			}
			return nil
		}
		if p == "/dev/console" || p == "/dev/ptmx" || de.Type()&os.ModeSymlink != 0 {
			return nil
		}
		d, err := DeviceFromPath(p, p, "rwm")
		if err != nil {
			return nil
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// ParseDeviceCgroupRule parses "TYPE MAJOR:MINOR ACCESS" ("c 1:3 rwm",
// "b *:* r", "a *:* m").
func ParseDeviceCgroupRule(rule string) (specs.LinuxDeviceCgroup, error) {
	f := strings.Fields(rule)
	bad := func(why string) (specs.LinuxDeviceCgroup, error) {
		return specs.LinuxDeviceCgroup{}, fmt.Errorf("invalid device cgroup rule %q: %s (want TYPE MAJOR:MINOR ACCESS, e.g. \"c 1:3 rwm\")", rule, why)
	}
	if len(f) != 3 {
		return bad("it needs 3 fields")
	}
	if f[0] != "a" && f[0] != "b" && f[0] != "c" {
		return bad("type must be a, b or c")
	}
	majS, minS, ok := strings.Cut(f[1], ":")
	if !ok {
		return bad("MAJOR:MINOR expected")
	}
	num := func(s string) (*int64, bool) {
		if s == "*" {
			return nil, true
		}
		var n int64
		if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != s {
			return nil, false
		}
		return &n, true
	}
	maj, ok1 := num(majS)
	min, ok2 := num(minS)
	if !ok1 || !ok2 {
		return bad("major and minor must be numbers or *")
	}
	if !ValidAccess(f[2]) {
		return bad("access must be a combination of r, w and m")
	}
	return specs.LinuxDeviceCgroup{Allow: true, Type: f[0], Major: maj, Minor: min, Access: f[2]}, nil
}

// ValidAccess reports whether s is a non-empty combination of r, w and m.
func ValidAccess(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range s {
		if (c != 'r' && c != 'w' && c != 'm') || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

// applyUserNS adds the user namespace and its mappings.
func applyUserNS(s *specs.Spec, sec *Security) {
	if sec.UserNSPath == "" && len(sec.UIDMappings) == 0 {
		return
	}
	s.Linux.Namespaces = removeNS(s.Linux.Namespaces, specs.UserNamespace)
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: sec.UserNSPath})
	if sec.UserNSPath == "" {
		s.Linux.UIDMappings = sec.UIDMappings
		s.Linux.GIDMappings = sec.GIDMappings
	}
	// sysfs can only be mounted in a user namespace that owns the network
	// namespace: with the host's network, bind the host's /sys instead.
	if _, ok := hasNS(s.Linux.Namespaces, specs.NetworkNamespace); !ok {
		for i, m := range s.Mounts {
			if m.Destination == "/sys" && m.Type == "sysfs" {
				opts := []string{"rbind", "nosuid", "noexec", "nodev"}
				if slices.Contains(m.Options, "ro") {
					opts = append(opts, "ro")
				}
				s.Mounts[i] = specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: opts}
			}
		}
	}
}

var rlimitTypes = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_STACK": unix.RLIMIT_STACK,
}

// configRlimits converts the spec's rlimits for libcontainer, which applies
// them to the init and every exec'd process (specconv leaves them out).
func configRlimits(rls []specs.POSIXRlimit) ([]configs.Rlimit, error) {
	var out []configs.Rlimit
	for _, rl := range rls {
		t, ok := rlimitTypes[rl.Type]
		if !ok {
			return nil, fmt.Errorf("unknown rlimit type %q", rl.Type)
		}
		out = append(out, configs.Rlimit{Type: t, Hard: rl.Hard, Soft: rl.Soft})
	}
	return out, nil
}

// applySystemd adds what systemd as the container's init needs (see
// Security.Systemd), leaving mounts the user made at those places alone.
func applySystemd(s *specs.Spec) {
	var add []specs.Mount
	for _, d := range []string{"/run", "/run/lock", "/tmp", "/var/log/journal"} {
		if !hasMount(s.Mounts, d) {
			add = append(add, specs.Mount{Destination: d, Type: "tmpfs", Source: "tmpfs",
				Options: []string{"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}})
		}
	}
	s.Mounts = mergeMounts(s.Mounts, add) // in depth order: /run before what is mounted in it
	for i, m := range s.Mounts {
		if m.Destination == "/sys/fs/cgroup" {
			s.Mounts[i].Options = append(slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" }), "rw")
		}
	}
}

// isVirtualTerminal reports whether path is a virtual console, /dev/ttyN.
func isVirtualTerminal(path string) bool {
	n, ok := strings.CutPrefix(path, "/dev/tty")
	return ok && n != "" && n[0] >= '0' && n[0] <= '9'
}
