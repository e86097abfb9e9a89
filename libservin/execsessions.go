package libservin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/oci"
)

// Exec sessions: each process exec starts in a container is recorded in
// the container's run dir (execs/ID, holding the process's PID and start
// time) for as long as it runs, so that inspect can list them (ExecIDs)
// and exec -d can name the one it started. A detached session's file is
// dropped by the first listing after its process is gone.

func (r *Runtime) execDir(c *Container) string { return filepath.Join(r.ctrRunDir(c.ID), "execs") }

// trackExec records a started exec process and returns its session ID and
// the function that forgets it.
func (r *Runtime) trackExec(c *Container, p *oci.ExecProcess) (string, func()) {
	id, err := newID()
	if err != nil {
		return "", func() {}
	}
	pid, err := p.Pid()
	if err != nil {
		return id, func() {}
	}
	dir := r.execDir(c)
	path := filepath.Join(dir, id)
	if os.MkdirAll(dir, 0o700) != nil || os.WriteFile(path, []byte(fmt.Sprintf("%d %s", pid, procStart(pid))), 0o600) != nil {
		return id, func() {}
	}
	return id, func() { _ = os.Remove(path) }
}

// execIDs lists the container's live exec sessions, dropping stale ones.
func (r *Runtime) execIDs(c *Container) []string {
	ids := []string{}
	dir := r.execDir(c)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ids
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		var pid int
		var start string
		if err == nil {
			fmt.Sscanf(string(data), "%d %s", &pid, &start)
		}
		if pid > 0 && start != "" && procStart(pid) == start {
			ids = append(ids, e.Name())
			continue
		}
		_ = os.Remove(filepath.Join(dir, e.Name()))
	}
	return ids
}

// procStart is a process's start time (field 22 of /proc/PID/stat), which
// tells a live process from a later one that got the same PID; "" when
// the process is gone.
func procStart(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces: count after its ")".
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 20 {
		return ""
	}
	return fields[19]
}

// execStarted records a started exec session, tells o.Started its ID and
// returns the function that forgets the session when it ends.
func (r *Runtime) execStarted(c *Container, p *oci.ExecProcess, o ExecOptions) func() {
	id, done := r.trackExec(c, p)
	if o.Started != nil && id != "" {
		o.Started(id)
	}
	return done
}

// CleanupExec forgets an exec session of the container whose process has
// ended (container cleanup --exec); a live session is left alone.
func (r *Runtime) CleanupExec(ctx context.Context, nameOrID, session string) error {
	c, err := r.Container(ctx, nameOrID)
	if err != nil {
		return err
	}
	path := filepath.Join(r.execDir(c), filepath.Base(session))
	if _, err := os.Stat(path); err != nil {
		return errdefs.Worded(errdefs.ErrNotFound, "no exec session with ID %s found in container %s: no such exec session", session, c.ID)
	}
	for _, id := range r.execIDs(c) { // drops the record of an ended session
		if id == filepath.Base(session) {
			return nil
		}
	}
	return nil
}
