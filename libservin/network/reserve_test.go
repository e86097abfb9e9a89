package network

import (
	"errors"
	"net"
	"strconv"
	"testing"
)

func TestReservePorts(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	if _, err := ReservePorts([]CNIPortMap{{HostPort: busy, Protocol: "tcp", HostIP: "127.0.0.1"}}); !errors.Is(err, ErrPortInUse) {
		t.Fatalf("reserving a listening port: %v", err)
	}

	free := freeTestPort(t)
	held, err := ReservePorts([]CNIPortMap{
		{HostPort: free, ContainerPort: 80, Protocol: "tcp", HostIP: "127.0.0.1"},
		{HostPort: free, ContainerPort: 81, Protocol: "tcp", HostIP: "127.0.0.1"}, // the same host port once
		{HostPort: free, ContainerPort: 53, Protocol: "udp", HostIP: "127.0.0.1"},
	})
	if err != nil || len(held) != 2 {
		t.Fatalf("ReservePorts: %d sockets, %v", len(held), err)
	}
	// Held: nobody else may bind them, and connections are refused.
	if l2, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(free)); err == nil {
		l2.Close()
		t.Errorf("a reserved TCP port could be bound")
	}
	if c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(free)); err == nil {
		c.Close()
		t.Errorf("a reserved UDP port could be bound")
	}
	if c, err := net.Dial("tcp4", "127.0.0.1:"+strconv.Itoa(free)); err == nil {
		c.Close()
		t.Errorf("a reserved port accepted a connection")
	}
	for _, f := range held {
		f.Close()
	}
	l3, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(free))
	if err != nil {
		t.Fatalf("released port: %v", err)
	}
	l3.Close()
}

func freeTestPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
