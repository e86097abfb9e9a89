package network

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
)

// cniVersion is the CNI spec version of the configuration lists servin
// writes; the pinned plugins implement it.
const cniVersion = "1.0.0"

// Plugins is the set of CNI plugins servin runs; `make build` builds them.
var Plugins = []string{"bridge", "host-local", "portmap", "firewall", "tuning", "loopback", "macvlan", "ipvlan"}

// CNI runs CNI plugins for servin. Its state (libcni's result cache, the
// host-local leases, tuning's saved settings) lives under StateDir.
type CNI struct {
	PluginDir string
	StateDir  string
	cfg       *libcni.CNIConfig
}

// NewCNI returns a driver running the plugins in pluginDir.
func NewCNI(pluginDir, stateDir string) *CNI {
	exec := &invoke.DefaultExec{
		// Plugins log to stderr (portmap's conntrack notes): keep that off
		// the user's terminal; failures come back in the plugin's result.
		RawExec:       &invoke.RawExec{Stderr: &bytes.Buffer{}},
		PluginDecoder: version.PluginDecoder{},
	}
	return &CNI{
		PluginDir: pluginDir, StateDir: stateDir,
		cfg: libcni.NewCNIConfigWithCacheDir([]string{pluginDir}, filepath.Join(stateDir, "cache"), exec),
	}
}

// IPAMDir is host-local's data directory: <dir>/<network>/<ip> files.
func (c *CNI) IPAMDir() string { return filepath.Join(c.StateDir, "ipam") }

// CheckPlugins reports a missing plugin directory in a way that says how
// to get one.
func (c *CNI) CheckPlugins() error {
	if c.PluginDir == "" {
		return errors.New("no CNI plugin directory: build the plugins with `make build` (bin/cni) or install them in libexec/servin/cni")
	}
	if _, err := os.Stat(filepath.Join(c.PluginDir, "bridge")); err != nil {
		return fmt.Errorf("CNI plugins not found in %s: build them with `make build`: %w", c.PluginDir, err)
	}
	return nil
}

// Attachment is one interface of a container in one network: what ADD
// made and what DEL needs to undo it. It is kept in the container's
// network record until teardown succeeds.
type Attachment struct {
	Network  string          `json:"network"`
	IfName   string          `json:"ifname"`
	ConfList json.RawMessage `json:"conflist"`
	CapArgs  map[string]any  `json:"capabilityArgs,omitempty"`
	// Builtin says servin itself carries out the list, a bridge plugin
	// with host-local IPAM (bridge.go); records without it were set up by
	// the plugin programs and are torn down by them.
	Builtin bool `json:"builtin,omitempty"`
	// Ports are the published ports servin's own firewall rules forward
	// to a Builtin attachment (firewall.go); other attachments publish
	// ports with the portmap plugin of their list.
	Ports []CNIPortMap `json:"ports,omitempty"`
	// Filled by ADD.
	IPs []IPConfig `json:"ips,omitempty"`
	MAC string     `json:"mac,omitempty"`
	// Bridge, Subnets and Internal are copied from the network, so that
	// the firewall rules can be removed after the network is gone.
	Bridge   string   `json:"bridge,omitempty"`
	Subnets  []string `json:"subnets,omitempty"`
	Internal bool     `json:"internal,omitempty"`
}

// IPConfig is one address of an attachment.
type IPConfig struct {
	Address string `json:"address"` // CIDR: 10.89.0.2/16
	Gateway string `json:"gateway,omitempty"`
}

// IP returns the address without its prefix length.
func (c IPConfig) IP() net.IP {
	ip, _, _ := net.ParseCIDR(c.Address)
	return ip
}

// PrefixLen returns the prefix length of the address.
func (c IPConfig) PrefixLen() int {
	_, n, err := net.ParseCIDR(c.Address)
	if err != nil {
		return 0
	}
	ones, _ := n.Mask.Size()
	return ones
}

// AttachOptions are the per-container settings of one attachment.
type AttachOptions struct {
	IfName    string
	StaticIPs []net.IP
	MAC       string
	Ports     []CNIPortMap // published ports: only on the primary network
}

