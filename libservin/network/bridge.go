package network

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/ip"
	"github.com/containernetworking/plugins/pkg/ipam"
	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/utils/sysctl"
	"github.com/containernetworking/plugins/plugins/ipam/host-local/backend/allocator"
	"github.com/containernetworking/plugins/plugins/ipam/host-local/backend/disk"
	"github.com/vishvananda/netlink"
)

// servin carries out a bridge network's configuration list itself
// (Attachment.Builtin): the bridge plugin with host-local as its IPAM.
// Starting those two programs was most of what a container's network
// setup cost, while the work they do is a handful of netlink calls and a
// lease file. The configuration stays the bridge plugin's, read with the
// same meaning, and the leases are host-local's files, taken and released
// through host-local's own allocator package, so the plugin programs can
// still tear down what older servin versions set up with them, in the
// same lease directories. Published ports are servin's own firewall rules
// (firewall.go) rather than the portmap plugin's.

// bridgeConf is the part of the bridge plugin's configuration servin acts
// on; NewAttachment writes nothing else.
type bridgeConf struct {
	Bridge      string `json:"bridge"`
	IsGateway   bool   `json:"isGateway"`
	HairpinMode bool   `json:"hairpinMode"`
	MTU         int    `json:"mtu"`
	IPAM        struct {
		Type string `json:"type"`
	} `json:"ipam"`
}

// builtinConf decodes the list's bridge plugin and the IPAM configuration
// it carries, with the container's requested addresses (runtimeConfig.ips,
// as libcni would inject them) among the IPAM arguments.
func builtinConf(list *libcni.NetworkConfigList, a *Attachment) (*bridgeConf, *allocator.IPAMConfig, error) {
	if len(list.Plugins) != 1 || list.Plugins[0].Network.Type != "bridge" {
		return nil, nil, errors.New("the built-in driver takes a single bridge plugin")
	}
	p := list.Plugins[0]
	var bc bridgeConf
	if err := json.Unmarshal(p.Bytes, &bc); err != nil {
		return nil, nil, err
	}
	if bc.IPAM.Type != "host-local" {
		return nil, nil, fmt.Errorf("the built-in driver needs host-local IPAM, not %q", bc.IPAM.Type)
	}
	inject := map[string]any{"name": list.Name, "cniVersion": list.CNIVersion}
	if ips, ok := a.CapArgs["ips"]; ok {
		inject["runtimeConfig"] = map[string]any{"ips": ips}
	}
	conf, err := libcni.InjectConf(p, inject)
	if err != nil {
		return nil, nil, err
	}
	ic, _, err := allocator.LoadIPAMConfig(conf.Bytes, "")
	if err != nil {
		return nil, nil, err
	}
	return &bc, ic, nil
}

// addBuiltin sets up the attachment's interface: a lease per subnet, the
// bridge with its gateway addresses, a veth pair with its container end
// in the namespace, addressed and routed. It returns the result the
// bridge plugin would have printed.
func (c *CNI) addBuiltin(containerID, netnsPath string, list *libcni.NetworkConfigList, a *Attachment) (*current.Result, error) {
	bc, ic, err := builtinConf(list, a)
	if err != nil {
		return nil, err
	}
	ips, err := allocate(ic, containerID, a.IfName)
	if err != nil {
		return nil, err
	}
	res, err := c.plumb(bc, ips, ic.Routes, netnsPath, a)
	if err != nil {
		_ = release(ic, containerID, a.IfName)
		return nil, err
	}
	return res, nil
}

// allocate takes one address from each range set, the requested ones where
// given, as host-local's ADD does; on failure nothing stays taken.
func allocate(ic *allocator.IPAMConfig, containerID, ifName string) ([]*current.IPConfig, error) {
	store, err := disk.New(ic.Name, ic.DataDir)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	requested := map[string]net.IP{}
	for _, r := range ic.IPArgs {
		requested[r.String()] = r
	}
	var out []*current.IPConfig
	for idx := range ic.Ranges {
		rs := &ic.Ranges[idx]
		var want net.IP
		for k, r := range requested {
			if rs.Contains(r) {
				want = r
				delete(requested, k)
				break
			}
		}
		ipc, err := allocator.NewIPAllocator(rs, store, idx).Get(containerID, ifName, want)
		if err != nil {
			_ = store.ReleaseByID(containerID, ifName)
			return nil, fmt.Errorf("failed to allocate for range %d: %w", idx, err)
		}
		out = append(out, ipc)
	}
	if len(requested) > 0 {
		_ = store.ReleaseByID(containerID, ifName)
		var left []string
		for k := range requested {
			left = append(left, k)
		}
		return nil, fmt.Errorf("failed to allocate all requested IPs: %s", strings.Join(left, " "))
	}
	return out, nil
}

