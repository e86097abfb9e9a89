package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Network tests send traffic only to loopback and to the addresses of the
// containers they start, in namespaces servin creates for them.

var (
	netechoOnce sync.Once
	netechoBin  string
	netechoErr  error
)

// netecho builds the static echo server the tests run in containers
// (busybox's nc has no UDP) and returns its path.
func netecho(t *testing.T) string {
	t.Helper()
	netechoOnce.Do(func() {
		netechoBin = filepath.Join(suite.dir, "netecho")
		cmd := exec.Command("go", "build", "-o", netechoBin, "./netecho")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			netechoErr = fmt.Errorf("building netecho: %v\n%s", err, out)
		}
	})
	if netechoErr != nil {
		t.Fatal(netechoErr)
	}
	return netechoBin
}

func skipPodman(t *testing.T, why string) {
	t.Helper()
	if suite.podman {
		t.Skip("servin-specific: " + why)
	}
}

// netCreate creates a network named after the test; cleanup removes it
// with its containers.
func (s *servin) netCreate(suffix string, args ...string) string {
	s.t.Helper()
	name := s.name(suffix)
	s.mustRun(append(append([]string{"network", "create"}, args...), name)...)
	s.t.Cleanup(func() {
		s.removeOwnContainers()
		if r := s.run("network", "rm", "-f", name); r.exit != 0 && r.exit != 1 {
			s.t.Errorf("cleanup: %s", r)
		}
	})
	return name
}

// ipOn returns the container's IPv4 address on a network.
func (s *servin) ipOn(ctr, network string) string {
	s.t.Helper()
	ip := s.inspect(ctr, fmt.Sprintf(`{{(index .NetworkSettings.Networks %q).IPAddress}}`, network))
	if net.ParseIP(ip) == nil {
		s.t.Fatalf("container %s has no address on %s: %q", ctr, network, ip)
	}
	return ip
}

func TestNetworkDefaultBridge(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	a, b := s.name("a"), s.name("b")
	s.mustRun("run", "-d", "--name", a, busybox, "sleep", "100")
	s.mustRun("run", "-d", "--name", b, busybox, "sleep", "100")
	s.waitStatus(a, "running")
	s.waitStatus(b, "running")
	ipA := s.inspect(a, "{{.NetworkSettings.IPAddress}}")
	if _, def, _ := net.ParseCIDR("10.89.0.0/16"); !suite.podman && !def.Contains(net.ParseIP(ipA)) {
		t.Errorf("default network address %q is not in 10.89.0.0/16", ipA)
	}
	if !suite.podman {
		if got := s.inspect(a, "{{.HostConfig.NetworkMode}}"); got != "bridge" {
			t.Errorf("NetworkMode = %q, want bridge", got)
		}
		if got := s.inspect(a, `{{(index .NetworkSettings.Networks "servin").IPAddress}}`); got != ipA {
			t.Errorf("Networks.servin.IPAddress = %q, want %q", got, ipA)
		}
	}
	// Containers reach each other by address, and their own loopback.
	s.mustRun("exec", b, "ping", "-c", "1", "-W", "2", ipA)
	out := s.mustRun("exec", a, "sh", "-c", "nc -l -p 7000 -e echo loop & sleep 0.3; nc 127.0.0.1 7000 </dev/null")
	if out != "loop" {
		t.Errorf("loopback in the container: %q", out)
	}
	hosts := s.mustRun("exec", a, "cat", "/etc/hosts")
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(ipA) + `\s.*\b` + regexp.QuoteMeta(a) + `\b`).MatchString(hosts) {
		t.Errorf("/etc/hosts lacks %s %s:\n%s", ipA, a, hosts)
	}
	// The default network has no DNS responder (podman's behaviour): the
	// host's resolvers, minus loopback ones.
	resolv := s.mustRun("exec", a, "cat", "/etc/resolv.conf")
	if strings.Contains(resolv, "nameserver 10.89.0.1") || strings.Contains(resolv, "nameserver 127.") {
		t.Errorf("default network resolv.conf:\n%s", resolv)
	}
}

func TestNetworkRunRmNoLeftovers(t *testing.T) {
	skipPodman(t, "looks at servin's run root")
	t.Parallel()
	s := newServin(t)
	name := s.name("rm")
	// The container reports its own ID, address and host veth index so
	// that the test can look for them after it is gone.
	out := s.mustRun("run", "--rm", "--name", name, busybox, "sh", "-c",
		"cat /sys/class/net/eth0/iflink; ip -o -4 addr show eth0; hostname")
	lines := strings.Split(out, "\n")
	if len(lines) < 3 {
		t.Fatalf("unexpected output %q", out)
	}
	m := regexp.MustCompile(`inet (\S+)/`).FindStringSubmatch(lines[1])
	if m == nil {
		t.Fatalf("no address in %q", lines[1])
	}
	if s.exists(name) {
		t.Fatalf("run --rm left the container")
	}
	s.checkNoLeftovers(leftovers{idPrefix: strings.TrimSpace(lines[2]), ip: m[1]})
}

