// Command servin-monitor is the per-container monitor process. It is
// started by servin (monitor.Spawn), never by hand; all logic lives in
// libservin/monitor.
package main

import (
	"os"
	"runtime"

	"github.com/servin/servin/libservin/monitor"
)

func main() {
	// The monitor only moves bytes and waits: one P is plenty, and spares
	// scheduler wake-ups when many containers start at once.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	monitor.Main()
}
