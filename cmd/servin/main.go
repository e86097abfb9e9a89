// Command servin is the podman-compatible CLI of servin. Each command file
// maps flags onto a libservin options struct and calls one library
// function; no engine logic lives here.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/servin/servin/cmd/servin/internal/fastpath"
	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/image"
)

func main() {
	// containers/storage re-executes this binary for some layer work.
	if image.ReexecInit() {
		return
	}
	// Most invocations live for a fraction of a second with a live heap of
	// a few MB: collecting at 4 MB (GOGC=100) only burns CPU, which 50
	// parallel `run -d` on two cores feel. GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if p := os.Getenv("SERVIN_CPUPROFILE"); p != "" {
		// A debugging aid: a CPU profile of this one invocation.
		if f, err := os.Create(p); err == nil {
			_ = pprof.StartCPUProfile(f)
			code := run(os.Args)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(os.Args))
}

// exitError carries an exit code that is not an error of servin's own
// (the container's exit code, or 1 for "image exists" answering no).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func run(args []string) int {
	cli.HelpFlag = &cli.BoolFlag{Name: "help", Usage: "show help"}
	app := newApp()
	err := app.Run(normalizeArgs(app, args))
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ce codedError // ctrflags.go
	if errors.As(err, &ce) && ce.bare {
		fmt.Fprintln(os.Stderr, errMessage(err))
		return ce.code
	}
	fmt.Fprintf(os.Stderr, "Error: %s\n", errMessage(err))
	if errors.As(err, &ce) {
		return ce.code
	}
	return errdefs.ExitCode(err)
}

func errMessage(err error) string {
	return err.Error()
}

func newApp() *cli.App {
	app := &cli.App{
		Name:                   "servin",
		Usage:                  "manage containers and images, daemonless",
		Version:                fastpath.Version,
		UseShortOptionHandling: true,
		// -e A=1,B=2 is one variable whose value has a comma, as in podman.
		DisableSliceFlagSeparator: true,
		EnableBashCompletion:      true,
		Flags:                     globalFlags(),
		Commands:                  commands(),
		OnUsageError:              usageError,
		Action:                    unknownCommand,
		ExitErrHandler:            func(*cli.Context, error) {},
		Before:                    beforeCommand,
	}
	setUsageErrors(app.Commands)
	checkArgCounts(app.Commands) // help.go
	app.HideHelpCommand = true
	app.Commands = append(app.Commands, helpCommand())
	setCommandHelp(app.Commands)
	return app
}

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "root", Usage: "persistent state directory", EnvVars: []string{"SERVIN_ROOT"}},
		&cli.StringFlag{Name: "runroot", Usage: "runtime state directory", EnvVars: []string{"SERVIN_RUNROOT"}},
		&cli.StringFlag{Name: "storage-driver", Usage: "storage driver (overlay, vfs)"},
		&cli.StringSliceFlag{Name: "storage-opt", Usage: "storage driver option"},
		&cli.StringFlag{Name: "config", Usage: "configuration file", Value: "/etc/servin/servin.conf", EnvVars: []string{"SERVIN_CONFIG"}},
		&cli.StringFlag{Name: "log-level", Usage: "log level (debug, info, warn, error)", Value: "warn"},
		&cli.StringFlag{Name: "volumepath", Usage: "directory of new local volumes' data (default ROOT/volumes)"},
		&cli.StringFlag{Name: "tmpdir", Usage: "directory for temporary files such as image blobs being copied (default under ROOT/storage)"},
		&cli.StringFlag{Name: "monitor-path", Usage: "path of the servin-monitor binary", EnvVars: []string{"SERVIN_MONITOR"}},
		&cli.BoolFlag{Name: "debug", Aliases: []string{"D"}, Usage: "log at debug level (--log-level=debug)"},
		&cli.BoolFlag{Name: "noout", Usage: "discard the command's standard output"},
		&cli.StringFlag{Name: "out", Usage: "send the command's standard output to a file"},
		&cli.StringFlag{Name: "events-backend", Usage: "where events are recorded: file or journald (both servin's event log), or none (not recorded)"},
	}
}

