//go:build linux

package fscopy

// Scheduling Unpack's regular files onto workers.
//
// Files wait in one queue per parent directory, and one worker at a time
// serves a queue: creating an entry holds its directory's lock in the
// kernel, so two workers in one directory only wait (or spin) on each
// other, while workers in different directories create in parallel. The
// loop reading the archive runs ahead of the workers up to maxPending
// files (and maxPendingData bytes of data read ahead).

import (
	"archive/tar"
	"fmt"
	"path"
	"sync"
)

const (
	maxPending     = 1024
	maxPendingData = 64 << 20
)

// fileTask is one regular file to write.
type fileTask struct {
	parent    *dirRef // held by the task
	dirKey    string  // the parent's path: the queue
	rel, base string
	h         *tar.Header
	data      []byte  // read ahead, or nil: from the archive file at off
	bp        *[]byte // data's pool buffer
	off       int64
}

type dirQueue struct {
	key     string
	tasks   []*fileTask
	serving bool // a worker has it
	ready   bool // in the ready list
}

// scheduler is the part of unpacker that the workers share.
type scheduler struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queues  map[string]*dirQueue
	ready   []*dirQueue // queues with files and no worker
	workers int
	pending int   // files queued or being written
	data    int64 // bytes read ahead for them
	// files and directories pending files are in, for settle
	files map[string]int
	dirs  map[string]int
}

func (s *scheduler) init() {
	s.cond = sync.NewCond(&s.mu)
	s.queues = map[string]*dirQueue{}
	s.files = map[string]int{}
	s.dirs = map[string]int{}
}

// ancestors calls fn for each directory above rel.
func ancestors(rel string, fn func(string)) {
	for d := path.Dir(rel); d != "."; d = path.Dir(d) {
		fn(d)
	}
}

// dispatch queues t, waiting while too much is pending, and makes sure a
// worker will serve its directory.
func (u *unpacker) dispatch(t *fileTask) {
	s := &u.sched
	s.mu.Lock()
	for s.pending >= maxPending || s.pending > 0 && s.data+int64(len(t.data)) > maxPendingData {
		s.cond.Wait()
	}
	s.pending++
	s.data += int64(len(t.data))
	s.files[t.rel]++
	ancestors(t.rel, func(d string) { s.dirs[d]++ })
	q := s.queues[t.dirKey]
	if q == nil {
		q = &dirQueue{key: t.dirKey}
		s.queues[t.dirKey] = q
	}
	q.tasks = append(q.tasks, t)
	if !q.serving && !q.ready {
		q.ready = true
		s.ready = append(s.ready, q)
	}
	if s.workers < unpackWorkers && len(s.ready) > 0 {
		s.workers++
		go u.work()
	}
	s.mu.Unlock()
}

// work serves ready queues until there are none.
func (u *unpacker) work() {
	s := &u.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.ready) > 0 {
		q := s.ready[0]
		s.ready = s.ready[1:]
		q.ready, q.serving = false, true
		for len(q.tasks) > 0 {
			t := q.tasks[0]
			q.tasks = q.tasks[1:]
			s.mu.Unlock()
			u.write(t)
			s.mu.Lock()
			s.done(t)
		}
		q.serving = false
		delete(s.queues, q.key)
	}
	s.workers--
}

// write writes one file, unless the unpack already failed.
func (u *unpacker) write(t *fileTask) {
	if !u.failed.Load() {
		var err error
		if t.data != nil {
			err = u.writeFile(t.parent.fd, t.base, t.h, nil, t.data, 0)
		} else {
			err = u.writeFile(t.parent.fd, t.base, t.h, nil, nil, t.off)
		}
		if err != nil {
			u.fail(fmt.Errorf("%s: %w", t.h.Name, err))
		}
	}
	t.parent.release()
	if t.bp != nil {
		u.bufs.Put(t.bp)
	}
}

// done accounts for a written file; the caller holds s.mu.
func (s *scheduler) done(t *fileTask) {
	s.pending--
	s.data -= int64(len(t.data))
	if s.files[t.rel]--; s.files[t.rel] == 0 {
		delete(s.files, t.rel)
	}
	ancestors(t.rel, func(d string) {
		if s.dirs[d]--; s.dirs[d] == 0 {
			delete(s.dirs, d)
		}
	})
	s.cond.Broadcast()
}

// busy reports whether a pending file is rel, is below rel, or has rel
// below it (a pending file where rel's directories are).
func (s *scheduler) busy(rel string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == 0 {
		return false
	}
	if s.files[rel] > 0 || s.dirs[rel] > 0 {
		return true
	}
	found := false
	ancestors(rel, func(d string) { found = found || s.files[d] > 0 })
	return found
}

// drain waits until every queued file is written.
func (u *unpacker) drain() {
	s := &u.sched
	s.mu.Lock()
	for s.pending > 0 {
		s.cond.Wait()
	}
	s.mu.Unlock()
}

// settle waits for the workers when a pending file is rel, a directory
// above it or an entry below it: entries of one archive apply in order.
// The parent cache is dropped too, since a worker may have replaced it.
func (u *unpacker) settle(rel string) {
	if u.sched.busy(rel) {
		u.drain()
		u.dropCache()
	}
}
