package libservin

// Resource limits of a container: parsing and validating the resource flags
// of create/run and update, turning them into the runtime spec's cgroup
// resources, and changing them on a running container (Update).

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups/systemd"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/oci"
)

// ResourceOptions are the resource flags as the user gave them. Empty
// strings and nil pointers mean "not given".
type ResourceOptions struct {
	Memory            string // update only: create has CreateOptions.Memory
	MemoryReservation string
	MemorySwap        string // "-1": unlimited swap
	MemorySwappiness  *int64 // -1: the kernel's default
	OOMKillDisable    *bool
	CPUs              string // decimal number of CPUs, e.g. "1.5"
	CPUShares         *uint64
	CPUPeriod         *uint64
	CPUQuota          *int64
	CpusetCpus        string
	CpusetMems        string
	PidsLimit         *int64 // 0 or -1: unlimited
	BlkioWeight       *uint16
	DeviceReadBps     []string // PATH:RATE
	DeviceWriteBps    []string
	DeviceReadIOps    []string // PATH:OPERATIONS
	DeviceWriteIOps   []string
	BlkioWeightDevice []string // PATH:WEIGHT
	// Create only.
	CgroupParent  string
	Cgroups       string // enabled, no-conmon, disabled
	CgroupManager string // cgroupfs, systemd
}

// ResourceConfig is the validated form stored with the container (the
// memory limit itself is ContainerConfig.Memory).
type ResourceConfig struct {
	MemoryReservation int64            `json:"memoryReservation,omitempty"`
	MemorySwap        int64            `json:"memorySwap,omitempty"`
	MemorySwappiness  *int64           `json:"memorySwappiness,omitempty"`
	OOMKillDisable    bool             `json:"oomKillDisable,omitempty"`
	NanoCPUs          int64            `json:"nanoCpus,omitempty"`
	CPUShares         uint64           `json:"cpuShares,omitempty"`
	CPUPeriod         uint64           `json:"cpuPeriod,omitempty"`
	CPUQuota          int64            `json:"cpuQuota,omitempty"`
	CpusetCpus        string           `json:"cpusetCpus,omitempty"`
	CpusetMems        string           `json:"cpusetMems,omitempty"`
	PidsLimit         int64            `json:"pidsLimit,omitempty"` // -1: unlimited
	BlkioWeight       uint16           `json:"blkioWeight,omitempty"`
	DeviceReadBps     []ThrottleDevice `json:"deviceReadBps,omitempty"`
	DeviceWriteBps    []ThrottleDevice `json:"deviceWriteBps,omitempty"`
	DeviceReadIOps    []ThrottleDevice `json:"deviceReadIOps,omitempty"`
	DeviceWriteIOps   []ThrottleDevice `json:"deviceWriteIOps,omitempty"`
	BlkioWeightDevice []WeightDevice   `json:"blkioWeightDevice,omitempty"`
	CgroupParent      string           `json:"cgroupParent,omitempty"`
	Cgroups           string           `json:"cgroups,omitempty"`
	CgroupManager     string           `json:"cgroupManager,omitempty"`
}

// ThrottleDevice is a block device and a rate in bytes per second.
type ThrottleDevice struct {
	Path string `json:"Path"`
	Rate uint64 `json:"Rate"`
}

// WeightDevice is a block device and its relative I/O weight.
type WeightDevice struct {
	Path   string `json:"Path"`
	Weight uint16 `json:"Weight"`
}

// DefaultCgroupParent is where containers' cgroups go with cgroupfs.
const DefaultCgroupParent = "/servin"

// cgroupHost is what the host's cgroups offer; resource validation depends
// on it, and tests fake it.
type cgroupHost struct {
	v2          bool
	swap        bool // swap accounting (memory.memsw.* or memory.swap.max)
	blkioWeight bool
	numCPU      int
	cpus, mems  string // cpuset lists available to containers
	systemd     bool
}

