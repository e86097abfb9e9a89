package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/monitor"
)

func createFlags() []cli.Flag {
	return append(append([]cli.Flag{
		&cli.StringFlag{Name: "name", Usage: "assign a name to the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
		&cli.StringSliceFlag{Name: "unsetenv", Usage: "do not set this default or image environment variable"},
		&cli.BoolFlag{Name: "unsetenv-all", Usage: "set only the environment variables given with --env and --env-file"},
		&cli.StringFlag{Name: "cgroupns", Usage: "cgroup namespace: host or private (default: private on cgroup v2, host on v1)"},
		&cli.StringFlag{Name: "umask", Usage: "umask of the container's processes (octal, default 0022)"},
		&cli.UintFlag{Name: "timeout", Usage: "seconds the container may run before it is killed (0: no limit); its exit code is then -1"},
		&cli.StringSliceFlag{Name: "env-file", Usage: "read environment variables from a file"},
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "username or UID[:GID]"},
		&cli.StringSliceFlag{Name: "group-add", Usage: "additional groups"},
		&cli.StringFlag{Name: "entrypoint", Usage: "overwrite the image's ENTRYPOINT (string or JSON array)"},
		&cli.StringFlag{Name: "hostname", Aliases: []string{"h"}, Usage: "container host name"},
		&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "set metadata (key=value)"},
		&cli.StringSliceFlag{Name: "annotation", Usage: "add an annotation (key=value)"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open"},
		&cli.StringFlag{Name: "restart", Usage: "restart policy: no, on-failure[:max], always, unless-stopped"},
		&cli.BoolFlag{Name: "init", Usage: "run an init inside the container that forwards signals and reaps processes"},
		&cli.StringFlag{Name: "log-driver", Usage: "logging driver: k8s-file or none", Value: "k8s-file"},
		&cli.StringSliceFlag{Name: "log-opt", Usage: "logging driver options (max-size, max-file, path)"},
		&cli.StringFlag{Name: "stop-signal", Usage: "signal to stop the container"},
		&cli.UintFlag{Name: "stop-timeout", Usage: "seconds to wait before killing the container on stop", Value: 10},
		&cli.StringSliceFlag{Name: "network", Aliases: []string{"net"}, Usage: "network: bridge (the servin network), none, host, container:NAME, ns:PATH or NAME[,NAME...]"},
		&cli.BoolFlag{Name: "rm", Usage: "remove the container when it exits"},
		&cli.BoolFlag{Name: "read-only", Usage: "mount the root filesystem read-only"},
		&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "bind mount a volume or host path: [SOURCE:]DEST[:OPTIONS]"}, // mount.go
		&cli.StringSliceFlag{Name: "mount", Usage: "attach a filesystem mount: type=bind|volume|tmpfs|image,source=...,destination=...[,options]"},
		&cli.StringSliceFlag{Name: "tmpfs", Usage: "mount a tmpfs: DEST[:OPTIONS]"},
		&cli.StringSliceFlag{Name: "volumes-from", Usage: "mount the volumes of another container: CONTAINER[:ro|rw]"},
		&cli.StringFlag{Name: "image-volume", Value: "anonymous", Usage: "what the image's VOLUMEs become: anonymous (bind), tmpfs or ignore"},
		&cli.StringFlag{Name: "volume-driver", Usage: "driver of the named and anonymous volumes the container creates (default local)"},
		&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit (e.g. 64m, 1g)"},
		&cli.BoolFlag{Name: "rmi", Usage: "remove the image when the container exits (implies --rm)"},
		&cli.StringFlag{Name: "tz", Usage: "time zone in the container: a zone name (Europe/Berlin) or local"},
		&cli.StringFlag{Name: "cidfile", Usage: "write the container ID to this file"},
		&cli.StringFlag{Name: "conmon-pidfile", Usage: "write the PID of the container's monitor to this file at each start"},
		&cli.StringSliceFlag{Name: "label-file", Usage: "read labels (key=value lines) from a file"},
		&cli.BoolFlag{Name: "replace", Usage: "remove (with force) a container of the same --name first"},
		&cli.BoolFlag{Name: "no-hostname", Usage: "do not create /etc/hostname in the container"},
		&cli.StringSliceFlag{Name: "secret", Usage: "give the container a secret: NAME[,type=mount|env][,target=PATH|VAR][,uid=N,gid=N,mode=OCTAL]"}, // secret.go
		&cli.BoolFlag{Name: "rootfs", Usage: "the first argument is a root filesystem directory (PATH, or PATH:O for a throwaway overlay on it), not an image"},
		&cli.StringFlag{Name: "systemd", Value: "true", Usage: "systemd mode: true (when the command is systemd or /sbin/init), false or always"},
		&cli.StringFlag{Name: "kernel-memory", Usage: "no longer supported: ignored, with a warning", Hidden: true},
	}, append(append(securityFlags(), networkFlags()...), healthFlags()...)...), append(resourceFlags(true), createPullFlags()...)...) // security_flags.go network.go healthcheck.go pull.go
}

