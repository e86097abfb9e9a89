package e2e

// User namespaces: root in the container is an unprivileged ID on the host.

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"syscall"
	"testing"
)

// hostUID returns the real UID of a host process.
func hostUID(t *testing.T, pid string) string {
	t.Helper()
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
			return strings.Fields(v)[0]
		}
	}
	return ""
}

// allowTraversal gives others search permission on the suite's
// directories above the store: the IDs a user namespace maps must reach
// the container's layer (servin refuses clearly otherwise).
func allowTraversal(t *testing.T, s *servin) {
	t.Helper()
	for _, d := range []string{suite.dir, s.st.dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUserNamespaceMappings(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	allowTraversal(t, s)
	name := s.name("mapped")
	s.runDetached(name, "--uidmap", "0:100000:65536", busybox, "sleep", "300")
	if got := s.mustRun("exec", name, "cat", "/proc/self/uid_map", "/proc/self/gid_map"); strings.Join(strings.Fields(got), " ") != "0 100000 65536 0 100000 65536" {
		t.Errorf("maps inside: %q", got)
	}
	pid := s.inspect(name, "{{.State.Pid}}")
	if uid := hostUID(t, pid); uid != "100000" {
		t.Errorf("the container's root is uid %s on the host, want 100000", uid)
	}
	// Root inside owns its root filesystem and the files servin writes
	// for it (/etc/hosts, as in podman), and writes files that the host
	// sees as owned by the mapped ID.
	if out := s.mustRun("exec", name, "sh", "-c", "id -u; stat -c %u /bin /etc/hosts; touch /tmp/f && echo ok"); strings.Join(strings.Fields(out), " ") != "0 0 0 ok" {
		t.Errorf("inside: %q (root fs and /etc/hosts owned by root)", out)
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/"+pid+"/root/tmp/f", &st); err != nil || st.Uid != 100000 {
		t.Errorf("file written by the container's root: uid %d (%v), want 100000", st.Uid, err)
	}
	// Its capabilities are the namespace's: the host's devices stay out of reach.
	r := s.run("exec", name, "sh", "-c", "mknod /tmp/null c 1 3 && echo mknod-ok")
	if strings.Contains(r.stdout, "mknod-ok") {
		t.Errorf("mknod works in a user namespace: %s", r)
	}
	if got := s.inspect(name, "{{.HostConfig.UsernsMode}}"); got != "private" {
		t.Errorf("UsernsMode = %q", got)
	}
	top := s.mustRun("top", name, "user", "huser")
	if l := strings.Split(top, "\n"); len(l) < 2 || strings.Join(strings.Fields(l[1]), " ") != "root 100000" {
		t.Errorf("top user/huser:\n%s", top)
	}
	// Another container joins the namespace.
	r = s.run("run", "--rm", "--userns", "container:"+name, busybox, "cat", "/proc/self/uid_map")
	if strings.Join(strings.Fields(r.stdout), " ") != "0 100000 65536" {
		t.Errorf("--userns container: %s", r)
	}
	// A different gid map.
	r = s.run("run", "--rm", "--uidmap", "0:100000:65536", "--gidmap", "0:300000:65536", busybox, "cat", "/proc/self/gid_map")
	if strings.Join(strings.Fields(r.stdout), " ") != "0 300000 65536" {
		t.Errorf("--gidmap: %s", r)
	}
}

func TestUserNamespaceModes(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	allowTraversal(t, s)
	selfNS, _ := os.Readlink("/proc/self/ns/user")
	// keep-id as root: the identity mapping in a namespace of its own.
	r := s.run("run", "--rm", "--userns", "keep-id", busybox, "sh", "-c", "cat /proc/self/uid_map; readlink /proc/self/ns/user; id -u")
	l := r.lines()
	if len(l) != 3 || strings.Join(strings.Fields(l[0]), " ") != "0 0 4294967295" || l[1] == selfNS || l[2] != "0" {
		t.Errorf("keep-id: %s", r)
	}
	r = s.run("run", "--rm", "--userns", "host", busybox, "readlink", "/proc/self/ns/user")
	if r.out() != selfNS {
		t.Errorf("--userns host: %s", r)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--userns", "nomap"}, "rootless"},
		{[]string{"--userns", "bogus"}, "--userns"},
		{[]string{"--uidmap", "0:100000"}, "CONTAINER_ID:HOST_ID:SIZE"},
		{[]string{"--uidmap", "0:100000:0"}, "size"},
		{[]string{"--userns", "host", "--uidmap", "0:1:1"}, "cannot be combined"},
		{[]string{"--userns", "container:nosuchcontainer"}, "nosuchcontainer"},
	} {
		r := s.run(append(append([]string{"run", "--rm"}, c.args...), busybox, "true")...)
		s.expectExit(r, 125)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, r.stderr, c.want)
		}
	}
	// auto needs subordinate IDs for "containers"; without them servin says so.
	subuid, _ := os.ReadFile("/etc/subuid")
	if !strings.Contains("\n"+string(subuid), "\ncontainers:") {
		r := s.run("run", "--rm", "--userns", "auto", busybox, "true")
		s.expectExit(r, 125)
		if !strings.Contains(r.stderr, "/etc/subuid") {
			t.Errorf("auto without subordinate IDs: %s", r.stderr)
		}
		return
	}
	a, b := s.name("auto1"), s.name("auto2")
	s.runDetached(a, "--userns", "auto", busybox, "sleep", "300")
	s.runDetached(b, "--userns", "auto:size=2000", busybox, "sleep", "300")
	ua, ub := hostUID(t, s.inspect(a, "{{.State.Pid}}")), hostUID(t, s.inspect(b, "{{.State.Pid}}"))
	if ua == "0" || ub == "0" || ua == ub {
		t.Errorf("auto namespaces: root is %s and %s on the host", ua, ub)
	}
	if got := s.mustRun("exec", b, "cat", "/proc/self/uid_map"); !strings.HasSuffix(strings.TrimSpace(got), " 2000") {
		t.Errorf("auto:size=2000 map %q", got)
	}
}

