package e2e

// Security defaults and flags, asserted from inside containers.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// hostStatus returns a field of the test process's /proc/self/status.
func hostStatus(t *testing.T, key string) string {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/self/status", key)
	return ""
}

// openableBlockDevice finds a host block device this process can open, as
// "MAJOR MINOR PATH"; ok is false when there is none.
func openableBlockDevice() (major, minor, path string, ok bool) {
	entries, _ := os.ReadDir("/sys/dev/block")
	for _, e := range entries {
		uevent, err := os.ReadFile(filepath.Join("/sys/dev/block", e.Name(), "uevent"))
		if err != nil {
			continue
		}
		m := regexp.MustCompile(`(?m)^DEVNAME=(.+)$`).FindSubmatch(uevent)
		if m == nil {
			continue
		}
		p := "/dev/" + string(m[1])
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		f.Close()
		major, minor, _ = strings.Cut(e.Name(), ":")
		return major, minor, p, true
	}
	return "", "", "", false
}

// probeScript prints one KEY=VALUE line per confinement check.
func probeScript(major, minor string) string {
	return strings.Join([]string{
		`grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status | tr -d '\t' | sed 's/:/=/'`,
		`if mount -t tmpfs probe /tmp 2>/dev/null; then echo mount=ok; else echo mount=fail; fi`,
		`echo "insmod=$(insmod /bin/busybox 2>&1 | sed 's/.*: //')"`,
		`if unshare -U true 2>/dev/null; then echo unshare=ok; else echo unshare=fail; fi`,
		`if (echo probe > /proc/sys/kernel/domainname) 2>/dev/null; then echo procsys=ok; else echo procsys=fail; fi`,
		`if grep -q ' /proc/keys ' /proc/self/mountinfo; then echo keys=masked; else echo keys=visible; fi`,
		`if grep -q ' /proc/sys ro,' /proc/self/mountinfo; then echo procsysmount=ro; else echo procsysmount=rw; fi`,
		`echo "firmware=$(ls /sys/firmware | wc -l)"`,
		`echo "dev=$(ls /dev | tr '\n' ' ')"`,
		fmt.Sprintf(`mknod /dev/probe b %s %s 2>/dev/null; if dd if=/dev/probe of=/dev/null bs=1 count=1 2>/dev/null; then echo rawdev=ok; else echo rawdev=fail; fi`, major, minor),
		`echo "pid1=$(cat /proc/1/comm)"`,
		`echo "nofile=$(ulimit -Hn)"`,
	}, "; ")
}

func parseProbe(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// A default container is as confined as a docker one: from inside it,
// mount, module loading, namespaces creation, writing /proc/sys, raw access
// to host devices and seeing host processes all fail.
func TestSecurityDefaultsFromInside(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	major, minor, _, haveDev := openableBlockDevice()
	if !haveDev {
		major, minor = "7", "0"
	}
	r := s.run("run", "--rm", busybox, "sh", "-c", probeScript(major, minor))
	s.expectExit(r, 0)
	p := parseProbe(r.stdout)
	want := map[string]string{
		"CapEff": "00000000a80425fb", "Seccomp": "2", "NoNewPrivs": "0", "mount": "fail",
		"insmod": "Operation not permitted", "unshare": "fail", "procsys": "fail", "keys": "masked",
		"procsysmount": "ro", "firmware": "0", "rawdev": "fail", "pid1": "sh",
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q\n%s", k, p[k], v, r.stdout)
		}
	}
	// A minimal /dev: no host devices.
	devs := strings.Fields(p["dev"])
	sort.Strings(devs)
	for _, d := range devs {
		switch d {
		case "console", "core", "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero":
		default:
			t.Errorf("unexpected /dev entry %q in a default container: %v", d, devs)
		}
	}
	// Rlimits never exceed the caller's hard limit.
	var hard string
	if out, err := os.ReadFile("/proc/self/limits"); err == nil {
		if m := regexp.MustCompile(`Max open files\s+\d+\s+(\d+)`).FindSubmatch(out); m != nil {
			hard = string(m[1])
		}
	}
	if hard != "" && len(hard) < 8 && p["nofile"] != hard {
		t.Errorf("nofile hard limit %s, want the caller's %s", p["nofile"], hard)
	}
	// /proc/kcore is masked wherever the kernel has it.
	if _, err := os.Stat("/proc/kcore"); err == nil {
		r := s.run("run", "--rm", busybox, "sh", "-c", "wc -c < /proc/kcore")
		if strings.TrimSpace(r.stdout) != "0" {
			t.Errorf("/proc/kcore not masked: %s", r)
		}
	}
}

