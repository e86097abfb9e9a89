package network

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
)

// TestBuiltinBridge sets up and tears down bridge attachments in-process,
// in a namespace and on a bridge of the test's own (root only).
func TestBuiltinBridge(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	id := os.Getpid() % 0x10000
	prefix := fmt.Sprintf("10.199.%d", id%250)
	n := &Network{
		Name: fmt.Sprintf("unit%04x", id), Driver: DriverBridge, NetworkInterface: fmt.Sprintf("svunit%04x", id),
		Subnets: []Subnet{{Subnet: prefix + ".0/24", Gateway: prefix + ".1"}},
	}
	t.Cleanup(func() { _ = DeleteLink(n.NetworkInterface) })
	dir := t.TempDir()
	nsPath := filepath.Join(dir, "ns")
	if err := CreateNS(nsPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = RemoveNS(nsPath) })
	c := NewCNI("", filepath.Join(dir, "state"))
	ctx := context.Background()

	a, err := c.NewAttachment(n, AttachOptions{IfName: "eth0", StaticIPs: []net.IP{net.ParseIP(prefix + ".5")}, MAC: "02:42:ac:11:00:05"})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Builtin {
		t.Fatalf("a bridge attachment is not built-in")
	}
	if err := c.Add(ctx, "ctr1", nsPath, a); err != nil {
		t.Fatal(err)
	}
	if len(a.IPs) != 1 || a.IPs[0].Address != prefix+".5/24" || a.IPs[0].Gateway != prefix+".1" || a.MAC != "02:42:ac:11:00:05" {
		t.Errorf("attachment after ADD: %+v", a)
	}
	if got := c.Leases(n.Name)[prefix+".5"]; got != "ctr1" {
		t.Errorf("lease of %s.5 held by %q, want ctr1", prefix, got)
	}
	br, err := netlinksafe.LinkByName(n.NetworkInterface)
	if err != nil {
		t.Fatal(err)
	}
	addrs, _ := netlinksafe.AddrList(br, netlink.FAMILY_V4)
	if len(addrs) != 1 || addrs[0].IPNet.String() != prefix+".1/24" {
		t.Errorf("bridge addresses: %v", addrs)
	}
	routes := inNS(t, nsPath, func() string {
		rs, err := netlinksafe.RouteList(nil, netlink.FAMILY_V4)
		if err != nil {
			return err.Error()
		}
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%v via %v", r.Dst, r.Gw))
		}
		return strings.Join(out, "; ")
	})
	if !strings.Contains(routes, "<nil> via "+prefix+".1") && !strings.Contains(routes, "0.0.0.0/0 via "+prefix+".1") {
		t.Errorf("no default route through the gateway in the namespace: %s", routes)
	}

	// Published ports of a bridge attachment are servin's own rules, not
	// the portmap plugin's.
	withPorts, err := c.NewAttachment(n, AttachOptions{IfName: "eth0", Ports: []CNIPortMap{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(withPorts.ConfList), "portmap") || len(withPorts.Ports) != 1 {
		t.Errorf("bridge attachment with ports: %s, ports %v", withPorts.ConfList, withPorts.Ports)
	}

	// The same static address for another container fails and holds nothing.
	b, err := c.NewAttachment(n, AttachOptions{IfName: "eth1", StaticIPs: []net.IP{net.ParseIP(prefix + ".5")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Add(ctx, "ctr2", nsPath, b); err == nil {
		t.Errorf("a second ADD of the same static address succeeded")
	}
	for ip, holder := range c.Leases(n.Name) {
		if holder == "ctr2" {
			t.Errorf("failed ADD left lease %s", ip)
		}
	}
	if got := inNS(t, nsPath, linkNames); got != "eth0 lo" {
		t.Errorf("links after the failed ADD: %q", got)
	}

	// DEL with the namespace still there removes the interface and lease.
	if err := c.Del(ctx, "ctr1", nsPath, a); err != nil {
		t.Fatal(err)
	}
	if got := inNS(t, nsPath, linkNames); got != "lo" {
		t.Errorf("links after DEL: %q", got)
	}
	if len(c.Leases(n.Name)) != 0 {
		t.Errorf("leases after DEL: %v", c.Leases(n.Name))
	}
	// DEL is idempotent, also once the namespace is gone.
	if err := RemoveNS(nsPath); err != nil {
		t.Fatal(err)
	}
	if err := c.Del(ctx, "ctr1", nsPath, a); err != nil {
		t.Errorf("second DEL: %v", err)
	}
}

func linkNames() string {
	ls, err := netlinksafe.LinkList()
	if err != nil {
		return err.Error()
	}
	var names []string
	for _, l := range ls {
		names = append(names, l.Attrs().Name)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// inNS runs f in the namespace mounted at path.
func inNS(t *testing.T, path string, f func() string) string {
	t.Helper()
	var out string
	if err := ns.WithNetNSPath(path, func(ns.NetNS) error { out = f(); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}