// beforeCommand applies the global flags that act before any command.
func beforeCommand(c *cli.Context) error {
	if err := redirectStdout(c); err != nil {
		return err
	}
	if err := checkLogLevel(c); err != nil {
		return err
	}
	if err := applyLogLevel(c); err != nil { // pull.go
		return err
	}
	logrus.Infof("servin filtering at log level %s", logrus.GetLevel())
	logrus.Debugf("Called %s with %q", strings.Join(c.Args().Slice()[:min(1, c.NArg())], " "), os.Args)
	logrus.Tracef("configuration file %s, root %q, run root %q", c.String("config"), c.String("root"), c.String("runroot"))
	return nil
}

// checkLogLevel validates --log-level and --debug as podman does (exit 1,
// its wording), and makes --debug mean --log-level=debug.
func checkLogLevel(c *cli.Context) error {
	if c.Bool("debug") {
		if c.IsSet("log-level") {
			return codedError{err: errors.New("Setting --log-level and --debug is not allowed"), code: 1, bare: true}
		}
		return c.Set("log-level", "debug")
	}
	if _, err := logrus.ParseLevel(c.String("log-level")); err != nil {
		return codedError{err: fmt.Errorf("Log Level %q is not supported, choose from: trace, debug, info, warn, warning, error, fatal, panic", c.String("log-level")), code: 1, bare: true}
	}
	return nil
}

// redirectStdout implements --noout and --out: everything the command
// would print on standard output (IDs, tables, a container's output) goes
// to /dev/null or to the file instead.
func redirectStdout(c *cli.Context) error {
	path := c.String("out")
	if c.Bool("noout") {
		path = os.DevNull
	}
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("opening --out file: %w: %w", err, errdefs.ErrInvalidArgument)
	}
	os.Stdout = f
	return nil
}

// commands lists every top-level command; each lives in its own file.
func commands() []*cli.Command {
	cmds := []*cli.Command{
		createCommand(), runCommand(), startCommand(), stopCommand(), killCommand(),
		restartCommand(), rmCommand(), psCommand(), inspectCommand(), waitCommand(),
		logsCommand(), attachCommand(), execCommand(), topCommand(), pauseCommand(),
		unpauseCommand(), renameCommand(), containerCommand(),
		imagesCommand(), imageCommand(), importCommand(), loadCommand(), rmiCommand(), tagCommand(),
		eventsCommand(), infoCommand(), versionCommand(), systemCommand(),
		ociCommand(),
		statsCommand(), updateCommand(), // stats.go, update.go
		registryCommand(), pullCommand(), pushCommand(), loginCommand(), logoutCommand(),
		saveCommand(), historyCommand(), untagCommand(), searchCommand(), commitCommand(), manifestCommand(), // pull.go login.go imagetools.go manifest.go registry.go
		volumeCommand(), cpCommand(), exportCommand(), diffCommand(), mountCommand(), umountCommand(), // volume.go cp.go diff.go mount.go
		networkCommand(), portCommand(), // network.go port.go
		healthcheckCommand(), // healthcheck.go
		secretCommand(),      // secret.go
	}
	return cmds
}

// fileConfig is /etc/servin/servin.conf.
type fileConfig struct {
	Storage struct {
		Driver  string   `toml:"driver"`
		Root    string   `toml:"root"`
		RunRoot string   `toml:"runroot"`
		Options []string `toml:"options"`
	} `toml:"storage"`
	Engine struct {
		MonitorPath  string `toml:"monitor_path"`
		EventsLogger string `toml:"events_logger"` // --events-backend
		// EventsCreateInspectData: create events carry the inspect JSON.
		EventsCreateInspectData bool `toml:"events_container_create_inspect_data"`
	} `toml:"engine"`
}

func loadConfig(c *cli.Context) (*fileConfig, error) {
	var fc fileConfig
	path := c.String("config")
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) && !c.IsSet("config") {
			return &fc, nil
		}
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	if _, err := toml.Decode(string(data), &fc); err != nil {
		return nil, fmt.Errorf("parsing %s: %w: %w", path, err, errdefs.ErrInvalidArgument)
	}
	return &fc, nil
}

