package main

// Image commands beyond listing and removal: save, history, untag, image
// prune, image tree, image mount/unmount, search and commit.

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

func saveCommand() *cli.Command {
	return &cli.Command{
		Name:      "save",
		Usage:     "write images to an archive or directory",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file or directory (default: standard output)"},
			&cli.StringFlag{Name: "format", Value: "docker-archive", Usage: "docker-archive, oci-archive, oci-dir or docker-dir"},
			&cli.BoolFlag{Name: "multi-image-archive", Aliases: []string{"m"}, Usage: "accepted for podman compatibility: archives always take several images"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress progress output"},
			&cli.BoolFlag{Name: "uncompressed", Usage: "keep the layers of oci-archive and oci-dir uncompressed"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "save [OPTIONS] IMAGE [IMAGE...]"); err != nil {
				return err
			}
			out, format := c.String("output"), c.String("format")
			if out == "" {
				if strings.HasSuffix(format, "-dir") {
					return fmt.Errorf("--format %s needs --output DIRECTORY: %w", format, errdefs.ErrInvalidArgument)
				}
				if term.IsTerminal(int(os.Stdout.Fd())) {
					return fmt.Errorf("refusing to write an archive to a terminal: use --output or redirect standard output: %w", errdefs.ErrInvalidArgument)
				}
				out = "/dev/stdout"
			}
			return rt.SaveWith(c.Context, c.Args().Slice(), format, out, libservin.SaveOptions{Uncompressed: c.Bool("uncompressed")})
		}),
	}
}

// historyRow is what `history --format` templates see.
type historyRow struct {
	ID           string
	Created      string
	CreatedSince string
	CreatedAt    string
	CreatedBy    string
	Size         string
	Comment      string
	Tags         []string // printed as Go prints a slice: [a b]
}

