package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestH8VolumeCompat follows podman's 160-volumes tests: identical -v
// given twice, anonymous-only prune, type=bind volumes, copy-up state,
// volume mount/unmount and ps --filter volume=.
func TestH8VolumeCompat(t *testing.T) {
	s := newIsolatedServin(t)
	t.Parallel()
	s.importBusybox()
	vol := s.name("v")
	s.mustRun("volume", "create", vol)
	s.mustRun("run", "--rm", "-v", vol+":/vol1", "-v", vol+":/vol1", busybox, "true")
	s.expectExit(s.run("run", "--rm", "-v", vol+":/vol1", "-v", vol+":/vol1:ro", busybox, "true"), 125)

	// Prune: anonymous volumes only, unless --all.
	s.mustRun("run", "--name", s.name("anon"), "-v", "/anon", busybox, "true")
	s.mustRun("rm", s.name("anon"))
	r := s.runWithStdin(strings.NewReader("n\n"), "volume", "prune")
	if lines := r.lines(); len(lines) < 2 || !strings.HasPrefix(lines[0], "WARNING! This will remove anonymous local volumes") || strings.Contains(r.stdout, vol) {
		t.Errorf("prune without --all:\n%s", r.stdout)
	}
	if got := s.mustRun("volume", "prune", "-f"); got == "" || strings.Contains(got, vol) {
		t.Errorf("prune -f removed %q", got)
	}
	r = s.runWithStdin(strings.NewReader("n\n"), "volume", "prune")
	if lines := r.lines(); len(lines) != 2 || lines[1] != "No dangling anonymous volumes found" {
		t.Errorf("prune with no anonymous volume left:\n%s", r.stdout)
	}

	// type=bind volumes.
	s.expectStderr(s.run("volume", "create", "-o", "type=bind", "-o", "device=/bogus", s.name("bogus")), 125,
		"Error: invalid volume option device for driver 'local': faccessat /bogus: no such file or directory")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "myfile"), []byte("x"), 0o644)
	bindVol := s.name("bind")
	s.mustRun("volume", "create", "-o", "type=bind", "-o", "device="+dir, bindVol)
	if out := s.mustRun("run", "--rm", "-v", bindVol+":/vol", busybox, "cat", "/vol/myfile"); out != "x" {
		t.Errorf("type=bind volume: %q", out)
	}

	// Copy-up waits for a mount where the image has content.
	cu := s.name("copyup")
	s.mustRun("volume", "create", cu)
	s.mustRun("run", "--rm", "-v", cu+":/vol", busybox, "true")
	if got := s.mustRun("volume", "inspect", "--format", "{{.NeedsCopyUp}} {{.NeedsChown}}", cu); got != "true true" {
		t.Errorf("after a mount on an empty path: %q", got)
	}
	s.mustRun("run", "--rm", "-v", cu+":/etc", busybox, "ls", "/etc/passwd")
	if got := s.mustRun("volume", "inspect", "--format", "{{.NeedsCopyUp}} {{.NeedsChown}}", cu); got != "false false" {
		t.Errorf("after a mount on /etc: %q", got)
	}

	// volume mount / unmount.
	mnt := s.mustRun("volume", "mount", vol)
	if err := os.WriteFile(filepath.Join(mnt, "f"), []byte("via mount\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := s.mustRun("run", "--rm", "-v", vol+":/vol", busybox, "cat", "/vol/f"); out != "via mount" {
		t.Errorf("file written through volume mount: %q", out)
	}
	s.mustRun("volume", "unmount", vol)

	// ps --filter volume=.
	ctr := s.name("psv")
	id := s.mustRun("run", "-d", "--name", ctr, "-v", dir+":/v1", "-v", vol+":/v2", busybox, "sleep", "1000")
	for _, f := range []string{"volume=/v1", "volume=" + vol} {
		if got := s.mustRun("ps", "-q", "--no-trunc", "--filter", f); got != id {
			t.Errorf("ps --filter %s: %q", f, got)
		}
	}
	if got := s.mustRun("ps", "-q", "--filter", "volume=/NoSuchVolume"); got != "" {
		t.Errorf("ps --filter volume=/NoSuchVolume: %q", got)
	}
}

// TestH8VolumeListing follows podman 5's volume ls labels (one k=v string),
// anonymous volumes from a nameless volume create, and its messages for a
// doubled destination and a missing bind source.
func TestH8VolumeListing(t *testing.T) {
	s := newIsolatedServin(t)
	t.Parallel()
	s.importBusybox()
	name := s.name("lab")
	s.mustRun("volume", "create", "--label", "mylabel=abc", name)
	if got := s.mustRun("volume", "ls", "--format", "{{json .Labels}}"); got != `"mylabel=abc"` {
		t.Errorf("{{json .Labels}}: %s", got)
	}
	if got := s.mustRun("volume", "ls", "--format", "{{.Labels}}"); got != "mylabel=abc" {
		t.Errorf("{{.Labels}}: %s", got)
	}
	if got := s.mustRun("volume", "ls"); !strings.HasPrefix(got, "DRIVER") {
		t.Errorf("volume ls header:\n%s", got)
	}
	anon := s.mustRun("volume", "create")
	if got := s.mustRun("volume", "prune", "--force"); got != anon {
		t.Errorf("prune of a nameless volume: %q, want %q", got, anon)
	}
	s.expectStderr(s.run("run", "--rm", "-v", "/tmp:/x", "-v", "/var:/x", busybox, "true"), 125, "Error: /x: duplicate mount destination")
	missing := filepath.Join(t.TempDir(), "v2*")
	s.expectStderr(s.run("run", "--rm", "--mount", "type=bind,source="+missing+",destination=/tmp/foobar", busybox, "true"), 125,
		"Error: statfs "+missing+": no such file or directory")
}
