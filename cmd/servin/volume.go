package main

// volume: create, ls, inspect, rm, prune, exists, export, import.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

func volumeCommand() *cli.Command {
	return &cli.Command{
		Name:  "volume",
		Usage: "manage volumes",
		Subcommands: []*cli.Command{
			volumeCreateCommand(), volumeListCommand(), volumeInspectCommand(), volumeRmCommand(),
			volumePruneCommand(), volumeExistsCommand(), volumeExportCommand(), volumeImportCommand(),
			volumeMountCommand(), volumeUnmountCommand(),
		},
	}
}

func volumeCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a volume",
		ArgsUsage: "[NAME]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "local", Usage: "volume driver"},
			&cli.StringSliceFlag{Name: "opt", Aliases: []string{"o"}, Usage: "driver option: type=, device=, o= (local driver)"},
			&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "set metadata (key=value)"},
			&cli.BoolFlag{Name: "ignore", Usage: "do not fail if the volume exists"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() > 1 {
				return fmt.Errorf("too many arguments: volume create takes at most one name: %w", errdefs.ErrInvalidArgument)
			}
			opts, err := parseKeyValues("opt", c.StringSlice("opt"))
			if err != nil {
				return err
			}
			labels, err := parseKeyValues("label", c.StringSlice("label"))
			if err != nil {
				return err
			}
			v, err := rt.CreateVolume(c.Context, libservin.VolumeCreateOptions{
				Name: c.Args().First(), Driver: c.String("driver"), Options: opts, Labels: labels,
				IgnoreIfExists: c.Bool("ignore"),
			})
			if err != nil {
				return err
			}
			fmt.Println(v.Name)
			return nil
		}),
	}
}

// volumeRow is what volume ls templates see: the volume, with its labels
// as one "k=v,k2=v2" string, as podman 5 shows them.
type volumeRow struct {
	*libservin.Volume
	Labels psLabels // ps_podman.go
}

func volumeListCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "list volumes",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter: name, driver, label, label!, opt, scope, dangling, anonymous, until"},
			&cli.StringFlag{Name: "format", Usage: "Go template, or json"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only volume names"},
			&cli.BoolFlag{Name: "noheading", Aliases: []string{"n"}, Usage: "do not print the header"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			match, err := volumeFilter(c.StringSlice("filter"), false)
			if err != nil {
				return err
			}
			vols, err := rt.Volumes(c.Context)
			if err != nil {
				return err
			}
			var rows []any
			var sel []*libservin.Volume
			for _, v := range vols {
				if match(v) {
					rows = append(rows, volumeRow{Volume: v, Labels: v.Labels})
					sel = append(sel, v)
				}
			}
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			format := c.String("format")
			switch {
			case c.Bool("quiet"):
				format = "{{.Name}}"
			case isJSONFormat(format):
				if sel == nil {
					sel = []*libservin.Volume{}
				}
				return writeJSON(out, sel, "    ", false)
			case format == "":
				format = "table {{.Driver}}\t{{.Name}}"
			}
			p, err := newRowPrinter("volume ls", format, volumeRow{Volume: &libservin.Volume{}}, map[string]string{"Name": "VOLUME NAME"})
			if err != nil {
				return err
			}
			return p.print(out, rows, c.Bool("noheading"))
		}),
	}
}

// volumeFilter compiles --filter values: values of one key are ORed, keys
// ANDed. prune accepts only label, label! and until.
func volumeFilter(flags []string, prune bool) (func(*libservin.Volume) bool, error) {
	filters, err := parseFilters(flags)
	if err != nil {
		return nil, err
	}
	var preds []func(*libservin.Volume) bool
	for key, vals := range filters {
		if prune && key != "label" && key != "label!" && key != "until" {
			return nil, fmt.Errorf("%q is an invalid volume prune filter (use label, label! or until): %w", key, errdefs.ErrInvalidArgument)
		}
		var one []func(*libservin.Volume) bool
		for _, v := range vals {
			m, err := volumeFilterOne(key, v)
			if err != nil {
				return nil, err
			}
			one = append(one, m)
		}
		preds = append(preds, func(v *libservin.Volume) bool {
			for _, m := range one {
				if m(v) {
					return true
				}
			}
			return false
		})
	}
	return func(v *libservin.Volume) bool {
		for _, p := range preds {
			if !p(v) {
				return false
			}
		}
		return true
	}, nil
}

