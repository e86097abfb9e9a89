// Command servin-monitor is the per-container monitor process. It is
// started by servin (monitor.Spawn), never by hand; all logic lives in
// libservin/monitor.
package main

import "github.com/servin/servin/libservin/monitor"

func main() { monitor.Main() }