// release gives back every lease of the interface (host-local's DEL).
func release(ic *allocator.IPAMConfig, containerID, ifName string) error {
	store, err := disk.New(ic.Name, ic.DataDir)
	if err != nil {
		return err
	}
	defer store.Close()
	var errs []error
	for idx := range ic.Ranges {
		if err := allocator.NewIPAllocator(&ic.Ranges[idx], store, idx).Release(containerID, ifName); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// plumb builds the interface for addresses already leased.
func (c *CNI) plumb(bc *bridgeConf, ips []*current.IPConfig, routes []*types.Route, netnsPath string, a *Attachment) (*current.Result, error) {
	br, err := ensureBridge(bc.Bridge, bc.MTU)
	if err != nil {
		return nil, err
	}
	res := &current.Result{CNIVersion: current.ImplementedSpecVersion, Routes: routes}
	gateways := map[int][]net.IPNet{}
	for _, ipc := range ips {
		ipc.Interface = current.Int(2)
		if ipc.Gateway == nil && bc.IsGateway {
			ipc.Gateway = ip.NextIP(ipc.Address.IP.Mask(ipc.Address.Mask))
		}
		if bc.IsGateway && ipc.Gateway != nil {
			fam := netlink.FAMILY_V6
			if ipc.Address.IP.To4() != nil {
				fam = netlink.FAMILY_V4
			}
			gateways[fam] = append(gateways[fam], net.IPNet{IP: ipc.Gateway, Mask: ipc.Address.Mask})
		}
		res.IPs = append(res.IPs, ipc)
	}
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		for _, gw := range gateways[fam] {
			if err := ensureAddr(br, fam, &gw); err != nil {
				return nil, err
			}
		}
		if len(gateways[fam]) > 0 {
			if err := enableForwarding(fam); err != nil {
				return nil, err
			}
		}
	}
	if err := pinMAC(br); err != nil {
		return nil, err
	}
	mac, _ := a.CapArgs["mac"].(string)
	netns, err := ns.GetNS(netnsPath)
	if err != nil {
		return nil, fmt.Errorf("opening network namespace %s: %w", netnsPath, err)
	}
	defer netns.Close()
	var hostIf, ctrIf net.Interface
	err = netns.Do(func(hostNS ns.NetNS) error {
		var err error
		hostIf, ctrIf, err = ip.SetupVeth(a.IfName, bc.MTU, mac, hostNS)
		if err != nil {
			return err
		}
		// As the bridge plugin: no duplicate address detection (the
		// addresses are leased), announce the address on link up.
		_, _ = sysctl.Sysctl(fmt.Sprintf("net/ipv6/conf/%s/accept_dad", a.IfName), "0")
		_, _ = sysctl.Sysctl(fmt.Sprintf("net/ipv4/conf/%s/arp_notify", a.IfName), "1")
		res.Interfaces = []*current.Interface{
			{Name: br.Attrs().Name},
			{Name: hostIf.Name},
			{Name: ctrIf.Name, Mac: ctrIf.HardwareAddr.String(), Sandbox: netnsPath},
		}
		return ipam.ConfigureIface(a.IfName, res)
	})
	if err != nil {
		return nil, err
	}
	hostVeth, err := enslave(hostIf.Name, br, bc.HairpinMode)
	if err != nil {
		return nil, err
	}
	res.Interfaces[1].Mac = hostVeth.Attrs().HardwareAddr.String()
	if len(a.Ports) > 0 && hasIPv4(ips) {
		// Connections from 127.0.0.1 to a published port leave through
		// the bridge (firewall.go): the kernel must not drop them as
		// martians.
		if _, err := sysctl.Sysctl("net/ipv4/conf/"+bc.Bridge+"/route_localnet", "1"); err != nil {
			return nil, fmt.Errorf("enabling route_localnet on %s: %w", bc.Bridge, err)
		}
	}
	if b, err := netlinksafe.LinkByName(bc.Bridge); err == nil {
		res.Interfaces[0].Mac = b.Attrs().HardwareAddr.String()
	}
	return res, nil
}

func hasIPv4(ips []*current.IPConfig) bool {
	for _, ipc := range ips {
		if ipc.Address.IP.To4() != nil {
			return true
		}
	}
	return false
}

// ensureBridge returns the bridge, creating it (with the network's MTU)
// and bringing it up when needed.
func ensureBridge(name string, mtu int) (*netlink.Bridge, error) {
	l, err := netlinksafe.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if !errors.As(err, &nf) {
			return nil, fmt.Errorf("looking up bridge %s: %w", name, err)
		}
		attrs := netlink.NewLinkAttrs()
		attrs.Name, attrs.MTU = name, mtu
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil && !errors.Is(err, syscall.EEXIST) {
			return nil, fmt.Errorf("creating bridge %s: %w", name, err)
		}
		// servin owns the bridge's routes.
		_, _ = sysctl.Sysctl(fmt.Sprintf("net/ipv6/conf/%s/accept_ra", name), "0")
		if l, err = netlinksafe.LinkByName(name); err != nil {
			return nil, fmt.Errorf("looking up bridge %s: %w", name, err)
		}
	}
	br, ok := l.(*netlink.Bridge)
	if !ok {
		return nil, fmt.Errorf("%q already exists but is not a bridge", name)
	}
	if br.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(br); err != nil {
			return nil, fmt.Errorf("bringing up bridge %s: %w", name, err)
		}
	}
	return br, nil
}

