package libservin

// Resource usage of running containers (`servin stats`).

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/oci"
)

// ContainerStats is one sample of a container's resource usage.
type ContainerStats struct {
	ID          string
	Name        string
	Time        time.Time     // when the sample was taken
	Up          time.Duration // since the container started
	CPUNanos    uint64        // CPU time used since start
	MemUsage    uint64
	MemLimit    uint64 // the container's limit, or the host's memory
	NetInput    uint64
	NetOutput   uint64
	NetMeasured bool // false with the host's network: its traffic is not the container's
	BlockInput  uint64
	BlockOutput uint64
	PIDs        uint64
}

// AvgCPU is the average CPU use since start, in percent of one CPU.
func (s *ContainerStats) AvgCPU() float64 {
	if s.Up <= 0 {
		return 0
	}
	return 100 * float64(s.CPUNanos) / float64(s.Up.Nanoseconds())
}

// CPUPercent is the CPU use between prev (an earlier sample of the same
// container, or nil for "since start"), in percent of one CPU.
func (s *ContainerStats) CPUPercent(prev *ContainerStats) float64 {
	if prev == nil || prev.ID != s.ID || !s.Time.After(prev.Time) || s.CPUNanos < prev.CPUNanos {
		return s.AvgCPU()
	}
	return 100 * float64(s.CPUNanos-prev.CPUNanos) / float64(s.Time.Sub(prev.Time).Nanoseconds())
}

// MemPercent is the memory use in percent of the limit.
func (s *ContainerStats) MemPercent() float64 {
	if s.MemLimit == 0 {
		return 0
	}
	return 100 * float64(s.MemUsage) / float64(s.MemLimit)
}

// Stats samples the resource usage of a running container.
func (r *Runtime) Stats(ctx context.Context, nameOrID string) (*ContainerStats, error) {
	c, err := r.Container(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	if c.State.Status != StatusRunning && c.State.Status != StatusPaused && c.State.Status != StatusStopping {
		return nil, fmt.Errorf("container %s is %s, not running: %w", c.Name, c.State.Status, errdefs.ErrFailedPrecondition)
	}
	st, err := oci.ContainerStats(r.runcRoot(), c.ID)
	if err != nil {
		return nil, fmt.Errorf("reading the stats of container %s: %w", c.Name, err)
	}
	now := time.Now()
	cs := &ContainerStats{
		ID: c.ID, Name: c.Name, Time: now, CPUNanos: st.CPUNanos,
		MemUsage: st.MemUsage, MemLimit: st.MemLimit,
		NetInput: st.NetRx, NetOutput: st.NetTx, NetMeasured: st.NetMeasured,
		BlockInput: st.BlockRead, BlockOutput: st.BlockWrite, PIDs: st.Pids,
	}
	if !c.State.StartedAt.IsZero() {
		cs.Up = now.Sub(c.State.StartedAt)
	}
	// Without a limit (or one above the host's memory) the host's memory
	// is the limit, as podman reports it.
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		if total := uint64(si.Totalram) * uint64(si.Unit); cs.MemLimit == 0 || cs.MemLimit > total {
			cs.MemLimit = total
		}
	}
	return cs, nil
}
