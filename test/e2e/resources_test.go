package e2e

// Resource limits, asserted by their cgroup files (cgroup v1, as on this
// machine) and their effects; update, stats and top.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// requireCgroupV1 skips tests that read v1 controller files.
func requireCgroupV1(t *testing.T) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == 0x63677270 {
		t.Skip("cgroup v2 host: the v2 paths are covered by unit tests on the generated spec")
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory"); err != nil {
		t.Skip("no cgroup v1 memory controller")
	}
}

// cgroupFile reads a container's cgroup v1 file, e.g. ("memory",
// "memory.limit_in_bytes"), under its parent (default /servin).
func cgroupFile(t *testing.T, parent, id, controller, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", controller, parent, id, file))
	if err != nil {
		t.Errorf("%v", err)
		return ""
	}
	return strings.TrimSpace(string(b))
}

func TestResourceLimitsInCgroup(t *testing.T) {
	t.Parallel()
	requireCgroupV1(t)
	s := newServin(t)
	args := []string{
		"--memory", "64m", "--memory-reservation", "32m", "--memory-swappiness", "10", "--oom-kill-disable",
		"--cpus", "1.5", "--cpu-shares", "512", "--cpuset-cpus", "0", "--cpuset-mems", "0", "--pids-limit", "50",
	}
	_, _, dev, haveDev := openableBlockDevice()
	if haveDev {
		args = append(args, "--device-read-bps", dev+":1mb", "--device-write-bps", dev+":2mb")
	}
	swap := false
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"); err == nil {
		swap = true
		args = append(args, "--memory-swap", "128m")
	}
	name := s.name("limits")
	id := s.runDetached(name, append(args, busybox, "sleep", "300")...)
	want := map[[2]string]string{
		{"memory", "memory.limit_in_bytes"}:      "67108864",
		{"memory", "memory.soft_limit_in_bytes"}: "33554432",
		{"memory", "memory.swappiness"}:          "10",
		{"cpu", "cpu.cfs_quota_us"}:              "150000",
		{"cpu", "cpu.cfs_period_us"}:             "100000",
		{"cpu", "cpu.shares"}:                    "512",
		{"cpuset", "cpuset.cpus"}:                "0",
		{"cpuset", "cpuset.mems"}:                "0",
		{"pids", "pids.max"}:                     "50",
	}
	if swap {
		want[[2]string{"memory", "memory.memsw.limit_in_bytes"}] = "134217728"
	}
	for k, v := range want {
		if got := cgroupFile(t, "servin", id, k[0], k[1]); got != v {
			t.Errorf("%s/%s = %q, want %q", k[0], k[1], got, v)
		}
	}
	if got := cgroupFile(t, "servin", id, "memory", "memory.oom_control"); !strings.Contains(got, "oom_kill_disable 1") {
		t.Errorf("memory.oom_control = %q", got)
	}
	if haveDev {
		var st syscall.Stat_t
		syscall.Stat(dev, &st)
		mm := fmt.Sprintf("%d:%d", st.Rdev>>8&0xfff, st.Rdev&0xff|st.Rdev>>12&0xfff00)
		if got := cgroupFile(t, "servin", id, "blkio", "blkio.throttle.read_bps_device"); got != mm+" 1048576" {
			t.Errorf("read_bps_device = %q, want %s 1048576", got, mm)
		}
		if got := cgroupFile(t, "servin", id, "blkio", "blkio.throttle.write_bps_device"); got != mm+" 2097152" {
			t.Errorf("write_bps_device = %q", got)
		}
	}
	// The container sees its own limits (cgroup v1 is mounted per container).
	if got := s.mustRun("exec", name, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"); got != "67108864" {
		t.Errorf("inside: memory limit %s", got)
	}
	got := s.inspect(name, "{{.HostConfig.Memory}} {{.HostConfig.MemoryReservation}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.CpusetCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.OomKillDisable}} {{.HostConfig.MemorySwappiness}}")
	if got != "67108864 33554432 1500000000 512 0 50 true 10" {
		t.Errorf("inspect HostConfig = %q", got)
	}
	// --cpu-period/--cpu-quota directly.
	r := s.run("run", "--rm", "--cpu-period", "50000", "--cpu-quota", "25000", busybox, "cat",
		"/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
	if got := strings.Join(r.lines(), " "); got != "50000 25000" {
		t.Errorf("cpu period/quota: %s", r)
	}
}

// --pids-limit by its effect: forks beyond the limit fail.
func TestResourcePidsLimitEffect(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	r := s.run("run", "--rm", "--pids-limit", "5", busybox, "sh", "-c",
		"for i in 1 2 3 4 5 6 7 8; do sleep 30 & done 2>/dev/null; echo started=$(jobs -p | wc -l)")
	if strings.Contains(r.stdout, "started=8") {
		t.Errorf("8 processes ran under --pids-limit 5: %s", r)
	}
}

