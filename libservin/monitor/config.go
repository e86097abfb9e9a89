package monitor

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Names of the files the monitor keeps in its RunDir.
const (
	ConfigFile    = "monitor.json"
	StatusFile    = "status.json"
	PidFile       = "pidfile"
	AttachSocket  = "attach.sock"
	NoRestartFile = "no-restart"
	MonitorLog    = "monitor.log"
	// HealthStartupPassed is written by the CLI once a startup
	// healthcheck has passed: the regular interval applies from then on.
	HealthStartupPassed = "healthcheck-startup-passed"
)

// Container states recorded in Status.State.
const (
	StateCreated    = "created"
	StateRunning    = "running"
	StateExited     = "exited"
	StateRestarting = "restarting"
)

// Restart policies understood by the monitor.
const (
	RestartNo            = "no"
	RestartOnFailure     = "on-failure"
	RestartAlways        = "always"
	RestartUnlessStopped = "unless-stopped"
)

// Config tells a monitor which container to create and how to run it.
// Spawn writes it to RunDir/monitor.json; the monitor reads it back.
type Config struct {
	ID          string   `json:"id"`
	Bundle      string   `json:"bundle"`      // OCI bundle dir, passed to the helper
	RunDir      string   `json:"runDir"`      // per-container runtime dir owned by the monitor
	RuntimePath string   `json:"runtimePath"` // the runtime helper binary
	RuntimeArgs []string `json:"runtimeArgs,omitempty"`
	ExecFifo    string   `json:"execFifo"`              // libcontainer exec fifo used to start
	ExitCommand []string `json:"exitCommand,omitempty"` // run after the final exit
	// ExitGraceMs, when set, delays the exit command by up to this many
	// milliseconds and drops it if RunDir is removed meanwhile: an
	// attached `run --rm` removes the container itself, and a second
	// servin process doing the same work only competes with it.
	ExitGraceMs int64 `json:"exitGraceMs,omitempty"`
	// TimeoutSec, when set, kills the container's init that many seconds
	// after each start (run --timeout); its exit code is then -1.
	TimeoutSec int64 `json:"timeoutSec,omitempty"`

	LogPath     string `json:"logPath,omitempty"` // "" = no log
	LogMaxSize  int64  `json:"logMaxSize,omitempty"`
	LogMaxFiles int    `json:"logMaxFiles,omitempty"`

	Terminal  bool   `json:"terminal,omitempty"`
	Stdin     bool   `json:"stdin,omitempty"`
	StdinOnce bool   `json:"stdinOnce,omitempty"`
	Rows      uint16 `json:"rows,omitempty"`
	Cols      uint16 `json:"cols,omitempty"`

	Restart    string `json:"restart,omitempty"`
	RestartMax int    `json:"restartMax,omitempty"`
	StartNow   bool   `json:"startNow,omitempty"`

	// HealthCommand, when set, is run every HealthIntervalMs while the
	// container runs (`servin healthcheck run ID`); until RunDir holds
	// HealthStartupPassed, every HealthStartupIntervalMs instead (a startup
	// healthcheck), when that is set.
	HealthCommand           []string `json:"healthCommand,omitempty"`
	HealthIntervalMs        int64    `json:"healthIntervalMs,omitempty"`
	HealthStartupIntervalMs int64    `json:"healthStartupIntervalMs,omitempty"`

	// HeldFiles are handed to the monitor as fds 4, 5, ... and kept open
	// until the container is done for good: the published ports' sockets
	// (HeldFds counts them in monitor.json).
	HeldFiles []*os.File `json:"-"`
	HeldFds   int        `json:"heldFds,omitempty"`
	// PassFiles follow the held fds and are given to the container's
	// first init as its fds 3, 4, ... (--preserve-fds); PassFds counts
	// them.
	PassFiles []*os.File `json:"-"`
	PassFds   int        `json:"passFds,omitempty"`

	// OOMCounters are cgroup files (v1 memory.oom_control, v2
	// memory.events) whose "oom_kill N" line tells, when the init exits,
	// whether the OOM killer struck.
	OOMCounters []string `json:"oomCounters,omitempty"`
}

// Status is the monitor's view of the container, in RunDir/status.json.
type Status struct {
	State        string    `json:"state"`
	Pid          int       `json:"pid"`
	MonitorPid   int       `json:"monitorPid"`
	StartedAt    time.Time `json:"startedAt"`
	FinishedAt   time.Time `json:"finishedAt"`
	ExitCode     int       `json:"exitCode"`
	Signal       int       `json:"signal,omitempty"`
	RestartCount int       `json:"restartCount"`
	Error        string    `json:"error,omitempty"`
	OOMKilled    bool      `json:"oomKilled,omitempty"`
}