// With --privileged every one of those works.
func TestSecurityPrivileged(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	major, minor, _, haveDev := openableBlockDevice()
	r := s.run("run", "--rm", "--privileged", busybox, "sh", "-c", probeScript(major, minor)+"; grep -c ' /sys rw' /proc/self/mountinfo")
	s.expectExit(r, 0)
	p := parseProbe(r.stdout)
	want := map[string]string{
		"CapEff": hostStatus(t, "CapBnd"), "Seccomp": "0", "mount": "ok", "unshare": "ok",
		"procsys": "ok", "keys": "visible", "procsysmount": "rw", "pid1": "sh",
	}
	if haveDev {
		want["rawdev"] = "ok"
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q\n%s", k, p[k], v, r.stdout)
		}
	}
	if p["insmod"] == "Operation not permitted" {
		t.Errorf("module loading still refused: %q", p["insmod"])
	}
	if len(strings.Fields(p["dev"])) < 20 {
		t.Errorf("privileged /dev lacks the host's devices: %s", p["dev"])
	}
	if _, err := os.Stat("/sys/firmware"); err == nil && p["firmware"] == "0" {
		if entries, _ := os.ReadDir("/sys/firmware"); len(entries) > 0 {
			t.Errorf("/sys/firmware still masked")
		}
	}
}

// nsLinks prints the PID, IPC and UTS namespaces of the shell.
const nsLinks = "for n in pid ipc uts; do readlink /proc/self/ns/$n; done"

