// Package oci owns the boundary between servin and the OCI runtime: it turns
// a container's configuration into a runtime-spec bundle (config.json), and
// drives runc's libcontainer to create, start, signal, pause and delete
// containers described by such a bundle.
//
// The libcontainer side runs in the `servin oci ...` helper process that the
// monitor execs; see runtime_linux.go.
package oci

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DefaultCapabilities is docker's default capability set (CapEff 00000000a80425fb).
var DefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// DefaultMaskedPaths and DefaultReadonlyPaths follow docker's defaults.
var (
	DefaultMaskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		"/proc/sched_debug", "/proc/scsi", "/sys/firmware",
		"/sys/devices/virtual/powercap",
	}
	DefaultReadonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// DefaultPath is set when neither the image nor the user sets PATH.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// SpecInput is everything the spec generator needs to know about one
// container start. It is derived from the stored container config.
type SpecInput struct {
	ID       string
	Rootfs   string
	ReadOnly bool
	Args     []string
	Env      []string
	// UnsetEnv are default variables (PATH, TERM, container, HOME,
	// HOSTNAME) not to add; UnsetEnvAll adds none of them.
	UnsetEnv    []string
	UnsetEnvAll bool
	Cwd         string
	User        string // as given: "", "name", "uid", "uid:gid", "name:group"
	GroupAdd    []string
	Hostname    string
	Terminal    bool
	NetworkMode string // "none" (private netns with lo), "host", "bridge", "container:ID", "ns:PATH"
	// NetNSPath is the network namespace to join: one servin made for the
	// container (bridge) or one it shares (container:, ns:).
	NetNSPath   string
	CgroupsPath string
	CgroupNS    bool // private cgroup namespace (cgroup v2 default)
	// Umask of the container's processes; nil keeps the runtime's 0022.
	Umask       *uint32
	Annotations map[string]string
	ExtraMounts []specs.Mount
	// NofileLimit is the caller's hard RLIMIT_NOFILE; container limits never exceed it.
	NofileLimit uint64
	NprocLimit  uint64
	// MemoryLimit in bytes; 0 is unlimited.
	MemoryLimit int64
	// Security confines the container (see security.go); the zero value is
	// docker's default confinement.
	Security Security
	// Resources are cgroup limits besides MemoryLimit (see resources.go).
	Resources *specs.LinuxResources
	// CgroupManager is "cgroupfs" (default) or "systemd"; with systemd,
	// CgroupsPath is "slice:prefix:name".
	CgroupManager string
}

// ResolvedUser is the numeric identity of the container process.
type ResolvedUser struct {
	UID, GID       uint32
	AdditionalGids []uint32
	Home           string
}

// ResolveUser looks the user spec up in the container's /etc/passwd and
// /etc/group, resolving paths inside rootfs so that symlinks cannot escape.
func ResolveUser(rootfs, spec string, groupAdd []string) (*ResolvedUser, error) {
	passwd, err := securejoin.SecureJoin(rootfs, "/etc/passwd")
	if err != nil {
		return nil, err
	}
	group, err := securejoin.SecureJoin(rootfs, "/etc/group")
	if err != nil {
		return nil, err
	}
	defaults := &user.ExecUser{Uid: 0, Gid: 0, Home: "/"}
	eu, err := user.GetExecUserPath(spec, defaults, passwd, group)
	if err != nil {
		return nil, fmt.Errorf("unable to find user %s: %w", spec, err)
	}
	ru := &ResolvedUser{UID: uint32(eu.Uid), GID: uint32(eu.Gid), Home: eu.Home}
	for _, g := range eu.Sgids {
		ru.AdditionalGids = append(ru.AdditionalGids, uint32(g))
	}
	if len(groupAdd) > 0 {
		extra, err := user.GetAdditionalGroupsPath(groupAdd, group)
		if err != nil {
			return nil, fmt.Errorf("unable to resolve --group-add %v: %w", groupAdd, err)
		}
		for _, g := range extra {
			ru.AdditionalGids = append(ru.AdditionalGids, uint32(g))
		}
	}
	return ru, nil
}