// ReadStatus reads RunDir/status.json. A missing file gives an error that
// matches os.ErrNotExist.
func ReadStatus(runDir string) (*Status, error) {
	b, err := os.ReadFile(filepath.Join(runDir, StatusFile))
	if err != nil {
		return nil, err
	}
	st, err := unmarshalStatus(b)
	if err != nil {
		return nil, errors.New("parse " + StatusFile + ": " + err.Error())
	}
	return st, nil
}

// Reload rewrites the restart policy and healthcheck settings in
// RunDir/monitor.json with edit, then tells the monitor (pid) to take them.
func Reload(runDir string, pid int, edit func(*Config)) error {
	cfg, err := readConfig(runDir)
	if err != nil {
		return err
	}
	edit(cfg)
	if err := writeFileAtomic(filepath.Join(runDir, ConfigFile), cfg.marshal()); err != nil {
		return err
	}
	if pid <= 0 {
		return errors.New("no monitor process")
	}
	return syscall.Kill(pid, syscall.SIGHUP)
}

// DisableRestart writes RunDir/no-restart so that the monitor does not
// restart the container after its next exit (stop, kill and rm call it).
func DisableRestart(runDir string) error {
	return os.WriteFile(filepath.Join(runDir, NoRestartFile), nil, 0o600)
}

// writeFileAtomic replaces path with data so that readers never see a
// half-written file.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func writeStatus(runDir string, st *Status) error {
	return writeFileAtomic(filepath.Join(runDir, StatusFile), st.marshal())
}

func (st *Status) marshal() []byte {
	var o jsonObj
	o.str("state", st.State)
	o.int("pid", int64(st.Pid))
	o.int("monitorPid", int64(st.MonitorPid))
	o.time("startedAt", st.StartedAt)
	o.time("finishedAt", st.FinishedAt)
	o.int("exitCode", int64(st.ExitCode))
	if st.Signal != 0 {
		o.int("signal", int64(st.Signal))
	}
	o.int("restartCount", int64(st.RestartCount))
	if st.Error != "" {
		o.str("error", st.Error)
	}
	if st.OOMKilled {
		o.bool("oomKilled", true)
	}
	return o.bytes()
}

