package network

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// CreateNS makes a new network namespace with its loopback up and
// bind-mounts it at path, so that it outlives every process in it: CNI
// plugins enter it, the container joins it, and teardown finds it by path
// whatever happened to the container.
func CreateNS(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("creating network namespace file: %w", err)
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		// The thread is left locked: it ends with the goroutine, so the
		// namespace switch never leaks into another goroutine.
		runtime.LockOSThread()
		errc <- enterNewNS(path)
	}()
	if err := <-errc; err != nil {
		_ = os.Remove(path)
		return err
	}
	return nil
}

func enterNewNS(path string) error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("creating network namespace: %w", err)
	}
	src := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
	if err := unix.Mount(src, path, "none", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("mounting network namespace at %s: %w", path, err)
	}
	// This thread is inside the new namespace: bring its loopback up here,
	// which saves running the loopback plugin.
	lo, err := netlinksafe.LinkByName("lo")
	if err == nil {
		err = netlink.LinkSetUp(lo)
	}
	if err != nil {
		_ = unix.Unmount(path, unix.MNT_DETACH)
		return fmt.Errorf("bringing up loopback: %w", err)
	}
	return nil
}

// RemoveNS unmounts and deletes a namespace made by CreateNS. A missing
// or already unmounted one is fine: teardown runs after every kind of exit.
func RemoveNS(path string) error {
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting network namespace %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// IsNSMounted reports whether path has a namespace mounted on it.
func IsNSMounted(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

// NSInUse reports whether a process is inside the namespace mounted at
// path. Teardown unmounts an unused namespace before CNI DEL: the kernel
// then frees its veth on its own, much faster than deleting it by hand
// (which waits for RCU); a namespace still shared with another container
// gets its interfaces deleted explicitly instead.
func NSInUse(path string) bool {
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		return false
	}
	d, err := os.Open("/proc")
	if err != nil {
		return true
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return true
	}
	var st unix.Stat_t
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		if unix.Stat("/proc/"+n+"/ns/net", &st) == nil && st.Ino == want.Ino && st.Dev == want.Dev {
			return true
		}
	}
	return false
}

// HostInterfaces returns the names of the host's network interfaces.
func HostInterfaces() map[string]bool {
	out := map[string]bool{}
	links, err := netlinksafe.LinkList()
	if err != nil {
		return out
	}
	for _, l := range links {
		out[l.Attrs().Name] = true
	}
	return out
}

// HostRoutes returns the destinations of the host's routes, so that a new
// network never takes a subnet the host already reaches another way.
func HostRoutes() []*net.IPNet {
	var out []*net.IPNet
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := netlinksafe.RouteList(nil, fam)
		if err != nil {
			continue
		}
		for _, r := range routes {
			if r.Dst != nil {
				if ones, _ := r.Dst.Mask.Size(); ones == 0 {
					continue
				}
				out = append(out, r.Dst)
			}
		}
	}
	return out
}

// defaultRouteInterface is the interface of the host's IPv4 default route:
// the parent macvlan and ipvlan networks get when none is given.
func defaultRouteInterface() string {
	routes, err := netlinksafe.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return ""
	}
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
				return l.Attrs().Name
			}
		}
	}
	return ""
}

// DeleteLink removes a host interface (a network's bridge) if it exists.
func DeleteLink(name string) error {
	l, err := netlinksafe.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}
	return netlink.LinkDel(l)
}

// BridgeInUse reports whether any interface is enslaved to bridge name:
// a network being removed leaves a bridge alone that containers (of
// another servin store sharing the host) still use.
func BridgeInUse(name string) bool {
	br, err := netlinksafe.LinkByName(name)
	if err != nil {
		return false
	}
	links, err := netlinksafe.LinkList()
	if err != nil {
		return true
	}
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			return true
		}
	}
	return false
}

// LinkExists reports whether a host interface exists.
func LinkExists(name string) bool {
	_, err := netlinksafe.LinkByName(name)
	return err == nil
}
