package main

// update: change the resource limits of containers.

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

func updateCommand() *cli.Command {
	resFlags := append([]cli.Flag{
		&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit (e.g. 64m, 1g)"},
	}, resourceFlags(false)...)
	restartFlag := &cli.StringFlag{Name: "restart", Usage: "restart policy: no, on-failure[:max], always, unless-stopped"}
	hcFlags := healthFlags() // healthcheck.go
	flags := append(append(append([]cli.Flag{}, resFlags...), restartFlag), hcFlags...)
	return &cli.Command{
		Name:      "update",
		Usage:     "change the resource limits, restart policy and healthchecks of one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     append(flags, latestFlag()), // ctrflags.go
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if !c.Bool("latest") {
				if err := requireArgs(c, 1, "update [options] CONTAINER"); err != nil {
					return err
				}
			}
			names, err := latestOrArgs(c, rt)
			if err != nil {
				return err
			}
			o := resourceOptions(c)
			o.Memory = c.String("memory")
			if !anyFlagSet(c, flags) {
				return fmt.Errorf("update needs at least one resource, restart or healthcheck flag: %w", errdefs.ErrInvalidArgument)
			}
			ho := healthUpdateOptions(c)
			return forEach(names, func(n string) (string, error) {
				var ctr *libservin.Container
				var err error
				if anyFlagSet(c, resFlags) {
					if ctr, err = rt.Update(c.Context, n, &o); err != nil {
						return "", err
					}
				}
				if c.IsSet("restart") {
					if ctr, err = rt.UpdateRestart(c.Context, n, c.String("restart")); err != nil {
						return "", err
					}
				}
				if anyFlagSet(c, hcFlags) {
					if ctr, err = rt.UpdateHealth(c.Context, n, ho); err != nil {
						return "", err
					}
				}
				return ctr.ID, nil
			})
		}),
	}
}

func anyFlagSet(c *cli.Context, flags []cli.Flag) bool {
	for _, f := range flags {
		if c.IsSet(f.Names()[0]) {
			return true
		}
	}
	return false
}
