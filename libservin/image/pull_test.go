package image

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/servin/servin/libservin/registry"
)

// testRegistry serves servin's registry on a free port of 127.0.0.1.
func testRegistry(t *testing.T) (addr, root string) {
	t.Helper()
	root = t.TempDir()
	srv, err := registry.New(context.Background(), registry.Options{Addr: "127.0.0.1:0", Root: root, LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, time.Second); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv.Addr(), root
}

func plainHTTP(t *testing.T) RemoteOptions {
	no := false
	return RemoteOptions{TLSVerify: &no, Config: RegistryConfig{ConfigDir: t.TempDir(), AuthFile: filepath.Join(t.TempDir(), "auth.json")}}
}

func layerCount(t *testing.T, s *Store) int {
	t.Helper()
	layers, err := s.store.Layers()
	if err != nil {
		t.Fatal(err)
	}
	return len(layers)
}

func TestPushPullRoundTrip(t *testing.T) {
	src := newTestStore(t)
	ctx := context.Background()
	addr, regRoot := testRegistry(t)
	img := importBusybox(t, src, "busybox", `CMD ["sh"]`)
	ref := addr + "/t/busybox:1"
	if _, err := src.Push(ctx, "busybox", ref, PushOptions{RemoteOptions: plainHTTP(t)}); err != nil {
		t.Fatal(err)
	}

	dst := newTestStore(t)
	got, err := dst.Pull(ctx, ref, PullOptions{RemoteOptions: plainHTTP(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != img.ID || len(got.Names) != 1 || got.Names[0] != ref {
		t.Errorf("pulled %s %v, want %s named %s", got.ID, got.Names, img.ID, ref)
	}
	if got.Config == nil || len(got.Config.Config.Cmd) != 1 || got.Config.Config.Cmd[0] != "sh" {
		t.Errorf("pulled config: %+v", got.Config)
	}
	// The fast path stores images the containers/image way: they can be
	// saved and pushed again.
	if err := dst.Save(ctx, []string{ref}, FormatOCIArchive, filepath.Join(t.TempDir(), "x.tar")); err != nil {
		t.Errorf("saving the pulled image: %v", err)
	}
	if _, err := dst.Push(ctx, ref, addr+"/t/again:1", PushOptions{RemoteOptions: plainHTTP(t)}); err != nil {
		t.Errorf("pushing the pulled image: %v", err)
	}
	// Pulling again under another name reuses everything.
	if _, err := dst.Pull(ctx, addr+"/t/again:1", PullOptions{RemoteOptions: plainHTTP(t)}); err != nil {
		t.Fatal(err)
	}
	if n := layerCount(t, dst); n != 1 {
		t.Errorf("%d layers after two pulls of one image, want 1", n)
	}
	// The copy path (forced) stores the same image.
	t.Setenv("SERVIN_PULL_COPY", "1")
	dst2 := newTestStore(t)
	viaCopy, err := dst2.Pull(ctx, ref, PullOptions{RemoteOptions: plainHTTP(t)})
	if err != nil || viaCopy.ID != img.ID {
		t.Errorf("copy path: %v %v", viaCopy, err)
	}
	t.Setenv("SERVIN_PULL_COPY", "")

	// A tampered layer blob fails the pull and leaves nothing behind.
	tamperLayers(t, regRoot)
	dst3 := newTestStore(t)
	if _, err := dst3.Pull(ctx, ref, PullOptions{RemoteOptions: plainHTTP(t)}); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Errorf("pull of a tampered blob: %v", err)
	}
	if n := layerCount(t, dst3); n != 0 {
		t.Errorf("a failed pull left %d layers", n)
	}
	imgs, _ := dst3.Images(ctx)
	if len(imgs) != 0 {
		t.Errorf("a failed pull left %d images", len(imgs))
	}
}

// tamperLayers flips a byte in the middle of every blob bigger than 4 kB
// (the layers; configs and manifests are small).
func tamperLayers(t *testing.T, root string) {
	t.Helper()
	n := 0
	filepath.Walk(filepath.Join(root, "docker", "registry", "v2", "blobs"), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Size() < 4096 {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		data[len(data)/2] ^= 0xff
		n++
		return os.WriteFile(p, data, 0o644)
	})
	if n == 0 {
		t.Fatal("no layer blob to tamper with")
	}
}

func TestPullErrors(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	for _, name := range []string{"127.0.0.1:1/x:1", "Bad/Ref"} {
		if _, err := s.Pull(ctx, name, PullOptions{RemoteOptions: plainHTTP(t)}); err == nil {
			t.Errorf("pull %s succeeded", name)
		}
	}
	addr, _ := testRegistry(t)
	_, err := s.Pull(ctx, addr+"/none:1", PullOptions{RemoteOptions: plainHTTP(t)})
	if err == nil || !strings.Contains(err.Error(), "manifest unknown") {
		t.Errorf("pull of a missing image: %v", err)
	}
	var unknown interface{ Unwrap() []error }
	if !errors.As(err, &unknown) {
		t.Errorf("pull error keeps no cause: %T", err)
	}
}

func TestManifestListPush(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	addr, _ := testRegistry(t)
	for _, arch := range []string{"arm64", "amd64"} {
		if _, err := s.Import(ctx, strings.NewReader(string(rootfsTar(t))), ImportOptions{Reference: "bb-" + arch, Arch: arch}); err != nil {
			t.Fatal(err)
		}
	}
	o := ManifestAddOptions{RemoteOptions: plainHTTP(t)}
	id, err := s.CreateList(ctx, "list", []string{"bb-arm64"}, false, o)
	if err != nil || id != ListID("localhost/list:latest") {
		t.Fatalf("CreateList: %q %v", id, err)
	}
	// The list goes by its ID (or a prefix of it) too.
	if !s.ListExists(id) || !s.ListExists(id[:12]) {
		t.Errorf("list not found by ID %s", id)
	}
	if _, err := s.CreateList(ctx, "list", nil, false, o); err == nil {
		t.Errorf("creating an existing list succeeded")
	}
	o.Variant = "v8"
	if _, err := s.AddToList(ctx, "list", "bb-amd64", o); err != nil {
		t.Fatal(err)
	}
	raw, err := s.InspectList("list")
	if err != nil {
		t.Fatal(err)
	}
	var idx v1.Index
	if err := json.Unmarshal(raw, &idx); err != nil || len(idx.Manifests) != 2 || idx.Manifests[1].Platform.Variant != "v8" {
		t.Fatalf("list: %s %v", raw, err)
	}
	ref := addr + "/multi/bb:1"
	if _, err := s.PushList(ctx, "list", ref, PushOptions{RemoteOptions: plainHTTP(t)}); err != nil {
		t.Fatal(err)
	}
	dst := newTestStore(t)
	po := PullOptions{RemoteOptions: plainHTTP(t)}
	po.Arch = "arm64"
	img, err := dst.Pull(ctx, ref, po)
	if err != nil || img.Config.Architecture != "arm64" {
		t.Fatalf("pull --arch arm64: %v %v", img, err)
	}
	if err := s.RemoveFromList("list", idx.Manifests[0].Digest); err != nil {
		t.Error(err)
	}
	if err := s.DeleteList("list"); err != nil || s.ListExists("list") {
		t.Errorf("DeleteList: %v", err)
	}
}

func TestCommitHistoryPrune(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	base := importBusybox(t, s, "base")
	if _, err := s.CreateContainer(ctx, "ctr1", base.ID, ""); err != nil {
		t.Fatal(err)
	}
	mnt, err := s.Mount("ctr1")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "new-file"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Unmount("ctr1", true); err != nil {
		t.Fatal(err)
	}
	img, err := s.Commit(ctx, "ctr1", CommitOptions{Reference: "committed", Message: "m", Changes: []string{"ENV A=1"}, ImageID: base.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(img.Config.Config.Env, ","), "A=1") || len(img.Config.RootFS.DiffIDs) != 2 {
		t.Errorf("committed config: %+v", img.Config)
	}
	hist, err := s.History(ctx, "committed")
	if err != nil || len(hist) != 2 || hist[0].ID != img.ID || hist[0].Comment != "m" || hist[1].ID != "<missing>" {
		t.Errorf("history: %+v %v", hist, err)
	}
	if _, err := s.Untag(ctx, "committed", []string{"other"}); err == nil {
		t.Errorf("untag of a name the image lacks succeeded")
	}
	if _, err := s.Untag(ctx, "committed", nil); err != nil {
		t.Fatal(err)
	}
	removed, err := s.Prune(ctx, PruneOptions{})
	if err != nil || len(removed) != 1 || removed[0] != img.ID {
		t.Errorf("prune: %v %v", removed, err)
	}
	// base is used by ctr1 (servin's database says so: InUse): even -a
	// keeps it.
	inUse := func(_ context.Context, id string) ([]string, error) {
		if id == base.ID {
			return []string{"ctr1"}, nil
		}
		return nil, nil
	}
	if removed, err := s.Prune(ctx, PruneOptions{All: true, InUse: inUse}); err != nil || len(removed) != 0 {
		t.Errorf("prune -a removed %v (%v) while a container uses the image", removed, err)
	}
}
