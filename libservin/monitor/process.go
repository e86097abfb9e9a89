package monitor

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// errExitedBeforeStart: the init died while blocked on the exec fifo.
var errExitedBeforeStart = errors.New("container exited before it was started")

// outputDrainTimeout bounds how long output is drained after the init
// exited: a process outside the container's pid namespace may keep a pipe
// open forever.
const outputDrainTimeout = 2 * time.Second

// run is one create/start/exit cycle of the container.
type run struct {
	pid    int
	exitCh <-chan unix.WaitStatus
	ws     unix.WaitStatus
	exited bool

	stdin   *os.File // write end of the stdin pipe (non-terminal, cfg.Stdin)
	pty     *os.File // pty master (terminal)
	outputs []output // read ends pumped into log and clients
	pumps   sync.WaitGroup

	startedAt time.Time
	// timeout kills the run after cfg.TimeoutSec; timedOut tells exited
	// that the end came from it.
	timeout  *time.Timer
	timedOut atomic.Bool
}

type output struct {
	f      *os.File
	stream byte
}

// checkExited polls for the init's exit without blocking.
func (r *run) checkExited() bool {
	if r.exited {
		return true
	}
	select {
	case ws := <-r.exitCh:
		r.ws, r.exited = ws, true
	default:
	}
	return r.exited
}

// wait blocks until the init exited.
func (r *run) wait() unix.WaitStatus {
	if !r.exited {
		r.ws, r.exited = <-r.exitCh, true
	}
	return r.ws
}

// closeFiles closes what the pumps do not own (used when create fails).
func (r *run) closeFiles() {
	for _, o := range r.outputs {
		o.f.Close()
	}
	if r.stdin != nil {
		r.stdin.Close()
	}
}

// runHelper runs the runtime helper with args after its global args.
// extra become fds 3, 4, ... of the helper. The helper's stdout and stderr
// share one pipe; on failure its text is the error, verbatim.
func (m *monitor) runHelper(args []string, extra []*os.File) error {
	argv := append([]string{m.cfg.RuntimePath}, m.cfg.RuntimeArgs...)
	argv = append(argv, args...)

	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		pw.Close()
		return err
	}
	// Fd() puts the child ends in blocking mode, which is what the helper
	// and the container expect; our read ends stay non-blocking.
	files := []uintptr{devnull.Fd(), pw.Fd(), pw.Fd()}
	for _, f := range extra {
		files = append(files, f.Fd())
	}
	pid, err := syscall.ForkExec(m.runtimePath, argv, &syscall.ProcAttr{
		Dir:   "/",
		Env:   os.Environ(),
		Files: files,
	})
	pw.Close()
	devnull.Close()
	if err != nil {
		return wrapError("exec runtime "+m.runtimePath, err)
	}
	exitCh := m.reaper.watch(pid)

	outCh := make(chan []byte, 1)
	go func() { outCh <- readCapped(pr, 64<<10) }()
	ws := <-exitCh
	var out []byte
	select {
	case out = <-outCh:
	case <-time.After(outputDrainTimeout):
		// Something the helper started holds its stdout: stop reading.
		pr.SetReadDeadline(time.Now())
		out = <-outCh
	}
	if ws.Exited() && ws.ExitStatus() == 0 {
		return nil
	}
	if msg := strings.TrimSpace(string(out)); msg != "" {
		return errors.New(msg)
	}
	return errors.New("runtime " + m.runtimePath + " " + strings.Join(args[:2], " ") + ": " + describeExit(ws))
}

// readCapped reads r to EOF, keeping at most max bytes (the rest is read
// and dropped so the writer never blocks).
func readCapped(r io.Reader, max int) []byte {
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if room := max - len(out); room > 0 {
			out = append(out, buf[:min(n, room)]...)
		}
		if err != nil {
			return out
		}
	}
}

