package monitor

import (
	"os"
	"strconv"
	"syscall"
)

// Main is the entry point of the servin-monitor binary:
//
//	servin-monitor launch RUNDIR   (run by Spawn) fork the monitor into a
//	                               new session and exit at once
//	servin-monitor run RUNDIR      the monitor itself
//
// Both expect the sync pipe as fd 3.
func Main() {
	if os.Args[0] == InitPath {
		InitMain()
		return
	}
	if len(os.Args) != 3 {
		os.Stderr.WriteString("usage: servin-monitor launch|run RUNDIR (started by servin, not by hand)\n")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "launch":
		os.Exit(launch(os.Args[2]))
	case "run":
		os.Exit(serve(os.Args[2]))
	default:
		os.Stderr.WriteString("servin-monitor: unknown mode " + strconv.Quote(os.Args[1]) + "\n")
		os.Exit(2)
	}
}

// launch is the middle process of the double fork: the real monitor is
// its child in a new session, and becomes an orphan (adopted by init or
// the nearest subreaper) when launch exits right away.
func launch(runDir string) int {
	// Exec the binary by its real path, not /proc/self/exe, so that the
	// monitor's comm is "servin-monitor" (servin recognises its monitors
	// by it) rather than "exe".
	self, err := os.Executable()
	if err != nil {
		self = "/proc/self/exe"
	}
	_, err = syscall.ForkExec(self, []string{os.Args[0], "run", runDir}, &syscall.ProcAttr{
		Dir:   "/",
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2, 3},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		msg := syncMsg{Error: "start monitor: " + err.Error()}
		os.NewFile(3, "sync").Write(msg.marshal())
		return 1
	}
	return 0
}
