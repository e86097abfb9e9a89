package e2e

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestRunInteractiveTTY runs `run -it busybox sh` on a real pseudo-terminal,
// as a user at a terminal would: the shell must see the terminal's size,
// follow a resize, echo what is typed and pass on its exit code.
func TestRunInteractiveTTY(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := s.st.command(ctx, "run", "-it", "--rm", "--name", s.name("tty"), "--network", "none", busybox, "sh")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatalf("starting servin on a pty: %v", err)
	}
	defer ptmx.Close()

	screen := &syncBuffer{}
	copied := make(chan struct{})
	go func() {
		// EIO is how a pty master reports that the other side closed.
		_, _ = io.Copy(screen, ptmx)
		close(copied)
	}()
	expect := func(what string, send string) {
		t.Helper()
		waitFor(t, waitTimeout, "the terminal to show "+what, func() bool {
			if send != "" && !strings.Contains(screen.String(), what) {
				_, _ = ptmx.WriteString(send)
			}
			return strings.Contains(screen.String(), what)
		}, func() string { return "screen:\n" + screen.String() })
	}

	// `stty size` is typed until the shell is ready to read it.
	expect("30 100", "stty size\n")
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	expect("40 120", "stty size\n")
	if _, err := ptmx.WriteString("echo h''i-there; exit 4\n"); err != nil {
		t.Fatal(err)
	}
	waitErr := cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(waitErr, &exitErr) || exitErr.ExitCode() != 4 {
		t.Errorf("run -it exited with %v, want exit code 4\nscreen:\n%s", waitErr, screen.String())
	}
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
	}
	// The typed command is echoed as typed (h''i-there); the shell's output
	// is hi-there: both show that the terminal works both ways.
	if !strings.Contains(screen.String(), "hi-there") {
		t.Errorf("no command output on the terminal:\n%s", screen.String())
	}
}