// info reports what the host offers for confinement.
func TestInfoSecurityReport(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	var info struct {
		Host struct {
			CgroupVersion     string   `json:"cgroupVersion"`
			CgroupControllers []string `json:"cgroupControllers"`
			CgroupManagers    []string `json:"cgroupManagers"`
			Overlay           bool     `json:"overlayfs"`
			IDMappings        struct {
				UIDMap []map[string]int64 `json:"uidmap"`
			} `json:"idMappings"`
			Security struct {
				SeccompEnabled     bool   `json:"seccompEnabled"`
				SeccompProfilePath string `json:"seccompProfilePath"`
				AppArmorEnabled    bool   `json:"apparmorEnabled"`
				SELinuxEnabled     bool   `json:"selinuxEnabled"`
				Rootless           bool   `json:"rootless"`
				Capabilities       string `json:"capabilities"`
				UserNamespaces     bool   `json:"userNamespaces"`
			} `json:"security"`
		} `json:"host"`
	}
	out := s.mustRun("info", "--format", "json")
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	h := info.Host
	if h.CgroupVersion != "v1" && h.CgroupVersion != "v2" || len(h.CgroupControllers) == 0 {
		t.Errorf("cgroups: %q %v", h.CgroupVersion, h.CgroupControllers)
	}
	if !h.Security.SeccompEnabled || h.Security.SeccompProfilePath == "" || h.Security.Rootless {
		t.Errorf("security: %+v", h.Security)
	}
	if strings.Count(h.Security.Capabilities, "CAP_") != 14 {
		t.Errorf("default capabilities %q", h.Security.Capabilities)
	}
	_, apparmor := os.Stat("/sys/kernel/security/apparmor")
	if h.Security.AppArmorEnabled != (apparmor == nil) {
		t.Errorf("apparmorEnabled = %v", h.Security.AppArmorEnabled)
	}
	if _, err := os.Stat("/proc/self/ns/user"); err == nil && !h.Security.UserNamespaces {
		t.Error("user namespaces not reported")
	}
	fs, _ := os.ReadFile("/proc/filesystems")
	if h.Overlay != strings.Contains(string(fs), "overlay") {
		t.Errorf("overlayfs = %v", h.Overlay)
	}
	if len(h.CgroupManagers) == 0 || h.CgroupManagers[0] != "cgroupfs" {
		t.Errorf("cgroupManagers = %v", h.CgroupManagers)
	}
	if out := s.mustRun("info"); !strings.Contains(out, "userNamespaces:") || !strings.Contains(out, "seccompEnabled: true") {
		t.Errorf("info text lacks the security report:\n%s", out)
	}
}
