package monitor

import (
	"os"
	"os/signal"
	"syscall"
)

// InitPath is where servin bind-mounts the monitor binary into a container
// run with --init; started under that name the binary acts as the
// container's PID 1 (InitMain).
const InitPath = "/run/servin-init"

// InitMain runs `servin-init -- CMD [ARG...]` as a minimal init: it starts
// CMD, forwards every catchable signal to it, reaps all orphans, and exits
// with CMD's exit code (128+signal when CMD was killed).
func InitMain() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		os.Stderr.WriteString("servin-init: no command given\n")
		os.Exit(125)
	}
	path, err := lookPath(args[0])
	if err != nil {
		os.Stderr.WriteString("servin-init: " + err.Error() + "\n")
		os.Exit(127)
	}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	pid, err := syscall.ForkExec(path, args, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Foreground: false},
	})
	if err != nil {
		os.Stderr.WriteString("servin-init: " + args[0] + ": " + err.Error() + "\n")
		if err == syscall.EACCES {
			os.Exit(126)
		}
		os.Exit(127)
	}
	for s := range sigs {
		sig := s.(syscall.Signal)
		if sig != syscall.SIGCHLD {
			_ = syscall.Kill(pid, sig)
			continue
		}
		for {
			var ws syscall.WaitStatus
			wpid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err != nil || wpid <= 0 {
				break
			}
			if wpid == pid {
				if ws.Signaled() {
					os.Exit(128 + int(ws.Signal()))
				}
				os.Exit(ws.ExitStatus())
			}
		}
	}
}
