package monitor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// LogLine is one line of container output as read back from the log.
// Partial records (P) are joined with what follows on the same stream, so
// a line is Partial only when the output ended without a newline.
type LogLine struct {
	Time    time.Time
	Stream  string // "stdout" or "stderr"
	Partial bool
	Text    string
}

// LogOptions select what ReadLogs returns.
type LogOptions struct {
	Since, Until time.Time // zero = unbounded; both inclusive
	Tail         int       // last N lines of the existing log; -1 = all
	Follow       bool
	// Done is polled while following: once it returns true and the file is
	// drained, ReadLogs returns. nil = follow until ctx is cancelled.
	Done func() bool
}

// followInterval is how often a following reader polls for new data.
const followInterval = 100 * time.Millisecond

// ReadLogs reads a k8s-file log written by the monitor: the rotated files
// oldest first (path.N .. path.1), then the live file. With Follow it keeps
// polling the live file and follows it across rotations. It returns fn's
// first error, or ctx.Err() when ctx is cancelled while following.
func ReadLogs(ctx context.Context, logPath string, opts LogOptions, fn func(LogLine) error) error {
	lr := &logReader{opts: opts, fn: fn, partial: map[string]*LogLine{}}
	if opts.Tail >= 0 {
		lr.tail = make([]LogLine, 0, min(opts.Tail, 4096))
	}
	// History: rotated files, then the live file up to its current end.
	for _, p := range rotatedLogs(logPath) {
		if err := lr.readFile(p); err != nil {
			return err
		}
	}
	live, liveInfo, err := openLive(logPath)
	if err != nil {
		return err
	}
	if live != nil {
		defer func() { live.Close() }()
		if err := lr.readAvailable(live); err != nil {
			return err
		}
	}
	if !opts.Follow {
		// Output that ended without a newline is the last history line.
		if err := lr.flushPartials(); err != nil {
			return err
		}
		return lr.endHistory()
	}
	if err := lr.endHistory(); err != nil {
		return err
	}

	ticker := time.NewTicker(followInterval)
	defer ticker.Stop()
	for {
		// Sample Done before draining: output written before Done turned
		// true is then guaranteed to be read.
		done := opts.Done != nil && opts.Done()
		if live != nil {
			if err := lr.readAvailable(live); err != nil {
				return err
			}
		}
		fi, err := os.Stat(logPath)
		if err == nil && (liveInfo == nil || !os.SameFile(fi, liveInfo)) {
			// Rotated (or created): finish the old file, switch to the new.
			if live != nil {
				if err := lr.readAvailable(live); err != nil {
					return err
				}
				live.Close()
			}
			lr.rest = lr.rest[:0]
			if live, liveInfo, err = openLive(logPath); err != nil {
				return err
			}
			continue
		}
		if done || (!opts.Until.IsZero() && time.Now().After(opts.Until)) {
			return lr.flushPartials()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// openLive opens the live log; a missing file is not an error (the
// container may not have written anything yet).
func openLive(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// rotatedLogs lists path.N .. path.1, oldest first.
func rotatedLogs(path string) []string {
	matches, _ := filepath.Glob(path + ".*")
	type rot struct {
		n    int
		path string
	}
	var rots []rot
	for _, m := range matches {
		n, err := strconv.Atoi(strings.TrimPrefix(m, path+"."))
		if err == nil && n > 0 {
			rots = append(rots, rot{n, m})
		}
	}
	sort.Slice(rots, func(i, j int) bool { return rots[i].n > rots[j].n })
	out := make([]string, len(rots))
	for i, r := range rots {
		out[i] = r.path
	}
	return out
}

type logReader struct {
	opts    LogOptions
	fn      func(LogLine) error
	partial map[string]*LogLine // per-stream line being joined
	tail    []LogLine           // ring of the last opts.Tail history lines
	tailPos int                 // next slot to overwrite once tail is full
	history bool                // true once endHistory ran
	rest    []byte              // bytes after the last newline read so far
	chunk   []byte
}

func (lr *logReader) readFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) { // rotated away while we listed
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	err = lr.readAvailable(f)
	lr.rest = lr.rest[:0] // a rotated file never grows: drop a torn record
	return err
}

// readAvailable reads f to its current end, handing complete records on.
// An incomplete trailing record stays in lr.rest for the next call.
func (lr *logReader) readAvailable(f *os.File) error {
	if lr.chunk == nil {
		lr.chunk = make([]byte, 32<<10)
	}
	for {
		n, err := f.Read(lr.chunk)
		data := lr.chunk[:n]
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				lr.rest = append(lr.rest, data...)
				break
			}
			rec := data[:i]
			if len(lr.rest) > 0 {
				lr.rest = append(lr.rest, rec...)
				rec = lr.rest
			}
			if err := lr.record(rec); err != nil {
				return err
			}
			lr.rest = lr.rest[:0]
			data = data[i+1:]
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (lr *logReader) record(rec []byte) error {
	l, ok := parseLogRecord(rec)
	if !ok {
		return nil // skip garbage rather than failing the whole read
	}
	if p := lr.partial[l.Stream]; p != nil {
		p.Text += l.Text
		if l.Partial {
			return nil
		}
		delete(lr.partial, l.Stream)
		p.Partial = false
		return lr.emit(*p)
	}
	if l.Partial {
		lr.partial[l.Stream] = &l
		return nil
	}
	return lr.emit(l)
}

func (lr *logReader) emit(l LogLine) error {
	if !lr.opts.Since.IsZero() && l.Time.Before(lr.opts.Since) {
		return nil
	}
	if !lr.opts.Until.IsZero() && l.Time.After(lr.opts.Until) {
		return nil
	}
	if lr.history || lr.opts.Tail < 0 {
		return lr.fn(l)
	}
	if lr.opts.Tail == 0 {
		return nil
	}
	if len(lr.tail) < lr.opts.Tail {
		lr.tail = append(lr.tail, l)
		return nil
	}
	lr.tail[lr.tailPos] = l
	lr.tailPos = (lr.tailPos + 1) % len(lr.tail)
	return nil
}

// endHistory flushes the tail ring; later lines go straight to fn.
func (lr *logReader) endHistory() error {
	lr.history = true
	n := len(lr.tail)
	for i := 0; i < n; i++ {
		if err := lr.fn(lr.tail[(lr.tailPos+i)%n]); err != nil {
			return err
		}
	}
	lr.tail = nil
	return nil
}

// flushPartials emits lines whose output ended without a newline.
func (lr *logReader) flushPartials() error {
	for _, s := range []string{"stdout", "stderr"} {
		if p := lr.partial[s]; p != nil {
			delete(lr.partial, s)
			if err := lr.emit(*p); err != nil {
				return err
			}
		}
	}
	for s, p := range lr.partial {
		delete(lr.partial, s)
		if err := lr.emit(*p); err != nil {
			return err
		}
	}
	return nil
}

// parseLogRecord parses "<time> <stream> <F|P> <text>".
func parseLogRecord(rec []byte) (LogLine, bool) {
	var l LogLine
	i := bytes.IndexByte(rec, ' ')
	if i < 0 {
		return l, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rec[:i]))
	if err != nil {
		return l, false
	}
	rest := rec[i+1:]
	j := bytes.IndexByte(rest, ' ')
	if j < 0 {
		return l, false
	}
	stream := string(rest[:j])
	rest = rest[j+1:]
	if len(rest) == 0 || (len(rest) > 1 && rest[1] != ' ') {
		return l, false
	}
	switch rest[0] {
	case 'F':
	case 'P':
		l.Partial = true
	default:
		return l, false
	}
	if len(rest) > 2 {
		l.Text = string(rest[2:])
	}
	l.Time, l.Stream = t, stream
	return l, true
}
