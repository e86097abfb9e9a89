package monitor

// End-to-end tests of the monitor process without libcontainer. The test
// binary doubles as a fake runtime helper: `oci create` forks /bin/sh as
// the "init", which blocks opening the exec fifo (exactly where a
// libcontainer init waits) and then runs the bundle's script with the
// stdio fds it was given. The helper exits, so the init re-parents to the
// monitor as it does with the real runtime. No root needed.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	helperArg  = "fake-oci-helper-7f3a" // os.Args[1] of the fake runtime helper
	spawnerArg = "fake-spawner-7f3a"    // os.Args[1] of a short-lived Spawn caller
	buildTags  = "seccomp containers_image_openpgp exclude_graphdriver_btrfs"
	waitLimit  = 15 * time.Second
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case helperArg:
			os.Exit(fakeHelper(os.Args[2:]))
		case spawnerArg:
			os.Exit(fakeSpawner(os.Args[2:]))
		}
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

var (
	buildOnce  sync.Once
	buildDir   string
	monitorBin string
	buildErr   error
)

// needMonitor builds the real cmd/servin-monitor once per test run.
func needMonitor(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if _, err := exec.LookPath("go"); err != nil {
			buildErr = err
			return
		}
		buildDir, buildErr = os.MkdirTemp("", "servin-monitor-bin")
		if buildErr != nil {
			return
		}
		monitorBin = filepath.Join(buildDir, "servin-monitor")
		cmd := exec.Command("go", "build", "-tags", buildTags, "-o", monitorBin, "github.com/servin/servin/cmd/servin-monitor")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New(err.Error() + ": " + string(out))
		}
	})
	if buildErr != nil {
		if errors.Is(buildErr, exec.ErrNotFound) {
			t.Skip("go toolchain not found: cannot build servin-monitor")
		}
		t.Fatalf("build servin-monitor: %v", buildErr)
	}
	return monitorBin
}

// fakeHelper implements `--root DIR oci create|delete ...`.
func fakeHelper(args []string) int {
	if len(args) < 5 || args[0] != "--root" || args[2] != "oci" {
		os.Stderr.WriteString("fake helper: bad args " + strings.Join(args, " ") + "\n")
		return 2
	}
	root, sub, rest := args[1], args[3], args[4:]
	id := rest[len(rest)-1]
	state := filepath.Join(root, id)
	if f, err := os.OpenFile(filepath.Join(root, "calls.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		f.WriteString(sub + "\n")
		f.Close()
	}
	if sub == "delete" {
		os.RemoveAll(state)
		return 0
	}
	opts := map[string]string{}
	for i := 0; i+1 < len(rest)-1; i += 2 {
		opts[rest[i]] = rest[i+1]
	}
	bundle := opts["--bundle"]
	if msg, err := os.ReadFile(filepath.Join(bundle, "fail")); err == nil {
		os.Stderr.Write(msg)
		return 1
	}
	script, err := os.ReadFile(filepath.Join(bundle, "cmd"))
	if err != nil {
		os.Stderr.WriteString(err.Error())
		return 1
	}
	fifo := filepath.Join(state, "exec.fifo")
	os.MkdirAll(state, 0o700)
	os.Remove(fifo)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		os.Stderr.WriteString("mkfifo: " + err.Error())
		return 1
	}
	// Like libcontainer's init: block until started, write a byte, exec.
	full := "exec 9>'" + fifo + "'; printf 0 >&9; exec 9>&-; " + string(script)
	for fd := 3; fd <= 5; fd++ {
		unix.CloseOnExec(fd)
	}
	attr := &syscall.ProcAttr{Env: os.Environ(), Sys: &syscall.SysProcAttr{Setsid: true}}
	if opts["--console-socket-fd"] == "3" {
		master, slave, name, err := openPty()
		if err != nil {
			os.Stderr.WriteString("pty: " + err.Error())
			return 1
		}
		if err := unix.Sendmsg(3, []byte(name), unix.UnixRights(master), nil, 0); err != nil {
			os.Stderr.WriteString("sendmsg: " + err.Error())
			return 1
		}
		unix.Close(master)
		attr.Files = []uintptr{uintptr(slave), uintptr(slave), uintptr(slave)}
		attr.Sys.Setctty, attr.Sys.Ctty = true, 0
	} else if opts["--stdio-fds"] == "3,4,5" {
		attr.Files = []uintptr{3, 4, 5}
	} else {
		os.Stderr.WriteString("fake helper: no stdio option")
		return 2
	}
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", full}, attr)
	if err != nil {
		os.Stderr.WriteString("fork init: " + err.Error())
		return 1
	}
	if err := os.WriteFile(opts["--pid-file"], []byte(strconv.Itoa(pid)), 0o600); err != nil {
		os.Stderr.WriteString(err.Error())
		return 1
	}
	return 0
}

