package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// Record is what a network's DNS responder knows of one attached
// container: its names (name, short ID, aliases) and addresses.
type Record struct {
	Names []string
	IPs   []net.IP
}

// DNSServer answers a network's container names, A and AAAA, from
// Records, which it calls on every query so answers follow containers as
// they come and go; other names are forwarded to Upstreams (none on an
// internal network).
type DNSServer struct {
	Listen    []net.IP // the network's gateway addresses
	Port      int      // 53 unless testing
	Records   func(ctx context.Context) ([]Record, error)
	Upstreams []string // host:port
	Internal  bool
	servers   []*dns.Server
}

// Start binds UDP and TCP on every listen address; queries are served in
// the background until Shutdown.
func (s *DNSServer) Start() error {
	port := s.Port
	if port == 0 {
		port = 53
	}
	for _, ip := range s.Listen {
		addr := net.JoinHostPort(ip.String(), strconv.Itoa(port))
		pc, err := listenPacket(addr)
		if err != nil {
			s.Shutdown()
			return fmt.Errorf("DNS responder: %w", err)
		}
		l, err := freebind.Listen(context.Background(), "tcp", addr)
		if err != nil {
			pc.Close()
			s.Shutdown()
			return fmt.Errorf("DNS responder: %w", err)
		}
		for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: l, Handler: s}} {
			s.servers = append(s.servers, srv)
			started := make(chan struct{})
			srv.NotifyStartedFunc = func() { close(started) }
			go func() { _ = srv.ActivateAndServe() }()
			<-started
		}
	}
	return nil
}

// freebind lets the responder bind its gateway address while the kernel
// still holds it back: a fresh IPv6 address stays tentative (duplicate
// address detection) for a while after the bridge gets it.
var freebind = net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		if strings.HasSuffix(network, "6") {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_FREEBIND, 1)
		} else {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}}

// listenPacket retries briefly: a responder that just exited may still be
// releasing the address.
func listenPacket(addr string) (net.PacketConn, error) {
	var err error
	for i := 0; i < 20; i++ {
		var pc net.PacketConn
		if pc, err = freebind.ListenPacket(context.Background(), "udp", addr); err == nil {
			return pc, nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return nil, err
}

// Shutdown stops serving.
func (s *DNSServer) Shutdown() {
	for _, srv := range s.servers {
		_ = srv.Shutdown()
	}
	s.servers = nil
}

// ServeDNS implements dns.Handler.
func (s *DNSServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if m := s.answer(ctx, req, q); m != nil {
		_ = w.WriteMsg(m)
		return
	}
	if s.Internal || len(s.Upstreams) == 0 {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeNameError)
		m.RecursionAvailable = true
		_ = w.WriteMsg(m)
		return
	}
	_ = w.WriteMsg(s.forward(req, w.LocalAddr().Network()))
}

// answer returns the reply for a name the network knows, nil otherwise.
func (s *DNSServer) answer(ctx context.Context, req *dns.Msg, q dns.Question) *dns.Msg {
	if q.Qclass != dns.ClassINET {
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	recs, err := s.Records(ctx)
	if err != nil {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeServerFailure)
		return m
	}
	if q.Qtype == dns.TypePTR {
		return ptrAnswer(req, q, name, recs)
	}
	short := strings.TrimSuffix(name, "."+DNSDomain)
	var ips []net.IP
	found := false
	for _, r := range recs {
		for _, n := range r.Names {
			if strings.EqualFold(n, short) {
				found = true
				ips = append(ips, r.IPs...)
				break
			}
		}
	}
	if !found {
		return nil
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative, m.RecursionAvailable = true, true
	for _, ip := range ips {
		// TTL 0: the next lookup sees a container that moved or went.
		hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 0}
		if v4 := ip.To4(); v4 != nil && (q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY) {
			hdr.Rrtype = dns.TypeA
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: v4})
		} else if ip.To4() == nil && (q.Qtype == dns.TypeAAAA || q.Qtype == dns.TypeANY) {
			hdr.Rrtype = dns.TypeAAAA
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: ip})
		}
	}
	return m
}

func ptrAnswer(req *dns.Msg, q dns.Question, name string, recs []Record) *dns.Msg {
	for _, r := range recs {
		for _, ip := range r.IPs {
			rev, err := dns.ReverseAddr(ip.String())
			if err != nil || !strings.EqualFold(strings.TrimSuffix(rev, "."), name) || len(r.Names) == 0 {
				continue
			}
			m := new(dns.Msg)
			m.SetReply(req)
			m.Authoritative = true
			m.Answer = append(m.Answer, &dns.PTR{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET},
				Ptr: dns.Fqdn(r.Names[0]),
			})
			return m
		}
	}
	return nil
}

func (s *DNSServer) forward(req *dns.Msg, network string) *dns.Msg {
	if network != "tcp" {
		network = "udp"
	}
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	var last error
	for _, up := range s.Upstreams {
		resp, _, err := c.Exchange(req, up)
		if err == nil && resp != nil {
			resp.Id = req.Id
			return resp
		}
		last = err
	}
	m := new(dns.Msg)
	m.SetRcode(req, dns.RcodeServerFailure)
	_ = last
	return m
}

// Upstreams turns configured servers (IP or IP:port) or the host's
// resolv.conf nameservers into host:port addresses. The responder runs in
// the host's namespace, so the host's loopback resolvers work too.
func Upstreams(configured []string, host Resolv) []string {
	src := configured
	if len(src) == 0 {
		src = host.Nameservers
	}
	var out []string
	for _, s := range src {
		if _, _, err := net.SplitHostPort(s); err == nil {
			out = append(out, s)
		} else if net.ParseIP(s) != nil {
			out = append(out, net.JoinHostPort(s, "53"))
		}
	}
	return out
}

// ErrNoListen is returned when a network has no gateway to listen on.
var ErrNoListen = errors.New("the network has no gateway address for its DNS responder")
