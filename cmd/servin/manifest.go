package main

// manifest: build, inspect and publish multi-arch manifest lists.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	digest "github.com/opencontainers/go-digest"
	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

func manifestCommand() *cli.Command {
	return &cli.Command{
		Name:  "manifest",
		Usage: "build and publish multi-arch manifest lists",
		Subcommands: []*cli.Command{
			manifestCreateCommand(), manifestAddCommand(), manifestInspectCommand(),
			manifestPushCommand(), manifestRmCommand(), manifestRemoveCommand(), manifestExistsCommand(),
		},
	}
}

// manifestAddFlags are the flags of create and add.
func manifestAddFlags() []cli.Flag {
	return append(remoteFlags(),
		&cli.BoolFlag{Name: "all", Usage: "add every instance of a list, not only this platform's"},
		&cli.StringFlag{Name: "os", Usage: "override the instance's operating system"},
		&cli.StringFlag{Name: "arch", Usage: "override the instance's architecture"},
		&cli.StringFlag{Name: "variant", Usage: "override the instance's architecture variant"},
		&cli.StringFlag{Name: "os-version", Usage: "override the instance's OS version"},
		&cli.StringSliceFlag{Name: "features", Usage: "override the instance's OS features"},
		&cli.StringSliceFlag{Name: "annotation", Usage: "KEY=VALUE annotation of the instance"},
	)
}

func manifestAddOptions(c *cli.Context) (libservin.ManifestAddOptions, error) {
	ro, err := remoteOptions(c)
	if err != nil {
		return libservin.ManifestAddOptions{}, err
	}
	// --os/--arch/--variant describe the instance here; they do not pick
	// one from a remote list (that is this platform's, or --all).
	ro.OS, ro.Arch, ro.Variant = "", "", ""
	o := libservin.ManifestAddOptions{
		RemoteOptions: ro, All: c.Bool("all"), OS: c.String("os"), Arch: c.String("arch"),
		Variant: c.String("variant"), OSVersion: c.String("os-version"), OSFeatures: c.StringSlice("features"),
	}
	for _, a := range c.StringSlice("annotation") {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return o, fmt.Errorf("invalid annotation %q: want KEY=VALUE: %w", a, errdefs.ErrInvalidArgument)
		}
		if o.Annotations == nil {
			o.Annotations = map[string]string{}
		}
		o.Annotations[k] = v
	}
	return o, nil
}

func manifestCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a manifest list from images",
		ArgsUsage: "LIST [IMAGE...]",
		Flags:     append(manifestAddFlags(), &cli.BoolFlag{Name: "amend", Usage: "add to the list if it exists"}),
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "manifest create LIST [IMAGE...]"); err != nil {
				return err
			}
			o, err := manifestAddOptions(c)
			if err != nil {
				return err
			}
			id, err := rt.CreateManifestList(c.Context, c.Args().First(), c.Args().Slice()[1:], c.Bool("amend"), o)
			if err != nil {
				return err
			}
			fmt.Println(id)
			return nil
		}),
	}
}

func manifestAddCommand() *cli.Command {
	return &cli.Command{
		Name:      "add",
		Usage:     "add an image to a manifest list",
		ArgsUsage: "LIST IMAGE",
		Flags:     manifestAddFlags(),
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 2 {
				return fmt.Errorf("manifest add requires a list and an image: %w", errdefs.ErrInvalidArgument)
			}
			o, err := manifestAddOptions(c)
			if err != nil {
				return err
			}
			d, err := rt.AddToManifestList(c.Context, c.Args().Get(0), c.Args().Get(1), o)
			if err != nil {
				return err
			}
			fmt.Println(d)
			return nil
		}),
	}
}

func manifestInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show a local manifest list, or the manifest a registry serves",
		ArgsUsage: "LIST|IMAGE",
		Flags: append(remoteFlags(),
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "accepted for compatibility: lists are always shown in full"}),
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 1 {
				return fmt.Errorf("manifest inspect requires one list or image: %w", errdefs.ErrInvalidArgument)
			}
			ro, err := remoteOptions(c)
			if err != nil {
				return err
			}
			raw, err := rt.InspectManifest(c.Context, c.Args().First(), ro)
			if err != nil {
				return err
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, raw, "", "    "); err != nil {
				pretty.Reset()
				pretty.Write(raw)
			}
			fmt.Println(strings.TrimRight(pretty.String(), "\n"))
			return nil
		}),
	}
}

func manifestPushCommand() *cli.Command {
	flags := append(remoteFlags(),
		&cli.BoolFlag{Name: "all", Value: true, Usage: "push the images of the list too (always done)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the digest"},
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "manifest type of the instances: oci or v2s2"},
		&cli.BoolFlag{Name: "rm", Usage: "delete the local list after pushing it"},
		&cli.StringFlag{Name: "digestfile", Usage: "write the digest of the pushed list to this file"},
	)
	return &cli.Command{
		Name:      "push",
		Usage:     "push a manifest list and its images to a registry",
		ArgsUsage: "LIST [DESTINATION]",
		Flags:     flags,
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return fmt.Errorf("manifest push requires a list and optionally a destination: %w", errdefs.ErrInvalidArgument)
			}
			ro, err := remoteOptions(c)
			if err != nil {
				return err
			}
			ro.ReportWriter = progressWriter(c)
			d, err := rt.PushManifestList(c.Context, c.Args().Get(0), c.Args().Get(1), libservin.PushOptions{RemoteOptions: ro, Format: c.String("format")})
			if err != nil {
				return err
			}
			if f := c.String("digestfile"); f != "" {
				if err := os.WriteFile(f, []byte(d.String()), 0o644); err != nil {
					return err
				}
			}
			if c.Bool("rm") {
				if err := rt.DeleteManifestList(c.Context, c.Args().Get(0)); err != nil {
					return err
				}
			}
			fmt.Println(d)
			return nil
		}),
	}
}

func manifestRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "delete local manifest lists (not their images)",
		ArgsUsage: "LIST [LIST...]",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "manifest rm LIST [LIST...]"); err != nil {
				return err
			}
			return forEach(c.Args().Slice(), func(name string) (string, error) {
				return "", rt.DeleteManifestList(c.Context, name)
			})
		}),
	}
}

func manifestRemoveCommand() *cli.Command {
	return &cli.Command{
		Name:      "remove",
		Usage:     "remove an instance from a manifest list",
		ArgsUsage: "LIST DIGEST",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 2 {
				return fmt.Errorf("manifest remove requires a list and a digest: %w", errdefs.ErrInvalidArgument)
			}
			d, err := digest.Parse(c.Args().Get(1))
			if err != nil {
				return fmt.Errorf("invalid digest %q: %w: %w", c.Args().Get(1), err, errdefs.ErrInvalidArgument)
			}
			return rt.RemoveFromManifestList(c.Context, c.Args().Get(0), d)
		}),
	}
}

func manifestExistsCommand() *cli.Command {
	return &cli.Command{
		Name:      "exists",
		Usage:     "check whether a local manifest list exists (exit 0) or not (exit 1)",
		ArgsUsage: "LIST",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 1 {
				return fmt.Errorf("manifest exists requires one list: %w", errdefs.ErrInvalidArgument)
			}
			ok, err := rt.ManifestListExists(c.Args().First())
			if err != nil {
				return err
			}
			if !ok {
				return exitError{1}
			}
			return nil
		}),
	}
}