// createOptions maps create/run flags onto the engine's options struct.
func createOptions(c *cli.Context) (*libservin.CreateOptions, error) {
	if err := createConflicts(c); err != nil { // ctrflags.go
		return nil, err
	}
	if c.IsSet("kernel-memory") {
		logrus.Warn("The --kernel-memory flag is no longer supported. This flag is a noop.")
	}
	if c.NArg() < 1 {
		return nil, fmt.Errorf("%s requires at least 1 argument: the image: %w", c.Command.Name, errdefs.ErrInvalidArgument)
	}
	o := &libservin.CreateOptions{
		Image:         c.Args().First(),
		Command:       c.Args().Tail(),
		Name:          c.String("name"),
		WorkingDir:    c.String("workdir"),
		User:          c.String("user"),
		GroupAdd:      commaList(c.StringSlice("group-add")), // ctrflags.go
		Hostname:      c.String("hostname"),
		Tty:           c.Bool("tty"),
		Interactive:   c.Bool("interactive"),
		Restart:       c.String("restart"),
		Init:          c.Bool("init"),
		LogDriver:     c.String("log-driver"),
		StopSignal:    c.String("stop-signal"),
		AutoRemove:    c.Bool("rm"),
		ReadOnly:      c.Bool("read-only"),
		Memory:        c.String("memory"),
		CreateCommand: os.Args,
		Security:      securityOptions(c),
		Resources:     resourceOptions(c),
		Mounts:        mountOptions(c), // mount.go
	}
	if err := rmiOptions(c, o); err != nil {
		return nil, err
	}
	o.Timezone = c.String("tz")
	o.NoHostname = c.Bool("no-hostname")
	o.Secrets = c.StringSlice("secret")
	o.Health = healthOptions(c) // healthcheck.go
	o.Systemd = c.String("systemd")
	o.Rootfs = c.Bool("rootfs")
	cidFile, cerr := absPath(c.String("cidfile")) // ctrflags.go
	if cerr != nil {
		return nil, cerr
	}
	o.CIDFile = cidFile
	if o.MonitorPidFile, cerr = absPath(c.String("conmon-pidfile")); cerr != nil {
		return nil, cerr
	}
	networkOptions(c, o) // network.go
	if err := createPullOptions(c, o); err != nil {
		return nil, err // pull.go
	}
	if c.IsSet("stop-timeout") {
		t := c.Uint("stop-timeout")
		o.StopTimeout = &t
	}
	if c.IsSet("entrypoint") {
		ep := parseEntrypoint(c.String("entrypoint"))
		o.Entrypoint = &ep
	}
	var err error
	o.UnsetEnv, o.UnsetEnvAll = c.StringSlice("unsetenv"), c.Bool("unsetenv-all")
	o.CgroupNS, o.Umask, o.Timeout = c.String("cgroupns"), c.String("umask"), c.Uint("timeout")
	if o.Env, err = parseEnv(c.StringSlice("env-file"), c.StringSlice("env")); err != nil {
		return nil, err
	}
	fileLabels, err := readLabelFiles(c.StringSlice("label-file")) // ctrflags.go
	if err != nil {
		return nil, err
	}
	if o.Labels, err = parseKeyValues("label", append(fileLabels, c.StringSlice("label")...)); err != nil {
		return nil, err
	}
	if o.Annotations, err = parseKeyValues("annotation", c.StringSlice("annotation")); err != nil {
		return nil, err
	}
	if o.LogOpts, err = parseKeyValues("log-opt", c.StringSlice("log-opt")); err != nil {
		return nil, err
	}
	return o, nil
}

