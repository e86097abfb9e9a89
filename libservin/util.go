package libservin

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	units "github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
)

// ParseSignal accepts "TERM", "SIGTERM", "sigterm" or "15".
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q: %w", s, errdefs.ErrInvalidArgument)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if strings.HasPrefix(name, "SIGRTMIN+") || strings.HasPrefix(name, "SIGRTMAX-") {
		off, err := strconv.Atoi(name[9:])
		if err == nil {
			if name[6] == 'I' {
				return syscall.Signal(34 + off), nil
			}
			return syscall.Signal(64 - off), nil
		}
	}
	return 0, fmt.Errorf("invalid signal %q: %w", s, errdefs.ErrInvalidArgument)
}

// ParseSize parses "10k", "10MB", "1g" (binary units, as docker does).
// The empty string is 0.
func ParseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := units.RAMInBytes(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q: %w", s, errdefs.ErrInvalidArgument)
	}
	return n, nil
}

func bindMount(src, dst string, ro bool) specs.Mount {
	opts := []string{"rbind", "rprivate"}
	if ro {
		opts = append(opts, "ro")
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
}

// writeEtcFiles writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf into its run dir and returns the bind mounts for them.
func (r *Runtime) writeEtcFiles(c *Container, runDir string) ([]specs.Mount, error) {
	var mounts []specs.Mount
	hostname := c.Config.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	hosts := "127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n" +
		"::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n"
	if c.Config.NetworkMode == "host" {
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = string(b)
		}
	} else {
		hosts += "127.0.1.1\t" + hostname + " " + c.Name + "\n"
	}
	resolv := "nameserver 127.0.0.1\n"
	if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		resolv = string(b)
	}
	files := []struct{ name, content, dst string }{
		{"hostname", hostname + "\n", "/etc/hostname"},
		{"hosts", hosts, "/etc/hosts"},
		{"resolv.conf", resolv, "/etc/resolv.conf"},
	}
	for _, f := range files {
		p := filepath.Join(runDir, f.name)
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			return nil, err
		}
		mounts = append(mounts, bindMount(p, f.dst, c.Config.ReadOnly))
	}
	return mounts, nil
}
