package monitor

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// logBufSize is the size of the buffer records are batched in: one
// write(2) per pump read in the common case, without growing the heap.
const logBufSize = 16 << 10

// logWriter writes container output in the k8s-file (CRI) format:
//
//	<RFC3339Nano UTC> <stream> <F|P> <text>\n
//
// F marks a complete line, P a chunk that did not end in a newline (the
// next record of the same stream continues it). When LogMaxSize is set the
// file is rotated by size: path -> path.1 -> ... -> path.N.
type logWriter struct {
	path     string
	maxSize  int64
	maxFiles int
	f        *os.File
	size     int64
	buf      []byte // reused between writes to keep the monitor's heap flat
}

func openLogWriter(path string, maxSize int64, maxFiles int) (*logWriter, error) {
	if maxSize > 0 && maxFiles <= 0 {
		maxFiles = 1
	}
	w := &logWriter{path: path, maxSize: maxSize, maxFiles: maxFiles, buf: make([]byte, 0, logBufSize)}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := w.open(false); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *logWriter) open(truncate bool) error {
	flags := os.O_WRONLY | os.O_APPEND | os.O_CREATE
	if truncate {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(w.path, flags, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, fi.Size()
	return nil
}

// write logs one output chunk of stream ("stdout" or "stderr"), all with
// the same timestamp.
func (w *logWriter) write(stream string, data []byte, now time.Time) error {
	var ts [40]byte
	stamp := appendTimeUTC(ts[:0], now)
	w.buf = w.buf[:0]
	for len(data) > 0 {
		tag := byte('F')
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			tag, data = 'P', nil
		}
		recLen := int64(len(stamp) + len(stream) + len(line) + 5)
		if w.maxSize > 0 && w.size+int64(len(w.buf)) > 0 && w.size+int64(len(w.buf))+recLen > w.maxSize {
			if err := w.flush(); err != nil {
				return err
			}
			if err := w.rotate(); err != nil {
				return err
			}
		}
		if len(w.buf) > 0 && int64(len(w.buf))+recLen > logBufSize {
			if err := w.flush(); err != nil { // keep the buffer from growing
				return err
			}
		}
		w.buf = append(w.buf, stamp...)
		w.buf = append(w.buf, ' ')
		w.buf = append(w.buf, stream...)
		w.buf = append(w.buf, ' ', tag, ' ')
		w.buf = append(w.buf, line...)
		w.buf = append(w.buf, '\n')
	}
	err := w.flush()
	if cap(w.buf) > logBufSize { // a single huge record grew it
		w.buf = make([]byte, 0, logBufSize)
	}
	return err
}

func (w *logWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if w.f == nil { // a failed rotation left no file open: try again
		if err := w.open(false); err != nil {
			w.buf = w.buf[:0]
			return err
		}
	}
	n, err := w.f.Write(w.buf)
	w.size += int64(n)
	w.buf = w.buf[:0]
	return err
}

// rotate shifts path.i to path.i+1 (the oldest falls off), moves the live
// file to path.1 and opens a fresh live file.
func (w *logWriter) rotate() error {
	w.f.Close()
	w.f = nil
	for i := w.maxFiles - 1; i >= 1; i-- {
		os.Rename(w.path+"."+strconv.Itoa(i), w.path+"."+strconv.Itoa(i+1))
	}
	if err := os.Rename(w.path, w.path+".1"); err != nil && !os.IsNotExist(err) {
		return err
	}
	return w.open(true)
}

func (w *logWriter) close() error {
	if w == nil || w.f == nil {
		return nil
	}
	return w.f.Close()
}