// parseEntrypoint accepts a plain string or a JSON array, as podman does.
func parseEntrypoint(s string) []string {
	if strings.HasPrefix(strings.TrimSpace(s), "[") {
		if v, err := parseJSONStrings(s); err == nil {
			return v
		}
	}
	if s == "" {
		return []string{}
	}
	return []string{s}
}

// parseEnv reads env files, then -e values; "-e NAME" takes NAME from the
// caller's environment, and "NAME*" patterns copy all matching variables.
func parseEnv(files, vals []string) ([]string, error) {
	var out []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("opening env file: %w: %w", err, errdefs.ErrInvalidArgument)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			out = append(out, expandEnv(line)...)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	for _, v := range vals {
		if strings.HasPrefix(v, "=") {
			return nil, fmt.Errorf("invalid environment variable %q: name is empty: %w", v, errdefs.ErrInvalidArgument)
		}
		out = append(out, expandEnv(v)...)
	}
	return out, nil
}

func expandEnv(v string) []string {
	if strings.Contains(v, "=") {
		return []string{v}
	}
	if strings.HasSuffix(v, "*") {
		var out []string
		for _, e := range os.Environ() {
			if strings.HasPrefix(e, strings.TrimSuffix(v, "*")) {
				out = append(out, e)
			}
		}
		return out
	}
	if val, ok := os.LookupEnv(v); ok {
		return []string{v + "=" + val}
	}
	return nil
}

func parseKeyValues(flag string, vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, v := range vals {
		k, val, _ := strings.Cut(v, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid --%s %q: key is empty: %w", flag, v, errdefs.ErrInvalidArgument)
		}
		m[k] = val
	}
	return m, nil
}

func createCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create but do not start a container",
		ArgsUsage: "IMAGE [COMMAND [ARG...]]",
		Flags:     createFlags(),
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			o, err := createOptions(c)
			if err != nil {
				return err
			}
			if err := replaceExisting(c, rt, o.Name); err != nil { // ctrflags.go
				return err
			}
			ctr, err := rt.Create(c.Context, o)
			if err != nil {
				return err
			}
			for _, w := range ctr.Warnings {
				fmt.Fprintln(os.Stderr, w)
			}
			if err := writeCIDFile(rt, ctr); err != nil { // ctrflags.go
				return err
			}
			fmt.Println(ctr.ID)
			return nil
		}),
	}
}

func runCommand() *cli.Command {
	flags := append(createFlags(),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run in the background and print the container ID"},
		&cli.StringSliceFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach only these streams: stdin, stdout, stderr"},
		&cli.StringFlag{Name: "detach-keys", Usage: "key sequence for detaching", Value: "ctrl-p,ctrl-q"},
		&cli.BoolFlag{Name: "sig-proxy", Usage: "proxy received signals to the container", Value: true},
		preserveFdsFlag(),
	)
	return &cli.Command{
		Name:      "run",
		Usage:     "run a command in a new container",
		ArgsUsage: "IMAGE [COMMAND [ARG...]]",
		Flags:     flags,
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			o, err := createOptions(c)
			if err != nil {
				return err
			}
			extra, err := preservedFiles(c) // ctrflags.go
			if err != nil {
				return err
			}
			keys, err := monitor.ParseDetachKeys(c.String("detach-keys"))
			if err != nil {
				return fmt.Errorf("invalid --detach-keys: %w: %w", err, errdefs.ErrInvalidArgument)
			}
			if err := replaceExisting(c, rt, o.Name); err != nil { // ctrflags.go
				return err
			}
			ctr, err := rt.Create(c.Context, o)
			if err != nil {
				return err
			}
			for _, w := range ctr.Warnings {
				fmt.Fprintln(os.Stderr, w)
			}
			if err := writeCIDFile(rt, ctr); err != nil { // ctrflags.go
				return err
			}
			if c.Bool("detach") {
				if _, err := rt.Start(c.Context, ctr.ID, libservin.StartOptions{ExtraFiles: extra}); err != nil {
					removeIfAuto(rt, ctr)
					return err
				}
				fmt.Println(ctr.ID)
				return nil
			}
			only, err := attachFlag(c) // ctrflags.go
			if err != nil {
				removeIfAuto(rt, ctr)
				return err
			}
			if stdinOnly(only) { // ctrflags.go
				fmt.Println(ctr.ID) // no output of the container's to show: its ID, as podman prints
			}
			code, err := attachAndStart(c.Context, rt, ctr.ID, o.Tty, o.Interactive, keys, c.Bool("sig-proxy"), true, extra, only...)
			if err != nil {
				removeIfAuto(rt, ctr)
				return err
			}
			if o.AutoRemove {
				if _, err := rt.Remove(context.Background(), ctr.ID, libservin.RemoveOptions{Force: true, Volumes: true}); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
					return err
				}
				removeImageOf(rt, ctr)
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		}),
	}
}

