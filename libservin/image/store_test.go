package image

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/test/testimage"
	"go.podman.io/storage/pkg/idtools"
	"go.podman.io/storage/pkg/mount"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	// containers/storage unpacks layers in a re-executed test binary.
	if ReexecInit() {
		return
	}
	os.Exit(m.Run())
}

// requireRoot skips tests that need root (mounts, chroot'd unpacking) or
// the overlay filesystem.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	data, err := os.ReadFile("/proc/filesystems")
	if err != nil || !bytes.Contains(data, []byte("\toverlay\n")) {
		t.Skip("needs the overlay filesystem")
	}
}

// newTestStore opens a store in a fresh temporary directory and cleans up
// every mount under it at the end.
func newTestStore(t *testing.T) *Store {
	t.Helper()
	requireRoot(t)
	dir := t.TempDir()
	s, err := OpenStore(StoreOptions{GraphRoot: filepath.Join(dir, "graph"), RunRoot: filepath.Join(dir, "run")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Shutdown(true)
		unmountUnder(t, dir)
	})
	return s
}

// unmountUnder detaches whatever is still mounted below dir, deepest first.
func unmountUnder(t *testing.T, dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir) {
			mounts = append(mounts, fields[4])
		}
	}
	slices.Sort(mounts)
	for i := len(mounts) - 1; i >= 0; i-- {
		t.Logf("cleanup: unmounting leftover %s", mounts[i])
		_ = unix.Unmount(mounts[i], unix.MNT_DETACH)
	}
}

var rootfs []byte

func rootfsTar(t *testing.T) []byte {
	t.Helper()
	if rootfs == nil {
		var buf bytes.Buffer
		if err := testimage.RootfsTar(&buf); err != nil {
			t.Fatal(err)
		}
		rootfs = buf.Bytes()
	}
	return rootfs
}