// leftovers identifies what one container's network was.
type leftovers struct {
	id       string // full ID, when known
	idPrefix string // at least 12 characters
	ip       string
	veth     string // host end of its veth
}

// hostVeth returns the host end of a running container's eth0 veth.
func (s *servin) hostVeth(name string) string {
	s.t.Helper()
	idx, err := strconv.Atoi(s.mustRun("exec", name, "cat", "/sys/class/net/eth0/iflink"))
	if err != nil {
		s.t.Fatal(err)
	}
	ifc, err := net.InterfaceByIndex(idx)
	if err != nil {
		s.t.Fatalf("host interface %d of container %s: %v", idx, name, err)
	}
	return ifc.Name
}

func (s *servin) leftoversOf(name string) leftovers {
	s.t.Helper()
	return leftovers{
		id:   s.inspect(name, "{{.Id}}"),
		ip:   s.inspect(name, "{{.NetworkSettings.IPAddress}}"),
		veth: s.hostVeth(name),
	}
}

// checkNoLeftovers fails the test if anything of a container's network is
// still there: a veth, an iptables rule, an IPAM lease, a libcni cache
// entry, a namespace mount or file.
func (s *servin) checkNoLeftovers(l leftovers) {
	s.t.Helper()
	prefix := l.idPrefix
	if l.id != "" {
		prefix = l.id[:12]
	}
	if l.veth != "" {
		// The kernel frees the veth of a namespace servin unmounted on its
		// own, a moment later.
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, err := net.InterfaceByName(l.veth); err != nil {
				break
			}
			if time.Now().After(deadline) {
				s.t.Errorf("veth %s is still there", l.veth)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, tool := range []string{"iptables-save", "ip6tables-save"} {
		out, err := exec.Command(tool).Output()
		if err != nil {
			s.t.Fatalf("%s: %v", tool, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			// Containers of other stores (other tests) may have the same
			// address on the default network: a rule tagged with another
			// container's ID is theirs.
			byIP := l.ip != "" && (strings.Contains(line, l.ip+"/32") || strings.Contains(line, l.ip+":")) &&
				!strings.Contains(line, "servin ctr ")
			if strings.Contains(line, prefix) || byIP {
				s.t.Errorf("%s still has a rule of the container: %s", tool, line)
			}
		}
	}
	ipam := filepath.Join(s.st.runroot, "cni", "ipam")
	_ = filepath.Walk(ipam, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && strings.HasPrefix(string(b), prefix) {
			s.t.Errorf("IPAM lease %s still held: %q", p, b)
		}
		if l.ip != "" && filepath.Base(p) == l.ip {
			s.t.Errorf("IPAM lease file %s still there", p)
		}
		return nil
	})
	if ms, _ := filepath.Glob(filepath.Join(s.st.runroot, "cni", "cache", "results", "*"+prefix+"*")); len(ms) > 0 {
		s.t.Errorf("libcni cache entries left: %v", ms)
	}
	if ms, _ := filepath.Glob(filepath.Join(s.st.runroot, "netns", prefix+"*")); len(ms) > 0 {
		s.t.Errorf("network namespace files left: %v", ms)
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), filepath.Join(s.st.runroot, "netns", prefix)) {
		s.t.Errorf("a network namespace of the container is still mounted")
	}
}

func TestNetworkTeardownAfterFailures(t *testing.T) {
	skipPodman(t, "looks at servin's run root and kills servin's processes")
	t.Parallel()
	s := newServin(t)

	t.Run("rm -f", func(t *testing.T) {
		name := s.name("rmf")
		s.mustRun("run", "-d", "--name", name, busybox, "sleep", "100")
		s.waitStatus(name, "running")
		l := s.leftoversOf(name)
		s.mustRun("rm", "-f", "-t", "0", name)
		s.checkNoLeftovers(l)
	})
	t.Run("kill -9 of the container", func(t *testing.T) {
		name := s.name("kill9")
		s.mustRun("run", "-d", "--name", name, busybox, "sleep", "100")
		s.waitStatus(name, "running")
		l := s.leftoversOf(name)
		pid := mustAtoi(t, s.inspect(name, "{{.State.Pid}}"))
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		s.waitStatus(name, "exited")
		// The monitor's exit command tore the network down: no rm needed.
		waitFor(t, waitTimeout, "the network teardown", func() bool {
			_, err := os.Stat(filepath.Join(s.st.runroot, "netns", l.id+".json"))
			return os.IsNotExist(err)
		}, nil)
		s.checkNoLeftovers(l)
		// And it starts again with a network.
		s.mustRun("start", name)
		s.waitStatus(name, "running")
		l2 := s.leftoversOf(name)
		s.mustRun("stop", "-t", "0", name)
		s.checkNoLeftovers(l2)
		s.mustRun("rm", name)
	})
	t.Run("monitor killed", func(t *testing.T) {
		name := s.name("mon")
		s.mustRun("run", "-d", "--name", name, busybox, "sleep", "100")
		s.waitStatus(name, "running")
		l := s.leftoversOf(name)
		mon := mustAtoi(t, s.inspect(name, "{{.State.ConmonPid}}"))
		pid := mustAtoi(t, s.inspect(name, "{{.State.Pid}}"))
		_ = syscall.Kill(mon, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		waitFor(t, waitTimeout, "the container to show as exited", func() bool {
			st := s.status(name)
			return st == "exited" || st == "stopped"
		}, nil)
		s.mustRun("rm", name)
		s.checkNoLeftovers(l)
	})
	for _, point := range []string{"netns-created", "network-added", "network-ready"} {
		t.Run("crash at "+point, func(t *testing.T) {
			name := s.name("crash-" + point)
			ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
			defer cancel()
			cmd := s.st.command(ctx, "run", "-d", "--name", name, busybox, "sleep", "100")
			cmd.Env = append(cmd.Env, "SERVIN_CRASH_AT="+point)
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
				t.Fatalf("servin run with SERVIN_CRASH_AT=%s: want death by SIGKILL, got %v", point, err)
			}
			id := s.inspect(name, "{{.Id}}")
			l := leftovers{id: id}
			if point != "netns-created" {
				l.ip = sandboxIP(t, s.st.runroot, id)
			}
			// A start after the crash cleans up and works.
			s.mustRun("start", name)
			s.waitStatus(name, "running")
			l2 := s.leftoversOf(name)
			s.mustRun("rm", "-f", "-t", "0", name)
			s.checkNoLeftovers(l)
			s.checkNoLeftovers(l2)
		})
	}
	t.Run("crash then rm", func(t *testing.T) {
		name := s.name("crash-rm")
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		cmd := s.st.command(ctx, "run", "-d", "-p", "127.0.0.1::8080", "--name", name, busybox, "sleep", "100")
		cmd.Env = append(cmd.Env, "SERVIN_CRASH_AT=network-ready")
		_ = cmd.Run()
		id := s.inspect(name, "{{.Id}}")
		l := leftovers{id: id, ip: sandboxIP(t, s.st.runroot, id)}
		s.mustRun("rm", "-f", name)
		s.checkNoLeftovers(l)
	})
}

// sandboxIP reads a container's first address from its network record.
func sandboxIP(t *testing.T, runroot, id string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(runroot, "netns", id+".json"))
	if err != nil {
		t.Fatalf("network record: %v", err)
	}
	var sb struct {
		Attachments []struct {
			IPs []struct{ Address string } `json:"ips"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(data, &sb); err != nil || len(sb.Attachments) == 0 || len(sb.Attachments[0].IPs) == 0 {
		t.Fatalf("network record without an address: %s", data)
	}
	ip, _, _ := net.ParseCIDR(sb.Attachments[0].IPs[0].Address)
	return ip.String()
}

func TestNetworkPublish(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	echo := netecho(t)
	name := s.name("pub")
	tcpPort, udpPort := freeHostPort(t, "tcp"), freeHostPort(t, "udp")
	s.mustRun("run", "-d", "--name", name, "-v", echo+":/netecho:ro",
		"-p", "127.0.0.1::7000", "-p", fmt.Sprintf("%d:7000/udp", udpPort),
		"-p", fmt.Sprintf("127.0.0.1:%d-%d:7001-7002", tcpPort, tcpPort+1),
		busybox, "sh", "-c", "/netecho 7000 & /netecho 7001 & exec /netecho 7002")
	s.waitStatus(name, "running")

	random := s.mustRun("port", name, "7000")
	host, portStr, err := net.SplitHostPort(random)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("servin port %s 7000 = %q", name, random)
	}
	all := s.mustRun("port", name)
	for _, want := range []string{"7000/tcp -> 127.0.0.1:" + portStr, fmt.Sprintf("7000/udp -> 0.0.0.0:%d", udpPort),
		fmt.Sprintf("7001/tcp -> 127.0.0.1:%d", tcpPort), fmt.Sprintf("7002/tcp -> 127.0.0.1:%d", tcpPort+1)} {
		if !strings.Contains(all, want) {
			t.Errorf("servin port lacks %q:\n%s", want, all)
		}
	}
	if got := s.inspect(name, `{{(index (index .NetworkSettings.Ports "7001/tcp") 0).HostPort}}`); got != strconv.Itoa(tcpPort) {
		t.Errorf("NetworkSettings.Ports 7001/tcp HostPort = %q", got)
	}
	expectTCPEcho(t, "127.0.0.1:"+portStr)
	expectTCPEcho(t, fmt.Sprintf("127.0.0.1:%d", tcpPort))
	expectTCPEcho(t, fmt.Sprintf("127.0.0.1:%d", tcpPort+1))
	expectUDPEcho(t, fmt.Sprintf("127.0.0.1:%d", udpPort))
	r := s.run("port", name, "9999")
	s.expectExit(r, 125)

	// -P publishes nothing for an image without EXPOSE, and port lists nothing.
	p := s.name("pall")
	s.mustRun("run", "-d", "--name", p, "-P", busybox, "sleep", "100")
	if out := s.mustRun("port", p); out != "" {
		t.Errorf("-P without EXPOSE published %q", out)
	}
	if !suite.podman {
		l := s.leftoversOf(name)
		s.mustRun("rm", "-f", "-t", "0", name)
		s.checkNoLeftovers(l)
	}
}

func freeHostPort(t *testing.T, proto string) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		// Two consecutive free ports, for the range test.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if proto == "udp" {
			c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				continue
			}
			c.Close()
			return p
		}
		if l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1)); err == nil {
			l2.Close()
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

// expectTCPEcho sends a line to addr (loopback) and expects netecho's echo.
func expectTCPEcho(t *testing.T, addr string) {
	t.Helper()
	var last error
	for i := 0; i < 20; i++ {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(3 * time.Second))
			fmt.Fprintf(c, "hi\n")
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil && line == "echo:hi\n" {
				return
			}
			last = fmt.Errorf("read %q: %v", line, err)
		} else {
			last = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("TCP echo through %s: %v", addr, last)
}

func expectUDPEcho(t *testing.T, addr string) {
	t.Helper()
	var last error
	for i := 0; i < 20; i++ {
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
		_, _ = c.Write([]byte("hi"))
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		c.Close()
		if err == nil && string(buf[:n]) == "echo:hi" {
			return
		}
		last = fmt.Errorf("read %q: %v", buf[:n], err)
	}
	t.Errorf("UDP echo through %s: %v", addr, last)
}

func TestNetworkDNS(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	netName := s.netCreate("dns")
	a, b := s.name("a"), s.name("b")
	s.mustRun("run", "-d", "--name", a, "--network", netName, "--network-alias", "web", busybox, "sleep", "100")
	s.mustRun("run", "-d", "--name", b, "--network", netName, busybox, "sleep", "100")
	ipA := s.ipOn(a, netName)
	for _, q := range []string{a, "web", a + ".dns.servin"} {
		out := s.run("exec", b, "nslookup", q)
		if out.exit != 0 || !strings.Contains(out.stdout, ipA) {
			t.Errorf("nslookup %s from %s: want %s\n%s", q, b, ipA, out)
		}
	}
	// Reachable by name.
	s.mustRun("exec", b, "ping", "-c", "1", "-W", "2", a)
	if !suite.podman {
		pidFile := filepath.Join(s.st.runroot, "networks", "dns", netName+".pid")
		if _, err := os.Stat(pidFile); err != nil {
			t.Errorf("no DNS responder pid file: %v", err)
		}
		// The answer follows the containers: a removed one is gone.
		s.mustRun("rm", "-f", "-t", "0", a)
		if out := s.run("exec", b, "nslookup", a); out.exit == 0 {
			t.Errorf("nslookup of a removed container succeeded:\n%s", out)
		}
		// The responder exits with the network's last container.
		pid := readPid(pidFile)
		s.mustRun("rm", "-f", "-t", "0", b)
		waitFor(t, waitTimeout, "the DNS responder to exit", func() bool {
			_, err := os.Stat(pidFile)
			return os.IsNotExist(err) && (pid == 0 || syscall.Kill(pid, 0) != nil)
		}, nil)
	}
}

func readPid(p string) int {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// TestNetworkDNSForward checks that names the network does not know go to
// the upstream resolvers: here a fake one on the host's loopback.
func TestNetworkDNSForward(t *testing.T) {
	skipPodman(t, "network create --dns with a port")
	t.Parallel()
	s := newServin(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		if q := req.Question[0]; q.Qtype == dns.TypeA && q.Name == "upstream.example.test." {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.ParseIP("192.0.2.77")})
		} else {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	netName := s.netCreate("fwd", "--dns", pc.LocalAddr().String())
	c := s.name("c")
	s.mustRun("run", "-d", "--name", c, "--network", netName, busybox, "sleep", "100")
	out := s.run("exec", c, "nslookup", "-type=a", "upstream.example.test")
	if out.exit != 0 || !strings.Contains(out.stdout, "192.0.2.77") {
		t.Errorf("forwarded lookup:\n%s", out)
	}
}

func TestNetworkConnectDisconnect(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	n1, n2 := s.netCreate("one"), s.netCreate("two")
	a, b := s.name("a"), s.name("b")
	s.mustRun("run", "-d", "--name", a, "--network", n1, busybox, "sleep", "100")
	s.mustRun("run", "-d", "--name", b, "--network", n2, busybox, "sleep", "100")
	ipB := s.ipOn(b, n2)
	// Isolation: different networks cannot reach each other.
	if r := s.run("exec", a, "ping", "-c", "1", "-W", "1", ipB); r.exit == 0 {
		t.Errorf("container on %s reached %s on %s", n1, ipB, n2)
	}
	s.mustRun("network", "connect", "--alias", "second", n2, a)
	ipA2 := s.ipOn(a, n2)
	if out := s.mustRun("exec", a, "ip", "-o", "-4", "addr", "show", "eth1"); !strings.Contains(out, ipA2+"/") {
		t.Errorf("eth1 after connect: %q, want %s", out, ipA2)
	}
	s.mustRun("exec", a, "ping", "-c", "1", "-W", "2", ipB)
	if hosts := s.mustRun("exec", a, "cat", "/etc/hosts"); !strings.Contains(hosts, ipA2) {
		t.Errorf("/etc/hosts not updated on connect:\n%s", hosts)
	}
	if out := s.run("exec", b, "nslookup", "second"); out.exit != 0 || !strings.Contains(out.stdout, ipA2) {
		t.Errorf("alias given at connect does not resolve:\n%s", out)
	}
	r := s.run("network", "connect", n2, a)
	s.expectExit(r, 125)

	s.mustRun("network", "disconnect", n2, a)
	if r := s.run("exec", a, "ip", "link", "show", "eth1"); r.exit == 0 {
		t.Errorf("eth1 still there after disconnect")
	}
	if hosts := s.mustRun("exec", a, "cat", "/etc/hosts"); strings.Contains(hosts, ipA2) {
		t.Errorf("/etc/hosts not updated on disconnect:\n%s", hosts)
	}
	if r := s.run("exec", a, "ping", "-c", "1", "-W", "1", ipB); r.exit == 0 {
		t.Errorf("still reached %s after disconnect", ipB)
	}
	// Connect with a static address on a network with a known subnet.
	if !suite.podman {
		r := s.run("network", "inspect", "--format", "{{range .Subnets}}{{.Subnet}}{{end}}", n2)
		_, subnet, err := net.ParseCIDR(r.out())
		if err != nil {
			t.Fatalf("subnet of %s: %q", n2, r.out())
		}
		static := subnet.IP.To4()
		static = net.IPv4(static[0], static[1], static[2], 200)
		s.mustRun("network", "connect", "--ip", static.String(), n2, a)
		if got := s.ipOn(a, n2); got != static.String() {
			t.Errorf("--ip at connect: got %s, want %s", got, static)
		}
	}
}

func TestNetworkInternal(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	n := s.netCreate("int", "--internal")
	a, b := s.name("a"), s.name("b")
	s.mustRun("run", "-d", "--name", a, "--network", n, busybox, "sleep", "100")
	s.mustRun("run", "-d", "--name", b, "--network", n, busybox, "sleep", "100")
	if routes := s.mustRun("exec", a, "ip", "route"); strings.Contains(routes, "default") {
		t.Errorf("internal network gives a default route:\n%s", routes)
	}
	s.mustRun("exec", a, "ping", "-c", "1", "-W", "2", s.ipOn(b, n))
	if got := s.mustRun("network", "inspect", "--format", "{{.Internal}}", n); got != "true" {
		t.Errorf("inspect .Internal = %q", got)
	}
}

func TestNetworkSharedModes(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	a := s.name("a")
	s.mustRun("run", "-d", "--name", a, busybox, "sleep", "100")
	s.waitStatus(a, "running")
	ipA := s.inspect(a, "{{.NetworkSettings.IPAddress}}")
	// container:NAME shares a's namespace: same address, and a's loopback.
	s.mustRun("exec", a, "sh", "-c", "nc -l -p 7100 -e echo shared >/dev/null 2>&1 &")
	out := s.mustRun("run", "--rm", "--network", "container:"+a, busybox, "sh", "-c",
		"ip -o -4 addr show eth0; sleep 0.2; nc 127.0.0.1 7100 </dev/null")
	if !strings.Contains(out, ipA+"/") || !strings.Contains(out, "shared") {
		t.Errorf("--network container:%s: %q, want address %s and a's loopback service", a, out, ipA)
	}
	// ns:PATH joins a namespace by path: here a's, through /proc.
	pid := s.inspect(a, "{{.State.Pid}}")
	out = s.mustRun("run", "--rm", "--network", "ns:/proc/"+pid+"/ns/net", busybox, "ip", "-o", "-4", "addr", "show", "eth0")
	if !strings.Contains(out, ipA+"/") {
		t.Errorf("--network ns:/proc/%s/ns/net: %q, want %s", pid, out, ipA)
	}
	// none: loopback only, and it works.
	out = s.mustRun("run", "--rm", "--network", "none", busybox, "sh", "-c", "ls /sys/class/net; nc -l -p 7200 -e echo lo & sleep 0.2; nc 127.0.0.1 7200 </dev/null")
	if strings.Fields(out)[0] != "lo" || !strings.HasSuffix(out, "lo") || strings.Contains(out, "eth0") {
		t.Errorf("--network none: %q", out)
	}
	// Ports need a network of servin's: dropped with a warning (see
	// TestPortsDiscardedWithoutBridge).
}

func TestNetworkEtcFiles(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("etc")
	out := s.mustRun("run", "--rm", "--name", name, "--hostname", "myhost",
		"--dns", "192.0.2.53", "--dns-search", "example.test", "--dns-option", "ndots:3",
		"--add-host", "db.example.test:192.0.2.10", busybox, "sh", "-c",
		"cat /etc/hostname /etc/resolv.conf /etc/hosts; hostname")
	for _, want := range []string{"myhost\n", "nameserver 192.0.2.53", "search example.test", "options ndots:3", "192.0.2.10\tdb.example.test"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^10\.89\.\d+\.\d+\s+myhost\b`).MatchString(out) && !suite.podman {
		t.Errorf("/etc/hosts lacks the container's address with its hostname:\n%s", out)
	}
	// --no-hosts keeps the image's /etc/hosts; --add-host contradicts it.
	out = s.mustRun("run", "--rm", "--no-hosts", "--hostname", "nohostsbox", busybox, "sh", "-c", "cat /etc/hosts 2>/dev/null; true")
	if strings.Contains(out, "nohostsbox") {
		t.Errorf("--no-hosts still generated /etc/hosts:\n%s", out)
	}
	s.expectExit(s.run("run", "--rm", "--no-hosts", "--add-host", "x.test:192.0.2.1", busybox, "true"), 125)
	r := s.run("run", "--rm", "--add-host", "nocolon", busybox, "true")
	s.expectExit(r, 125)
	r = s.run("run", "--rm", "--network", "no-such-net-"+s.prefix, busybox, "true")
	s.expectExit(r, 125)
}

func TestNetworkStaticIPAndMAC(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	subnet := fmt.Sprintf("10.91.%d.0/24", 100+os.Getpid()%100)
	n := s.netCreate("static", "--subnet", subnet, "--gateway", strings.TrimSuffix(subnet, "0/24")+"254", "--ip-range", strings.TrimSuffix(subnet, "0/24")+"128/25")
	ip := strings.TrimSuffix(subnet, "0/24") + "10"
	name := s.name("c")
	s.mustRun("run", "-d", "--name", name, "--network", n, "--ip", ip, "--mac-address", "02:42:ac:11:00:42", busybox, "sleep", "100")
	out := s.mustRun("exec", name, "sh", "-c", "ip -o addr show eth0; cat /sys/class/net/eth0/address")
	if !strings.Contains(out, ip+"/24") || !strings.Contains(out, "02:42:ac:11:00:42") {
		t.Errorf("--ip/--mac-address: %s", out)
	}
	if gw := s.inspect(name, `{{(index .NetworkSettings.Networks "`+n+`").Gateway}}`); gw != strings.TrimSuffix(subnet, "0/24")+"254" {
		t.Errorf("gateway %q", gw)
	}
	// Dynamic addresses come from --ip-range.
	d := s.name("d")
	s.mustRun("run", "-d", "--name", d, "--network", n, busybox, "sleep", "100")
	last, _ := strconv.Atoi(strings.TrimPrefix(s.ipOn(d, n), strings.TrimSuffix(subnet, "0/24")))
	if last < 128 {
		t.Errorf("address %s outside --ip-range", s.ipOn(d, n))
	}
	// The same static address twice fails, podman-style exit 125 (or 126).
	r := s.run("run", "--rm", "--network", n, "--ip", ip, busybox, "true")
	s.expectExit(r, 125, 126)
}

func TestNetworkCLI(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	n := s.netCreate("cli", "--label", "purpose=test", "--opt", "mtu=1400")
	s.mustRun("network", "exists", n)
	s.expectExit(s.run("network", "exists", "no-such-"+s.prefix), 1)
	if got := s.mustRun("network", "ls", "--filter", "name="+n, "--format", "{{.Name}} {{.Driver}}"); got != n+" bridge" {
		t.Errorf("network ls --filter --format: %q", got)
	}
	if got := s.mustRun("network", "ls", "--filter", "label=purpose=test", "-q"); !strings.Contains(got, n) {
		t.Errorf("network ls --filter label: %q", got)
	}
	var nets []map[string]any
	if err := json.Unmarshal([]byte(s.mustRun("network", "inspect", n)), &nets); err != nil || len(nets) != 1 {
		t.Fatalf("network inspect: %v %v", err, nets)
	}
	if nets[0]["name"] != n || nets[0]["driver"] != "bridge" || nets[0]["dns_enabled"] != true {
		t.Errorf("network inspect: %v", nets[0])
	}
	if opts, _ := nets[0]["options"].(map[string]any); opts["mtu"] != "1400" {
		t.Errorf("options: %v", nets[0]["options"])
	}
	c := s.name("user")
	s.mustRun("run", "-d", "--name", c, "--network", n, busybox, "sleep", "100")
	if out := s.mustRun("exec", c, "cat", "/sys/class/net/eth0/mtu"); out != "1400" {
		t.Errorf("mtu=1400 gives eth0 mtu %s", out)
	}
	// podman's codes: rm of a used network 2, of a missing one 1.
	s.expectExit(s.run("network", "rm", n), 2)
	s.expectExit(s.run("network", "rm", "no-such-"+s.prefix), 1)
	s.expectExit(s.run("network", "create", n), 125)
	s.expectExit(s.run("network", "create", "--subnet", "10.0.0.1/33", s.name("bad")), 125)
	s.expectExit(s.run("network", "create", "-d", "nosuchdriver", s.name("bad")), 125)
	if !suite.podman {
		s.expectExit(s.run("network", "rm", "servin"), 125)
	}
	// rm -f removes the network's containers too.
	s.mustRun("network", "rm", "-f", n)
	if s.exists(c) {
		t.Errorf("network rm -f left container %s", c)
	}
	s.expectExit(s.run("network", "exists", n), 1)

	// prune removes unused networks only; in a store of its own, so that it
	// cannot take the other tests' networks.
	iso := newIsolatedServin(t)
	iso.importBusybox()
	// Bridge names and subnets of its own: the shared store's networks
	// may not have bridges yet, which is all another store can see.
	base := 100 + os.Getpid()%50
	unused := iso.netCreate("unused", "--interface-name", fmt.Sprintf("e2epr%d", base), "--subnet", fmt.Sprintf("10.93.%d.0/24", base))
	used := iso.netCreate("used", "--interface-name", fmt.Sprintf("e2epr%d", base+50), "--subnet", fmt.Sprintf("10.93.%d.0/24", base+50))
	iso.mustRun("create", "--name", iso.name("holder"), "--network", used, busybox, "true")
	out := iso.mustRun("network", "prune", "-f")
	if !strings.Contains(out, unused) || strings.Contains(out, used) {
		t.Errorf("network prune removed %q", out)
	}
	iso.mustRun("network", "exists", used)
	if out := iso.mustRun("network", "ls", "-q"); !strings.Contains(out, "servin") && !suite.podman {
		t.Errorf("the default network is not listed: %q", out)
	}
}

func TestNetworkIPv6(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	n := s.netCreate("v6", "--ipv6")
	a, b := s.name("a"), s.name("b")
	s.mustRun("run", "-d", "--name", a, "--network", n, busybox, "sleep", "100")
	s.mustRun("run", "-d", "--name", b, "--network", n, busybox, "sleep", "100")
	ip6 := s.inspect(a, `{{(index .NetworkSettings.Networks "`+n+`").GlobalIPv6Address}}`)
	if ip := net.ParseIP(ip6); ip == nil || ip.To4() != nil {
		t.Fatalf("no IPv6 address on a dual-stack network: %q", ip6)
	}
	s.mustRun("exec", b, "ping6", "-c", "1", "-W", "2", ip6)
	if out := s.run("exec", b, "nslookup", "-type=aaaa", a); !strings.Contains(out.stdout, ip6) {
		t.Errorf("AAAA of %s: want %s\n%s", a, ip6, out)
	}
}

func TestNetworkMacvlan(t *testing.T) {
	skipPodman(t, "parent interface made by the test")
	t.Parallel()
	s := newServin(t)
	// The parent is a bridge of the test's own with nothing else on it:
	// the containers only talk to each other.
	parent := fmt.Sprintf("e2emv%04x", os.Getpid()%0x10000)
	if out, err := exec.Command("ip", "link", "add", parent, "type", "bridge").CombinedOutput(); err != nil {
		t.Skipf("cannot make a parent interface: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", parent).Run() })
	if out, err := exec.Command("ip", "link", "set", parent, "up").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	n := s.netCreate("mv", "-d", "macvlan", "-o", "parent="+parent, "--subnet", "10.92.77.0/24")
	a, b := s.name("a"), s.name("b")
	s.mustRun("run", "-d", "--name", a, "--network", n, busybox, "sleep", "100")
	s.mustRun("run", "-d", "--name", b, "--network", n, busybox, "sleep", "100")
	s.mustRun("exec", b, "ping", "-c", "1", "-W", "2", s.ipOn(a, n))
	if d := s.mustRun("network", "inspect", "--format", "{{.Driver}} {{.NetworkInterface}} {{.DNSEnabled}}", n); d != "macvlan "+parent+" false" {
		t.Errorf("macvlan network: %q", d)
	}
}