func removeIfAuto(rt *libservin.Runtime, ctr *libservin.Container) {
	if ctr.Config.AutoRemove {
		_, _ = rt.Remove(context.Background(), ctr.ID, libservin.RemoveOptions{Force: true, Volumes: true})
	}
}

// attachAndStart attaches the terminal to a container (starting it when
// start is set) and returns its exit code. A detach returns 0.
func attachAndStart(ctx context.Context, rt *libservin.Runtime, id string, tty, stdin bool, keys []byte, sigProxy, start bool, extra []*os.File, only ...string) (int, error) {
	streams := &libservin.AttachStreams{Stdout: os.Stdout, Stderr: os.Stderr}
	stdin = selectStreams(streams, stdin, only) // ctrflags.go: run --attach
	if stdin {
		streams.Stdin = monitor.DetachReader(os.Stdin, keys)
	}
	var restore func()
	if tty && term.IsTerminal(int(os.Stdin.Fd())) {
		st, err := term.MakeRaw(int(os.Stdin.Fd()))
		if err != nil {
			return -1, err
		}
		restore = func() { _ = term.Restore(int(os.Stdin.Fd()), st) }
		defer restore()
		if w, h, err := term.GetSize(int(os.Stdin.Fd())); err == nil {
			streams.Rows, streams.Cols = uint16(h), uint16(w)
		}
		resize := make(chan [2]uint16, 1)
		if streams.Rows > 0 {
			resize <- [2]uint16{streams.Rows, streams.Cols}
		}
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				if w, h, err := term.GetSize(int(os.Stdin.Fd())); err == nil {
					select {
					case resize <- [2]uint16{uint16(h), uint16(w)}:
					default:
					}
				}
			}
		}()
		streams.Resize = resize
	}
	if sigProxy && !tty {
		sigs := make(chan os.Signal, 8)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
		defer signal.Stop(sigs)
		go func() {
			for s := range sigs {
				_, _ = rt.Kill(context.Background(), id, fmt.Sprint(int(s.(syscall.Signal))))
			}
		}()
	}
	var code int
	var err error
	if start {
		code, err = rt.Start(ctx, id, libservin.StartOptions{Attach: streams, ExtraFiles: extra})
	} else {
		code, err = rt.Attach(ctx, id, streams)
	}
	if errors.Is(err, libservin.ErrDetached) {
		if restore != nil {
			restore()
		}
		fmt.Fprintln(os.Stderr)
		return 0, nil
	}
	return code, err
}

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach STDOUT/STDERR"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "attach STDIN"},
			&cli.StringFlag{Name: "detach-keys", Value: "ctrl-p,ctrl-q"},
			&cli.BoolFlag{Name: "sig-proxy", Value: true},
			&cli.BoolFlag{Name: "all", Usage: "start all containers"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "start the containers that match (ps's filters and restart-policy=)"},
			latestFlag(), // ctrflags.go
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			names, err := startTargets(c, rt) // startfilter.go
			if err != nil {
				return err
			}
			if c.Bool("attach") || c.Bool("interactive") {
				if len(names) != 1 {
					return fmt.Errorf("you cannot start and attach multiple containers at once: %w", errdefs.ErrInvalidArgument)
				}
				ctr, err := rt.Container(c.Context, names[0])
				if err != nil {
					return err
				}
				keys, err := monitor.ParseDetachKeys(c.String("detach-keys"))
				if err != nil {
					return fmt.Errorf("invalid --detach-keys: %w: %w", err, errdefs.ErrInvalidArgument)
				}
				code, err := attachAndStart(c.Context, rt, ctr.ID, ctr.Config.Tty, c.Bool("interactive") && ctr.Config.Interactive, keys, c.Bool("sig-proxy"), true, nil)
				if err != nil {
					return err
				}
				if ctr.Config.AutoRemove {
					_, _ = rt.Remove(context.Background(), ctr.ID, libservin.RemoveOptions{Force: true, Volumes: true})
				}
				if code != 0 {
					return exitError{code}
				}
				return nil
			}
			err = forEach(names, func(n string) (string, error) {
				_, err := rt.Start(c.Context, n, libservin.StartOptions{})
				return n, err
			})
			if err != nil {
				// start's own failure, even when the command was not
				// found (run says 127 for that): podman exits 125.
				return codedError{err: err, code: errdefs.ExitServinError} // ctrflags.go
			}
			return nil
		}),
	}
}

