package monitor

import (
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Restart back-off: 100ms doubling up to 10s, reset after a run that
// lasted longer than 10s.
const (
	backoffMin   = 100 * time.Millisecond
	backoffMax   = 10 * time.Second
	backoffReset = 10 * time.Second
)

// monitorLogMax keeps monitor.log small: it is truncated past this size.
const monitorLogMax = 64 << 10

type monitor struct {
	cfg         *Config
	runtimePath string
	reaper      *reaper
	log         *logWriter // nil: log driver none
	lis         *os.File
	lisIno      uint64 // the inode of attach.sock as this monitor made it
	lisClosed   atomic.Bool
	sync        *os.File // fd 3 from Spawn until the first report

	mu            sync.Mutex
	st            Status
	final         bool // the container will not run again
	cur           *run
	clients       map[*client]struct{}
	pendingStarts []chan error
	exitFrame     *outFrame // last exit frame, for clients attaching after exit
	rows, cols    uint16
	logFailed     bool

	startKick  chan struct{}
	healthKick chan struct{} // the run or the healthcheck settings changed
	passed     bool          // the PassFiles went to the first init
	clientWG   sync.WaitGroup
}

// serve is the monitor process proper ("servin-monitor run RUNDIR").
func serve(runDir string) int {
	// One P: the monitor's work is I/O bound, and each P costs memory.
	runtime.GOMAXPROCS(1)
	m := &monitor{
		cfg:        &Config{RunDir: runDir},
		clients:    map[*client]struct{}{},
		startKick:  make(chan struct{}, 1),
		healthKick: make(chan struct{}, 1),
	}
	if _, err := unix.FcntlInt(3, unix.F_GETFD, 0); err == nil {
		unix.CloseOnExec(3) // the helper must not inherit the sync pipe
		m.sync = os.NewFile(3, "sync")
	}
	cfg, err := readConfig(runDir)
	if err != nil {
		m.logf(err.Error())
		m.report(syncMsg{Error: err.Error()})
		return 1
	}
	m.cfg = cfg
	for fd := 4; fd < 4+cfg.HeldFds+cfg.PassFds; fd++ {
		unix.CloseOnExec(fd) // passed on only explicitly
	}
	m.rows, m.cols = cfg.Rows, cfg.Cols
	if err := m.setup(); err != nil {
		m.logf(err.Error())
		m.report(syncMsg{Error: err.Error()})
		m.closeListener()
		return 1
	}
	if !m.lifecycle() {
		m.closeListener()
		return 1
	}
	m.releaseHeld() // before cleanup: a restart may bind the ports at once
	m.runExitCommand()
	m.closeListener()
	m.waitClients(time.Second)
	return 0
}

// releaseHeld closes the held fds (published ports).
func (m *monitor) releaseHeld() {
	for fd := 4; fd < 4+m.cfg.HeldFds; fd++ {
		unix.Close(fd)
	}
}

func (m *monitor) setup() error {
	os.Chdir("/") // never keep the caller's cwd (a mount) busy
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_SET_CHILD_SUBREAPER)", err)
	}
	// Catch rather than ignore: ignored dispositions would be inherited
	// by the helper and the container. Signals beyond the first are
	// dropped, as nobody reads the channel.
	signal.Notify(make(chan os.Signal, 1), unix.SIGHUP, unix.SIGINT, unix.SIGTERM, unix.SIGPIPE)
	m.reaper = startReaper()
	// SIGHUP: the CLI rewrote the reloadable settings (update).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, unix.SIGHUP)
	go func() {
		for range hup {
			m.reload()
		}
	}()
	go m.healthLoop()
	var err error
	if m.runtimePath, err = lookPath(m.cfg.RuntimePath); err != nil {
		return err
	}
	if m.cfg.LogPath != "" {
		if m.log, err = openLogWriter(m.cfg.LogPath, m.cfg.LogMaxSize, m.cfg.LogMaxFiles); err != nil {
			return wrapError("open container log", err)
		}
	}
	if m.lis, err = listenUnix(filepath.Join(m.cfg.RunDir, AttachSocket)); err != nil {
		return err
	}
	var st unix.Stat_t
	if unix.Stat(filepath.Join(m.cfg.RunDir, AttachSocket), &st) == nil {
		m.lisIno = st.Ino
	}
	m.clientWG.Add(1)
	go m.acceptLoop()
	return nil
}