func detectCgroupHost() cgroupHost {
	h := cgroupHost{v2: cgroup2Unified(), numCPU: runtime.NumCPU(), systemd: systemd.IsRunningSystemd()}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	read := func(p string) string { b, _ := os.ReadFile(p); return strings.TrimSpace(string(b)) }
	if h.v2 {
		h.swap = exists("/sys/fs/cgroup/init.scope/memory.swap.max") || exists("/sys/fs/cgroup/user.slice/memory.swap.max") ||
			strings.Contains(read("/sys/fs/cgroup/cgroup.controllers"), "memory")
		h.blkioWeight = strings.Contains(read("/sys/fs/cgroup/cgroup.controllers"), "io")
		h.cpus = read("/sys/fs/cgroup/cpuset.cpus.effective")
		h.mems = read("/sys/fs/cgroup/cpuset.mems.effective")
	} else {
		h.swap = exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
		h.blkioWeight = exists("/sys/fs/cgroup/blkio/blkio.weight") || exists("/sys/fs/cgroup/blkio/blkio.bfq.weight")
		h.cpus = read("/sys/fs/cgroup/cpuset/cpuset.effective_cpus")
		h.mems = read("/sys/fs/cgroup/cpuset/cpuset.effective_mems")
	}
	if h.cpus == "" {
		h.cpus = read("/sys/devices/system/cpu/online")
	}
	if h.mems == "" {
		h.mems = firstNonEmpty(read("/sys/devices/system/node/online"), "0")
	}
	return h
}

func invalid(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errdefs.ErrInvalidArgument)...)
}

// parseResources validates o on top of base (the stored config, for update)
// and returns the new config and memory limit.
func parseResources(o *ResourceOptions, memory int64, base ResourceConfig, h cgroupHost, create bool) (ResourceConfig, int64, error) {
	rc := base
	baseMemory := memory
	var err error
	if o.Memory != "" {
		if memory, err = ParseSize(o.Memory); err != nil {
			return rc, 0, invalid("invalid --memory %q", o.Memory)
		}
		if memory != 0 && memory < 6*1024*1024 {
			return rc, 0, invalid("minimum memory limit allowed is 6MB")
		}
	}
	if o.MemoryReservation != "" {
		if rc.MemoryReservation, err = ParseSize(o.MemoryReservation); err != nil {
			return rc, 0, invalid("invalid --memory-reservation %q", o.MemoryReservation)
		}
	}
	if rc.MemoryReservation != 0 && memory != 0 && rc.MemoryReservation > memory {
		return rc, 0, invalid("--memory-reservation (%d) must not be larger than --memory (%d)", rc.MemoryReservation, memory)
	}
	if o.MemorySwap != "" {
		if o.MemorySwap == "-1" {
			rc.MemorySwap = -1
		} else if rc.MemorySwap, err = ParseSize(o.MemorySwap); err != nil {
			return rc, 0, invalid("invalid --memory-swap %q: a size or -1 for unlimited", o.MemorySwap)
		}
	}
	if rc.MemorySwap != 0 {
		if memory == 0 {
			return rc, 0, invalid("--memory-swap needs a --memory limit as well")
		}
		if rc.MemorySwap > 0 && rc.MemorySwap < memory {
			return rc, 0, invalid("--memory-swap (%d) is memory plus swap and must not be smaller than --memory (%d)", rc.MemorySwap, memory)
		}
		if !h.swap {
			return rc, 0, invalid("--memory-swap is not supported: the kernel does not account swap (no swap controller files)")
		}
	}
	if o.MemorySwappiness != nil {
		v := *o.MemorySwappiness
		switch {
		case v == -1:
			rc.MemorySwappiness = nil
		case v < 0 || v > 100:
			return rc, 0, invalid("invalid --memory-swappiness %d: the range is 0-100 (or -1 for the kernel's default)", v)
		case h.v2:
			return rc, 0, invalid("--memory-swappiness is not supported on cgroup v2")
		default:
			rc.MemorySwappiness = &v
		}
	}
	if o.OOMKillDisable != nil {
		if *o.OOMKillDisable && h.v2 {
			return rc, 0, invalid("--oom-kill-disable is not supported on cgroup v2")
		}
		rc.OOMKillDisable = *o.OOMKillDisable
	}
	if err := parseCPU(o, &rc, h); err != nil {
		return rc, 0, err
	}
	if o.PidsLimit != nil {
		rc.PidsLimit = *o.PidsLimit
		if rc.PidsLimit == 0 || rc.PidsLimit < -1 {
			rc.PidsLimit = -1
		}
	}
	if o.BlkioWeight != nil {
		w := *o.BlkioWeight
		if w != 0 && (w < 10 || w > 1000) {
			return rc, 0, invalid("invalid --blkio-weight %d: the range is 10-1000", w)
		}
		if w != 0 && !h.blkioWeight {
			return rc, 0, invalid("--blkio-weight is not supported on this host: its block I/O controller has no weight (no CFQ/BFQ scheduler)")
		}
		rc.BlkioWeight = w
	}
	if o.DeviceReadBps != nil {
		if rc.DeviceReadBps, err = parseThrottles("device-read-bps", o.DeviceReadBps); err != nil {
			return rc, 0, err
		}
	}
	if o.DeviceWriteBps != nil {
		if rc.DeviceWriteBps, err = parseThrottles("device-write-bps", o.DeviceWriteBps); err != nil {
			return rc, 0, err
		}
	}
	if o.DeviceReadIOps != nil {
		if rc.DeviceReadIOps, err = parseIOpsThrottles("device-read-iops", o.DeviceReadIOps); err != nil {
			return rc, 0, err
		}
	}
	if o.DeviceWriteIOps != nil {
		if rc.DeviceWriteIOps, err = parseIOpsThrottles("device-write-iops", o.DeviceWriteIOps); err != nil {
			return rc, 0, err
		}
	}
	if o.BlkioWeightDevice != nil {
		if rc.BlkioWeightDevice, err = parseWeightDevices(o.BlkioWeightDevice); err != nil {
			return rc, 0, err
		}
	}
	if create {
		if err := parseCgroupOptions(o, &rc, h); err != nil {
			return rc, 0, err
		}
	}
	// Docker's default: as much swap as memory (memory+swap = 2*memory).
	// An update of the memory keeps that default in step.
	defaultSwap := o.MemorySwap == "" && h.swap && memory > 0 &&
		(create || base.MemorySwap == 0 || base.MemorySwap == 2*baseMemory)
	if defaultSwap {
		rc.MemorySwap = 2 * memory
	}
	return rc, memory, nil
}