// NewAttachment builds the CNI configuration list of network n for one
// container interface.
func (c *CNI) NewAttachment(n *Network, o AttachOptions) (*Attachment, error) {
	ipam := map[string]any{
		"type":    "host-local",
		"dataDir": c.IPAMDir(),
		"ranges":  ipamRanges(n, len(o.StaticIPs) > 0),
		"routes":  defaultRoutes(n),
	}
	caps := map[string]bool{"ips": true}
	var plugins []map[string]any
	switch n.Driver {
	case DriverBridge:
		caps["mac"] = true
		p := map[string]any{
			"type": "bridge", "bridge": n.NetworkInterface, "isGateway": true,
			// servin's own chains do masquerading (firewall.go).
			"ipMasq": false, "hairpinMode": true, "ipam": ipam, "capabilities": caps,
		}
		if mtu := n.MTU(); mtu > 0 {
			p["mtu"] = mtu
		}
		plugins = append(plugins, p)
	case DriverMacvlan, DriverIPvlan:
		p := map[string]any{"type": n.Driver, "master": n.NetworkInterface, "ipam": ipam, "capabilities": caps}
		if mode := n.Options["mode"]; mode != "" {
			p["mode"] = mode
		}
		if mtu := n.MTU(); mtu > 0 {
			p["mtu"] = mtu
		}
		plugins = append(plugins, p)
		if o.MAC != "" {
			plugins = append(plugins, map[string]any{
				"type": "tuning", "dataDir": filepath.Join(c.StateDir, "tuning"),
				"capabilities": map[string]bool{"mac": true},
			})
		}
	default:
		return nil, fmt.Errorf("network %s: unsupported driver %s", n.Name, n.Driver)
	}
	args := map[string]any{}
	var ports []CNIPortMap
	if len(o.Ports) > 0 && n.Driver == DriverBridge {
		ports = o.Ports
	} else if len(o.Ports) > 0 {
		plugins = append(plugins, map[string]any{
			"type": "portmap", "backend": "iptables", "snat": true,
			"capabilities": map[string]bool{"portMappings": true},
		})
		args["portMappings"] = o.Ports
	}
	if len(o.StaticIPs) > 0 {
		var ips []string
		for _, ip := range o.StaticIPs {
			ips = append(ips, ip.String())
		}
		args["ips"] = ips
	}
	if o.MAC != "" {
		args["mac"] = o.MAC
	}
	list, err := json.Marshal(map[string]any{"cniVersion": cniVersion, "name": n.Name, "plugins": plugins})
	if err != nil {
		return nil, err
	}
	a := &Attachment{Network: n.Name, IfName: o.IfName, ConfList: list, CapArgs: args, Internal: n.Internal}
	if n.Driver == DriverBridge {
		a.Bridge = n.NetworkInterface
		a.Builtin = true
		a.Ports = ports
	}
	for _, s := range n.Subnets {
		a.Subnets = append(a.Subnets, s.Subnet)
	}
	return a, nil
}

type ipamRange struct {
	Subnet     string `json:"subnet"`
	Gateway    string `json:"gateway,omitempty"`
	RangeStart string `json:"rangeStart,omitempty"`
	RangeEnd   string `json:"rangeEnd,omitempty"`
}

// ipamRanges are host-local's ranges: one set per subnet, so a dual-stack
// network gives an address of each family. A static address may lie
// outside --ip-range (which only bounds dynamic ones), so a container with
// one gets the whole subnets.
func ipamRanges(n *Network, static bool) [][]ipamRange {
	var out [][]ipamRange
	for _, s := range n.Subnets {
		r := ipamRange{Subnet: s.Subnet, Gateway: s.Gateway}
		if s.LeaseRange != nil && !static {
			r.RangeStart, r.RangeEnd = s.LeaseRange.StartIP, s.LeaseRange.EndIP
		}
		out = append(out, []ipamRange{r})
	}
	return out
}

// defaultRoutes sends everything through the gateways, except on an
// internal network, whose containers get no route out at all.
func defaultRoutes(n *Network) []map[string]string {
	out := []map[string]string{}
	if n.Internal {
		return out
	}
	for _, s := range n.Subnets {
		if s.Gateway == "" {
			continue
		}
		if strings.Contains(s.Subnet, ":") {
			out = append(out, map[string]string{"dst": "::/0"})
		} else {
			out = append(out, map[string]string{"dst": "0.0.0.0/0"})
		}
	}
	return out
}

func (c *CNI) runtimeConf(containerID, netns string, a *Attachment) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{
		ContainerID: containerID, NetNS: netns, IfName: a.IfName,
		Args:           [][2]string{{"IgnoreUnknown", "1"}},
		CapabilityArgs: a.CapArgs,
	}
}

// Add runs CNI ADD for the attachment and records the addresses it got.
func (c *CNI) Add(ctx context.Context, containerID, netns string, a *Attachment) error {
	list, err := libcni.NetworkConfFromBytes(a.ConfList)
	if err != nil {
		return err
	}
	var r *current.Result
	if a.Builtin {
		if r, err = c.addBuiltin(containerID, netns, list, a); err != nil {
			return fmt.Errorf("setting up network %s: %w", a.Network, err)
		}
	} else {
		res, err := c.cfg.AddNetworkList(ctx, list, c.runtimeConf(containerID, netns, a))
		if err != nil {
			return fmt.Errorf("setting up network %s: %w", a.Network, err)
		}
		if r, err = current.NewResultFromResult(res); err != nil {
			return err
		}
	}
	a.IPs = nil
	for _, ip := range r.IPs {
		c := IPConfig{Address: ip.Address.String()}
		if ip.Gateway != nil {
			c.Gateway = ip.Gateway.String()
		}
		a.IPs = append(a.IPs, c)
	}
	for _, iface := range r.Interfaces {
		if iface.Sandbox != "" && iface.Name == a.IfName {
			a.MAC = iface.Mac
		}
	}
	return nil
}

