package libservin

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/volume"
)

// fakeDriver keeps its volumes in directories below dir.
type fakeDriver struct{ dir string }

func (d *fakeDriver) Name() string  { return "fake" }
func (d *fakeDriver) Scope() string { return "local" }
func (d *fakeDriver) Create(_ context.Context, v *volume.Volume) error {
	v.Mountpoint = filepath.Join(d.dir, v.Name)
	return nil
}
func (d *fakeDriver) Remove(context.Context, *volume.Volume) error { return nil }
func (d *fakeDriver) Mount(_ context.Context, v *volume.Volume, _ string) (string, error) {
	return v.Mountpoint, nil
}
func (d *fakeDriver) Unmount(context.Context, *volume.Volume, string) error { return nil }

// TestVolumeDriverOption: MountOptions.VolumeDriver (--volume-driver)
// picks the driver of the named and anonymous volumes a container
// creates; --mount's volume-driver wins; an unknown driver is refused.
func TestVolumeDriverOption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := New(ctx, Options{Root: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run")})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.RegisterVolumeDriver(&fakeDriver{dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	p, err := r.planMounts(ctx, &MountOptions{
		Volumes:      []string{"named:/a", "/anon"},
		Mounts:       []string{"type=volume,source=bymount,target=/m,volume-driver=local"},
		VolumeDriver: "fake",
	}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.commit()
	p.release(ctx)
	if len(p.mounts) != 3 {
		t.Fatalf("mounts: %+v", p.mounts)
	}
	want := map[string]string{"/a": "fake", "/anon": "fake", "/m": "local"}
	for _, m := range p.mounts {
		v, err := r.Volume(ctx, m.Source)
		if err != nil {
			t.Fatalf("%s: %v", m.Destination, err)
		}
		if v.Driver != want[m.Destination] {
			t.Errorf("volume at %s has driver %q, want %q", m.Destination, v.Driver, want[m.Destination])
		}
	}

	_, err = r.planMounts(ctx, &MountOptions{Volumes: []string{"other:/a"}, VolumeDriver: "nosuch"}, false, nil)
	if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("unknown driver: %v", err)
	}
	if ok, _ := r.VolumeExists(ctx, "other"); ok {
		t.Error("a volume was made with an unknown driver")
	}
}
