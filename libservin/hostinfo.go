package libservin

// What the host offers for confining containers, for `servin info`.

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups/systemd"
)

// HostFeatures reports kernel and system features servin can use.
type HostFeatures struct {
	// UserNamespaces: the kernel can create user namespaces
	// (/proc/sys/user/max_user_namespaces > 0).
	UserNamespaces    bool
	MaxUserNamespaces int64
	// SubUIDs and SubGIDs are the ranges /etc/subuid and /etc/subgid give
	// the "containers" user, which --userns=auto allocates from.
	SubUIDs, SubGIDs []IDRange
	// Overlay: the kernel has the overlay filesystem.
	Overlay bool
	// CgroupManagers are the usable --cgroup-manager values.
	CgroupManagers []string
}

// IDRange is a range of host IDs.
type IDRange struct {
	Start, Size int64
}

// DetectHostFeatures probes the host.
func DetectHostFeatures() HostFeatures {
	var h HostFeatures
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil {
		h.MaxUserNamespaces, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	}
	_, err := os.Stat("/proc/self/ns/user")
	h.UserNamespaces = err == nil && h.MaxUserNamespaces > 0
	h.SubUIDs = subordinateRanges("/etc/subuid", SubordinateUser)
	h.SubGIDs = subordinateRanges("/etc/subgid", SubordinateUser)
	if b, err := os.ReadFile("/proc/filesystems"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "overlay" {
				h.Overlay = true
			}
		}
	}
	h.CgroupManagers = []string{"cgroupfs"}
	if systemd.IsRunningSystemd() {
		h.CgroupManagers = append(h.CgroupManagers, "systemd")
	}
	return h
}

// SubordinateUser is the user whose /etc/subuid and /etc/subgid ranges
// servin allocates user namespaces from, as podman does when run as root.
const SubordinateUser = "containers"

// subordinateRanges reads the NAME:START:SIZE lines of user in file.
func subordinateRanges(file, user string) []IDRange {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []IDRange
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(fs) != 3 || fs[0] != user {
			continue
		}
		start, err1 := strconv.ParseInt(fs[1], 10, 64)
		size, err2 := strconv.ParseInt(fs[2], 10, 64)
		if err1 == nil && err2 == nil && start >= 0 && size > 0 {
			out = append(out, IDRange{Start: start, Size: size})
		}
	}
	return out
}
