package network

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/servin/servin/libservin/errdefs"
)

func TestParsePublish(t *testing.T) {
	cases := []struct {
		in   string
		want []PortMapping
	}{
		{"80", []PortMapping{{ContainerPort: 80, Range: 1, Protocol: "tcp"}}},
		{"8080:80", []PortMapping{{HostPort: 8080, ContainerPort: 80, Range: 1, Protocol: "tcp"}}},
		{"127.0.0.1:8080:80/udp", []PortMapping{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Range: 1, Protocol: "udp"}}},
		{"127.0.0.1::80", []PortMapping{{HostIP: "127.0.0.1", ContainerPort: 80, Range: 1, Protocol: "tcp"}}},
		{"[::1]:8080:80", []PortMapping{{HostIP: "::1", HostPort: 8080, ContainerPort: 80, Range: 1, Protocol: "tcp"}}},
		{"8000-8002:9000-9002/tcp,udp", []PortMapping{
			{HostPort: 8000, ContainerPort: 9000, Range: 3, Protocol: "tcp"},
			{HostPort: 8000, ContainerPort: 9000, Range: 3, Protocol: "udp"}}},
	}
	for _, c := range cases {
		got, err := ParsePublish(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParsePublish(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "0", "70000", "a:b:c:d", "1.2.3:80:80", "80/icmp", "8000-8001:80", "90-80", "[::1:80"} {
		if _, err := ParsePublish(bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("ParsePublish(%q): want invalid argument, got %v", bad, err)
		}
	}
}

func TestCNIPortMapsAndExposed(t *testing.T) {
	got := CNIPortMaps([]PortMapping{{HostPort: 8000, ContainerPort: 80, Range: 2, Protocol: "tcp"}})
	want := []CNIPortMap{{HostPort: 8000, ContainerPort: 80, Protocol: "tcp"}, {HostPort: 8001, ContainerPort: 81, Protocol: "tcp"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CNIPortMaps = %+v", got)
	}
	// A random host port (0) is chosen at start: it stays 0 across the range.
	got = CNIPortMaps([]PortMapping{{ContainerPort: 80, Range: 2, Protocol: "tcp"}})
	if got[0].HostPort != 0 || got[1].HostPort != 0 || got[1].ContainerPort != 81 {
		t.Errorf("CNIPortMaps of a random range = %+v", got)
	}
	exp := ExposedPorts(map[string]struct{}{"80/tcp": {}, "53/udp": {}, "443": {}}, []PortMapping{{ContainerPort: 443, Range: 1, Protocol: "tcp"}})
	if len(exp) != 2 || exp[0].ContainerPort != 53 || exp[0].Protocol != "udp" || exp[1].ContainerPort != 80 {
		t.Errorf("ExposedPorts = %+v", exp)
	}
	assigned, err := AssignHostPorts([]PortMapping{{HostIP: "127.0.0.1", ContainerPort: 80, Range: 2, Protocol: "tcp"}})
	if err != nil || len(assigned) != 2 || assigned[0].HostPort == 0 || assigned[1].ContainerPort != 81 {
		t.Errorf("AssignHostPorts = %+v, %v", assigned, err)
	}
}

func TestCollapseAndFormatPorts(t *testing.T) {
	in := []CNIPortMap{
		{HostPort: 8001, ContainerPort: 81, Protocol: "tcp"},
		{HostPort: 8000, ContainerPort: 80, Protocol: "tcp"},
		{HostPort: 8002, ContainerPort: 90, Protocol: "tcp"}, // host port follows, container port does not
		{HostPort: 0, ContainerPort: 100, Protocol: "tcp"},
		{HostPort: 9000, ContainerPort: 9000, Protocol: "udp", HostIP: "127.0.0.1"},
		{HostPort: 9001, ContainerPort: 9001, Protocol: "udp", HostIP: "127.0.0.1"},
		{HostPort: 8003, ContainerPort: 91, Protocol: "udp"},
	}
	got := CollapsePorts(in)
	want := []PortMapping{
		{HostPort: 8000, ContainerPort: 80, Range: 2, Protocol: "tcp"},
		{HostPort: 8002, ContainerPort: 90, Range: 1, Protocol: "tcp"},
		{HostPort: 0, ContainerPort: 100, Range: 1, Protocol: "tcp"},
		{HostPort: 8003, ContainerPort: 91, Range: 1, Protocol: "udp"},
		{HostIP: "127.0.0.1", HostPort: 9000, ContainerPort: 9000, Range: 2, Protocol: "udp"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CollapsePorts = %+v\nwant %+v", got, want)
	}
	s := FormatPorts(got)
	if w := "0.0.0.0:8000-8001->80-81/tcp, 0.0.0.0:8002->90/tcp, 0.0.0.0:0->100/tcp, 0.0.0.0:8003->91/udp, 127.0.0.1:9000-9001->9000-9001/udp"; s != w {
		t.Errorf("FormatPorts = %q\nwant %q", s, w)
	}
	if CollapsePorts(nil) != nil || FormatPorts(nil) != "" {
		t.Errorf("no ports: want nil and an empty string")
	}
}

func TestNewNetwork(t *testing.T) {
	_, used, _ := net.ParseCIDR("10.90.0.0/24")
	taken := &Taken{Names: map[string]bool{"servin": true}, Interfaces: map[string]bool{"servin1": true}, Subnets: []*net.IPNet{used}}
	n, err := New(&CreateOptions{Name: "a", IPv6: true, Options: map[string]string{"mtu": "1400"}}, taken)
	if err != nil {
		t.Fatal(err)
	}
	if n.NetworkInterface != "servin2" || n.Subnets[0].Subnet != "10.90.1.0/24" || n.Subnets[0].Gateway != "10.90.1.1" {
		t.Errorf("allocation: %+v", n)
	}
	if len(n.Subnets) != 2 || !strings.HasPrefix(n.Subnets[1].Subnet, "fd") || !n.DNSEnabled || n.MTU() != 1400 {
		t.Errorf("dual stack: %+v", n)
	}
	n, err = New(&CreateOptions{Name: "b", Subnets: []string{"192.168.50.0/24"}, Gateways: []string{"192.168.50.254"}, IPRanges: []string{"192.168.50.128/25"}}, taken)
	if err != nil {
		t.Fatal(err)
	}
	if s := n.Subnets[0]; s.Gateway != "192.168.50.254" || s.LeaseRange == nil || s.LeaseRange.StartIP != "192.168.50.129" {
		t.Errorf("explicit subnet: %+v %+v", s, s.LeaseRange)
	}
	for _, o := range []*CreateOptions{
		{Name: "servin"},
		{Name: "bad name"},
		{Name: "c", Subnets: []string{"10.1.0.1/24"}},
		{Name: "c", Subnets: []string{"10.1.0.0/24"}, Gateways: []string{"10.2.0.1"}},
		{Name: "c", Driver: "overlay"},
		{Name: "c", Options: map[string]string{"mtu": "x"}},
		{Name: "c", Driver: DriverMacvlan, Interface: "eth0"},
	} {
		if _, err := New(o, taken); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func TestEtcFiles(t *testing.T) {
	hosts := Hosts(HostsOptions{
		Own:         []HostEntry{{IP: "10.89.0.2", Names: []string{"abc", "web"}}},
		AddHosts:    []string{"db:192.0.2.1", "gw:host-gateway"},
		HostGateway: "10.89.0.1",
	})
	for _, want := range []string{"127.0.0.1\tlocalhost", "192.0.2.1\tdb\n", "10.89.0.1\tgw\n", "10.89.0.2\tabc web\n", "10.89.0.1\thost.containers.internal"} {
		if !strings.Contains(hosts, want) {
			t.Errorf("hosts lacks %q:\n%s", want, hosts)
		}
	}
	host := ParseResolv([]byte("# x\nnameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch example.com\noptions edns0\n"))
	if got := ResolvConf(ResolvOptions{Host: host}); got != "search example.com\nnameserver 192.0.2.53\noptions edns0\n" {
		t.Errorf("default: %q", got)
	}
	if got := ResolvConf(ResolvOptions{Host: host, NetworkDNS: []string{"10.90.0.1"}}); got != "search dns.servin example.com\nnameserver 10.90.0.1\noptions edns0\n" {
		t.Errorf("with a DNS network: %q", got)
	}
	if got := ResolvConf(ResolvOptions{Host: host, DNS: []string{"1.1.1.1"}, Search: []string{"."}, Options: []string{"ndots:2"}}); got != "nameserver 1.1.1.1\noptions ndots:2\n" {
		t.Errorf("user flags: %q", got)
	}
}

func TestFirewallScripts(t *testing.T) {
	atts := []*Attachment{{IfName: "eth0", Bridge: "servin0", IPs: []IPConfig{{Address: "10.89.0.5/16"}, {Address: "fd00::5/64"}}}, {IfName: "eth1", Bridge: "servin3", Internal: true, IPs: []IPConfig{{Address: "10.90.3.2/24"}}}}
	rules := ContainerRules("0123456789abcdef", atts)
	if len(rules) != 6 {
		t.Fatalf("rules = %+v", rules)
	}
	v4 := script(byFamily(rules, false), "-A")
	want := "*filter\n" +
		`-A SERVIN-FORWARD -d 10.89.0.5/32 -o servin0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "servin ctr 0123456789ab eth0" -j ACCEPT` + "\n" +
		`-A SERVIN-FORWARD -s 10.89.0.5/32 -i servin0 -m comment --comment "servin ctr 0123456789ab eth0" -j ACCEPT` + "\nCOMMIT\n*nat\n" +
		`-A SERVIN-POSTROUTING -s 10.89.0.5/32 ! -d 10.89.0.0/16 -m comment --comment "servin ctr 0123456789ab eth0" -j MASQUERADE` + "\nCOMMIT\n"
	if v4 != want {
		t.Errorf("v4 script:\n%s\nwant:\n%s", v4, want)
	}
	if !tagged(rules[0].line("-A"), CtrComment("0123456789abcdef")) || tagged(rules[0].line("-A"), "servin ctr 0123") {
		t.Errorf("tag matching")
	}
	if got := tool(true, "iptables-save"); got != "ip6tables-save" {
		t.Errorf("tool = %q", got)
	}
	chains, have := parseSave("*filter\n:FORWARD ACCEPT [0:0]\n:SERVIN-FORWARD - [0:0]\n-A FORWARD -j SERVIN-FORWARD\nCOMMIT\n")
	if !chains["filter SERVIN-FORWARD"] || !have["filter -A FORWARD -j SERVIN-FORWARD"] {
		t.Errorf("parseSave: %v %v", chains, have)
	}
}

func TestPortRules(t *testing.T) {
	a := &Attachment{IfName: "eth0", Bridge: "servin0", Builtin: true,
		IPs: []IPConfig{{Address: "10.89.0.5/16"}, {Address: "fd00::5/64"}},
		Ports: []CNIPortMap{
			{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
			{HostPort: 5353, ContainerPort: 53, Protocol: "udp", HostIP: "127.0.0.1"},
		}}
	rules := ContainerRules("0123456789abcdef", []*Attachment{a})
	c := `-m comment --comment "servin ctr 0123456789ab eth0"`
	// Written as iptables-save prints them, so that a reload finds them.
	want := "*nat\n" +
		"-A SERVIN-HOSTPORTS -s 10.89.0.0/16 -p tcp -m tcp --dport 8080 " + c + " -j SERVIN-HOSTPORTS-MARK\n" +
		"-A SERVIN-HOSTPORTS -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 " + c + " -j SERVIN-HOSTPORTS-MARK\n" +
		"-A SERVIN-HOSTPORTS -p tcp -m tcp --dport 8080 " + c + " -j DNAT --to-destination 10.89.0.5:80\n" +
		"-A SERVIN-HOSTPORTS -s 10.89.0.0/16 -d 127.0.0.1/32 -p udp -m udp --dport 5353 " + c + " -j SERVIN-HOSTPORTS-MARK\n" +
		"-A SERVIN-HOSTPORTS -s 127.0.0.1/32 -d 127.0.0.1/32 -p udp -m udp --dport 5353 " + c + " -j SERVIN-HOSTPORTS-MARK\n" +
		"-A SERVIN-HOSTPORTS -d 127.0.0.1/32 -p udp -m udp --dport 5353 " + c + " -j DNAT --to-destination 10.89.0.5:53\n" +
		"-A SERVIN-POSTROUTING -s 10.89.0.5/32 ! -d 10.89.0.0/16 " + c + " -j MASQUERADE\nCOMMIT\n"
	if got := script(byFamily(rules, false), "-A"); !strings.HasSuffix(got, want) {
		t.Errorf("v4 script:\n%s\nwant it to end with:\n%s", got, want)
	}
	// IPv6: no localhost rule, and an IPv4 host address publishes nothing.
	want6 := "*nat\n" +
		"-A SERVIN-HOSTPORTS -s fd00::/64 -p tcp -m tcp --dport 8080 " + c + " -j SERVIN-HOSTPORTS-MARK\n" +
		"-A SERVIN-HOSTPORTS -p tcp -m tcp --dport 8080 " + c + " -j DNAT --to-destination [fd00::5]:80\n"
	if got := script(byFamily(rules, true), "-A"); !strings.Contains(got, want6) || strings.Contains(got, "5353") {
		t.Errorf("v6 script:\n%s\nwant:\n%s", got, want6)
	}
	// An internal network still gets its ports forwarded, nothing else.
	a.Internal = true
	for _, r := range ContainerRules("0123456789abcdef", []*Attachment{a}) {
		if r.Chain != chainHostPorts {
			t.Errorf("internal network rule outside %s: %+v", chainHostPorts, r)
		}
	}
}

func TestDNSServer(t *testing.T) {
	// A fake upstream and the responder, both on loopback.
	upPC, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := &dns.Server{PacketConn: upPC, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.ParseIP("192.0.2.9")})
		_ = w.WriteMsg(m)
	})}
	go func() { _ = up.ActivateAndServe() }()
	defer up.Shutdown()
	l, _ := net.ListenPacket("udp", "127.0.0.1:0")
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	recs := []Record{{Names: []string{"web", "alias1"}, IPs: []net.IP{net.ParseIP("10.90.0.2"), net.ParseIP("fd00::2")}}}
	srv := &DNSServer{
		Listen: []net.IP{net.ParseIP("127.0.0.1")}, Port: port,
		Records:   func(context.Context) ([]Record, error) { return recs, nil },
		Upstreams: []string{upPC.LocalAddr().String()},
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	c := &dns.Client{Timeout: 2 * time.Second}
	ask := func(name string, qt uint16) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qt)
		r, _, err := c.Exchange(m, net.JoinHostPort("127.0.0.1", itoa(port)))
		if err != nil {
			t.Fatalf("query %s: %v", name, err)
		}
		return r
	}
	if r := ask("web", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.90.0.2" {
		t.Errorf("A web: %v", r)
	}
	if r := ask("ALIAS1.dns.servin", dns.TypeAAAA); len(r.Answer) != 1 || r.Answer[0].(*dns.AAAA).AAAA.String() != "fd00::2" {
		t.Errorf("AAAA alias1.dns.servin: %v", r)
	}
	if r := ask("2.0.90.10.in-addr.arpa", dns.TypePTR); len(r.Answer) != 1 || r.Answer[0].(*dns.PTR).Ptr != "web." {
		t.Errorf("PTR: %v", r)
	}
	if r := ask("elsewhere.test", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.9" {
		t.Errorf("forwarded: %v", r)
	}
	// Records follow the containers.
	recs = nil
	if r := ask("web", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.9" {
		t.Errorf("removed container still answered: %v", r)
	}
	srv.Internal = true
	if r := ask("elsewhere.test", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("internal network forwarded: %v", r)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
