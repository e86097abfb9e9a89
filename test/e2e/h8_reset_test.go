package e2e

import (
	"os"
	"strings"
	"testing"
)

// TestH8SystemReset empties a store: containers (a running one too),
// images, volumes, networks and secrets go, and the root and run root
// directories are left empty; the store works again afterwards.
func TestH8SystemReset(t *testing.T) {
	s := newIsolatedServin(t)
	t.Parallel()
	s.importBusybox()
	vol, net := s.name("v"), s.name("n")
	s.mustRun("volume", "create", vol)
	s.mustRun("network", "create", net)
	s.mustRun("run", "-d", "--name", s.name("c"), "-v", vol+":/v", "--network", net, busybox, "sleep", "1000")
	s.runWithStdin(strings.NewReader("secret-data"), "secret", "create", s.name("s"), "-")
	// Without -f, a "no" keeps everything.
	r := s.runWithStdin(strings.NewReader("n\n"), "system", "reset")
	if !strings.Contains(r.stdout, "WARNING! This will remove:") || s.mustRun("ps", "-aq") == "" {
		t.Fatalf("reset answered no:\n%s", r)
	}
	s.mustRun("system", "reset", "-f")
	for _, dir := range []string{s.st.root, s.st.runroot} {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 0 {
			t.Errorf("%s after reset: %d entries, %v", dir, len(entries), err)
		}
	}
	for _, args := range [][]string{{"ps", "-aq"}, {"images", "-q"}, {"volume", "ls", "-q"}, {"secret", "ls", "-q"}} {
		if out := s.mustRun(args...); out != "" {
			t.Errorf("%v after reset: %q", args, out)
		}
	}
	if out := s.mustRun("network", "ls", "--format", "{{.Name}}"); out != "servin" {
		t.Errorf("networks after reset: %q", out)
	}
	s.importBusybox()
	if out := s.mustRun("run", "--rm", busybox, "echo", "again"); out != "again" {
		t.Errorf("run after reset: %q", out)
	}
}