func TestNetworkReload(t *testing.T) {
	skipPodman(t, "deletes the container's rules by servin's comment")
	t.Parallel()
	s := newServin(t)
	echo := netecho(t)
	name := s.name("rl")
	s.mustRun("run", "-d", "--name", name, "-v", echo+":/netecho:ro", "-p", "127.0.0.1::7300", busybox, "/netecho", "7300")
	s.waitStatus(name, "running")
	addr := s.mustRun("port", name, "7300")
	expectTCPEcho(t, addr)
	id := s.inspect(name, "{{.Id}}")
	// Lose this container's rules only (a full flush would hit the other
	// tests): servin's rules and the port forwarding chain.
	removeRulesMentioning(t, "nat", id[:12], id)
	removeRulesMentioning(t, "filter", id[:12], id)
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		t.Errorf("port still forwarded after its rules were deleted")
	}
	out := s.mustRun("network", "reload", name)
	if !strings.Contains(out, id) {
		t.Errorf("network reload printed %q", out)
	}
	expectTCPEcho(t, addr)
	dump, _ := exec.Command("iptables-save").Output()
	if !strings.Contains(string(dump), "servin ctr "+id[:12]) {
		t.Errorf("servin's rules of the container were not restored")
	}
}

// removeRulesMentioning deletes the rules of table that mention any of
// the strings (a container's ID).
func removeRulesMentioning(t *testing.T, table string, subs ...string) {
	t.Helper()
	out, err := exec.Command("iptables-save", "-t", table).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "-A ") {
			continue
		}
		for _, sub := range subs {
			if strings.Contains(line, sub) {
				cmd := exec.Command("sh", "-c", "iptables -w -t "+table+" -D "+line[3:])
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("deleting %s: %v %s", line, err, b)
				}
				break
			}
		}
	}
}

