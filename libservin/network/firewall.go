package network

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// servin's firewall lives in its own chains, hooked into the built-in ones
// by one jump each:
//
//	filter FORWARD     -> SERVIN-FORWARD      per-container accepts
//	  SERVIN-FORWARD   -> SERVIN-ISOLATION-1  first rule: drops between networks
//	  SERVIN-ISOLATION-1: -i BR ! -o BR -> SERVIN-ISOLATION-2 (and internal drops)
//	  SERVIN-ISOLATION-2: -o BR -j DROP
//	nat POSTROUTING    -> SERVIN-POSTROUTING  per-container masquerade, and
//	                                          of packets marked for it
//	nat PREROUTING, OUTPUT (to a local address)
//	                   -> SERVIN-HOSTPORTS    per-container DNAT of published ports
//	  SERVIN-HOSTPORTS -> SERVIN-HOSTPORTS-MARK  marks hairpin and localhost
//	                                          connections for masquerading
//
// A network's rules (isolation, internal) are added when its first
// container attaches after boot or a reload, and removed with the network.
// A container's rules, its published ports included, carry the comment
// "servin ctr <ID12>" and are added and removed with one iptables-restore
// call each, the whole firewall cost of a container's start and exit.
// Published ports work as the portmap plugin's (which containers set up by
// older servin versions still use, in its CNI-HOSTPORT-* chains): the same
// DNAT, hairpin and localhost rules and the same masquerade mark bit.
const (
	chainForward     = "SERVIN-FORWARD"
	chainPostrouting = "SERVIN-POSTROUTING"
	chainIsolation1  = "SERVIN-ISOLATION-1"
	chainIsolation2  = "SERVIN-ISOLATION-2"
	chainHostPorts   = "SERVIN-HOSTPORTS"
	chainMark        = "SERVIN-HOSTPORTS-MARK"
	// masqMark is the mark of connections to published ports that need
	// masquerading: the portmap plugin's default bit (13).
	masqMark = "0x2000/0x2000"
)

// Firewall adds and removes servin's iptables rules. Markers under
// StateDir remember which networks' rules are in place, so a container
// start costs no iptables-save.
type Firewall struct {
	StateDir string
	mu       sync.Mutex
}

// Rule is one iptables rule in iptables-save form, without the -A.
type Rule struct {
	V6    bool
	Table string
	Chain string
	Spec  string
}

func (r Rule) line(op string) string { return op + " " + r.Chain + " " + r.Spec }

func comment(s string) string { return `-m comment --comment "` + s + `"` }

// CtrComment tags the rules of one container.
func CtrComment(id string) string { return "servin ctr " + short(id) }

func netComment(bridge string) string { return "servin net " + bridge }

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ContainerRules are the rules of one container's attachments: forwarding
// both ways and masquerading out of non-internal bridge networks, and the
// forwarding of its published ports. Each carries the comment
// "servin ctr <ID12> <ifname>".
func ContainerRules(id string, atts []*Attachment) []Rule {
	var out []Rule
	for _, a := range atts {
		if a.Bridge == "" {
			continue
		}
		c := comment(CtrComment(id) + " " + a.IfName)
		out = append(out, portRules(a, c)...)
		if a.Internal {
			continue
		}
		for _, ipc := range a.IPs {
			ip, ipnet, err := net.ParseCIDR(ipc.Address)
			if err != nil {
				continue
			}
			v6 := ip.To4() == nil
			host := ip.String() + "/32"
			if v6 {
				host = ip.String() + "/128"
			}
			out = append(out,
				Rule{v6, "filter", chainForward, fmt.Sprintf("-d %s -o %s -m conntrack --ctstate RELATED,ESTABLISHED %s -j ACCEPT", host, a.Bridge, c)},
				Rule{v6, "filter", chainForward, fmt.Sprintf("-s %s -i %s %s -j ACCEPT", host, a.Bridge, c)},
				Rule{v6, "nat", chainPostrouting, fmt.Sprintf("-s %s ! -d %s %s -j MASQUERADE", host, ipnet.String(), c)},
			)
		}
	}
	return out
}

