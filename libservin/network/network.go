// Package network owns servin's container networking: network definitions
// (bridge, macvlan, ipvlan) and their CNI configuration lists, the network
// namespaces servin creates for containers, the CNI ADD/DEL calls through
// libcni (a bridge network's bridge and host-local steps are carried out
// in-process, see bridge.go), servin's own firewall chains, port mapping
// specs, the /etc/hosts and /etc/resolv.conf a container sees, and the
// per-network DNS responder.
//
// It knows nothing of containers' lifecycles or of the state store:
// libservin (network.go) decides when a container attaches and detaches and
// records the outcome. All CNI state lives under servin's own run root:
// libcni's cache, host-local's leases and tuning's saved settings.
package network

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/servin/servin/libservin/errdefs"
)

// Drivers.
const (
	DriverBridge  = "bridge"
	DriverMacvlan = "macvlan"
	DriverIPvlan  = "ipvlan"
)

// The default network: created on first use, bridge servin0. Its subnet is
// clear of podman's 10.88.0.0/16, and new networks take /24s from
// 10.90.0.0/15 so that they never overlap it.
const (
	DefaultName   = "servin"
	DefaultBridge = "servin0"
	DefaultSubnet = "10.89.0.0/16"
	poolStart     = "10.90.0.0"
	poolSize      = 512 // /24s in 10.90.0.0/15
	bridgePrefix  = "servin"
)

// Network is a network's definition, stored as JSON and shown by `network
// inspect` in podman's shape.
type Network struct {
	Name             string            `json:"name"`
	ID               string            `json:"id"`
	Driver           string            `json:"driver"`
	NetworkInterface string            `json:"network_interface,omitempty"`
	Created          time.Time         `json:"created"`
	Subnets          []Subnet          `json:"subnets,omitempty"`
	IPv6Enabled      bool              `json:"ipv6_enabled"`
	Internal         bool              `json:"internal"`
	DNSEnabled       bool              `json:"dns_enabled"`
	DNSServers       []string          `json:"network_dns_servers,omitempty"`
	Labels           map[string]string `json:"labels,omitempty"`
	Options          map[string]string `json:"options,omitempty"`
	IPAMOptions      map[string]string `json:"ipam_options,omitempty"`
}

// Subnet is one address range of a network.
type Subnet struct {
	Subnet     string      `json:"subnet"`
	Gateway    string      `json:"gateway,omitempty"`
	LeaseRange *LeaseRange `json:"lease_range,omitempty"`
}

// LeaseRange narrows the addresses handed out (--ip-range).
type LeaseRange struct {
	StartIP string `json:"start_ip,omitempty"`
	EndIP   string `json:"end_ip,omitempty"`
}

// MTU returns the mtu option, 0 when unset.
func (n *Network) MTU() int {
	v, _ := strconv.Atoi(n.Options["mtu"])
	return v
}

// Gateways returns the gateway address of each subnet that has one.
func (n *Network) Gateways() []net.IP {
	var out []net.IP
	for _, s := range n.Subnets {
		if ip := net.ParseIP(s.Gateway); ip != nil {
			out = append(out, ip)
		}
	}
	return out
}

// Contains reports whether ip is in one of the network's subnets.
func (n *Network) Contains(ip net.IP) bool {
	for _, s := range n.Subnets {
		if _, c, err := net.ParseCIDR(s.Subnet); err == nil && c.Contains(ip) {
			return true
		}
	}
	return false
}

// Default returns the definition of the default network.
func Default() *Network {
	return &Network{
		Name: DefaultName, ID: newID(), Driver: DriverBridge, NetworkInterface: DefaultBridge,
		Created:     time.Now().UTC(),
		Subnets:     []Subnet{{Subnet: DefaultSubnet, Gateway: "10.89.0.1"}},
		IPAMOptions: map[string]string{"driver": "host-local"},
		// As in podman, the default network has no DNS: containers on it
		// use the host's resolvers.
		DNSEnabled: false,
	}
}

func newID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CreateOptions are the flags of `network create`.
type CreateOptions struct {
	Name       string
	Driver     string   // bridge (default), macvlan, ipvlan
	Interface  string   // bridge name, or the parent of macvlan/ipvlan
	Subnets    []string // --subnet
	Gateways   []string // --gateway, one per subnet in order
	IPRanges   []string // --ip-range, one per subnet in order
	Internal   bool
	IPv6       bool
	DisableDNS bool
	DNSServers []string // upstream servers of the network's DNS responder
	Labels     map[string]string
	Options    map[string]string // mtu, parent, mode, isolate...
}