func unmarshalStatus(b []byte) (*Status, error) {
	var st Status
	err := decodeJSONObject(b, func(key string, d *jsonDec) error {
		var err error
		var n int64
		switch key {
		case "state":
			st.State, err = d.str()
		case "pid":
			n, err = d.int(32)
			st.Pid = int(n)
		case "monitorPid":
			n, err = d.int(32)
			st.MonitorPid = int(n)
		case "startedAt":
			st.StartedAt, err = d.time()
		case "finishedAt":
			st.FinishedAt, err = d.time()
		case "exitCode":
			n, err = d.int(32)
			st.ExitCode = int(n)
		case "signal":
			n, err = d.int(32)
			st.Signal = int(n)
		case "restartCount":
			n, err = d.int(32)
			st.RestartCount = int(n)
		case "error":
			st.Error, err = d.str()
		case "oomKilled":
			st.OOMKilled, err = d.boolean()
		default:
			err = d.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &st, nil
}

func (c *Config) marshal() []byte {
	var o jsonObj
	o.str("id", c.ID)
	o.str("bundle", c.Bundle)
	o.str("runDir", c.RunDir)
	o.str("runtimePath", c.RuntimePath)
	o.strs("runtimeArgs", c.RuntimeArgs)
	o.str("execFifo", c.ExecFifo)
	o.strs("exitCommand", c.ExitCommand)
	o.int("exitGraceMs", c.ExitGraceMs)
	o.int("timeoutSec", c.TimeoutSec)
	o.str("logPath", c.LogPath)
	o.int("logMaxSize", c.LogMaxSize)
	o.int("logMaxFiles", int64(c.LogMaxFiles))
	o.bool("terminal", c.Terminal)
	o.bool("stdin", c.Stdin)
	o.bool("stdinOnce", c.StdinOnce)
	o.int("rows", int64(c.Rows))
	o.int("cols", int64(c.Cols))
	o.str("restart", c.Restart)
	o.int("restartMax", int64(c.RestartMax))
	o.bool("startNow", c.StartNow)
	if len(c.OOMCounters) > 0 {
		o.strs("oomCounters", c.OOMCounters)
	}
	if c.HeldFds > 0 {
		o.int("heldFds", int64(c.HeldFds))
	}
	if c.PassFds > 0 {
		o.int("passFds", int64(c.PassFds))
	}
	if len(c.HealthCommand) > 0 {
		o.strs("healthCommand", c.HealthCommand)
		o.int("healthIntervalMs", c.HealthIntervalMs)
		o.int("healthStartupIntervalMs", c.HealthStartupIntervalMs)
	}
	return o.bytes()
}

func unmarshalConfig(b []byte) (*Config, error) {
	var c Config
	err := decodeJSONObject(b, func(key string, d *jsonDec) error {
		var err error
		var n int64
		switch key {
		case "id":
			c.ID, err = d.str()
		case "bundle":
			c.Bundle, err = d.str()
		case "runDir":
			c.RunDir, err = d.str()
		case "runtimePath":
			c.RuntimePath, err = d.str()
		case "runtimeArgs":
			c.RuntimeArgs, err = d.strs()
		case "execFifo":
			c.ExecFifo, err = d.str()
		case "exitCommand":
			c.ExitCommand, err = d.strs()
		case "exitGraceMs":
			c.ExitGraceMs, err = d.int(64)
		case "timeoutSec":
			c.TimeoutSec, err = d.int(64)
		case "logPath":
			c.LogPath, err = d.str()
		case "logMaxSize":
			c.LogMaxSize, err = d.int(64)
		case "logMaxFiles":
			n, err = d.int(32)
			c.LogMaxFiles = int(n)
		case "terminal":
			c.Terminal, err = d.boolean()
		case "stdin":
			c.Stdin, err = d.boolean()
		case "stdinOnce":
			c.StdinOnce, err = d.boolean()
		case "rows":
			c.Rows, err = d.uint16()
		case "cols":
			c.Cols, err = d.uint16()
		case "restart":
			c.Restart, err = d.str()
		case "restartMax":
			n, err = d.int(32)
			c.RestartMax = int(n)
		case "startNow":
			c.StartNow, err = d.boolean()
		case "oomCounters":
			c.OOMCounters, err = d.strs()
		case "heldFds":
			n, err = d.int(16)
			c.HeldFds = int(n)
		case "passFds":
			n, err = d.int(16)
			c.PassFds = int(n)
		case "healthCommand":
			c.HealthCommand, err = d.strs()
		case "healthIntervalMs":
			c.HealthIntervalMs, err = d.int(64)
		case "healthStartupIntervalMs":
			c.HealthStartupIntervalMs, err = d.int(64)
		default:
			err = d.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func readConfig(runDir string) (*Config, error) {
	b, err := os.ReadFile(filepath.Join(runDir, ConfigFile))
	if err != nil {
		return nil, err
	}
	cfg, err := unmarshalConfig(b)
	if err != nil {
		return nil, errors.New("parse " + ConfigFile + ": " + err.Error())
	}
	return cfg, cfg.validate()
}

func (c *Config) validate() error {
	switch {
	case c.ID == "":
		return errors.New("monitor config: empty ID")
	case c.RunDir == "":
		return errors.New("monitor config: empty RunDir")
	case c.Bundle == "":
		return errors.New("monitor config: empty Bundle")
	case c.RuntimePath == "":
		return errors.New("monitor config: empty RuntimePath")
	case c.ExecFifo == "":
		return errors.New("monitor config: empty ExecFifo")
	}
	switch c.Restart {
	case "", RestartNo, RestartOnFailure, RestartAlways, RestartUnlessStopped:
	default:
		return errors.New("monitor config: unknown restart policy " + strconv.Quote(c.Restart))
	}
	return nil
}

// syncMsg is what the monitor writes on the sync pipe, once.
type syncMsg struct {
	Pid        int
	MonitorPid int
	Error      string
}

func (m *syncMsg) marshal() []byte {
	var o jsonObj
	if m.Error != "" {
		o.str("error", m.Error)
	} else {
		o.int("pid", int64(m.Pid))
		o.int("monitorPid", int64(m.MonitorPid))
	}
	return o.bytes()
}

func unmarshalSyncMsg(b []byte) (*syncMsg, error) {
	var m syncMsg
	err := decodeJSONObject(b, func(key string, d *jsonDec) error {
		var err error
		var n int64
		switch key {
		case "pid":
			n, err = d.int(32)
			m.Pid = int(n)
		case "monitorPid":
			n, err = d.int(32)
			m.MonitorPid = int(n)
		case "error":
			m.Error, err = d.str()
		default:
			err = d.skip()
		}
		return err
	})
	return &m, err
}