func parseCPU(o *ResourceOptions, rc *ResourceConfig, h cgroupHost) error {
	if o.CPUs != "" {
		f, err := strconv.ParseFloat(o.CPUs, 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return invalid("invalid --cpus %q: a decimal number of CPUs expected", o.CPUs)
		}
		rc.NanoCPUs = int64(math.Round(f * 1e9))
		if rc.NanoCPUs != 0 && rc.NanoCPUs < 1e7 {
			return invalid("invalid --cpus %s: the smallest limit is 0.01", o.CPUs)
		}
	}
	if o.CPUPeriod != nil {
		rc.CPUPeriod = *o.CPUPeriod
		if rc.CPUPeriod != 0 && (rc.CPUPeriod < 1000 || rc.CPUPeriod > 1000000) {
			return invalid("invalid --cpu-period %d: it must be between 1000 (1ms) and 1000000 (1s) microseconds", rc.CPUPeriod)
		}
	}
	if o.CPUQuota != nil {
		rc.CPUQuota = *o.CPUQuota
		if rc.CPUQuota > 0 && rc.CPUQuota < 1000 {
			return invalid("invalid --cpu-quota %d: it must be at least 1000 (1ms) microseconds, or -1 for none", rc.CPUQuota)
		}
	}
	if rc.NanoCPUs != 0 && (rc.CPUPeriod != 0 || rc.CPUQuota > 0) {
		if o.CPUs != "" && (o.CPUPeriod != nil || o.CPUQuota != nil) {
			return invalid("conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set")
		}
		// update: the newer setting wins.
		if o.CPUs != "" {
			rc.CPUPeriod, rc.CPUQuota = 0, 0
		} else {
			rc.NanoCPUs = 0
		}
	}
	if o.CPUShares != nil {
		rc.CPUShares = *o.CPUShares
		if rc.CPUShares != 0 && (rc.CPUShares < 2 || rc.CPUShares > 262144) {
			return invalid("invalid --cpu-shares %d: the range is 2-262144", rc.CPUShares)
		}
	}
	if o.CpusetCpus != "" {
		if err := checkCPUList("cpuset-cpus", "CPUs", o.CpusetCpus, h.cpus); err != nil {
			return err
		}
		rc.CpusetCpus = o.CpusetCpus
	}
	if o.CpusetMems != "" {
		if err := checkCPUList("cpuset-mems", "memory nodes", o.CpusetMems, h.mems); err != nil {
			return err
		}
		rc.CpusetMems = o.CpusetMems
	}
	return nil
}