// lifecycle creates, starts and restarts the container until it is done
// for good. It returns false when the very first create failed (Spawn
// reports that; no exit command runs).
func (m *monitor) lifecycle() bool {
	first := true
	backoff := backoffMin
	for {
		r, err := m.create()
		if err != nil {
			m.logf("create: " + err.Error())
			if first {
				m.report(syncMsg{Error: err.Error()})
				return false
			}
			m.setStatus(func(st *Status) { st.State, st.Pid, st.Error = StateExited, 0, err.Error() })
			m.finish()
			return true
		}
		m.mu.Lock()
		m.cur = r
		m.mu.Unlock()
		if first {
			m.setStatus(func(st *Status) {
				*st = Status{State: StateCreated, Pid: r.pid, MonitorPid: os.Getpid()}
			})
			m.report(syncMsg{Pid: r.pid, MonitorPid: os.Getpid()})
		}
		started := m.startRun(r, first && !m.cfg.StartNow, !first)
		m.kickHealth()
		code := m.exited(r)
		m.kickHealth()
		if !started || !m.shouldRestart(code) {
			m.finish()
			return true
		}
		if time.Since(r.startedAt) > backoffReset {
			backoff = backoffMin
		}
		// "restarting" already during the back-off: a stop then sees it
		// and cancels the restart, and attach clients wait for the next run.
		m.setStatus(func(st *Status) { st.State, st.Pid = StateRestarting, 0 })
		if !m.sleepBackoff(backoff) {
			m.setStatus(func(st *Status) { st.State = StateExited })
			m.finish()
			return true
		}
		backoff = min(backoff*2, backoffMax)
		m.deleteContainer()
		first = false
	}
}

// startRun starts r, first waiting for a start request when wait is set.
// It returns false when the container never ran.
func (m *monitor) startRun(r *run, wait, restarted bool) bool {
	if wait {
		select {
		case <-m.startKick:
		case ws := <-r.exitCh:
			r.ws, r.exited = ws, true
			m.resolveStarts(errExitedBeforeStart)
			return false
		}
	}
	if err := m.startContainer(r); err != nil {
		m.resolveStarts(err)
		if !errors.Is(err, errExitedBeforeStart) {
			m.logf("start: " + err.Error())
			m.setStatus(func(st *Status) { st.Error = err.Error() })
			unix.Kill(r.pid, unix.SIGKILL) // do not leave it blocked forever
		}
		return false
	}
	r.startedAt = time.Now()
	if m.cfg.TimeoutSec > 0 {
		pid := r.pid
		r.timeout = time.AfterFunc(time.Duration(m.cfg.TimeoutSec)*time.Second, func() {
			r.timedOut.Store(true)
			unix.Kill(pid, unix.SIGKILL)
		})
	}
	m.setStatus(func(st *Status) {
		st.State, st.Pid, st.StartedAt = StateRunning, r.pid, r.startedAt
		st.FinishedAt, st.ExitCode, st.Signal, st.Error = time.Time{}, 0, 0, ""
		if restarted {
			st.RestartCount++
		}
	})
	m.resolveStarts(nil)
	return true
}

