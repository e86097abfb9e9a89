package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/cmd/servin/internal/fastpath"
	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

// timeFlag is --time (-t) of stop, rm and restart: the seconds to wait for
// the stop signal to work before SIGKILL; -1 waits without limit.
func timeFlag(usage string, aliases ...string) cli.Flag {
	return &cli.IntFlag{Name: "time", Aliases: append([]string{"t"}, aliases...), Usage: usage}
}

// timeValue is --time as the engine takes it: nil when not given.
func timeValue(c *cli.Context) *uint {
	if !c.IsSet("time") {
		return nil
	}
	t := uint(math.MaxInt32) // -1: no limit (68 years)
	if v := c.Int("time"); v >= 0 {
		t = uint(v)
	}
	return &t
}

// latestFlag is -l/--latest: act on the most recently created container.
func latestFlag() cli.Flag {
	return &cli.BoolFlag{Name: "latest", Aliases: []string{"l"}, Usage: "act on the most recently created container"}
}

// latestOrArgs returns the command's container arguments, or with
// --latest the newest container (podman refuses both together, and
// --latest with --all).
func latestOrArgs(c *cli.Context, rt *libservin.Runtime) ([]string, error) {
	if !c.Bool("latest") {
		return c.Args().Slice(), nil
	}
	if c.Bool("all") {
		return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "--all and --latest cannot be used together")
	}
	if c.NArg() > 0 {
		return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "--latest and containers cannot be used together")
	}
	id, err := latestContainer(c.Context, rt) // logs.go
	if err != nil {
		return nil, err
	}
	return []string{id}, nil
}

// latestSplit is for commands whose first argument names the container
// and the others are something else (exec's command, top's descriptors):
// with --latest the newest container is the one, and every argument is
// the rest.
func latestSplit(c *cli.Context, rt *libservin.Runtime, latest bool, args []string) (ctr string, rest []string, err error) {
	if !latest {
		if len(args) == 0 {
			return "", nil, nil
		}
		return args[0], args[1:], nil
	}
	id, err := latestContainer(c.Context, rt) // logs.go
	return id, args, err
}

// cidfileFlag is --cidfile: read container IDs from files (written by run
// or create --cidfile) instead of, or besides, the arguments.
func cidfileFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "cidfile", Usage: "read the container ID from a file"}
}

// cidfileNames reads the --cidfile files. With --ignore a missing file is
// skipped, as podman does.
func cidfileNames(c *cli.Context) ([]string, error) {
	var ids []string
	for _, p := range c.StringSlice("cidfile") {
		data, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && c.Bool("ignore") {
				continue
			}
			return nil, fmt.Errorf("reading CIDFile: %w", err)
		}
		if id := strings.TrimSpace(string(data)); id != "" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// rmExitError gives rm podman's exit codes: 1 when a container does not
// exist, 2 when one is running (or paused) and --force was not given.
func rmExitError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errdefs.ErrNotFound):
		return codedError{err: err, code: 1}
	case errors.Is(err, errdefs.ErrFailedPrecondition):
		return codedError{err: err, code: 2}
	}
	return err
}

// codedError is an error with its own exit code, printed as usual or,
// when bare, without the "Error: " prefix (as podman prints some).
type codedError struct {
	err  error
	code int
	bare bool
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }

// absPath makes a path given on the command line absolute ("" stays "").
func absPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w: %w", p, err, errdefs.ErrInvalidArgument)
	}
	return a, nil
}

// writeCIDFile writes a new container's ID to its --cidfile, replacing
// what the file held; a container whose file cannot be written is removed.
func writeCIDFile(rt *libservin.Runtime, ctr *libservin.Container) error {
	p := ctr.Config.CIDFile
	if p == "" {
		return nil
	}
	if err := os.WriteFile(p, []byte(ctr.ID), 0o644); err != nil {
		_, _ = rt.Remove(context.Background(), ctr.ID, libservin.RemoveOptions{Force: true})
		return fmt.Errorf("writing the container ID file: %w", err)
	}
	return nil
}

// readLabelFiles reads --label-file files: one key=value label a line;
// blank lines and lines starting with # are skipped. Later files and
// --label win, as each later value of a key does.
func readLabelFiles(files []string) ([]string, error) {
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading label file: %w: %w", err, errdefs.ErrInvalidArgument)
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimRight(line, "\r")
			if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			out = append(out, line)
		}
	}
	return out, nil
}

// createConflicts rejects create/run options that contradict each other,
// before anything else is looked at, in podman's words.
func createConflicts(c *cli.Context) error {
	if err := flagConflicts(c, [2]string{"cpu-period", "cpus"}, [2]string{"cpu-quota", "cpus"}, [2]string{"no-hosts", "add-host"}); err != nil {
		return err
	}
	return platformConflict(c)
}

