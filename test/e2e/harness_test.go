package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/servin/servin/test/testimage"
)

// busybox is the image every test runs; TestMain imports it once into the
// shared store, and isolated stores import it from the same tar.
const busybox = "busybox"

// Timeouts. A CLI call that takes longer than cmdTimeout is a hang, not a
// slow machine: even image import of the 1 MB test image takes well under a
// second.
const (
	cmdTimeout  = 60 * time.Second
	waitTimeout = 30 * time.Second
	// waitDelay bounds how long a finished CLI may keep its output pipes
	// open through a child it left behind (see result.pipesHeld).
	waitDelay = 5 * time.Second
)

// suiteEnv is what TestMain prepares once per `go test` run.
type suiteEnv struct {
	bin       string   // absolute path of the binary under test
	podman    bool     // the binary is podman: the tests check their own expectations
	dir       string   // private temp dir holding everything below
	rootfsTar string   // busybox rootfs tar, imported into each store
	env       []string // environment of every CLI call
	shared    *store   // store shared by tests that use unique names
}

var (
	suite      suiteEnv
	skipReason string // set when the whole package cannot run here
	setupErr   error  // set when preparing the suite failed: every test fails
)

func TestMain(m *testing.M) {
	code := func() int {
		setupSuite()
		defer teardownSuite()
		return m.Run()
	}()
	os.Exit(code)
}

func setupSuite() {
	bin := os.Getenv("SERVIN_BINARY")
	if bin == "" {
		skipReason = "SERVIN_BINARY is not set: run `make test`, or build servin and set SERVIN_BINARY=/path/to/servin (and SERVIN_MONITOR)"
		return
	}
	if os.Geteuid() != 0 {
		skipReason = "end-to-end tests need root"
		return
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		setupErr = fmt.Errorf("SERVIN_BINARY=%s: %w", bin, err)
		return
	}
	if path, err = filepath.Abs(path); err != nil {
		setupErr = err
		return
	}
	suite.bin = path
	suite.podman = filepath.Base(path) == "podman"
	// A short path under /tmp: unix socket paths below the run root must
	// stay under 108 bytes.
	suite.dir, err = os.MkdirTemp("/tmp", "se2e-")
	if err != nil {
		setupErr = err
		return
	}
	suite.env = os.Environ()
	if suite.podman {
		if setupErr = writePodmanConf(); setupErr != nil {
			return
		}
	}
	suite.rootfsTar = filepath.Join(suite.dir, "busybox.tar")
	if setupErr = testimage.WriteRootfsTar(suite.rootfsTar); setupErr != nil {
		return
	}
	suite.shared, setupErr = newStore(filepath.Join(suite.dir, "shared"))
	if setupErr != nil {
		return
	}
	r := suite.shared.exec(context.Background(), nil, "import", suite.rootfsTar, busybox)
	if r.exit != 0 {
		setupErr = fmt.Errorf("importing the busybox image into the shared store failed:\n%s", r)
	}
}

// writePodmanConf isolates podman from the machine's configuration: runc as
// runtime, files for logs and events under the suite's dir, no network by
// default (so that checking the tests leaves the host's network alone), and
// ulimits within this machine's hard limits (podman's defaults exceed them).
func writePodmanConf() error {
	conf := filepath.Join(suite.dir, "containers.conf")
	text := fmt.Sprintf(`[containers]
netns = "none"
log_driver = "k8s-file"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
`, filepath.Join(suite.dir, "podman-events.log"))
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return err
	}
	suite.env = append(suite.env, "CONTAINERS_CONF="+conf)
	return nil
}

func teardownSuite() {
	if suite.shared != nil {
		suite.shared.destroy(nil)
	}
	if suite.dir != "" {
		killProcessesMentioning(suite.dir)
		_ = unmountUnder(suite.dir)
		_ = os.RemoveAll(suite.dir)
	}
}

// store is one servin storage root (--root) with its run root (--runroot).
type store struct {
	dir     string
	root    string
	runroot string
}

func newStore(dir string) (*store, error) {
	st := &store{dir: dir, root: filepath.Join(dir, "root"), runroot: filepath.Join(dir, "run")}
	for _, d := range []string{st.root, st.runroot, filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (st *store) globalArgs() []string {
	args := []string{"--root", st.root, "--runroot", st.runroot}
	if suite.podman {
		args = append(args, "--tmpdir", filepath.Join(st.dir, "tmp"))
	}
	return args
}

func (st *store) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, suite.bin, append(st.globalArgs(), args...)...)
	cmd.Env = suite.env
	cmd.WaitDelay = waitDelay
	return cmd
}

// exec runs the CLI to completion with a hang timeout.
func (st *store) exec(ctx context.Context, stdin io.Reader, args ...string) result {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	cmd := st.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	r.setExit(cmd, err)
	if ctx.Err() != nil {
		r.timedOut = true
	}
	return r
}

