package oci

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func rootfsWithUsers(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "etc/group"), []byte("root:x:0:\nnogroup:x:65534:\napp:x:1000:\nwheel:x:10:app\n"), 0o644)
	return dir
}

func TestGenerateDefaults(t *testing.T) {
	rootfs := rootfsWithUsers(t)
	s, err := Generate(&SpecInput{ID: "abc", Rootfs: rootfs, Args: []string{"sh"}, Hostname: "h1", NofileLimit: 20000})
	if err != nil {
		t.Fatal(err)
	}
	if s.Process.Rlimits[0].Hard != 20000 {
		t.Errorf("nofile hard = %d, want the caller's 20000", s.Process.Rlimits[0].Hard)
	}
	if !slices.Contains(s.Process.Env, DefaultPath) || !slices.Contains(s.Process.Env, "HOME=/root") {
		t.Errorf("env %v lacks PATH/HOME defaults", s.Process.Env)
	}
	if len(s.Process.Capabilities.Bounding) != 14 {
		t.Errorf("want docker's 14 default caps, got %v", s.Process.Capabilities.Bounding)
	}
	var hasNet bool
	for _, ns := range s.Linux.Namespaces {
		hasNet = hasNet || ns.Type == specs.NetworkNamespace
	}
	if !hasNet {
		t.Error("network none must get a private network namespace")
	}
	if s.Process.Cwd != "/" {
		t.Errorf("cwd %q", s.Process.Cwd)
	}
}

func TestGenerateHostNetworkAndUser(t *testing.T) {
	rootfs := rootfsWithUsers(t)
	s, err := Generate(&SpecInput{Rootfs: rootfs, Args: []string{"id"}, NetworkMode: "host", User: "app", GroupAdd: []string{"wheel"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace || ns.Type == specs.UTSNamespace {
			t.Errorf("host network without hostname must share %s", ns.Type)
		}
	}
	u := s.Process.User
	if u.UID != 1000 || u.GID != 1000 || !slices.Contains(u.AdditionalGids, 10) {
		t.Errorf("user = %+v", u)
	}
	if _, err := Generate(&SpecInput{Rootfs: rootfs, Args: []string{"id"}, User: "nosuchuser"}); err == nil {
		t.Error("unknown user must fail")
	}
	if _, err := Generate(&SpecInput{Rootfs: rootfs, Args: []string{"id"}, User: "1234:5678"}); err != nil {
		t.Errorf("numeric user not in passwd must work: %v", err)
	}
}

func TestResolveUserStaysInRootfs(t *testing.T) {
	rootfs := t.TempDir()
	os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755)
	// An absolute symlink must resolve inside the rootfs, never to the host's file.
	os.Symlink("/host-passwd", filepath.Join(rootfs, "etc/passwd"))
	os.WriteFile(filepath.Join(rootfs, "host-passwd"), []byte("inside:x:4242:4242::/in:/bin/sh\n"), 0o644)
	u, err := ResolveUser(rootfs, "inside", nil)
	if err != nil || u.UID != 4242 {
		t.Fatalf("got %+v, %v", u, err)
	}
}

func TestMergeMountsOrder(t *testing.T) {
	m := mergeMounts(defaultMounts(), []specs.Mount{
		{Destination: "/etc/hosts", Type: "bind", Source: "/x"},
		{Destination: "/dev/shm", Type: "bind", Source: "/y"},
	})
	seen := map[string]int{}
	for i, x := range m {
		seen[x.Destination] = i
	}
	if seen["/dev"] > seen["/dev/shm"] {
		t.Error("parents must be mounted first")
	}
	if m[seen["/dev/shm"]].Source != "/y" {
		t.Error("an extra mount must replace the default at the same destination")
	}
}