// A random host port is chosen at create, as podman does, and a restart
// keeps it.
func TestRandomHostPortChosenAtCreate(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	name := s.name("randport")
	s.mustRun("create", "--name", name, "--network", "bridge", "-p", "127.0.0.1::7400", busybox, "sleep", "100")
	created := s.mustRun("port", name, "7400")
	host, port, err := net.SplitHostPort(created)
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("port of a created container = %q, want 127.0.0.1:<chosen>", created)
	}
	s.mustRun("start", name)
	if got := s.mustRun("port", name, "7400"); got != created {
		t.Errorf("port after start = %q, want %q", got, created)
	}
	s.mustRun("restart", "-t", "0", name)
	if got := s.mustRun("port", name, "7400"); got != created {
		t.Errorf("port after restart = %q, want %q", got, created)
	}
}

// Published ports with a network mode that cannot take them are dropped
// with podman's warning, printed before the container's output, and the
// container runs.
func TestPortsDiscardedWithoutBridge(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	base := s.name("portbase")
	s.mustRun("run", "-d", "--name", base, "--network", "none", busybox, "sleep", "100")
	for mode, word := range map[string]string{"host": "host", "none": "none", "container:" + base: "container"} {
		r := s.run("run", "--rm", "-p", "8080", "--network", mode, busybox, "echo", "ran")
		s.expectExit(r, 0)
		want := fmt.Sprintf("Port mappings have been discarded because %q network namespace mode does not support them", word)
		if strings.TrimSpace(r.stderr) != want || r.out() != "ran" {
			t.Errorf("--network %s -p 8080: %s", mode, r)
		}
	}
}