func volumeFilterOne(key, val string) (func(*libservin.Volume) bool, error) {
	boolVal := func() (bool, error) {
		b, err := strconv.ParseBool(val)
		if err != nil {
			return false, fmt.Errorf("invalid %s filter value %q: must be true or false: %w", key, val, errdefs.ErrInvalidArgument)
		}
		return b, nil
	}
	switch key {
	case "name":
		re, err := regexp.Compile(val)
		if err != nil {
			return nil, fmt.Errorf("invalid name filter %q: %w: %w", val, err, errdefs.ErrInvalidArgument)
		}
		return func(v *libservin.Volume) bool { return re.MatchString(v.Name) }, nil
	case "driver":
		return func(v *libservin.Volume) bool { return v.Driver == val }, nil
	case "scope":
		return func(v *libservin.Volume) bool { return v.Scope == val }, nil
	case "label":
		return func(v *libservin.Volume) bool { return matchLabel(v.Labels, val) }, nil
	case "label!":
		return func(v *libservin.Volume) bool { return !matchLabel(v.Labels, val) }, nil
	case "opt":
		return func(v *libservin.Volume) bool { return matchLabel(v.Options, val) }, nil
	case "dangling":
		b, err := boolVal()
		if err != nil {
			return nil, err
		}
		return func(v *libservin.Volume) bool { return (v.Containers == 0) == b }, nil
	case "anonymous":
		b, err := boolVal()
		if err != nil {
			return nil, err
		}
		return func(v *libservin.Volume) bool { return v.Anonymous == b }, nil
	case "until":
		t, err := parseTimeFlag(val, true, time.Now())
		if err != nil {
			return nil, fmt.Errorf("invalid until filter %q: %w", val, err)
		}
		return func(v *libservin.Volume) bool { return v.CreatedAt.Before(t) }, nil
	}
	return nil, fmt.Errorf("%q is an invalid volume filter: %w", key, errdefs.ErrInvalidArgument)
}

func volumeInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "display the configuration of volumes",
		ArgsUsage: "VOLUME [VOLUME...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Go template, or json (the default)"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "inspect all volumes"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			names := c.Args().Slice()
			if c.Bool("all") {
				vols, err := rt.Volumes(c.Context)
				if err != nil {
					return err
				}
				names = nil
				for _, v := range vols {
					names = append(names, v.Name)
				}
			} else if err := requireArgs(c, 1, "volume inspect VOLUME [VOLUME...]"); err != nil {
				return err
			}
			var (
				found = []any{}
				errs  []error
			)
			for _, n := range names {
				v, err := rt.Volume(c.Context, n)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				found = append(found, v)
			}
			out := bufio.NewWriter(os.Stdout)
			format := c.String("format")
			var err error
			if format == "" || isJSONFormat(format) {
				err = writeJSON(out, found, "    ", false)
			} else {
				var p *rowPrinter
				if p, err = newRowPrinter("volume inspect", format, nil, nil); err == nil {
					err = p.print(out, found, true)
				}
			}
			if ferr := out.Flush(); err == nil {
				err = ferr
			}
			if err != nil {
				return err
			}
			return lastError(errs)
		}),
	}
}

// lastError prints all but the last error and returns the last, as podman
// reports failures of multi-argument commands.
func lastError(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs[:len(errs)-1] {
		fmt.Fprintf(os.Stderr, "Error: %s\n", e)
	}
	return errs[len(errs)-1]
}

func volumeRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "remove volumes",
		ArgsUsage: "VOLUME [VOLUME...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all volumes"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "remove the stopped containers using the volume too; a missing volume is no error"},
			&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Usage: "seconds to wait for containers to stop (-1: no limit)"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			names := c.Args().Slice()
			if c.Bool("all") {
				vols, err := rt.Volumes(c.Context)
				if err != nil {
					return err
				}
				names = nil
				for _, v := range vols {
					names = append(names, v.Name)
				}
			} else if c.NArg() == 0 {
				return fmt.Errorf("volume rm requires a volume name or --all: %w", errdefs.ErrInvalidArgument)
			}
			o := libservin.VolumeRemoveOptions{Force: c.Bool("force")}
			if c.IsSet("time") {
				t := uint(math.MaxInt32) // -1: as long as it takes
				if c.Int("time") >= 0 {
					t = uint(c.Int("time"))
				}
				o.Timeout = &t
			}
			err := forEach(names, func(n string) (string, error) {
				v, err := rt.RemoveVolume(c.Context, n, o)
				if err != nil {
					if o.Force && errors.Is(err, errdefs.ErrNotFound) {
						return "", nil
					}
					if errors.Is(err, errdefs.ErrNotFound) {
						err = errdefs.Worded(errdefs.ErrNotFound, "no volume with name %q found: no such volume", n)
					}
					return "", err
				}
				return v.Name, nil
			})
			if err != nil {
				// podman's codes: 1 for a missing volume, 2 for one in use.
				return codedError{err: err, code: rmiExitCode(err)} // images.go
			}
			return nil
		}),
	}
}

func volumePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove the anonymous volumes no container uses (--all: every unused volume)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not ask for confirmation"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "named volumes too"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be removed, remove nothing"},
			&cli.StringSliceFlag{Name: "filter", Usage: "filter: label, label!, until, all=true"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := flagConflicts(c, [2]string{"force", "dry-run"}); err != nil { // ctrflags.go
				return err
			}
			var filters []string
			all := c.Bool("all")
			for _, f := range c.StringSlice("filter") {
				if strings.EqualFold(f, "all=true") {
					if c.Bool("all") {
						return fmt.Errorf("--all and --filter all cannot be used together: %w", errdefs.ErrInvalidArgument)
					}
					all = true
					continue
				}
				filters = append(filters, f)
			}
			filter, err := volumeFilter(filters, true)
			if err != nil {
				return err
			}
			// Without --all, only anonymous volumes go, as in podman 5.
			match := func(v *libservin.Volume) bool { return (all || v.Anonymous) && filter(v) }
			if c.Bool("dry-run") || !c.Bool("force") {
				vols, err := rt.Volumes(c.Context)
				if err != nil {
					return err
				}
				var names []string
				for _, v := range vols {
					if v.Containers == 0 && match(v) {
						names = append(names, v.Name)
					}
				}
				if c.Bool("dry-run") {
					fmt.Println("Volumes that would be pruned:")
					for _, n := range names {
						fmt.Println(n)
					}
					return nil
				}
				if all {
					fmt.Println("WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:")
				} else {
					fmt.Println("WARNING! This will remove anonymous local volumes not used by at least one container. The following volumes will be removed:")
				}
				if len(names) == 0 {
					if all {
						fmt.Println("No dangling volumes found")
					} else {
						fmt.Println("No dangling anonymous volumes found")
					}
					return nil
				}
				if !confirm(os.Stdin, os.Stdout, strings.Join(names, "\n")+"\nAre you sure you want to continue? [y/N] ") {
					return nil
				}
			}
			removed, err := rt.PruneVolumes(c.Context, match)
			for _, v := range removed {
				fmt.Println(v.Name)
			}
			return err
		}),
	}
}

func volumeExistsCommand() *cli.Command {
	return &cli.Command{
		Name:      "exists",
		Usage:     "check whether a volume exists (exit 0) or not (exit 1)",
		ArgsUsage: "VOLUME",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "volume exists VOLUME"); err != nil {
				return err
			}
			ok, err := rt.VolumeExists(c.Context, c.Args().First())
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

func volumeExportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write the content of a volume as a tar archive",
		ArgsUsage: "VOLUME",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a file instead of stdout"}},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 1 {
				return fmt.Errorf("volume export requires exactly one volume: %w", errdefs.ErrInvalidArgument)
			}
			return writeArchive(c.String("output"), func(w io.Writer) error {
				return rt.ExportVolume(c.Context, c.Args().First(), w)
			})
		}),
	}
}

func volumeImportCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "unpack a tar archive (a file, or - for stdin) into a volume",
		ArgsUsage: "VOLUME SOURCE",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 2 {
				return fmt.Errorf("volume import requires a volume and a tar file (or - for stdin): %w", errdefs.ErrInvalidArgument)
			}
			var in io.Reader = os.Stdin
			if src := c.Args().Get(1); src != "-" {
				f, err := os.Open(src)
				if err != nil {
					return fmt.Errorf("opening %s: %w: %w", src, err, errdefs.ErrInvalidArgument)
				}
				defer f.Close()
				in = f
			}
			return rt.ImportVolume(c.Context, c.Args().First(), in)
		}),
	}
}

// writeArchive runs write on the file out (written atomically), or on
// stdout, which must not be a terminal.
func writeArchive(out string, write func(io.Writer) error) error {
	if out == "" || out == "-" {
		if term.IsTerminal(int(os.Stdout.Fd())) {
			return fmt.Errorf("refusing to write a tar archive to a terminal: use -o FILE or redirect stdout: %w", errdefs.ErrInvalidArgument)
		}
		w := bufio.NewWriterSize(os.Stdout, 1<<20)
		if err := write(w); err != nil {
			return err
		}
		return w.Flush()
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, out)
}

func volumeMountCommand() *cli.Command {
	return &cli.Command{
		Name:      "mount",
		Usage:     "mount volumes on the host and print where their data is",
		ArgsUsage: "VOLUME [VOLUME...]",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "volume mount VOLUME [VOLUME...]"); err != nil {
				return err
			}
			return forEach(c.Args().Slice(), func(n string) (string, error) {
				return rt.MountVolume(c.Context, n)
			})
		}),
	}
}

func volumeUnmountCommand() *cli.Command {
	return &cli.Command{
		Name:      "unmount",
		Aliases:   []string{"umount"},
		Usage:     "unmount volumes mounted with volume mount",
		ArgsUsage: "VOLUME [VOLUME...]",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "volume unmount VOLUME [VOLUME...]"); err != nil {
				return err
			}
			return forEach(c.Args().Slice(), func(n string) (string, error) {
				return n, rt.UnmountVolume(c.Context, n)
			})
		}),
	}
}