// Del runs CNI DEL for the attachment. DEL is idempotent: a namespace or
// lease that is already gone is fine. When the list fails part-way, each
// plugin is still asked on its own, so one broken plugin does not keep
// the others' resources alive.
func (c *CNI) Del(ctx context.Context, containerID, netns string, a *Attachment) error {
	list, err := libcni.NetworkConfFromBytes(a.ConfList)
	if err != nil {
		return err
	}
	if netns != "" && !IsNSMounted(netns) {
		// The plugins would fail to enter it; without one they release
		// addresses and rules only (the veth went with the namespace).
		netns = ""
		if !a.Builtin {
			if list, err = withoutNamespace(list); err != nil {
				return err
			}
		}
	}
	if a.Builtin {
		if err := c.delBuiltin(containerID, netns, list, a); err != nil {
			return fmt.Errorf("tearing down network %s: %w", a.Network, err)
		}
		return nil
	}
	rt := c.runtimeConf(containerID, netns, a)
	err = c.cfg.DelNetworkList(ctx, list, rt)
	if err == nil {
		return nil
	}
	var errs []error
	for i := len(list.Plugins) - 1; i >= 0; i-- {
		p, perr := libcni.InjectConf(list.Plugins[i], map[string]any{"name": list.Name, "cniVersion": list.CNIVersion})
		if perr == nil {
			perr = c.cfg.DelNetwork(ctx, p, rt)
		}
		if perr != nil {
			errs = append(errs, perr)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("tearing down network %s: %w", a.Network, errors.Join(err, errors.Join(errs...)))
}

// withoutNamespace rewrites a list for DEL once the namespace is gone: the
// bridge plugin's DEL without a namespace does nothing but run its IPAM
// plugin's DEL with the same configuration (servin never enables its
// ipMasq or macspoofchk), so servin runs host-local on that configuration
// directly and saves starting the bridge plugin.
func withoutNamespace(list *libcni.NetworkConfigList) (*libcni.NetworkConfigList, error) {
	out := *list
	out.Plugins = nil
	for _, p := range list.Plugins {
		if p.Network.Type == "bridge" && p.Network.IPAM.Type == "host-local" {
			q, err := libcni.InjectConf(p, map[string]any{"type": "host-local"})
			if err != nil {
				return nil, err
			}
			p = q
		}
		out.Plugins = append(out.Plugins, p)
	}
	return &out, nil
}

// Leases returns the host-local lease files that name containerID, for
// leak checks and for network removal.
func (c *CNI) Leases(network string) map[string]string {
	out := map[string]string{}
	dir := filepath.Join(c.IPAMDir(), network)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), "last_reserved_ip") || e.Name() == "lock" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil {
			id, _, _ := strings.Cut(string(b), "\n")
			out[e.Name()] = strings.TrimSpace(id)
		}
	}
	return out
}

// RemoveNetworkState deletes the leases directory of a removed network.
func (c *CNI) RemoveNetworkState(network string) error {
	return os.RemoveAll(filepath.Join(c.IPAMDir(), network))
}

// ReloadPorts re-runs the portmap plugin of an attachment (network
// reload): ADD with the cached result of the list as its previous result
// puts the port mappings back after a firewall flush.
func (c *CNI) ReloadPorts(ctx context.Context, containerID, netns string, a *Attachment) error {
	list, err := libcni.NetworkConfFromBytes(a.ConfList)
	if err != nil {
		return err
	}
	rt := c.runtimeConf(containerID, netns, a)
	for _, p := range list.Plugins {
		if p.Network.Type != "portmap" {
			continue
		}
		prev, err := c.cfg.GetNetworkListCachedResult(list, rt)
		if err != nil || prev == nil {
			return fmt.Errorf("network %s: no cached result to reload ports from: %v", a.Network, err)
		}
		conf, err := libcni.InjectConf(p, map[string]any{"name": list.Name, "cniVersion": list.CNIVersion, "prevResult": prev})
		if err != nil {
			return err
		}
		if _, err := c.cfg.AddNetwork(ctx, conf, rt); err != nil {
			return fmt.Errorf("reloading ports of network %s: %w", a.Network, err)
		}
	}
	return nil
}