func allOrArgs(c *cli.Context, rt *libservin.Runtime, filter func(*libservin.Container) bool) ([]string, error) {
	if c.Bool("latest") {
		return latestOrArgs(c, rt) // ctrflags.go
	}
	if !c.Bool("all") {
		fromFiles, err := cidfileNames(c) // ctrflags.go
		if err != nil {
			return nil, err
		}
		if c.NArg() == 0 && len(c.StringSlice("cidfile")) == 0 {
			return nil, fmt.Errorf("%q requires a container name or ID, or --all: %w", c.Command.Name, errdefs.ErrInvalidArgument)
		}
		return append(c.Args().Slice(), fromFiles...), nil
	}
	cs, err := rt.Containers(c.Context)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, ctr := range cs {
		if filter == nil || filter(ctr) {
			ids = append(ids, ctr.ID)
		}
	}
	return ids, nil
}

func running(c *libservin.Container) bool { return c.Running() }

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "stop one or more running containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			timeFlag("seconds to wait before killing the container (-1: no limit)", "timeout"),
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "stop all running containers"},
			&cli.BoolFlag{Name: "ignore", Aliases: []string{"i"}, Usage: "ignore errors when a container does not exist"},
			cidfileFlag(), latestFlag(),
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			names, err := allOrArgs(c, rt, running)
			if err != nil {
				return err
			}
			timeout := timeValue(c)
			return forEach(names, func(n string) (string, error) {
				_, err := rt.Stop(c.Context, n, timeout)
				if err != nil && c.Bool("ignore") && errors.Is(err, errdefs.ErrNotFound) {
					return "", nil
				}
				return n, err
			})
		}),
	}
}

func killCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "kill one or more running containers with a signal",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL", Usage: "signal to send"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "signal all running containers"},
			cidfileFlag(), latestFlag(),
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if _, err := libservin.ParseSignal(c.String("signal")); err != nil {
				return err
			}
			names, err := allOrArgs(c, rt, running)
			if err != nil {
				return err
			}
			return forEach(names, func(n string) (string, error) {
				_, err := rt.Kill(c.Context, n, c.String("signal"))
				return n, err
			})
		}),
	}
}

func restartCommand() *cli.Command {
	return &cli.Command{
		Name:      "restart",
		Usage:     "restart one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			timeFlag("seconds to wait before killing the container (-1: no limit)"),
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "restart all containers"},
			cidfileFlag(), latestFlag(),
			&cli.BoolFlag{Name: "running", Usage: "restart only running containers (with --all)"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			var filter func(*libservin.Container) bool
			if c.Bool("running") {
				filter = running
			}
			names, err := allOrArgs(c, rt, filter)
			if err != nil {
				return err
			}
			timeout := timeValue(c)
			return forEach(names, func(n string) (string, error) {
				ctr, err := rt.Container(c.Context, n)
				if err != nil {
					return "", err
				}
				return ctr.ID, rt.Restart(c.Context, n, timeout)
			})
		}),
	}
}

func rmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "remove one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "remove running containers too"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all containers"},
			&cli.BoolFlag{Name: "ignore", Aliases: []string{"i"}, Usage: "ignore errors when a container does not exist"},
			timeFlag("seconds to wait for stop before killing (-1: no limit)"),
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove the containers' anonymous volumes"},
			&cli.BoolFlag{Name: "depend", Usage: "first remove the containers that depend on these"},
			cidfileFlag(), latestFlag(),
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			names, err := allOrArgs(c, rt, nil)
			if err != nil {
				return err
			}
			// --all removes dependents first too, as podman does.
			o := libservin.RemoveOptions{Force: c.Bool("force"), Volumes: c.Bool("volumes"), Timeout: timeValue(c), Depend: c.Bool("depend") || c.Bool("all")}
			if c.Bool("depend") {
				return rmExitError(removeWithDependents(c.Context, rt, names, o)) // ctrflags.go
			}
			// Like podman, --force also means "a missing container is fine".
			return rmExitError(removeContainers(c.Context, rt, names, o, c.Bool("ignore") || c.Bool("force")))
		}),
	}
}

