package main

// Security and resource flags of create/run, and resource flags of update.

import (
	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
)

func securityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "privileged", Usage: "give the container every capability, all host devices, no seccomp filter and no masked paths"},
		&cli.StringSliceFlag{Name: "cap-add", Usage: "add a capability (or ALL)"},
		&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop a capability (or ALL)"},
		&cli.StringSliceFlag{Name: "security-opt", Usage: "seccomp=PROFILE.json|unconfined, no-new-privileges, apparmor=PROFILE|unconfined, label=..., mask=PATHS, unmask=PATHS|ALL"},
		&cli.StringSliceFlag{Name: "sysctl", Usage: "set a namespaced kernel parameter (KEY=VALUE)"},
		&cli.StringSliceFlag{Name: "ulimit", Usage: "set an rlimit (TYPE=SOFT[:HARD])"},
		&cli.StringSliceFlag{Name: "device", Usage: "add a host device (HOST[:CONTAINER[:PERMISSIONS]])"},
		&cli.StringSliceFlag{Name: "device-cgroup-rule", Usage: "allow devices in the device cgroup (e.g. 'c 1:3 rwm')"},
		&cli.StringFlag{Name: "pid", Usage: "PID namespace: private, host or container:NAME"},
		&cli.StringFlag{Name: "ipc", Usage: "IPC namespace: private, host or container:NAME"},
		&cli.StringFlag{Name: "uts", Usage: "UTS namespace: private, host or container:NAME"},
		&cli.StringFlag{Name: "userns", Usage: "user namespace: host, auto[:size=N], keep-id, nomap or container:NAME"},
		&cli.StringSliceFlag{Name: "uidmap", Usage: "UID mapping CONTAINER_UID:HOST_UID:SIZE for a user namespace"},
		&cli.StringSliceFlag{Name: "gidmap", Usage: "GID mapping CONTAINER_GID:HOST_GID:SIZE for a user namespace"},
		&cli.BoolFlag{Name: "read-only-tmpfs", Value: true, Usage: "with --read-only, mount tmpfs on /tmp, /var/tmp and /run"},
		&cli.IntFlag{Name: "oom-score-adj", Usage: "tune the container's OOM killer preference (-1000 to 1000)"},
	}
}

// resourceFlags are shared by create/run and update; create adds the
// cgroup placement flags.
func resourceFlags(create bool) []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit (e.g. 32m)"},
		&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit, or -1 for unlimited swap"},
		&cli.Int64Flag{Name: "memory-swappiness", Usage: "swappiness of the container's memory (0-100, -1: kernel default)", Value: -1},
		&cli.BoolFlag{Name: "oom-kill-disable", Usage: "do not OOM-kill the container's processes"},
		&cli.StringFlag{Name: "cpus", Usage: "number of CPUs (e.g. 1.5)"},
		&cli.Uint64Flag{Name: "cpu-shares", Aliases: []string{"c"}, Usage: "CPU shares (relative weight)"},
		&cli.Uint64Flag{Name: "cpu-period", Usage: "CPU CFS period in microseconds"},
		&cli.Int64Flag{Name: "cpu-quota", Usage: "CPU CFS quota in microseconds"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs the container may run on (0-1, 0,2)"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes the container may use"},
		&cli.Int64Flag{Name: "pids-limit", Usage: "maximum number of processes (0 or -1: unlimited)"},
		&cli.UintFlag{Name: "blkio-weight", Usage: "block I/O weight (10-1000)"},
		&cli.StringSliceFlag{Name: "device-read-bps", Usage: "limit read rate from a device (PATH:RATE, e.g. /dev/sda:1mb)"},
		&cli.StringSliceFlag{Name: "device-write-bps", Usage: "limit write rate to a device (PATH:RATE)"},
		&cli.StringSliceFlag{Name: "device-read-iops", Usage: "limit read operations per second from a device (PATH:OPERATIONS)"},
		&cli.StringSliceFlag{Name: "device-write-iops", Usage: "limit write operations per second to a device (PATH:OPERATIONS)"},
		&cli.StringSliceFlag{Name: "blkio-weight-device", Usage: "block I/O weight of a device (PATH:WEIGHT, 10-1000)"},
	}
	if create {
		flags = append(flags,
			&cli.StringFlag{Name: "cgroup-parent", Usage: "parent cgroup of the container's cgroup"},
			&cli.StringFlag{Name: "cgroups", Usage: "cgroup mode: enabled or no-conmon (disabled is refused)"},
			&cli.StringFlag{Name: "cgroup-manager", Usage: "cgroup manager: cgroupfs or systemd"},
		)
	}
	return flags
}

