package libservin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/image"
	"github.com/servin/servin/libservin/monitor"
	"github.com/servin/servin/libservin/oci"
	"github.com/servin/servin/libservin/state"
)

// withLock runs fn with the container's exclusive lock held and its state
// freshly synced; state changes fn makes to c.State are saved afterwards.
func (r *Runtime) withLock(ctx context.Context, nameOrID string, fn func(c *Container) error) (*Container, error) {
	rec, err := r.db.GetContainer(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	tracef("lock %s", rec.ID[:12])
	unlock, err := state.LockContainer(r.lockDir(), rec.ID)
	if err != nil {
		return nil, err
	}
	tracef("locked")
	defer unlock()
	// Re-read under the lock: another process may have changed or removed it.
	rec, err = r.db.GetContainer(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	c, err := fromRecord(rec)
	if err != nil {
		return nil, err
	}
	if err := r.syncLocked(ctx, c); err != nil {
		return nil, err
	}
	before := c.State
	ferr := fn(c)
	if c.State != before && c.State.Status != "removed" {
		if err := r.db.SaveState(ctx, c.ID, c.State); err != nil && ferr == nil {
			ferr = err
		}
	}
	return c, ferr
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || (stat[i+2] != 'Z' && stat[i+2] != 'X')
}

func monitorAlive(pid int) bool {
	if !processAlive(pid) {
		return false
	}
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return err == nil && strings.HasPrefix(string(comm), "servin-monitor")
}

// mayRestart reports whether the monitor could still restart the container
// after an exit with the given code.
func (r *Runtime) mayRestart(c *Container, exitCode int, restarts int) bool {
	if _, err := os.Stat(filepath.Join(r.ctrRunDir(c.ID), "no-restart")); err == nil {
		return false
	}
	switch c.Config.RestartPolicy {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return exitCode != 0 && (c.Config.RestartMax == 0 || restarts < c.Config.RestartMax)
	}
	return false
}

// observe updates c.State in memory from the monitor's status file and from
// process liveness, without locking or saving. It returns true when the
// container's final exit was observed (nothing will run it again).
func (r *Runtime) observe(c *Container) (final bool) { return r.observeState(c, false) }

// observeState is observe; monitorDone says the monitor has decided not to
// restart (it is running its exit command), so an exit is final.
func (r *Runtime) observeState(c *Container, monitorDone bool) (final bool) {
	switch c.State.Status {
	case StatusRunning, StatusPaused, StatusStopping:
	default:
		return false
	}
	st, err := monitor.ReadStatus(r.ctrRunDir(c.ID))
	monAlive := !monitorDone && monitorAlive(c.State.MonitorPid)
	if err == nil && st != nil {
		c.State.RestartCount = st.RestartCount
		switch st.State {
		case "exited":
			if monAlive && r.mayRestart(c, st.ExitCode, st.RestartCount) {
				return false
			}
			c.State.Status = StatusExited
			c.State.Pid = 0
			c.State.ExitCode = st.ExitCode
			c.State.FinishedAt = st.FinishedAt
			c.State.OOMKilled = st.OOMKilled
			return true
		case "running", "restarting":
			if st.Pid > 0 {
				c.State.Pid = st.Pid
			}
			if !st.StartedAt.IsZero() {
				c.State.StartedAt = st.StartedAt
			}
		}
	}
	if monAlive {
		return false
	}
	// The monitor is gone without recording an exit: tell the truth from
	// the process table.
	if processAlive(c.State.Pid) {
		return false
	}
	c.State.Status = StatusExited
	c.State.Pid = 0
	c.State.ExitCode = -1
	if c.State.StoppedByUser {
		// servin itself killed it (stop/rm -f escalate to SIGKILL).
		c.State.ExitCode = 128 + int(syscall.SIGKILL)
	}
	c.State.FinishedAt = time.Now().UTC()
	if c.State.Error == "" {
		c.State.Error = "the container's monitor exited before recording an exit code"
	}
	return true
}

// syncLocked observes the container and, on a final exit, records it and
// releases its runtime resources. The caller holds the lock.
func (r *Runtime) syncLocked(ctx context.Context, c *Container) error {
	return r.syncState(ctx, c, false)
}

func (r *Runtime) syncState(ctx context.Context, c *Container, monitorDone bool) error {
	if !r.observeState(c, monitorDone) {
		return nil
	}
	if c.State.OOMKilled {
		r.ctrEvent(ctx, "oom", c, nil)
	}
	r.releaseRuntime(c)
	if err := r.db.SaveState(ctx, c.ID, c.State); err != nil {
		return err
	}
	r.ctrEvent(ctx, "died", c, diedAttrs(c))
	return nil
}

// releaseRuntime frees what a stopped container holds: the runtime state
// (cgroups) and the rootfs mount. Idempotent.
func (r *Runtime) releaseRuntime(c *Container) {
	_ = oci.Delete(r.runcRoot(), c.ID, true)
	// Only the container's own mount is dropped (once: Mountpoint is
	// cleared below): a `servin mount` made meanwhile stays, as in podman.
	// Removal unmounts everything.
	if c.Config.Rootfs != nil {
		r.unmountRootfs(c) // rootfs.go
	} else if s, err := r.Store(); err == nil && c.State.Mountpoint != "" {
		_ = s.Unmount(c.ID, false)
	}
	r.releaseMounts(c)   // mountstart.go
	r.teardownNetwork(c) // network.go
	c.State.Mountpoint = ""
}

// StartOptions control Start.
type StartOptions struct {
	// Attach, when set, streams the container's stdio until it exits or
	// the client detaches; Start then returns the exit code.
	Attach *AttachStreams
	// ExtraFiles become the container process's fds 3, 4, ...
	// (--preserve-fds) for this start.
	ExtraFiles []*os.File
}

// AttachStreams are the caller's ends of an attached container.
type AttachStreams struct {
	Stdin  io.Reader // nil: no stdin
	Stdout io.Writer
	Stderr io.Writer
	Resize <-chan [2]uint16 // rows, cols
	Rows   uint16
	Cols   uint16
}

// ErrDetached is returned by attached operations when the client detached.
var ErrDetached = errors.New("detached from container")

// Start runs a created or exited container. With o.Attach it blocks until
// the container exits (returning its exit code) or the client detaches
// (returning ErrDetached).
func (r *Runtime) Start(ctx context.Context, nameOrID string, o StartOptions) (int, error) {
	if err := r.requireHelpers(); err != nil {
		return -1, err
	}
	var conn *monitor.AttachConn
	c, err := r.withLock(ctx, nameOrID, func(c *Container) error {
		switch c.State.Status {
		case StatusRunning, StatusStopping:
			if o.Attach != nil {
				return fmt.Errorf("container %s is already running: %w", c.Name, errdefs.ErrFailedPrecondition)
			}
			return nil
		case StatusPaused:
			return fmt.Errorf("container %s is paused, unpause it instead: %w", c.Name, errdefs.ErrFailedPrecondition)
		}
		if err := r.spawn(ctx, c, o.Attach, o.ExtraFiles...); err != nil {
			return err
		}
		// The OCI container exists now, its process not yet running:
		// podman's init event, recorded with start in one write.
		initAt := time.Now()
		if o.Attach != nil {
			var err error
			conn, err = monitor.Attach(r.ctrRunDir(c.ID), monitor.AttachOptions{
				Stdin: o.Attach.Stdin != nil, Stdout: o.Attach.Stdout != nil,
				Stderr: o.Attach.Stderr != nil, Start: true,
			})
			if err != nil {
				return r.failStart(c, fmt.Errorf("attaching to container %s: %w", c.Name, err))
			}
		} else if err := monitor.StartViaSocket(r.ctrRunDir(c.ID)); err != nil {
			return r.failStart(c, err)
		}
		tracef("started")
		writeMonitorPidFile(c) // rmi.go: --conmon-pidfile
		c.State.Status = StatusRunning
		c.State.StartedAt = time.Now().UTC()
		actions, times := []string{"init", "start"}, []time.Time{initAt, time.Now()}
		if o.Attach != nil {
			// podman's order: after start
			actions, times = append(actions, "attach"), append(times, time.Now())
		}
		r.ctrEventsAt(ctx, c, actions, times) // events.go
		return nil
	})
	if err != nil {
		return -1, err
	}
	if conn == nil {
		return 0, nil
	}
	return r.stream(ctx, c, conn, o.Attach)
}

func (r *Runtime) stream(ctx context.Context, c *Container, conn *monitor.AttachConn, a *AttachStreams) (int, error) {
	defer conn.Close()
	code, err := conn.Run(a.Stdin, a.Stdout, a.Stderr, a.Resize)
	if errors.Is(err, monitor.ErrDetach) {
		return -1, ErrDetached
	}
	if err != nil {
		return -1, err
	}
	if code < 0 {
		// The connection closed without an exit frame: ask the state.
		return r.Wait(ctx, c.ID)
	}
	return code, nil
}

func (r *Runtime) failStart(c *Container, err error) error {
	_ = os.WriteFile(filepath.Join(r.ctrRunDir(c.ID), "no-restart"), nil, 0o600)
	_ = oci.Delete(r.runcRoot(), c.ID, true)
	r.releaseRuntime(c)
	c.State.Status = StatusCreated
	c.State.Error = err.Error()
	return err
}

// spawn prepares the bundle and forks the monitor, which creates the
// container (init waiting on the exec fifo). The caller holds the lock.
func (r *Runtime) spawn(ctx context.Context, c *Container, attach *AttachStreams, extra ...*os.File) error {
	store, err := r.Store()
	if err != nil {
		return err
	}
	var rootfs string
	if c.Config.Rootfs != nil {
		if rootfs, err = r.mountRootfs(c); err != nil { // rootfs.go
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
	} else {
		if !store.ContainerExists(c.ID) {
			// A crash between the database insert and the storage create.
			if _, err := store.CreateContainer(ctx, c.ID, c.ImageID, ""); err != nil {
				return fmt.Errorf("recreating storage for container %s: %w", c.Name, err)
			}
		}
		tracef("mount")
		// A container removed when it exits needs no syncing of its layer.
		rootfs, err = store.MountWith(c.ID, image.MountOptions{Volatile: c.Config.AutoRemove})
		tracef("mounted")
		if err != nil {
			return fmt.Errorf("mounting container %s: %w", c.Name, err)
		}
	}
	c.State.Mountpoint = rootfs
	runDir := r.ctrRunDir(c.ID)
	for _, f := range []string{"status.json", "no-restart", "attach.sock", "pidfile", monitor.HealthStartupPassed} {
		_ = os.Remove(filepath.Join(runDir, f))
	}
	r.resetHealth(c) // healthcheck.go
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return err
	}
	netns, heldPorts, err := r.setupNetwork(ctx, c) // network.go
	if err != nil {
		r.releaseRuntime(c)
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	// The monitor holds the published ports from now on; this process
	// lets go of its copies when it is done starting the container.
	defer closeFiles(heldPorts)
	mounts, err := r.writeEtcFiles(c, runDir)
	if err != nil {
		r.releaseRuntime(c)
		return err
	}
	userMounts, err := r.prepareMounts(ctx, c, rootfs) // mountstart.go
	if err != nil {
		r.releaseRuntime(c)
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	mounts = append(mounts, userMounts...)
	secretMounts, secretEnv, err := r.prepareSecrets(ctx, c, runDir) // secrets_container.go
	if err != nil {
		r.releaseRuntime(c)
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	mounts = append(mounts, secretMounts...)
	in := &oci.SpecInput{
		ID:          c.ID,
		Rootfs:      rootfs,
		ReadOnly:    c.Config.ReadOnly,
		Args:        c.Config.Args(),
		Env:         mergeEnv(c.Config.Env, secretEnv),
		UnsetEnv:    c.Config.UnsetEnv,
		UnsetEnvAll: c.Config.UnsetEnvAll,
		Cwd:         c.Config.WorkingDir,
		User:        c.Config.User,
		GroupAdd:    c.Config.GroupAdd,
		Hostname:    c.Config.Hostname,
		Terminal:    c.Config.Tty,
		NetworkMode: c.Config.NetworkMode,
		NetNSPath:   netns,
		CgroupsPath: c.Config.Resources.cgroupsPath(c.ID),
		CgroupNS:    c.Config.CgroupNS == "private" || c.Config.CgroupNS == "" && cgroup2Unified(),
		Umask:       parseUmask(c.Config.Umask),
		Annotations: c.Config.Annotations,
		ExtraMounts: mounts,
		NofileLimit: oci.HardNofileLimit(),
		MemoryLimit: c.Config.Memory,
	}
	if err := r.confine(ctx, c, in); err != nil {
		r.releaseRuntime(c)
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	if c.Config.Init && r.opts.MonitorPath != "" {
		in.Args = append([]string{monitor.InitPath, "--"}, in.Args...)
		in.ExtraMounts = append(in.ExtraMounts, bindMount(r.opts.MonitorPath, monitor.InitPath, true))
	}
	spec, err := oci.Generate(in)
	if err != nil {
		r.releaseRuntime(c)
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	if err := oci.WriteBundle(runDir, spec); err != nil {
		return err
	}
	maxSize, _ := ParseSize(c.Config.LogOpts["max-size"])
	maxFiles, _ := strconv.Atoi(c.Config.LogOpts["max-file"])
	restart := c.Config.RestartPolicy
	if restart == "" {
		restart = "no"
	}
	mcfg := monitor.Config{
		ID:          c.ID,
		Bundle:      runDir,
		RunDir:      runDir,
		RuntimePath: firstNonEmpty(r.opts.OCIRuntimePath, r.opts.RuntimePath),
		RuntimeArgs: r.helperArgs(),
		ExecFifo:    filepath.Join(r.runcRoot(), c.ID, "exec.fifo"),
		ExitCommand: append(append([]string{r.opts.RuntimePath}, r.helperArgs()...), "container", "cleanup", c.ID),
		ExitGraceMs: exitGraceMs(c, attach != nil),
		TimeoutSec:  int64(c.Config.Timeout),
		LogMaxSize:  maxSize,
		LogMaxFiles: maxFiles,
		Terminal:    c.Config.Tty,
		Stdin:       c.Config.Interactive,
		StdinOnce:   c.Config.Interactive && attach != nil,
		Restart:     restart,
		RestartMax:  c.Config.RestartMax,
		OOMCounters: oomCounters(in.CgroupsPath),
	}
	if c.Config.LogDriver != "none" {
		mcfg.LogPath = c.Config.LogPath
	}
	r.healthMonitorConfig(c, &mcfg) // healthcheck.go
	mcfg.HeldFiles, mcfg.PassFiles = heldPorts, extra
	if attach != nil {
		mcfg.Rows, mcfg.Cols = attach.Rows, attach.Cols
	}
	tracef("spawn monitor")
	sp, err := monitor.Spawn(r.opts.MonitorPath, mcfg)
	tracef("monitor reported")
	if err != nil {
		var ce *monitor.CreateError
		if errors.As(err, &ce) {
			err = errdefs.ClassifyStartError(ce.Msg)
		}
		_ = oci.Delete(r.runcRoot(), c.ID, true)
		r.releaseRuntime(c)
		c.State.Error = err.Error()
		if errors.Is(err, errdefs.ErrCommandNotFound) || errors.Is(err, errdefs.ErrCannotInvoke) {
			c.State.ExitCode = errdefs.ExitCode(err)
		}
		return err
	}
	if err := r.networkReady(c); err != nil { // network.go
		return r.failStart(c, err)
	}
	c.State.Pid = sp.Pid
	c.State.MonitorPid = sp.MonitorPid
	c.State.Error = ""
	c.State.ExitCode = 0
	c.State.OOMKilled = false
	c.State.StoppedByUser = false
	c.State.FinishedAt = time.Time{}
	return nil
}

func cgroup2Unified() bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/sys/fs/cgroup", &st); err != nil {
		return false
	}
	return st.Type == 0x63677270 // CGROUP2_SUPER_MAGIC
}

// waitExit polls until the container's init is gone or the deadline passes.
func (r *Runtime) waitExit(c *Container, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		st, err := monitor.ReadStatus(r.ctrRunDir(c.ID))
		if err == nil && st.State == "exited" {
			return true
		}
		if !processAlive(c.State.Pid) && !monitorAlive(c.State.MonitorPid) {
			return true
		}
		if !processAlive(c.State.Pid) && (err != nil || st.State != "running") {
			// Give the monitor a moment to record the exit code.
			if time.Now().After(deadline) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitRecorded gives the monitor up to d to write the exit status of an
// init that is already gone, then syncs.
func (r *Runtime) finishStop(ctx context.Context, c *Container) error {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		st, err := monitor.ReadStatus(r.ctrRunDir(c.ID))
		if (err == nil && st.State == "exited") || !monitorAlive(c.State.MonitorPid) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return r.syncLocked(ctx, c)
}

func (r *Runtime) preventRestart(c *Container) {
	_ = os.WriteFile(filepath.Join(r.ctrRunDir(c.ID), "no-restart"), nil, 0o600)
}

// Stop sends the stop signal, waits up to timeout (the container's own
// stop timeout when nil) and then kills the container.
func (r *Runtime) Stop(ctx context.Context, nameOrID string, timeout *uint) (*Container, error) {
	return r.stopUnlocked(ctx, nameOrID, timeout) // stop.go: the wait is unlocked
}

func (r *Runtime) stopLocked(ctx context.Context, c *Container, timeout *uint) error {
	r.preventRestart(c)
	c.State.StoppedByUser = true
	t := c.Config.StopTimeout
	if timeout != nil {
		t = *timeout
	}
	sig, err := ParseSignal(c.Config.StopSignal)
	if err != nil {
		sig = syscall.SIGTERM
	}
	paused := c.State.Status == StatusPaused
	if t > 0 {
		_ = oci.Signal(r.runcRoot(), c.ID, sig, false)
		if paused {
			_ = oci.Resume(r.runcRoot(), c.ID)
			paused = false
		}
	}
	if t == 0 || !r.waitExit(c, time.Duration(t)*time.Second) {
		if t > 0 {
			warnStopTimeout(c, sig, t) // stop.go
		}
		_ = oci.Signal(r.runcRoot(), c.ID, syscall.SIGKILL, true)
		if paused {
			_ = oci.Resume(r.runcRoot(), c.ID)
		}
		if !r.waitExit(c, 10*time.Second) {
			return fmt.Errorf("container %s did not exit after SIGKILL", c.Name)
		}
	}
	if err := r.finishStop(ctx, c); err != nil {
		return err
	}
	r.ctrEvent(ctx, "stop", c, nil)
	return nil
}

// Kill sends a signal to the container's init.
func (r *Runtime) Kill(ctx context.Context, nameOrID string, signal string) (*Container, error) {
	sig, err := ParseSignal(signal)
	if err != nil {
		return nil, err
	}
	return r.withLock(ctx, nameOrID, func(c *Container) error {
		if !c.Running() {
			return fmt.Errorf("can only kill running containers. %s is in state %s: %w", c.ID, c.State.Status, errCtrStateImproper)
		}
		if sig == syscall.SIGKILL || sig == syscall.SIGTERM || sig == syscall.SIGINT {
			r.preventRestart(c)
			c.State.StoppedByUser = true // as podman: inspect shows who ended it
		}
		if err := oci.Signal(r.runcRoot(), c.ID, sig, false); err != nil {
			return fmt.Errorf("killing container %s: %w", c.Name, err)
		}
		if c.State.Status == StatusPaused && sig == syscall.SIGKILL {
			_ = oci.Resume(r.runcRoot(), c.ID)
		}
		r.ctrEvent(ctx, "kill", c, map[string]string{"signal": strconv.Itoa(int(sig))})
		return nil
	})
}

// RemoveOptions control Remove.
type RemoveOptions struct {
	Force   bool // kill a running container first
	Timeout *uint
	Volumes bool // also remove the container's anonymous volumes (rm -v)
	Depend  bool // first remove the containers that join its namespaces (rm --depend); depend.go
}

// Remove deletes a container, its storage, logs and runtime state.
func (r *Runtime) Remove(ctx context.Context, nameOrID string, o RemoveOptions) (*Container, error) {
	if err := r.removeDependents(ctx, nameOrID, o); err != nil { // depend.go
		return nil, err
	}
	c, err := r.withLock(ctx, nameOrID, func(c *Container) error {
		return r.removeLocked(ctx, c, o)
	})
	if err == nil {
		state.RemoveLock(r.lockDir(), c.ID)
	}
	return c, err
}

func (r *Runtime) removeLocked(ctx context.Context, c *Container, o RemoveOptions) error {
	if c.Running() {
		if !o.Force {
			return fmt.Errorf("cannot remove container %s as it is %s - running or paused containers cannot be removed without force: %w", c.ID, c.State.Status, errCtrStateImproper)
		}
		zero := uint(0)
		t := &zero
		if o.Timeout != nil {
			t = o.Timeout
		}
		if err := r.stopLocked(ctx, c, t); err != nil {
			return err
		}
	}
	r.preventRestart(c)
	r.releaseRuntime(c)
	store, err := r.Store()
	if err != nil {
		return err
	}
	if c.Config.Rootfs == nil {
		if err := store.DeleteContainer(c.ID); err != nil {
			return fmt.Errorf("removing storage of container %s: %w", c.Name, err)
		}
	}
	_ = os.RemoveAll(r.ctrRunDir(c.ID))
	_ = os.RemoveAll(r.ctrDataDir(c.ID))
	removeCIDFile(c) // rmi.go
	if err := r.db.RemoveContainer(ctx, c.ID); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return err
	}
	c.State.Status = "removed"
	r.ctrEvent(ctx, "remove", c, removeAttrs(c))
	if o.Volumes {
		return r.removeAnonymousVolumes(ctx, c) // mountplan.go
	}
	return nil
}

// exitGraceMs is how long the monitor waits for an attached caller to
// remove a --rm container before it runs the exit command itself (which
// then does the removal, e.g. when the caller was killed).
func exitGraceMs(c *Container, attached bool) int64 {
	if c.Config.AutoRemove && attached {
		return 2000
	}
	return 0
}

// Cleanup is the monitor's exit command: it records the final exit and
// releases the container's resources, removing it when it was run with --rm.
func (r *Runtime) Cleanup(ctx context.Context, nameOrID string) error {
	var remove bool
	c, err := r.withLock(ctx, nameOrID, func(c *Container) error {
		if c.Running() {
			// The monitor is exiting: whatever it recorded is final.
			if err := r.syncState(ctx, c, true); err != nil {
				return err
			}
		}
		if !c.Running() {
			r.releaseRuntime(c)
			if c.Config.AutoRemove {
				remove = true
				return r.removeLocked(ctx, c, RemoveOptions{Force: true, Volumes: true})
			}
		}
		return nil
	})
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	if err == nil && remove {
		state.RemoveLock(r.lockDir(), c.ID)
		_ = r.RemoveImageOf(ctx, c) // --rmi; rmi.go
	}
	return err
}

// Wait blocks until the container is no longer running and returns its
// exit code.
func (r *Runtime) Wait(ctx context.Context, nameOrID string) (int, error) {
	id := nameOrID
	if c, err := r.Container(ctx, nameOrID); err == nil {
		id = c.ID
		// A container that never ran answers at once, as with podman.
		if !c.Running() {
			return c.State.ExitCode, nil
		}
	} else {
		return -1, err
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	runs := -1 // the restart count of the run being waited for
	for {
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-tick.C:
		}
		// A container its restart policy brings back has still exited:
		// wait answers with that exit, as podman's does.
		if st, err := monitor.ReadStatus(r.ctrRunDir(id)); err == nil {
			if runs < 0 {
				runs = st.RestartCount
			}
			if st.State == monitor.StateRestarting || st.RestartCount > runs {
				return st.ExitCode, nil
			}
		}
		c, err := r.Container(ctx, id)
		if err != nil {
			return -1, err
		}
		if !c.Running() && c.State.Status != StatusCreated {
			// Record the exit, and so its died event, before answering
			// (as podman's wait does): scripts read events right after.
			// The container may be gone already (--rm): nothing to do.
			_, _ = r.withLock(ctx, id, func(*Container) error { return nil })
			return c.State.ExitCode, nil
		}
	}
}

// Pause freezes all processes of a running container.
func (r *Runtime) Pause(ctx context.Context, nameOrID string) (*Container, error) {
	return r.withLock(ctx, nameOrID, func(c *Container) error {
		if c.State.Status != StatusRunning {
			return fmt.Errorf("%q is not running, can't pause: %w", c.Name, errCtrStateImproper)
		}
		if err := oci.Pause(r.runcRoot(), c.ID); err != nil {
			return err
		}
		c.State.Status = StatusPaused
		r.ctrEvent(ctx, "pause", c, nil)
		return nil
	})
}

// Unpause thaws a paused container.
func (r *Runtime) Unpause(ctx context.Context, nameOrID string) (*Container, error) {
	return r.withLock(ctx, nameOrID, func(c *Container) error {
		if c.State.Status != StatusPaused {
			return fmt.Errorf("%q is not paused, can't unpause: %w", c.Name, errCtrStateImproper)
		}
		if err := oci.Resume(r.runcRoot(), c.ID); err != nil {
			return err
		}
		c.State.Status = StatusRunning
		r.ctrEvent(ctx, "unpause", c, nil)
		return nil
	})
}

// Restart stops a running container and starts it again.
func (r *Runtime) Restart(ctx context.Context, nameOrID string, timeout *uint) error {
	if _, err := r.Stop(ctx, nameOrID, timeout); err != nil {
		return err
	}
	_, err := r.Start(ctx, nameOrID, StartOptions{})
	if err == nil {
		if c, e := r.Container(ctx, nameOrID); e == nil {
			r.ctrEvent(ctx, "restart", c, nil)
		}
	}
	return err
}

// Rename gives a container a new name.
func (r *Runtime) Rename(ctx context.Context, nameOrID, newName string) error {
	if !nameRE.MatchString(newName) {
		return fmt.Errorf("invalid container name %q: %w", newName, errdefs.ErrInvalidArgument)
	}
	_, err := r.withLock(ctx, nameOrID, func(c *Container) error {
		if err := r.db.RenameContainer(ctx, c.ID, newName); err != nil {
			return err
		}
		old := c.Name
		c.Name = newName
		r.event(ctx, "container", "rename", c.ID, newName, ctrEventAttrs(c.Config.Labels, c.ImageName, map[string]string{"oldName": old}))
		return nil
	})
	return err
}

// Prune removes all stopped containers and returns their IDs.
func (r *Runtime) Prune(ctx context.Context) ([]string, error) {
	cs, err := r.Containers(ctx)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, c := range cs {
		if c.Running() {
			continue
		}
		if _, err := r.Remove(ctx, c.ID, RemoveOptions{Depend: true}); err != nil {
			if !errors.Is(err, errdefs.ErrNotFound) && !errors.Is(err, errdefs.ErrFailedPrecondition) {
				errs = append(errs, err)
			}
			continue
		}
		removed = append(removed, c.ID)
	}
	return removed, errors.Join(errs...)
}

// Attach connects the caller's streams to a running container until it
// exits (returning its exit code) or the caller detaches (ErrDetached).
func (r *Runtime) Attach(ctx context.Context, nameOrID string, a *AttachStreams) (int, error) {
	c, err := r.Container(ctx, nameOrID)
	if err != nil {
		return -1, err
	}
	if !c.Running() {
		return -1, fmt.Errorf("you can only attach to running containers: %s is %s: %w", c.Name, c.State.Status, errdefs.ErrFailedPrecondition)
	}
	if a.Stdin != nil && !c.Config.Interactive {
		a.Stdin = nil
	}
	conn, err := monitor.Attach(r.ctrRunDir(c.ID), monitor.AttachOptions{
		Stdin: a.Stdin != nil, Stdout: a.Stdout != nil, Stderr: a.Stderr != nil,
	})
	if err != nil {
		return -1, fmt.Errorf("attaching to container %s: %w", c.Name, err)
	}
	r.ctrEvent(ctx, "attach", c, nil)
	return r.stream(ctx, c, conn, a)
}

// oomCounters are the files whose "oom_kill" counter the monitor reads when
// the container exits: cgroup v1's memory controller, or the v2 cgroup.
func oomCounters(cgroupsPath string) []string {
	if cgroup2Unified() {
		return []string{filepath.Join("/sys/fs/cgroup", cgroupsPath, "memory.events")}
	}
	return []string{filepath.Join("/sys/fs/cgroup/memory", cgroupsPath, "memory.oom_control")}
}
