package main

// network: create, ls, inspect, rm, prune, exists, connect, disconnect,
// reload, and the hidden dns-serve (a network's DNS responder process).
// Also the network flags of create/run.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/network"
)

// networkFlags are create/run's network flags besides --network.
func networkFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "network-alias", Usage: "add a DNS alias for the container on its networks"},
		&cli.StringFlag{Name: "ip", Usage: "static IPv4 address on the network"},
		&cli.StringFlag{Name: "ip6", Usage: "static IPv6 address on the network"},
		&cli.StringFlag{Name: "mac-address", Usage: "MAC address of the container's interface"},
		&cli.StringSliceFlag{Name: "dns", Usage: "DNS servers for /etc/resolv.conf"},
		&cli.StringSliceFlag{Name: "dns-search", Usage: "DNS search domains (\".\" for none)"},
		&cli.StringSliceFlag{Name: "dns-option", Aliases: []string{"dns-opt"}, Usage: "DNS options for /etc/resolv.conf"},
		&cli.StringSliceFlag{Name: "add-host", Usage: "add a line to /etc/hosts: HOST:IP"},
		&cli.BoolFlag{Name: "no-hosts", Usage: "do not generate /etc/hosts"},
		&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "publish ports: [IP:][HOSTPORT:]CTRPORT[/tcp|udp]"},
		&cli.BoolFlag{Name: "publish-all", Aliases: []string{"P"}, Usage: "publish the image's exposed ports on random host ports"},
	}
}

// networkOptions maps --network and the network flags onto CreateOptions.
func networkOptions(c *cli.Context, o *libservin.CreateOptions) {
	nets := c.StringSlice("network")
	if len(nets) > 0 {
		o.Network = nets[0]
		o.NetworkOpts.Networks = nets[1:]
	}
	o.NetworkOpts = libservin.NetworkOptions{
		Networks: o.NetworkOpts.Networks,
		Aliases:  c.StringSlice("network-alias"),
		IP:       c.String("ip"), IP6: c.String("ip6"), MAC: c.String("mac-address"),
		DNS: c.StringSlice("dns"), DNSSearch: c.StringSlice("dns-search"), DNSOptions: c.StringSlice("dns-option"),
		AddHosts: c.StringSlice("add-host"), NoHosts: c.Bool("no-hosts"),
		Publish: c.StringSlice("publish"), PublishAll: c.Bool("publish-all"),
	}
}

func networkCommand() *cli.Command {
	return &cli.Command{
		Name:  "network",
		Usage: "manage networks",
		Subcommands: []*cli.Command{
			networkCreateCommand(), networkListCommand(), networkInspectCommand(), networkRmCommand(),
			networkPruneCommand(), networkExistsCommand(), networkConnectCommand(), networkDisconnectCommand(),
			networkReloadCommand(), networkDNSServeCommand(),
		},
	}
}

func networkCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a network",
		ArgsUsage: "[NAME]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "bridge", Usage: "driver: bridge, macvlan or ipvlan"},
			&cli.StringSliceFlag{Name: "subnet", Usage: "subnet in CIDR form (repeat for dual stack)"},
			&cli.StringSliceFlag{Name: "gateway", Usage: "gateway of the subnet (in --subnet order)"},
			&cli.StringSliceFlag{Name: "ip-range", Usage: "range to hand addresses out from: CIDR or START-END"},
			&cli.BoolFlag{Name: "internal", Usage: "no route out of the network"},
			&cli.BoolFlag{Name: "ipv6", Usage: "dual stack: add an IPv6 subnet"},
			&cli.BoolFlag{Name: "disable-dns", Usage: "no DNS responder on the network"},
			&cli.StringSliceFlag{Name: "dns", Usage: "upstream DNS servers of the network's responder"},
			&cli.StringSliceFlag{Name: "label", Usage: "set metadata (key=value)"},
			&cli.StringSliceFlag{Name: "opt", Aliases: []string{"o"}, Usage: "driver option: mtu=, parent=, mode="},
			&cli.StringFlag{Name: "interface-name", Usage: "bridge name (or parent interface of macvlan/ipvlan)"},
			&cli.BoolFlag{Name: "ignore", Usage: "do not fail if the network exists"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() > 1 {
				return fmt.Errorf("too many arguments: network create takes at most one name: %w", errdefs.ErrInvalidArgument)
			}
			opts, err := parseKeyValues("opt", c.StringSlice("opt"))
			if err != nil {
				return err
			}
			labels, err := parseKeyValues("label", c.StringSlice("label"))
			if err != nil {
				return err
			}
			n, err := rt.CreateNetwork(c.Context, &network.CreateOptions{
				Name: c.Args().First(), Driver: c.String("driver"), Interface: c.String("interface-name"),
				Subnets: c.StringSlice("subnet"), Gateways: c.StringSlice("gateway"), IPRanges: c.StringSlice("ip-range"),
				Internal: c.Bool("internal"), IPv6: c.Bool("ipv6"), DisableDNS: c.Bool("disable-dns"),
				DNSServers: c.StringSlice("dns"), Labels: labels, Options: opts,
			})
			if err != nil {
				if c.Bool("ignore") && errors.Is(err, errdefs.ErrAlreadyExists) {
					fmt.Println(c.Args().First())
					return nil
				}
				return err
			}
			fmt.Println(n.Name)
			return nil
		}),
	}
}