// Taken is what other networks and the host already use, so a new network
// gets a free bridge name and subnet.
type Taken struct {
	Names      map[string]bool
	Interfaces map[string]bool // host interfaces and other networks' bridges
	Subnets    []*net.IPNet    // other networks' subnets and the host's routes
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func invalid(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errdefs.ErrInvalidArgument)...)
}

// New validates create options and fills in what the user left out.
func New(o *CreateOptions, taken *Taken) (*Network, error) {
	n := &Network{
		Name: o.Name, ID: newID(), Driver: o.Driver, Created: time.Now().UTC(),
		Internal: o.Internal, IPv6Enabled: o.IPv6, DNSEnabled: !o.DisableDNS,
		Labels: o.Labels, Options: map[string]string{}, DNSServers: o.DNSServers,
		IPAMOptions: map[string]string{"driver": "host-local"},
	}
	if n.Driver == "" {
		n.Driver = DriverBridge
	}
	if n.Name == "" {
		for i := 1; ; i++ {
			n.Name = fmt.Sprintf("%s%d", bridgePrefix, i)
			if !taken.Names[n.Name] {
				break
			}
		}
	}
	if !nameRE.MatchString(n.Name) {
		return nil, invalid("network name %s invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", n.Name)
	}
	if taken.Names[n.Name] {
		return nil, fmt.Errorf("network name %s already used: %w", n.Name, errdefs.ErrAlreadyExists)
	}
	for _, s := range o.DNSServers {
		if _, _, err := net.SplitHostPort(s); err != nil && net.ParseIP(s) == nil {
			return nil, invalid("invalid --dns %q: an IP address expected", s)
		}
	}
	if err := n.setOptions(o.Options); err != nil {
		return nil, err
	}
	switch n.Driver {
	case DriverBridge:
		n.NetworkInterface = o.Interface
		if n.NetworkInterface == "" {
			n.NetworkInterface = freeBridge(taken)
		} else if taken.Interfaces[n.NetworkInterface] {
			return nil, invalid("bridge name %s already in use", n.NetworkInterface)
		}
	case DriverMacvlan, DriverIPvlan:
		// DNS needs a bridge on the host to listen on, as with podman.
		n.DNSEnabled = false
		n.NetworkInterface = firstNonEmpty(n.Options["parent"], o.Interface)
		delete(n.Options, "parent")
		if n.NetworkInterface == "" {
			n.NetworkInterface = defaultRouteInterface()
		}
		if n.NetworkInterface == "" {
			return nil, invalid("%s network needs a parent interface (-o parent=IFACE)", n.Driver)
		}
		if len(o.Subnets) == 0 {
			return nil, invalid("%s network needs --subnet (servin has no DHCP)", n.Driver)
		}
	default:
		return nil, invalid("unsupported driver %s: use bridge, macvlan or ipvlan", n.Driver)
	}
	if len(n.NetworkInterface) > 15 {
		return nil, invalid("interface name %s is longer than 15 characters", n.NetworkInterface)
	}
	if err := n.setSubnets(o, taken); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Network) setOptions(opts map[string]string) error {
	for k, v := range opts {
		switch k {
		case "mtu":
			if m, err := strconv.Atoi(v); err != nil || m < 68 || m > 65535 {
				return invalid("invalid mtu %q", v)
			}
		case "parent":
		case "mode":
			switch n.Driver {
			case DriverMacvlan:
				if v != "bridge" && v != "private" && v != "vepa" && v != "passthru" {
					return invalid("unknown macvlan mode %q", v)
				}
			case DriverIPvlan:
				if v != "l2" && v != "l3" && v != "l3s" {
					return invalid("unknown ipvlan mode %q", v)
				}
			default:
				return invalid("unsupported bridge network option mode")
			}
		case "isolate", "vlan", "metric", "no_default_route":
			return invalid("unsupported network option %s", k)
		default:
			return invalid("unsupported network option %s", k)
		}
		n.Options[k] = v
	}
	return nil
}