// ensureAddr gives the bridge a gateway address. Like the bridge plugin it
// refuses a bridge that has another IPv4 address, or an IPv6 one
// overlapping the subnet.
func ensureAddr(br netlink.Link, family int, gw *net.IPNet) error {
	addrs, err := netlinksafe.AddrList(br, family)
	if err != nil && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("listing the addresses of %s: %w", br.Attrs().Name, err)
	}
	for _, a := range addrs {
		if a.IPNet.String() == gw.String() {
			return nil
		}
		if family == netlink.FAMILY_V4 || a.IPNet.Contains(gw.IP) || gw.Contains(a.IPNet.IP) {
			return fmt.Errorf("%q already has an IP address different from %v", br.Attrs().Name, gw)
		}
	}
	if err := netlink.AddrAdd(br, &netlink.Addr{IPNet: gw}); err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("adding %s to %s: %w", gw, br.Attrs().Name, err)
	}
	return nil
}

// pinMAC sets the bridge's MAC address explicitly, once: otherwise the
// kernel gives it the lowest one of its ports, so the gateway's address
// would change under the containers as they come and go.
func pinMAC(br netlink.Link) error {
	name := br.Attrs().Name
	if v, err := os.ReadFile("/sys/class/net/" + name + "/addr_assign_type"); err == nil && strings.TrimSpace(string(v)) == "3" {
		return nil // NET_ADDR_SET: pinned already
	}
	hw := br.Attrs().HardwareAddr
	if len(hw) != 6 || isZeroMAC(hw) {
		// A bridge without ports may have none: a random local one.
		hw = make(net.HardwareAddr, 6)
		if _, err := rand.Read(hw); err != nil {
			return err
		}
		hw[0] = hw[0]&0xfe | 0x02
	}
	if err := netlink.LinkSetHardwareAddr(br, hw); err != nil {
		return fmt.Errorf("setting the MAC address of %s: %w", name, err)
	}
	return nil
}

func isZeroMAC(hw net.HardwareAddr) bool {
	for _, b := range hw {
		if b != 0 {
			return false
		}
	}
	return true
}

func enableForwarding(family int) error {
	if family == netlink.FAMILY_V4 {
		return ip.EnableIP4Forward()
	}
	return ip.EnableIP6Forward()
}

// enslave attaches the host end of a veth to the bridge and waits, as the
// bridge plugin does, until the port is up.
func enslave(name string, br *netlink.Bridge, hairpin bool) (netlink.Link, error) {
	l, err := netlinksafe.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("looking up %s: %w", name, err)
	}
	if err := netlink.LinkSetMaster(l, br); err != nil {
		return nil, fmt.Errorf("connecting %s to bridge %s: %w", name, br.Attrs().Name, err)
	}
	if hairpin {
		if err := netlink.LinkSetHairpin(l, true); err != nil {
			return nil, fmt.Errorf("setting hairpin mode on %s: %w", name, err)
		}
	}
	for _, wait := range []time.Duration{0, 50, 500, 1000, 1000} {
		time.Sleep(wait * time.Millisecond)
		if l, err = netlinksafe.LinkByName(name); err != nil {
			return nil, err
		}
		if l.Attrs().OperState == netlink.OperUp {
			return l, nil
		}
	}
	return nil, fmt.Errorf("bridge port %s in state %s", name, l.Attrs().OperState)
}

// delBuiltin undoes addBuiltin: the container's interface when the
// namespace is still there (the kernel deletes it with the namespace
// otherwise), then the leases.
func (c *CNI) delBuiltin(containerID, netnsPath string, list *libcni.NetworkConfigList, a *Attachment) error {
	_, ic, err := builtinConf(list, a)
	if err != nil {
		return err
	}
	var errs []error
	if netnsPath != "" {
		err := ns.WithNetNSPath(netnsPath, func(ns.NetNS) error {
			if err := ip.DelLinkByName(a.IfName); err != nil && !errors.Is(err, ip.ErrLinkNotFound) {
				return err
			}
			return nil
		})
		var gone ns.NSPathNotExistErr
		if err != nil && !errors.As(err, &gone) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", a.IfName, err))
		}
	}
	if err := release(ic, containerID, a.IfName); err != nil {
		errs = append(errs, fmt.Errorf("releasing the addresses of %s: %w", a.IfName, err))
	}
	return errors.Join(errs...)
}