func importBusybox(t *testing.T, s *Store, name string, changes ...string) *Image {
	t.Helper()
	img, err := s.Import(context.Background(), bytes.NewReader(rootfsTar(t)), ImportOptions{Reference: name, Changes: changes})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestImportAndLookup(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	t.Logf("driver %s", s.Driver())
	img, err := s.Import(ctx, bytes.NewReader(rootfsTar(t)), ImportOptions{
		Reference: "busybox",
		Message:   "test import",
		Changes: []string{
			`CMD ["sh"]`, "ENV A=b", "WORKDIR /tmp", "USER nobody", "LABEL k=v",
			"EXPOSE 80/tcp", "VOLUME /data", "STOPSIGNAL SIGKILL", `ENTRYPOINT ["/bin/busybox"]`,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !isFullID(img.ID) || img.TopLayer == "" || img.Size <= 0 || !strings.HasPrefix(img.Digest, "sha256:") {
		t.Errorf("bad image %+v", img)
	}
	if !slices.Equal(img.Names, []string{"localhost/busybox:latest"}) {
		t.Errorf("names %q", img.Names)
	}
	if time.Since(img.Created) > time.Minute {
		t.Errorf("created %v", img.Created)
	}
	c := img.Config.Config
	if !slices.Equal(c.Cmd, []string{"sh"}) || !slices.Equal(c.Entrypoint, []string{"/bin/busybox"}) ||
		!slices.Equal(c.Env, []string{"A=b"}) || c.WorkingDir != "/tmp" || c.User != "nobody" ||
		c.Labels["k"] != "v" || c.StopSignal != "SIGKILL" {
		t.Errorf("config %+v", c)
	}
	if _, ok := c.ExposedPorts["80/tcp"]; !ok {
		t.Errorf("exposed ports %v", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/data"]; !ok {
		t.Errorf("volumes %v", c.Volumes)
	}
	if len(img.Config.History) != 1 || img.Config.History[0].Comment != "test import" {
		t.Errorf("history %+v", img.Config.History)
	}
	if img.Config.OS != "linux" || img.Config.Architecture == "" {
		t.Errorf("platform %s/%s", img.Config.OS, img.Config.Architecture)
	}

	for _, name := range []string{
		"busybox", "busybox:latest", "localhost/busybox", "localhost/busybox:latest",
		img.ID, "sha256:" + img.ID, img.ID[:12], img.ID[:3],
	} {
		got, err := s.Lookup(ctx, name)
		if err != nil {
			t.Errorf("lookup %q: %v", name, err)
			continue
		}
		if got.ID != img.ID {
			t.Errorf("lookup %q: got %s", name, got.ID)
		}
	}
	for _, name := range []string{"nosuch", "busybox:other", "sha256:" + img.ID[:12], "docker.io/library/busybox", "Busybox"} {
		_, err := s.Lookup(ctx, name)
		if !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("lookup %q: want not found, got %v", name, err)
			continue
		}
		if err.Error() != name+": image not known" {
			t.Errorf("lookup %q: message %q", name, err)
		}
	}
	if ok, err := s.Exists(ctx, "busybox"); !ok || err != nil {
		t.Errorf("exists busybox: %v %v", ok, err)
	}
	if ok, err := s.Exists(ctx, "nosuch"); ok || err != nil {
		t.Errorf("exists nosuch: %v %v", ok, err)
	}

	// The image is a proper image: it can be saved and loaded again.
	archive := filepath.Join(t.TempDir(), "save.tar")
	if err := s.Save(ctx, []string{"busybox"}, FormatOCIArchive, archive); err != nil {
		t.Fatal(err)
	}
}

func TestImportCompressedUnnamed(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(rootfsTar(t))
	zw.Close()
	img, err := s.Import(ctx, &gz, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Names) != 0 {
		t.Errorf("names %q", img.Names)
	}
	plain := importBusybox(t, s, "plain")
	// Same layer, different config: two images sharing one layer.
	if plain.ID == img.ID || plain.TopLayer != img.TopLayer {
		t.Errorf("ids %s %s layers %s %s", plain.ID, img.ID, plain.TopLayer, img.TopLayer)
	}
	all, err := s.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != plain.ID {
		t.Errorf("images: %d, newest first expected", len(all))
	}
}

func TestImportBadInput(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	garbage := make([]byte, 4096)
	rand.Read(garbage)
	for name, data := range map[string][]byte{
		"random": garbage,
		"empty":  nil,
		"text":   []byte("hello, this is not a tarball\n"),
	} {
		_, err := s.Import(ctx, bytes.NewReader(data), ImportOptions{Reference: "bad"})
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: want invalid argument, got %v", name, err)
		}
	}
	if _, err := s.Import(ctx, bytes.NewReader(rootfsTar(t)), ImportOptions{Reference: "Bad"}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad reference: %v", err)
	}
	if _, err := s.Import(ctx, bytes.NewReader(rootfsTar(t)), ImportOptions{Changes: []string{"FROM x"}}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad change: %v", err)
	}
	if all, _ := s.Images(ctx); len(all) != 0 {
		t.Errorf("%d images stored after bad imports", len(all))
	}
	if left, _ := os.ReadDir(filepath.Join(s.graphRoot, "tmp")); len(left) != 0 {
		t.Errorf("staging files left: %v", left)
	}
}

func TestLoadDockerArchive(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "docker.tar")
	if err := testimage.DockerArchive(path, "busybox:1"); err != nil {
		t.Fatal(err)
	}
	loaded, err := s.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(loaded, []string{"docker.io/library/busybox:1"}) {
		t.Errorf("loaded %q", loaded)
	}
	img, err := s.Lookup(ctx, "busybox:1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(img.Config.Config.Cmd, []string{"sh"}) {
		t.Errorf("cmd %q", img.Config.Config.Cmd)
	}

	// Untagged archive: reported by ID.
	if err := testimage.DockerArchive(path, ""); err != nil {
		t.Fatal(err)
	}
	loaded, err = s.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || !strings.HasPrefix(loaded[0], "sha256:") {
		t.Fatalf("loaded %q", loaded)
	}
	if ok, _ := s.Exists(ctx, loaded[0]); !ok {
		t.Errorf("%s not found", loaded[0])
	}
}

func TestLoadOCIArchive(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "oci.tar")
	if err := testimage.OCIArchive(path, "busybox:oci"); err != nil {
		t.Fatal(err)
	}
	loaded, err := s.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(loaded, []string{"localhost/busybox:oci"}) {
		t.Errorf("loaded %q", loaded)
	}
	if _, err := s.Lookup(ctx, "busybox:oci"); err != nil {
		t.Error(err)
	}
	if err := testimage.OCIArchive(path, ""); err != nil {
		t.Fatal(err)
	}
	loaded, err = s.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || !strings.HasPrefix(loaded[0], "sha256:") {
		t.Fatalf("loaded %q", loaded)
	}
}

func TestLoadBadFile(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := s.Load(ctx, filepath.Join(dir, "missing.tar")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	garbage := make([]byte, 10000)
	rand.Read(garbage)
	bad := filepath.Join(dir, "garbage")
	os.WriteFile(bad, garbage, 0o644)
	if _, err := s.Load(ctx, bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("garbage: %v", err)
	}
	rootfs := filepath.Join(dir, "rootfs.tar")
	os.WriteFile(rootfs, rootfsTar(t), 0o644)
	_, err := s.Load(ctx, rootfs)
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "supported image formats") {
		t.Errorf("plain tar: %v", err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	a := importBusybox(t, s, "a", `CMD ["a"]`)
	b := importBusybox(t, s, "quay.io/x/b:2", `CMD ["b"]`)
	if err := s.Tag(ctx, "a", "c"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	multi := filepath.Join(dir, "multi.tar")
	if err := s.Save(ctx, []string{"a", "quay.io/x/b:2"}, FormatDockerArchive, multi); err != nil {
		t.Fatal(err)
	}
	// Saving again replaces the file; an image asked for by two names is
	// stored once, with both.
	if err := s.Save(ctx, []string{"a", "quay.io/x/b:2", "c"}, "", multi); err != nil {
		t.Fatal(err)
	}
	// Asked for by ID, an image is saved without names (as podman does).
	byID := filepath.Join(dir, "byid.tar")
	if err := s.Save(ctx, []string{a.ID}, FormatDockerArchive, byID); err != nil {
		t.Fatal(err)
	}
	sID := newTestStore(t)
	if loaded, err := sID.Load(ctx, byID); err != nil || len(loaded) != 1 || strings.Contains(loaded[0], "/a:") {
		t.Errorf("load of an image saved by ID: %q %v", loaded, err)
	}
	if img, err := sID.Lookup(ctx, a.ID); err != nil || len(img.Names) != 0 {
		t.Errorf("image saved by ID: %+v %v", img, err)
	}
	oci := filepath.Join(dir, "oci.tar")
	if err := s.Save(ctx, []string{"b:2"}, FormatOCIArchive, oci); err != nil {
		t.Fatal(err)
	}
	ociMulti := filepath.Join(dir, "oci-multi.tar")
	if err := s.Save(ctx, []string{"a", "quay.io/x/b:2"}, FormatOCIArchive, ociMulti); err != nil {
		t.Errorf("oci-archive with two images: %v", err)
	}
	if err := s.Save(ctx, []string{"a", "b"}, FormatDockerDir, filepath.Join(dir, "d")); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("docker-dir with two images: %v", err)
	}

	s2 := newTestStore(t)
	loaded, err := s2.Load(ctx, multi)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(loaded)
	want := []string{"localhost/a:latest", "localhost/c:latest", "quay.io/x/b:2"}
	if !slices.Equal(loaded, want) {
		t.Errorf("loaded %q, want %q", loaded, want)
	}
	for name, id := range map[string]string{"a": a.ID, "c": a.ID, "quay.io/x/b:2": b.ID} {
		img, err := s2.Lookup(ctx, name)
		if err != nil || img.ID != id {
			t.Errorf("%s: %v %v", name, img, err)
		}
	}

	s3 := newTestStore(t)
	loaded, err = s3.Load(ctx, oci)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(loaded, []string{"quay.io/x/b:2"}) {
		t.Errorf("oci loaded %q", loaded)
	}
	if img, err := s3.Lookup(ctx, "b:2"); err != nil || img.ID != b.ID {
		t.Errorf("b:2 by short name: %v %v", img, err)
	}

	s4 := newTestStore(t)
	loaded, err = s4.Load(ctx, ociMulti)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(loaded)
	if want := []string{"localhost/a:latest", "quay.io/x/b:2"}; !slices.Equal(loaded, want) {
		t.Errorf("multi-image oci-archive loaded %q, want %q", loaded, want)
	}
}

func TestTagAndRemove(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	img := importBusybox(t, s, "busybox")
	if err := s.Tag(ctx, "busybox", "other:1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, "busybox", "Bad"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad tag: %v", err)
	}
	if err := s.Tag(ctx, "nosuch", "x"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("tag missing image: %v", err)
	}
	got, _ := s.Lookup(ctx, "other:1")
	if got == nil || len(got.Names) != 2 {
		t.Fatalf("after tag: %+v", got)
	}

	// By ID with two names: refused without force.
	if _, _, err := s.Remove(ctx, img.ID, false, nil); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("rmi by id with 2 names: %v", err)
	}
	// By name with two names: untag only.
	untagged, deleted, err := s.Remove(ctx, "other:1", false, nil)
	if err != nil || !slices.Equal(untagged, []string{"localhost/other:1"}) || deleted != nil {
		t.Fatalf("untag: %q %q %v", untagged, deleted, err)
	}

	// In use by a container of servin (inUse) or of the storage.
	inUse := func(_ context.Context, id string) ([]string, error) { return []string{"ctr1"}, nil }
	_, _, err = s.Remove(ctx, "busybox", false, inUse)
	want := "image used by " + img.ID + ": image is in use by a container: consider listing external containers and force-removing image"
	if !errors.Is(err, errdefs.ErrInUse) || err.Error() != want {
		t.Errorf("in use: %v", err)
	}
	// A container with ID mappings has a storage container, which
	// storage counts as a user of the image by itself.
	mapped := ContainerOptions{UIDMap: []idtools.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}, GIDMap: []idtools.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}}
	if _, err := s.CreateContainerWithOptions(ctx, strings.Repeat("c", 64), img.ID, "ctr", mapped); err != nil {
		t.Fatal(err)
	}
	if _, _, err = s.Remove(ctx, "busybox", false, nil); !errors.Is(err, errdefs.ErrInUse) {
		t.Errorf("in use by storage container: %v", err)
	}
	untagged, deleted, err = s.Remove(ctx, "busybox", true, inUse)
	if err != nil || !slices.Equal(untagged, []string{"localhost/busybox:latest"}) || !slices.Equal(deleted, []string{img.ID}) {
		t.Fatalf("force rmi: %q %q %v", untagged, deleted, err)
	}
	if s.ContainerExists(strings.Repeat("c", 64)) {
		t.Error("storage container survived rmi -f")
	}
	if _, _, err := s.Remove(ctx, "busybox", false, nil); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("second rmi: %v", err)
	}
}