func openPty() (master, slave int, name string, err error) {
	master, err = unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	if err = unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return
	}
	n, err := unix.IoctlGetInt(master, unix.TIOCGPTN)
	if err != nil {
		return
	}
	name = "/dev/pts/" + strconv.Itoa(n)
	slave, err = unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	return
}

// fakeSpawner calls Spawn from a process that exits right after.
func fakeSpawner(args []string) int {
	b, err := os.ReadFile(args[1])
	if err != nil {
		return 1
	}
	var cfg Config
	json.Unmarshal(b, &cfg)
	sp, err := Spawn(args[0], cfg)
	if err != nil {
		os.Stderr.WriteString(err.Error())
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(sp)
	return 0
}

// testCtr is a container run through the real monitor and the fake helper.
type testCtr struct {
	t   *testing.T
	dir string
	cfg Config
	sp  *Spawned
}

func newCtr(t *testing.T, script string) *testCtr {
	t.Helper()
	needMonitor(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle")
	root := filepath.Join(dir, "root")
	os.MkdirAll(bundle, 0o700)
	os.MkdirAll(root, 0o700)
	os.WriteFile(filepath.Join(bundle, "cmd"), []byte(script), 0o600)
	c := &testCtr{t: t, dir: dir, cfg: Config{
		ID:          "ctr1",
		Bundle:      bundle,
		RunDir:      filepath.Join(dir, "run"),
		RuntimePath: self,
		RuntimeArgs: []string{helperArg, "--root", root},
		ExecFifo:    filepath.Join(root, "ctr1", "exec.fifo"),
		LogPath:     filepath.Join(dir, "ctr.log"),
		ExitCommand: []string{"/bin/sh", "-c", "echo ran > " + filepath.Join(dir, "exit-command")},
	}}
	t.Cleanup(c.kill)
	return c
}

func (c *testCtr) spawn() *Spawned {
	c.t.Helper()
	sp, err := Spawn(monitorBin, c.cfg)
	if err != nil {
		c.t.Fatalf("Spawn: %v", err)
	}
	c.sp = sp
	return sp
}

// kill cleans up whatever a failed test left running.
func (c *testCtr) kill() {
	if st, err := ReadStatus(c.cfg.RunDir); err == nil {
		if st.Pid > 0 {
			unix.Kill(-st.Pid, unix.SIGKILL)
			unix.Kill(st.Pid, unix.SIGKILL)
		}
		if st.MonitorPid > 0 && !processGone(st.MonitorPid) {
			unix.Kill(st.MonitorPid, unix.SIGKILL)
		}
	}
}

// processGone: no such process, or a zombie nobody reaped yet (the
// monitor's adoptive parent is whatever pid 1 the machine has).
func processGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	return procStatField(b, 0) == "Z"
}

// procStatField returns field i counted from the state field (i=0) of a
// /proc/PID/stat line.
func procStatField(stat []byte, i int) string {
	s := string(stat)
	s = s[strings.LastIndexByte(s, ')')+2:]
	f := strings.Fields(s)
	if i >= len(f) {
		return ""
	}
	return f[i]
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitDone waits until the monitor ran the exit command and went away.
func (c *testCtr) waitDone() *Status {
	c.t.Helper()
	waitFor(c.t, "the monitor to exit", func() bool {
		st, err := ReadStatus(c.cfg.RunDir)
		return err == nil && st.State == StateExited && processGone(st.MonitorPid)
	})
	st, _ := ReadStatus(c.cfg.RunDir)
	return st
}

func (c *testCtr) status() *Status {
	c.t.Helper()
	st, err := ReadStatus(c.cfg.RunDir)
	if err != nil {
		c.t.Fatal(err)
	}
	return st
}

func (c *testCtr) logText() string {
	var sb strings.Builder
	ReadLogs(context.Background(), c.cfg.LogPath, LogOptions{Tail: -1}, func(l LogLine) error {
		sb.WriteString(l.Stream + ":" + l.Text + "\n")
		return nil
	})
	return sb.String()
}

func (c *testCtr) exitCommandRan() bool {
	_, err := os.Stat(filepath.Join(c.dir, "exit-command"))
	return err == nil
}

func TestMonitorRunAttach(t *testing.T) {
	c := newCtr(t, "echo out; echo err >&2; exit 3")
	sp := c.spawn()
	st := c.status()
	if st.State != StateCreated || st.Pid != sp.Pid || st.MonitorPid != sp.MonitorPid {
		t.Fatalf("after Spawn: status %+v, spawned %+v", st, sp)
	}
	stat, _ := os.ReadFile("/proc/" + strconv.Itoa(sp.MonitorPid) + "/stat")
	if sid := procStatField(stat, 3); sid != strconv.Itoa(sp.MonitorPid) {
		t.Errorf("monitor session = %s, want its own (%d)", sid, sp.MonitorPid)
	}
	// servin tells a live monitor from a recycled PID by its comm.
	if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(sp.MonitorPid) + "/comm"); string(comm) != "servin-monitor\n" {
		t.Errorf("monitor comm = %q, want servin-monitor", comm)
	}
	initStat, _ := os.ReadFile("/proc/" + strconv.Itoa(sp.Pid) + "/stat")
	if ppid := procStatField(initStat, 1); ppid != strconv.Itoa(sp.MonitorPid) {
		t.Errorf("init parent = %s, want the monitor %d (subreaper)", ppid, sp.MonitorPid)
	}
	if fi, err := os.Stat(filepath.Join(c.cfg.RunDir, AttachSocket)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("attach socket: %v %v", fi, err)
	}

	conn, err := Attach(c.cfg.RunDir, AttachOptions{Stdout: true, Stderr: true, Start: true})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code, err := conn.Run(nil, &out, &errOut, nil)
	conn.Close()
	if err != nil || code != 3 {
		t.Fatalf("Run = %d, %v", code, err)
	}
	if out.String() != "out\n" || errOut.String() != "err\n" {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
	st = c.waitDone()
	if st.ExitCode != 3 || st.Signal != 0 || st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) || st.Pid != 0 {
		t.Errorf("final status %+v", st)
	}
	if !c.exitCommandRan() {
		t.Error("exit command did not run")
	}
	if _, err := os.Stat(filepath.Join(c.cfg.RunDir, AttachSocket)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("attach.sock left behind: %v", err)
	}
	if got := c.logText(); got != "stdout:out\nstderr:err\n" && got != "stderr:err\nstdout:out\n" {
		t.Errorf("log: %q", got)
	}
	if _, err := os.Stat(c.cfg.ExecFifo); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("exec fifo not removed after start: %v", err)
	}
}

