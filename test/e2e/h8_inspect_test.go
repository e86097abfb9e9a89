package e2e

import "testing"

// TestH8InspectImageData follows podman's "inspect includes image data":
// the container records the digest of the image it was made from.
func TestH8InspectImageData(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	name := s.name("img")
	s.mustRun("create", "--name", name, busybox, "true")
	digest := s.mustRun("image", "inspect", "--format", "{{.Digest}}", busybox)
	if got := s.inspect(name, "{{.ImageDigest}}"); got != digest || len(got) != len("sha256:")+64 {
		t.Errorf("ImageDigest %q, image digest %q", got, digest)
	}
	if got := s.mustRun("ps", "-a", "--filter", "name="+name, "--format", "{{.Restarts}} {{.State}}"); got != "0 created" {
		t.Errorf("ps .Restarts: %q", got)
	}
}

// TestH8CommitDockerFormat follows podman's "commit docker with comment"
// and "images - history output": a message needs the docker format, and an
// image remembers the names it has had.
func TestH8CommitDockerFormat(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	name := s.name("c")
	s.mustRun("run", "-d", "--name", name, busybox, "sleep", "1000")
	img := s.prefix + "-img"
	s.expectStderr(s.run("commit", "-m", "comment", name, img), 125,
		"Error: messages are only compatible with the docker image format (-f docker)")
	id := s.mustRun("commit", "-q", "--format", "docker", "-m", "comment", name, img)
	t.Cleanup(func() { s.run("rmi", "-f", id) })
	if got := s.mustRun("image", "inspect", "--format", "{{.ManifestType}} {{.Comment}}", img); got != "application/vnd.docker.distribution.manifest.v2+json comment" {
		t.Errorf("docker commit: %q", got)
	}
	// The image runs like any other.
	if out := s.mustRun("run", "--rm", img, "echo", "ok"); out != "ok" {
		t.Errorf("run of the committed image: %q", out)
	}
	for _, n := range []string{"h1", "h2"} {
		s.mustRun("tag", img, s.prefix+"-"+n)
		s.mustRun("rmi", s.prefix+"-"+n)
	}
	want := "localhost/" + img + ":latest, localhost/" + s.prefix + "-h2:latest, localhost/" + s.prefix + "-h1:latest"
	if got := s.mustRun("images", img, "--format", "{{.History}}"); got != want {
		t.Errorf("images {{.History}}:\n got %s\nwant %s", got, want)
	}
}
