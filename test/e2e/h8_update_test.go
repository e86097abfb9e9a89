package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestH8UpdateBlockIO follows podman's 280-update block I/O checks: the
// per-device limits reach the running container's cgroup, and a device
// that is not a block device is refused with podman's words.
func TestH8UpdateBlockIO(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	name := s.name("blk")
	s.mustRun("run", "-d", "--name", name, busybox, "sleep", "1000")
	for _, opt := range []string{"--blkio-weight-device=/dev/zero:123", "--device-read-bps=/dev/zero:10mb",
		"--device-write-bps=/dev/zero:10mb", "--device-read-iops=/dev/zero:1000", "--device-write-iops=/dev/zero:1000"} {
		r := s.run("update", opt, name)
		s.expectExit(r, 125)
		if !strings.Contains(r.stderr, "/dev/zero: not a block device") {
			t.Errorf("update %s: %s", opt, r)
		}
	}
	// More CPUs than the host has is a quota, as in podman.
	s.mustRun("update", "--cpus", "5", name)
	if got := s.inspect(name, "{{.HostConfig.NanoCpus}}"); got != "5000000000" {
		t.Errorf("NanoCpus %s", got)
	}

	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--show", "-f", img).Output()
	if err != nil {
		t.Skipf("no loop device for the per-device limits: %v", err)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", loop).Run() })
	var st struct{ major, minor string }
	if b, err := os.ReadFile("/sys/class/block/" + filepath.Base(loop) + "/dev"); err == nil {
		st.major, st.minor, _ = strings.Cut(strings.TrimSpace(string(b)), ":")
	}
	dev := st.major + ":" + st.minor
	s.mustRun("update", "--device-read-iops", loop+":2000", "--device-write-iops", loop+":4000", name)
	if got := s.inspect(name, "{{.HostConfig.BlkioDeviceReadIOps}} {{.HostConfig.BlkioDeviceWriteIOps}}"); got != "[{"+loop+" 2000}] [{"+loop+" 4000}]" {
		t.Errorf("inspect: %q", got)
	}
	blkio := "/sys/fs/cgroup/blkio"
	if _, err := os.Stat(blkio + "/blkio.throttle.read_iops_device"); err != nil {
		t.Skip("no cgroup v1 blkio controller to read the limits back from")
	}
	if got := s.mustRun("exec", name, "cat", blkio+"/blkio.throttle.read_iops_device", blkio+"/blkio.throttle.write_iops_device"); got != dev+" 2000\n"+dev+" 4000" {
		t.Errorf("cgroup limits:\n%s\nwant %s 2000 and %s 4000", got, dev, dev)
	}
}