// create runs `oci create` with fresh stdio and returns the created run,
// its output pumps started. The init is then blocked on the exec fifo.
func (m *monitor) create() (*run, error) {
	pidPath := filepath.Join(m.cfg.RunDir, PidFile)
	os.Remove(pidPath)
	r := &run{}
	args := []string{"oci", "create", "--bundle", m.cfg.Bundle, "--pid-file", pidPath}
	var child []*os.File // the helper's ends, closed once it has exited
	consoleFd := -1
	var err error
	if m.cfg.Terminal {
		var fds [2]int
		fds, err = unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, os.NewSyscallError("socketpair", err)
		}
		consoleFd = fds[0]
		child = append(child, os.NewFile(uintptr(fds[1]), "console-socket"))
		args = append(args, "--console-socket-fd", "3")
	} else {
		child, err = m.stdioPipes(r)
		if err != nil {
			closeFiles(child)
			r.closeFiles()
			return nil, err
		}
		args = append(args, "--stdio-fds", "3,4,5")
	}
	if m.cfg.PassFds > 0 && !m.passed {
		// The first init gets them; restarts run without.
		m.passed = true
		var fds []string
		for i := 0; i < m.cfg.PassFds; i++ {
			fds = append(fds, strconv.Itoa(3+len(child)))
			child = append(child, os.NewFile(uintptr(4+m.cfg.HeldFds+i), "preserved"))
		}
		args = append(args, "--extra-fds", strings.Join(fds, ","))
	}
	args = append(args, m.cfg.ID)

	err = m.runHelper(args, child)
	closeFiles(child)
	if err == nil && consoleFd >= 0 {
		r.pty, err = recvPtyMaster(consoleFd)
		if err == nil {
			r.outputs = []output{{r.pty, StreamStdout}}
			m.applyWinsize(r.pty)
		}
	}
	if consoleFd >= 0 {
		unix.Close(consoleFd)
	}
	if err == nil {
		r.pid, err = readPidFile(pidPath)
		if err != nil {
			m.deleteContainer() // created but unusable: do not leak it
		}
	}
	if err != nil {
		r.closeFiles()
		return nil, err
	}
	r.exitCh = m.reaper.watch(r.pid)
	for _, o := range r.outputs {
		r.pumps.Add(1)
		go m.pump(r, o)
	}
	return r, nil
}

