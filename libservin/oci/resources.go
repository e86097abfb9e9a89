package oci

// Cgroup resources: limits in the spec, changing them on a running
// container (libcontainer Set) and reading usage (libcontainer Stats).

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// AnnotationCgroupManager in a bundle's config.json selects the cgroup
// manager `servin oci create` uses: "systemd" or "cgroupfs" (the default).
const AnnotationCgroupManager = "run.servin.cgroup-manager"

// applyResources copies the container's limits into the spec. The device
// rules already there (deny all, then allows) are kept.
func applyResources(s *specs.Spec, r *specs.LinuxResources) {
	if r == nil {
		return
	}
	out := s.Linux.Resources
	if r.Memory != nil {
		m := *r.Memory
		if m.Limit == nil && out.Memory != nil {
			m.Limit = out.Memory.Limit
		}
		out.Memory = &m
	}
	out.CPU = r.CPU
	out.Pids = r.Pids
	out.BlockIO = r.BlockIO
	out.HugepageLimits = r.HugepageLimits
	out.Unified = r.Unified
}

// UpdateResources changes the cgroup limits of a running container. Only
// the non-nil parts of r change.
func UpdateResources(root, id string, r *specs.LinuxResources) error {
	c, err := libcontainer.Load(root, id)
	if err != nil {
		return err
	}
	config := c.Config()
	res := *config.Cgroups.Resources
	setResources(&res, r)
	cg := *config.Cgroups
	cg.Resources = &res
	config.Cgroups = &cg
	return c.Set(config)
}

// setResources overlays the set fields of r on res, as runc update does.
func setResources(res *cgroups.Resources, r *specs.LinuxResources) {
	if m := r.Memory; m != nil {
		setI64(&res.Memory, m.Limit)
		setI64(&res.MemoryReservation, m.Reservation)
		setI64(&res.MemorySwap, m.Swap)
		if m.Swappiness != nil {
			v := *m.Swappiness
			res.MemorySwappiness = &v
		}
		if m.DisableOOMKiller != nil {
			res.OomKillDisable = *m.DisableOOMKiller
		}
	}
	if c := r.CPU; c != nil {
		if c.Shares != nil {
			res.CpuShares = *c.Shares
			res.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(*c.Shares)
		}
		setI64(&res.CpuQuota, c.Quota)
		if c.Period != nil {
			res.CpuPeriod = *c.Period
		}
		if c.Cpus != "" {
			res.CpusetCpus = c.Cpus
		}
		if c.Mems != "" {
			res.CpusetMems = c.Mems
		}
	}
	if r.Pids != nil {
		res.PidsLimit = r.Pids.Limit
	}
	if b := r.BlockIO; b != nil {
		if b.Weight != nil {
			res.BlkioWeight = *b.Weight
		}
		if b.ThrottleReadBpsDevice != nil {
			res.BlkioThrottleReadBpsDevice = throttles(b.ThrottleReadBpsDevice)
		}
		if b.ThrottleWriteBpsDevice != nil {
			res.BlkioThrottleWriteBpsDevice = throttles(b.ThrottleWriteBpsDevice)
		}
		if b.ThrottleReadIOPSDevice != nil {
			res.BlkioThrottleReadIOPSDevice = throttles(b.ThrottleReadIOPSDevice)
		}
		if b.ThrottleWriteIOPSDevice != nil {
			res.BlkioThrottleWriteIOPSDevice = throttles(b.ThrottleWriteIOPSDevice)
		}
		if b.WeightDevice != nil {
			res.BlkioWeightDevice = []*cgroups.WeightDevice{}
			for _, d := range b.WeightDevice {
				var w uint16
				if d.Weight != nil {
					w = *d.Weight
				}
				res.BlkioWeightDevice = append(res.BlkioWeightDevice, cgroups.NewWeightDevice(d.Major, d.Minor, w, 0))
			}
		}
	}
}

func setI64(dst *int64, v *int64) {
	if v != nil {
		*dst = *v
	}
}

func throttles(ds []specs.LinuxThrottleDevice) []*cgroups.ThrottleDevice {
	out := []*cgroups.ThrottleDevice{}
	for _, d := range ds {
		out = append(out, cgroups.NewThrottleDevice(d.Major, d.Minor, d.Rate))
	}
	return out
}

// Stats is a container's resource usage.
type Stats struct {
	CPUNanos    uint64 // total CPU time used
	MemUsage    uint64 // bytes in use, without inactive file cache
	MemLimit    uint64 // 0: no limit
	BlockRead   uint64
	BlockWrite  uint64
	Pids        uint64
	PidsLimit   uint64 // 0: no limit
	NetRx       uint64
	NetTx       uint64
	NetMeasured bool // false when the container shares the host's network
}

// unlimited is what cgroup v1 reports as "no memory limit" (rounded to
// pages); anything near it means no limit.
const unlimited = uint64(1) << 62

// ContainerStats reads the container's usage from its cgroup and, when it
// has a network namespace of its own, its interfaces' counters.
func ContainerStats(root, id string) (*Stats, error) {
	c, err := libcontainer.Load(root, id)
	if err != nil {
		return nil, err
	}
	ls, err := c.Stats()
	if err != nil {
		return nil, err
	}
	st := &Stats{}
	if cs := ls.CgroupStats; cs != nil {
		st.CPUNanos = cs.CpuStats.CpuUsage.TotalUsage
		mem := cs.MemoryStats
		st.MemUsage = mem.Usage.Usage
		inactive := mem.Stats["total_inactive_file"]
		if inactive == 0 { // cgroup v2 names it without the prefix
			inactive = mem.Stats["inactive_file"]
		}
		if inactive < st.MemUsage {
			st.MemUsage -= inactive
		}
		if mem.Usage.Limit > 0 && mem.Usage.Limit < unlimited {
			st.MemLimit = mem.Usage.Limit
		}
		for _, e := range cs.BlkioStats.IoServiceBytesRecursive {
			switch strings.ToLower(e.Op) {
			case "read":
				st.BlockRead += e.Value
			case "write":
				st.BlockWrite += e.Value
			}
		}
		st.Pids = cs.PidsStats.Current
		if cs.PidsStats.Limit < unlimited {
			st.PidsLimit = cs.PidsStats.Limit
		}
	}
	cfg := c.Config()
	state, err := c.State()
	if err == nil && state.InitProcessPid > 0 && cfg.Namespaces.IsPrivate(configs.NEWNET) {
		if rx, tx, err := netDevCounters(fmt.Sprintf("/proc/%d/net/dev", state.InitProcessPid)); err == nil {
			st.NetRx, st.NetTx, st.NetMeasured = rx, tx, true
		}
	}
	return st, nil
}

// netDevCounters sums received and sent bytes of every interface but lo.
func netDevCounters(path string) (rx, tx uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		fs := strings.Fields(rest)
		if len(fs) < 9 {
			continue
		}
		r, _ := strconv.ParseUint(fs[0], 10, 64)
		t, _ := strconv.ParseUint(fs[8], 10, 64)
		rx += r
		tx += t
	}
	return rx, tx, sc.Err()
}

func withAnnotation(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

// useSystemd tells whether the bundle asks for the systemd cgroup manager.
func useSystemd(s *specs.Spec) bool {
	return s.Annotations[AnnotationCgroupManager] == "systemd"
}
