package main

// cp (files in and out of containers) and export (a container's whole
// filesystem as a tar archive).

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

// splitCpArg splits CONTAINER:PATH; a path starting with / or . (or "-")
// is on the host even if it contains a colon.
func splitCpArg(s string) (container, path string) {
	if s == "-" || strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") {
		return "", s
	}
	if i := strings.Index(s, ":"); i > 0 {
		return s[:i], s[i+1:]
	}
	return "", s
}

func cpCommand() *cli.Command {
	return &cli.Command{
		Name:      "cp",
		Usage:     "copy files between a container and the host, or between containers (- is a tar stream on stdin/stdout)",
		ArgsUsage: "[CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "archive", Aliases: []string{"a"}, Value: true, Usage: "give files copied into a container to its user (false: keep the source owners)"},
			&cli.BoolFlag{Name: "overwrite", Usage: "allow a directory to replace a file and a file to replace a directory"},
			// docker's -L: a symlink given as SRC_PATH is always followed,
			// as podman does.
			&cli.BoolFlag{Name: "follow-link", Aliases: []string{"L"}, Usage: "follow a symlink given as SRC_PATH (always done)"},
			// podman's deprecated flags, accepted and without effect.
			&cli.BoolFlag{Name: "extract", Hidden: true},
			&cli.BoolFlag{Name: "pause", Value: true, Hidden: true},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 2 {
				return fmt.Errorf("cp requires exactly 2 arguments: [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH: %w", errdefs.ErrInvalidArgument)
			}
			srcCtr, src := splitCpArg(c.Args().Get(0))
			dstCtr, dst := splitCpArg(c.Args().Get(1))
			o := libservin.CopyOptions{Chown: c.Bool("archive"), FollowLink: c.Bool("follow-link"), Overwrite: c.Bool("overwrite")}
			switch {
			case src == "" || dst == "":
				return fmt.Errorf("invalid arguments %q, %q: you must specify paths: %w", c.Args().Get(0), c.Args().Get(1), errdefs.ErrInvalidArgument)
			case srcCtr == "" && dstCtr == "":
				// podman's words, then what they mean.
				return fmt.Errorf("name or ID cannot be empty: one of the paths must name a container (CONTAINER:PATH): %w", errdefs.ErrInvalidArgument)
			case srcCtr != "" && dstCtr != "":
				return rt.CopyBetweenContainers(c.Context, srcCtr, src, dstCtr, dst, o)
			case srcCtr != "" && dst == "-":
				w := bufio.NewWriterSize(os.Stdout, 1<<20)
				if err := rt.CopyArchiveFromContainer(c.Context, srcCtr, src, w, o); err != nil {
					return err
				}
				return w.Flush()
			case srcCtr != "":
				return rt.CopyFromContainer(c.Context, srcCtr, src, dst, o)
			case src == "-":
				// Unbuffered: the unpacker reads an archive file given as
				// stdin in place.
				return rt.CopyArchiveToContainer(c.Context, dstCtr, dst, os.Stdin, o)
			default:
				return rt.CopyToContainer(c.Context, dstCtr, src, dst, o)
			}
		}),
	}
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write a container's filesystem as a tar archive",
		ArgsUsage: "CONTAINER",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a file instead of stdout"}},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 1 {
				return fmt.Errorf("export requires exactly one container: %w", errdefs.ErrInvalidArgument)
			}
			return writeArchive(c.String("output"), func(w io.Writer) error {
				return rt.Export(c.Context, c.Args().First(), w)
			})
		}),
	}
}