// stdioPipes makes the non-terminal stdio: it returns the helper's ends
// (fds 3, 4, 5) and keeps ours in r.
func (m *monitor) stdioPipes(r *run) ([]*os.File, error) {
	var child []*os.File
	if m.cfg.Stdin {
		pr, pw, err := os.Pipe()
		if err != nil {
			return child, err
		}
		child, r.stdin = append(child, pr), pw
	} else {
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			return child, err
		}
		child = append(child, devnull)
	}
	for _, stream := range []byte{StreamStdout, StreamStderr} {
		pr, pw, err := os.Pipe()
		if err != nil {
			return child, err
		}
		child = append(child, pw)
		r.outputs = append(r.outputs, output{pr, stream})
	}
	return child, nil
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// recvPtyMaster receives the pty master the container init sent over the
// console socket (one message, one fd; the payload, the pty name, is
// ignored). The helper has exited successfully, so the message is there
// already or never will be.
func recvPtyMaster(sock int) (*os.File, error) {
	buf := make([]byte, 512)
	oob := make([]byte, unix.CmsgSpace(4*4))
	var oobn int
	var err error
	for {
		_, oobn, _, _, err = unix.Recvmsg(sock, buf, oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.EAGAIN {
		return nil, errors.New("runtime did not send the console pty")
	}
	if err != nil {
		return nil, os.NewSyscallError("recvmsg console socket", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, wrapError("console socket", err)
	}
	var fds []int
	for i := range msgs {
		if got, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			fds = append(fds, got...)
		}
	}
	if len(fds) == 0 {
		return nil, errors.New("console socket: message carried no fd")
	}
	for _, fd := range fds[1:] {
		unix.Close(fd)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		return nil, err
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, wrapError("runtime wrote no pid file", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, errors.New("bad pid file " + path + ": " + strconv.Quote(string(b)))
	}
	return pid, nil
}

// startContainer starts a created container the way `runc start` does:
// opening the exec fifo for reading unblocks the init, which writes one
// byte and execs the user process (closing the fifo). The fifo is opened
// non-blocking and waited on through the runtime poller (no thread parked
// in poll(2)), waking every 100ms to notice an init that died meanwhile.
func (m *monitor) startContainer(r *run) error {
	fd, err := unix.Open(m.cfg.ExecFifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if r.checkExited() {
			return errExitedBeforeStart
		}
		return &os.PathError{Op: "open exec fifo", Path: m.cfg.ExecFifo, Err: err}
	}
	f := os.NewFile(uintptr(fd), m.cfg.ExecFifo)
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	got := false
	var buf [16]byte
	for {
		var n int
		var rerr error
		f.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		err := rc.Read(func(fd uintptr) bool {
			// read(2) returns EOF while no writer has opened the fifo
			// yet, so read only once poll(2) reports data or a hangup
			// (Linux reports POLLHUP only after a writer came and went).
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			if ready, _ := unix.Poll(pfd, 0); ready <= 0 {
				return false
			}
			n, rerr = unix.Read(int(fd), buf[:])
			return rerr != unix.EAGAIN
		})
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if r.checkExited() {
				return errExitedBeforeStart
			}
			continue
		}
		if err == nil {
			err = rerr
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return wrapError("read exec fifo", err)
		}
		if n == 0 {
			break // EOF: the init closed the fifo by exec'ing (or dying)
		}
		got = true
	}
	os.Remove(m.cfg.ExecFifo)
	if !got {
		return errExitedBeforeStart
	}
	return nil
}

// deleteContainer clears the runtime's state of the previous run.
func (m *monitor) deleteContainer() {
	if err := m.runHelper([]string{"oci", "delete", "--force", m.cfg.ID}, nil); err != nil {
		m.logf("runtime delete: " + err.Error())
	}
}

// runExitCommand runs cfg.ExitCommand with its output discarded and waits.
func (m *monitor) runExitCommand() {
	argv := m.cfg.ExitCommand
	if len(argv) == 0 || m.removedWithinGrace() {
		return
	}
	ws, err := m.runQuiet(argv)
	if err != nil {
		m.logf("exit command " + argv[0] + ": " + err.Error())
		return
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		m.logf("exit command " + argv[0] + ": " + describeExit(ws))
	}
}

// removedWithinGrace waits up to cfg.ExitGraceMs for the container's run
// directory to be removed, and reports whether it was.
func (m *monitor) removedWithinGrace() bool {
	if m.cfg.ExitGraceMs <= 0 {
		return false
	}
	deadline := time.Now().Add(time.Duration(m.cfg.ExitGraceMs) * time.Millisecond)
	for {
		if _, err := os.Stat(m.cfg.RunDir); errors.Is(err, os.ErrNotExist) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// describeExit words a wait status for error messages.
func describeExit(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "killed by signal " + strconv.Itoa(int(ws.Signal()))
	}
	return "exit status " + strconv.Itoa(ws.ExitStatus())
}

// lookPath resolves a bare command name through PATH (syscall.ForkExec
// does no lookup; os/exec is avoided to keep the binary small).
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New(name + ": executable file not found in $PATH")
}

// healthLoop runs the healthcheck command on its interval while the
// container runs, for the monitor's whole life. A kick (the container
// started or exited, or the settings changed) re-reads the state. Runs
// never overlap.
func (m *monitor) healthLoop() {
	for {
		cmd, interval := m.healthSchedule()
		var fire <-chan time.Time
		var t *time.Timer
		if len(cmd) > 0 && interval > 0 {
			t = time.NewTimer(interval)
			fire = t.C
		}
		select {
		case <-m.healthKick:
			if t != nil {
				t.Stop()
			}
		case <-fire:
			if cmd, _ := m.healthSchedule(); len(cmd) > 0 {
				m.runHealthCommand(cmd)
			}
		}
	}
}

// healthSchedule returns the healthcheck command and the time to the next
// run, or no command when none should run now.
func (m *monitor) healthSchedule() ([]string, time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil || m.st.State != StateRunning || len(m.cfg.HealthCommand) == 0 {
		return nil, 0
	}
	interval := time.Duration(m.cfg.HealthIntervalMs) * time.Millisecond
	if m.cfg.HealthStartupIntervalMs > 0 {
		if _, err := os.Stat(filepath.Join(m.cfg.RunDir, HealthStartupPassed)); err != nil {
			interval = time.Duration(m.cfg.HealthStartupIntervalMs) * time.Millisecond
		}
	}
	return m.cfg.HealthCommand, interval
}

func (m *monitor) kickHealth() {
	select {
	case m.healthKick <- struct{}{}:
	default:
	}
}

// reload takes the restart policy and the healthcheck settings from
// monitor.json again.
func (m *monitor) reload() {
	cfg, err := readConfig(m.cfg.RunDir)
	if err != nil {
		m.logf("reload: " + err.Error())
		return
	}
	m.mu.Lock()
	m.cfg.Restart, m.cfg.RestartMax = cfg.Restart, cfg.RestartMax
	m.cfg.HealthCommand, m.cfg.HealthIntervalMs, m.cfg.HealthStartupIntervalMs = cfg.HealthCommand, cfg.HealthIntervalMs, cfg.HealthStartupIntervalMs
	m.mu.Unlock()
	m.kickHealth()
}

// runHealthCommand runs the healthcheck command once and waits for it.
func (m *monitor) runHealthCommand(argv []string) {
	if _, err := m.runQuiet(argv); err != nil {
		m.logf("healthcheck " + argv[0] + ": " + err.Error())
	}
}

// runQuiet runs argv from "/" with /dev/null for stdio and waits for it
// (through the reaper, as everything the monitor forks).
func (m *monitor) runQuiet(argv []string) (unix.WaitStatus, error) {
	path, err := lookPath(argv[0])
	if err != nil {
		return 0, err
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	fd := devnull.Fd()
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Dir:   "/",
		Env:   os.Environ(),
		Files: []uintptr{fd, fd, fd},
	})
	devnull.Close()
	if err != nil {
		return 0, err
	}
	return <-m.reaper.watch(pid), nil
}
