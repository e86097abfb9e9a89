// Container networking: the network modes of create/run, the per-container
// setup (before the spec is generated) and teardown (with the container's
// other runtime resources, after every kind of exit), and the network
// commands (create, ls, inspect, rm, prune, connect, disconnect, reload).
//
// A bridge-mode container gets a network namespace of its own, mounted at
// <runroot>/netns/<ID>, and one CNI attachment per network it is a member
// of. A sandbox record beside the mount (<ID>.json) is written before each
// step, so teardown can undo exactly what was done even when servin died
// half-way through setup: teardown works from that record alone, not from
// the container's state or the networks' definitions.
package libservin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/image"
	"github.com/servin/servin/libservin/network"
	"github.com/servin/servin/libservin/state"
)

// Network modes as stored in ContainerConfig.NetworkMode.
const (
	NetModeBridge = "bridge" // CNI networks: the container's endpoints
	NetModeNone   = "none"
	NetModeHost   = "host"
)

// NetworkOptions are the network flags of create and run
// (CreateOptions.NetworkOpts). Network modes and network names are in
// CreateOptions.Network.
type NetworkOptions struct {
	Networks   []string // further --network values (repeated flag)
	Aliases    []string // --network-alias
	IP         string   // --ip
	IP6        string   // --ip6
	MAC        string   // --mac-address
	DNS        []string // --dns
	DNSSearch  []string // --dns-search
	DNSOptions []string // --dns-option
	AddHosts   []string // --add-host HOST:IP
	NoHosts    bool     // --no-hosts
	Publish    []string // -p
	PublishAll bool     // -P
}

// NetConfig is the container-wide network configuration fixed at create
// time (ContainerConfig.Net). Which networks a bridge-mode container is
// on is kept in the state store's endpoints, which connect and disconnect
// change.
type NetConfig struct {
	Ports      []network.PortMapping `json:"ports,omitempty"`
	DNS        []string              `json:"dns,omitempty"`
	DNSSearch  []string              `json:"dnsSearch,omitempty"`
	DNSOptions []string              `json:"dnsOptions,omitempty"`
	AddHosts   []string              `json:"addHosts,omitempty"`
	NoHosts    bool                  `json:"noHosts,omitempty"`
	Aliases    []string              `json:"aliases,omitempty"`
}

// endpointConfig is what a container asked for in one network.
type endpointConfig struct {
	IfName  string   `json:"ifname"`
	Aliases []string `json:"aliases,omitempty"`
	IPs     []string `json:"ips,omitempty"`
	MAC     string   `json:"mac,omitempty"`
}

// endpointState is a container's live attachment to one network.
type endpointState struct {
	IfName string             `json:"ifname"`
	IPs    []network.IPConfig `json:"ips"`
	MAC    string             `json:"mac,omitempty"`
}

// sandbox is the teardown record of a bridge-mode container's network.
type sandbox struct {
	NetNS       string                `json:"netns"`
	Attachments []*network.Attachment `json:"attachments,omitempty"`
	Ports       []network.CNIPortMap  `json:"ports,omitempty"`
	// RulesAdded is set before servin's firewall rules go in.
	RulesAdded bool `json:"rulesAdded,omitempty"`
}

func (r *Runtime) netnsPath(id string) string { return filepath.Join(r.opts.RunRoot, "netns", id) }
func (r *Runtime) sandboxPath(id string) string {
	return filepath.Join(r.opts.RunRoot, "netns", id+".json")
}
func (r *Runtime) cniStateDir() string { return filepath.Join(r.opts.RunRoot, "cni") }
func (r *Runtime) cni() *network.CNI {
	return network.NewCNI(r.opts.CNIPluginDir, r.cniStateDir())
}
func (r *Runtime) firewall() *network.Firewall {
	return &network.Firewall{StateDir: r.cniStateDir()}
}

func loadSandbox(path string) (*sandbox, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sb sandbox
	if err := json.Unmarshal(data, &sb); err != nil {
		return nil, fmt.Errorf("network record %s: %w", path, err)
	}
	return &sb, nil
}

func (sb *sandbox) save(path string) error {
	data, err := json.Marshal(sb)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// parseNetworkMode validates --network. "bridge", "" and network names
// are bridge mode (the names are checked by planNetwork); "private" is
// none, as podman takes it.
func parseNetworkMode(mode string) (string, error) {
	switch {
	case mode == "none" || mode == "private":
		return NetModeNone, nil
	case mode == "host":
		return NetModeHost, nil
	case strings.HasPrefix(mode, "container:"):
		if strings.TrimPrefix(mode, "container:") == "" {
			return "", invalidArg("invalid --network %q: container:NAME expected", mode)
		}
		return mode, nil
	case strings.HasPrefix(mode, "ns:"):
		p := strings.TrimPrefix(mode, "ns:")
		if !filepath.IsAbs(p) {
			return "", invalidArg("invalid --network %q: ns:PATH needs an absolute path", mode)
		}
		return mode, nil
	case strings.ContainsAny(mode, ":/"):
		return "", invalidArg("invalid --network %q: bridge, none, host, container:NAME, ns:PATH or network names expected", mode)
	}
	return NetModeBridge, nil
}

func invalidArg(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errdefs.ErrInvalidArgument)...)
}

// netPlan is the network part of a container being created.
type netPlan struct {
	mode      string
	cfg       NetConfig
	endpoints []planEndpoint
	warnings  []string
}

type planEndpoint struct {
	network string
	cfg     endpointConfig
}

