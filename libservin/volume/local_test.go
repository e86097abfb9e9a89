//go:build linux

package volume

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/sys/mountinfo"

	"github.com/servin/servin/libservin/errdefs"
)

func requiresRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

func TestLocalOptions(t *testing.T) {
	dir := t.TempDir()
	bad := []map[string]string{
		{"colour": "blue"},
		{"device": "/dev/sda"},
		{"type": "none", "device": dir}, // no o=bind
		{"type": "none", "o": "bind", "device": "rel"},
		{"type": "none", "o": "bind", "device": filepath.Join(dir, "missing")},
		{"type": "ext4"},  // no device
		{"o": "size=10m"}, // quota needs a type
		{"o": "uid=abc"},
		{"type": "tmpfs", "o": "colour=blue"},
	}
	l := NewLocal(t.TempDir())
	for _, o := range bad {
		err := l.Create(context.Background(), &Volume{Name: "v", Options: o})
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%v: got %v, want ErrInvalidArgument", o, err)
		}
	}
	if err := l.Create(context.Background(), &Volume{Name: "../x"}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad name: %v", err)
	}
}

func TestLocalCreateRemove(t *testing.T) {
	requiresRoot(t)
	ctx := context.Background()
	l := NewLocal(filepath.Join(t.TempDir(), "volumes"))
	v := &Volume{Name: "data", Options: map[string]string{"o": "uid=1000,gid=1001"}}
	if err := l.Create(ctx, v); err != nil {
		t.Fatal(err)
	}
	if v.Mountpoint != filepath.Join(l.Dir(), "data", "_data") {
		t.Errorf("mountpoint %s", v.Mountpoint)
	}
	fi, err := os.Stat(v.Mountpoint)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 1000 || st.Gid != 1001 {
		t.Errorf("o=uid=1000,gid=1001: owner %d:%d", st.Uid, st.Gid)
	}
	if p, err := l.Mount(ctx, v, "c1"); err != nil || p != v.Mountpoint {
		t.Errorf("mount of a plain volume: %s %v", p, err)
	}
	if err := l.Remove(ctx, v); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(l.Dir(), "data")); !os.IsNotExist(err) {
		t.Errorf("volume directory left behind: %v", err)
	}
}

// TestLocalBindNeverDeletesHostData: removing a bind-type volume must not
// delete the bound host directory's content, even when it is mounted.
func TestLocalBindNeverDeletesHostData(t *testing.T) {
	requiresRoot(t)
	ctx := context.Background()
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "precious"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := NewLocal(filepath.Join(t.TempDir(), "volumes"))
	v := &Volume{Name: "b", Options: map[string]string{"type": "none", "o": "bind", "device": host}}
	if err := l.Create(ctx, v); err != nil {
		t.Fatal(err)
	}
	p, err := l.Mount(ctx, v, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p, "precious")); err != nil {
		t.Fatalf("bind not visible: %v", err)
	}
	if _, err := l.Mount(ctx, v, "c2"); err != nil { // idempotent
		t.Fatal(err)
	}
	if err := l.Remove(ctx, v); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(host, "precious")); err != nil {
		t.Fatalf("removing the volume deleted host data: %v", err)
	}
}

func TestLocalTmpfs(t *testing.T) {
	requiresRoot(t)
	ctx := context.Background()
	l := NewLocal(filepath.Join(t.TempDir(), "volumes"))
	v := &Volume{Name: "t", Options: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m,mode=0700"}}
	if err := l.Create(ctx, v); err != nil {
		t.Fatal(err)
	}
	p, err := l.Mount(ctx, v, "c1")
	if err != nil {
		t.Fatal(err)
	}
	mounts, _ := mountinfo.GetMounts(mountinfo.SingleEntryFilter(p))
	if len(mounts) != 1 || mounts[0].FSType != "tmpfs" || !strings.Contains(mounts[0].VFSOptions, "size=1024k") {
		t.Fatalf("mounts at %s: %+v", p, mounts)
	}
	if err := l.Unmount(ctx, v, "c1"); err != nil {
		t.Fatal(err)
	}
	if m, _ := mountinfo.Mounted(p); m {
		t.Fatal("still mounted")
	}
	if err := l.Remove(ctx, v); err != nil {
		t.Fatal(err)
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry(NewLocal(t.TempDir()))
	if d, err := r.Get(""); err != nil || d.Name() != "local" {
		t.Fatalf("default driver: %v %v", d, err)
	}
	if _, err := r.Get("nfs"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("unknown driver: %v", err)
	}
	if err := r.Register(NewLocal(t.TempDir())); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("double registration: %v", err)
	}
}