// Host processes are visible only with --pid host; the other namespaces
// follow --ipc/--uts host and container:NAME.
func TestSecurityNamespaceModes(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	self := func(ns string) string {
		l, err := os.Readlink("/proc/self/ns/" + ns)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	r := s.run("run", "--rm", "--pid", "host", "--ipc", "host", "--uts", "host", busybox, "sh", "-c",
		nsLinks+"; hostname; cat /proc/1/comm")
	s.expectExit(r, 0)
	host, _ := os.Hostname()
	init1, _ := os.ReadFile("/proc/1/comm")
	want := []string{self("pid"), self("ipc"), self("uts"), host, strings.TrimSpace(string(init1))}
	if got := r.lines(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("host namespaces: got %v, want %v", got, want)
	}
	// By default all three are the container's own.
	r = s.run("run", "--rm", busybox, "sh", "-c", nsLinks)
	for i, ns := range []string{"pid", "ipc", "uts"} {
		if l := r.lines(); len(l) != 3 || l[i] == self(ns) {
			t.Errorf("default container shares the host's %s namespace: %v", ns, l)
		}
	}
	owner := s.name("owner")
	s.runDetached(owner, "--hostname", "owner", busybox, "sleep", "300")
	ownerNS := s.mustRun("exec", owner, "sh", "-c", nsLinks)
	c := "container:" + owner
	r = s.run("run", "--rm", "--pid", c, "--ipc", c, "--uts", c, busybox, "sh", "-c",
		nsLinks+"; hostname; cat /proc/1/cmdline | tr '\\0' ' '")
	s.expectExit(r, 0)
	l := r.lines()
	if len(l) != 5 || strings.Join(l[:3], "\n") != ownerNS || l[3] != "owner" || !strings.HasPrefix(l[4], "sleep 300") {
		t.Errorf("joined namespaces: %v, want %q, hostname owner and the owner's PID 1", l, ownerNS)
	}
	if got := s.inspect(owner, "{{.HostConfig.PidMode}}"); got != "private" {
		t.Errorf("PidMode = %q", got)
	}
	for _, bad := range [][]string{
		{"--pid", "container:nosuchcontainer"}, {"--ipc", "bogus"}, {"--uts", "host", "--hostname", "x"},
	} {
		r := s.run(append(append([]string{"run", "--rm"}, bad...), busybox, "true")...)
		s.expectExit(r, 125)
	}
}

func TestSecurityCapabilities(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	capEff := func(args ...string) string {
		t.Helper()
		r := s.run(append(append([]string{"run", "--rm"}, args...), busybox, "sh", "-c", "grep CapEff /proc/self/status | cut -f2")...)
		s.expectExit(r, 0)
		return r.out()
	}
	if got := capEff("--cap-drop", "ALL", "--cap-add", "NET_ADMIN"); got != "0000000000001000" {
		t.Errorf("drop ALL + add NET_ADMIN: CapEff %s", got)
	}
	if got := capEff("--cap-add", "ALL"); got != hostStatus(t, "CapBnd") {
		t.Errorf("add ALL: CapEff %s, want the host's bounding set", got)
	}
	if got := capEff("--cap-drop", "chown,kill"); got != "00000000a80425da" {
		t.Errorf("drop CHOWN,KILL: CapEff %s", got)
	}
	if got := capEff("--cap-add", "cap_sys_admin"); got != "00000000a82425fb" {
		t.Errorf("add SYS_ADMIN: CapEff %s", got)
	}
	// The capability's effect: chown fails without CAP_CHOWN.
	r := s.run("run", "--rm", "--cap-drop", "CHOWN", busybox, "sh", "-c", "touch /tmp/f; chown 1:1 /tmp/f")
	if r.exit == 0 || !strings.Contains(r.stderr+r.stdout, "not permitted") {
		t.Errorf("chown without CAP_CHOWN: %s", r)
	}
	// A non-root user has no effective capabilities, as with docker.
	if got := capEff("-u", "nobody"); got != "0000000000000000" {
		t.Errorf("nobody: CapEff %s", got)
	}
	r = s.run("run", "--rm", "--cap-add", "NO_SUCH_CAP", busybox, "true")
	s.expectExit(r, 125)
	// A capability outside servin's own bounding set cannot be granted.
	if bnd := hostStatus(t, "CapBnd"); bnd == "000001fffeffffff" {
		r = s.run("run", "--rm", "--cap-add", "SYS_RESOURCE", busybox, "true")
		s.expectExit(r, 125)
		if !strings.Contains(r.stderr, "bounding set") {
			t.Errorf("no explanation: %s", r.stderr)
		}
	}
	name := s.name("caps")
	s.mustRun("create", "--name", name, "--cap-add", "NET_ADMIN", "--cap-drop", "MKNOD", busybox, "true")
	if got := s.inspect(name, "{{.HostConfig.CapAdd}} {{.HostConfig.CapDrop}}"); got != "[CAP_NET_ADMIN] [CAP_MKNOD]" {
		t.Errorf("inspect caps = %q", got)
	}
}

func TestSecurityOpts(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	r := s.run("run", "--rm", "--security-opt", "no-new-privileges", busybox, "grep", "NoNewPrivs", "/proc/self/status")
	if !strings.Contains(r.stdout, "1") {
		t.Errorf("no-new-privileges: %s", r)
	}
	r = s.run("run", "--rm", "--security-opt", "seccomp=unconfined", busybox, "sh", "-c", "grep '^Seccomp:' /proc/self/status; unshare -U true && echo userns-ok")
	if !strings.Contains(r.stdout, "Seccomp:\t0") || !strings.Contains(r.stdout, "userns-ok") {
		t.Errorf("seccomp=unconfined: %s", r)
	}
	// A profile of our own: mkdir is refused, everything else allowed.
	prof := filepath.Join(t.TempDir(), "profile.json")
	os.WriteFile(prof, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644)
	r = s.run("run", "--rm", "--security-opt", "seccomp="+prof, busybox, "sh", "-c", "mkdir /tmp/d; echo rc=$?; unshare -U true && echo userns-ok")
	if !strings.Contains(r.stdout, "rc=1") || !strings.Contains(r.stderr, "not permitted") || !strings.Contains(r.stdout, "userns-ok") {
		t.Errorf("custom profile: %s", r)
	}
	os.WriteFile(prof+".bad", []byte(`{not json`), 0o644)
	for _, opt := range []string{"seccomp=" + prof + ".bad", "seccomp=/no/such/profile.json", "bogus=1", "no-new-privileges=maybe"} {
		r := s.run("run", "--rm", "--security-opt", opt, busybox, "true")
		s.expectExit(r, 125)
	}
	// AppArmor: unconfined is always fine; a profile needs AppArmor.
	s.expectExit(s.run("run", "--rm", "--security-opt", "apparmor=unconfined", busybox, "true"), 0)
	if _, err := os.Stat("/sys/kernel/security/apparmor"); err != nil {
		r := s.run("run", "--rm", "--security-opt", "apparmor=docker-default", busybox, "true")
		s.expectExit(r, 125)
		if !strings.Contains(r.stderr, "AppArmor is not enabled") {
			t.Errorf("apparmor profile without AppArmor: %s", r.stderr)
		}
	}
	// SELinux labels are accepted and have nothing to apply to when it is off.
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err != nil {
		s.expectExit(s.run("run", "--rm", "--security-opt", "label=disable", "--security-opt", "label=type:spc_t", busybox, "true"), 0)
	}
	// mask/unmask
	r = s.run("run", "--rm", "--security-opt", "unmask=/proc/keys", "--security-opt", "mask=/etc/hostname", busybox, "sh", "-c",
		"grep -c ' /proc/keys ' /proc/self/mountinfo; wc -c < /etc/hostname")
	if got := strings.Join(r.lines(), " "); got != "0 0" {
		t.Errorf("unmask/mask: %q\n%s", got, r)
	}
	name := s.name("opts")
	s.mustRun("create", "--name", name, "--security-opt", "seccomp="+prof, "--security-opt", "no-new-privileges", busybox, "true")
	if got := s.inspect(name, "{{.HostConfig.SecurityOpt}} {{.HostConfig.SeccompProfilePath}}"); got != fmt.Sprintf("[seccomp=%s no-new-privileges] %s", prof, prof) {
		t.Errorf("inspect = %q", got)
	}
}

func TestSecurityReadOnlyAndUser(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	r := s.run("run", "--rm", "--read-only", busybox, "sh", "-c", "touch /f 2>/dev/null && echo root-rw; touch /tmp/f /run/f /var/tmp/f && echo tmp-rw")
	if r.out() != "tmp-rw" {
		t.Errorf("--read-only: %s", r)
	}
	r = s.run("run", "--rm", "--read-only", "--read-only-tmpfs=false", busybox, "sh", "-c", "touch /tmp/f 2>/dev/null && echo tmp-rw; echo done")
	if r.out() != "done" {
		t.Errorf("--read-only-tmpfs=false: %s", r)
	}
	for _, c := range []struct{ args, want string }{
		{"-u nobody", "uid=65534(nobody) gid=65534(nobody)"},
		{"-u 1234:5678", "uid=1234 gid=5678"},
		{"-u nobody:root", "uid=65534(nobody) gid=0(root)"},
		{"-u nobody --group-add root --group-add 42", "uid=65534(nobody) gid=65534(nobody) groups="},
	} {
		args := append(append([]string{"run", "--rm"}, strings.Fields(c.args)...), busybox, "id")
		r := s.run(args...)
		if !strings.HasPrefix(r.out(), c.want) {
			t.Errorf("%s: id = %q, want %q", c.args, r.out(), c.want)
		}
	}
	if r := s.run("run", "--rm", "-u", "nobody", "--group-add", "root", "--group-add", "42", busybox, "id", "-G"); !strings.Contains(" "+r.out()+" ", " 0 ") || !strings.Contains(r.out()+" ", " 42 ") {
		t.Errorf("--group-add: id -G = %q", r.out())
	}
	s.expectExit(s.run("run", "--rm", "-u", "nosuchuser", busybox, "id"), 125)
	s.expectExit(s.run("run", "--rm", "--group-add", "nosuchgroup", busybox, "id"), 125)
}

func TestSecuritySysctl(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	r := s.run("run", "--rm", "--sysctl", "kernel.shmmax=123456789", "--sysctl", "net.ipv4.ip_forward=1",
		"--sysctl", "fs.mqueue.msg_max=20", "--sysctl", "kernel.domainname=example.org", busybox, "sh", "-c",
		"cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward /proc/sys/fs/mqueue/msg_max /proc/sys/kernel/domainname")
	if got := strings.Join(r.lines(), " "); got != "123456789 1 20 example.org" {
		t.Errorf("sysctls: %s", r)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--sysctl", "kernel.panic=1"}, "not namespaced"},
		{[]string{"--sysctl", "vm.swappiness=1"}, "not namespaced"},
		{[]string{"--network", "host", "--sysctl", "net.ipv4.ip_forward=1"}, "network namespace"},
		{[]string{"--ipc", "host", "--sysctl", "kernel.shmmax=1"}, "IPC namespace"},
		{[]string{"--sysctl", "novalue"}, "KEY=VALUE"},
	} {
		r := s.run(append(append([]string{"run", "--rm"}, c.args...), busybox, "true")...)
		s.expectExit(r, 125)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, r.stderr, c.want)
		}
	}
}

