package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestH8GlobalFlags follows podman's 005-info checks of the global storage
// flags: --volumepath, --tmpdir, --storage-opt="" and global flags given
// after the command name.
func TestH8GlobalFlags(t *testing.T) {
	if suite.podman {
		t.Skip("servin's defaults")
	}
	s := newIsolatedServin(t)
	t.Parallel()
	vols, tmp := t.TempDir(), t.TempDir()
	if got := s.mustRun("--volumepath", vols, "--tmpdir", tmp, "info", "--format", "{{.Store.VolumePath}} {{.Store.ImageCopyTmpDir}}"); got != vols+" "+tmp {
		t.Errorf("info with --volumepath and --tmpdir: %q", got)
	}
	// The same flags after the command name.
	if got := s.mustRun("info", "--volumepath", vols, "--format", "{{.Store.VolumePath}}"); got != vols {
		t.Errorf("info --volumepath: %q", got)
	}
	s.mustRun("volume", "create", "--volumepath="+vols, s.name("v"))
	if mp := s.mustRun("volume", "inspect", "--format", "{{.Mountpoint}}", s.name("v")); mp != filepath.Join(vols, s.name("v"), "_data") {
		t.Errorf("volume made with --volumepath lives at %q", mp)
	}
	if _, err := os.Stat(filepath.Join(vols, s.name("v"), "_data")); err != nil {
		t.Errorf("volume data: %v", err)
	}
	// A container uses the volume wherever it lives.
	s.importBusybox()
	s.mustRun("run", "--rm", "-v", s.name("v")+":/data", busybox, "sh", "-c", "echo hi > /data/f")
	if b, err := os.ReadFile(filepath.Join(vols, s.name("v"), "_data", "f")); err != nil || string(b) != "hi\n" {
		t.Errorf("file written through the volume: %q %v", b, err)
	}
	if out := s.mustRun("--storage-opt=", "info"); !strings.Contains(out, "graphOptions: {}") {
		t.Errorf("--storage-opt=\"\" keeps options:\n%s", out)
	}
	if got := s.mustRun("info", "--format", "{{.Store.GraphOptions}} {{index .Registries \"search\"}}"); !strings.Contains(got, "overlay.mountopt:nodev") {
		t.Errorf("default graph options: %q", got)
	}
}