// parseList parses a cpuset list such as "0-2,4".
func parseList(s string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("empty element")
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("%q is not a number", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad range %q", part)
			}
		}
		for i := a; i <= b; i++ {
			out[i] = true
		}
	}
	return out, nil
}

func checkCPUList(flag, what, want, avail string) error {
	req, err := parseList(want)
	if err != nil {
		return invalid("invalid --%s %q: %v", flag, want, err)
	}
	have, err := parseList(avail)
	if err != nil {
		return nil // cannot tell: let the kernel decide
	}
	for n := range req {
		if !have[n] {
			return invalid("invalid --%s %q: requested %s are not available (available: %s)", flag, want, what, avail)
		}
	}
	return nil
}

// parseIOpsThrottles reads PATH:OPERATIONS (per second) values.
func parseIOpsThrottles(flag string, vals []string) ([]ThrottleDevice, error) {
	out := []ThrottleDevice{}
	for _, v := range vals {
		i := strings.LastIndex(v, ":")
		if i <= 0 {
			return nil, invalid("invalid --%s %q: PATH:OPERATIONS expected, e.g. /dev/sda:1000", flag, v)
		}
		n, err := strconv.ParseUint(v[i+1:], 10, 64)
		if err != nil {
			return nil, invalid("invalid --%s %q: bad rate %q", flag, v, v[i+1:])
		}
		if _, _, err := blockDevice(v[:i]); err != nil {
			return nil, invalid("invalid --%s %q: %v", flag, v, err)
		}
		out = append(out, ThrottleDevice{Path: v[:i], Rate: n})
	}
	return out, nil
}

// parseWeightDevices reads --blkio-weight-device PATH:WEIGHT values.
func parseWeightDevices(vals []string) ([]WeightDevice, error) {
	out := []WeightDevice{}
	for _, v := range vals {
		i := strings.LastIndex(v, ":")
		if i <= 0 {
			return nil, invalid("invalid --blkio-weight-device %q: PATH:WEIGHT expected, e.g. /dev/sda:200", v)
		}
		w, err := strconv.ParseUint(v[i+1:], 10, 16)
		if err != nil || w > 0 && (w < 10 || w > 1000) {
			return nil, invalid("invalid --blkio-weight-device %q: the weight range is 10-1000", v)
		}
		if _, _, err := blockDevice(v[:i]); err != nil {
			return nil, invalid("invalid --blkio-weight-device %q: %v", v, err)
		}
		out = append(out, WeightDevice{Path: v[:i], Weight: uint16(w)})
	}
	return out, nil
}

func parseThrottles(flag string, vals []string) ([]ThrottleDevice, error) {
	out := []ThrottleDevice{}
	for _, v := range vals {
		i := strings.LastIndex(v, ":")
		if i <= 0 {
			return nil, invalid("invalid --%s %q: PATH:RATE expected, e.g. /dev/sda:1mb", flag, v)
		}
		p, rate := v[:i], v[i+1:]
		n, err := ParseSize(rate)
		if err != nil {
			return nil, invalid("invalid --%s %q: bad rate %q", flag, v, rate)
		}
		if _, _, err := blockDevice(p); err != nil {
			return nil, invalid("invalid --%s %q: %v", flag, v, err)
		}
		out = append(out, ThrottleDevice{Path: p, Rate: uint64(n)})
	}
	return out, nil
}

// blockDevice returns the major and minor numbers of a block device node.
func blockDevice(p string) (int64, int64, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", p, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return 0, 0, fmt.Errorf("%s: not a block device", p)
	}
	return int64(unix.Major(uint64(st.Rdev))), int64(unix.Minor(uint64(st.Rdev))), nil
}

