package network

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
)

// DNSDomain is the search domain under which a network's DNS responder
// answers container names (name and name.dns.servin both resolve).
const DNSDomain = "dns.servin"

// HostEntry is one line of /etc/hosts.
type HostEntry struct {
	IP    string
	Names []string
}

// HostsOptions describe a container's /etc/hosts.
type HostsOptions struct {
	Own      []HostEntry // the container's addresses, with its hostname and name
	AddHosts []string    // --add-host HOST:IP
	// HostGateway answers host.containers.internal (and the
	// "host-gateway" of --add-host): the first gateway.
	HostGateway string
	// Base replaces the localhost lines (host mode: the host's own file).
	Base []byte
}

// ParseAddHost validates --add-host HOST:IP (IP may be an IPv6 address or
// host-gateway).
func ParseAddHost(s string) (host, ip string, err error) {
	host, ip, ok := strings.Cut(s, ":")
	if !ok || host == "" || ip == "" {
		return "", "", invalid("invalid --add-host %q: HOST:IP expected", s)
	}
	if ip != "host-gateway" && net.ParseIP(strings.Trim(ip, "[]")) == nil {
		return "", "", invalid("invalid --add-host %q: %q is not an IP address", s, ip)
	}
	return host, strings.Trim(ip, "[]"), nil
}

// Hosts renders /etc/hosts.
func Hosts(o HostsOptions) string {
	var b strings.Builder
	if o.Base != nil {
		b.Write(o.Base)
		if len(o.Base) > 0 && !bytes.HasSuffix(o.Base, []byte("\n")) {
			b.WriteByte('\n')
		}
	} else {
		b.WriteString("127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n")
		b.WriteString("::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n")
	}
	for _, h := range o.AddHosts {
		host, ip, err := ParseAddHost(h)
		if err != nil {
			continue
		}
		if ip == "host-gateway" {
			if o.HostGateway == "" {
				continue
			}
			ip = o.HostGateway
		}
		fmt.Fprintf(&b, "%s\t%s\n", ip, host)
	}
	for _, e := range o.Own {
		fmt.Fprintf(&b, "%s\t%s\n", e.IP, strings.Join(e.Names, " "))
	}
	if o.HostGateway != "" {
		fmt.Fprintf(&b, "%s\thost.containers.internal host.docker.internal\n", o.HostGateway)
	}
	return b.String()
}

// Resolv is a parsed resolv.conf.
type Resolv struct {
	Nameservers []string
	Search      []string
	Options     []string
}

// ParseResolv reads the parts of resolv.conf servin carries over.
func ParseResolv(data []byte) Resolv {
	var r Resolv
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			r.Nameservers = append(r.Nameservers, f[1])
		case "search", "domain":
			r.Search = f[1:]
		case "options":
			r.Options = append(r.Options, f[1:]...)
		}
	}
	return r
}

// ResolvOptions describe a container's /etc/resolv.conf.
type ResolvOptions struct {
	Host       Resolv   // the host's
	NetworkDNS []string // responders of the container's DNS-enabled networks
	DNS        []string // --dns
	Search     []string // --dns-search ("." for none)
	Options    []string // --dns-option
	HostMode   bool     // the container shares the host's network
}

// ResolvConf renders /etc/resolv.conf. User flags win; then the networks'
// DNS responders (which forward other names to the host's resolvers);
// then the host's resolvers, without loopback ones the container could
// not reach from its own namespace.
func ResolvConf(o ResolvOptions) string {
	servers := o.DNS
	search := o.Host.Search
	if len(servers) == 0 {
		switch {
		case len(o.NetworkDNS) > 0:
			servers = o.NetworkDNS
			search = append([]string{DNSDomain}, search...)
		case o.HostMode:
			servers = o.Host.Nameservers
		default:
			for _, s := range o.Host.Nameservers {
				if ip := net.ParseIP(s); ip != nil && !ip.IsLoopback() {
					servers = append(servers, s)
				}
			}
			if len(servers) == 0 {
				servers = []string{"8.8.8.8", "8.8.4.4"}
			}
		}
	}
	if len(o.Search) > 0 {
		search = nil
		if !(len(o.Search) == 1 && o.Search[0] == ".") {
			search = o.Search
		}
	}
	options := o.Host.Options
	if len(o.Options) > 0 {
		options = o.Options
	}
	var b strings.Builder
	if len(search) > 0 {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	for _, s := range servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(options) > 0 {
		b.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	return b.String()
}
