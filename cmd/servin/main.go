// Command servin is the podman-compatible CLI of servin. Each command file
// maps flags onto a libservin options struct and calls one library
// function; no engine logic lives here.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/image"
)

// version is set with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	// containers/storage re-executes this binary for some layer work.
	if image.ReexecInit() {
		return
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
	fmt.Fprintf(os.Stderr, "Error: %s\n", errMessage(err))
	return errdefs.ExitCode(err)
}

func errMessage(err error) string {
	return err.Error()
}

func newApp() *cli.App {
	app := &cli.App{
		Name:                   "servin",
		Usage:                  "manage containers and images, daemonless",
		Version:                version,
		UseShortOptionHandling: true,
		// -e A=1,B=2 is one variable whose value has a comma, as in podman.
		DisableSliceFlagSeparator: true,
		EnableBashCompletion:      true,
		Flags:                     globalFlags(),
		Commands:                  commands(),
		OnUsageError:              usageError,
		ExitErrHandler:            func(*cli.Context, error) {},
		Before:                    applyLogLevel, // pull.go
	}
	setUsageErrors(app.Commands)
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
		&cli.StringFlag{Name: "monitor-path", Usage: "path of the servin-monitor binary", EnvVars: []string{"SERVIN_MONITOR"}},
	}
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
		MonitorPath string `toml:"monitor_path"`
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
		StorageOptions: append(fc.Storage.Options, c.StringSlice("storage-opt")...),
		MonitorPath:    findMonitor(c, fc),
		OCIRuntimePath: findLibexec("servin-runtime"),
		CNIPluginDir:   findCNIPlugins(), // network.go
		RuntimePath:    self,
		LogLevel:       c.String("log-level"),
	}
	if c.IsSet("config") {
		opts.ConfigPath = c.String("config")
	}
	return libservin.New(context.Background(), opts)
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
		defer rt.Close()
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
	return fmt.Errorf("%w\nSee 'servin %s --help': %w", err, c.Command.FullName(), errdefs.ErrInvalidArgument)
}

func setUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = usageError
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
