package libservin

import (
	"errors"
	"strings"
	"testing"

	"github.com/servin/servin/libservin/errdefs"
)

var (
	v1Host = cgroupHost{swap: true, numCPU: 2, cpus: "0-1", mems: "0"}
	v2Host = cgroupHost{v2: true, swap: true, blkioWeight: true, numCPU: 4, cpus: "0-3", mems: "0"}
)

func ptr[T any](v T) *T { return &v }

func TestParseResources(t *testing.T) {
	o := &ResourceOptions{
		MemoryReservation: "32m", MemorySwap: "128m", MemorySwappiness: ptr(int64(10)),
		OOMKillDisable: ptr(true), CPUs: "1.5", CPUShares: ptr(uint64(512)), CpusetCpus: "1",
		CpusetMems: "0", PidsLimit: ptr(int64(50)),
	}
	rc, mem, err := parseResources(o, 64<<20, ResourceConfig{}, v1Host, true)
	if err != nil {
		t.Fatal(err)
	}
	if mem != 64<<20 || rc.MemoryReservation != 32<<20 || rc.MemorySwap != 128<<20 || *rc.MemorySwappiness != 10 ||
		!rc.OOMKillDisable || rc.NanoCPUs != 1.5e9 || rc.CPUShares != 512 || rc.PidsLimit != 50 {
		t.Errorf("config %+v", rc)
	}
	r, err := rc.spec(mem)
	if err != nil {
		t.Fatal(err)
	}
	if *r.CPU.Period != 100000 || *r.CPU.Quota != 150000 || *r.Memory.Limit != 64<<20 || *r.Memory.Reservation != 32<<20 ||
		*r.Memory.Swap != 128<<20 || *r.Memory.Swappiness != 10 || !*r.Memory.DisableOOMKiller || *r.Pids.Limit != 50 || r.CPU.Cpus != "1" {
		t.Errorf("spec %+v %+v %+v", r.Memory, r.CPU, r.Pids)
	}
}

func TestDefaultSwapIsMemory(t *testing.T) {
	rc, mem, err := parseResources(&ResourceOptions{}, 64<<20, ResourceConfig{}, v1Host, true)
	if err != nil || rc.MemorySwap != 128<<20 || mem != 64<<20 {
		t.Errorf("default swap = %d (%v), want 2x memory", rc.MemorySwap, err)
	}
	// An update of the memory keeps the default in step...
	rc, mem, _ = parseResources(&ResourceOptions{Memory: "100m"}, mem, rc, v1Host, false)
	if rc.MemorySwap != 200<<20 || mem != 100<<20 {
		t.Errorf("after update swap = %d mem = %d", rc.MemorySwap, mem)
	}
	// ...but not an explicit setting.
	rc, _, _ = parseResources(&ResourceOptions{MemorySwap: "-1"}, 64<<20, ResourceConfig{}, v1Host, true)
	rc, _, _ = parseResources(&ResourceOptions{Memory: "100m"}, 64<<20, rc, v1Host, false)
	if rc.MemorySwap != -1 {
		t.Errorf("explicit unlimited swap became %d", rc.MemorySwap)
	}
	rc, _, _ = parseResources(&ResourceOptions{}, 64<<20, ResourceConfig{}, cgroupHost{numCPU: 1}, true)
	if rc.MemorySwap != 0 {
		t.Error("swap limit without swap accounting")
	}
}