// removeContainers removes in parallel (bounded): each removal has its own
// lock, and unmount/delete time dominates.
func removeContainers(ctx context.Context, rt *libservin.Runtime, names []string, o libservin.RemoveOptions, ignore bool) error {
	type result struct {
		out string
		err error
	}
	results := make([]result, len(names))
	sem := make(chan struct{}, 4)
	done := make(chan struct{})
	for i, n := range names {
		go func(i int, n string) {
			sem <- struct{}{}
			defer func() { <-sem; done <- struct{}{} }()
			_, err := rt.Remove(ctx, n, o)
			if err != nil && o.Depend && errors.Is(err, errdefs.ErrNotFound) {
				err = nil // removed first as another's dependent
			}
			if err != nil && ignore && errors.Is(err, errdefs.ErrNotFound) {
				err = nil
				n = ""
			}
			if errors.Is(err, errdefs.ErrNotFound) {
				// podman's rm words it so (name and ID the other way round).
				err = errdefs.Worded(errdefs.ErrNotFound, "no container with ID or name %q found: no such container", n)
			}
			results[i] = result{n, err}
		}(i, n)
	}
	for range names {
		<-done
	}
	var last error
	for _, r := range results {
		if r.err != nil {
			if last != nil {
				fmt.Fprintf(os.Stderr, "Error: %s\n", last)
			}
			last = r.err
			continue
		}
		if r.out != "" {
			fmt.Println(r.out)
		}
	}
	return last
}

func waitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "wait for containers to stop and print their exit codes",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "condition", Usage: "states to wait for: exited/stopped (default), created, running, paused, stopping, removing"},
			&cli.BoolFlag{Name: "ignore", Usage: "print -1 for a container that does not exist instead of failing"},
			latestFlag(), // ctrflags.go
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			names, err := latestOrArgs(c, rt)
			if err != nil {
				return err
			}
			if len(names) == 0 {
				return requireArgs(c, 1, "wait CONTAINER")
			}
			conds := commaList(c.StringSlice("condition"))
			if err := checkWaitConditions(conds); err != nil { // waitcond.go
				return err
			}
			return forEach(names, func(n string) (string, error) {
				var code any
				var err error
				if len(conds) > 0 && !(len(conds) == 1 && (conds[0] == "stopped" || conds[0] == "exited")) {
					code, err = waitForConditions(c.Context, rt, n, conds)
				} else {
					code, err = rt.Wait(c.Context, n)
				}
				if err != nil && c.Bool("ignore") && errors.Is(err, errdefs.ErrNotFound) {
					return "-1", nil
				}
				return fmt.Sprint(code), err
			})
		}),
	}
}

