package libservin

import (
	"syscall"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// warnStopTimeout tells the user, as podman does, that the container
// ignored its stop signal for the whole timeout and is being killed.
func warnStopTimeout(c *Container, sig syscall.Signal, timeout uint) {
	name := unix.SignalName(sig)
	if name == "" {
		name = sig.String()
	}
	logrus.Warnf("StopSignal %s failed to stop container %s in %d seconds, resorting to SIGKILL", name, c.Name, timeout)
}