// destroy force-removes every container of the store and then removes
// whatever the removal left behind (mounts, processes, files). t may be nil.
func (st *store) destroy(t testing.TB) {
	r := st.exec(context.Background(), nil, "rm", "-a", "-f", "-t", "0")
	if r.exit != 0 && t != nil {
		t.Errorf("cleanup: %s", r)
	}
	if n := killProcessesMentioning(st.dir); n > 0 && t != nil {
		t.Logf("cleanup: killed %d leftover processes of %s", n, st.dir)
	}
	if err := unmountUnder(st.dir); err != nil && t != nil {
		t.Logf("cleanup: %v", err)
	}
	if err := os.RemoveAll(st.dir); err != nil && t != nil {
		t.Logf("cleanup: %v", err)
	}
}

// result is one finished CLI call.
type result struct {
	args     []string
	stdout   string
	stderr   string
	exit     int  // exit code, -1 when killed by a signal or not started
	timedOut bool // killed after cmdTimeout
	// pipesHeld means the CLI exited but something it started kept its
	// stdout/stderr open: `id=$(servin run -d ...)` would hang in a shell.
	pipesHeld bool
	startErr  error
}

func (r *result) setExit(cmd *exec.Cmd, err error) {
	r.exit = -1
	if cmd.ProcessState != nil {
		r.exit = cmd.ProcessState.ExitCode()
	}
	switch {
	case err == nil:
	case errors.Is(err, exec.ErrWaitDelay):
		r.pipesHeld = true
	case cmd.ProcessState == nil:
		r.startErr = err
	}
}

func (r result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "`%s %s` exited %d", filepath.Base(suite.bin), strings.Join(r.args, " "), r.exit)
	if r.timedOut {
		fmt.Fprintf(&b, " (killed after %v)", cmdTimeout)
	}
	if r.startErr != nil {
		fmt.Fprintf(&b, " (%v)", r.startErr)
	}
	fmt.Fprintf(&b, "\n  stdout: %s\n  stderr: %s", clip(r.stdout), clip(r.stderr))
	return b.String()
}

// out is stdout without surrounding whitespace.
func (r result) out() string { return strings.TrimSpace(r.stdout) }

// lines is stdout split into non-empty lines.
func (r result) lines() []string {
	var ls []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if l = strings.TrimRight(l, "\r "); l != "" {
			ls = append(ls, l)
		}
	}
	return ls
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2000 {
		s = s[:1000] + "\n...\n" + s[len(s)-1000:]
	}
	return s
}

// servin drives the binary under test for one test.
type servin struct {
	t        testing.TB
	st       *store
	prefix   string // prefix of every container name this test makes
	isolated bool
}

// newServin returns a handle on the shared store, where the busybox image
// already exists. The test must name every container it makes with s.name so
// that cleanup (and parallel tests) can tell them apart.
func newServin(t testing.TB) *servin {
	t.Helper()
	requireSuite(t)
	s := &servin{t: t, st: suite.shared, prefix: namePrefix(t)}
	t.Cleanup(s.removeOwnContainers)
	return s
}

// newIsolatedServin returns a handle on a fresh, empty store of the test's
// own, for tests that look at everything in a store (ps -a, rm -a, prune).
// Call s.importBusybox to get the test image into it.
func newIsolatedServin(t testing.TB) *servin {
	t.Helper()
	requireSuite(t)
	dir, err := os.MkdirTemp(suite.dir, "iso-")
	if err != nil {
		t.Fatal(err)
	}
	st, err := newStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := &servin{t: t, st: st, prefix: namePrefix(t), isolated: true}
	t.Cleanup(func() { st.destroy(t) })
	return s
}

func requireSuite(t testing.TB) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if setupErr != nil {
		t.Fatalf("e2e setup: %v", setupErr)
	}
}

var nonNameChars = regexp.MustCompile(`[^a-z0-9]+`)

