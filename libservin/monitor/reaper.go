package monitor

import (
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// reaper reaps every child of the monitor. As a subreaper the monitor
// inherits the container init (and, without a pid namespace, any orphan
// from the container), so all waiting goes through wait4(-1) here; nothing
// else in the process may wait for a child (hence syscall.ForkExec, not
// os/exec, inside the monitor).
type reaper struct {
	mu        sync.Mutex
	waiters   map[int]chan unix.WaitStatus
	unclaimed map[int]unix.WaitStatus // reaped before anyone asked
	order     []int                   // unclaimed pids, oldest first
}

// maxUnclaimed bounds the exits kept for pids nobody watched (orphans).
const maxUnclaimed = 64

// startReaper must run before the monitor forks anything.
func startReaper() *reaper {
	r := &reaper{
		waiters:   map[int]chan unix.WaitStatus{},
		unclaimed: map[int]unix.WaitStatus{},
	}
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, unix.SIGCHLD)
	go func() {
		for range sigc {
			r.reap()
		}
	}()
	r.reap() // children that exited before Notify
	return r
}

// reap collects every exited child. SIGCHLDs coalesce, so one signal may
// stand for many exits.
func (r *reaper) reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		r.deliver(pid, ws)
	}
}

func (r *reaper) deliver(pid int, ws unix.WaitStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ch, ok := r.waiters[pid]; ok {
		delete(r.waiters, pid)
		ch <- ws
		return
	}
	if len(r.order) >= maxUnclaimed {
		delete(r.unclaimed, r.order[0])
		r.order = r.order[1:]
	}
	r.unclaimed[pid] = ws
	r.order = append(r.order, pid)
}

// watch returns a channel that receives pid's wait status. It works even
// when pid was already reaped (a fast-failing child).
func (r *reaper) watch(pid int) <-chan unix.WaitStatus {
	ch := make(chan unix.WaitStatus, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if ws, ok := r.unclaimed[pid]; ok {
		delete(r.unclaimed, pid)
		for i, p := range r.order {
			if p == pid {
				r.order = append(r.order[:i], r.order[i+1:]...)
				break
			}
		}
		ch <- ws
		return ch
	}
	r.waiters[pid] = ch
	return ch
}

// exitStatus converts a wait status to (exit code, signal): a signal death
// is reported as 128+signal, like a shell does.
func exitStatus(ws unix.WaitStatus) (code, sig int) {
	if ws.Signaled() {
		sig = int(ws.Signal())
		return 128 + sig, sig
	}
	return ws.ExitStatus(), 0
}