// portRules forward the attachment's published ports to its addresses, as
// the portmap plugin does: for each port and address family, a DNAT rule,
// preceded by rules marking for masquerading the connections from the
// network itself (hairpin) and, for IPv4, from 127.0.0.1.
func portRules(a *Attachment, c string) []Rule {
	var out []Rule
	for _, ipc := range a.IPs {
		ip, ipnet, err := net.ParseCIDR(ipc.Address)
		if err != nil {
			continue
		}
		v6 := ip.To4() == nil
		for _, p := range a.Ports {
			match := "-p " + p.Protocol + " -m " + p.Protocol + " --dport " + fmt.Sprint(p.HostPort) + " " + c
			dst := ""
			if p.HostIP != "" {
				hip := net.ParseIP(p.HostIP)
				if hip == nil || (hip.To4() == nil) != v6 {
					continue
				}
				if !hip.IsUnspecified() {
					dst = "-d " + hostCIDR(hip) + " "
				}
			}
			to := fmt.Sprintf("%s:%d", ip, p.ContainerPort)
			if v6 {
				to = fmt.Sprintf("[%s]:%d", ip, p.ContainerPort)
			}
			out = append(out, Rule{v6, "nat", chainHostPorts, "-s " + ipnet.String() + " " + dst + match + " -j " + chainMark})
			if !v6 {
				out = append(out, Rule{v6, "nat", chainHostPorts, "-s 127.0.0.1/32 " + dst + match + " -j " + chainMark})
			}
			out = append(out, Rule{v6, "nat", chainHostPorts, dst + match + " -j DNAT --to-destination " + to})
		}
	}
	return out
}

// ForgetUDPConntrack deletes the connection tracking entries of the UDP
// ports published by Builtin attachments, as the portmap plugin does once
// its rules are in and once they are gone: an entry of earlier datagrams
// would otherwise keep steering a flow past the new rules. Failures only
// leave such entries to expire.
func ForgetUDPConntrack(atts []*Attachment) {
	for _, a := range atts {
		if !a.Builtin {
			continue
		}
		for _, p := range a.Ports {
			if p.Protocol != "udp" {
				continue
			}
			for _, fam := range []netlink.InetFamily{unix.AF_INET, unix.AF_INET6} {
				f := &netlink.ConntrackFilter{}
				_ = f.AddProtocol(unix.IPPROTO_UDP)
				_ = f.AddPort(netlink.ConntrackOrigDstPort, uint16(p.HostPort))
				_, _ = netlinksafe.ConntrackDeleteFilters(netlink.ConntrackTable, fam, f)
			}
		}
	}
}

// hostCIDR writes a single address as iptables-save does: 10.0.0.1/32.
func hostCIDR(ip net.IP) string {
	if ip.To4() != nil {
		return ip.String() + "/32"
	}
	return ip.String() + "/128"
}

// networkRules isolate a bridge from servin's other bridges and, for an
// internal network, from everything but itself.
func networkRules(bridge string, internal, v6 bool) []Rule {
	c := comment(netComment(bridge))
	rules := []Rule{
		{v6, "filter", chainIsolation1, fmt.Sprintf("-i %s ! -o %s %s -j %s", bridge, bridge, c, chainIsolation2)},
		{v6, "filter", chainIsolation2, fmt.Sprintf("-o %s %s -j DROP", bridge, c)},
	}
	if internal {
		rules = append(rules,
			Rule{v6, "filter", chainIsolation1, fmt.Sprintf("-i %s ! -o %s %s -j DROP", bridge, bridge, c)},
			Rule{v6, "filter", chainIsolation1, fmt.Sprintf("! -i %s -o %s %s -j DROP", bridge, bridge, c)},
		)
	}
	return rules
}

type chainDecl struct{ table, chain string }

var baseChains = []chainDecl{
	{"filter", chainForward}, {"filter", chainIsolation1}, {"filter", chainIsolation2}, {"nat", chainPostrouting},
	{"nat", chainHostPorts}, {"nat", chainMark},
}

