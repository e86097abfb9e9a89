package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CreateOptions describes one `servin oci create`.
type CreateOptions struct {
	Root    string // libcontainer state root, e.g. /run/servin/runc
	Bundle  string // directory holding config.json
	ID      string
	PidFile string
	// Stdio are the container's stdin, stdout and stderr (nil entries are
	// left unset). Ignored when ConsoleSocket is set.
	Stdio [3]*os.File
	// ConsoleSocket receives the PTY master when the spec asks for a terminal.
	ConsoleSocket *os.File
	// ExtraFiles become the init's fds 3, 4, ... (--preserve-fds).
	ExtraFiles []*os.File
}

// ReadBundle loads bundle/config.json.
func ReadBundle(bundle string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("parse %s/config.json: %w", bundle, err)
	}
	return &s, nil
}

// Create creates the container described by the bundle and starts its init,
// which then waits on the exec fifo until Start. The init's PID is written
// to PidFile.
func Create(o CreateOptions) (err error) {
	spec, err := ReadBundle(o.Bundle)
	if err != nil {
		return err
	}
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:       o.ID,
		Spec:             spec,
		UseSystemdCgroup: useSystemd(spec),
	})
	if err != nil {
		return err
	}
	if config.Rlimits, err = configRlimits(spec.Process.Rlimits); err != nil {
		return err
	}
	// A leftover state dir from a crashed run would make Create fail with
	// "container exists"; it is ours to remove.
	if old, lerr := libcontainer.Load(o.Root, o.ID); lerr == nil {
		if st, serr := old.Status(); serr == nil && st == libcontainer.Stopped {
			_ = old.Destroy()
		}
	}
	c, err := libcontainer.Create(o.Root, o.ID, config)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = c.Destroy()
		}
	}()
	p := newProcess(spec.Process)
	p.Init = true
	p.ExtraFiles = o.ExtraFiles
	if spec.Process.Terminal {
		if o.ConsoleSocket == nil {
			return errors.New("a terminal was requested but no console socket was given")
		}
		p.ConsoleSocket = o.ConsoleSocket
	} else {
		if o.Stdio[0] != nil {
			p.Stdin = o.Stdio[0]
		}
		if o.Stdio[1] != nil {
			p.Stdout = o.Stdio[1]
		}
		if o.Stdio[2] != nil {
			p.Stderr = o.Stdio[2]
		}
	}
	if err := c.Start(p); err != nil {
		return err
	}
	pid, err := p.Pid()
	if err != nil {
		return err
	}
	if o.PidFile != "" {
		return writeFileAtomic(o.PidFile, []byte(strconv.Itoa(pid)))
	}
	return nil
}

func newProcess(sp *specs.Process) *libcontainer.Process {
	p := &libcontainer.Process{
		Args: sp.Args,
		Env:  sp.Env,
		UID:  int(sp.User.UID),
		GID:  int(sp.User.GID),
		Cwd:  sp.Cwd,
	}
	for _, g := range sp.User.AdditionalGids {
		p.AdditionalGroups = append(p.AdditionalGroups, int(g))
	}
	if sp.ConsoleSize != nil {
		p.ConsoleWidth = uint16(sp.ConsoleSize.Width)
		p.ConsoleHeight = uint16(sp.ConsoleSize.Height)
	}
	return p
}

// Start lets a created container's init exec the user's command.
func Start(root, id string) error {
	c, err := libcontainer.Load(root, id)
	if err != nil {
		return err
	}
	return c.Exec()
}

// Delete removes the runtime state (and cgroup) of a container. With force,
// a running container is killed first.
func Delete(root, id string, force bool) error {
	c, err := libcontainer.Load(root, id)
	if err != nil {
		if errors.Is(err, libcontainer.ErrNotExist) {
			// Nothing in libcontainer; make sure no stale dir is left.
			return os.RemoveAll(filepath.Join(root, id))
		}
		return err
	}
	st, err := c.Status()
	if err != nil {
		return err
	}
	if st != libcontainer.Stopped {
		if !force {
			return fmt.Errorf("container %s is %s, not stopped", id, st)
		}
		if err := c.Signal(unix.SIGKILL); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
			return err
		}
		// Wait for init to go away before destroying the cgroup.
		if s, err := c.State(); err == nil && s.InitProcessPid > 0 {
			waitGone(s.InitProcessPid)
		}
	}
	return c.Destroy()
}

