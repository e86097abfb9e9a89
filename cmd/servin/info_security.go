package main

// The confinement part of `servin info`: user namespaces and the ID ranges
// for them, overlay, usable cgroup managers, the seccomp profile.

import "github.com/servin/servin/libservin"

// hostFeaturesInfo is embedded in info's host section.
type hostFeaturesInfo struct {
	IDMappings     idMappingsInfo `json:"idMappings" yaml:"idMappings"`
	Overlay        bool           `json:"overlayfs" yaml:"overlayfs"`
	CgroupManagers []string       `json:"cgroupManagers" yaml:"cgroupManagers"`
}

// idMappingsInfo is podman's host.idMappings: the subordinate ranges user
// namespaces are allocated from.
type idMappingsInfo struct {
	UIDMap []idMap `json:"uidmap" yaml:"uidmap"`
	GIDMap []idMap `json:"gidmap" yaml:"gidmap"`
}

type idMap struct {
	ContainerID int64 `json:"container_id" yaml:"container_id"`
	HostID      int64 `json:"host_id" yaml:"host_id"`
	Size        int64 `json:"size" yaml:"size"`
}

func addHostFeatures(h *hostInfo) {
	f := libservin.DetectHostFeatures()
	h.Security.UserNamespaces = f.UserNamespaces
	if h.Security.SeccompEnabled {
		// Docker's default profile is compiled in.
		h.Security.SeccompProfilePath = "builtin"
	}
	h.Overlay = f.Overlay
	h.CgroupManagers = f.CgroupManagers
	h.IDMappings = idMappingsInfo{UIDMap: toIDMaps(f.SubUIDs), GIDMap: toIDMaps(f.SubGIDs)}
}

func toIDMaps(rs []libservin.IDRange) []idMap {
	out := []idMap{}
	var next int64
	for _, r := range rs {
		out = append(out, idMap{ContainerID: next, HostID: r.Start, Size: r.Size})
		next += r.Size
	}
	return out
}