// flagConflicts rejects flags given together that exclude each other.
func flagConflicts(c *cli.Context, pairs ...[2]string) error {
	for _, p := range pairs {
		if c.IsSet(p[0]) && c.IsSet(p[1]) {
			return errdefs.Worded(errdefs.ErrInvalidArgument, "--%s and --%s cannot be set together", p[0], p[1])
		}
	}
	return nil
}

// platformConflict rejects --platform with --arch or --os (create, pull).
func platformConflict(c *cli.Context) error {
	if c.IsSet("platform") && (c.IsSet("arch") || c.IsSet("os")) {
		return errdefs.Worded(errdefs.ErrInvalidArgument, "--platform option can not be specified with --arch or --os")
	}
	return nil
}

// attachFlag is run's --attach (-a): the streams to attach, checked.
func attachFlag(c *cli.Context) ([]string, error) {
	only := c.StringSlice("attach")
	for _, s := range only {
		switch strings.ToLower(s) {
		case "stdin", "stdout", "stderr":
		default:
			return nil, fmt.Errorf("invalid stream %q for --attach - must be one of stdin, stdout, or stderr: %w", s, errdefs.ErrInvalidArgument)
		}
	}
	if len(only) > 0 && c.Bool("detach") {
		return nil, fmt.Errorf("--attach and --detach cannot be set together: %w", errdefs.ErrInvalidArgument)
	}
	return only, nil
}

// selectStreams keeps only the streams listed in only (all when empty):
// output of the others is read and dropped. It returns whether stdin
// stays attached.
func selectStreams(st *libservin.AttachStreams, stdin bool, only []string) bool {
	if len(only) == 0 {
		return stdin
	}
	has := func(name string) bool {
		for _, s := range only {
			if strings.EqualFold(s, name) {
				return true
			}
		}
		return false
	}
	if !has("stdout") {
		st.Stdout = io.Discard
	}
	if !has("stderr") {
		st.Stderr = io.Discard
	}
	return stdin && has("stdin")
}

// removeWithDependents is rm --depend: each container goes after the
// containers that depend on it, and every removed ID or name is printed.
func removeWithDependents(ctx context.Context, rt *libservin.Runtime, names []string, o libservin.RemoveOptions) error {
	done := map[string]bool{}
	var last error
	fail := func(err error) {
		if last != nil {
			fmt.Fprintf(os.Stderr, "Error: %s\n", last)
		}
		last = err
	}
	for _, n := range names {
		deps, err := rt.Dependents(ctx, n)
		if err != nil {
			fail(err)
			continue
		}
		for _, d := range deps {
			if done[d.ID] {
				continue
			}
			if _, err := rt.Remove(ctx, d.ID, o); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
				fail(err)
				continue
			}
			done[d.ID] = true
			fmt.Println(d.ID)
		}
		if _, err := rt.Remove(ctx, n, o); err != nil {
			fail(err)
			continue
		}
		fmt.Println(n)
	}
	return last
}

// commaList splits the comma-separated values of a list flag ("--group-add
// 1,2,3"), as podman's do for flags whose values never hold a comma.
func commaList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// stdinOnly reports whether --attach names stdin but no output stream.
func stdinOnly(only []string) bool {
	if len(only) == 0 {
		return false
	}
	for _, s := range only {
		if !strings.EqualFold(s, "stdin") {
			return false
		}
	}
	return true
}

// replaceExisting is --replace: a container already named name is removed,
// running or not, before the new one is made. --replace needs --name.
func replaceExisting(c *cli.Context, rt *libservin.Runtime, name string) error {
	if !c.Bool("replace") {
		return nil
	}
	if name == "" {
		return fmt.Errorf("cannot replace container without --name being set: %w", errdefs.ErrInvalidArgument)
	}
	_, err := rt.Remove(c.Context, name, libservin.RemoveOptions{Force: true, Volumes: true})
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return err
	}
	return nil
}

func preserveFdsFlag() cli.Flag {
	return &cli.UintFlag{Name: "preserve-fds", Usage: "pass this many more file descriptors (3, 4, ...) into the container"}
}

// preservedFiles are the files --preserve-fds passes on: fds 3, 4, ... as
// servin inherited them; a number servin was not given becomes /dev/null,
// never one of servin's own files.
func preservedFiles(c *cli.Context) ([]*os.File, error) {
	n := int(c.Uint("preserve-fds"))
	var out []*os.File
	for fd := 3; fd < 3+n; fd++ {
		if fastpath.Inherited[fd] {
			out = append(out, os.NewFile(uintptr(fd), fmt.Sprintf("fd %d", fd)))
			continue
		}
		null, err := os.Open(os.DevNull)
		if err != nil {
			return nil, err
		}
		out = append(out, null)
	}
	return out, nil
}