// netRow is what `network ls --format` templates see.
type netRow struct {
	ID               string
	Name             string
	Driver           string
	Labels           string
	Created          string
	Internal         bool
	IPv6Enabled      bool
	DNSEnabled       bool
	NetworkInterface string
	Subnets          string
}

func newNetRow(v *libservin.NetworkView, noTrunc bool) netRow {
	id := v.ID
	if !noTrunc {
		id = shortID(id)
	}
	var labels, subnets []string
	for k, val := range v.Labels {
		labels = append(labels, k+"="+val)
	}
	sort.Strings(labels)
	for _, s := range v.Subnets {
		subnets = append(subnets, s.Subnet)
	}
	return netRow{
		ID: id, Name: v.Name, Driver: v.Driver, Labels: strings.Join(labels, ","),
		Created: v.Created.Local().String(), Internal: v.Internal, IPv6Enabled: v.IPv6Enabled,
		DNSEnabled: v.DNSEnabled, NetworkInterface: v.NetworkInterface, Subnets: strings.Join(subnets, ","),
	}
}

func networkListCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "list networks",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter: name, id, driver, label, label!, dangling, until"},
			&cli.StringFlag{Name: "format", Usage: "Go template, or json"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only network names"},
			&cli.BoolFlag{Name: "noheading", Aliases: []string{"n"}, Usage: "do not print the header"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate IDs"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			views, err := rt.Networks(c.Context)
			if err != nil {
				return err
			}
			match, err := networkFilter(c, rt, c.StringSlice("filter"))
			if err != nil {
				return err
			}
			var rows []any
			sel := []*libservin.NetworkView{}
			for _, v := range views {
				if match(v) {
					rows = append(rows, newNetRow(v, c.Bool("no-trunc")))
					sel = append(sel, v)
				}
			}
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			format := c.String("format")
			switch {
			case c.Bool("quiet"):
				format = "{{.Name}}"
			case isJSONFormat(format):
				return writeJSON(out, sel, "     ", false)
			case format == "":
				format = "table {{.ID}}\t{{.Name}}\t{{.Driver}}"
			}
			p, err := newRowPrinter("network ls", format, &netRow{}, map[string]string{"ID": "NETWORK ID"})
			if err != nil {
				return err
			}
			return p.print(out, rows, c.Bool("noheading"))
		}),
	}
}

