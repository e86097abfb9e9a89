package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// normalizeArgs rewrites a command line into the shape urfave/cli parses
// the way podman users expect:
//   - every flag is spelled by its canonical long name, so "-e A --env B"
//     is two values of one flag instead of urfave's "two forms" error, and
//     combined short flags ("-it", "-dit") are expanded;
//   - for commands whose arguments are not a command line of their own
//     (everything but a container's run, create and exec), flags given after the first
//     argument ("servin rm ctr -f") are moved before it;
//   - global flags given after the command name ("servin info --root DIR"),
//     which the command does not define itself, are moved before it.
//
// Anything it does not understand is passed through for urfave to report.
func normalizeArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	// Global flags up to the command name.
	global := flagIndex(app.Flags)
	n := consumeFlags(rest, global, nil, &out, nil, false)
	rest = rest[n:]
	if len(rest) == 0 {
		return out
	}
	nGlobal := len(out)
	cmds := app.Commands
	var cmd, group *cli.Command
	for len(rest) > 0 {
		c := findCommand(cmds, rest[0])
		if c == nil {
			break
		}
		out = append(out, rest[0])
		rest = rest[1:]
		if cmd != nil {
			group = cmd
		}
		cmd = c
		if len(c.Subcommands) == 0 {
			break
		}
		cmds = c.Subcommands
	}
	if cmd == nil || len(cmd.Subcommands) > 0 || cmd.SkipFlagParsing || cmd.Hidden {
		return append(out, rest...)
	}
	idx := flagIndex(cmd.Flags)
	// run, create and exec of containers end with the container's own
	// command line; `volume create NAME --label x` and the like do not.
	containerCmd := group == nil || group.Name == "container"
	interspersed := !(containerCmd && (cmd.Name == "run" || cmd.Name == "create" || cmd.Name == "exec"))
	var positional, lateGlobals []string
	for len(rest) > 0 {
		n := consumeFlags(rest, idx, global, &out, &lateGlobals, true)
		rest = rest[n:]
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			positional = append(positional, rest...)
			break
		}
		if !interspersed {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		rest = rest[1:]
	}
	if len(positional) > 0 && positional[0] != "--" && strings.HasPrefix(positional[0], "-") && positional[0] != "-" {
		// A leading "-x" argument would be read as a flag: keep the
		// separator so urfave treats it as an argument.
		out = append(out, "--")
	}
	out = append(out, positional...)
	if len(lateGlobals) > 0 {
		out = append(append(append([]string{}, out[:nGlobal]...), lateGlobals...), out[nGlobal:]...)
	}
	return out
}

type flagInfo struct {
	name      string // canonical long name
	takesArg  bool
	boolValue bool
}

func flagIndex(flags []cli.Flag) map[string]flagInfo {
	idx := map[string]flagInfo{}
	for _, f := range flags {
		names := f.Names()
		if len(names) == 0 {
			continue
		}
		_, isBool := f.(*cli.BoolFlag)
		info := flagInfo{name: names[0], takesArg: !isBool, boolValue: isBool}
		for _, n := range names {
			idx[n] = info
		}
	}
	idx["help"] = flagInfo{name: "help", boolValue: true}
	return idx
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// consumeFlags copies the flags at the start of args to out, canonicalized,
// and returns how many elements of args it used. It stops at the first
// argument that is not a known flag. Long flags unknown to idx but known
// to global (the application's) go to globals instead, when it is set.
func consumeFlags(args []string, idx, global map[string]flagInfo, out, globals *[]string, expandShort bool) int {
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" || a == "-" || !strings.HasPrefix(a, "-") {
			return i
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			dst := out
			info, ok := idx[name]
			if gi, isGlobal := global[name]; !ok && isGlobal && globals != nil && name != "help" {
				info, ok, dst = gi, true, globals
			}
			if !ok {
				*out = append(*out, a) // let urfave report it
				i++
				continue
			}
			switch {
			case hasVal:
				*dst = append(*dst, "--"+info.name+"="+val)
				i++
			case info.takesArg && i+1 < len(args):
				// One word, so that a value like "-1s" is never read as a flag.
				*dst = append(*dst, "--"+info.name+"="+args[i+1])
				i += 2
			default:
				*dst = append(*dst, "--"+info.name)
				i++
			}
			continue
		}
		// Short flags: "-d", "-it", "-eA=1", "-e=A", "-n1".
		body := a[1:]
		consumed := 1
		var expanded []string
		for j := 0; j < len(body); j++ {
			info, ok := idx[string(body[j])]
			if !ok {
				expanded = nil
				break
			}
			if info.boolValue {
				expanded = append(expanded, "--"+info.name)
				continue
			}
			val := body[j+1:]
			if strings.HasPrefix(val, "=") {
				val = val[1:]
			}
			if val == "" {
				if i+1 >= len(args) {
					expanded = append(expanded, "--"+info.name)
					break
				}
				val = args[i+1]
				consumed = 2
			}
			expanded = append(expanded, "--"+info.name+"="+val)
			break
		}
		if expanded == nil {
			*out = append(*out, a)
			i++
			continue
		}
		*out = append(*out, expanded...)
		i += consumed
	}
	return i
}