// exited waits for r's init, drains its output, records the exit and
// sends the exit frame to every client. It returns the exit code.
func (m *monitor) exited(r *run) int {
	code, sig := exitStatus(r.wait())
	finished := time.Now()
	if r.timeout != nil {
		r.timeout.Stop()
	}
	if r.timedOut.Load() {
		code = -1 // as podman: killed for running past --timeout
	}
	m.drain(r)
	frame := staticFrame(encodeFrame(StreamExit, []byte(`{"exitCode":`+strconv.Itoa(code)+`}`)))
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur = nil
	if r.stdin != nil {
		r.stdin.Close()
	}
	m.st.State, m.st.Pid, m.st.FinishedAt = StateExited, 0, finished
	m.st.ExitCode, m.st.Signal = code, sig
	m.st.OOMKilled = oomKilled(m.cfg.OOMCounters)
	m.writeStatusLocked()
	// status.json says exited before any client learns of the exit.
	m.exitFrame = frame
	for c := range m.clients {
		c.send(frame)
		c.finish()
		delete(m.clients, c)
	}
	return code
}

// drain waits until the output pumps hit EOF, giving up after
// outputDrainTimeout.
func (m *monitor) drain(r *run) {
	done := make(chan struct{})
	go func() { r.pumps.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(outputDrainTimeout):
	}
	for _, o := range r.outputs {
		o.f.SetReadDeadline(time.Now())
	}
	<-done
}

func (m *monitor) shouldRestart(code int) bool {
	if m.noRestart() {
		return false
	}
	m.mu.Lock()
	policy, max, count := m.cfg.Restart, m.cfg.RestartMax, m.st.RestartCount
	m.mu.Unlock()
	switch policy {
	case RestartAlways, RestartUnlessStopped:
		return true
	case RestartOnFailure:
		return code != 0 && (max <= 0 || count < max)
	}
	return false
}

func (m *monitor) noRestart() bool {
	_, err := os.Stat(filepath.Join(m.cfg.RunDir, NoRestartFile))
	return err == nil
}

// sleepBackoff waits d, watching for a no-restart request (a stop during
// the back-off). It returns false if the restart was cancelled.
func (m *monitor) sleepBackoff(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if m.noRestart() {
			return false
		}
		left := time.Until(deadline)
		if left <= 0 {
			return true
		}
		time.Sleep(min(left, 100*time.Millisecond))
	}
}

// finish marks the container as done for good. Clients that attached
// while a restart was pending get the last exit.
func (m *monitor) finish() {
	m.mu.Lock()
	m.final = true
	for c := range m.clients {
		if m.exitFrame != nil {
			c.send(m.exitFrame)
		}
		c.finish()
		delete(m.clients, c)
	}
	m.mu.Unlock()
	m.resolveStarts(errors.New("container has exited"))
}

// setStatus applies fn to the status and rewrites status.json.
func (m *monitor) setStatus(fn func(*Status)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(&m.st)
	m.writeStatusLocked()
}

func (m *monitor) writeStatusLocked() {
	m.st.MonitorPid = os.Getpid()
	if err := writeStatus(m.cfg.RunDir, &m.st); err != nil {
		m.logf("write status: " + err.Error())
	}
}

// requestStart asks the lifecycle to start a created container and waits
// for the outcome. A running container counts as started.
func (m *monitor) requestStart() error {
	m.mu.Lock()
	if m.st.State == StateRunning {
		m.mu.Unlock()
		return nil
	}
	if m.final {
		m.mu.Unlock()
		return errors.New("container has exited")
	}
	ch := make(chan error, 1)
	m.pendingStarts = append(m.pendingStarts, ch)
	m.mu.Unlock()
	select {
	case m.startKick <- struct{}{}:
	default: // a kick is pending already
	}
	return <-ch
}

func (m *monitor) resolveStarts(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ch := range m.pendingStarts {
		ch <- err
	}
	m.pendingStarts = nil
}

// pump copies one output stream of r to the log and the clients until
// EOF (EIO for a pty), then closes it.
func (m *monitor) pump(r *run, o output) {
	defer r.pumps.Done()
	buf := make([]byte, pumpBufSize)
	for {
		n, err := o.f.Read(buf)
		if n > 0 {
			m.output(o.stream, buf[:n])
		}
		if err != nil {
			break
		}
	}
	o.f.Close()
}