// planNetwork resolves the network flags of a container being created.
func (r *Runtime) planNetwork(ctx context.Context, o *CreateOptions, mode string, img *image.Image) (*netPlan, error) {
	no := &o.NetworkOpts
	p := &netPlan{mode: mode, cfg: NetConfig{
		DNS: no.DNS, DNSSearch: no.DNSSearch, DNSOptions: no.DNSOptions,
		AddHosts: no.AddHosts, NoHosts: no.NoHosts, Aliases: no.Aliases,
	}}
	for _, s := range no.DNS {
		if net.ParseIP(s) == nil {
			return nil, invalidArg("invalid --dns %q: an IP address expected", s)
		}
	}
	for _, h := range no.AddHosts {
		if _, _, err := network.ParseAddHost(h); err != nil {
			return nil, err
		}
	}
	if no.MAC != "" {
		if _, err := net.ParseMAC(no.MAC); err != nil {
			return nil, invalidArg("invalid --mac-address %q", no.MAC)
		}
	}
	for _, spec := range no.Publish {
		ms, err := network.ParsePublish(spec)
		if err != nil {
			return nil, err
		}
		p.cfg.Ports = append(p.cfg.Ports, ms...)
	}
	if no.PublishAll && img != nil && img.Config != nil {
		p.cfg.Ports = append(p.cfg.Ports, network.ExposedPorts(img.Config.Config.ExposedPorts, p.cfg.Ports)...)
	}
	switch {
	case strings.HasPrefix(mode, "container:"):
		other, err := r.db.GetContainer(ctx, strings.TrimPrefix(mode, "container:"))
		if err != nil {
			return nil, fmt.Errorf("--network %s: %w", mode, err)
		}
		p.mode = "container:" + other.ID
	case mode == NetModeBridge:
		if err := r.planEndpoints(ctx, o, p); err != nil {
			return nil, err
		}
		// Random host ports (-p 80, -P) are chosen once, here at create,
		// as podman does: `port` and `ps` show them before the first
		// start, and they stay the same across restarts.
		var err error
		p.cfg.Ports, err = network.AssignHostPorts(p.cfg.Ports)
		return p, err
	}
	if len(p.cfg.Ports) > 0 && mode != NetModeBridge {
		// As podman: ports need a network servin sets up; the container
		// still runs, without them.
		nsMode, _, _ := strings.Cut(mode, ":")
		p.warnings = append(p.warnings, fmt.Sprintf("Port mappings have been discarded because %q network namespace mode does not support them", nsMode))
		p.cfg.Ports = nil
	}
	if no.IP != "" || no.IP6 != "" || no.MAC != "" || len(no.Aliases) > 0 {
		return nil, invalidArg("--ip, --mac-address and --network-alias need bridge networking, not --network %s", mode)
	}
	return p, nil
}

func (r *Runtime) planEndpoints(ctx context.Context, o *CreateOptions, p *netPlan) error {
	no := &o.NetworkOpts
	var names []string
	for _, v := range append([]string{o.Network}, no.Networks...) {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" && n != NetModeBridge && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		names = []string{network.DefaultName}
	}
	if (no.IP != "" || no.IP6 != "" || no.MAC != "") && len(names) > 1 {
		return invalidArg("--ip, --ip6 and --mac-address can only be used with a single network")
	}
	for i, name := range names {
		n, err := r.network(ctx, name)
		if err != nil {
			return err
		}
		ep := endpointConfig{IfName: fmt.Sprintf("eth%d", i), MAC: no.MAC}
		if n.Name != network.DefaultName {
			ep.Aliases = no.Aliases
		} else if len(no.Aliases) > 0 {
			return invalidArg("--network-alias is only supported on user-defined networks")
		}
		for _, s := range []string{no.IP, no.IP6} {
			if s == "" {
				continue
			}
			ip := net.ParseIP(s)
			if ip == nil {
				return invalidArg("invalid IP address %q", s)
			}
			if !n.Contains(ip) {
				return invalidArg("requested static IP %s is not in a subnet of network %s", s, n.Name)
			}
			ep.IPs = append(ep.IPs, ip.String())
		}
		p.endpoints = append(p.endpoints, planEndpoint{network: n.Name, cfg: ep})
	}
	return nil
}

// linkNetworks records the memberships of a new container.
func (r *Runtime) linkNetworks(ctx context.Context, id string, p *netPlan) error {
	for _, ep := range p.endpoints {
		raw, err := json.Marshal(ep.cfg)
		if err != nil {
			return err
		}
		if err := r.db.AddEndpoint(ctx, ep.network, id, raw); err != nil {
			return err
		}
	}
	return nil
}

// network returns a network definition by name or ID, creating the
// default network on first use.
func (r *Runtime) network(ctx context.Context, nameOrID string) (*network.Network, error) {
	rec, err := r.db.GetNetwork(ctx, nameOrID)
	if errors.Is(err, errdefs.ErrNotFound) && nameOrID == network.DefaultName {
		def := network.Default()
		raw, merr := json.Marshal(def)
		if merr != nil {
			return nil, merr
		}
		err = r.db.AddNetwork(ctx, &state.Network{Name: def.Name, ID: def.ID, Created: def.Created, Config: raw})
		if err == nil || errors.Is(err, errdefs.ErrAlreadyExists) {
			rec, err = r.db.GetNetwork(ctx, nameOrID)
		}
	}
	if err != nil {
		return nil, err
	}
	return decodeNetwork(rec)
}

func decodeNetwork(rec *state.Network) (*network.Network, error) {
	var n network.Network
	if err := json.Unmarshal(rec.Config, &n); err != nil {
		return nil, fmt.Errorf("network %s: corrupt definition: %w", rec.Name, err)
	}
	n.Name, n.ID, n.Created = rec.Name, rec.ID, rec.Created
	return &n, nil
}

