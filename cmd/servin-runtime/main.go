// Command servin-runtime is servin's OCI runtime helper: the small binary
// servin-monitor execs to create, start, signal and delete a container
// through libcontainer, and that libcontainer re-executes as the
// container's init. It links libcontainer and nothing of servin's image or
// database layers, so the two processes every container start costs stay
// cheap. The full servin binary offers the same `oci` commands.
//
//	servin-runtime [--runroot DIR] [servin global flags...] oci create --bundle DIR [--pid-file F] [--console-socket-fd N | --stdio-fds 3,4,5] ID
//	servin-runtime [--runroot DIR] oci start|delete [--force]|kill [--all] ID [SIGNAL]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	_ "github.com/opencontainers/cgroups/devices" // device cgroup rules for libcontainer
	"github.com/opencontainers/runc/libcontainer"
	_ "github.com/opencontainers/runc/libcontainer/nsenter"

	"github.com/servin/servin/libservin/oci"
	"github.com/servin/servin/libservin/oci/scmpcache"
)

func init() {
	// Both roles (create, container init) live for milliseconds with a
	// small heap: no collection at 4 MB (see cmd/servin).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// Neither role runs anything in parallel; one P spares the thread
	// start-ups and scheduler wake-ups of a second, which many containers
	// starting at once on few cores feel.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	if len(os.Args) > 1 && os.Args[1] == "init" {
		// Still in the host's filesystem: open the seccomp cache before
		// libcontainer pivots into the container's root. A cache that
		// cannot be used only means the profile is compiled as usual.
		if runroot := parentRunRoot(); runroot != "" {
			_ = scmpcache.Enable(seccompCacheDir(runroot))
		}
		libcontainer.Init()
	}
}

// seccompCacheDir holds compiled seccomp filters (see scmpcache).
func seccompCacheDir(runroot string) string { return filepath.Join(runroot, "seccomp") }

// parentRunRoot is the --runroot of the servin-runtime process that
// started this container init: libcontainer gives init no arguments and no
// environment of ours, but its parent is the `oci create` (or exec) call,
// whose command line the monitor always gives --runroot. The parent is
// outside init's PID namespace, so it is found through the host's /proc,
// which is still mounted here.
func parentRunRoot() string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	var ppid string
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "PPid:"); ok {
			ppid = strings.TrimSpace(v)
			break
		}
	}
	if ppid == "" || ppid == "0" {
		return ""
	}
	cmdline, err := os.ReadFile("/proc/" + ppid + "/cmdline")
	if err != nil {
		return ""
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) < 2 || filepath.Base(args[0]) != "servin-runtime" {
		return ""
	}
	for i, a := range args[1:] {
		if v, ok := strings.CutPrefix(a, "--runroot="); ok {
			return v
		}
		if a == "--runroot" && i+2 < len(args) {
			return args[i+2]
		}
		if a == "oci" {
			break
		}
	}
	return ""
}

// globalFlags are servin's global flags; servin-runtime accepts them all
// (the monitor passes the same ones to either binary) and uses --runroot.
var globalFlags = map[string]bool{
	"--root": true, "--runroot": true, "--storage-driver": true, "--storage-opt": true,
	"--config": true, "--log-level": true, "--monitor-path": true, "--events-backend": true,
	"--volumepath": true, "--tmpdir": true,
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %s\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	runroot := "/run/servin"
	for len(args) > 0 && strings.HasPrefix(args[0], "--") {
		name, val, hasVal := strings.Cut(args[0], "=")
		if !globalFlags[name] {
			return fmt.Errorf("unknown flag %s", name)
		}
		if !hasVal {
			if len(args) < 2 {
				return fmt.Errorf("flag %s needs a value", name)
			}
			val, args = args[1], args[1:]
		}
		if name == "--runroot" {
			runroot = val
		}
		args = args[1:]
	}
	if len(args) < 2 || args[0] != "oci" {
		return fmt.Errorf("usage: servin-runtime [--runroot DIR] oci create|start|delete|kill ... ID")
	}
	root := filepath.Join(runroot, "runc")
	cmd, args := args[1], args[2:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	switch cmd {
	case "create":
		bundle := fs.String("bundle", "", "bundle directory")
		pidFile := fs.String("pid-file", "", "file to write the init pid to")
		consoleFd := fs.Int("console-socket-fd", -1, "fd of the console socket")
		stdioFds := fs.String("stdio-fds", "", "fds of stdin,stdout,stderr")
		extraFds := fs.String("extra-fds", "", "fds that become the init's 3, 4, ...")
		if err := parse(fs, args); err != nil {
			return err
		}
		if scmpcache.Supported {
			_ = os.MkdirAll(seccompCacheDir(runroot), 0o700)
		}
		o := oci.CreateOptions{Root: root, Bundle: *bundle, ID: fs.Arg(0), PidFile: *pidFile}
		if *consoleFd >= 0 {
			o.ConsoleSocket = os.NewFile(uintptr(*consoleFd), "console-socket")
		}
		if *stdioFds != "" {
			for i, p := range strings.SplitN(*stdioFds, ",", 3) {
				fd, err := strconv.Atoi(p)
				if err != nil {
					return fmt.Errorf("bad --stdio-fds %q", *stdioFds)
				}
				o.Stdio[i] = os.NewFile(uintptr(fd), "stdio")
			}
		}
		if *extraFds != "" {
			for _, p := range strings.Split(*extraFds, ",") {
				fd, err := strconv.Atoi(p)
				if err != nil {
					return fmt.Errorf("bad --extra-fds %q", *extraFds)
				}
				o.ExtraFiles = append(o.ExtraFiles, os.NewFile(uintptr(fd), "extra"))
			}
		}
		return oci.Create(o)
	case "start":
		if err := parse(fs, args); err != nil {
			return err
		}
		return oci.Start(root, fs.Arg(0))
	case "delete":
		force := fs.Bool("force", false, "kill a running container first")
		if err := parse(fs, args); err != nil {
			return err
		}
		return oci.Delete(root, fs.Arg(0), *force)
	case "kill":
		all := fs.Bool("all", false, "signal every process")
		if err := parse(fs, args); err != nil {
			return err
		}
		sig := syscall.SIGTERM
		if fs.NArg() > 1 {
			n, err := strconv.Atoi(fs.Arg(1))
			if err != nil {
				return fmt.Errorf("bad signal %q", fs.Arg(1))
			}
			sig = syscall.Signal(n)
		}
		return oci.Signal(root, fs.Arg(0), sig, *all)
	}
	return fmt.Errorf("unknown oci command %q", cmd)
}

// parse parses flags and requires the container ID argument.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return fmt.Errorf("%s: a container ID is required", fs.Name())
	}
	return nil
}
