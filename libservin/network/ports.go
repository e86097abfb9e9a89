package network

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// PortMapping publishes container ports on the host: Range consecutive
// ports from HostPort (0: any free port, chosen at start) to ContainerPort.
// Its JSON is podman's port mapping (ps --format json shows it).
type PortMapping struct {
	HostIP        string `json:"host_ip"`
	ContainerPort uint16 `json:"container_port"`
	HostPort      uint16 `json:"host_port"`
	Range         uint16 `json:"range"`
	Protocol      string `json:"protocol"`
}

// ParsePublish parses -p [IP:][HOSTPORT:]CTRPORT[/PROTO], where the ports
// may be ranges (8000-8010) and IP may be bracketed IPv6 ([::1]).
func ParsePublish(spec string) ([]PortMapping, error) {
	bad := func(why string) error { return invalid("invalid port format %q: %s", spec, why) }
	rest, proto := spec, "tcp"
	if i := strings.LastIndexByte(spec, '/'); i >= 0 {
		rest, proto = spec[:i], strings.ToLower(spec[i+1:])
	}
	var protos []string
	for _, p := range strings.Split(proto, ",") {
		switch p {
		case "tcp", "udp", "sctp":
			protos = append(protos, p)
		default:
			return nil, bad("protocol must be tcp, udp or sctp")
		}
	}
	var hostIP, hostPart, ctrPart string
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 || len(rest) < end+2 || rest[end+1] != ':' {
			return nil, bad("unterminated IPv6 address")
		}
		hostIP, rest = rest[1:end], rest[end+2:]
		hostPart, ctrPart, _ = cutLast(rest)
	} else {
		parts := strings.Split(rest, ":")
		switch len(parts) {
		case 1:
			ctrPart = parts[0]
		case 2:
			hostPart, ctrPart = parts[0], parts[1]
		case 3:
			hostIP, hostPart, ctrPart = parts[0], parts[1], parts[2]
		default:
			return nil, bad("too many colons")
		}
	}
	if hostIP != "" && net.ParseIP(hostIP) == nil {
		return nil, bad("host IP is not an IP address")
	}
	ctrStart, ctrN, err := parseRange(ctrPart)
	if err != nil || ctrStart == 0 {
		return nil, bad("container port must be a number or range between 1 and 65535")
	}
	var hostStart, hostN uint16
	if hostPart != "" {
		hostStart, hostN, err = parseRange(hostPart)
		if err != nil || hostStart == 0 {
			return nil, bad("host port must be a number or range between 1 and 65535")
		}
		if hostN != ctrN {
			return nil, bad("host and container port ranges have different sizes")
		}
	}
	var out []PortMapping
	for _, p := range protos {
		out = append(out, PortMapping{HostIP: hostIP, ContainerPort: ctrStart, HostPort: hostStart, Range: ctrN, Protocol: p})
	}
	return out, nil
}

func cutLast(s string) (string, string, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", s, false
	}
	return s[:i], s[i+1:], true
}

func parseRange(s string) (start, n uint16, err error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.ParseUint(a, 10, 16)
	if err != nil {
		return 0, 0, err
	}
	hi := lo
	if isRange {
		if hi, err = strconv.ParseUint(b, 10, 16); err != nil {
			return 0, 0, err
		}
	}
	if hi < lo || lo == 0 {
		return 0, 0, fmt.Errorf("bad range %q", s)
	}
	return uint16(lo), uint16(hi - lo + 1), nil
}

// ExposedPorts turns an image's ExposedPorts ("80/tcp") into mappings to
// random host ports (-P), skipping ports already published.
func ExposedPorts(exposed map[string]struct{}, published []PortMapping) []PortMapping {
	keys := make([]string, 0, len(exposed))
	for k := range exposed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []PortMapping
	for _, k := range keys {
		port, proto, _ := strings.Cut(k, "/")
		if proto == "" {
			proto = "tcp"
		}
		start, n, err := parseRange(port)
		if err != nil {
			continue
		}
		for p := start; p < start+n; p++ {
			if !isPublished(published, p, proto) {
				out = append(out, PortMapping{ContainerPort: p, Range: 1, Protocol: proto})
			}
		}
	}
	return out
}

func isPublished(ms []PortMapping, port uint16, proto string) bool {
	for _, m := range ms {
		if m.Protocol == proto && port >= m.ContainerPort && port < m.ContainerPort+m.Range {
			return true
		}
	}
	return false
}