func TestContainerLayer(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	img := importBusybox(t, s, "busybox")
	id := strings.Repeat("ab", 32)
	c, err := s.CreateContainer(ctx, id, "busybox", "web")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != id || c.ImageID != img.ID || !s.ContainerExists(id) {
		t.Fatalf("container %+v", c)
	}
	if _, err := s.CreateContainer(ctx, id, "busybox", ""); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate: %v", err)
	}
	rootfs, err := s.Mount(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "bin/busybox")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "tmp/hello"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Unmount(id, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "bin/busybox")); err == nil {
		t.Error("still mounted after unmount")
	}
	if err := s.Unmount(id, false); err != nil {
		t.Errorf("unmount of unmounted: %v", err)
	}
	rootfs, err = s.Mount(id)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(rootfs, "tmp/hello")); err != nil || string(data) != "hi" {
		t.Errorf("written file: %q %v", data, err)
	}
	// Deleting a mounted container unmounts it.
	if err := s.DeleteContainer(id); err != nil {
		t.Fatal(err)
	}
	if s.ContainerExists(id) {
		t.Error("container still exists")
	}
	if err := s.DeleteContainer(id); err != nil {
		t.Errorf("second delete: %v", err)
	}

	// A never-mounted container is deleted too.
	other := strings.Repeat("cd", 32)
	if _, err := s.CreateContainer(ctx, other, img.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteContainer(other); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Mount("nosuch"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("mount unknown: %v", err)
	}
	if _, err := s.CreateContainer(ctx, other, "nosuch", ""); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("create from unknown image: %v", err)
	}
}

