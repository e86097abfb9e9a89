package oci

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func genSec(t *testing.T, in *SpecInput) *specs.Spec {
	t.Helper()
	if in.Rootfs == "" {
		in.Rootfs = rootfsWithUsers(t)
	}
	if len(in.Args) == 0 {
		in.Args = []string{"sh"}
	}
	s, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func allowed(s *specs.Spec, name string) bool {
	for _, sc := range s.Linux.Seccomp.Syscalls {
		if sc.Action == specs.ActAllow && slices.Contains(sc.Names, name) && len(sc.Args) == 0 {
			return true
		}
	}
	return false
}

func TestDefaultConfinement(t *testing.T) {
	s := genSec(t, &SpecInput{Hostname: "h"})
	if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno {
		t.Fatalf("want docker's default seccomp profile (default action errno), got %+v", s.Linux.Seccomp)
	}
	for _, sc := range []string{"keyctl", "add_key", "init_module", "finit_module", "mount", "unshare", "reboot"} {
		if allowed(s, sc) {
			t.Errorf("%s is allowed by the default profile", sc)
		}
	}
	for _, sc := range []string{"read", "write", "execve", "clone"} {
		found := false
		for _, x := range s.Linux.Seccomp.Syscalls {
			found = found || (x.Action == specs.ActAllow && slices.Contains(x.Names, sc))
		}
		if !found {
			t.Errorf("%s is not allowed by the default profile", sc)
		}
	}
	if got := s.Process.Capabilities.Effective; len(got) != 14 {
		t.Errorf("effective caps %v, want docker's 14", got)
	}
	for _, p := range []string{"/proc/kcore", "/proc/keys", "/sys/firmware"} {
		if !slices.Contains(s.Linux.MaskedPaths, p) {
			t.Errorf("%s not masked", p)
		}
	}
	if !slices.Contains(s.Linux.ReadonlyPaths, "/proc/sys") {
		t.Error("/proc/sys not read-only")
	}
	if s.Process.NoNewPrivileges {
		t.Error("no-new-privileges is on without being asked for")
	}
	for _, m := range s.Mounts {
		if m.Destination == "/sys" && !slices.Contains(m.Options, "ro") {
			t.Error("/sys is writable")
		}
	}
	if len(s.Linux.Devices) != 0 {
		t.Errorf("default container gets host devices %v", s.Linux.Devices)
	}
	if d := s.Linux.Resources.Devices; len(d) != 1 || d[0].Allow {
		t.Errorf("device cgroup rules %+v, want deny-all only (runc adds the defaults)", d)
	}
}

func TestNonRootUserHasNoEffectiveCaps(t *testing.T) {
	s := genSec(t, &SpecInput{User: "app"})
	c := s.Process.Capabilities
	if len(c.Effective) != 0 || len(c.Permitted) != 0 || len(c.Bounding) != 14 {
		t.Errorf("caps for uid 1000: %+v, want bounding only", c)
	}
}

func TestPrivileged(t *testing.T) {
	s := genSec(t, &SpecInput{Security: Security{Privileged: true, NoNewPrivileges: true}})
	if s.Linux.Seccomp != nil {
		t.Error("privileged keeps a seccomp filter")
	}
	if len(s.Linux.MaskedPaths) != 0 || len(s.Linux.ReadonlyPaths) != 0 {
		t.Errorf("privileged keeps masked %v / read-only %v paths", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	if len(s.Process.Capabilities.Bounding) <= 14 || !slices.Contains(s.Process.Capabilities.Effective, "CAP_SYS_ADMIN") {
		t.Errorf("privileged caps %v", s.Process.Capabilities.Effective)
	}
	for _, m := range s.Mounts {
		if (m.Destination == "/sys" || m.Destination == "/sys/fs/cgroup") && slices.Contains(m.Options, "ro") {
			t.Errorf("%s stays read-only", m.Destination)
		}
	}
	if _, ok := findDevice(s.Linux.Devices, "/dev/null"); !ok {
		t.Error("host devices missing")
	}
	last := s.Linux.Resources.Devices[len(s.Linux.Resources.Devices)-1]
	if !last.Allow || last.Type != "" || last.Access != "rwm" {
		t.Errorf("last device rule %+v, want allow all", last)
	}
	if !s.Process.NoNewPrivileges {
		t.Error("no-new-privileges dropped")
	}
}

func TestCapabilitiesAddDrop(t *testing.T) {
	caps, err := Capabilities(&Security{CapDrop: []string{"ALL"}, CapAdd: []string{"CAP_NET_ADMIN"}})
	if err != nil || !slices.Equal(caps, []string{"CAP_NET_ADMIN"}) {
		t.Errorf("drop ALL + add NET_ADMIN = %v, %v", caps, err)
	}
	caps, _ = Capabilities(&Security{CapDrop: []string{"CAP_CHOWN", "CAP_KILL"}})
	if len(caps) != 12 || slices.Contains(caps, "CAP_KILL") {
		t.Errorf("drop 2 = %v", caps)
	}
	if _, err := Capabilities(&Security{CapAdd: []string{"CAP_BOGUS"}}); err == nil {
		t.Error("unknown capability accepted")
	}
	if NormalizeCapability("net_admin") != "CAP_NET_ADMIN" || NormalizeCapability("all") != "ALL" {
		t.Error("NormalizeCapability")
	}
}

func TestSeccompModes(t *testing.T) {
	s := genSec(t, &SpecInput{Security: Security{Seccomp: SeccompUnconfined}})
	if s.Linux.Seccomp != nil {
		t.Error("unconfined keeps a filter")
	}
	prof := `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`
	s = genSec(t, &SpecInput{Security: Security{Seccomp: prof}})
	if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActAllow || len(s.Linux.Seccomp.Syscalls) != 1 {
		t.Errorf("custom profile = %+v", s.Linux.Seccomp)
	}
	if err := ValidateSeccompProfile("{not json"); err == nil {
		t.Error("bad profile accepted")
	}
	if err := ValidateSeccompProfile(prof); err != nil {
		t.Error(err)
	}
}

func TestMaskUnmask(t *testing.T) {
	s := genSec(t, &SpecInput{Security: Security{Unmask: []string{"/proc/keys"}, Mask: []string{"/proc/cpuinfo"}}})
	if slices.Contains(s.Linux.MaskedPaths, "/proc/keys") || !slices.Contains(s.Linux.MaskedPaths, "/proc/cpuinfo") {
		t.Errorf("masked %v", s.Linux.MaskedPaths)
	}
	s = genSec(t, &SpecInput{Security: Security{Unmask: []string{"ALL"}}})
	if len(s.Linux.MaskedPaths)+len(s.Linux.ReadonlyPaths) != 0 {
		t.Error("unmask=ALL keeps paths")
	}
}

func TestSharedNamespaces(t *testing.T) {
	s := genSec(t, &SpecInput{Hostname: "h", Security: Security{PidNS: NSHost, UtsNS: NSHost, IpcNS: "/proc/42/ns/ipc"}})
	if _, ok := hasNS(s.Linux.Namespaces, specs.PIDNamespace); ok {
		t.Error("--pid host keeps a PID namespace")
	}
	if _, ok := hasNS(s.Linux.Namespaces, specs.UTSNamespace); ok || s.Hostname != "" {
		t.Error("--uts host keeps a UTS namespace or hostname")
	}
	if n, ok := hasNS(s.Linux.Namespaces, specs.IPCNamespace); !ok || n.Path != "/proc/42/ns/ipc" {
		t.Errorf("ipc namespace %+v", n)
	}
}

func TestSysctls(t *testing.T) {
	for _, ok := range []string{"kernel.shmmax", "kernel.msgmax", "fs.mqueue.msg_max", "net.ipv4.ip_forward", "net/ipv4/ip_forward"} {
		if err := CheckSysctl(ok, true, true, true); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"kernel.panic", "vm.swappiness", "fs.file-max", "kernel.hostname"} {
		if err := CheckSysctl(bad, true, true, true); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if err := CheckSysctl("net.ipv4.ip_forward", true, false, true); err == nil || !strings.Contains(err.Error(), "network") {
		t.Errorf("net.* with host network: %v", err)
	}
	if err := CheckSysctl("kernel.shmmax", false, true, true); err == nil {
		t.Error("ipc sysctl with shared IPC accepted")
	}
	_, err := Generate(&SpecInput{Rootfs: rootfsWithUsers(t), Args: []string{"sh"}, NetworkMode: "host",
		Security: Security{Sysctls: map[string]string{"net.ipv4.ip_forward": "1"}}})
	if err == nil {
		t.Error("Generate accepted net.* with the host network")
	}
	if NormalizeSysctl("net/ipv4/conf/eth0.100/rp_filter") != "net.ipv4.conf.eth0/100.rp_filter" {
		t.Errorf("NormalizeSysctl = %s", NormalizeSysctl("net/ipv4/conf/eth0.100/rp_filter"))
	}
}

func TestUlimitsReplaceDefaults(t *testing.T) {
	s := genSec(t, &SpecInput{NofileLimit: 20000, Security: Security{Ulimits: []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200}, {Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
	}}})
	if len(s.Process.Rlimits) != 2 || s.Process.Rlimits[0].Soft != 100 || s.Process.Rlimits[0].Hard != 200 {
		t.Errorf("rlimits %+v", s.Process.Rlimits)
	}
	if _, err := configRlimits(s.Process.Rlimits); err != nil {
		t.Error(err)
	}
	if _, err := configRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_BOGUS"}}); err == nil {
		t.Error("bogus rlimit converted")
	}
}

func TestDevices(t *testing.T) {
	d, err := DeviceFromPath("/dev/null", "/dev/mynull", "rw")
	if err != nil {
		t.Fatal(err)
	}
	if d.Type != "c" || d.Major != 1 || d.Minor != 3 || d.Path != "/dev/mynull" {
		t.Errorf("device %+v", d)
	}
	rule, _ := ParseDeviceCgroupRule("b 8:* rm")
	s := genSec(t, &SpecInput{Security: Security{Devices: []Device{d}, DeviceRules: []specs.LinuxDeviceCgroup{rule}}})
	if i, ok := findDevice(s.Linux.Devices, "/dev/mynull"); !ok || s.Linux.Devices[i].Major != 1 {
		t.Error("device node missing")
	}
	r := s.Linux.Resources.Devices
	if len(r) != 3 || r[0].Allow || !r[1].Allow || *r[1].Major != 1 || r[1].Access != "rw" || r[2].Type != "b" || r[2].Minor != nil {
		t.Errorf("device rules %+v", r)
	}
	if _, err := DeviceFromPath("/etc/passwd", "/x", "rwm"); err == nil {
		t.Error("a regular file is a device")
	}
	for _, bad := range []string{"c 1:3", "x 1:3 r", "c 1-3 r", "c 1:3 rx", "c a:3 r"} {
		if _, err := ParseDeviceCgroupRule(bad); err == nil {
			t.Errorf("rule %q accepted", bad)
		}
	}
	if !ValidAccess("rwm") || ValidAccess("rr") || ValidAccess("") {
		t.Error("ValidAccess")
	}
	dir := t.TempDir()
	if ds, err := DevicesUnder("/dev", "/dev", "r"); err != nil || len(ds) == 0 {
		t.Errorf("DevicesUnder(/dev) = %d, %v", len(ds), err)
	}
	if ds, _ := DevicesUnder(dir, "/x", "r"); len(ds) != 0 {
		t.Error("devices in an empty dir")
	}
}

func TestReadOnlyTmpfs(t *testing.T) {
	s := genSec(t, &SpecInput{ReadOnly: true})
	for _, d := range []string{"/tmp", "/var/tmp", "/run"} {
		if !hasMount(s.Mounts, d) {
			t.Errorf("read-only root without tmpfs on %s", d)
		}
	}
	s = genSec(t, &SpecInput{ReadOnly: true, Security: Security{NoReadOnlyTmpfs: true}})
	if hasMount(s.Mounts, "/tmp") {
		t.Error("--read-only-tmpfs=false still mounts /tmp")
	}
}

func TestOOMScoreAndNoNewPrivs(t *testing.T) {
	v := 500
	s := genSec(t, &SpecInput{Security: Security{OOMScoreAdj: &v, NoNewPrivileges: true, AppArmorProfile: "unconfined"}})
	if s.Process.OOMScoreAdj == nil || *s.Process.OOMScoreAdj != 500 || !s.Process.NoNewPrivileges || s.Process.ApparmorProfile != "" {
		t.Errorf("process %+v", s.Process)
	}
}

// cgroup v2 and systemd paths cannot run on this host: check the spec.
func TestCgroupV2Spec(t *testing.T) {
	limit, swap, pids := int64(64<<20), int64(128<<20), int64(10)
	quota, period, shares := int64(50000), uint64(100000), uint64(512)
	res := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap},
		CPU:    &specs.LinuxCPU{Quota: &quota, Period: &period, Shares: &shares, Cpus: "0"},
		Pids:   &specs.LinuxPids{Limit: &pids},
	}
	s := genSec(t, &SpecInput{CgroupNS: true, CgroupsPath: "machine.slice:servin:abc", CgroupManager: "systemd", Resources: res})
	if _, ok := hasNS(s.Linux.Namespaces, specs.CgroupNamespace); !ok {
		t.Error("no cgroup namespace on v2")
	}
	if !useSystemd(s) || s.Linux.CgroupsPath != "machine.slice:servin:abc" {
		t.Errorf("systemd manager not selected: %v %q", s.Annotations, s.Linux.CgroupsPath)
	}
	r := s.Linux.Resources
	if *r.Memory.Limit != limit || *r.Memory.Swap != swap || *r.CPU.Quota != quota || r.CPU.Cpus != "0" || *r.Pids.Limit != 10 {
		t.Errorf("resources %+v", r)
	}
	if len(r.Devices) != 1 {
		t.Error("resources lost the device rules")
	}
	// The bundle round-trips: what `servin oci create` reads is what was generated.
	dir := t.TempDir()
	if err := WriteBundle(dir, s); err != nil {
		t.Fatal(err)
	}
	back, err := ReadBundle(dir)
	if err != nil || !useSystemd(back) {
		t.Errorf("bundle lost the cgroup manager: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Error(err)
	}
}

func TestNetDevCounters(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dev")
	os.WriteFile(p, []byte(`Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:  2048      20    0    0    0     0          0         0      512       5    0    0    0     0       0          0
`), 0o644)
	rx, tx, err := netDevCounters(p)
	if err != nil || rx != 2048 || tx != 512 {
		t.Errorf("netDevCounters = %d %d %v", rx, tx, err)
	}
}

func TestUserNamespaceSpec(t *testing.T) {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s := genSec(t, &SpecInput{NetworkMode: "host", Security: Security{UIDMappings: m, GIDMappings: m}})
	if n, ok := hasNS(s.Linux.Namespaces, specs.UserNamespace); !ok || n.Path != "" {
		t.Error("no user namespace")
	}
	if len(s.Linux.UIDMappings) != 1 || s.Linux.UIDMappings[0].HostID != 100000 {
		t.Errorf("uid mappings %+v", s.Linux.UIDMappings)
	}
	// sysfs cannot be mounted without owning the network namespace.
	for _, mnt := range s.Mounts {
		if mnt.Destination == "/sys" && (mnt.Type != "bind" || !slices.Contains(mnt.Options, "ro")) {
			t.Errorf("/sys with the host network in a user namespace: %+v", mnt)
		}
	}
	s = genSec(t, &SpecInput{Security: Security{UserNSPath: "/proc/1/ns/user"}})
	if n, _ := hasNS(s.Linux.Namespaces, specs.UserNamespace); n.Path != "/proc/1/ns/user" || s.Linux.UIDMappings != nil {
		t.Errorf("joined user namespace %+v %+v", n, s.Linux.UIDMappings)
	}
}