// historyJSON is one step in `history --format json`, with podman's keys.
type historyJSON struct {
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"CreatedBy"`
	Size      int64     `json:"size"`
	Comment   string    `json:"comment"`
	Tags      []string  `json:"tags,omitempty"`
}

func historyCommand() *cli.Command {
	return &cli.Command{
		Name:      "history",
		Usage:     "show the build steps of an image",
		ArgsUsage: "IMAGE",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "human", Aliases: []string{"H"}, Value: true, Usage: "human-readable sizes and dates"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate output"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the IDs"},
			&cli.StringFlag{Name: "format", Usage: "Go template or json"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 1 {
				return fmt.Errorf("history requires exactly one image: %w", errdefs.ErrInvalidArgument)
			}
			hist, err := rt.History(c.Context, c.Args().First())
			if err != nil {
				return err
			}
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			noTrunc := c.Bool("no-trunc")
			if c.Bool("quiet") {
				for _, h := range hist {
					fmt.Fprintln(out, historyID(h.ID, noTrunc))
				}
				return nil
			}
			if isJSONFormat(c.String("format")) {
				docs := []historyJSON{}
				for _, h := range hist {
					docs = append(docs, historyJSON{ID: h.ID, Created: h.Created, CreatedBy: h.CreatedBy, Size: h.Size, Comment: h.Comment, Tags: h.Tags})
				}
				return writeJSON(out, docs, "    ", true)
			}
			format := c.String("format")
			if format == "" || format == "table" {
				format = "table {{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
			}
			p, err := newRowPrinter("history", format, historyRow{}, map[string]string{"CreatedBy": "CREATED BY"})
			if err != nil {
				return err
			}
			now := time.Now()
			var rows []any
			for _, h := range hist {
				by := h.CreatedBy
				if !noTrunc && len(by) > 45 {
					by = by[:42] + "..."
				}
				since := humanDuration(now, h.Created)
				size := humanSize(h.Size)
				if !c.Bool("human") {
					since, size = h.Created.Format(time.RFC3339), fmt.Sprint(h.Size)
				}
				rows = append(rows, historyRow{
					ID: historyID(h.ID, noTrunc), Created: since, CreatedSince: since,
					CreatedAt: h.Created.Format(time.RFC3339), CreatedBy: by, Size: size,
					Comment: h.Comment, Tags: h.Tags,
				})
			}
			return p.print(out, rows, false)
		}),
	}
}

func historyID(id string, noTrunc bool) string {
	if id == "<missing>" || noTrunc {
		return id
	}
	return shortID(id)
}

func untagCommand() *cli.Command {
	return &cli.Command{
		Name:      "untag",
		Usage:     "remove names from an image (all of them without NAME)",
		ArgsUsage: "IMAGE [NAME...]",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "untag IMAGE [NAME...]"); err != nil {
				return err
			}
			return rt.Untag(c.Context, c.Args().First(), c.Args().Slice()[1:])
		}),
	}
}

func imagePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove unused images: untagged ones, or all unused with -a",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove every image no container uses"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not ask for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "label=K[=V], label!=K[=V], until=TIME"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			filters, err := parseFilters(c.StringSlice("filter"))
			if err != nil {
				return err
			}
			match, err := pruneFilter(filters)
			if err != nil {
				return err
			}
			ids, err := rt.PruneImages(c.Context, c.Bool("all"), match)
			for _, id := range ids {
				fmt.Println(id)
			}
			return err
		}),
	}
}

// pruneFilter compiles image prune's filters (keys ANDed, values ORed
// except label!= which must hold for every value).
func pruneFilter(filters map[string][]string) (func(*libservin.Image) bool, error) {
	var preds []func(*libservin.Image) bool
	for key, vals := range filters {
		switch key {
		case "label":
			preds = append(preds, func(img *libservin.Image) bool {
				for _, v := range vals {
					if matchLabel(imageLabels(img), v) {
						return true
					}
				}
				return false
			})
		case "label!":
			preds = append(preds, func(img *libservin.Image) bool {
				for _, v := range vals {
					if matchLabel(imageLabels(img), v) {
						return false
					}
				}
				return true
			})
		case "until":
			var limits []time.Time
			for _, v := range vals {
				t, err := parseTimeFlag(v, true, time.Now()) // until=24h: older than a day
				if err != nil {
					return nil, fmt.Errorf("invalid until filter %q: %w", v, errdefs.ErrInvalidArgument)
				}
				limits = append(limits, t)
			}
			preds = append(preds, func(img *libservin.Image) bool {
				for _, t := range limits {
					if img.Created.Before(t) {
						return true
					}
				}
				return false
			})
		default:
			return nil, fmt.Errorf("unsupported image prune filter %q: %w", key, errdefs.ErrInvalidArgument)
		}
	}
	return func(img *libservin.Image) bool {
		for _, p := range preds {
			if !p(img) {
				return false
			}
		}
		return true
	}, nil
}

func imageTreeCommand() *cli.Command {
	return &cli.Command{
		Name:      "tree",
		Usage:     "show an image's layers",
		ArgsUsage: "IMAGE",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 1 {
				return fmt.Errorf("image tree requires exactly one image: %w", errdefs.ErrInvalidArgument)
			}
			img, layers, err := rt.ImageTree(c.Context, c.Args().First())
			if err != nil {
				return err
			}
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			fmt.Fprintf(out, "Image ID: %s\n", shortID(img.ID))
			fmt.Fprintf(out, "Tags:     %s\n", "["+strings.Join(img.Names, " ")+"]")
			fmt.Fprintf(out, "Size:     %s\n", humanSize(img.Size))
			fmt.Fprintf(out, "Image Layers\n")
			for i, l := range layers {
				branch := "├── "
				if i == len(layers)-1 {
					branch = "└── "
				}
				line := fmt.Sprintf("%sID: %s Size: %s", branch, shortID(l.ID), humanSize(l.Size))
				if len(l.Images) > 0 {
					line += " Top Layer of: [" + strings.Join(l.Images, " ") + "]"
				}
				fmt.Fprintln(out, line)
			}
			return nil
		}),
	}
}

func imageMountCommand() *cli.Command {
	return &cli.Command{
		Name:      "mount",
		Usage:     "mount images read-only and print where (without IMAGE: list mounted images)",
		ArgsUsage: "[IMAGE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "mount all images"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.Bool("all") {
				imgs, err := rt.Images(c.Context)
				if err != nil {
					return err
				}
				return forEach(imageIDs(imgs), func(id string) (string, error) {
					p, err := rt.MountImage(c.Context, id)
					return imageDisplayName(c, rt, id) + " " + p, err
				})
			}
			if c.NArg() == 0 {
				mounted, err := rt.MountedImages(c.Context)
				if err != nil {
					return err
				}
				for _, id := range slices.Sorted(maps.Keys(mounted)) {
					fmt.Printf("%s %s\n", imageDisplayName(c, rt, id), mounted[id])
				}
				return nil
			}
			return forEach(c.Args().Slice(), func(name string) (string, error) {
				return rt.MountImage(c.Context, name)
			})
		}),
	}
}

func imageUnmountCommand() *cli.Command {
	return &cli.Command{
		Name:      "unmount",
		Aliases:   []string{"umount"},
		Usage:     "unmount images",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "unmount even if mounted several times"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "unmount all mounted images"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			mounted, err := rt.MountedImages(c.Context)
			if err != nil {
				return err
			}
			names := c.Args().Slice()
			if c.Bool("all") {
				names = slices.Sorted(maps.Keys(mounted))
			} else if err := requireArgs(c, 1, "image unmount IMAGE [IMAGE...]"); err != nil {
				return err
			}
			// Prints the IDs of the images it unmounted, nothing for one
			// that was not mounted (as podman).
			for _, name := range names {
				img, err := rt.Image(c.Context, name)
				if err != nil {
					return err
				}
				if _, ok := mounted[img.ID]; !ok {
					continue
				}
				if err := rt.UnmountImage(c.Context, img.ID, c.Bool("force")); err != nil {
					return err
				}
				fmt.Println(img.ID)
			}
			return nil
		}),
	}
}

// searchRow is what `search --format` templates see.
type searchRow struct {
	Index       string
	Name        string
	Description string
	Stars       int
	Official    string
	Automated   string
	Tag         string
}

func searchCommand() *cli.Command {
	flags := append(remoteFlags(),
		&cli.IntFlag{Name: "limit", Value: 25, Usage: "at most this many results per registry"},
		&cli.BoolFlag{Name: "list-tags", Usage: "list the tags of the repository TERM"},
		&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate descriptions"},
		&cli.StringFlag{Name: "format", Usage: "Go template or json"},
	)
	return &cli.Command{
		Name:      "search",
		Usage:     "search registries for images",
		ArgsUsage: "[REGISTRY/]TERM",
		Flags:     flags,
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 1 {
				return fmt.Errorf("search requires exactly one term: %w", errdefs.ErrInvalidArgument)
			}
			ro, err := remoteOptions(c)
			if err != nil {
				return err
			}
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			var rows []any
			format := c.String("format")
			if c.Bool("list-tags") {
				tags, err := rt.ListTags(c.Context, c.Args().First(), ro)
				if err != nil {
					return err
				}
				for _, t := range tags {
					rows = append(rows, searchRow{Name: strings.TrimPrefix(c.Args().First(), "docker://"), Tag: t})
				}
				if format == "" {
					format = "table {{.Name}}\t{{.Tag}}"
				}
			} else {
				res, err := rt.Search(c.Context, c.Args().First(), c.Int("limit"), ro)
				if err != nil {
					return err
				}
				if isJSONFormat(format) {
					return writeJSON(out, res, "    ", true)
				}
				for _, r := range res {
					desc := r.Description
					if !c.Bool("no-trunc") && len(desc) > 44 {
						desc = desc[:41] + "..."
					}
					rows = append(rows, searchRow{Index: r.Index, Name: r.Name, Description: desc, Stars: r.Stars,
						Official: okMark(r.Official), Automated: okMark(r.Automated)})
				}
				if format == "" {
					format = "table {{.Name}}\t{{.Description}}"
				}
			}
			p, err := newRowPrinter("search", format, searchRow{}, nil)
			if err != nil {
				return err
			}
			return p.print(out, rows, false)
		}),
	}
}

func okMark(b bool) string {
	if b {
		return "[OK]"
	}
	return ""
}

func commitCommand() *cli.Command {
	return &cli.Command{
		Name:      "commit",
		Usage:     "create an image from a container's changes",
		ArgsUsage: "CONTAINER [IMAGE]",
		Flags: []cli.Flag{
			&cli.GenericFlag{Name: "change", Aliases: []string{"c"}, Value: &repeatable{}, Usage: "apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, LABEL, ...)"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "commit message"},
			&cli.StringFlag{Name: "author", Aliases: []string{"a"}, Usage: "author of the image"},
			&cli.BoolFlag{Name: "pause", Aliases: []string{"p"}, Usage: "pause the container while committing"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the image ID"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "oci", Usage: "image format: oci or docker (needed for --message)"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return fmt.Errorf("commit requires a container and optionally an image name: %w", errdefs.ErrInvalidArgument)
			}
			img, err := rt.Commit(c.Context, c.Args().First(), libservin.CommitOptions{
				Reference: c.Args().Get(1), Changes: repeatableValues(c, "change"),
				Message: c.String("message"), Author: c.String("author"), Pause: c.Bool("pause"),
				Format: c.String("format"),
			})
			if err != nil {
				return err
			}
			fmt.Println(img.ID)
			return nil
		}),
	}
}

func imageIDs(imgs []*libservin.Image) []string {
	ids := make([]string, 0, len(imgs))
	for _, img := range imgs {
		ids = append(ids, img.ID)
	}
	return ids
}

// imageDisplayName is an image's first name, or its short ID.
func imageDisplayName(c *cli.Context, rt *libservin.Runtime, id string) string {
	if img, err := rt.Image(c.Context, id); err == nil && len(img.Names) > 0 {
		return img.Names[0]
	}
	return shortID(id)
}
