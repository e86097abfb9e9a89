package main

// Help in podman's layout (a description, "Usage:", "Available Commands:",
// "Options:" with short flags first), and the argument counts the usage
// line promises, checked the same way for every command.

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin/errdefs"
)

const appHelpTemplate = `{{.Usage}}

Usage:
  {{.HelpName}} [options] [command]

Available Commands:
{{- range .VisibleCommands}}
  {{printf "%-16s" .Name}} {{.Usage}}
{{- end}}

Options:
{{- range .VisibleFlags}}
  {{.}}
{{- end}}
`

const commandHelpTemplate = `{{.Usage}}

Description:
  {{if .Description}}{{.Description}}{{else}}{{.Usage}}{{end}}

Usage:
{{- if eq .ArgsUsage "[command]"}}
  {{.HelpName}} [command]
{{- else}}
  {{.HelpName}} [options]{{if .ArgsUsage}} {{.ArgsUsage}}{{end}}
{{- end}}
{{- if gt (len .Aliases) 0}}

Aliases:
  {{.Name}}, {{join .Aliases ", "}}
{{- end}}
{{- if ne .ArgsUsage "[command]"}}

Options:
{{- range .VisibleFlags}}
  {{.}}
{{- end}}
{{- end}}
`

const subcommandHelpTemplate = `{{.Usage}}

Description:
  {{if .Description}}{{.Description}}{{else}}{{.Usage}}{{end}}

Usage:
  {{.HelpName}} [command]

Available Commands:
{{- range .VisibleCommands}}
  {{printf "%-16s" .Name}} {{.Usage}}
{{- end}}
`

// flagString renders a flag as podman's help does: "-a, --all", the
// value's kind, then the description with its default.
func flagString(f cli.Flag) string {
	var short, long []string
	for _, n := range f.Names() {
		if len(n) == 1 {
			short = append(short, "-"+n)
		} else {
			long = append(long, "--"+n)
		}
	}
	names := strings.Join(append(short, long...), ", ")
	if len(short) == 0 {
		names = "    " + names
	}
	if df, ok := f.(cli.DocGenerationFlag); ok && df.TakesValue() {
		kind := "string"
		switch f.(type) {
		case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
			kind = "int"
		case *cli.StringSliceFlag:
			kind = "stringArray"
		case *cli.DurationFlag:
			kind = "duration"
		case *cli.Float64Flag:
			kind = "float"
		}
		names += " " + kind
	}
	usage := ""
	if df, ok := f.(cli.DocGenerationFlag); ok {
		usage = df.GetUsage()
		if v := df.GetDefaultText(); v != "" && v != "false" {
			usage += fmt.Sprintf(" (default %s)", v)
		} else if df.TakesValue() {
			if v := df.GetValue(); v != "" && v != `""` && v != "[]" && v != "0" {
				usage += fmt.Sprintf(" (default %s)", v)
			}
		}
	}
	return fmt.Sprintf("%-32s %s", names, usage)
}

func init() {
	cli.AppHelpTemplate = appHelpTemplate
	cli.CommandHelpTemplate = commandHelpTemplate
	cli.SubcommandHelpTemplate = subcommandHelpTemplate
	cli.FlagStringer = flagString
}

// checkArgCounts makes every visible command refuse more arguments than
// its usage line names: none when it names none ("takes no arguments"),
// at most that many when no name ends in "..." ("accepts at most").
func checkArgCounts(cmds []*cli.Command) {
	for _, cmd := range cmds {
		if len(cmd.Subcommands) > 0 {
			if !cmd.Hidden {
				checkArgCounts(cmd.Subcommands)
			}
			continue
		}
		if cmd.Hidden || cmd.SkipFlagParsing || cmd.Action == nil || strings.Contains(cmd.ArgsUsage, "...") {
			continue
		}
		max := len(strings.Fields(cmd.ArgsUsage))
		action := cmd.Action
		cmd.Action = func(c *cli.Context) error {
			if n := c.NArg(); n > max {
				if max == 0 {
					return errdefs.Worded(errdefs.ErrInvalidArgument, "`%s` takes no arguments", c.Command.HelpName)
				}
				return errdefs.Worded(errdefs.ErrInvalidArgument, "`%s` accepts at most %d arg(s), received %d", c.Command.HelpName, max, n)
			}
			return action(c)
		}
	}
}

// helpCommand is `servin help [COMMAND...]`: the help of servin or of a
// command, as `servin COMMAND --help` shows it.
func helpCommand() *cli.Command {
	return &cli.Command{
		Name:      "help",
		Usage:     "help about any command",
		ArgsUsage: "[command]",
		// --help is read here: urfave shows servin's help for `help --help`.
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) == 1 && (args[0] == "--help" || args[0] == "-h") {
				c.Command.HelpName = c.App.Name + " help"
				cli.HelpPrinter(c.App.Writer, cli.CommandHelpTemplate, c.Command)
				return nil
			}
			if len(args) == 0 {
				return cli.ShowAppHelp(c)
			}
			cmds := c.App.Commands
			var found *cli.Command
			for _, name := range args {
				found = nil
				for _, cmd := range cmds {
					if cmd.HasName(name) {
						found = cmd
						break
					}
				}
				if found == nil {
					return errdefs.Worded(errdefs.ErrInvalidArgument, "unknown help topic %q", strings.Join(args, " "))
				}
				cmds = found.Subcommands
			}
			tmpl := cli.CommandHelpTemplate
			if len(found.Subcommands) > 0 {
				tmpl = cli.SubcommandHelpTemplate
			}
			found.HelpName = c.App.Name + " " + strings.Join(args, " ")
			cli.HelpPrinter(c.App.Writer, tmpl, found)
			return nil
		},
	}
}

// setCommandHelp drops the "help" subcommand urfave gives every command
// (`servin help COMMAND` and `servin COMMAND --help` show the help), and
// names each command's template: urfave picks the group template for a
// command without subcommands in some paths.
func setCommandHelp(cmds []*cli.Command) {
	for _, cmd := range cmds {
		cmd.HideHelpCommand = true
		if len(cmd.Subcommands) > 0 {
			cmd.CustomHelpTemplate = subcommandHelpTemplate
		} else {
			cmd.CustomHelpTemplate = commandHelpTemplate
		}
		setCommandHelp(cmd.Subcommands)
	}
}