func TestMonitorStdinOnce(t *testing.T) {
	c := newCtr(t, "cat; echo end")
	c.cfg.Stdin, c.cfg.StdinOnce = true, true
	c.spawn()
	conn, err := Attach(c.cfg.RunDir, AttachOptions{Stdin: true, Stdout: true, Stderr: true, Start: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out bytes.Buffer
	code, err := conn.Run(strings.NewReader("abc\nxyz"), &out, &out, nil)
	if err != nil || code != 0 || out.String() != "abc\nxyzend\n" {
		t.Fatalf("Run = %d, %v, output %q", code, err, out.String())
	}
	c.waitDone()
}

func TestMonitorTerminal(t *testing.T) {
	c := newCtr(t, `stty size; read line; stty size; echo "got:$line"; exit 5`)
	c.cfg.Terminal, c.cfg.Stdin = true, true
	c.cfg.Rows, c.cfg.Cols = 30, 100
	c.spawn()
	conn, err := Attach(c.cfg.RunDir, AttachOptions{Stdin: true, Stdout: true, Stderr: true, Start: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out []byte
	sentInput := false
	for {
		id, p, err := conn.ReadFrame()
		if err != nil {
			t.Fatalf("ReadFrame: %v (output so far %q)", err, out)
		}
		if id == StreamStderr {
			t.Errorf("stderr frame in terminal mode: %q", p)
		}
		if id == StreamStdout {
			out = append(out, p...)
		}
		if !sentInput && bytes.Contains(out, []byte("30 100")) {
			sentInput = true
			conn.Resize(40, 120)
			time.Sleep(50 * time.Millisecond) // the resize frame first
			conn.WriteStdin([]byte("hello\n"))
		}
		if id == StreamExit {
			code, _ := ExitCode(p)
			if code != 5 {
				t.Errorf("exit code %d", code)
			}
			break
		}
	}
	s := string(out)
	if !strings.Contains(s, "40 120") || !strings.Contains(s, "got:hello\r\n") {
		t.Errorf("terminal output %q", s)
	}
	if st := c.waitDone(); st.ExitCode != 5 {
		t.Errorf("status %+v", st)
	}
	if !strings.Contains(c.logText(), "stdout:got:hello\r") {
		t.Errorf("log: %q", c.logText())
	}
}

func TestMonitorRestartOnFailure(t *testing.T) {
	c := newCtr(t, "echo run; exit 1")
	c.cfg.Restart, c.cfg.RestartMax, c.cfg.StartNow = RestartOnFailure, 2, true
	start := time.Now()
	c.spawn()
	st := c.waitDone()
	if st.RestartCount != 2 || st.ExitCode != 1 {
		t.Errorf("status %+v", st)
	}
	if n := strings.Count(c.logText(), "stdout:run\n"); n != 3 {
		t.Errorf("ran %d times, want 3", n)
	}
	calls, _ := os.ReadFile(filepath.Join(c.dir, "root", "calls.log"))
	if string(calls) != "create\ndelete\ncreate\ndelete\ncreate\n" {
		t.Errorf("helper calls: %q", calls)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("restarts took %v: back-off (100ms, 200ms) not applied", d)
	}
	if !c.exitCommandRan() {
		t.Error("exit command did not run after the last exit")
	}
}

func TestMonitorOnFailureSuccessNoRestart(t *testing.T) {
	c := newCtr(t, "exit 0")
	c.cfg.Restart, c.cfg.StartNow = RestartOnFailure, true
	c.spawn()
	if st := c.waitDone(); st.RestartCount != 0 || st.ExitCode != 0 {
		t.Errorf("status %+v", st)
	}
}

func TestMonitorNoRestartFile(t *testing.T) {
	c := newCtr(t, "echo run; exit 0")
	c.cfg.Restart, c.cfg.StartNow = RestartAlways, true
	c.spawn()
	waitFor(t, "two restarts", func() bool {
		st, err := ReadStatus(c.cfg.RunDir)
		return err == nil && st.RestartCount >= 2
	})
	if err := DisableRestart(c.cfg.RunDir); err != nil {
		t.Fatal(err)
	}
	st := c.waitDone()
	if st.RestartCount < 2 || st.ExitCode != 0 {
		t.Errorf("status %+v", st)
	}
	// No-restart present before the first exit: a single run.
	c2 := newCtr(t, "exit 1")
	c2.cfg.Restart = RestartAlways
	c2.spawn()
	DisableRestart(c2.cfg.RunDir)
	if err := StartViaSocket(c2.cfg.RunDir); err != nil {
		t.Fatal(err)
	}
	if st := c2.waitDone(); st.RestartCount != 0 || st.ExitCode != 1 {
		t.Errorf("status %+v", st)
	}
}

func TestSpawnHelperError(t *testing.T) {
	c := newCtr(t, "true")
	os.WriteFile(filepath.Join(c.cfg.Bundle, "fail"), []byte("boom: image not known\n"), 0o600)
	_, err := Spawn(monitorBin, c.cfg)
	var ce *CreateError
	if !errors.As(err, &ce) || ce.Msg != "boom: image not known" {
		t.Fatalf("Spawn error = %#v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if c.exitCommandRan() {
		t.Error("exit command ran after a failed create")
	}
	if _, err := os.Stat(filepath.Join(c.cfg.RunDir, AttachSocket)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("attach.sock left behind: %v", err)
	}
}

func TestSpawnBadMonitor(t *testing.T) {
	c := newCtr(t, "true")
	if _, err := Spawn("/bin/false", c.cfg); err == nil || !strings.Contains(err.Error(), "before reporting") {
		t.Errorf("Spawn(/bin/false) = %v", err)
	}
	if _, err := Spawn("/nonexistent/monitor", c.cfg); err == nil {
		t.Error("Spawn with a missing binary succeeded")
	}
}

func TestMonitorSurvivesParentExit(t *testing.T) {
	c := newCtr(t, "echo hi")
	cfgPath := filepath.Join(c.dir, "cfg.json")
	b, _ := json.Marshal(c.cfg)
	os.WriteFile(cfgPath, b, 0o600)
	self, _ := os.Executable()
	out, err := exec.Command(self, spawnerArg, monitorBin, cfgPath).Output()
	if err != nil {
		t.Fatalf("spawner: %v %s", err, out)
	}
	var sp Spawned
	if err := json.Unmarshal(out, &sp); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if processGone(sp.MonitorPid) {
		t.Fatal("monitor died with the process that spawned it")
	}
	conn, err := Attach(c.cfg.RunDir, AttachOptions{Stdout: true, Start: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var buf bytes.Buffer
	if code, err := conn.Run(nil, &buf, nil, nil); code != 0 || err != nil || buf.String() != "hi\n" {
		t.Errorf("Run = %d %v %q", code, err, buf.String())
	}
	c.waitDone()
}

func TestMonitorClients(t *testing.T) {
	c := newCtr(t, "echo a; sleep 0.2; echo b; exit 7")
	c.cfg.ExitCommand = []string{"/bin/sh", "-c", "sleep 1"} // keeps the monitor around
	c.spawn()
	var conns []*AttachConn
	for i := 0; i < 2; i++ {
		conn, err := Attach(c.cfg.RunDir, AttachOptions{Stdout: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conns = append(conns, conn)
	}
	time.Sleep(100 * time.Millisecond) // both registered before the start
	if err := StartViaSocket(c.cfg.RunDir); err != nil {
		t.Fatal(err)
	}
	if err := StartViaSocket(c.cfg.RunDir); err != nil {
		t.Errorf("starting a running container: %v", err)
	}
	for i, conn := range conns {
		var buf bytes.Buffer
		code, err := conn.Run(nil, &buf, nil, nil)
		if code != 7 || err != nil || buf.String() != "a\nb\n" {
			t.Errorf("client %d: %d %v %q", i, code, err, buf.String())
		}
	}
	// Attaching after the exit gets the exit frame at once.
	conn, err := Attach(c.cfg.RunDir, AttachOptions{Stdout: true, Stdin: true})
	if err != nil {
		t.Fatal(err)
	}
	code, err := conn.Run(nil, io.Discard, nil, nil)
	conn.Close()
	if code != 7 || err != nil {
		t.Errorf("late attach: %d %v", code, err)
	}
	if err := StartViaSocket(c.cfg.RunDir); err == nil {
		t.Error("start after exit succeeded")
	}
	c.waitDone()
}

func TestMonitorSlowClient(t *testing.T) {
	c := newCtr(t, "head -c 8000000 /dev/zero; echo; echo done")
	c.cfg.LogPath = "" // log driver none
	c.spawn()
	slow, err := Attach(c.cfg.RunDir, AttachOptions{Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	time.Sleep(50 * time.Millisecond)
	if err := StartViaSocket(c.cfg.RunDir); err != nil {
		t.Fatal(err)
	}
	// The slow client never reads, yet the container finishes.
	st := c.waitDone()
	if st.ExitCode != 0 {
		t.Errorf("status %+v", st)
	}
	// It was cut off: far less than the 8 MB arrives, and no exit frame.
	n, _ := io.Copy(io.Discard, slow.br)
	if n >= 8000000 {
		t.Errorf("slow client received %d bytes: not disconnected", n)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "ctr.log")); err == nil {
		t.Error("log written with log driver none")
	}
}

func TestMonitorSignalExit(t *testing.T) {
	c := newCtr(t, "kill -KILL $$")
	c.cfg.StartNow = true
	c.spawn()
	if st := c.waitDone(); st.ExitCode != 137 || st.Signal != 9 {
		t.Errorf("status %+v", st)
	}
}

func TestMonitorKilledBeforeStart(t *testing.T) {
	c := newCtr(t, "echo never")
	c.cfg.Restart = RestartAlways
	sp := c.spawn()
	unix.Kill(sp.Pid, unix.SIGKILL)
	st := c.waitDone()
	if st.ExitCode != 137 || st.RestartCount != 0 || !st.StartedAt.IsZero() {
		t.Errorf("status %+v", st)
	}
	if !c.exitCommandRan() {
		t.Error("exit command did not run")
	}
	if strings.Contains(c.logText(), "never") {
		t.Error("container ran after being killed")
	}
}

// TestMonitorRSS measures the resident memory of a running monitor with a
// stdin pipe and one attached client, after pushing output through it.
// Budget: 3 MB; the test fails only 10% above it (a clear regression, such
// as fmt or encoding/json creeping into the binary) since RSS varies by a
// few pages from run to run. It also logs the RSS after 1000 start
// requests, when the garbage collector has run.
func TestMonitorRSS(t *testing.T) {
	const budgetKB = 3 * 1024
	c := newCtr(t, "cat")
	c.cfg.Stdin, c.cfg.StdinOnce, c.cfg.StartNow = true, true, true
	c.cfg.Restart = RestartOnFailure
	sp := c.spawn()
	conn, err := Attach(c.cfg.RunDir, AttachOptions{Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := 0; i < 100; i++ {
		conn.WriteStdin(bytes.Repeat([]byte("some output line\n"), 100))
	}
	got := 0
	for got < 100*100*17 {
		_, p, err := conn.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		got += len(p)
	}
	time.Sleep(300 * time.Millisecond)
	rss := procRSS(t, sp.MonitorPid)
	t.Logf("monitor after 170 kB of I/O: %s", rss.String())
	t.Logf("monitor binary: %d kB", fileKB(monitorBin))
	if rss.rss > budgetKB*11/10 {
		t.Errorf("monitor RSS %d kB is over the %d kB budget", rss.rss, budgetKB)
	} else if rss.rss > budgetKB {
		t.Logf("warning: monitor RSS %d kB is over the %d kB budget", rss.rss, budgetKB)
	}

	for i := 0; i < 1000; i++ {
		if err := StartViaSocket(c.cfg.RunDir); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	t.Logf("monitor after 1000 more requests: %s", procRSS(t, sp.MonitorPid).String())

	conn.CloseStdin()
	code, err := conn.Run(nil, io.Discard, io.Discard, nil)
	if code != 0 || err != nil {
		t.Errorf("Run = %d %v", code, err)
	}
	c.waitDone()
}

type rssInfo struct {
	rss, anon, file, threads int
}

func (r rssInfo) String() string {
	return "VmRSS " + strconv.Itoa(r.rss) + " kB (anon " + strconv.Itoa(r.anon) + " kB, file " +
		strconv.Itoa(r.file) + " kB), " + strconv.Itoa(r.threads) + " threads"
}

func procRSS(t *testing.T, pid int) rssInfo {
	t.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var r rssInfo
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			r.rss = n
		case "RssAnon:":
			r.anon = n
		case "RssFile:":
			r.file = n
		case "Threads:":
			r.threads = n
		}
	}
	return r
}

func fileKB(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size() >> 10
}

// A client attaching after an exit that will be restarted gets the next
// run's output and exit.
func TestMonitorAttachAcrossRestart(t *testing.T) {
	c := newCtr(t, "sleep 0.3; echo x; exit 1")
	c.cfg.Restart, c.cfg.RestartMax, c.cfg.StartNow = RestartOnFailure, 1, true
	c.spawn()
	for run := 1; run <= 2; run++ {
		conn, err := Attach(c.cfg.RunDir, AttachOptions{Stdout: true})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		code, err := conn.Run(nil, &out, nil, nil)
		conn.Close()
		if code != 1 || err != nil || out.String() != "x\n" {
			t.Errorf("run %d: %d %v %q", run, code, err, out.String())
		}
	}
	if st := c.waitDone(); st.RestartCount != 1 {
		t.Errorf("status %+v", st)
	}
}