func securityOptions(c *cli.Context) libservin.SecurityOptions {
	o := libservin.SecurityOptions{
		Privileged:       c.Bool("privileged"),
		CapAdd:           c.StringSlice("cap-add"),
		CapDrop:          c.StringSlice("cap-drop"),
		SecurityOpt:      c.StringSlice("security-opt"),
		Sysctl:           c.StringSlice("sysctl"),
		Ulimit:           c.StringSlice("ulimit"),
		Device:           c.StringSlice("device"),
		DeviceCgroupRule: c.StringSlice("device-cgroup-rule"),
		PID:              c.String("pid"),
		IPC:              c.String("ipc"),
		UTS:              c.String("uts"),
		UserNS:           c.String("userns"),
		UIDMap:           c.StringSlice("uidmap"),
		GIDMap:           c.StringSlice("gidmap"),
		NoReadOnlyTmpfs:  !c.Bool("read-only-tmpfs"),
	}
	if c.IsSet("oom-score-adj") {
		v := c.Int("oom-score-adj")
		o.OOMScoreAdj = &v
	}
	return o
}

func resourceOptions(c *cli.Context) libservin.ResourceOptions {
	o := libservin.ResourceOptions{
		MemoryReservation: c.String("memory-reservation"),
		MemorySwap:        c.String("memory-swap"),
		CPUs:              c.String("cpus"),
		CpusetCpus:        c.String("cpuset-cpus"),
		CpusetMems:        c.String("cpuset-mems"),
		CgroupParent:      c.String("cgroup-parent"),
		Cgroups:           c.String("cgroups"),
		CgroupManager:     c.String("cgroup-manager"),
	}
	if c.IsSet("memory-swappiness") {
		v := c.Int64("memory-swappiness")
		o.MemorySwappiness = &v
	}
	if c.IsSet("oom-kill-disable") {
		v := c.Bool("oom-kill-disable")
		o.OOMKillDisable = &v
	}
	if c.IsSet("cpu-shares") {
		v := c.Uint64("cpu-shares")
		o.CPUShares = &v
	}
	if c.IsSet("cpu-period") {
		v := c.Uint64("cpu-period")
		o.CPUPeriod = &v
	}
	if c.IsSet("cpu-quota") {
		v := c.Int64("cpu-quota")
		o.CPUQuota = &v
	}
	if c.IsSet("pids-limit") {
		v := c.Int64("pids-limit")
		o.PidsLimit = &v
	}
	if c.IsSet("blkio-weight") {
		v := uint16(min(c.Uint("blkio-weight"), 65535))
		o.BlkioWeight = &v
	}
	if c.IsSet("device-read-bps") {
		o.DeviceReadBps = c.StringSlice("device-read-bps")
	}
	if c.IsSet("device-write-bps") {
		o.DeviceWriteBps = c.StringSlice("device-write-bps")
	}
	if c.IsSet("device-read-iops") {
		o.DeviceReadIOps = c.StringSlice("device-read-iops")
	}
	if c.IsSet("device-write-iops") {
		o.DeviceWriteIOps = c.StringSlice("device-write-iops")
	}
	if c.IsSet("blkio-weight-device") {
		o.BlkioWeightDevice = c.StringSlice("blkio-weight-device")
	}
	return o
}
