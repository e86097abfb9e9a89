package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
)

// psPort is one element of a `ps --format json` entry's Ports: podman's
// port mapping.
type psPort struct {
	HostIP        string `json:"host_ip"`
	ContainerPort int    `json:"container_port"`
	HostPort      int    `json:"host_port"`
	Range         int    `json:"range"`
	Protocol      string `json:"protocol"`
}

// freeTCPRun returns the first of n consecutive TCP ports free on loopback.
func freeTCPRun(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		first := l.Addr().(*net.TCPAddr).Port
		l.Close()
		ok := first+n <= 65536
		for p := first; ok && p < first+n; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return first
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}

// sortedList splits a PORTS value and sorts it: podman's order of host IPs
// and protocols is not fixed.
func sortedList(s string) string {
	if s == "" {
		return ""
	}
	parts := strings.Split(s, ", ")
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func TestPsPorts(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	tcp := freeTCPRun(t, 3)
	udp := freeHostPort(t, "udp")
	a, b, r := s.name("a"), s.name("b"), s.name("r")
	// --network bridge (servin's default) so that the test also checks
	// podman, whose suite configuration defaults to no network.
	// 7000-7001 and 7002 follow each other on both sides: ps joins them.
	s.mustRun("run", "-d", "--name", a, "--network", "bridge",
		"-p", fmt.Sprintf("127.0.0.1:%d-%d:7000-7001", tcp, tcp+1),
		"-p", fmt.Sprintf("127.0.0.1:%d:7002", tcp+2),
		"-p", fmt.Sprintf("%d:53/udp", udp),
		busybox, "sleep", "100")
	s.mustRun("run", "-d", "--name", b, "--network", "bridge", busybox, "sleep", "100")
	s.mustRun("run", "-d", "--name", r, "--network", "bridge", "-p", "127.0.0.1::7100", busybox, "sleep", "100")
	s.waitStatus(a, "running")
	s.waitStatus(r, "running")

	wantA := sortedList(fmt.Sprintf("127.0.0.1:%d-%d->7000-7002/tcp, 0.0.0.0:%d->53/udp", tcp, tcp+2, udp))
	if got := sortedList(s.mustRun("ps", "--filter", "name=^"+a+"$", "--format", "{{.Ports}}")); got != wantA {
		t.Errorf("ps --format {{.Ports}}: got %q, want %q", got, wantA)
	}
	if got := s.mustRun("ps", "--filter", "name=^"+b+"$", "--format", "{{.Names}}:{{.Ports}}"); got != b+":" {
		t.Errorf("container without ports: %q", got)
	}
	// A random host port shows as the port chosen, as `port` reports it.
	_, chosen, err := net.SplitHostPort(s.mustRun("port", r, "7100"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.mustRun("ps", "--filter", "name=^"+r+"$", "--format", "{{.Ports}}"), "127.0.0.1:"+chosen+"->7100/tcp"; got != want {
		t.Errorf("random port: ps shows %q, want %q", got, want)
	}

	// The default table has the column.
	table := s.run("ps", "--filter", "name=^"+a+"$").lines()
	if len(table) != 2 || !strings.Contains(table[0], "PORTS") {
		t.Fatalf("ps table: %q", table)
	}
	for _, p := range strings.Split(wantA, ", ") {
		if !strings.Contains(table[1], p) {
			t.Errorf("ps table row lacks %q: %q", p, table[1])
		}
	}

	// JSON: podman's Ports objects, null without ports.
	var entries []struct {
		Names []string `json:"Names"`
		Ports []psPort `json:"Ports"`
	}
	out := s.mustRun("ps", "--filter", "name=^"+s.prefix, "--format", "json")
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("ps --format json: %v\n%s", err, out)
	}
	byName := map[string][]psPort{}
	for _, e := range entries {
		byName[e.Names[0]] = e.Ports
	}
	got := byName[a]
	sort.Slice(got, func(i, j int) bool { return got[i].Protocol < got[j].Protocol })
	want := []psPort{
		{HostIP: "127.0.0.1", ContainerPort: 7000, HostPort: tcp, Range: 3, Protocol: "tcp"},
		{HostIP: "", ContainerPort: 53, HostPort: udp, Range: 1, Protocol: "udp"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("json Ports of %s: got %+v, want %+v", a, got, want)
	}
	if p, ok := byName[b]; !ok || len(p) != 0 {
		t.Errorf("json Ports of %s (no ports): %+v (listed: %v)", b, p, ok)
	}
	if !strings.Contains(out, `"host_ip": ""`) {
		t.Errorf("json Ports should carry host_ip even when empty, as podman's:\n%s", out)
	}
}