// setupNetwork prepares the container's network before its spec is
// generated and returns the namespace path it joins ("" for none and host,
// where the runtime handles the namespace). The caller holds the lock and
// calls releaseRuntime on failure, which tears down whatever was done.
func (r *Runtime) setupNetwork(ctx context.Context, c *Container) (netns string, held []*os.File, err error) {
	mode := c.Config.NetworkMode
	switch {
	case mode == NetModeNone || mode == NetModeHost || mode == "":
		return "", nil, nil
	case strings.HasPrefix(mode, "ns:"):
		p := strings.TrimPrefix(mode, "ns:")
		if _, err := os.Stat(p); err != nil {
			return "", nil, fmt.Errorf("network namespace %s: %w", p, err)
		}
		return p, nil, nil
	case strings.HasPrefix(mode, "container:"):
		p, err := r.sharedNetNS(ctx, strings.TrimPrefix(mode, "container:"))
		return p, nil, err
	}
	defer func() {
		if err != nil {
			closeFiles(held)
			held = nil
		}
	}()
	tracef("network setup")
	defer tracef("network ready")
	// Whatever a crashed or failed earlier start left goes first.
	r.teardownNetwork(c)
	cni := r.cni()
	if err := cni.CheckPlugins(); err != nil {
		return "", nil, err
	}
	eps, err := r.db.ContainerEndpoints(ctx, c.ID)
	if err != nil {
		return "", nil, err
	}
	path := r.netnsPath(c.ID)
	sb := &sandbox{NetNS: path}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", nil, err
	}
	if err := sb.save(r.sandboxPath(c.ID)); err != nil {
		return "", nil, err
	}
	if err := network.CreateNS(path); err != nil {
		return "", nil, err
	}
	crashAt("netns-created")
	ports, err := network.AssignHostPorts(c.Config.Net.Ports)
	if err != nil {
		return "", nil, err
	}
	sb.Ports = network.CNIPortMaps(ports)
	if held, err = r.reservePorts(c, sb.Ports); err != nil {
		return "", nil, err
	}
	states := map[string]json.RawMessage{}
	var dnsNets []*network.Network
	for i, ep := range eps {
		n, a, err := r.attach(ctx, c, sb, ep, i == 0)
		if err != nil {
			return "", nil, err
		}
		states[ep.Network] = endpointStateJSON(a)
		if n.DNSEnabled {
			dnsNets = append(dnsNets, n)
		}
	}
	crashAt("network-added")
	if err := r.addContainerRulesAsync(c.ID, sb); err != nil {
		return "", nil, err
	}
	if err := r.db.SetEndpointStates(ctx, c.ID, states); err != nil {
		return "", nil, err
	}
	crashAt("network-ready")
	for _, n := range dnsNets {
		if err := r.ensureDNS(ctx, n); err != nil {
			return "", nil, err
		}
	}
	return path, held, nil
}