func waitGone(pid int) {
	for i := 0; i < 200; i++ {
		if unix.Kill(pid, 0) != nil {
			return
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err == nil && isZombie(st) {
			return
		}
		sleepMillis(10)
	}
}

// Signal sends sig to the container's init, or to all its processes.
func Signal(root, id string, sig syscall.Signal, all bool) error {
	c, err := libcontainer.Load(root, id)
	if err != nil {
		return err
	}
	if all {
		pids, err := c.Processes()
		if err != nil {
			return err
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, sig)
		}
		return nil
	}
	return c.Signal(sig)
}

// Pause freezes every process of the container.
func Pause(root, id string) error {
	c, err := libcontainer.Load(root, id)
	if err != nil {
		return err
	}
	return c.Pause()
}

// Resume thaws a paused container.
func Resume(root, id string) error {
	c, err := libcontainer.Load(root, id)
	if err != nil {
		return err
	}
	return c.Resume()
}

// Processes lists the host PIDs of the container's processes.
func Processes(root, id string) ([]int, error) {
	c, err := libcontainer.Load(root, id)
	if err != nil {
		return nil, err
	}
	return c.Processes()
}

// CgroupPaths returns the container's cgroup directories by controller
// ("" is the unified hierarchy).
func CgroupPaths(root, id string) (map[string]string, error) {
	c, err := libcontainer.Load(root, id)
	if err != nil {
		return nil, err
	}
	st, err := c.State()
	if err != nil {
		return nil, err
	}
	return st.CgroupPaths, nil
}

// ExecOptions describes a process to run in a running container.
type ExecOptions struct {
	Args          []string
	Env           []string
	Cwd           string
	UID, GID      int
	Groups        []int
	Stdin         *os.File
	Stdout        *os.File
	Stderr        *os.File
	ConsoleSocket *os.File
	Rows, Cols    uint16
	ExtraFiles    []*os.File // fds 3, 4, ... of the process
}

// ExecProcess is a process started by Exec.
type ExecProcess struct{ p *libcontainer.Process }

// Pid returns the host PID of the exec'd process.
func (e *ExecProcess) Pid() (int, error) { return e.p.Pid() }

// Signal sends sig to the exec'd process.
func (e *ExecProcess) Signal(sig os.Signal) error { return e.p.Signal(sig) }

// Wait waits for the process and returns its exit code (128+signal when
// killed by a signal).
func (e *ExecProcess) Wait() (int, error) {
	ps, err := e.p.Wait()
	if ps == nil {
		if err != nil {
			return -1, err
		}
		return -1, errors.New("no process state")
	}
	ws := ps.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// Exec runs a new process inside a running container.
func Exec(root, id string, o ExecOptions) (*ExecProcess, error) {
	c, err := libcontainer.Load(root, id)
	if err != nil {
		return nil, err
	}
	p := &libcontainer.Process{
		Args: o.Args, Env: o.Env, Cwd: o.Cwd, UID: o.UID, GID: o.GID,
		AdditionalGroups: o.Groups, ExtraFiles: o.ExtraFiles,
	}
	if o.ConsoleSocket != nil {
		p.ConsoleSocket = o.ConsoleSocket
		p.ConsoleWidth, p.ConsoleHeight = o.Cols, o.Rows
	} else {
		if o.Stdin != nil {
			p.Stdin = o.Stdin
		}
		if o.Stdout != nil {
			p.Stdout = o.Stdout
		}
		if o.Stderr != nil {
			p.Stderr = o.Stderr
		}
	}
	if err := c.Run(p); err != nil {
		return nil, err
	}
	return &ExecProcess{p: p}, nil
}

// RunningState reports libcontainer's view of the container.
func RunningState(root, id string) (string, error) {
	c, err := libcontainer.Load(root, id)
	if err != nil {
		if errors.Is(err, libcontainer.ErrNotExist) {
			return "stopped", nil
		}
		return "", err
	}
	st, err := c.Status()
	if err != nil {
		return "", err
	}
	return st.String(), nil
}
