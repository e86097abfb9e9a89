package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/servin/servin/test/testimage"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	dir := t.TempDir()

	docker := filepath.Join(dir, "docker.tar")
	if err := testimage.DockerArchive(docker, "loaded:1"); err != nil {
		t.Fatal(err)
	}
	out := s.mustRun("load", "-i", docker)
	if !strings.Contains(out, "Loaded image") || !strings.Contains(out, "loaded:1") {
		t.Errorf("load -i printed %q", out)
	}
	s.expectExit(s.run("image", "exists", "loaded:1"), 0)
	// The archive's config (CMD sh, PATH) comes along.
	if got := s.mustRun("run", "--rm", "--network", "none", "loaded:1", "echo", "from-load"); got != "from-load" {
		t.Errorf("running the loaded image printed %q", got)
	}

	// From standard input, as `load < file`.
	stdinArchive := filepath.Join(dir, "stdin.tar")
	if err := testimage.DockerArchive(stdinArchive, "fromstdin:2"); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(stdinArchive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s.expectExit(s.runWithStdin(f, "load"), 0)
	s.expectExit(s.run("image", "exists", "fromstdin:2"), 0)

	oci := filepath.Join(dir, "oci.tar")
	if err := testimage.OCIArchive(oci, "localhost/ociimage:3"); err != nil {
		t.Fatal(err)
	}
	s.mustRun("load", "-i", oci)
	if got := s.mustRun("run", "--rm", "--network", "none", "localhost/ociimage:3", "echo", "oci"); got != "oci" {
		t.Errorf("running the loaded OCI image printed %q", got)
	}

	bad := filepath.Join(dir, "bad.tar")
	if err := os.WriteFile(bad, []byte("not an archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.expectExit(s.run("load", "-i", bad), 125)
	s.expectExit(s.run("load", "-i", filepath.Join(dir, "missing.tar")), 125)
}