func (n *Network) setSubnets(o *CreateOptions, taken *Taken) error {
	if len(o.Gateways) > len(o.Subnets) {
		return invalid("cannot set more gateways than subnets")
	}
	if len(o.IPRanges) > len(o.Subnets) {
		return invalid("cannot set more ranges than subnets")
	}
	var have4, have6 bool
	for i, s := range o.Subnets {
		ip, cidr, err := net.ParseCIDR(s)
		if err != nil {
			return invalid("invalid subnet %q", s)
		}
		if !ip.Equal(cidr.IP) {
			return invalid("subnet %s is not a network address (did you mean %s?)", s, cidr)
		}
		if ones, bits := cidr.Mask.Size(); bits-ones < 2 {
			return invalid("subnet %s is too small", s)
		}
		sub := Subnet{Subnet: cidr.String()}
		if i < len(o.Gateways) && o.Gateways[i] != "" {
			gw := net.ParseIP(o.Gateways[i])
			if gw == nil || !cidr.Contains(gw) {
				return invalid("gateway %s is not in subnet %s", o.Gateways[i], cidr)
			}
			sub.Gateway = gw.String()
		} else if n.Driver == DriverBridge {
			sub.Gateway = nthIP(cidr, 1).String()
		}
		if i < len(o.IPRanges) && o.IPRanges[i] != "" {
			lr, err := leaseRange(o.IPRanges[i], cidr)
			if err != nil {
				return err
			}
			sub.LeaseRange = lr
		}
		for _, t := range n.Subnets {
			_, other, _ := net.ParseCIDR(t.Subnet)
			if overlaps(other, cidr) {
				return invalid("subnet %s overlaps subnet %s", cidr, other)
			}
		}
		if cidr.IP.To4() != nil {
			have4 = true
		} else {
			have6 = true
		}
		n.Subnets = append(n.Subnets, sub)
	}
	if have6 {
		n.IPv6Enabled = true
	}
	if len(o.Subnets) == 0 {
		cidr, err := freeSubnet(taken)
		if err != nil {
			return err
		}
		n.Subnets = append(n.Subnets, Subnet{Subnet: cidr.String(), Gateway: nthIP(cidr, 1).String()})
		have4 = true
	}
	if n.IPv6Enabled && !have6 {
		cidr := randomULA()
		n.Subnets = append(n.Subnets, Subnet{Subnet: cidr.String(), Gateway: nthIP(cidr, 1).String()})
	}
	_ = have4
	return nil
}

// leaseRange accepts a CIDR inside the subnet or START-END.
func leaseRange(s string, subnet *net.IPNet) (*LeaseRange, error) {
	var start, end net.IP
	if a, b, ok := strings.Cut(s, "-"); ok {
		start, end = net.ParseIP(a), net.ParseIP(b)
	} else if _, r, err := net.ParseCIDR(s); err == nil {
		start, end = r.IP, lastIP(r)
		if ones, bits := r.Mask.Size(); bits-ones >= 2 {
			start, end = nthIP(r, 1), prevIP(end)
		}
	}
	if start == nil || end == nil || !subnet.Contains(start) || !subnet.Contains(end) {
		return nil, invalid("ip range %s is not inside subnet %s", s, subnet)
	}
	return &LeaseRange{StartIP: start.String(), EndIP: end.String()}, nil
}

func freeBridge(taken *Taken) string {
	for i := 1; ; i++ {
		name := fmt.Sprintf("%s%d", bridgePrefix, i)
		if !taken.Interfaces[name] {
			return name
		}
	}
}

func freeSubnet(taken *Taken) (*net.IPNet, error) {
	base := net.ParseIP(poolStart).To4()
	for i := 0; i < poolSize; i++ {
		ip := net.IPv4(base[0], base[1]+byte(i/256), byte(i%256), 0).To4()
		cidr := &net.IPNet{IP: ip, Mask: net.CIDRMask(24, 32)}
		free := true
		for _, t := range taken.Subnets {
			if overlaps(t, cidr) {
				free = false
				break
			}
		}
		if free {
			return cidr, nil
		}
	}
	return nil, fmt.Errorf("could not find a free subnet in 10.90.0.0/15: use --subnet: %w", errdefs.ErrFailedPrecondition)
}

func randomULA() *net.IPNet {
	b := make([]byte, 16)
	_, _ = rand.Read(b[1:8])
	b[0] = 0xfd
	for i := 8; i < 16; i++ {
		b[i] = 0
	}
	return &net.IPNet{IP: net.IP(b), Mask: net.CIDRMask(64, 128)}
}

func overlaps(a, b *net.IPNet) bool {
	if a == nil || b == nil {
		return false
	}
	return a.Contains(b.IP) || b.Contains(a.IP)
}

// nthIP returns the n-th address of a subnet.
func nthIP(c *net.IPNet, n int) net.IP {
	ip := append(net.IP(nil), c.IP...)
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	carry := n
	for i := len(ip) - 1; i >= 0 && carry > 0; i-- {
		sum := int(ip[i]) + carry
		ip[i] = byte(sum % 256)
		carry = sum / 256
	}
	return ip
}

func lastIP(c *net.IPNet) net.IP {
	ip := append(net.IP(nil), c.IP...)
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	mask := c.Mask
	for i := range ip {
		ip[i] |= ^mask[i]
	}
	return ip
}

func prevIP(ip net.IP) net.IP {
	out := append(net.IP(nil), ip...)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] > 0 {
			out[i]--
			break
		}
		out[i] = 255
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
