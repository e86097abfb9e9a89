package network

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ErrPortInUse: a published host port is bound by another process or
// container.
var ErrPortInUse = errors.New("address already in use")

// ReservePorts binds the host side of every published TCP and UDP port
// and returns the sockets. Whoever holds them (the container's monitor)
// owns the ports: a second container, or a host process, cannot bind them
// while the container runs. The sockets never listen, so a connection the
// port forwarding does not catch is refused rather than left hanging. A
// port already bound elsewhere fails with ErrPortInUse.
func ReservePorts(ports []CNIPortMap) ([]*os.File, error) {
	var held []*os.File
	release := func() {
		for _, f := range held {
			f.Close()
		}
	}
	seen := map[string]bool{}
	for _, p := range ports {
		key := p.Protocol + "/" + net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
		if p.HostPort == 0 || seen[key] {
			continue
		}
		seen[key] = true
		f, err := reservePort(p)
		if err != nil {
			release()
			return nil, err
		}
		if f != nil {
			held = append(held, f)
		}
	}
	return held, nil
}

func reservePort(p CNIPortMap) (*os.File, error) {
	var typ int
	switch p.Protocol {
	case "", "tcp":
		typ = unix.SOCK_STREAM
	case "udp":
		typ = unix.SOCK_DGRAM
	default:
		return nil, nil // sctp: not reserved
	}
	family, sa := unix.AF_INET, unix.Sockaddr(&unix.SockaddrInet4{Port: p.HostPort})
	if p.HostIP != "" {
		ip := net.ParseIP(p.HostIP)
		if ip == nil {
			return nil, fmt.Errorf("invalid host IP %q", p.HostIP)
		}
		if ip4 := ip.To4(); ip4 != nil {
			sa = &unix.SockaddrInet4{Port: p.HostPort, Addr: [4]byte(ip4)}
		} else {
			family, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: p.HostPort, Addr: [16]byte(ip.To16())}
		}
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		proto := "tcp"
		if typ == unix.SOCK_DGRAM {
			proto = "udp"
		}
		if family == unix.AF_INET {
			proto += "4"
		} else {
			proto += "6"
		}
		addr := net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
		if errors.Is(err, unix.EADDRINUSE) {
			return nil, fmt.Errorf("cannot listen on the %s port: listen %s %s: bind: %w", portWord(typ), proto, addr, ErrPortInUse)
		}
		return nil, fmt.Errorf("cannot listen on the %s port: listen %s %s: bind: %w", portWord(typ), proto, addr, err)
	}
	return os.NewFile(uintptr(fd), "port "+p.Protocol+" "+strconv.Itoa(p.HostPort)), nil
}

func portWord(typ int) string {
	if typ == unix.SOCK_DGRAM {
		return "UDP"
	}
	return "TCP"
}
