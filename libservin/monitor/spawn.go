package monitor

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// CreateError is the runtime helper's error text, verbatim, when creating
// the container failed.
type CreateError struct {
	Msg string
}

func (e *CreateError) Error() string { return e.Msg }

// Spawned describes a monitor that created its container.
type Spawned struct {
	Pid        int `json:"pid"`        // container init
	MonitorPid int `json:"monitorPid"` // the detached monitor
}

// Spawn writes cfg to RunDir/monitor.json and starts the monitor binary at
// monitorPath in its own session, detached from the caller's terminal and
// process group. The monitor is the caller's child until the caller exits
// (then init or the nearest subreaper adopts it); a goroutine reaps it, so
// long-lived callers keep no zombie. One exec instead of a double fork
// keeps a launcher process off every container start. Spawn returns once
// the container is created (the init pid is known), or with a *CreateError
// carrying the runtime helper's message.
func Spawn(monitorPath string, cfg Config) (*Spawned, error) {
	if err := absPaths(&cfg); err != nil {
		return nil, err
	}
	if strings.Contains(monitorPath, "/") && !filepath.IsAbs(monitorPath) {
		// The monitor starts in "/": a relative path must not be read from there.
		abs, err := filepath.Abs(monitorPath)
		if err != nil {
			return nil, err
		}
		monitorPath = abs
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.HeldFds, cfg.PassFds = len(cfg.HeldFiles), len(cfg.PassFiles)
	if err := os.MkdirAll(cfg.RunDir, 0o700); err != nil {
		return nil, err
	}
	// A fresh start forgets the previous run's stop request.
	os.Remove(filepath.Join(cfg.RunDir, NoRestartFile))
	if err := writeFileAtomic(filepath.Join(cfg.RunDir, ConfigFile), cfg.marshal()); err != nil {
		return nil, err
	}

	// Only what the monitor logs from now on explains a failure below.
	logPath := filepath.Join(cfg.RunDir, MonitorLog)
	var logOffset int64
	if fi, err := os.Stat(logPath); err == nil {
		logOffset = fi.Size()
	}

	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		return nil, err
	}
	proc, err := os.StartProcess(monitorPath, []string{monitorPath, "run", cfg.RunDir}, &os.ProcAttr{
		Dir: "/",
		// fd 3: the sync pipe; 4...: held, then passed on.
		Files: append(append([]*os.File{devnull, devnull, devnull, w}, cfg.HeldFiles...), cfg.PassFiles...),
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	w.Close()
	devnull.Close()
	if err != nil {
		return nil, wrapError("start monitor", err)
	}

	// EOF comes when the monitor reported (and closed fd 3) or died.
	data, err := io.ReadAll(r)
	if err != nil {
		go proc.Wait()
		return nil, wrapError("read monitor sync pipe", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		why := "monitor exited before reporting"
		if st, err := proc.Wait(); err == nil && !st.Success() {
			why += " (" + st.String() + ")"
		}
		if last := lastLogLine(logPath, logOffset); last != "" {
			why += ": " + last
		}
		return nil, errors.New(why)
	}
	go proc.Wait() // reaped whenever the container's monitor ends
	msg, err := unmarshalSyncMsg(data)
	if err != nil {
		return nil, errors.New("bad message from monitor " + strconv.Quote(string(data)) + ": " + err.Error())
	}
	if msg.Error != "" {
		return nil, &CreateError{Msg: msg.Error}
	}
	return &Spawned{Pid: msg.Pid, MonitorPid: msg.MonitorPid}, nil
}

// wrappedError prefixes an error while keeping it matchable (errors.Is):
// fmt.Errorf is not used in this package to keep the monitor binary small.
type wrappedError struct {
	msg string
	err error
}

func (e *wrappedError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *wrappedError) Unwrap() error { return e.err }

func wrapError(msg string, err error) error { return &wrappedError{msg, err} }

// absPaths makes the paths in cfg absolute: the monitor runs in "/".
func absPaths(cfg *Config) error {
	for _, p := range []*string{&cfg.RunDir, &cfg.Bundle, &cfg.ExecFifo, &cfg.LogPath} {
		if *p == "" || filepath.IsAbs(*p) {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	if strings.Contains(cfg.RuntimePath, "/") && !filepath.IsAbs(cfg.RuntimePath) {
		abs, err := filepath.Abs(cfg.RuntimePath)
		if err != nil {
			return err
		}
		cfg.RuntimePath = abs
	}
	return nil
}

// lastLogLine returns the last line written to path after offset.
func lastLogLine(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) <= offset {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b[offset:])), "\n")
	return lines[len(lines)-1]
}