func TestVolatileContainer(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	importBusybox(t, s, "busybox")
	id := strings.Repeat("ef", 32)
	if _, err := s.CreateContainerWithOptions(ctx, id, "busybox", "", ContainerOptions{Volatile: true}); err != nil {
		t.Fatal(err)
	}
	rootfs, err := s.MountWith(id, MountOptions{Volatile: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Driver() == "overlay" {
		info, _ := os.ReadFile("/proc/self/mountinfo")
		found := false
		for _, line := range strings.Split(string(info), "\n") {
			if strings.Contains(line, " "+rootfs+" ") {
				found = strings.Contains(line, "volatile")
			}
		}
		if !found {
			for _, line := range strings.Split(string(info), "\n") {
				if strings.Contains(line, "TestVolatile") {
					t.Logf("mountinfo: %s", line)
				}
			}
			wd, _ := os.Getwd()
			t.Logf("cwd %s", wd)
			t.Errorf("%s not mounted volatile", rootfs)
		}
	}
	if err := s.DeleteContainer(id); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkLookup(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	dir := b.TempDir()
	s, err := OpenStore(StoreOptions{GraphRoot: filepath.Join(dir, "graph"), RunRoot: filepath.Join(dir, "run")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(true)
	var buf bytes.Buffer
	testimage.RootfsTar(&buf)
	if _, err := s.Import(context.Background(), &buf, ImportOptions{Reference: "busybox"}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Lookup(context.Background(), "busybox"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestVFSDriver(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	s, err := OpenStore(StoreOptions{GraphRoot: filepath.Join(dir, "graph"), RunRoot: filepath.Join(dir, "run"), Driver: "vfs"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Shutdown(true)
		unmountUnder(t, dir)
	})
	if s.Driver() != "vfs" {
		t.Fatalf("driver %s", s.Driver())
	}
	ctx := context.Background()
	importBusybox(t, s, "busybox")
	id := strings.Repeat("12", 32)
	if _, err := s.CreateContainer(ctx, id, "busybox", ""); err != nil {
		t.Fatal(err)
	}
	rootfs, err := s.Mount(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "bin/sh")); err != nil {
		t.Error(err)
	}
	if err := s.DeleteContainer(id); err != nil {
		t.Fatal(err)
	}
}

// TestDriverFallback puts the store on an overlay mount, where the overlay
// driver cannot stack natively: the store falls back to vfs. (With
// fuse-overlayfs in PATH, storage would use it as overlay's mount program,
// as podman does; PATH is emptied to test the vfs path.)
func TestDriverFallback(t *testing.T) {
	requireRoot(t)
	t.Setenv("PATH", "/nonexistent")
	dir := t.TempDir()
	for _, d := range []string{"lower", "upper", "work", "mnt"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	opts := "lowerdir=" + filepath.Join(dir, "lower") + ",upperdir=" + filepath.Join(dir, "upper") + ",workdir=" + filepath.Join(dir, "work")
	if err := unix.Mount("overlay", filepath.Join(dir, "mnt"), "overlay", 0, opts); err != nil {
		t.Skipf("cannot mount overlay: %v", err)
	}
	root := filepath.Join(dir, "mnt")
	s, err := OpenStore(StoreOptions{GraphRoot: filepath.Join(root, "graph"), RunRoot: filepath.Join(dir, "run")})
	if err != nil {
		unmountUnder(t, dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Shutdown(true)
		unmountUnder(t, dir)
	})
	if s.Driver() != "vfs" {
		t.Errorf("driver on overlay: %s, want vfs", s.Driver())
	}
	importBusybox(t, s, "busybox")
	s.Shutdown(true)
	// Reopening keeps the driver that holds the images.
	s2, err := OpenStore(StoreOptions{GraphRoot: filepath.Join(root, "graph"), RunRoot: filepath.Join(dir, "run")})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s2.Exists(context.Background(), "busybox"); !ok || s2.Driver() != "vfs" {
		t.Errorf("after reopen: driver %s, image exists %v %v", s2.Driver(), ok, err)
	}
}

// TestDriverLayerMounts: container layers made by the driver count their
// mounts, and a shutdown leaves the driver's home (and with it every
// container's mount) alone while one is mounted.
func TestDriverLayerMounts(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	importBusybox(t, s, "busybox")
	if s.Driver() != "overlay" {
		t.Skip("needs the overlay driver")
	}
	c1, c2 := strings.Repeat("a1", 32), strings.Repeat("b2", 32)
	for _, id := range []string{c1, c2} {
		if _, err := s.CreateContainer(ctx, id, "busybox", ""); err != nil {
			t.Fatal(err)
		}
	}
	// Driver layers are not storage containers.
	if _, err := s.store.Container(c1); err == nil {
		t.Fatal("a storage container was recorded")
	}
	home := filepath.Join(s.store.GraphRoot(), "overlay")
	mounted := func(p string) bool {
		m, err := mount.Mounted(p)
		return err == nil && m
	}
	p1, err := s.Mount(c1)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.Mount(c1); err != nil || p != p1 {
		t.Fatalf("second mount: %q %v", p, err)
	}
	if n, p, _ := s.ContainerMount(c1); n != 2 || p != p1 {
		t.Errorf("ContainerMount after two mounts: %d %q", n, p)
	}
	if err := s.Unmount(c1, false); err != nil || !mounted(p1) {
		t.Fatalf("one of two mounts dropped: %v, mounted %v", err, mounted(p1))
	}
	// A mounted driver layer keeps the home mounted through a shutdown.
	s.Shutdown(false)
	if !mounted(p1) || !mounted(home) {
		t.Fatalf("shutdown with a mounted layer: layer %v home %v", mounted(p1), mounted(home))
	}
	if _, err := os.Stat(filepath.Join(p1, "bin/busybox")); err != nil {
		t.Errorf("layer content after shutdown: %v", err)
	}
	if err := s.Unmount(c1, false); err != nil || mounted(p1) {
		t.Fatalf("last mount dropped: %v, mounted %v", err, mounted(p1))
	}
	if n, p, _ := s.ContainerMount(c1); n != 0 || p != "" {
		t.Errorf("ContainerMount after unmount: %d %q", n, p)
	}
	// Nothing mounted: the shutdown lets go of the home; mounting again
	// afterwards works.
	s.Shutdown(false)
	if mounted(home) {
		t.Errorf("home still mounted after a shutdown with nothing mounted")
	}
	p2, err := s.Mount(c2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p2, "bin/busybox")); err != nil {
		t.Errorf("mount after shutdown: %v", err)
	}
	s.Mount(c2)
	if err := s.Unmount(c2, true); err != nil || mounted(p2) {
		t.Fatalf("forced unmount: %v, mounted %v", err, mounted(p2))
	}
	// Deleting removes the layer's directory.
	for _, id := range []string{c1, c2} {
		if err := s.DeleteContainer(id); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(home, id)); !os.IsNotExist(err) {
			t.Errorf("layer directory of %s left: %v", id, err)
		}
	}
}
