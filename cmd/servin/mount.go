package main

// Mount flags of create/run, and container mount/umount.

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
)

// mountOptions maps -v, --mount, --tmpfs, --volumes-from and
// --image-volume onto the engine's options (--read-only-tmpfs is a
// security option: security_flags.go).
func mountOptions(c *cli.Context) libservin.MountOptions {
	return libservin.MountOptions{
		Volumes:     c.StringSlice("volume"),
		Mounts:      c.StringSlice("mount"),
		Tmpfs:       c.StringSlice("tmpfs"),
		VolumesFrom: c.StringSlice("volumes-from"),
		ImageVolume: c.String("image-volume"),
		// container.go's --volume-driver
		VolumeDriver: c.String("volume-driver"),
	}
}

func mountCommand() *cli.Command {
	return &cli.Command{
		Name:      "mount",
		Usage:     "mount a container's root filesystem on the host, or list mounted containers",
		ArgsUsage: "[CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "mount all containers"},
			&cli.BoolFlag{Name: "no-trunc", Aliases: []string{"notruncate"}, Usage: "do not truncate IDs when listing"},
			&cli.StringFlag{Name: "format", Usage: "json to list as JSON"},
			latestFlag(), // ctrflags.go
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() == 0 && !c.Bool("all") && !c.Bool("latest") {
				return listMounted(c, rt)
			}
			names, err := allOrArgs(c, rt, nil)
			if err != nil {
				return err
			}
			return forEach(names, func(n string) (string, error) {
				p, err := rt.MountContainer(c.Context, n)
				if err != nil || len(names) == 1 {
					return p, err
				}
				return n + " " + p, nil
			})
		}),
	}
}

func listMounted(c *cli.Context, rt *libservin.Runtime) error {
	ms, err := rt.MountedContainers(c.Context)
	if err != nil {
		return err
	}
	if isJSONFormat(c.String("format")) {
		type entry struct {
			ID         string   `json:"id"`
			Names      []string `json:"names"`
			Mountpoint string   `json:"mountpoint"`
		}
		out := []entry{}
		for _, m := range ms {
			out = append(out, entry{m.ID, []string{m.Name}, m.Path})
		}
		return writeJSON(os.Stdout, out, "    ", false)
	}
	for _, m := range ms {
		id := m.ID
		if !c.Bool("no-trunc") {
			id = shortID(id)
		}
		fmt.Printf("%s %s\n", id, m.Path)
	}
	return nil
}

func umountCommand() *cli.Command {
	return &cli.Command{
		Name:      "umount",
		Aliases:   []string{"unmount"},
		Usage:     "unmount a container's root filesystem",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "unmount all containers"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "unmount even if mounted more than once"},
			latestFlag(), // ctrflags.go
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			names, err := allOrArgs(c, rt, func(x *libservin.Container) bool { return !x.Running() })
			if err != nil {
				return err
			}
			return forEach(names, func(n string) (string, error) {
				return n, rt.UnmountContainer(c.Context, n, c.Bool("force"))
			})
		}),
	}
}
