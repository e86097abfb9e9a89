package libservin

import (
	"fmt"
	"os"
	"time"
)

// traceStart and tracef print phase timings to stderr when SERVIN_TRACE is
// set: a debugging aid for finding where a command spends its time.
var (
	traceOn    = os.Getenv("SERVIN_TRACE") != ""
	traceStart = time.Now()
)

func tracef(format string, args ...any) {
	if traceOn {
		fmt.Fprintf(os.Stderr, "trace %6.1fms pid %d: %s\n",
			float64(time.Since(traceStart).Microseconds())/1000, os.Getpid(), fmt.Sprintf(format, args...))
	}
}
