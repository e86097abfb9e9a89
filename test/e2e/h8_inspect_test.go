package e2e

import (
	"testing"
	"time"
)

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

// TestH8WaitRestartPolicy follows podman's "run --restart=always/on-failure
// -- wait": wait answers with the first exit, although the restart policy
// brings the container back.
func TestH8WaitRestartPolicy(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	for _, policy := range []string{"always", "on-failure"} {
		name := s.name(policy)
		s.mustRun("run", "-d", "--restart="+policy, "--name", name, busybox, "false")
		start := time.Now()
		if got := s.mustRun("wait", name); got != "1" {
			t.Errorf("%s: wait printed %q", policy, got)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: wait took %v", policy, d)
		}
		s.mustRun("rm", "-f", "-t0", name)
	}
}