// networkFilter compiles --filter values: values of one key are ORed, keys
// ANDed.
func networkFilter(c *cli.Context, rt *libservin.Runtime, flags []string) (func(*libservin.NetworkView) bool, error) {
	filters, err := parseFilters(flags)
	if err != nil {
		return nil, err
	}
	var counts map[string]int
	var preds []func(*libservin.NetworkView) bool
	for key, vals := range filters {
		var one []func(*libservin.NetworkView) bool
		for _, val := range vals {
			val := val
			switch key {
			case "name":
				re, err := regexp.Compile(val)
				if err != nil {
					return nil, fmt.Errorf("invalid name filter %q: %w: %w", val, err, errdefs.ErrInvalidArgument)
				}
				one = append(one, func(v *libservin.NetworkView) bool { return re.MatchString(v.Name) })
			case "id":
				one = append(one, func(v *libservin.NetworkView) bool { return strings.HasPrefix(v.ID, val) })
			case "driver":
				one = append(one, func(v *libservin.NetworkView) bool { return v.Driver == val })
			case "label":
				one = append(one, func(v *libservin.NetworkView) bool { return matchLabel(v.Labels, val) })
			case "label!":
				one = append(one, func(v *libservin.NetworkView) bool { return !matchLabel(v.Labels, val) })
			case "dangling":
				want := val == "true" || val == "1"
				if counts == nil {
					if counts, err = rt.NetworkUseCounts(c.Context); err != nil {
						return nil, err
					}
				}
				one = append(one, func(v *libservin.NetworkView) bool { return (counts[v.Name] == 0) == want })
			case "until":
				t, err := parseTimeFlag(val, false, time.Now())
				if err != nil {
					return nil, err
				}
				one = append(one, func(v *libservin.NetworkView) bool { return v.Created.Before(t) })
			default:
				return nil, fmt.Errorf("invalid network filter %q: %w", key, errdefs.ErrInvalidArgument)
			}
		}
		preds = append(preds, func(v *libservin.NetworkView) bool {
			for _, m := range one {
				if m(v) {
					return true
				}
			}
			return false
		})
	}
	return func(v *libservin.NetworkView) bool {
		for _, p := range preds {
			if !p(v) {
				return false
			}
		}
		return true
	}, nil
}

func networkInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show the configuration of networks",
		ArgsUsage: "NETWORK [NETWORK...]",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Go template"}},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "network inspect NETWORK"); err != nil {
				return err
			}
			var views []any
			var last error
			for _, name := range c.Args().Slice() {
				v, err := rt.InspectNetwork(c.Context, name)
				if err != nil {
					if last != nil {
						fmt.Fprintf(os.Stderr, "Error: %s\n", last)
					}
					last = err
					continue
				}
				views = append(views, v)
			}
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			if f := c.String("format"); f != "" && !isJSONFormat(f) {
				p, err := newRowPrinter("network inspect", f, &libservin.NetworkView{}, nil)
				if err != nil {
					return err
				}
				if err := p.print(out, views, true); err != nil {
					return err
				}
				return last
			}
			if views == nil {
				views = []any{}
			}
			if err := writeJSON(out, views, "     ", false); err != nil {
				return err
			}
			return last
		}),
	}
}

func networkRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "remove networks",
		ArgsUsage: "NETWORK [NETWORK...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "remove the containers using the network too"},
			&cli.UintFlag{Name: "time", Aliases: []string{"t"}, Usage: "seconds to wait for containers to stop"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "network rm NETWORK"); err != nil {
				return err
			}
			var timeout *uint
			if c.IsSet("time") {
				t := c.Uint("time")
				timeout = &t
			}
			// podman's codes: 1 no such network, 2 in use, 125 otherwise.
			code := 0
			for _, name := range c.Args().Slice() {
				_, err := rt.RemoveNetwork(c.Context, name, c.Bool("force"), timeout)
				if err == nil {
					fmt.Println(name)
					continue
				}
				fmt.Fprintf(os.Stderr, "Error: %s\n", err)
				switch {
				case errors.Is(err, errdefs.ErrNotFound):
					code = max(code, 1)
				case errors.Is(err, errdefs.ErrInUse):
					code = max(code, 2)
				default:
					code = 125
				}
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		}),
	}
}

func networkPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove networks no container uses",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt"},
			&cli.StringSliceFlag{Name: "filter", Usage: "label, label!, until"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			match, err := networkFilter(c, rt, c.StringSlice("filter"))
			if err != nil {
				return err
			}
			names, err := rt.PruneNetworks(c.Context, func(n *network.Network) bool {
				return !match(&libservin.NetworkView{Network: *n})
			})
			for _, n := range names {
				fmt.Println(n)
			}
			return err
		}),
	}
}

