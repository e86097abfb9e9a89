package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestH8PreserveFds follows podman's "run --preserve-fds" test, for run
// and exec, and checks that file descriptors servin is started with go
// nowhere else: not to the container's monitor (a caller waiting for EOF
// on a pipe would hang), not to a process without --preserve-fds.
func TestH8PreserveFds(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	if err := os.WriteFile(content, []byte("from-fd-4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withFds := func(extra []*os.File, args ...string) (string, error) {
		t.Helper()
		cmd := s.st.command(context.Background(), args...)
		cmd.ExtraFiles = extra
		var errb strings.Builder
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("%v: %s", err, errb.String())
		}
		return string(out), nil
	}
	open := func() *os.File {
		f, err := os.Open(content)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	// fd 3 is /dev/null, fd 4 the file.
	out, err := withFds([]*os.File{null, open()}, "run", "--rm", "--preserve-fds=2", busybox, "sh", "-c", "cat <&4")
	if err != nil || out != "from-fd-4\n" {
		t.Errorf("run --preserve-fds=2: %q %v", out, err)
	}

	name := s.name("fds")
	s.mustRun("run", "-d", "--name", name, busybox, "sleep", "1000")
	out, err = withFds([]*os.File{open()}, "exec", "--preserve-fds=1", name, "sh", "-c", "cat <&3")
	if err != nil || out != "from-fd-4\n" {
		t.Errorf("exec --preserve-fds=1: %q %v", out, err)
	}
	// Without the flag, the file stays outside.
	out, err = withFds([]*os.File{open()}, "exec", name, "ls", "/proc/self/fd")
	if err != nil || strings.Fields(out)[len(strings.Fields(out))-1] != "3" {
		t.Errorf("exec without --preserve-fds sees fds %q %v", out, err)
	}

	// A pipe given to `run -d` is not held by the container's monitor.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	bg := s.name("bg")
	if _, err := withFds([]*os.File{w}, "run", "-d", "--name", bg, busybox, "sleep", "1000"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	done := make(chan error, 1)
	go func() { _, err := r.Read(make([]byte, 1)); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("read data from a pipe nobody writes")
		}
	case <-timeAfter(5):
		t.Errorf("a pipe given to `run -d` is still open in some servin process: the reader never sees EOF")
	}
}

func timeAfter(seconds int) <-chan time.Time { return time.After(time.Duration(seconds) * time.Second) }
