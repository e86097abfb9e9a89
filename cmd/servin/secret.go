package main

// secret: create, ls, inspect, rm, exists (podman's secret commands).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

func secretCommand() *cli.Command {
	return &cli.Command{
		Name:  "secret",
		Usage: "manage secrets",
		Subcommands: []*cli.Command{
			secretCreateCommand(), secretListCommand(), secretInspectCommand(), secretRmCommand(), secretExistsCommand(),
		},
	}
}

func secretCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a secret from a file, stdin (-) or an environment variable (--env)",
		ArgsUsage: "NAME FILE|-",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: libservin.SecretDriverFile, Usage: "secret driver (file)"},
			&cli.StringSliceFlag{Name: "driver-opts", Usage: "driver options: key=value[,key=value...] (file: path=DIR)"},
			&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "set metadata (key=value)"},
			&cli.BoolFlag{Name: "env", Usage: "read the secret from the environment variable named by the second argument"},
			&cli.BoolFlag{Name: "replace", Usage: "give an existing secret of that name the new data"},
			&cli.BoolFlag{Name: "ignore", Usage: "if the secret exists, print its ID and change nothing"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 2 {
				return errdefs.Worded(errdefs.ErrInvalidArgument, "accepts 2 arg(s), received %d", c.NArg())
			}
			data, err := readSecretData(c.Args().Get(1), c.Bool("env"))
			if err != nil {
				return err
			}
			opts, err := parseDriverOpts(c.StringSlice("driver-opts"))
			if err != nil {
				return err
			}
			labels, err := parseKeyValues("label", c.StringSlice("label"))
			if err != nil {
				return err
			}
			s, err := rt.CreateSecret(c.Context, libservin.SecretCreateOptions{
				Name: c.Args().First(), Data: data, Driver: c.String("driver"), DriverOptions: opts, Labels: labels,
				Replace: c.Bool("replace"), IgnoreIfExists: c.Bool("ignore"),
			})
			if err != nil {
				return err
			}
			fmt.Println(s.ID)
			return nil
		}),
	}
}

// readSecretData reads a secret's data from src: a file, "-" (stdin, which
// must not be a terminal) or, with fromEnv, the variable src names.
func readSecretData(src string, fromEnv bool) ([]byte, error) {
	var in io.Reader
	switch {
	case fromEnv:
		v := os.Getenv(src)
		if v == "" {
			return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "cannot create store secret data: environment variable %s is not set", src)
		}
		return []byte(v), nil
	case src == "-" || src == "/dev/stdin":
		st, err := os.Stdin.Stat()
		if err != nil {
			return nil, err
		}
		if st.Mode()&os.ModeCharDevice != 0 {
			return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "if `-` is used, data must be passed into stdin")
		}
		in = os.Stdin
	default:
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	// MaxSecretSize bytes are already too many: no need to read further.
	return io.ReadAll(io.LimitReader(in, libservin.MaxSecretSize))
}

// parseDriverOpts reads --driver-opts values, each key=value[,key=value...].
func parseDriverOpts(vals []string) (map[string]string, error) {
	var pairs []string
	for _, v := range vals {
		pairs = append(pairs, strings.Split(v, ",")...)
	}
	for _, p := range pairs {
		if !strings.Contains(p, "=") {
			return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "invalid argument %q for \"--driver-opts\" flag: %s must be formatted as key=value", strings.Join(vals, ","), p)
		}
	}
	return parseKeyValues("driver-opts", pairs)
}

// secretRow is a line of `secret ls`.
type secretRow struct {
	ID, Name, Driver, CreatedAt, UpdatedAt string
}

func secretListCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "list secrets",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter: name=REGEXP, id=REGEXP"},
			&cli.StringFlag{Name: "format", Usage: "Go template, or json"},
			&cli.BoolFlag{Name: "noheading", Aliases: []string{"n"}, Usage: "do not print the header"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only secret IDs"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			match, err := secretFilter(c.StringSlice("filter"))
			if err != nil {
				return err
			}
			secrets, err := rt.Secrets(c.Context)
			if err != nil {
				return err
			}
			now := time.Now()
			var rows []any
			for _, s := range secrets {
				if match(s) {
					rows = append(rows, &secretRow{
						ID: s.ID, Name: s.Name, Driver: s.Driver,
						CreatedAt: humanDuration(now, s.CreatedAt), UpdatedAt: humanDuration(now, s.UpdatedAt),
					})
				}
			}
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			format := c.String("format")
			switch {
			case c.Bool("quiet") && !c.IsSet("format"):
				format = "{{.ID}}"
			case isJSONFormat(format):
				if rows == nil {
					rows = []any{}
				}
				return writeJSON(out, rows, "    ", false)
			case format == "":
				format = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}"
			}
			p, err := newRowPrinter("secret ls", format, &secretRow{}, map[string]string{"CreatedAt": "CREATED", "UpdatedAt": "UPDATED"})
			if err != nil {
				return err
			}
			return p.print(out, rows, c.Bool("noheading"))
		}),
	}
}

