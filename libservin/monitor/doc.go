// Package monitor owns the per-container monitor process (conmon-style) and
// the client API the CLI uses to talk to it.
//
// One monitor runs per container start. Spawn starts it in its own session
// so it outlives the CLI (a goroutine reaps it while the caller lives). The monitor is a child subreaper: it execs
// the runtime helper (`servin oci create`), becomes the parent of the
// container init, starts the container through libcontainer's exec fifo,
// owns the container's stdio (pipes or a pty), writes the k8s-file log,
// serves RunDir/attach.sock, records every transition in RunDir/status.json,
// applies the restart policy and finally runs the exit command.
//
// The monitor binary must stay tiny (a few MB of RSS per container), so this
// package may import only the standard library and golang.org/x/sys: the
// cmd/servin-monitor test enforces that.
//
// The monitor is a handful of goroutines around one lifecycle loop:
// a reaper (SIGCHLD, wait4(-1)), one pump per output stream, the accept
// loop, and a reader and a writer per attach client. Output is written to
// the log and queued to clients without ever blocking on a client.
//
// The CLI side uses Spawn, ReadStatus, DisableRestart, Attach (with
// AttachConn.Run, DetachReader, ParseDetachKeys), StartViaSocket and
// ReadLogs; nothing on that side needs the monitor to be its child.
//
// Files in RunDir:
//
//	monitor.json  the Config, written by Spawn
//	status.json   the Status, rewritten atomically on every transition
//	pidfile       the init pid written by the runtime helper
//	attach.sock   the attach socket (mode 0600)
//	no-restart    written by the CLI on stop/kill/rm; disables restarts
//	monitor.log   the monitor's own errors (kept small)
package monitor