// reservePorts binds the container's published host ports for its monitor
// to hold. The previous monitor of the same container may still hold them
// for a moment after the container stopped (restart): it is waited for.
func (r *Runtime) reservePorts(c *Container, ports []network.CNIPortMap) ([]*os.File, error) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		held, err := network.ReservePorts(ports)
		if err == nil {
			return held, nil
		}
		if !errors.Is(err, network.ErrPortInUse) {
			return nil, err
		}
		if !monitorAlive(c.State.MonitorPid) || time.Now().After(deadline) {
			// podman's exit code for a port taken: 126.
			return nil, errdefs.Worded(errdefs.ErrCannotInvoke, "%s", err.Error())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// crashAt lets the end-to-end tests kill servin at a point of network
// setup (SERVIN_CRASH_AT=netns-created|network-added|network-ready), to
// check that a later teardown cleans up after a crash half-way.
func crashAt(point string) {
	if os.Getenv("SERVIN_CRASH_AT") == point {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
}

// attach runs CNI ADD of one membership, recording it first.
func (r *Runtime) attach(ctx context.Context, c *Container, sb *sandbox, ep *state.Endpoint, primary bool) (*network.Network, *network.Attachment, error) {
	var epc endpointConfig
	if err := json.Unmarshal(ep.Config, &epc); err != nil {
		return nil, nil, fmt.Errorf("network %s of container %s: %w", ep.Network, c.Name, err)
	}
	n, err := r.network(ctx, ep.Network)
	if err != nil {
		return nil, nil, err
	}
	o := network.AttachOptions{IfName: epc.IfName, MAC: epc.MAC}
	for _, s := range epc.IPs {
		o.StaticIPs = append(o.StaticIPs, net.ParseIP(s))
	}
	if primary {
		o.Ports = sb.Ports
	}
	a, err := r.cni().NewAttachment(n, o)
	if err != nil {
		return nil, nil, err
	}
	if err := r.ensureNetworkRules(n); err != nil {
		return nil, nil, err
	}
	sb.Attachments = append(sb.Attachments, a)
	if err := sb.save(r.sandboxPath(c.ID)); err != nil {
		return nil, nil, err
	}
	tracef("cni add %s", n.Name)
	if err := r.cni().Add(ctx, c.ID, sb.NetNS, a); err != nil {
		return nil, nil, err
	}
	tracef("cni added %s", n.Name)
	return n, a, sb.save(r.sandboxPath(c.ID))
}

func endpointStateJSON(a *network.Attachment) json.RawMessage {
	raw, _ := json.Marshal(endpointState{IfName: a.IfName, IPs: a.IPs, MAC: a.MAC})
	return raw
}

// addContainerRules adds the firewall rules of some of a container's
// attachments, marking the record first so that teardown looks for them.
func (r *Runtime) addContainerRules(id string, sb *sandbox, atts []*network.Attachment) error {
	rules := network.ContainerRules(id, atts)
	if len(rules) == 0 {
		return nil
	}
	if !sb.RulesAdded {
		sb.RulesAdded = true
		if err := sb.save(r.sandboxPath(id)); err != nil {
			return err
		}
	}
	return r.firewall().AddRules(rules)
}

// pendingRules holds, per container ID, the outcome of the firewall rules
// being added in the background while the monitor starts the container.
var pendingRules sync.Map // string -> chan error

// addContainerRulesAsync adds the container's rules in the background: the
// iptables-restore overlaps with the monitor's start-up, and networkReady
// collects its outcome before the container runs.
func (r *Runtime) addContainerRulesAsync(id string, sb *sandbox) error {
	rules := network.ContainerRules(id, sb.Attachments)
	if len(rules) == 0 {
		return nil
	}
	sb.RulesAdded = true
	if err := sb.save(r.sandboxPath(id)); err != nil {
		return err
	}
	done := make(chan error, 1)
	pendingRules.Store(id, done)
	atts := slices.Clone(sb.Attachments)
	go func() {
		err := r.firewall().AddRules(rules)
		if err == nil {
			network.ForgetUDPConntrack(atts)
		}
		done <- err
	}()
	return nil
}

// networkReady waits for the container's firewall rules (spawn calls it
// once the monitor runs, before the container is started).
func (r *Runtime) networkReady(c *Container) error {
	v, ok := pendingRules.LoadAndDelete(c.ID)
	if !ok {
		return nil
	}
	if err := <-v.(chan error); err != nil {
		return fmt.Errorf("container %s: firewall rules: %w", c.Name, err)
	}
	return nil
}

// ensureNetworkRules puts a network's firewall rules in place; the network
// lock keeps two first containers from adding them twice.
func (r *Runtime) ensureNetworkRules(n *network.Network) error {
	unlock, err := state.LockNetwork(r.lockDir(), n.Name)
	if err != nil {
		return err
	}
	defer unlock()
	return r.firewall().EnsureNetwork(n)
}

// sharedNetNS is the namespace of the container whose network another
// container shares (--network container:NAME).
func (r *Runtime) sharedNetNS(ctx context.Context, ref string) (string, error) {
	other, err := r.Container(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("joining the network of container %s: %w", ref, err)
	}
	if other.State.Status != StatusRunning || other.State.Pid <= 0 {
		return "", fmt.Errorf("joining the network of container %s: it is %s, not running: %w", other.Name, other.State.Status, errdefs.ErrFailedPrecondition)
	}
	if p := r.netnsPath(other.ID); network.IsNSMounted(p) {
		return p, nil
	}
	return fmt.Sprintf("/proc/%d/ns/net", other.State.Pid), nil
}

// teardownNetwork undoes setupNetwork from the sandbox record: firewall
// rules, CNI DEL of each attachment (veth, lease, port mappings), the
// namespace mount, the live endpoint states and, with the last container
// of a network, its DNS responder. It is idempotent and cheap when there
// is nothing to do; the record stays while a step fails, so a later
// teardown (rm, the next start) retries.
func (r *Runtime) teardownNetwork(c *Container) {
	sbPath := r.sandboxPath(c.ID)
	sb, err := loadSandbox(sbPath)
	path := r.netnsPath(c.ID)
	if sb == nil && err == nil {
		if network.IsNSMounted(path) {
			_ = network.RemoveNS(path)
		}
		return
	}
	tracef("network teardown")
	defer tracef("network down")
	_ = r.networkReady(c) // rules still going in must be in before they go out
	ctx := context.Background()
	var errs []error
	if err != nil {
		errs = append(errs, err)
		sb = &sandbox{NetNS: path}
	}
	// The firewall and the CNI plugins are separate programs: run them
	// side by side.
	fwErr := make(chan error, 1)
	if sb.RulesAdded {
		go func() {
			err := r.firewall().DeleteRules(network.ContainerRules(c.ID, sb.Attachments), network.CtrComment(c.ID))
			network.ForgetUDPConntrack(sb.Attachments)
			fwErr <- err
		}()
	} else {
		fwErr <- nil
	}
	// Nobody left in the namespace: unmounting it first lets the kernel
	// free the veth itself, and CNI DEL then only releases the rest.
	nsGone := false
	if !network.NSInUse(path) {
		if err := network.RemoveNS(path); err != nil {
			errs = append(errs, err)
		}
		nsGone = true
	}
	cni := r.cni()
	for i := len(sb.Attachments) - 1; i >= 0; i-- {
		if err := cni.Del(ctx, c.ID, sb.NetNS, sb.Attachments[i]); err != nil {
			errs = append(errs, err)
		}
	}
	tracef("cni deleted")
	if err := <-fwErr; err != nil {
		errs = append(errs, err)
	}
	if !nsGone {
		if err := network.RemoveNS(path); err != nil {
			errs = append(errs, err)
		}
	}
	nets, err := r.db.ClearEndpointStates(ctx, c.ID)
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		errs = append(errs, err)
	}
	for _, name := range nets {
		r.maybeStopDNS(ctx, name)
	}
	if len(errs) > 0 {
		fmt.Fprintf(os.Stderr, "WARN: network teardown of container %s: %v\n", c.Name, errors.Join(errs...))
		return
	}
	_ = os.Remove(sbPath)
}

// containerPorts returns the published ports of a container: the ones in
// force while it runs, the configured ones otherwise.
func (r *Runtime) containerPorts(c *Container) []network.CNIPortMap {
	if c.Running() {
		if sb, err := loadSandbox(r.sandboxPath(c.ID)); err == nil && sb != nil {
			return sb.Ports
		}
	}
	return network.CNIPortMaps(c.Config.Net.Ports)
}

// Ports returns a container's published ports (`servin port`).
func (r *Runtime) Ports(ctx context.Context, nameOrID string) ([]network.CNIPortMap, error) {
	c, err := r.Container(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	return r.containerPorts(c), nil
}

// PublishedPorts returns a container's published ports as `ps` lists
// them (podman's shape: consecutive ports collapsed into ranges). It reads
// nothing for a container without ports, so ps stays cheap.
func (r *Runtime) PublishedPorts(c *Container) []network.PortMapping {
	if len(c.Config.Net.Ports) == 0 {
		return nil
	}
	return network.CollapsePorts(r.containerPorts(c))
}

// netEtc computes a container's /etc/hosts and /etc/resolv.conf. ok is
// false when the container has no hosts file of its own (--no-hosts).
func (r *Runtime) netEtc(ctx context.Context, c *Container, hostname string) (hosts, resolv string, noHosts bool) {
	cfg := &c.Config.Net
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	ro := network.ResolvOptions{
		Host: network.ParseResolv(hostResolv), DNS: cfg.DNS, Search: cfg.DNSSearch, Options: cfg.DNSOptions,
		HostMode: c.Config.NetworkMode == NetModeHost,
	}
	ho := network.HostsOptions{AddHosts: cfg.AddHosts}
	switch {
	case c.Config.NetworkMode == NetModeHost:
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			ho.Base = b
		}
		// The host is the container's own localhost, as in podman.
		ho.HostGateway = "127.0.0.1"
	case c.Config.NetworkMode == NetModeBridge:
		eps, _ := r.db.ContainerEndpoints(ctx, c.ID)
		for _, ep := range eps {
			if ep.State == nil {
				continue
			}
			var st endpointState
			if json.Unmarshal(ep.State, &st) != nil {
				continue
			}
			n, err := r.network(ctx, ep.Network)
			for _, ip := range st.IPs {
				ho.Own = append(ho.Own, network.HostEntry{IP: ip.IP().String(), Names: []string{hostname, c.Name}})
				if ho.HostGateway == "" && ip.Gateway != "" && ip.IP().To4() != nil {
					ho.HostGateway = ip.Gateway
				}
				if err == nil && n.DNSEnabled && ip.Gateway != "" && !slices.Contains(ro.NetworkDNS, ip.Gateway) {
					ro.NetworkDNS = append(ro.NetworkDNS, ip.Gateway)
				}
			}
		}
	default:
		ho.Own = []network.HostEntry{{IP: "127.0.1.1", Names: []string{hostname, c.Name}}}
	}
	if len(ho.Own) == 0 && c.Config.NetworkMode != NetModeHost {
		ho.Own = []network.HostEntry{{IP: "127.0.1.1", Names: []string{hostname, c.Name}}}
	}
	return network.Hosts(ho), network.ResolvConf(ro), cfg.NoHosts
}

// sharedEtcDir is the run dir whose hosts and resolv.conf a container
// sharing another's network uses, "" for none.
func (r *Runtime) sharedEtcDir(c *Container) string {
	ref, ok := strings.CutPrefix(c.Config.NetworkMode, "container:")
	if !ok {
		return ""
	}
	return r.ctrRunDir(ref)
}

// refreshEtc rewrites a running container's hosts and resolv.conf in place
// (they are bind mounts: the inode must stay) after connect or disconnect.
func (r *Runtime) refreshEtc(ctx context.Context, c *Container) {
	hostname := firstNonEmpty(c.Config.Hostname, c.ID[:12])
	hosts, resolv, noHosts := r.netEtc(ctx, c, hostname)
	dir := r.ctrRunDir(c.ID)
	if !noHosts {
		_ = os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644)
	}
	_ = os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(resolv), 0o644)
}

