package libservin

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/oci"
)

// ExecOptions describe a process to run in a running container.
type ExecOptions struct {
	Cmd        []string
	Env        []string
	User       string
	WorkingDir string
	Tty        bool
	Detach     bool
	// Stdio: with Tty, Stdin/Stdout are copied to and from the terminal;
	// without, Stdin/Stdout/Stderr are given to the process directly when
	// they are files, or piped.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Resize <-chan [2]uint16
	Rows   uint16
	Cols   uint16
	// Started, when set, gets the exec session's ID once the process runs
	// (exec -d prints it); execsessions.go.
	Started func(sessionID string)
	// ExtraFiles become the process's fds 3, 4, ... (--preserve-fds).
	ExtraFiles []*os.File
}

// Exec runs a command in a running container and returns its exit code
// (0 right away when detached).
func (r *Runtime) Exec(ctx context.Context, nameOrID string, o ExecOptions) (int, error) {
	if len(o.Cmd) == 0 {
		return -1, fmt.Errorf("must provide a non-empty command to start an exec session: %w", errdefs.ErrInvalidArgument)
	}
	c, err := r.Container(ctx, nameOrID)
	if err != nil {
		return -1, err
	}
	if c.State.Status != StatusRunning {
		return -1, fmt.Errorf("can only create exec sessions on running containers: %w", errCtrStateImproper)
	}
	eo, err := r.execProcessOptions(c, o)
	if err != nil {
		return -1, err
	}
	eo.ExtraFiles = o.ExtraFiles
	if o.Detach {
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return -1, err
		}
		defer null.Close()
		eo.Stdin, eo.Stdout, eo.Stderr = null, null, null
		p, err := oci.Exec(r.runcRoot(), c.ID, eo)
		if err != nil {
			// Detached, nothing ran: a failure of servin's, as podman says.
			return -1, fmt.Errorf("%s", classifyExecErr(err).Error())
		}
		r.execStarted(c, p, o) // recorded until the process is gone
		go p.Wait()
		return 0, nil
	}
	if o.Tty {
		return r.execTTY(c, eo, o)
	}
	return r.execPipes(c, eo, o)
}

// execProcessOptions resolves the user, environment and working directory
// of an exec session in c.
func (r *Runtime) execProcessOptions(c *Container, o ExecOptions) (oci.ExecOptions, error) {
	userSpec := c.Config.User
	if o.User != "" {
		userSpec = o.User
	}
	rootfs := c.State.Mountpoint
	if rootfs == "" {
		if s, err := r.Store(); err == nil {
			rootfs, _ = s.Mount(c.ID)
		}
	}
	u, err := oci.ResolveUser(rootfs, userSpec, c.Config.GroupAdd)
	if err != nil {
		return oci.ExecOptions{}, err
	}
	secretEnv, err := r.secretEnv(context.Background(), c) // secrets_container.go
	if err != nil {
		return oci.ExecOptions{}, err
	}
	env := mergeEnv(mergeEnv(c.Config.Env, secretEnv), o.Env)
	if !hasEnv(env, "PATH") {
		env = append([]string{oci.DefaultPath}, env...)
	}
	// A container run with -t has TERM=xterm, and its exec sessions see it.
	if (o.Tty || c.Config.Tty) && !hasEnv(env, "TERM") {
		env = append(env, "TERM=xterm")
	}
	if !hasEnv(env, "HOME") && u.Home != "" {
		env = append(env, "HOME="+u.Home)
	}
	cwd := firstNonEmpty(o.WorkingDir, c.Config.WorkingDir, "/")
	eo := oci.ExecOptions{
		Args: o.Cmd, Env: env, Cwd: cwd, UID: int(u.UID), GID: int(u.GID),
		Rows: o.Rows, Cols: o.Cols,
	}
	for _, g := range u.AdditionalGids {
		eo.Groups = append(eo.Groups, int(g))
	}
	return eo, nil
}

func hasEnv(env []string, k string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, k+"=") {
			return true
		}
	}
	return false
}

func classifyExecErr(err error) error {
	return errdefs.ClassifyStartError(err.Error())
}

// execPipes gives the process the caller's files directly when possible,
// so that output is not copied through this process.
func (r *Runtime) execPipes(c *Container, eo oci.ExecOptions, o ExecOptions) (int, error) {
	var wg sync.WaitGroup
	var closers []*os.File
	setup := func(std any, write bool) (*os.File, error) {
		if f, ok := std.(*os.File); ok && f != nil {
			return f, nil
		}
		if std == nil || (write && std.(io.Writer) == nil) {
			return nil, nil
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		if write {
			w := std.(io.Writer)
			wg.Add(1)
			go func() { defer wg.Done(); io.Copy(w, pr); pr.Close() }()
			closers = append(closers, pw)
			return pw, nil
		}
		rd := std.(io.Reader)
		go func() { io.Copy(pw, rd); pw.Close() }()
		closers = append(closers, pr)
		return pr, nil
	}
	var err error
	if o.Stdin != nil {
		if eo.Stdin, err = setup(o.Stdin, false); err != nil {
			return -1, err
		}
	}
	if o.Stdout != nil {
		if eo.Stdout, err = setup(o.Stdout, true); err != nil {
			return -1, err
		}
	}
	if o.Stderr != nil {
		if eo.Stderr, err = setup(o.Stderr, true); err != nil {
			return -1, err
		}
	}
	p, err := oci.Exec(r.runcRoot(), c.ID, eo)
	for _, f := range closers {
		f.Close() // the child has its copies
	}
	if err != nil {
		return -1, classifyExecErr(err)
	}
	defer r.execStarted(c, p, o)()
	code, err := p.Wait()
	wg.Wait()
	return code, err
}

func (r *Runtime) execTTY(c *Container, eo oci.ExecOptions, o ExecOptions) (int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	parent := os.NewFile(uintptr(fds[0]), "console-parent")
	child := os.NewFile(uintptr(fds[1]), "console-child")
	defer parent.Close()
	eo.ConsoleSocket = child
	p, err := oci.Exec(r.runcRoot(), c.ID, eo)
	child.Close()
	if err != nil {
		return -1, classifyExecErr(err)
	}
	defer r.execStarted(c, p, o)()
	master, err := recvFd(parent)
	if err != nil {
		return -1, fmt.Errorf("receiving the exec terminal: %w", err)
	}
	defer master.Close()
	if o.Rows > 0 && o.Cols > 0 {
		_ = unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: o.Rows, Col: o.Cols})
	}
	go func() {
		for sz := range o.Resize {
			_ = unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: sz[0], Col: sz[1]})
		}
	}()
	if o.Stdin != nil {
		go io.Copy(master, o.Stdin)
	}
	done := make(chan struct{})
	go func() {
		if o.Stdout != nil {
			io.Copy(o.Stdout, master) // ends with EIO when the process exits
		}
		close(done)
	}()
	code, err := p.Wait()
	<-done
	return code, err
}

// recvFd receives one file descriptor over a unix socket (SCM_RIGHTS).
func recvFd(sock *os.File) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, 0)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("expected one control message, got %d", len(msgs))
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil {
		return nil, err
	}
	if len(fds) != 1 {
		return nil, fmt.Errorf("expected one fd, got %d", len(fds))
	}
	return os.NewFile(uintptr(fds[0]), string(buf[:n])), nil
}