func TestSecurityUlimit(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	r := s.run("run", "--rm", "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=500", "--ulimit", "core=0", busybox, "sh", "-c",
		"ulimit -n; ulimit -Hn; ulimit -u; ulimit -c")
	if got := strings.Join(r.lines(), " "); got != "1024 2048 500 0" {
		t.Errorf("ulimits: %s", r)
	}
	// Exec'd processes get them too.
	name := s.name("ul")
	s.runDetached(name, "--ulimit", "nofile=512", busybox, "sleep", "300")
	if got := s.mustRun("exec", name, "sh", "-c", "ulimit -n"); got != "512" {
		t.Errorf("exec ulimit -n = %s", got)
	}
	if got := s.inspect(name, "{{range .HostConfig.Ulimits}}{{.Name}}={{.Soft}}:{{.Hard}}{{end}}"); got != "RLIMIT_NOFILE=512:512" {
		t.Errorf("inspect ulimits = %q", got)
	}
	hard := hostHardNofile(t)
	r = s.run("run", "--rm", "--ulimit", fmt.Sprintf("nofile=%d", hard+1), busybox, "true")
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "hard limit") {
		t.Errorf("above the hard limit: %s", r.stderr)
	}
	for _, bad := range []string{"nofile=2:1", "bogus=1", "nofile=abc"} {
		s.expectExit(s.run("run", "--rm", "--ulimit", bad, busybox, "true"), 125)
	}
}

