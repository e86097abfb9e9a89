package monitor

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
)

// AttachOptions is the request line a client sends on attach.sock.
type AttachOptions struct {
	Stdin  bool `json:"stdin"`
	Stdout bool `json:"stdout"`
	Stderr bool `json:"stderr"`
	// Start starts a created container once the client is registered, so
	// that no output is lost.
	Start bool `json:"start"`
}

// AttachConn is a client connection to a monitor's attach socket.
type AttachConn struct {
	f    *os.File
	br   *bufio.Reader
	wmu  sync.Mutex // frames written by several goroutines must not interleave
	rbuf []byte
}

func (o *AttachOptions) marshal() []byte {
	var j jsonObj
	j.bool("stdin", o.Stdin)
	j.bool("stdout", o.Stdout)
	j.bool("stderr", o.Stderr)
	j.bool("start", o.Start)
	return j.bytes()
}

func unmarshalAttachOptions(b []byte) (AttachOptions, error) {
	var o AttachOptions
	err := decodeJSONObject(b, func(key string, d *jsonDec) error {
		var err error
		switch key {
		case "stdin":
			o.Stdin, err = d.boolean()
		case "stdout":
			o.Stdout, err = d.boolean()
		case "stderr":
			o.Stderr, err = d.boolean()
		case "start":
			o.Start, err = d.boolean()
		default:
			err = d.skip()
		}
		return err
	})
	return o, err
}

// Attach connects to the monitor of the container whose RunDir is runDir.
func Attach(runDir string, opts AttachOptions) (*AttachConn, error) {
	f, err := dialUnix(filepath.Join(runDir, AttachSocket))
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(append(opts.marshal(), '\n')); err != nil {
		f.Close()
		return nil, err
	}
	return &AttachConn{f: f, br: bufio.NewReaderSize(f, 32<<10)}, nil
}

// ReadFrame returns the next frame from the monitor. The payload is only
// valid until the next call. io.EOF means the monitor closed the stream.
func (c *AttachConn) ReadFrame() (stream byte, payload []byte, err error) {
	return readFrame(c.br, &c.rbuf)
}

func (c *AttachConn) writeFrame(id byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.f.Write(encodeFrame(id, p))
	return err
}

// WriteStdin sends p to the container's stdin. Empty p is a no-op (use
// CloseStdin to send EOF).
func (c *AttachConn) WriteStdin(p []byte) error {
	for len(p) > 0 {
		n := min(len(p), maxFramePayload)
		if err := c.writeFrame(StreamStdin, p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// CloseStdin tells the monitor this client's stdin reached EOF.
func (c *AttachConn) CloseStdin() error { return c.writeFrame(StreamStdin, nil) }

// Resize sets the container's terminal size.
func (c *AttachConn) Resize(rows, cols uint16) error {
	return c.writeFrame(StreamResize, encodeResize(rows, cols))
}

// Close drops the connection (detaching the client).
func (c *AttachConn) Close() error { return c.f.Close() }

// ExitCode decodes the payload of a StreamExit frame.
func ExitCode(payload []byte) (int, error) {
	code, found := -1, false
	err := decodeJSONObject(payload, func(key string, d *jsonDec) error {
		if key != "exitCode" {
			return d.skip()
		}
		n, err := d.int(32)
		code, found = int(n), true
		return err
	})
	// -1 is a real code: a run killed for its --timeout.
	if err != nil || !found || code < -1 {
		return -1, errors.New("bad exit frame " + strconv.Quote(string(payload)))
	}
	return code, nil
}

// Run copies stdin to the container and its output to stdout/stderr until
// the container exits, and returns its exit code. stdin may be nil; when it
// returns io.EOF the monitor is told (stdin-once containers then see EOF);
// when it returns ErrDetach, Run closes the connection and returns
// (-1, ErrDetach) at once. A nil stderr receives nothing; resize may be nil.
// exitCode is -1 when the stream ended without an exit frame. A start-only
// success (StreamOK) returns 0.
//
// A stdin reader blocked in Read (a terminal) cannot be interrupted: its
// goroutine ends on its next read.
func (c *AttachConn) Run(stdin io.Reader, stdout, stderr io.Writer, resize <-chan [2]uint16) (exitCode int, err error) {
	done := make(chan struct{})
	defer close(done)
	var detached atomic.Bool
	if stdin != nil {
		go c.pumpStdin(stdin, &detached)
	}
	if resize != nil {
		go func() {
			for {
				select {
				case <-done:
					return
				case sz, ok := <-resize:
					if !ok {
						return
					}
					if c.Resize(sz[0], sz[1]) != nil {
						return
					}
				}
			}
		}()
	}
	for {
		id, p, err := c.ReadFrame()
		if err != nil {
			if detached.Load() {
				return -1, ErrDetach
			}
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				return -1, nil
			}
			return -1, err
		}
		switch id {
		case StreamStdout:
			if stdout != nil {
				if _, err := stdout.Write(p); err != nil {
					return -1, err
				}
			}
		case StreamStderr:
			if stderr != nil {
				if _, err := stderr.Write(p); err != nil {
					return -1, err
				}
			}
		case StreamExit:
			return ExitCode(p)
		case StreamError:
			return -1, errors.New(string(p))
		case StreamOK:
			return 0, nil
		}
	}
}

func (c *AttachConn) pumpStdin(stdin io.Reader, detached *atomic.Bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := stdin.Read(buf)
		if n > 0 && c.WriteStdin(buf[:n]) != nil {
			return
		}
		if errors.Is(err, ErrDetach) {
			detached.Store(true)
			c.Close()
			return
		}
		if err != nil {
			c.CloseStdin()
			return
		}
	}
}

// StartViaSocket asks the monitor to start its created container and waits
// for the result. Starting a running container succeeds.
func StartViaSocket(runDir string) error {
	c, err := Attach(runDir, AttachOptions{Start: true})
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		id, p, err := c.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("monitor closed the connection before confirming the start")
			}
			return err
		}
		switch id {
		case StreamOK:
			return nil
		case StreamError:
			return errors.New(string(p))
		case StreamExit:
			return errors.New("container has already exited")
		}
	}
}
