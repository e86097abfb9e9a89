package main

// port: a container's published ports.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/network"
)

func runPort(c *cli.Context, rt *libservin.Runtime) error {
	if c.Bool("all") || c.Bool("latest") {
		cs, err := rt.Containers(c.Context)
		if err != nil {
			return err
		}
		for _, ctr := range cs {
			if !ctr.Running() {
				continue
			}
			ports, err := rt.Ports(c.Context, ctr.ID)
			if err != nil {
				return err
			}
			for _, p := range ports {
				if c.Bool("latest") {
					fmt.Println(network.FormatPort(p))
				} else {
					fmt.Println(shortID(ctr.ID) + "\t" + network.FormatPort(p))
				}
			}
			if c.Bool("latest") {
				break
			}
		}
		return nil
	}
	if c.NArg() < 1 || c.NArg() > 2 {
		return fmt.Errorf("port requires a container and at most one port: servin port CONTAINER [PRIVATE_PORT[/PROTO]]: %w", errdefs.ErrInvalidArgument)
	}
	ports, err := rt.Ports(c.Context, c.Args().First())
	if err != nil {
		return err
	}
	if c.NArg() == 1 {
		for _, p := range ports {
			fmt.Println(network.FormatPort(p))
		}
		return nil
	}
	want := c.Args().Get(1)
	port, proto, _ := strings.Cut(want, "/")
	if proto == "" {
		proto = "tcp"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("invalid port %q: %w", want, errdefs.ErrInvalidArgument)
	}
	found := false
	for _, p := range ports {
		if p.ContainerPort == n && p.Protocol == proto {
			found = true
			ip := p.HostIP
			if ip == "" {
				ip = "0.0.0.0"
			}
			fmt.Printf("%s:%d\n", ip, p.HostPort)
		}
	}
	if !found {
		return fmt.Errorf("failed to find published port %q: %w", port+"/"+proto, errdefs.ErrNotFound)
	}
	return nil
}