func hostHardNofile(t *testing.T) uint64 {
	out, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Max open files\s+\d+\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Skip("unlimited nofile hard limit")
	}
	var n uint64
	fmt.Sscan(string(m[1]), &n)
	return n
}

func TestSecurityDevices(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	major, minor, dev, ok := openableBlockDevice()
	if !ok {
		t.Skip("no openable host block device")
	}
	r := s.run("run", "--rm", "--device", dev, busybox, "sh", "-c", fmt.Sprintf("ls -l %s; dd if=%s of=/dev/null bs=1 count=1 && echo read-ok", dev, dev))
	if !strings.Contains(r.stdout, "read-ok") || !strings.Contains(r.stdout, major+",") {
		t.Errorf("--device %s: %s", dev, r)
	}
	r = s.run("run", "--rm", "--device", dev+":/dev/mydev:r", busybox, "sh", "-c",
		"dd if=/dev/mydev of=/dev/null bs=1 count=1 && echo read-ok; dd if=/dev/zero of=/dev/mydev bs=1 count=1 conv=notrunc || echo write-denied")
	if !strings.Contains(r.stdout, "read-ok") || !strings.Contains(r.stdout, "write-denied") {
		t.Errorf("--device ...:r: %s", r)
	}
	rule := fmt.Sprintf("b %s:%s r", major, minor)
	r = s.run("run", "--rm", "--device-cgroup-rule", rule, busybox, "sh", "-c",
		fmt.Sprintf("mknod /dev/x b %s %s && dd if=/dev/x of=/dev/null bs=1 count=1 && echo rule-ok", major, minor))
	if !strings.Contains(r.stdout, "rule-ok") {
		t.Errorf("--device-cgroup-rule %q: %s", rule, r)
	}
	for _, bad := range [][]string{{"--device", "/dev/no-such-device"}, {"--device", "/etc/passwd"}, {"--device-cgroup-rule", "x 1:3 r"}, {"--device", dev + ":/dev/x:rwq"}} {
		s.expectExit(s.run(append(append([]string{"run", "--rm"}, bad...), busybox, "true")...), 125)
	}
}

