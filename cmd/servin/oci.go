package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin/oci"
)

// ociCommand is the OCI runtime helper the monitor execs. It is not meant
// for users, so it is hidden.
func ociCommand() *cli.Command {
	return &cli.Command{
		Name:   "oci",
		Hidden: true,
		Usage:  "low-level OCI runtime operations used by servin-monitor",
		Subcommands: []*cli.Command{
			{
				Name: "create",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "bundle", Required: true},
					&cli.StringFlag{Name: "pid-file"},
					&cli.IntFlag{Name: "console-socket-fd", Value: -1},
					&cli.StringFlag{Name: "stdio-fds"},
				},
				Action: func(c *cli.Context) error {
					o := oci.CreateOptions{
						Root: ociRoot(c), Bundle: c.String("bundle"), ID: c.Args().First(),
						PidFile: c.String("pid-file"),
					}
					if fd := c.Int("console-socket-fd"); fd >= 0 {
						o.ConsoleSocket = os.NewFile(uintptr(fd), "console-socket")
					}
					if s := c.String("stdio-fds"); s != "" {
						parts := strings.Split(s, ",")
						for i := 0; i < len(parts) && i < 3; i++ {
							fd, err := strconv.Atoi(parts[i])
							if err != nil {
								return fmt.Errorf("bad --stdio-fds %q", s)
							}
							o.Stdio[i] = os.NewFile(uintptr(fd), "stdio")
						}
					}
					return oci.Create(o)
				},
			},
			{
				Name: "start",
				Action: func(c *cli.Context) error {
					return oci.Start(ociRoot(c), c.Args().First())
				},
			},
			{
				Name:  "delete",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "force"}},
				Action: func(c *cli.Context) error {
					return oci.Delete(ociRoot(c), c.Args().First(), c.Bool("force"))
				},
			},
			{
				Name:  "kill",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "all"}},
				Action: func(c *cli.Context) error {
					sig := syscall.SIGTERM
					if c.NArg() > 1 {
						n, err := strconv.Atoi(c.Args().Get(1))
						if err != nil {
							return err
						}
						sig = syscall.Signal(n)
					}
					return oci.Signal(ociRoot(c), c.Args().First(), sig, c.Bool("all"))
				},
			},
		},
	}
}

func ociRoot(c *cli.Context) string {
	runroot := c.String("runroot")
	if runroot == "" {
		if fc, err := loadConfig(c); err == nil && fc.Storage.RunRoot != "" {
			runroot = fc.Storage.RunRoot
		} else {
			runroot = "/run/servin"
		}
	}
	return runroot + "/runc"
}