func (m *monitor) output(stream byte, p []byte) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.log != nil {
		name := "stdout"
		if stream == StreamStderr {
			name = "stderr"
		}
		if err := m.log.write(name, p, now); err != nil && !m.logFailed {
			m.logFailed = true // report once, not per chunk
			m.logf("write container log: " + err.Error())
		}
	}
	var fr *outFrame // one copy shared by all clients
	defer func() {
		if fr != nil {
			fr.release()
		}
	}()
	for c := range m.clients {
		if !c.wants(stream) {
			continue
		}
		if fr == nil {
			fr = newOutFrame(stream, p)
		}
		if err := c.send(fr); err != nil {
			delete(m.clients, c)
			if err == errClientSlow {
				m.logf(err.Error())
			}
		}
	}
}

// stdinFile is where client stdin goes, or nil.
func (m *monitor) stdinFile() *os.File {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.cfg.Stdin || m.cur == nil {
		return nil
	}
	if m.cfg.Terminal {
		return m.cur.pty
	}
	return m.cur.stdin
}

func (m *monitor) writeStdin(p []byte) {
	if f := m.stdinFile(); f != nil {
		f.Write(p) // blocks only this client; errors mean stdin is gone
	}
}

// stdinEOF handles a client's EOF: stdin-once containers see EOF.
func (m *monitor) stdinEOF() {
	if !m.cfg.StdinOnce || m.cfg.Terminal {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur != nil && m.cur.stdin != nil {
		m.cur.stdin.Close()
		m.cur.stdin = nil
	}
}

func (m *monitor) resize(rows, cols uint16) {
	m.mu.Lock()
	m.rows, m.cols = rows, cols
	var pty *os.File
	if m.cur != nil {
		pty = m.cur.pty
	}
	m.mu.Unlock()
	if pty != nil {
		m.applyWinsize(pty)
	}
}

// applyWinsize sets the last requested window size on pty.
func (m *monitor) applyWinsize(pty *os.File) {
	m.mu.Lock()
	ws := unix.Winsize{Row: m.rows, Col: m.cols}
	m.mu.Unlock()
	if ws.Row == 0 && ws.Col == 0 {
		return
	}
	rc, err := pty.SyscallConn()
	if err != nil {
		return
	}
	// Control, unlike Fd, leaves the fd non-blocking and pollable.
	rc.Control(func(fd uintptr) {
		unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &ws)
	})
}

// report sends the one message Spawn waits for, then closes the pipe.
func (m *monitor) report(msg syncMsg) {
	if m.sync == nil {
		return
	}
	m.sync.Write(msg.marshal())
	m.sync.Close()
	m.sync = nil
}

// logf appends one line to RunDir/monitor.log, truncating it when large.
func (m *monitor) logf(msg string) {
	f, err := os.OpenFile(filepath.Join(m.cfg.RunDir, MonitorLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > monitorLogMax {
		f.Truncate(0)
	}
	line := appendTimeUTC(make([]byte, 0, 64+len(msg)), time.Now())
	f.Write(append(line, " ["+strconv.Itoa(os.Getpid())+"] "+msg+"\n"...))
}

func (m *monitor) closeListener() {
	if m.lis == nil {
		return
	}
	m.lisClosed.Store(true)
	// The path may already be the socket of the container's next monitor
	// (a restart while this one exits): remove only our own.
	path := filepath.Join(m.cfg.RunDir, AttachSocket)
	var st unix.Stat_t
	if unix.Stat(path, &st) == nil && st.Ino == m.lisIno {
		os.Remove(path)
	}
	m.lis.Close()
}

// waitClients lets queued frames (the exit frame) reach clients.
func (m *monitor) waitClients(d time.Duration) {
	done := make(chan struct{})
	go func() { m.clientWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// oomKilled reads the "oom_kill N" counters of the container's memory
// cgroup; the cgroup lives until the exit command removes it.
func oomKilled(files []string) bool {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				return n > 0
			}
		}
	}
	return false
}