func parseCgroupOptions(o *ResourceOptions, rc *ResourceConfig, h cgroupHost) error {
	switch o.Cgroups {
	case "", "enabled":
		rc.Cgroups = ""
	case "no-conmon":
		// servin's monitor never gets a cgroup of its own: this is the
		// same as enabled.
		rc.Cgroups = "no-conmon"
	case "disabled":
		return invalid("--cgroups=disabled is not supported: servin's OCI runtime (libcontainer) always places a container in a cgroup of its own")
	default:
		return invalid("invalid --cgroups %q: enabled, no-conmon or disabled expected", o.Cgroups)
	}
	switch o.CgroupManager {
	case "", "cgroupfs":
		rc.CgroupManager = ""
	case "systemd":
		if !h.systemd {
			return invalid("--cgroup-manager=systemd needs systemd as the init system, and systemd is not running on this host: use cgroupfs")
		}
		rc.CgroupManager = "systemd"
	default:
		return invalid("invalid --cgroup-manager %q: cgroupfs or systemd expected", o.CgroupManager)
	}
	if o.CgroupParent != "" {
		if rc.CgroupManager == "systemd" {
			if !strings.HasSuffix(o.CgroupParent, ".slice") || strings.Contains(o.CgroupParent, "/") {
				return invalid("invalid --cgroup-parent %q: with the systemd cgroup manager it must be a slice name such as machine.slice", o.CgroupParent)
			}
			rc.CgroupParent = o.CgroupParent
		} else {
			p := path.Clean("/" + o.CgroupParent)
			if p == "/" || strings.Contains(o.CgroupParent, "..") {
				return invalid("invalid --cgroup-parent %q: a cgroup path such as /mygroup expected", o.CgroupParent)
			}
			rc.CgroupParent = p
		}
	}
	return nil
}

// cgroupsPath is the container's cgroup: PARENT/ID with cgroupfs, or
// "slice:servin:ID" with systemd.
func (rc *ResourceConfig) cgroupsPath(id string) string {
	if rc.CgroupManager == "systemd" {
		return firstNonEmpty(rc.CgroupParent, "machine.slice") + ":servin:" + id
	}
	return path.Join(firstNonEmpty(rc.CgroupParent, DefaultCgroupParent), id)
}

// spec turns the config into the runtime spec's resources. Device paths
// are resolved now: device numbers can change between boots.
func (rc *ResourceConfig) spec(memory int64) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	mem := &specs.LinuxMemory{}
	set := false
	if memory > 0 {
		mem.Limit, set = &memory, true
	}
	if rc.MemoryReservation > 0 {
		v := rc.MemoryReservation
		mem.Reservation, set = &v, true
	}
	if rc.MemorySwap != 0 {
		v := rc.MemorySwap
		mem.Swap, set = &v, true
	}
	if rc.MemorySwappiness != nil {
		v := uint64(*rc.MemorySwappiness)
		mem.Swappiness, set = &v, true
	}
	if rc.OOMKillDisable {
		t := true
		mem.DisableOOMKiller, set = &t, true
	}
	if set {
		r.Memory = mem
	}
	cpu := &specs.LinuxCPU{Cpus: rc.CpusetCpus, Mems: rc.CpusetMems}
	set = rc.CpusetCpus != "" || rc.CpusetMems != ""
	if rc.CPUShares > 0 {
		v := rc.CPUShares
		cpu.Shares, set = &v, true
	}
	period, quota := rc.CPUPeriod, rc.CPUQuota
	if rc.NanoCPUs > 0 {
		period = 100000
		quota = rc.NanoCPUs * int64(period) / 1e9
	}
	if period > 0 {
		cpu.Period, set = &period, true
	}
	if quota != 0 {
		cpu.Quota, set = &quota, true
	}
	if set {
		r.CPU = cpu
	}
	if rc.PidsLimit != 0 {
		v := rc.PidsLimit
		r.Pids = &specs.LinuxPids{Limit: &v}
	}
	if rc.BlkioWeight > 0 || len(rc.DeviceReadBps) > 0 || len(rc.DeviceWriteBps) > 0 ||
		len(rc.DeviceReadIOps) > 0 || len(rc.DeviceWriteIOps) > 0 || len(rc.BlkioWeightDevice) > 0 {
		b := &specs.LinuxBlockIO{}
		if rc.BlkioWeight > 0 {
			w := rc.BlkioWeight
			b.Weight = &w
		}
		var err error
		if b.ThrottleReadBpsDevice, err = specThrottles(rc.DeviceReadBps); err != nil {
			return nil, err
		}
		if b.ThrottleWriteBpsDevice, err = specThrottles(rc.DeviceWriteBps); err != nil {
			return nil, err
		}
		if b.ThrottleReadIOPSDevice, err = specThrottles(rc.DeviceReadIOps); err != nil {
			return nil, err
		}
		if b.ThrottleWriteIOPSDevice, err = specThrottles(rc.DeviceWriteIOps); err != nil {
			return nil, err
		}
		for _, wd := range rc.BlkioWeightDevice {
			major, minor, err := blockDevice(wd.Path)
			if err != nil {
				return nil, err
			}
			w := wd.Weight
			d := specs.LinuxWeightDevice{Weight: &w}
			d.Major, d.Minor = major, minor
			b.WeightDevice = append(b.WeightDevice, d)
		}
		r.BlockIO = b
	}
	return r, nil
}

