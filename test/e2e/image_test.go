package e2e

import (
	"strings"
	"testing"
)

func TestImageImportListRemove(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)

	// An empty store lists no images.
	if out := s.mustRun("images", "-q"); out != "" {
		t.Errorf("images -q on an empty store printed %q", out)
	}
	s.expectExit(s.run("image", "exists", busybox), 1)

	id := s.mustRun("import", suite.rootfsTar, busybox)
	if id == "" {
		t.Errorf("import printed no image ID")
	}
	s.expectExit(s.run("image", "exists", busybox), 0)
	s.expectExit(s.run("image", "exists", "nosuchimage"), 1)

	repos := s.mustRun("images", "--format", "{{.Repository}}:{{.Tag}}")
	if !strings.Contains(repos, "busybox:latest") {
		t.Errorf("images does not list busybox:latest:\n%s", repos)
	}
	ids := s.run("images", "-q").lines()
	if len(ids) != 1 {
		t.Errorf("images -q: want 1 line, got %q", ids)
	}
	if table := s.mustRun("images"); !strings.Contains(table, "REPOSITORY") || !strings.Contains(table, "busybox") {
		t.Errorf("images table:\n%s", table)
	}

	// The imported filesystem is what containers see.
	if out := s.mustRun("run", "--rm", "--network", "none", busybox, "cat", "/etc/passwd"); !strings.HasPrefix(out, "root:x:0:0:") {
		t.Errorf("/etc/passwd in container: %q", out)
	}

	s.mustRun("import", suite.rootfsTar, "second")
	s.mustRun("rmi", "second")
	s.expectExit(s.run("image", "exists", "second"), 1)
	s.expectExit(s.run("image", "exists", busybox), 0)
	// rmi exits 1, not 125, for "no such image", as podman documents.
	s.expectExit(s.run("rmi", "nosuchimage"), 1)
}

func TestImageImportChangeCmd(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	img := s.prefix + "-cmdimg"
	t.Cleanup(func() { s.run("rmi", "-f", img) })

	s.mustRun("import", "--change", `CMD ["echo","from-cmd"]`, suite.rootfsTar, img)
	if got := s.mustRun("run", "--rm", "--network", "none", img); got != "from-cmd" {
		t.Errorf("default CMD printed %q, want from-cmd", got)
	}
	// Arguments after the image replace CMD.
	if got := s.mustRun("run", "--rm", "--network", "none", img, "echo", "override"); got != "override" {
		t.Errorf("explicit command printed %q, want override", got)
	}
	if got := s.inspect(img, "{{.Config.Cmd}}"); !strings.Contains(got, "from-cmd") {
		t.Errorf("image inspect Config.Cmd = %q", got)
	}

	shellImg := s.prefix + "-shellimg"
	t.Cleanup(func() { s.run("rmi", "-f", shellImg) })
	s.mustRun("import", "--change", "CMD echo shell-form", suite.rootfsTar, shellImg)
	if got := s.mustRun("run", "--rm", "--network", "none", shellImg); got != "shell-form" {
		t.Errorf("shell-form CMD printed %q, want shell-form", got)
	}
}

func TestRmiImageInUse(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	s.mustRun("create", "--name", s.name("user"), busybox, "true")
	r := s.run("rmi", busybox)
	if r.exit == 0 {
		t.Fatalf("rmi of an image a container uses succeeded:\n%s", r)
	}
	s.expectExit(s.run("image", "exists", busybox), 0)
	// -f removes the containers too.
	s.mustRun("rmi", "-f", busybox)
	s.expectExit(s.run("image", "exists", busybox), 1)
	if s.exists(s.name("user")) {
		t.Errorf("rmi -f left the container that used the image")
	}
}