// findMonitor locates servin-monitor: flag/env, config, then beside this
// binary or in ../libexec/servin/.
func findMonitor(c *cli.Context, fc *fileConfig) string {
	if p := c.String("monitor-path"); p != "" {
		return p
	}
	if fc.Engine.MonitorPath != "" {
		return fc.Engine.MonitorPath
	}
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	dir := filepath.Dir(self)
	for _, p := range []string{
		filepath.Join(dir, "servin-monitor"),
		filepath.Join(dir, "..", "libexec", "servin", "servin-monitor"),
		"/usr/local/libexec/servin/servin-monitor",
		"/usr/libexec/servin/servin-monitor",
	} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return filepath.Clean(p)
		}
	}
	return ""
}

// newRuntime opens the engine with the global flags and configuration.
func newRuntime(c *cli.Context) (*libservin.Runtime, error) {
	fc, err := loadConfig(c)
	if err != nil {
		return nil, err
	}
	self, _ := os.Executable()
	opts := libservin.Options{
		Root:           firstSet(c.String("root"), fc.Storage.Root),
		RunRoot:        firstSet(c.String("runroot"), fc.Storage.RunRoot),
		StorageDriver:  firstSet(c.String("storage-driver"), fc.Storage.Driver),
		StorageOptions: storageOptions(fc.Storage.Options, c.StringSlice("storage-opt")),
		MonitorPath:    findMonitor(c, fc),
		OCIRuntimePath: findLibexec("servin-runtime"),
		CNIPluginDir:   findCNIPlugins(), // network.go
		RuntimePath:    self,
		LogLevel:       c.String("log-level"),
		VolumePath:     c.String("volumepath"),
		TmpDir:         c.String("tmpdir"),
		Version:        fastpath.Version,
		EventsBackend:  firstSet(c.String("events-backend"), fc.Engine.EventsLogger),

		EventsCreateInspectData: fc.Engine.EventsCreateInspectData,
	}
	if c.IsSet("config") {
		opts.ConfigPath = c.String("config")
	}
	return libservin.New(context.Background(), opts)
}

// storageOptions adds --storage-opt to the configured options; an empty
// --storage-opt="" drops the configured ones (and servin's defaults), as in
// podman.
func storageOptions(configured, flags []string) []string {
	if slices.Contains(flags, "") {
		return flags
	}
	return append(slices.Clone(configured), flags...)
}

func firstSet(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// withRuntime wraps an action that needs the engine.
func withRuntime(fn func(c *cli.Context, rt *libservin.Runtime) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		rt, err := newRuntime(c)
		if err != nil {
			return err
		}
		defer func() {
			logrus.Debugf("Shutting down engines")
			rt.Close()
		}()
		return fn(c, rt)
	}
}

// forEach applies fn to each argument, printing what it returns, and
// returns the last error (podman prints every error and exits 125).
func forEach(args []string, fn func(string) (string, error)) error {
	var last error
	for _, a := range args {
		out, err := fn(a)
		if err != nil {
			if last != nil {
				fmt.Fprintf(os.Stderr, "Error: %s\n", last)
			}
			last = err
			continue
		}
		if out != "" {
			fmt.Println(out)
		}
	}
	return last
}

func requireArgs(c *cli.Context, min int, usage string) error {
	if c.NArg() < min {
		return fmt.Errorf("%q requires at least %d argument(s): usage: servin %s: %w", c.Command.FullName(), min, usage, errdefs.ErrInvalidArgument)
	}
	return nil
}

func hasPrefixAny(s string, p ...string) bool {
	for _, x := range p {
		if strings.HasPrefix(s, x) {
			return true
		}
	}
	return false
}