func specThrottles(ts []ThrottleDevice) ([]specs.LinuxThrottleDevice, error) {
	var out []specs.LinuxThrottleDevice
	for _, t := range ts {
		major, minor, err := blockDevice(t.Path)
		if err != nil {
			return nil, err
		}
		d := specs.LinuxThrottleDevice{Rate: t.Rate}
		d.Major, d.Minor = major, minor
		out = append(out, d)
	}
	return out, nil
}

// Update changes the resource limits of a container. A running container
// gets them at once; all get them on their next start.
func (r *Runtime) Update(ctx context.Context, nameOrID string, o *ResourceOptions) (*Container, error) {
	if err := r.checkUpdateFlags(o); err != nil {
		return nil, err
	}
	h := detectCgroupHost()
	return r.withLock(ctx, nameOrID, func(c *Container) error {
		rc, memory, err := parseResources(o, c.Config.Memory, c.Config.Resources, h, false)
		if err != nil {
			return err
		}
		if c.Running() {
			res, err := rc.spec(memory)
			if err != nil {
				return err
			}
			unsetToDefaults(res, &c.Config.Resources, c.Config.Memory, &rc, memory)
			if err := oci.UpdateResources(r.runcRoot(), c.ID, res); err != nil {
				return fmt.Errorf("updating container %s: %w", c.Name, err)
			}
		}
		c.Config.Memory = memory
		c.Config.Resources = rc
		if err := r.saveConfig(ctx, c); err != nil {
			return err
		}
		r.ctrEvent(ctx, "update", c, nil)
		return nil
	})
}

// UpdateRestart changes a container's restart policy (update --restart);
// a running container's monitor applies it from the container's next exit.
func (r *Runtime) UpdateRestart(ctx context.Context, nameOrID, policy string) (*Container, error) {
	restart, max, err := ParseRestartPolicy(policy)
	if err != nil {
		return nil, err
	}
	return r.withLock(ctx, nameOrID, func(c *Container) error {
		if c.Config.AutoRemove && restart != "" && restart != "no" {
			return invalid("the --rm option conflicts with --restart (other than \"no\")")
		}
		c.Config.RestartPolicy, c.Config.RestartMax = restart, max
		if err := r.saveConfig(ctx, c); err != nil {
			return err
		}
		if c.Running() {
			r.reloadMonitor(c) // healthcheck.go
		}
		r.ctrEvent(ctx, "update", c, nil)
		return nil
	})
}

// checkUpdateFlags refuses what only create can set.
func (r *Runtime) checkUpdateFlags(o *ResourceOptions) error {
	if o.CgroupParent != "" || o.Cgroups != "" || o.CgroupManager != "" {
		return invalid("the cgroup parent, mode and manager of a container cannot be updated")
	}
	return nil
}

// unsetToDefaults makes a running container lose limits the update removed
// (set to 0 or "unlimited"): the cgroup needs an explicit default for them.
func unsetToDefaults(res *specs.LinuxResources, old *ResourceConfig, oldMem int64, rc *ResourceConfig, memory int64) {
	unlimited := int64(-1)
	if oldMem > 0 && memory == 0 {
		if res.Memory == nil {
			res.Memory = &specs.LinuxMemory{}
		}
		res.Memory.Limit = &unlimited
		if rc.MemorySwap == 0 {
			res.Memory.Swap = &unlimited
		}
	}
	if old.PidsLimit > 0 && rc.PidsLimit <= 0 {
		res.Pids = &specs.LinuxPids{Limit: &unlimited}
	}
	if (old.NanoCPUs > 0 || old.CPUQuota > 0) && rc.NanoCPUs == 0 && rc.CPUQuota <= 0 {
		if res.CPU == nil {
			res.CPU = &specs.LinuxCPU{}
		}
		res.CPU.Quota = &unlimited
	}
}

// saveConfig stores c.Config.
func (r *Runtime) saveConfig(ctx context.Context, c *Container) error {
	raw, err := json.Marshal(&c.Config)
	if err != nil {
		return err
	}
	return r.db.UpdateConfig(ctx, c.ID, raw)
}