func TestResourceFlagErrors(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--cpus", "0.001"}, "smallest limit is 0.01"},
		{[]string{"--cpus", "1", "--cpu-period", "10000"}, "cannot be set together"},
		{[]string{"--cpu-period", "10"}, "cpu-period"},
		{[]string{"--cpu-quota", "10"}, "cpu-quota"},
		{[]string{"--cpuset-cpus", "999"}, "not available"},
		{[]string{"--cpuset-mems", "999"}, "not available"},
		{[]string{"--memory-swap", "100m"}, "--memory"},
		{[]string{"--memory", "100m", "--memory-swap", "50m"}, "smaller"},
		{[]string{"--memory", "10m", "--memory-reservation", "20m"}, "reservation"},
		{[]string{"--memory-swappiness", "200"}, "0-100"},
		{[]string{"--blkio-weight", "5"}, "10-1000"},
		{[]string{"--device-read-bps", "/dev/null:1mb"}, "not a block device"},
		{[]string{"--cgroups", "disabled"}, "not supported"},
		{[]string{"--cgroups", "bogus"}, "--cgroups"},
		{[]string{"--cgroup-manager", "bogus"}, "--cgroup-manager"},
		{[]string{"--cpu-shares", "1"}, "cpu-shares"},
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		cases = append(cases, struct {
			args []string
			want string
		}{[]string{"--cgroup-manager", "systemd"}, "systemd is not running"})
	}
	if _, err := os.Stat("/sys/fs/cgroup/blkio/blkio.weight"); err != nil {
		if _, err := os.Stat("/sys/fs/cgroup/blkio/blkio.bfq.weight"); err != nil {
			cases = append(cases, struct {
				args []string
				want string
			}{[]string{"--blkio-weight", "500"}, "not supported"})
		}
	}
	for _, c := range cases {
		r := s.run(append(append([]string{"run", "--rm"}, c.args...), busybox, "true")...)
		s.expectExit(r, 125)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, r.stderr, c.want)
		}
	}
}

func TestResourceCgroupPlacement(t *testing.T) {
	t.Parallel()
	requireCgroupV1(t)
	s := newServin(t)
	parent := "/" + s.prefix
	name := s.name("parent")
	oom := s.name("oom")
	t.Cleanup(func() {
		// Cleanups run last-registered first: remove the containers (and
		// so their cgroups) before their parent cgroup.
		s.run("rm", "-f", "-t", "0", name, oom)
		for _, c := range []string{"memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "devices", "freezer", "hugetlb", "systemd", "unified"} {
			os.Remove(filepath.Join("/sys/fs/cgroup", c, parent))
		}
	})
	id := s.runDetached(name, "--cgroup-parent", parent, "--memory", "32m", "--cgroups", "no-conmon", busybox, "sleep", "300")
	if got := cgroupFile(t, parent, id, "memory", "memory.limit_in_bytes"); got != "33554432" {
		t.Errorf("memory limit under the parent = %q", got)
	}
	pid := s.inspect(name, "{{.State.Pid}}")
	cg, _ := os.ReadFile("/proc/" + pid + "/cgroup")
	if !strings.Contains(string(cg), ":memory:"+parent+"/"+id) {
		t.Errorf("init's cgroups:\n%s", cg)
	}
	if got := s.inspect(name, "{{.HostConfig.CgroupParent}} {{.HostConfig.Cgroups}} {{.HostConfig.CgroupManager}}"); got != parent+" no-conmon cgroupfs" {
		t.Errorf("inspect = %q", got)
	}
	// The OOM kill is still seen under a custom parent.
	r := s.run("run", "--name", oom, "--cgroup-parent", parent, "--memory", "16m", busybox, "sh", "-c",
		`x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived`)
	s.expectExit(r, 137)
	if got := s.inspect(oom, "{{.State.OOMKilled}}"); got != "true" {
		t.Errorf("OOMKilled = %s", got)
	}
}