// --- DNS responder ---------------------------------------------------------

func (r *Runtime) dnsPidFile(name string) string {
	return filepath.Join(r.opts.RunRoot, "networks", "dns", name+".pid")
}

func readPidFile(p string) int {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	var pid int
	_, _ = fmt.Sscanf(string(b), "%d", &pid)
	return pid
}

// dnsAlive reports whether pid is the DNS responder of network name.
func dnsAlive(pid int, name string) bool {
	if !processAlive(pid) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(cmdline), "\x00")
	return slices.Contains(args, "dns-serve") && slices.Contains(args, name)
}

// ensureDNS starts network n's DNS responder unless it runs, and waits
// until it listens.
func (r *Runtime) ensureDNS(ctx context.Context, n *network.Network) error {
	if len(n.Gateways()) == 0 {
		return nil
	}
	unlock, err := state.LockNetwork(r.lockDir(), n.Name)
	if err != nil {
		return err
	}
	defer unlock()
	if dnsAlive(readPidFile(r.dnsPidFile(n.Name)), n.Name) {
		return nil
	}
	tracef("dns start %s", n.Name)
	defer tracef("dns started")
	return r.spawnDNS(n.Name)
}

// spawnDNS starts `servin network dns-serve NAME` in a session of its own,
// detached from the caller's terminal and pipes, and waits for the byte it
// writes once it listens. The caller holds the network lock.
func (r *Runtime) spawnDNS(name string) error {
	if r.opts.RuntimePath == "" {
		return errors.New("no servin binary configured to run the DNS responder (Options.RuntimePath)")
	}
	logPath := filepath.Join(filepath.Dir(r.dnsPidFile(name)), name+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	rd, wr, err := os.Pipe()
	if err != nil {
		return err
	}
	defer rd.Close()
	args := append(append(r.helperArgs(), "network", "dns-serve"), name)
	cmd := exec.Command(r.opts.RuntimePath, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{wr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	wr.Close()
	if err != nil {
		return fmt.Errorf("starting the DNS responder of network %s: %w", name, err)
	}
	go func() { _ = cmd.Wait() }() // reaps it should it exit while we run
	_ = rd.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1)
	if n, _ := rd.Read(buf); n == 1 {
		return nil
	}
	msg, _ := os.ReadFile(logPath)
	return fmt.Errorf("the DNS responder of network %s did not start: %s", name, strings.TrimSpace(string(msg)))
}

// maybeStopDNS stops the responder of a network none of whose containers
// is attached any more.
func (r *Runtime) maybeStopDNS(ctx context.Context, name string) {
	pidFile := r.dnsPidFile(name)
	if _, err := os.Stat(pidFile); err != nil {
		return
	}
	unlock, err := state.LockNetwork(r.lockDir(), name)
	if err != nil {
		return
	}
	defer unlock()
	eps, err := r.db.AttachedEndpoints(ctx, name)
	if err != nil || len(eps) > 0 {
		return
	}
	stopDNS(pidFile, name)
}

func stopDNS(pidFile, name string) {
	if pid := readPidFile(pidFile); dnsAlive(pid, name) {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Signal(os.Interrupt)
			deadline := time.Now().Add(2 * time.Second)
			for dnsAlive(pid, name) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if dnsAlive(pid, name) {
				_ = p.Kill()
			}
		}
	}
	_ = os.Remove(pidFile)
}

// ServeDNS runs network name's DNS responder in this process (`servin
// network dns-serve`): it answers until the network has no attached
// container (checked every second and on SIGINT/SIGTERM) and writes one
// byte to ready once it listens.
func (r *Runtime) ServeDNS(ctx context.Context, name string, ready *os.File, stop <-chan os.Signal) error {
	n, err := r.network(ctx, name)
	if err != nil {
		return err
	}
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	srv := &network.DNSServer{
		Listen:    n.Gateways(),
		Upstreams: network.Upstreams(n.DNSServers, network.ParseResolv(hostResolv)),
		Internal:  n.Internal,
		Records:   func(ctx context.Context) ([]network.Record, error) { return r.dnsRecords(ctx, name) },
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Shutdown()
	pidFile := r.dnsPidFile(name)
	if err := os.MkdirAll(filepath.Dir(pidFile), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile, []byte(fmt.Sprint(os.Getpid())), 0o600); err != nil {
		return err
	}
	if ready != nil {
		_, _ = ready.Write([]byte{1})
		ready.Close()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-stop:
			r.dnsExit(pidFile)
			return nil
		}
		// Decide under the network lock: a container attaching meanwhile
		// either sees this responder running or finds its pid file gone.
		unlock, err := state.LockNetwork(r.lockDir(), name)
		if err != nil {
			continue
		}
		eps, err := r.db.AttachedEndpoints(ctx, name)
		if err == nil && len(eps) == 0 {
			r.dnsExit(pidFile)
			unlock()
			return nil
		}
		unlock()
	}
}

func (r *Runtime) dnsExit(pidFile string) {
	if readPidFile(pidFile) == os.Getpid() {
		_ = os.Remove(pidFile)
		_ = os.Remove(strings.TrimSuffix(pidFile, ".pid") + ".log")
	}
}

func (r *Runtime) dnsRecords(ctx context.Context, name string) ([]network.Record, error) {
	eps, err := r.db.AttachedEndpoints(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make([]network.Record, 0, len(eps))
	for _, ep := range eps {
		var st endpointState
		var cfg endpointConfig
		if json.Unmarshal(ep.State, &st) != nil {
			continue
		}
		_ = json.Unmarshal(ep.Config, &cfg)
		rec := network.Record{Names: append([]string{ep.ContainerName, ep.ContainerID[:12]}, cfg.Aliases...)}
		for _, ip := range st.IPs {
			rec.IPs = append(rec.IPs, ip.IP())
		}
		out = append(out, rec)
	}
	return out, nil
}

// --- inspect ---------------------------------------------------------------

// InspectNetworkEndpoint is one entry of NetworkSettings.Networks.
type InspectNetworkEndpoint struct {
	EndpointID          string   `json:"EndpointID"`
	Gateway             string   `json:"Gateway"`
	IPAddress           string   `json:"IPAddress"`
	IPPrefixLen         int      `json:"IPPrefixLen"`
	IPv6Gateway         string   `json:"IPv6Gateway"`
	GlobalIPv6Address   string   `json:"GlobalIPv6Address"`
	GlobalIPv6PrefixLen int      `json:"GlobalIPv6PrefixLen"`
	MacAddress          string   `json:"MacAddress"`
	NetworkID           string   `json:"NetworkID"`
	Aliases             []string `json:"Aliases"`
}

// InspectPort is one host binding of a published port.
type InspectPort struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

func (r *Runtime) inspectNetwork(c *Container) InspectNetwork {
	ns := InspectNetwork{Ports: map[string]any{}}
	for _, p := range r.containerPorts(c) {
		key := fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol)
		list, _ := ns.Ports[key].([]InspectPort)
		ns.Ports[key] = append(list, InspectPort{HostIP: p.HostIP, HostPort: fmt.Sprint(p.HostPort)})
	}
	if c.Running() && c.Config.NetworkMode == NetModeBridge {
		ns.SandboxKey = r.netnsPath(c.ID)
	}
	if c.Config.NetworkMode != NetModeBridge {
		return ns
	}
	ctx := context.Background()
	eps, _ := r.db.ContainerEndpoints(ctx, c.ID)
	ns.Networks = map[string]*InspectNetworkEndpoint{}
	for i, ep := range eps {
		var cfg endpointConfig
		_ = json.Unmarshal(ep.Config, &cfg)
		e := &InspectNetworkEndpoint{NetworkID: ep.Network, Aliases: append([]string{c.ID[:12]}, cfg.Aliases...)}
		if n, err := r.network(ctx, ep.Network); err == nil {
			e.NetworkID = n.ID
		}
		var st endpointState
		if ep.State != nil && json.Unmarshal(ep.State, &st) == nil {
			e.MacAddress = st.MAC
			for _, ip := range st.IPs {
				if ip.IP().To4() != nil {
					e.IPAddress, e.IPPrefixLen, e.Gateway = ip.IP().String(), ip.PrefixLen(), ip.Gateway
				} else {
					e.GlobalIPv6Address, e.GlobalIPv6PrefixLen, e.IPv6Gateway = ip.IP().String(), ip.PrefixLen(), ip.Gateway
				}
			}
		}
		ns.Networks[ep.Network] = e
		if i == 0 {
			ns.IPAddress, ns.IPPrefixLen, ns.Gateway, ns.MacAddress = e.IPAddress, e.IPPrefixLen, e.Gateway, e.MacAddress
			ns.GlobalIPv6Address, ns.GlobalIPv6PrefixLen, ns.IPv6Gateway = e.GlobalIPv6Address, e.GlobalIPv6PrefixLen, e.IPv6Gateway
		}
	}
	return ns
}

// --- network commands ------------------------------------------------------

// NetworkView is a network as `network ls` and `network inspect` show it:
// its definition plus the containers attached to it.
type NetworkView struct {
	network.Network
	Containers map[string]NetworkContainer `json:"containers,omitempty"`
}

// NetworkContainer is one member in NetworkView.
type NetworkContainer struct {
	Name       string                  `json:"name"`
	Interfaces map[string]NetInterface `json:"interfaces,omitempty"`
}

// NetInterface is a member's interface in NetworkView.
type NetInterface struct {
	Subnets []map[string]string `json:"subnets,omitempty"`
	MAC     string              `json:"mac_address,omitempty"`
}

// CreateNetwork defines a new network.
func (r *Runtime) CreateNetwork(ctx context.Context, o *network.CreateOptions) (*network.Network, error) {
	// One creation at a time, so that two never pick the same free bridge
	// name or subnet.
	unlock, err := state.LockNetwork(r.lockDir(), "_create")
	if err != nil {
		return nil, err
	}
	defer unlock()
	taken := &network.Taken{Names: map[string]bool{}, Interfaces: network.HostInterfaces(), Subnets: network.HostRoutes()}
	if _, err := r.network(ctx, network.DefaultName); err != nil {
		return nil, err
	}
	recs, err := r.db.ListNetworks(ctx)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		n, err := decodeNetwork(rec)
		if err != nil {
			continue
		}
		taken.Names[n.Name] = true
		taken.Interfaces[n.NetworkInterface] = n.Driver == network.DriverBridge || taken.Interfaces[n.NetworkInterface]
		for _, s := range n.Subnets {
			if _, c, err := net.ParseCIDR(s.Subnet); err == nil {
				taken.Subnets = append(taken.Subnets, c)
			}
		}
	}
	n, err := network.New(o, taken)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	if err := r.db.AddNetwork(ctx, &state.Network{Name: n.Name, ID: n.ID, Created: n.Created, Config: raw}); err != nil {
		return nil, err
	}
	r.event(ctx, "network", "create", n.ID, n.Name, map[string]string{"driver": n.Driver})
	return n, nil
}

