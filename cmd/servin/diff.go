package main

// diff: what changed in a container's filesystem.

import (
	"bufio"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "list the files added (A), changed (C) and deleted (D) in a container",
		ArgsUsage: "CONTAINER",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Usage: "json"}, latestFlag()},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			names, err := latestOrArgs(c, rt) // ctrflags.go
			if err != nil {
				return err
			}
			if len(names) != 1 {
				return fmt.Errorf("diff requires exactly one container: %w", errdefs.ErrInvalidArgument)
			}
			changes, err := rt.Diff(c.Context, names[0])
			if err != nil {
				return err
			}
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			switch f := c.String("format"); {
			case isJSONFormat(f):
				// podman's document: paths grouped by kind.
				doc := struct {
					Changed []string `json:"changed,omitempty"`
					Added   []string `json:"added,omitempty"`
					Deleted []string `json:"deleted,omitempty"`
				}{}
				for _, ch := range changes {
					switch ch.Kind {
					case "A":
						doc.Added = append(doc.Added, ch.Path)
					case "D":
						doc.Deleted = append(doc.Deleted, ch.Path)
					default:
						doc.Changed = append(doc.Changed, ch.Path)
					}
				}
				return writeJSON(out, doc, "    ", false)
			case f != "":
				return fmt.Errorf("unsupported --format %q: only json: %w", f, errdefs.ErrInvalidArgument)
			}
			for _, ch := range changes {
				fmt.Fprintf(out, "%s %s\n", ch.Kind, ch.Path)
			}
			return nil
		}),
	}
}