func attachCommand() *cli.Command {
	return &cli.Command{
		Name:      "attach",
		Usage:     "attach to a running container",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "detach-keys", Value: "ctrl-p,ctrl-q"},
			&cli.BoolFlag{Name: "no-stdin", Usage: "do not attach STDIN"},
			&cli.BoolFlag{Name: "sig-proxy", Value: true},
			latestFlag(), // ctrflags.go
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if !c.Bool("latest") {
				if err := requireArgs(c, 1, "attach CONTAINER"); err != nil {
					return err
				}
			}
			names, err := latestOrArgs(c, rt)
			if err != nil {
				return err
			}
			ctr, err := rt.Container(c.Context, names[0])
			if err != nil {
				return err
			}
			keys, err := monitor.ParseDetachKeys(c.String("detach-keys"))
			if err != nil {
				return fmt.Errorf("invalid --detach-keys: %w: %w", err, errdefs.ErrInvalidArgument)
			}
			code, err := attachAndStart(c.Context, rt, ctr.ID, ctr.Config.Tty, ctr.Config.Interactive && !c.Bool("no-stdin"), keys, c.Bool("sig-proxy"), false, nil)
			if err != nil {
				return err
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		}),
	}
}

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a process in a running container",
		ArgsUsage: "CONTAINER COMMAND [ARG...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run in the background"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
			&cli.StringSliceFlag{Name: "env-file", Usage: "read environment variables from a file"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "username or UID[:GID]"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory"},
			&cli.StringFlag{Name: "detach-keys", Value: "ctrl-p,ctrl-q"},
			&cli.BoolFlag{Name: "privileged", Usage: "accepted for compatibility"},
			preserveFdsFlag(),
			latestFlag(), // ctrflags.go
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			// A missing command is the engine's error, worded as podman's.
			if err := requireArgs(c, 1, "exec CONTAINER COMMAND [ARG...]"); err != nil {
				return err
			}
			target, cmd, err := latestSplit(c, rt, c.Bool("latest"), c.Args().Slice()) // ctrflags.go
			if err != nil {
				return err
			}
			env, err := parseEnv(c.StringSlice("env-file"), c.StringSlice("env"))
			if err != nil {
				return err
			}
			o := libservin.ExecOptions{
				Cmd: cmd, Env: env, User: c.String("user"), WorkingDir: c.String("workdir"),
				Tty: c.Bool("tty"), Detach: c.Bool("detach"), Stdout: os.Stdout, Stderr: os.Stderr,
			}
			if c.Bool("interactive") {
				o.Stdin = os.Stdin
			}
			if o.ExtraFiles, err = preservedFiles(c); err != nil {
				return err
			}
			if o.Detach {
				o.Started = func(id string) { fmt.Println(id) } // the session's ID, as podman prints
			}
			if o.Tty && term.IsTerminal(int(os.Stdin.Fd())) && !o.Detach {
				st, err := term.MakeRaw(int(os.Stdin.Fd()))
				if err == nil {
					defer term.Restore(int(os.Stdin.Fd()), st)
				}
				if w, h, err := term.GetSize(int(os.Stdin.Fd())); err == nil {
					o.Rows, o.Cols = uint16(h), uint16(w)
				}
			}
			code, err := rt.Exec(c.Context, target, o)
			if err != nil {
				return err
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		}),
	}
}

func topCommand() *cli.Command {
	return &cli.Command{
		Name:      "top",
		Usage:     "display the running processes of a container",
		ArgsUsage: "CONTAINER [FORMAT-DESCRIPTORS...]",
		// Descriptors may look like ps options ("-ef").
		SkipFlagParsing: true,
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			args := c.Args().Slice()
			if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
				cli.HelpPrinter(c.App.Writer, cli.CommandHelpTemplate, c.Command)
				return nil
			}
			latest := len(args) > 0 && (args[0] == "-l" || args[0] == "--latest")
			if latest {
				args = args[1:]
			} else if err := requireArgs(c, 1, "top CONTAINER"); err != nil {
				return err
			}
			target, descriptors, err := latestSplit(c, rt, latest, args) // ctrflags.go
			if err != nil {
				return err
			}
			rows, err := rt.Top(c.Context, target, descriptors)
			if err != nil {
				return err
			}
			return printTable(os.Stdout, rows)
		}),
	}
}

func printTable(w io.Writer, rows [][]string) error {
	widths := map[int]int{}
	for _, r := range rows {
		for i, f := range r {
			if len(f) > widths[i] {
				widths[i] = len(f)
			}
		}
	}
	bw := bufio.NewWriter(w)
	for _, r := range rows {
		for i, f := range r {
			if i == len(r)-1 {
				bw.WriteString(f)
			} else {
				fmt.Fprintf(bw, "%-*s  ", widths[i], f)
			}
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}

func pauseCommand() *cli.Command {
	return &cli.Command{
		Name:      "pause",
		Usage:     "pause all processes in one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "all", Aliases: []string{"a"}}, cidfileFlag(), latestFlag()},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			names, err := allOrArgs(c, rt, func(x *libservin.Container) bool { return x.State.Status == libservin.StatusRunning })
			if err != nil {
				return err
			}
			return forEach(names, func(n string) (string, error) {
				_, err := rt.Pause(c.Context, n)
				return n, err
			})
		}),
	}
}