func TestParseResourcesErrors(t *testing.T) {
	cases := []struct {
		o    ResourceOptions
		mem  int64
		h    cgroupHost
		want string
	}{
		{ResourceOptions{CPUs: "0.001"}, 0, v1Host, "smallest limit is 0.01"},
		{ResourceOptions{CPUs: "x"}, 0, v1Host, "--cpus"},
		{ResourceOptions{CPUs: "0.001"}, 0, v1Host, "0.01"},
		{ResourceOptions{CPUs: "1", CPUPeriod: ptr(uint64(10000))}, 0, v1Host, "conflicting"},
		{ResourceOptions{CPUPeriod: ptr(uint64(10))}, 0, v1Host, "cpu-period"},
		{ResourceOptions{CPUQuota: ptr(int64(10))}, 0, v1Host, "cpu-quota"},
		{ResourceOptions{CPUShares: ptr(uint64(1))}, 0, v1Host, "cpu-shares"},
		{ResourceOptions{CpusetCpus: "5"}, 0, v1Host, "not available"},
		{ResourceOptions{CpusetCpus: "1-0"}, 0, v1Host, "cpuset-cpus"},
		{ResourceOptions{CpusetMems: "1"}, 0, v1Host, "not available"},
		{ResourceOptions{MemorySwap: "10m"}, 0, v1Host, "needs a --memory"},
		{ResourceOptions{MemorySwap: "10m"}, 20 << 20, v1Host, "must not be smaller"},
		{ResourceOptions{MemorySwap: "100m"}, 20 << 20, cgroupHost{numCPU: 1}, "does not account swap"},
		{ResourceOptions{MemoryReservation: "30m"}, 20 << 20, v1Host, "reservation"},
		{ResourceOptions{MemorySwappiness: ptr(int64(101))}, 0, v1Host, "0-100"},
		{ResourceOptions{MemorySwappiness: ptr(int64(10))}, 0, v2Host, "cgroup v2"},
		{ResourceOptions{OOMKillDisable: ptr(true)}, 0, v2Host, "cgroup v2"},
		{ResourceOptions{BlkioWeight: ptr(uint16(5))}, 0, v2Host, "10-1000"},
		{ResourceOptions{BlkioWeight: ptr(uint16(500))}, 0, v1Host, "not supported"},
		{ResourceOptions{DeviceReadBps: []string{"/dev/null:1mb"}}, 0, v1Host, "not a block device"},
		{ResourceOptions{DeviceWriteBps: []string{"nocolon"}}, 0, v1Host, "PATH:RATE"},
		{ResourceOptions{Cgroups: "disabled"}, 0, v1Host, "not supported"},
		{ResourceOptions{Cgroups: "split"}, 0, v1Host, "invalid --cgroups"},
		{ResourceOptions{CgroupManager: "systemd"}, 0, v1Host, "systemd is not running"},
		{ResourceOptions{CgroupManager: "other"}, 0, v1Host, "cgroup-manager"},
		{ResourceOptions{CgroupParent: "/"}, 0, v1Host, "cgroup-parent"},
		{ResourceOptions{CgroupManager: "systemd", CgroupParent: "/a/b"}, 0, cgroupHost{systemd: true, numCPU: 1}, "slice"},
		{ResourceOptions{Memory: "1k"}, 0, v1Host, "6MB"},
	}
	for _, c := range cases {
		_, _, err := parseResources(&c.o, c.mem, ResourceConfig{}, c.h, true)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%+v: err = %v, want %q (invalid argument)", c.o, err, c.want)
		}
	}
}

func TestResourcesOnV2(t *testing.T) {
	rc, _, err := parseResources(&ResourceOptions{BlkioWeight: ptr(uint16(300)), CpusetCpus: "2-3", MemorySwappiness: ptr(int64(-1))}, 0, ResourceConfig{}, v2Host, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := rc.spec(0)
	if err != nil {
		t.Fatal(err)
	}
	if *r.BlockIO.Weight != 300 || r.CPU.Cpus != "2-3" || r.Memory != nil {
		t.Errorf("v2 spec %+v %+v %+v", r.BlockIO, r.CPU, r.Memory)
	}
}

func TestCgroupsPath(t *testing.T) {
	rc := ResourceConfig{}
	if p := rc.cgroupsPath("abc"); p != "/servin/abc" {
		t.Errorf("default path %q", p)
	}
	if err := parseCgroupOptions(&ResourceOptions{CgroupParent: "mygroup/sub"}, &rc, v1Host); err != nil {
		t.Fatal(err)
	}
	if p := rc.cgroupsPath("abc"); p != "/mygroup/sub/abc" {
		t.Errorf("parent path %q", p)
	}
	rc = ResourceConfig{}
	if err := parseCgroupOptions(&ResourceOptions{CgroupManager: "systemd", CgroupParent: "my.slice", Cgroups: "no-conmon"}, &rc, cgroupHost{systemd: true}); err != nil {
		t.Fatal(err)
	}
	if p := rc.cgroupsPath("abc"); p != "my.slice:servin:abc" {
		t.Errorf("systemd path %q", p)
	}
	rc.CgroupParent = ""
	if p := rc.cgroupsPath("abc"); p != "machine.slice:servin:abc" {
		t.Errorf("systemd default path %q", p)
	}
}

func TestUpdateUnsetsLimits(t *testing.T) {
	old := ResourceConfig{PidsLimit: 10, NanoCPUs: 1e9}
	rc, mem, err := parseResources(&ResourceOptions{Memory: "0", PidsLimit: ptr(int64(0)), CPUs: "0"}, 64<<20, old, v1Host, false)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := rc.spec(mem)
	unsetToDefaults(r, &old, 64<<20, &rc, mem)
	if *r.Pids.Limit != -1 || *r.Memory.Limit != -1 || *r.CPU.Quota != -1 {
		t.Errorf("unset limits: %+v %+v %+v", r.Pids, r.Memory, r.CPU)
	}
	if err := (&Runtime{}).checkUpdateFlags(&ResourceOptions{CgroupParent: "/x"}); err == nil {
		t.Error("update of the cgroup parent accepted")
	}
}

func TestParseList(t *testing.T) {
	m, err := parseList("0-2,5")
	if err != nil || len(m) != 4 || !m[5] || m[3] {
		t.Errorf("parseList = %v, %v", m, err)
	}
	for _, bad := range []string{"", "a", "3-1", "1,,2"} {
		if _, err := parseList(bad); err == nil {
			t.Errorf("parseList(%q) accepted", bad)
		}
	}
}
