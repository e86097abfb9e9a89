package libservin

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/servin/servin/libservin/oci"
)

// stopUnlocked is Stop as podman does it: the stop signal is sent under
// the container's lock, which is then released while the container gets
// its timeout to exit. Meanwhile the container is "stopping" and the other
// commands work on it (logs, inspect, ps, kill). The lock is taken again to
// escalate to SIGKILL when the timeout passes, and to record the exit.
func (r *Runtime) stopUnlocked(ctx context.Context, nameOrID string, timeout *uint) (*Container, error) {
	var (
		pending bool
		wait    time.Duration
		sig     syscall.Signal
	)
	c, err := r.withLock(ctx, nameOrID, func(c *Container) error {
		if !c.Running() {
			return nil
		}
		t := c.Config.StopTimeout
		if timeout != nil {
			t = *timeout
		}
		if t == 0 || c.State.Status == StatusPaused {
			return r.stopLocked(ctx, c, timeout) // no wait, or a frozen container: all under the lock
		}
		r.preventRestart(c)
		c.State.StoppedByUser = true
		sig = stopSignal(c)
		if err := oci.Signal(r.runcRoot(), c.ID, sig, false); err != nil && !r.waitExit(c, 0) {
			return fmt.Errorf("stopping container %s: %w", c.Name, err)
		}
		c.State.Status = StatusStopping
		pending, wait = true, time.Duration(t)*time.Second
		return nil
	})
	if err != nil || !pending {
		return c, err
	}
	exited := r.waitExit(c, wait)
	return r.withLock(ctx, c.ID, func(c *Container) error {
		if c.Running() {
			if !exited {
				warnStopTimeout(c, sig, uint(wait/time.Second)) // stopwarn.go
			}
			_ = oci.Signal(r.runcRoot(), c.ID, syscall.SIGKILL, true)
			if !r.waitExit(c, 10*time.Second) {
				return fmt.Errorf("container %s did not exit after SIGKILL", c.Name)
			}
			if err := r.finishStop(ctx, c); err != nil {
				return err
			}
		}
		r.event(ctx, "container", "stop", c.ID, c.Name, map[string]string{"image": c.ImageName})
		return nil
	})
}

// stopSignal is the container's stop signal (SIGTERM by default).
func stopSignal(c *Container) syscall.Signal {
	sig, err := ParseSignal(c.Config.StopSignal)
	if err != nil {
		return syscall.SIGTERM
	}
	return sig
}