func unpauseCommand() *cli.Command {
	return &cli.Command{
		Name:      "unpause",
		Usage:     "unpause all processes in one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "all", Aliases: []string{"a"}}, cidfileFlag(), latestFlag()},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			names, err := allOrArgs(c, rt, func(x *libservin.Container) bool { return x.State.Status == libservin.StatusPaused })
			if err != nil {
				return err
			}
			return forEach(names, func(n string) (string, error) {
				_, err := rt.Unpause(c.Context, n)
				return n, err
			})
		}),
	}
}

func renameCommand() *cli.Command {
	return &cli.Command{
		Name:      "rename",
		Usage:     "rename an existing container",
		ArgsUsage: "CONTAINER NAME",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 2 {
				return fmt.Errorf("rename requires exactly 2 arguments: CONTAINER NAME: %w", errdefs.ErrInvalidArgument)
			}
			return rt.Rename(c.Context, c.Args().Get(0), c.Args().Get(1))
		}),
	}
}

func containerCommand() *cli.Command {
	prune := &cli.Command{
		Name:  "prune",
		Usage: "remove all stopped containers",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt"}},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			ids, err := rt.Prune(c.Context)
			for _, id := range ids {
				fmt.Println(id)
			}
			return err
		}),
	}
	exists := &cli.Command{
		Name:      "exists",
		Usage:     "check whether a container exists (exit 0) or not (exit 1)",
		ArgsUsage: "CONTAINER",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "container exists CONTAINER"); err != nil {
				return err
			}
			if _, err := rt.Container(c.Context, c.Args().First()); err != nil {
				if errors.Is(err, errdefs.ErrNotFound) {
					return exitError{1}
				}
				return err
			}
			return nil
		}),
	}
	cleanup := &cli.Command{
		Name:      "cleanup",
		Hidden:    true,
		Usage:     "release a stopped container's resources (run by servin-monitor)",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "clean up every container that is not running"},
			&cli.StringFlag{Name: "exec", Usage: "clean up this ended exec session of the container"},
			&cli.BoolFlag{Name: "rm", Usage: "remove the container after cleaning it up"},
			&cli.BoolFlag{Name: "rmi", Usage: "remove the container's image after removing the container (implies --rm)"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := flagConflicts(c, [2]string{"all", "exec"}, [2]string{"exec", "rmi"}); err != nil { // ctrflags.go
				return err
			}
			names := c.Args().Slice()
			if s := c.String("exec"); s != "" {
				if len(names) != 1 {
					return fmt.Errorf("container cleanup --exec takes exactly one container: %w", errdefs.ErrInvalidArgument)
				}
				return rt.CleanupExec(c.Context, names[0], s)
			}
			if c.Bool("all") {
				ctrs, err := rt.Containers(c.Context)
				if err != nil {
					return err
				}
				names = names[:0]
				for _, ctr := range ctrs {
					if !ctr.Running() {
						names = append(names, ctr.ID)
					}
				}
			}
			return forEach(names, func(n string) (string, error) {
				if err := rt.Cleanup(c.Context, n); err != nil {
					return "", err
				}
				if !c.Bool("rm") && !c.Bool("rmi") {
					return "", nil
				}
				ctr, err := rt.Remove(c.Context, n, libservin.RemoveOptions{})
				if err != nil {
					return "", err
				}
				if c.Bool("rmi") {
					ctr.Config.AutoRemoveImage = true
					if err := rt.RemoveImageOf(c.Context, ctr); err != nil {
						return "", err
					}
				}
				return ctr.ID, nil
			})
		}),
	}
	return &cli.Command{
		Name:  "container",
		Usage: "manage containers",
		Subcommands: []*cli.Command{
			createCommand(), runCommand(), startCommand(), stopCommand(), killCommand(),
			restartCommand(), rmCommand(), psListCommand("list", "ls", "ps"), containerInspectCommand(),
			waitCommand(), logsCommand(), attachCommand(), execCommand(), topCommand(),
			pauseCommand(), unpauseCommand(), renameCommand(), prune, exists, cleanup,
			cpCommand(), exportCommand(), diffCommand(), mountCommand(), umountCommand(), // cp.go diff.go mount.go
			statsCommand(), updateCommand(), portCommand(), commitCommand(), // imagetools.go
		},
	}
}

// parseJSONStrings decodes a JSON array of strings.
func parseJSONStrings(s string) ([]string, error) {
	var v []string
	err := json.Unmarshal([]byte(s), &v)
	return v, err
}
