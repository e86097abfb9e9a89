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
