package monitor

import (
	"os"
	"strconv"
)

// Main is the entry point of the servin-monitor binary:
//
//	servin-monitor run RUNDIR   the monitor itself, started by Spawn in a
//	                            new session with the sync pipe as fd 3
func Main() {
	if os.Args[0] == InitPath {
		InitMain()
		return
	}
	if len(os.Args) != 3 {
		os.Stderr.WriteString("usage: servin-monitor run RUNDIR (started by servin, not by hand)\n")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "run":
		os.Exit(serve(os.Args[2]))
	default:
		os.Stderr.WriteString("servin-monitor: unknown mode " + strconv.Quote(os.Args[1]) + "\n")
		os.Exit(2)
	}
}
