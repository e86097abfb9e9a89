package libservin

// The security and resource part of inspect's HostConfig.

import (
	"sort"
	"strings"

	"github.com/servin/servin/libservin/oci"
)

// InspectHostLimits holds HostConfig's security and resource fields, named
// as docker and podman name them.
type InspectHostLimits struct {
	Privileged           bool              `json:"Privileged"`
	CapAdd               []string          `json:"CapAdd"`
	CapDrop              []string          `json:"CapDrop"`
	SecurityOpt          []string          `json:"SecurityOpt"`
	Sysctls              map[string]string `json:"Sysctls"`
	Ulimits              []Ulimit          `json:"Ulimits"`
	Devices              []DeviceMapping   `json:"Devices"`
	DeviceCgroupRules    []string          `json:"DeviceCgroupRules"`
	PidMode              string            `json:"PidMode"`
	IpcMode              string            `json:"IpcMode"`
	UTSMode              string            `json:"UTSMode"`
	UsernsMode           string            `json:"UsernsMode"`
	OomScoreAdj          int               `json:"OomScoreAdj"`
	OomKillDisable       bool              `json:"OomKillDisable"`
	MemoryReservation    int64             `json:"MemoryReservation"`
	MemorySwap           int64             `json:"MemorySwap"`
	MemorySwappiness     int64             `json:"MemorySwappiness"`
	NanoCpus             int64             `json:"NanoCpus"`
	CpuShares            uint64            `json:"CpuShares"`
	CpuPeriod            uint64            `json:"CpuPeriod"`
	CpuQuota             int64             `json:"CpuQuota"`
	CpusetCpus           string            `json:"CpusetCpus"`
	CpusetMems           string            `json:"CpusetMems"`
	PidsLimit            int64             `json:"PidsLimit"`
	BlkioWeight          uint16            `json:"BlkioWeight"`
	BlkioDeviceReadBps   []ThrottleDevice  `json:"BlkioDeviceReadBps"`
	BlkioDeviceWriteBps  []ThrottleDevice  `json:"BlkioDeviceWriteBps"`
	BlkioDeviceReadIOps  []ThrottleDevice  `json:"BlkioDeviceReadIOps"`
	BlkioDeviceWriteIOps []ThrottleDevice  `json:"BlkioDeviceWriteIOps"`
	BlkioWeightDevice    []WeightDevice    `json:"BlkioWeightDevice"`
	CgroupParent         string            `json:"CgroupParent"`
	Cgroups              string            `json:"Cgroups"`
	CgroupManager        string            `json:"CgroupManager"`
	SeccompProfilePath   string            `json:"SeccompProfilePath"`
	NoNewPrivileges      bool              `json:"NoNewPrivileges"`
	EffectiveCaps        []string          `json:"EffectiveCaps"`
}

// nonNil makes an empty list show as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nsModeView(mode, def string) string {
	if mode == "" {
		return def
	}
	return mode
}

// inspectLimits is the HostConfig view of a container's security and
// resource configuration.
func inspectLimits(cfg *ContainerConfig) InspectHostLimits {
	sc, rc := &cfg.Security, &cfg.Resources
	v := InspectHostLimits{
		Privileged: sc.Privileged, CapAdd: nonNilStrings(sc.CapAdd), CapDrop: nonNilStrings(sc.CapDrop),
		SecurityOpt: nonNilStrings(sc.SecurityOpt), Sysctls: sc.Sysctls, Ulimits: []Ulimit{},
		Devices: sc.Devices, DeviceCgroupRules: nonNilStrings(sc.DeviceCgroupRules),
		PidMode: nsModeView(sc.PidMode, "private"), IpcMode: nsModeView(sc.IpcMode, "shareable"),
		UTSMode: nsModeView(sc.UTSMode, "private"), UsernsMode: sc.UserNS.Mode,
		OomKillDisable: rc.OOMKillDisable, MemoryReservation: rc.MemoryReservation,
		MemorySwap: rc.MemorySwap, MemorySwappiness: -1, NanoCpus: rc.NanoCPUs,
		CpuShares: rc.CPUShares, CpuPeriod: rc.CPUPeriod, CpuQuota: rc.CPUQuota,
		CpusetCpus: rc.CpusetCpus, CpusetMems: rc.CpusetMems, PidsLimit: rc.PidsLimit,
		BlkioWeight: rc.BlkioWeight, BlkioDeviceReadBps: rc.DeviceReadBps, BlkioDeviceWriteBps: rc.DeviceWriteBps,
		BlkioDeviceReadIOps: nonNil(rc.DeviceReadIOps), BlkioDeviceWriteIOps: nonNil(rc.DeviceWriteIOps),
		BlkioWeightDevice: nonNil(rc.BlkioWeightDevice),
		CgroupParent:      rc.CgroupParent, Cgroups: firstNonEmpty(rc.Cgroups, "default"),
		CgroupManager: firstNonEmpty(rc.CgroupManager, "cgroupfs"), SeccompProfilePath: sc.SeccompPath,
		NoNewPrivileges: sc.NoNewPrivileges,
	}
	if sc.OOMScoreAdj != nil {
		v.OomScoreAdj = *sc.OOMScoreAdj
	}
	if rc.MemorySwappiness != nil {
		v.MemorySwappiness = *rc.MemorySwappiness
	}
	if v.Sysctls == nil {
		v.Sysctls = map[string]string{}
	}
	for _, u := range sc.Ulimits {
		v.Ulimits = append(v.Ulimits, Ulimit{Name: ulimitName(u.Name), Soft: u.Soft, Hard: u.Hard})
	}
	if v.Devices == nil {
		v.Devices = []DeviceMapping{}
	}
	if v.BlkioDeviceReadBps == nil {
		v.BlkioDeviceReadBps = []ThrottleDevice{}
	}
	if v.BlkioDeviceWriteBps == nil {
		v.BlkioDeviceWriteBps = []ThrottleDevice{}
	}
	if caps, err := effectiveCaps(sc); err == nil {
		v.EffectiveCaps = caps
	}
	return v
}

func effectiveCaps(sc *SecurityConfig) ([]string, error) {
	caps, err := oci.Capabilities(&oci.Security{Privileged: sc.Privileged, CapAdd: sc.CapAdd, CapDrop: sc.CapDrop})
	if err != nil {
		return nil, err
	}
	out := append([]string(nil), caps...)
	sort.Strings(out)
	return out, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ulimitName is the rlimit's RLIMIT_ name.
func ulimitName(n string) string { return "RLIMIT_" + strings.ToUpper(n) }
