package state

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/servin/servin/libservin/errdefs"
)

func TestVolumeCRUD(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	v := &Volume{
		Name: "data", Driver: "local", Mountpoint: "/v/data/_data", Created: time.Unix(1700000000, 5),
		Labels: map[string]string{"a": "b"}, Options: map[string]string{"type": "tmpfs"},
		State: VolumeState{NeedsCopyUp: true},
	}
	if err := d.AddVolume(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := d.AddVolume(ctx, v); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := d.AddVolume(ctx, &Volume{Name: "database", Driver: "local", Anonymous: true}); err != nil {
		t.Fatal(err)
	}
	got, err := d.GetVolume(ctx, "data")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "data" || got.Labels["a"] != "b" || got.Options["type"] != "tmpfs" || !got.State.NeedsCopyUp ||
		!got.Created.Equal(v.Created) || got.Mountpoint != v.Mountpoint || got.Anonymous {
		t.Errorf("got %+v", got)
	}
	// "data" is exact even though "database" shares the prefix; "datab" is a unique prefix.
	if got, err := d.GetVolume(ctx, "datab"); err != nil || got.Name != "database" || !got.Anonymous {
		t.Errorf("prefix lookup: %+v %v", got, err)
	}
	if _, err := d.GetVolume(ctx, "dat"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := d.GetVolume(ctx, "nope"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	st := VolumeState{MountHolders: []string{"c1"}}
	if err := d.SaveVolumeState(ctx, "data", st); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.GetVolume(ctx, "data"); len(got.State.MountHolders) != 1 || got.State.NeedsCopyUp {
		t.Errorf("state not saved: %+v", got.State)
	}
	list, err := d.ListVolumes(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "data" {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := d.RemoveVolume(ctx, "database"); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveVolume(ctx, "database"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("second remove: %v", err)
	}
}

// TestVolumeUsers: a used volume cannot be removed, and the link goes
// with the container's row.
func TestVolumeUsers(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	for _, n := range []string{"v1", "v2"} {
		if err := d.AddVolume(ctx, &Volume{Name: n, Driver: "local"}); err != nil {
			t.Fatal(err)
		}
	}
	id := randomID()
	if err := d.AddContainer(ctx, newContainer(id, "c")); err != nil {
		t.Fatal(err)
	}
	if err := d.AddVolumeUsers(ctx, id, []string{"v1", "v2", "v1"}); err != nil {
		t.Fatal(err)
	}
	if err := d.AddVolumeUsers(ctx, id, []string{"nope"}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("linking a missing volume: %v", err)
	}
	if err := d.AddVolumeUsers(ctx, randomID(), []string{"v1"}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("linking a missing container: %v", err)
	}
	users, err := d.VolumeUsers(ctx, "v1")
	if err != nil || len(users) != 1 || users[0] != id {
		t.Fatalf("users %v %v", users, err)
	}
	counts, err := d.VolumeUseCounts(ctx)
	if err != nil || counts["v1"] != 1 || counts["v2"] != 1 {
		t.Fatalf("counts %v %v", counts, err)
	}
	if err := d.RemoveVolume(ctx, "v1"); !errors.Is(err, errdefs.ErrInUse) {
		t.Fatalf("removing a used volume: %v", err)
	}
	if err := d.RemoveContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if users, _ := d.VolumeUsers(ctx, "v1"); len(users) != 0 {
		t.Errorf("links survived the container: %v", users)
	}
	if err := d.RemoveVolume(ctx, "v1"); err != nil {
		t.Errorf("removing a volume no longer used: %v", err)
	}
}

func TestVolumeLocks(t *testing.T) {
	dir := t.TempDir()
	unlock, err := LockVolumeShared(dir, "v")
	if err != nil {
		t.Fatal(err)
	}
	unlock2, err := LockVolumeShared(dir, "v")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		u, err := LockVolume(dir, "v")
		if err == nil {
			u()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("exclusive lock granted while shared locks are held")
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	unlock2()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("exclusive lock not granted after the shared ones were released")
	}
	if _, err := LockVolume(dir, "../x"); err == nil {
		t.Error("a volume name with a slash got a lock file")
	}
	if err := RemoveVolumeLock(dir, "v"); err != nil {
		t.Error(err)
	}
}