// CNIPortMap is one entry of the portmap plugin's portMappings capability.
type CNIPortMap struct {
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

// AssignHostPorts returns the mappings with every HostPort 0 replaced by a
// port that is free on the host now.
func AssignHostPorts(ms []PortMapping) ([]PortMapping, error) {
	out := make([]PortMapping, 0, len(ms))
	for _, m := range ms {
		if m.HostPort != 0 {
			out = append(out, m)
			continue
		}
		// Each port of a random range is chosen on its own.
		for i := uint16(0); i < max(m.Range, 1); i++ {
			p, err := freePort(m.HostIP, m.Protocol)
			if err != nil {
				return nil, err
			}
			out = append(out, PortMapping{HostIP: m.HostIP, ContainerPort: m.ContainerPort + i, HostPort: p, Range: 1, Protocol: m.Protocol})
		}
	}
	return out, nil
}

func freePort(hostIP, proto string) (uint16, error) {
	addr := net.JoinHostPort(hostIP, "0")
	if proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return 0, fmt.Errorf("finding a free host port: %w", err)
		}
		defer c.Close()
		return uint16(c.LocalAddr().(*net.UDPAddr).Port), nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("finding a free host port: %w", err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port), nil
}

// CNIPortMaps expands mappings into the portmap plugin's entries. A host
// port 0 (chosen at start) stays 0 for every port of its range.
func CNIPortMaps(ms []PortMapping) []CNIPortMap {
	var out []CNIPortMap
	for _, m := range ms {
		for i := uint16(0); i < max(m.Range, 1); i++ {
			host := 0
			if m.HostPort != 0 {
				host = int(m.HostPort + i)
			}
			out = append(out, CNIPortMap{
				HostPort: host, ContainerPort: int(m.ContainerPort + i),
				Protocol: m.Protocol, HostIP: m.HostIP,
			})
		}
	}
	return out
}

// CollapsePorts groups single-port entries into ranges the way podman
// lists a container's ports: per host IP and protocol (in that order),
// by host port with unknown (0) host ports last, consecutive host ports
// that map to consecutive container ports joined into one mapping.
func CollapsePorts(ps []CNIPortMap) []PortMapping {
	if len(ps) == 0 {
		return nil
	}
	sorted := append([]CNIPortMap(nil), ps...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.HostIP != b.HostIP {
			return a.HostIP < b.HostIP
		}
		if a.Protocol != b.Protocol {
			return a.Protocol < b.Protocol
		}
		if (a.HostPort == 0) != (b.HostPort == 0) {
			return b.HostPort == 0
		}
		if a.HostPort != b.HostPort {
			return a.HostPort < b.HostPort
		}
		return a.ContainerPort < b.ContainerPort
	})
	var out []PortMapping
	for _, p := range sorted {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.HostIP == p.HostIP && last.Protocol == p.Protocol && last.HostPort != 0 &&
				int(last.HostPort)+int(last.Range) == p.HostPort && int(last.ContainerPort)+int(last.Range) == p.ContainerPort {
				last.Range++
				continue
			}
		}
		out = append(out, PortMapping{HostIP: p.HostIP, ContainerPort: uint16(p.ContainerPort), HostPort: uint16(p.HostPort), Range: 1, Protocol: p.Protocol})
	}
	return out
}

// FormatPorts renders mappings as podman's PORTS column does:
// "0.0.0.0:8080->80/tcp, 127.0.0.1:9000-9001->9000-9001/udp".
func FormatPorts(ms []PortMapping) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		ip := m.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		if m.Range > 1 {
			parts = append(parts, fmt.Sprintf("%s:%d-%d->%d-%d/%s", ip, m.HostPort, int(m.HostPort)+int(m.Range)-1,
				m.ContainerPort, int(m.ContainerPort)+int(m.Range)-1, m.Protocol))
		} else {
			parts = append(parts, fmt.Sprintf("%s:%d->%d/%s", ip, m.HostPort, m.ContainerPort, m.Protocol))
		}
	}
	return strings.Join(parts, ", ")
}

// FormatPort renders one mapping as `servin port` does: "80/tcp -> 0.0.0.0:8080".
func FormatPort(m CNIPortMap) string {
	ip := m.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return fmt.Sprintf("%d/%s -> %s", m.ContainerPort, m.Protocol, net.JoinHostPort(ip, strconv.Itoa(m.HostPort)))
}