// Generate builds the runtime spec for one container start.
func Generate(in *SpecInput) (*specs.Spec, error) {
	if len(in.Args) == 0 {
		return nil, fmt.Errorf("no command specified")
	}
	u, err := ResolveUser(in.Rootfs, in.User, in.GroupAdd)
	if err != nil {
		return nil, err
	}
	env := in.Env
	if !in.UnsetEnvAll {
		env = withDefaults(in.Env, u.Home, in.Hostname, in.Terminal, in.UnsetEnv)
	}
	cwd := in.Cwd
	if cwd == "" {
		cwd = "/"
	}
	caps := append([]string(nil), DefaultCapabilities...)
	nofile := uint64(1048576)
	if in.NofileLimit > 0 && in.NofileLimit < nofile {
		nofile = in.NofileLimit
	}
	rlimits := []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: nofile, Soft: nofile}}
	if in.NprocLimit > 0 {
		rlimits = append(rlimits, specs.POSIXRlimit{Type: "RLIMIT_NPROC", Hard: in.NprocLimit, Soft: in.NprocLimit})
	}
	s := &specs.Spec{
		Version:  specs.Version,
		Hostname: in.Hostname,
		Root:     &specs.Root{Path: in.Rootfs, Readonly: in.ReadOnly},
		Process: &specs.Process{
			Terminal: in.Terminal,
			Args:     in.Args,
			Env:      env,
			Cwd:      cwd,
			User: specs.User{
				UID: u.UID, GID: u.GID, AdditionalGids: u.AdditionalGids, Umask: in.Umask,
			},
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			Rlimits: rlimits,
		},
		Mounts:      defaultMounts(),
		Annotations: in.Annotations,
		Linux: &specs.Linux{
			CgroupsPath: in.CgroupsPath,
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
			},
			MaskedPaths:   DefaultMaskedPaths,
			ReadonlyPaths: DefaultReadonlyPaths,
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
		},
	}
	if in.MemoryLimit > 0 {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &in.MemoryLimit}
	}
	if in.Terminal {
		s.Process.ConsoleSize = &specs.Box{Height: 24, Width: 80}
	}
	switch {
	case in.NetworkMode == "host":
		// Share the host's network and hostname resolution files.
	case in.NetNSPath != "" && in.NetworkMode != "bridge":
		// A namespace shared with others: not the container's own, so
		// net.* sysctls are refused below.
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: in.NetNSPath})
	case in.NetworkMode == "" || in.NetworkMode == "none" || in.NetworkMode == "bridge":
		// bridge: the path is set after the security checks, which count
		// the namespace servin made for this container as private.
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	default:
		return nil, fmt.Errorf("network mode %q is not supported", in.NetworkMode)
	}
	if in.NetworkMode == "host" && in.Hostname == "" {
		// Without a UTS namespace of its own the container keeps the host name.
		s.Linux.Namespaces = removeNS(s.Linux.Namespaces, specs.UTSNamespace)
	}
	if in.CgroupNS {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	s.Mounts = mergeMounts(s.Mounts, in.ExtraMounts)
	if err := applySecurity(s, &in.Security, in.NetworkMode); err != nil {
		return nil, err
	}
	if in.NetworkMode == "bridge" && in.NetNSPath != "" {
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = in.NetNSPath
			}
		}
	}
	if in.NetNSPath != "" && hasUserNS(s) {
		// sysfs can only be mounted by the user namespace that owns the
		// network namespace, and servin made this one outside the
		// container's: bind the host's /sys instead, read-only, as podman does.
		s.Mounts = replaceMount(s.Mounts, specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys",
			Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}})
	}
	applyResources(s, in.Resources)
	if in.CgroupManager == "systemd" {
		s.Annotations = withAnnotation(s.Annotations, AnnotationCgroupManager, "systemd")
	}
	return s, nil
}

func hasUserNS(s *specs.Spec) bool {
	for _, n := range s.Linux.Namespaces {
		if n.Type == specs.UserNamespace {
			return true
		}
	}
	return false
}

func removeNS(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) []specs.LinuxNamespace {
	out := ns[:0]
	for _, n := range ns {
		if n.Type != t {
			out = append(out, n)
		}
	}
	return out
}

func withDefaults(env []string, home, hostname string, tty bool, unset []string) []string {
	has := func(k string) bool {
		if slices.Contains(unset, k) {
			return true // as if set: the default is not wanted
		}
		for _, e := range env {
			if strings.HasPrefix(e, k+"=") {
				return true
			}
		}
		return false
	}
	out := append([]string(nil), env...)
	if !has("PATH") {
		out = append([]string{DefaultPath}, out...)
	}
	if tty && !has("TERM") {
		out = append(out, "TERM=xterm")
	}
	if !has("container") {
		out = append(out, "container=servin")
	}
	if !has("HOME") && home != "" {
		out = append(out, "HOME="+home)
	}
	if !has("HOSTNAME") && hostname != "" {
		out = append(out, "HOSTNAME="+hostname)
	}
	return out
}

func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}

// mergeMounts lets extra mounts replace defaults at the same destination and
// orders the result so that parents are mounted before children.
func mergeMounts(base, extra []specs.Mount) []specs.Mount {
	byDest := map[string]int{}
	out := append([]specs.Mount(nil), base...)
	for i, m := range out {
		byDest[filepath.Clean(m.Destination)] = i
	}
	for _, m := range extra {
		if i, ok := byDest[filepath.Clean(m.Destination)]; ok {
			out[i] = m
			continue
		}
		byDest[filepath.Clean(m.Destination)] = len(out)
		out = append(out, m)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return depth(out[i].Destination) < depth(out[j].Destination)
	})
	return out
}

func depth(p string) int {
	p = filepath.Clean(p)
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}

// HardNofileLimit returns the caller's hard RLIMIT_NOFILE.
func HardNofileLimit() uint64 {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 1024
	}
	return rl.Max
}

// HardNprocLimit returns the caller's hard RLIMIT_NPROC.
func HardNprocLimit() uint64 {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &rl); err != nil {
		return 0
	}
	return rl.Max
}

// WriteBundle writes spec as bundle/config.json atomically.
func WriteBundle(bundle string, s *specs.Spec) error {
	if err := os.MkdirAll(bundle, 0o700); err != nil {
		return err
	}
	return writeJSONAtomic(filepath.Join(bundle, "config.json"), s)
}