func networkExistsCommand() *cli.Command {
	return &cli.Command{
		Name:      "exists",
		Usage:     "check whether a network exists (exit 0) or not (exit 1)",
		ArgsUsage: "NETWORK",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "network exists NETWORK"); err != nil {
				return err
			}
			ok, err := rt.NetworkExists(c.Context, c.Args().First())
			if err != nil {
				return err
			}
			if !ok {
				return exitError{1}
			}
			return nil
		}),
	}
}

func networkConnectCommand() *cli.Command {
	return &cli.Command{
		Name:      "connect",
		Usage:     "connect a container to a network",
		ArgsUsage: "NETWORK CONTAINER",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "alias", Usage: "DNS alias of the container on the network"},
			&cli.StringFlag{Name: "ip", Usage: "static IPv4 address"},
			&cli.StringFlag{Name: "ip6", Usage: "static IPv6 address"},
			&cli.StringFlag{Name: "mac-address", Usage: "MAC address"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 2 {
				return fmt.Errorf("network connect requires exactly 2 arguments: NETWORK CONTAINER: %w", errdefs.ErrInvalidArgument)
			}
			return rt.Connect(c.Context, c.Args().Get(0), c.Args().Get(1), libservin.ConnectOptions{
				Aliases: c.StringSlice("alias"), IP: c.String("ip"), IP6: c.String("ip6"), MAC: c.String("mac-address"),
			})
		}),
	}
}

func networkDisconnectCommand() *cli.Command {
	return &cli.Command{
		Name:      "disconnect",
		Usage:     "disconnect a container from a network",
		ArgsUsage: "NETWORK CONTAINER",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "disconnect even if tearing down the interface fails"}},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 2 {
				return fmt.Errorf("network disconnect requires exactly 2 arguments: NETWORK CONTAINER: %w", errdefs.ErrInvalidArgument)
			}
			return rt.Disconnect(c.Context, c.Args().Get(0), c.Args().Get(1), c.Bool("force"))
		}),
	}
}

func networkReloadCommand() *cli.Command {
	return &cli.Command{
		Name:      "reload",
		Usage:     "re-apply the firewall rules of running containers (after a firewall flush)",
		ArgsUsage: "[CONTAINER...]",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "all running containers"}},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if !c.Bool("all") && c.NArg() == 0 {
				return fmt.Errorf("network reload requires containers or --all: %w", errdefs.ErrInvalidArgument)
			}
			ids, err := rt.ReloadNetworks(c.Context, c.Args().Slice())
			for _, id := range ids {
				fmt.Println(id)
			}
			return err
		}),
	}
}

// networkDNSServeCommand is the DNS responder of one network, started on
// demand by servin itself: it exits when the network's last container goes.
func networkDNSServeCommand() *cli.Command {
	return &cli.Command{
		Name:      "dns-serve",
		Hidden:    true,
		Usage:     "run a network's DNS responder (started by servin)",
		ArgsUsage: "NETWORK",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "network dns-serve NETWORK"); err != nil {
				return err
			}
			stop := make(chan os.Signal, 1)
			signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
			ready := os.NewFile(3, "ready")
			return rt.ServeDNS(c.Context, c.Args().First(), ready, stop)
		}),
	}
}

// findCNIPlugins locates the CNI plugins servin was built with: beside
// this binary (bin/cni) or in ../libexec/servin/cni, never on PATH, so
// that servin runs exactly the plugins it was built and tested with.
func findCNIPlugins() string {
	if d := os.Getenv("SERVIN_CNI_PLUGINS"); d != "" {
		return d
	}
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(self); err == nil {
		self = real
	}
	dir := filepath.Dir(self)
	for _, p := range []string{
		filepath.Join(dir, "cni"),
		filepath.Join(dir, "..", "libexec", "servin", "cni"),
	} {
		if st, err := os.Stat(filepath.Join(p, "bridge")); err == nil && !st.IsDir() {
			return filepath.Clean(p)
		}
	}
	return ""
}

func portCommand() *cli.Command {
	return &cli.Command{
		Name:      "port",
		Usage:     "list a container's port mappings",
		ArgsUsage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "all running containers"},
			&cli.BoolFlag{Name: "latest", Aliases: []string{"l"}, Usage: "the latest container"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			return runPort(c, rt)
		}),
	}
}