// Networks lists every network (the default one included), by name.
func (r *Runtime) Networks(ctx context.Context) ([]*NetworkView, error) {
	if _, err := r.network(ctx, network.DefaultName); err != nil {
		return nil, err
	}
	recs, err := r.db.ListNetworks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*NetworkView, 0, len(recs))
	for _, rec := range recs {
		n, err := decodeNetwork(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, &NetworkView{Network: *n})
	}
	return out, nil
}

// InspectNetwork returns a network with its members.
func (r *Runtime) InspectNetwork(ctx context.Context, nameOrID string) (*NetworkView, error) {
	n, err := r.network(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	v := &NetworkView{Network: *n, Containers: map[string]NetworkContainer{}}
	eps, err := r.db.NetworkEndpoints(ctx, n.Name)
	if err != nil {
		return nil, err
	}
	for _, ep := range eps {
		// Members count while they run, as in podman.
		if c, err := r.Container(ctx, ep.ContainerID); err != nil || !c.Running() {
			continue
		}
		nc := NetworkContainer{Name: ep.ContainerName, Interfaces: map[string]NetInterface{}}
		var st endpointState
		if ep.State != nil && json.Unmarshal(ep.State, &st) == nil {
			ni := NetInterface{MAC: st.MAC}
			for _, ip := range st.IPs {
				ni.Subnets = append(ni.Subnets, map[string]string{"ipnet": ip.Address, "gateway": ip.Gateway})
			}
			nc.Interfaces[st.IfName] = ni
		}
		v.Containers[ep.ContainerID] = nc
	}
	return v, nil
}

// NetworkExists reports whether a network exists.
func (r *Runtime) NetworkExists(ctx context.Context, nameOrID string) (bool, error) {
	_, err := r.network(ctx, nameOrID)
	if errors.Is(err, errdefs.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// RemoveNetwork deletes a network: with force, its member containers
// first (podman's rm -f). The default network cannot be removed.
func (r *Runtime) RemoveNetwork(ctx context.Context, nameOrID string, force bool, timeout *uint) (*network.Network, error) {
	n, err := r.network(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	if n.Name == network.DefaultName {
		return nil, fmt.Errorf("default network %s cannot be removed: %w", n.Name, errdefs.ErrFailedPrecondition)
	}
	if force {
		eps, err := r.db.NetworkEndpoints(ctx, n.Name)
		if err != nil {
			return nil, err
		}
		for _, ep := range eps {
			if _, err := r.Remove(ctx, ep.ContainerID, RemoveOptions{Force: true, Timeout: timeout}); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
				return nil, err
			}
		}
	}
	unlock, err := state.LockNetwork(r.lockDir(), n.Name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := r.db.RemoveNetwork(ctx, n.Name); err != nil {
		return nil, err
	}
	stopDNS(r.dnsPidFile(n.Name), n.Name)
	var errs []error
	if n.Driver == network.DriverBridge && !network.BridgeInUse(n.NetworkInterface) {
		if err := r.firewall().RemoveNetwork(n); err != nil {
			errs = append(errs, err)
		}
		if err := network.DeleteLink(n.NetworkInterface); err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.cni().RemoveNetworkState(n.Name); err != nil {
		errs = append(errs, err)
	}
	_ = state.RemoveNetworkLock(r.lockDir(), n.Name)
	r.event(ctx, "network", "remove", n.ID, n.Name, map[string]string{"driver": n.Driver})
	if len(errs) > 0 {
		fmt.Fprintf(os.Stderr, "WARN: removing network %s: %v\n", n.Name, errors.Join(errs...))
	}
	return n, nil
}

// PruneNetworks removes the networks no container is a member of (never
// the default network) and returns their names.
func (r *Runtime) PruneNetworks(ctx context.Context, keep func(*network.Network) bool) ([]string, error) {
	views, err := r.Networks(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := r.db.EndpointCounts(ctx)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, v := range views {
		if v.Name == network.DefaultName || counts[v.Name] > 0 || (keep != nil && keep(&v.Network)) {
			continue
		}
		if _, err := r.RemoveNetwork(ctx, v.Name, false, nil); err != nil {
			if !errors.Is(err, errdefs.ErrInUse) && !errors.Is(err, errdefs.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		removed = append(removed, v.Name)
	}
	return removed, errors.Join(errs...)
}

// ConnectOptions are the per-network settings of `network connect`.
type ConnectOptions struct {
	Aliases []string
	IP      string
	IP6     string
	MAC     string
}

// Connect makes a container a member of a network, attaching it at once
// when it runs.
func (r *Runtime) Connect(ctx context.Context, netName, ctrName string, o ConnectOptions) error {
	n, err := r.network(ctx, netName)
	if err != nil {
		return err
	}
	_, err = r.withLock(ctx, ctrName, func(c *Container) error {
		if c.Config.NetworkMode != NetModeBridge {
			return fmt.Errorf("container %s is not in bridge networking mode (it uses %s): %w", c.Name, c.Config.NetworkMode, errdefs.ErrFailedPrecondition)
		}
		eps, err := r.db.ContainerEndpoints(ctx, c.ID)
		if err != nil {
			return err
		}
		ep := endpointConfig{IfName: freeIfName(eps), MAC: o.MAC}
		if n.Name != network.DefaultName {
			ep.Aliases = o.Aliases
		}
		for _, s := range []string{o.IP, o.IP6} {
			if s == "" {
				continue
			}
			ip := net.ParseIP(s)
			if ip == nil || !n.Contains(ip) {
				return invalidArg("requested static IP %s is not in a subnet of network %s", s, n.Name)
			}
			ep.IPs = append(ep.IPs, ip.String())
		}
		raw, err := json.Marshal(ep)
		if err != nil {
			return err
		}
		if err := r.db.AddEndpoint(ctx, n.Name, c.ID, raw); err != nil {
			return err
		}
		if c.Running() {
			if err := r.attachRunning(ctx, c, n, &state.Endpoint{Network: n.Name, ContainerID: c.ID, Config: raw}); err != nil {
				_ = r.db.RemoveEndpoint(ctx, n.Name, c.ID)
				return err
			}
		}
		r.event(ctx, "network", "connect", n.ID, n.Name, map[string]string{"container": c.ID, "containerName": c.Name})
		return nil
	})
	return err
}

func freeIfName(eps []*state.Endpoint) string {
	used := map[string]bool{}
	for _, ep := range eps {
		var cfg endpointConfig
		if json.Unmarshal(ep.Config, &cfg) == nil {
			used[cfg.IfName] = true
		}
	}
	for i := 0; ; i++ {
		if name := fmt.Sprintf("eth%d", i); !used[name] {
			return name
		}
	}
}

// attachRunning adds one network to a running container.
func (r *Runtime) attachRunning(ctx context.Context, c *Container, n *network.Network, ep *state.Endpoint) error {
	sb, err := loadSandbox(r.sandboxPath(c.ID))
	if err != nil {
		return err
	}
	if sb == nil || !network.IsNSMounted(sb.NetNS) {
		return fmt.Errorf("container %s has no network namespace of servin's to connect: %w", c.Name, errdefs.ErrFailedPrecondition)
	}
	_, a, err := r.attach(ctx, c, sb, ep, false)
	if err != nil {
		_ = r.detachAttachment(ctx, c, sb, n.Name)
		return err
	}
	if err := r.addContainerRules(c.ID, sb, []*network.Attachment{a}); err != nil {
		_ = r.detachAttachment(ctx, c, sb, n.Name)
		return err
	}
	if err := r.db.SetEndpointStates(ctx, c.ID, map[string]json.RawMessage{n.Name: endpointStateJSON(a)}); err != nil {
		return err
	}
	if n.DNSEnabled {
		if err := r.ensureDNS(ctx, n); err != nil {
			return err
		}
	}
	r.refreshEtc(ctx, c)
	return nil
}

// detachAttachment undoes one attachment of a running container.
func (r *Runtime) detachAttachment(ctx context.Context, c *Container, sb *sandbox, netName string) error {
	var keep []*network.Attachment
	var errs []error
	for _, a := range sb.Attachments {
		if a.Network != netName {
			keep = append(keep, a)
			continue
		}
		rules := network.ContainerRules(c.ID, []*network.Attachment{a})
		if len(rules) > 0 {
			if err := r.firewall().DeleteRules(rules, network.CtrComment(c.ID)+" "+a.IfName); err != nil {
				errs = append(errs, err)
			}
		}
		if err := r.cni().Del(ctx, c.ID, sb.NetNS, a); err != nil {
			errs = append(errs, err)
		}
	}
	sb.Attachments = keep
	if err := sb.save(r.sandboxPath(c.ID)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Disconnect ends a container's membership of a network, detaching it at
// once when it runs.
func (r *Runtime) Disconnect(ctx context.Context, netName, ctrName string, force bool) error {
	n, err := r.network(ctx, netName)
	if err != nil {
		return err
	}
	_, err = r.withLock(ctx, ctrName, func(c *Container) error {
		if c.Running() && c.Config.NetworkMode == NetModeBridge {
			if sb, err := loadSandbox(r.sandboxPath(c.ID)); err == nil && sb != nil {
				if err := r.detachAttachment(ctx, c, sb, n.Name); err != nil && !force {
					return err
				}
			}
		}
		if err := r.db.RemoveEndpoint(ctx, n.Name, c.ID); err != nil {
			return err
		}
		if c.Running() {
			r.refreshEtc(ctx, c)
			r.maybeStopDNS(ctx, n.Name)
		}
		r.event(ctx, "network", "disconnect", n.ID, n.Name, map[string]string{"container": c.ID, "containerName": c.Name})
		return nil
	})
	return err
}

// ReloadNetworks re-applies the firewall rules of running containers
// (after an iptables flush): servin's chains and network rules, each
// container's rules and its port mappings. It returns the containers
// reloaded.
func (r *Runtime) ReloadNetworks(ctx context.Context, names []string) ([]string, error) {
	cs, err := r.Containers(ctx)
	if err != nil {
		return nil, err
	}
	fw := r.firewall()
	fw.ForgetMarkers()
	var done []string
	var errs []error
	for _, c := range cs {
		if !c.Running() || c.Config.NetworkMode != NetModeBridge {
			continue
		}
		if len(names) > 0 && !slices.Contains(names, c.Name) && !slices.Contains(names, c.ID) && !slices.ContainsFunc(names, func(s string) bool { return strings.HasPrefix(c.ID, s) }) {
			continue
		}
		if err := r.reloadContainer(ctx, c, fw); err != nil {
			errs = append(errs, fmt.Errorf("container %s: %w", c.Name, err))
			continue
		}
		done = append(done, c.ID)
	}
	return done, errors.Join(errs...)
}

func (r *Runtime) reloadContainer(ctx context.Context, c *Container, fw *network.Firewall) error {
	sb, err := loadSandbox(r.sandboxPath(c.ID))
	if err != nil || sb == nil {
		return err
	}
	for _, a := range sb.Attachments {
		if n, err := r.network(ctx, a.Network); err == nil {
			if err := r.ensureNetworkRules(n); err != nil {
				return err
			}
		}
	}
	if err := fw.EnsureRules(network.ContainerRules(c.ID, sb.Attachments)); err != nil {
		return err
	}
	for _, a := range sb.Attachments {
		if err := r.cni().ReloadPorts(ctx, c.ID, sb.NetNS, a); err != nil {
			return err
		}
	}
	return nil
}

// NetworkUseCounts returns how many containers are members of each
// network that has members.
func (r *Runtime) NetworkUseCounts(ctx context.Context) (map[string]int, error) {
	return r.db.EndpointCounts(ctx)
}