// --oom-score-adj: raising works; lowering needs CAP_SYS_RESOURCE, which
// this machine keeps out of the bounding set: servin says so.
func TestSecurityOOMScoreAdj(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	r := s.run("run", "--rm", "--oom-score-adj", "500", busybox, "cat", "/proc/self/oom_score_adj")
	if r.out() != "500" {
		t.Errorf("oom_score_adj: %s", r)
	}
	s.expectExit(s.run("run", "--rm", "--oom-score-adj", "1001", busybox, "true"), 125)
	if hostStatus(t, "CapEff") != "000001fffeffffff" {
		t.Skip("this host lets servin lower scores")
	}
	r = s.run("run", "--rm", "--oom-score-adj", "-100", busybox, "true")
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "CAP_SYS_RESOURCE") {
		t.Errorf("no explanation: %s", r.stderr)
	}
}

// The compiled seccomp filter is cached under the run root: the first
// container compiles docker's profile, the next ones load the stored
// program, and each of them is confined the same way.
func TestSeccompFilterCache(t *testing.T) {
	t.Parallel()
	if suite.podman {
		t.Skip("servin's own cache")
	}
	s := newIsolatedServin(t)
	s.importBusybox()
	script := "grep '^Seccomp:' /proc/self/status; unshare -U true 2>&1; echo rc=$?"
	for i := 0; i < 3; i++ {
		r := s.run("run", "--rm", "--network", "none", busybox, "sh", "-c", script)
		if !strings.Contains(r.stdout, "Seccomp:\t2") || !strings.Contains(r.stdout, "not permitted") || strings.Contains(r.stdout, "rc=0") {
			t.Fatalf("run %d under the default profile: %s", i, r)
		}
	}
	entries, _ := filepath.Glob(filepath.Join(s.st.runroot, "seccomp", "*.bpf"))
	if len(entries) != 1 {
		t.Fatalf("want one cached filter under the run root, have %v", entries)
	}
	// Another profile is another entry, and is enforced on its first and
	// its cached runs.
	prof := filepath.Join(t.TempDir(), "profile.json")
	os.WriteFile(prof, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644)
	for i := 0; i < 2; i++ {
		r := s.run("run", "--rm", "--network", "none", "--security-opt", "seccomp="+prof, busybox, "sh", "-c", "mkdir /tmp/d; echo rc=$?; unshare -U true && echo userns-ok")
		if !strings.Contains(r.stdout, "rc=1") || !strings.Contains(r.stdout, "userns-ok") {
			t.Fatalf("custom profile, run %d: %s", i, r)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(s.st.runroot, "seccomp", "*.bpf")); len(entries) != 2 {
		t.Fatalf("want two cached filters, have %v", entries)
	}
}

// Containers starting at once on an empty cache all compile the profile
// and store it; one entry results and no temporary file is left.
func TestSeccompFilterCacheParallel(t *testing.T) {
	t.Parallel()
	if suite.podman {
		t.Skip("servin's own cache")
	}
	s := newIsolatedServin(t)
	s.importBusybox()
	var wg sync.WaitGroup
	results := make([]result, 6)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.run("run", "--rm", "--network", "none", busybox, "grep", "^Seccomp:", "/proc/self/status")
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.exit != 0 || !strings.Contains(r.stdout, "Seccomp:\t2") {
			t.Errorf("parallel run: %s", r)
		}
	}
	dir := filepath.Join(s.st.runroot, "seccomp")
	all, _ := filepath.Glob(filepath.Join(dir, "*"))
	hidden, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(all) != 1 || len(hidden) != 0 {
		t.Errorf("cache dir holds %v and temporary files %v, want one entry", all, hidden)
	}
}