// usageError reports a flag problem as podman does: one line naming it,
// exit 125, no help dump.
func usageError(c *cli.Context, err error, isSub bool) error {
	cmd := "servin"
	isCommand := c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name
	if isCommand {
		cmd += " " + c.Command.FullName()
	}
	// -h where it is not a flag of the command's own: help, as --help.
	if errors.Is(err, flag.ErrHelp) {
		switch {
		case !isCommand:
			return cli.ShowAppHelp(c)
		case len(c.Command.Subcommands) > 0:
			return cli.ShowSubcommandHelp(c)
		}
		cli.HelpPrinter(c.App.Writer, cli.CommandHelpTemplate, c.Command)
		return nil
	}
	return usageErr{fmt.Sprintf("%s\nSee '%s --help'", podmanFlagError(c, err), cmd)}
}

// usageErr is a command-line mistake: exit 125 like every invalid
// argument, but its message is only what podman prints.
type usageErr struct{ msg string }

func (e usageErr) Error() string { return e.msg }
func (e usageErr) Unwrap() error { return errdefs.ErrInvalidArgument }

var (
	undefinedFlagRE = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)
	needsArgRE      = regexp.MustCompile(`^flag needs an argument: -+(.+)$`)
)

// podmanFlagError words the flag parser's errors as podman's (cobra's),
// which scripts and tests match: "unknown flag: --foo", "flag needs an
// argument: 'h' in -h".
func podmanFlagError(c *cli.Context, err error) string {
	msg := err.Error()
	if m := undefinedFlagRE.FindStringSubmatch(msg); m != nil {
		if len(m[1]) == 1 {
			return fmt.Sprintf("unknown shorthand flag: '%s' in -%s", m[1], m[1])
		}
		return "unknown flag: --" + m[1]
	}
	if m := needsArgRE.FindStringSubmatch(msg); m != nil {
		if short := typedShortName(c, m[1]); short != "" {
			return fmt.Sprintf("flag needs an argument: '%s' in -%s", short, short)
		}
		return "flag needs an argument: --" + m[1]
	}
	return msg
}

// typedShortName is the one-letter alias of flag name when the user typed
// it so (the arguments are normalized to long names before parsing).
func typedShortName(c *cli.Context, name string) string {
	if c.Command == nil {
		return ""
	}
	for _, f := range c.Command.Flags {
		names := f.Names()
		if len(names) == 0 || names[0] != name {
			continue
		}
		for _, alias := range names[1:] {
			if len(alias) == 1 && slices.Contains(os.Args, "-"+alias) {
				return alias
			}
		}
	}
	return ""
}

// unknownCommand runs when the first argument names no command of servin
// or of a command group ("servin container"): podman's messages, an
// unknown flag first ("servin bad --invalid"), exit 125.
func unknownCommand(c *cli.Context) error {
	prog := "servin"
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		prog += " " + c.Command.FullName()
	}
	if c.NArg() == 0 {
		if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
			_ = cli.ShowSubcommandHelp(c)
		} else {
			_ = cli.ShowAppHelp(c)
		}
		return usageErr{fmt.Sprintf("missing command '%s COMMAND'", prog)}
	}
	for _, a := range c.Args().Slice()[1:] {
		if strings.HasPrefix(a, "--") && len(a) > 2 {
			name, _, _ := strings.Cut(a[2:], "=")
			return usageErr{fmt.Sprintf("unknown flag: --%s\nSee '%s --help'", name, prog)}
		}
	}
	return usageErr{fmt.Sprintf("unrecognized command `%s %s`\nTry '%s --help' for more information", prog, c.Args().First(), prog)}
}

func setUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = usageError
		if len(c.Subcommands) > 0 && c.Action == nil {
			c.Action = unknownCommand
		}
		setUsageErrors(c.Subcommands)
	}
}

// findLibexec finds one of servin's helper binaries beside this binary or
// in ../libexec/servin/; "" when absent (callers fall back or explain).
func findLibexec(name string) string {
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	dir := filepath.Dir(self)
	for _, p := range []string{
		filepath.Join(dir, name),
		filepath.Join(dir, "..", "libexec", "servin", name),
	} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return filepath.Clean(p)
		}
	}
	return ""
}