func TestResourceUpdate(t *testing.T) {
	t.Parallel()
	requireCgroupV1(t)
	s := newServin(t)
	name := s.name("upd")
	id := s.runDetached(name, "--memory", "64m", "--pids-limit", "100", busybox, "sleep", "300")
	out := s.mustRun("update", "--memory", "128m", "--cpus", "0.5", "--pids-limit", "20", "--cpu-shares", "256", name)
	if out != id {
		t.Errorf("update printed %q", out)
	}
	for k, v := range map[[2]string]string{
		{"memory", "memory.limit_in_bytes"}: "134217728", {"cpu", "cpu.cfs_quota_us"}: "50000",
		{"pids", "pids.max"}: "20", {"cpu", "cpu.shares"}: "256",
	} {
		if got := cgroupFile(t, "servin", id, k[0], k[1]); got != v {
			t.Errorf("after update %s = %q, want %q", k[1], got, v)
		}
	}
	if got := s.inspect(name, "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}"); got != "134217728 500000000 20" {
		t.Errorf("inspect after update = %q", got)
	}
	// Removing limits.
	s.mustRun("update", "--pids-limit", "-1", "--cpus", "0", name)
	if got := cgroupFile(t, "servin", id, "pids", "pids.max"); got != "max" {
		t.Errorf("pids.max = %q", got)
	}
	if got := cgroupFile(t, "servin", id, "cpu", "cpu.cfs_quota_us"); got != "-1" {
		t.Errorf("cfs_quota_us = %q", got)
	}
	// A stopped container gets the new limits on its next start.
	s.mustRun("stop", "-t", "0", name)
	s.mustRun("update", "--memory", "96m", name)
	s.mustRun("start", name)
	s.waitStatus(name, "running")
	if got := s.mustRun("exec", name, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"); got != "100663296" {
		t.Errorf("limit after restart = %s", got)
	}
	for _, bad := range [][]string{{"update", name}, {"update", "--cpus", "abc", name}, {"update", "--memory", "1m", "nosuchcontainer"}, {"update", "--cgroup-parent", "/x", name}} {
		s.expectExit(s.run(bad...), 125)
	}
}

func TestResourceStats(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	busy := s.name("busy")
	idle := s.name("idle")
	stopped := s.name("stopped")
	s.runDetached(busy, "--memory", "64m", busybox, "sh", "-c", "while :; do :; done")
	s.runDetached(idle, busybox, "sleep", "300")
	s.mustRun("create", "--name", stopped, busybox, "true")
	r := s.run("stats", "--no-stream")
	s.expectExit(r, 0)
	lines := r.lines()
	if len(lines) != 3 {
		t.Fatalf("stats printed %d lines, want a header and 2 running containers:\n%s", len(lines), r.stdout)
	}
	for _, col := range []string{"ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET IO", "BLOCK IO", "PIDS", "CPU TIME", "AVG CPU %"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header %q lacks %q", lines[0], col)
		}
	}
	if !strings.Contains(r.stdout, "67.11MB") {
		t.Errorf("the 64m limit is not shown:\n%s", r.stdout)
	}
	var docs []map[string]string
	r = s.run("stats", "--no-stream", "--format", "json", busy)
	if err := json.Unmarshal([]byte(r.stdout), &docs); err != nil || len(docs) != 1 {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	for _, k := range []string{"id", "name", "cpu_percent", "mem_usage", "mem_percent", "net_io", "block_io", "pids", "cpu_time", "avg_cpu"} {
		if _, ok := docs[0][k]; !ok {
			t.Errorf("json lacks %q: %v", k, docs[0])
		}
	}
	if docs[0]["name"] != busy || docs[0]["pids"] != "1" {
		t.Errorf("json = %v", docs[0])
	}
	var cpu float64
	fmt.Sscanf(docs[0]["cpu_percent"], "%f%%", &cpu)
	// Other tests share the 2 CPUs: any clear use will do.
	if cpu < 2 {
		t.Errorf("a busy loop uses %.2f%% CPU", cpu)
	}
	r = s.run("stats", "--no-stream", "--format", "{{.Name}} {{.PIDS}}", idle)
	if r.out() != idle+" 1" {
		t.Errorf("template: %q", r.out())
	}
	r = s.run("stats", "--no-stream", "-a", "--format", "table {{.Name}} {{.CPUPerc}}")
	if len(r.lines()) != 4 || !strings.Contains(r.stdout, stopped) {
		t.Errorf("-a:\n%s", r.stdout)
	}
	s.expectExit(s.run("stats", "--no-stream", stopped), 125)
	s.expectExit(s.run("stats", "--no-stream", "nosuchcontainer"), 125)
}

func TestResourceTopDescriptors(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("top")
	s.runDetached(name, "-u", "nobody", busybox, "sh", "-c", "sleep 300 & sleep 301")
	waitFor(t, waitTimeout, "two processes", func() bool {
		return len(s.run("top", name).lines()) == 3
	}, nil)
	r := s.run("top", name, "user", "pid", "ppid", "comm", "args")
	l := r.lines()
	if len(l) != 3 || strings.Join(strings.Fields(l[0]), " ") != "USER PID PPID COMMAND COMMAND" {
		t.Fatalf("top:\n%s", r.stdout)
	}
	if f := strings.Fields(l[1]); f[0] != "nobody" || f[1] != "1" || f[2] != "0" || f[3] != "sleep" {
		t.Errorf("first row %v", f)
	}
	r = s.run("top", name, "-ef")
	s.expectExit(r, 0)
	r = s.run("top", name, "%U", "%p", "huser", "hpid")
	if f := strings.Fields(r.lines()[1]); len(f) != 4 || f[0] != "nobody" || f[2] != "nobody" || f[3] == "1" {
		t.Errorf("AIX descriptors and host columns: %v", f)
	}
	s.expectExit(s.run("top", name, "nosuchdescriptor"), 125)
}