// baseRules are written as iptables-save prints them, so that ensure
// finds them.
func baseRules(v6 bool) []Rule {
	return []Rule{
		{v6, "filter", "FORWARD", "-j " + chainForward},
		{v6, "filter", chainForward, "-j " + chainIsolation1},
		{v6, "nat", "POSTROUTING", "-j " + chainPostrouting},
		{v6, "nat", chainPostrouting, "-m mark --mark " + masqMark + " -j MASQUERADE"},
		{v6, "nat", "PREROUTING", "-m addrtype --dst-type LOCAL -j " + chainHostPorts},
		{v6, "nat", "OUTPUT", "-m addrtype --dst-type LOCAL -j " + chainHostPorts},
		{v6, "nat", chainMark, "-j MARK --set-xmark " + masqMark},
	}
}

func (f *Firewall) marker(bridge string, v6 bool) string {
	name := bridge
	if v6 {
		name += ".v6"
	}
	return filepath.Join(f.StateDir, "firewall", name)
}

// EnsureNetwork puts servin's base chains and the network's rules in place
// unless a marker says they are there already.
func (f *Firewall) EnsureNetwork(n *Network) error {
	if n.Driver != DriverBridge {
		return nil
	}
	for _, v6 := range families(n) {
		m := f.marker(n.NetworkInterface, v6)
		if _, err := os.Stat(m); err == nil {
			continue
		}
		if err := f.ensure(v6, networkRules(n.NetworkInterface, n.Internal, v6)); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(m), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(m, nil, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func families(n *Network) []bool {
	var out []bool
	has := map[bool]bool{}
	for _, s := range n.Subnets {
		v6 := strings.Contains(s.Subnet, ":")
		if !has[v6] {
			has[v6] = true
			out = append(out, v6)
		}
	}
	return out
}

// RemoveNetwork deletes a network's rules and its markers.
func (f *Firewall) RemoveNetwork(n *Network) error {
	if n.Driver != DriverBridge {
		return nil
	}
	var errs []error
	for _, v6 := range families(n) {
		_ = os.Remove(f.marker(n.NetworkInterface, v6))
		if err := f.deleteTagged(v6, netComment(n.NetworkInterface)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ForgetMarkers makes the next EnsureNetwork of every network re-check the
// kernel's rules (network reload).
func (f *Firewall) ForgetMarkers() {
	_ = os.RemoveAll(filepath.Join(f.StateDir, "firewall"))
}

// AddRules appends rules with one iptables-restore per family. When a
// chain is missing (someone flushed the firewall), the base is restored
// and the add retried once.
func (f *Firewall) AddRules(rules []Rule) error {
	for _, v6 := range []bool{false, true} {
		rs := byFamily(rules, v6)
		if len(rs) == 0 {
			continue
		}
		if err := restore(v6, script(rs, "-A")); err != nil {
			if err2 := f.ensure(v6, nil); err2 != nil {
				return err
			}
			if err := restore(v6, script(rs, "-A")); err != nil {
				return err
			}
		}
	}
	return nil
}

// DeleteRules removes rules added by AddRules. The fast path deletes
// exactly them; if that fails (some are gone already, or never made it
// in), every rule tagged with tag is found in iptables-save and deleted.
func (f *Firewall) DeleteRules(rules []Rule, tag string) error {
	var errs []error
	for _, v6 := range []bool{false, true} {
		rs := byFamily(rules, v6)
		if len(rs) > 0 && restore(v6, script(rs, "-D")) == nil {
			continue
		}
		if len(rs) == 0 && !f.familyInUse(v6) {
			continue
		}
		if err := f.deleteTagged(v6, tag); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// familyInUse reports whether servin ever set up rules of a family on
// this host, so that teardown without a record skips ip6tables when no
// IPv6 network was ever used.
func (f *Firewall) familyInUse(v6 bool) bool {
	if !v6 {
		return true
	}
	ms, _ := filepath.Glob(filepath.Join(f.StateDir, "firewall", "*.v6"))
	return len(ms) > 0
}

// HasTagged reports whether any rule carries tag (for leak checks).
func HasTagged(v6 bool, tag string) (bool, error) {
	dump, err := save(v6)
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(dump, "\n") {
		if tagged(line, tag) {
			return true, nil
		}
	}
	return false, nil
}

// tagged reports whether a rule's comment is tag or starts with tag and a
// space ("servin ctr ID" matches the rules of all the container's
// interfaces).
func tagged(line, tag string) bool {
	return strings.Contains(line, `"`+tag+`"`) || strings.Contains(line, `"`+tag+` `)
}

// EnsureRules adds those of rules that are missing (network reload).
func (f *Firewall) EnsureRules(rules []Rule) error {
	for _, v6 := range []bool{false, true} {
		if rs := byFamily(rules, v6); len(rs) > 0 {
			if err := f.ensure(v6, rs); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *Firewall) deleteTagged(v6 bool, tag string) error {
	dump, err := save(v6)
	if err != nil {
		return err
	}
	var b strings.Builder
	table, wrote := "", map[string]bool{}
	for _, line := range strings.Split(dump, "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case strings.HasPrefix(line, "-A ") && tagged(line, tag):
			if !wrote[table] {
				if len(wrote) > 0 {
					b.WriteString("COMMIT\n")
				}
				b.WriteString("*" + table + "\n")
				wrote[table] = true
			}
			b.WriteString("-D " + line[3:] + "\n")
		}
	}
	if len(wrote) == 0 {
		return nil
	}
	b.WriteString("COMMIT\n")
	return restore(v6, b.String())
}

// ensure adds whatever of the base chains, the base rules and extra is
// missing, after one iptables-save.
func (f *Firewall) ensure(v6 bool, extra []Rule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	dump, err := save(v6)
	if err != nil {
		return err
	}
	chains, rules := parseSave(dump)
	var b strings.Builder
	for _, table := range []string{"filter", "nat"} {
		var lines []string
		for _, c := range baseChains {
			if c.table == table && !chains[table+" "+c.chain] {
				lines = append(lines, ":"+c.chain+" - [0:0]")
			}
		}
		for _, r := range append(baseRules(v6), extra...) {
			if r.Table != table || rules[table+" "+r.line("-A")] {
				continue
			}
			switch {
			case r.Chain == "FORWARD", r.Chain == chainForward && strings.HasPrefix(r.Spec, "-j "):
				// Jumps go first: before other tools' rules in FORWARD, and
				// isolation before the accepts in SERVIN-FORWARD.
				lines = append(lines, "-I "+r.Chain+" 1 "+r.Spec)
			default:
				lines = append(lines, r.line("-A"))
			}
		}
		if len(lines) > 0 {
			b.WriteString("*" + table + "\n" + strings.Join(lines, "\n") + "\nCOMMIT\n")
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return restore(v6, b.String())
}

func parseSave(dump string) (chains, rules map[string]bool) {
	chains, rules = map[string]bool{}, map[string]bool{}
	table := ""
	for _, line := range strings.Split(dump, "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case strings.HasPrefix(line, ":"):
			name, _, _ := strings.Cut(line[1:], " ")
			chains[table+" "+name] = true
		case strings.HasPrefix(line, "-A "):
			rules[table+" "+strings.TrimSpace(line)] = true
		}
	}
	return chains, rules
}

func byFamily(rules []Rule, v6 bool) []Rule {
	var out []Rule
	for _, r := range rules {
		if r.V6 == v6 {
			out = append(out, r)
		}
	}
	return out
}

func script(rules []Rule, op string) string {
	var b strings.Builder
	for _, table := range []string{"filter", "nat"} {
		first := true
		for _, r := range rules {
			if r.Table != table {
				continue
			}
			if first {
				b.WriteString("*" + table + "\n")
				first = false
			}
			b.WriteString(r.line(op) + "\n")
		}
		if !first {
			b.WriteString("COMMIT\n")
		}
	}
	return b.String()
}

// tool names the iptables command of a family: iptables-save or
// ip6tables-save.
func tool(v6 bool, name string) string {
	if v6 {
		return "ip6" + strings.TrimPrefix(name, "ip")
	}
	return name
}

func restore(v6 bool, input string) error {
	cmd := exec.Command(tool(v6, "iptables-restore"), "-w", "5", "--noflush")
	cmd.Stdin = strings.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", tool(v6, "iptables-restore"), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func save(v6 bool) (string, error) {
	cmd := exec.Command(tool(v6, "iptables-save"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", tool(v6, "iptables-save"), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
