package main

// update: change the resource limits of containers.

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

func updateCommand() *cli.Command {
	flags := append([]cli.Flag{
		&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit (e.g. 64m, 1g)"},
	}, resourceFlags(false)...)
	return &cli.Command{
		Name:      "update",
		Usage:     "change the resource limits of one or more containers",
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
				return fmt.Errorf("update needs at least one resource flag: %w", errdefs.ErrInvalidArgument)
			}
			return forEach(names, func(n string) (string, error) {
				ctr, err := rt.Update(c.Context, n, &o)
				if err != nil {
					return "", err
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