// secretFilter compiles --filter values as podman does: name and id are
// regular expressions (one that does not compile matches nothing); values
// of one key are ORed, keys ANDed.
func secretFilter(flags []string) (func(*libservin.Secret) bool, error) {
	filters, err := parseFilters(flags)
	if err != nil {
		return nil, err
	}
	var preds []func(*libservin.Secret) bool
	for key, vals := range filters {
		var field func(*libservin.Secret) string
		switch key {
		case "name":
			field = func(s *libservin.Secret) string { return s.Name }
		case "id":
			field = func(s *libservin.Secret) string { return s.ID }
		default:
			return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "invalid filter %q", key)
		}
		var res []*regexp.Regexp
		for _, v := range vals {
			if re, err := regexp.Compile(v); err == nil {
				res = append(res, re)
			}
		}
		preds = append(preds, func(s *libservin.Secret) bool {
			return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(field(s)) })
		})
	}
	return func(s *libservin.Secret) bool {
		for _, p := range preds {
			if !p(s) {
				return false
			}
		}
		return true
	}, nil
}

// secretPrettyTemplate is podman's `secret inspect --pretty`.
const secretPrettyTemplate = `ID:              {{.ID}}
Name:              {{.Spec.Name}}
{{- if .Spec.Labels }}
Labels:
{{- range $k, $v := .Spec.Labels }}
 - {{ $k }}{{if $v }}={{ $v }}{{ end }}
{{- end }}{{ end }}
Driver:            {{.Spec.Driver.Name}}
Created at:        {{.CreatedAt}}
Updated at:        {{.UpdatedAt}}`

func secretInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "display the details of secrets",
		ArgsUsage: "SECRET [SECRET...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Go template, or json (the default)"},
			&cli.BoolFlag{Name: "pretty", Usage: "print in a human-readable format"},
			&cli.BoolFlag{Name: "showsecret", Usage: "show the secrets' data"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "secret inspect SECRET [SECRET...]"); err != nil {
				return err
			}
			found := []any{}
			var errs []error
			for _, n := range c.Args().Slice() {
				var (
					s    *libservin.Secret
					data []byte
					err  error
				)
				if c.Bool("showsecret") {
					s, data, err = rt.SecretData(c.Context, n)
				} else {
					s, err = rt.Secret(c.Context, n)
				}
				if err != nil {
					if !errors.Is(err, errdefs.ErrNotFound) {
						return fmt.Errorf("inspecting secret %s: %w", n, err)
					}
					errs = append(errs, err)
					continue
				}
				found = append(found, s.Inspect(data))
			}
			out := bufio.NewWriter(os.Stdout)
			format := c.String("format")
			if c.Bool("pretty") {
				format = secretPrettyTemplate
			}
			var err error
			if format == "" || isJSONFormat(format) {
				err = writeJSON(out, found, "    ", false)
			} else {
				var p *rowPrinter
				if p, err = newRowPrinter("secret inspect", format, nil, nil); err == nil {
					err = p.print(out, found, true)
				}
			}
			if ferr := out.Flush(); err == nil {
				err = ferr
			}
			if err != nil {
				return err
			}
			// podman's order: the later failures first, then the first.
			if len(errs) == 0 {
				return nil
			}
			for _, e := range errs[1:] {
				fmt.Fprintf(os.Stderr, "error inspecting secret: %s\n", e)
			}
			return fmt.Errorf("inspecting secret: %w", errs[0])
		}),
	}
}

func secretRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove secrets",
		ArgsUsage: "SECRET [SECRET...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all secrets"},
			&cli.BoolFlag{Name: "ignore", Aliases: []string{"i"}, Usage: "a secret that does not exist is no error"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			names := c.Args().Slice()
			if (len(names) > 0) == c.Bool("all") {
				return errdefs.Worded(errdefs.ErrInvalidArgument, "`servin secret rm` requires one argument, or the --all flag")
			}
			if c.Bool("all") {
				secrets, err := rt.Secrets(c.Context)
				if err != nil {
					return err
				}
				for _, s := range secrets {
					names = append(names, s.ID)
				}
			}
			return forEach(names, func(n string) (string, error) {
				s, err := rt.RemoveSecret(c.Context, n)
				if err != nil {
					if c.Bool("ignore") && errors.Is(err, errdefs.ErrNotFound) {
						return "", nil
					}
					return "", err
				}
				return s.ID, nil
			})
		}),
	}
}

func secretExistsCommand() *cli.Command {
	return &cli.Command{
		Name:      "exists",
		Usage:     "check whether a secret exists (exit 0) or not (exit 1)",
		ArgsUsage: "SECRET",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 1 {
				return errdefs.Worded(errdefs.ErrInvalidArgument, "accepts 1 arg(s), received %d", c.NArg())
			}
			ok, err := rt.SecretExists(c.Context, c.Args().First())
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
