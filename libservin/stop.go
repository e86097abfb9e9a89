package libservin

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
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
	after, err := r.withLock(ctx, c.ID, func(c *Container) error {
		if c.Running() {
			if !exited {
				warnStopTimeout(c, sig, uint(wait/time.Second))
			}
			_ = oci.Signal(r.runcRoot(), c.ID, syscall.SIGKILL, true)
			if !r.waitExit(c, 10*time.Second) {
				return fmt.Errorf("container %s did not exit after SIGKILL", c.Name)
			}
			if err := r.finishStop(ctx, c); err != nil {
				return err
			}
		}
		r.ctrEvent(ctx, "stop", c, nil)
		return nil
	})
	if errors.Is(err, errdefs.ErrNotFound) {
		// A --rm container is removed by its monitor once it exits.
		c.State.Status = StatusExited
		return c, nil
	}
	return after, err
}

// stopSignal is the container's stop signal (SIGTERM by default).
func stopSignal(c *Container) syscall.Signal {
	sig, err := ParseSignal(c.Config.StopSignal)
	if err != nil {
		return syscall.SIGTERM
	}
	return sig
}

// warnStopTimeout tells the user, as podman does, that the container
// ignored its stop signal for the whole timeout and is being killed.
func warnStopTimeout(c *Container, sig syscall.Signal, timeout uint) {
	name := unix.SignalName(sig)
	if name == "" {
		name = sig.String()
	}
	logrus.Warnf("StopSignal %s failed to stop container %s in %d seconds, resorting to SIGKILL", name, c.Name, timeout)
}