func namePrefix(t testing.TB) string {
	p := strings.Trim(nonNameChars.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(p) > 40 {
		p = p[:40]
	}
	return fmt.Sprintf("e2e-%s-%04x", p, rand.IntN(0x10000))
}

// name returns a container name unique to this test.
func (s *servin) name(suffix string) string { return s.prefix + "-" + suffix }

func (s *servin) removeOwnContainers() {
	r := s.st.exec(context.Background(), nil, "ps", "-a", "--format", "{{.Names}}")
	if r.exit != 0 {
		s.t.Logf("cleanup: %s", r)
		return
	}
	var mine []string
	for _, n := range r.lines() {
		if strings.HasPrefix(n, s.prefix) {
			mine = append(mine, n)
		}
	}
	if len(mine) == 0 {
		return
	}
	if r := s.st.exec(context.Background(), nil, append([]string{"rm", "-f", "-t", "0"}, mine...)...); r.exit != 0 {
		s.t.Errorf("cleanup: %s", r)
	}
}

// importBusybox imports the test image into the test's store.
func (s *servin) importBusybox() {
	s.t.Helper()
	s.mustRun("import", suite.rootfsTar, busybox)
}

// run runs the CLI with no stdin. It reports hangs and held pipes as test
// errors but never stops the test, so it may be called from any goroutine.
func (s *servin) run(args ...string) result {
	s.t.Helper()
	return s.runWithStdin(nil, args...)
}

func (s *servin) runWithStdin(stdin io.Reader, args ...string) result {
	s.t.Helper()
	start := time.Now()
	r := s.st.exec(context.Background(), stdin, args...)
	s.t.Logf("$ servin %s  # exit %d in %v", strings.Join(args, " "), r.exit, time.Since(start).Round(time.Millisecond))
	if r.timedOut || r.startErr != nil {
		s.t.Errorf("%s", r)
	}
	if r.pipesHeld {
		s.t.Errorf("servin exited but left its stdout/stderr open through a child process:\n%s", r)
	}
	return r
}

// mustRun runs the CLI, fails the test unless it exits 0 and returns the
// trimmed stdout. Only for the test's own goroutine.
func (s *servin) mustRun(args ...string) string {
	s.t.Helper()
	r := s.run(args...)
	if r.exit != 0 {
		s.t.Fatalf("%s", r)
	}
	return r.out()
}

// expectExit fails the test unless r exited with one of codes.
func (s *servin) expectExit(r result, codes ...int) {
	s.t.Helper()
	for _, c := range codes {
		if r.exit == c {
			return
		}
	}
	s.t.Errorf("want exit code %v, got:\n%s", codes, r)
}

// expectCode checks an exit code where podman differs from servin's rule of
// 125 for every error of the tool itself: podman's documented code is
// accepted only when the suite runs against podman.
func (s *servin) expectCode(r result, servinCode, podmanCode int) {
	s.t.Helper()
	if suite.podman {
		s.expectExit(r, podmanCode)
	} else {
		s.expectExit(r, servinCode)
	}
}

// inspect returns one field of a container, formatted with a Go template.
func (s *servin) inspect(name, format string) string {
	s.t.Helper()
	return s.mustRun("inspect", "--format", format, name)
}

// status returns the container's State.Status, or "" when it cannot be
// inspected (for example because it does not exist).
func (s *servin) status(name string) string {
	s.t.Helper()
	r := s.st.exec(context.Background(), nil, "inspect", "--format", "{{.State.Status}}", name)
	if r.exit != 0 {
		return ""
	}
	return r.out()
}

// waitStatus polls until the container reaches status want.
func (s *servin) waitStatus(name, want string) {
	s.t.Helper()
	var last string
	waitFor(s.t, waitTimeout, fmt.Sprintf("container %s to be %s", name, want), func() bool {
		last = s.status(name)
		return last == want
	}, func() string { return "last status: " + last })
}

// exists tells whether the container can be inspected.
func (s *servin) exists(name string) bool {
	s.t.Helper()
	return s.st.exec(context.Background(), nil, "container", "inspect", "--format", "{{.Id}}", name).exit == 0
}

// runDetached starts a long-lived container without networking and waits
// until it runs. It returns the full ID that `run -d` printed.
func (s *servin) runDetached(name string, args ...string) string {
	s.t.Helper()
	full := append([]string{"run", "-d", "--name", name, "--network", "none"}, args...)
	id := s.mustRun(full...)
	if !fullID.MatchString(id) {
		s.t.Fatalf("run -d printed %q, want a 64-hex container ID", id)
	}
	s.waitStatus(name, "running")
	return id
}

var (
	fullID  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	shortID = regexp.MustCompile(`^[0-9a-f]{12}$`)
)

// waitFor polls cond until it holds or timeout passes, then fails the test
// with desc and what detail() says about the last attempt.
func waitFor(t testing.TB, timeout time.Duration, desc string, cond func() bool, detail func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	delay := 20 * time.Millisecond
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("timed out after %v waiting for %s", timeout, desc)
			if detail != nil {
				msg += ": " + detail()
			}
			t.Fatal(msg)
		}
		time.Sleep(delay)
		delay = min(delay*2, 250*time.Millisecond)
	}
}

// bgProc is a CLI call running in the background.
type bgProc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	res    result
	cancel context.CancelFunc
}

// start runs the CLI in the background; the test's cleanup kills it if it
// is still running. stdin may be nil.
func (s *servin) start(stdin io.Reader, args ...string) *bgProc {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &bgProc{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{}), cancel: cancel}
	p.cmd = s.st.command(ctx, args...)
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = stdin, p.stdout, p.stderr
	s.t.Logf("$ servin %s &", strings.Join(args, " "))
	if err := p.cmd.Start(); err != nil {
		cancel()
		s.t.Fatalf("starting servin %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		err := p.cmd.Wait()
		p.res = result{args: args, stdout: p.stdout.String(), stderr: p.stderr.String()}
		p.res.setExit(p.cmd, err)
		close(p.done)
	}()
	s.t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// wait waits for the background call to end; it fails the test on timeout.
func (p *bgProc) wait(t testing.TB, timeout time.Duration) result {
	t.Helper()
	select {
	case <-p.done:
		return p.res
	case <-time.After(timeout):
		p.cancel()
		<-p.done
		t.Fatalf("servin %s did not exit within %v:\n%s", strings.Join(p.res.args, " "), timeout, p.res)
		return p.res
	}
}

func (p *bgProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *bgProc) signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// syncBuffer is a bytes.Buffer safe for a writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
