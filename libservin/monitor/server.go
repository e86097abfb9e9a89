package monitor

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// maxClientBacklog is how much output may queue for one attach client.
// A client further behind is disconnected: it must never slow the
// container down, and the monitor's memory stays bounded.
const maxClientBacklog = 1 << 20

// requestTimeout bounds how long a new connection may take to send its
// request line.
const requestTimeout = 10 * time.Second

var okFrame = staticFrame(encodeFrame(StreamOK, nil))

func (m *monitor) acceptLoop() {
	defer m.clientWG.Done()
	for {
		f, err := acceptUnix(m.lis)
		if m.lisClosed.Load() {
			if f != nil {
				f.Close()
			}
			return
		}
		if err != nil {
			m.logf("attach accept: " + err.Error())
			time.Sleep(100 * time.Millisecond) // EMFILE and friends
			continue
		}
		m.clientWG.Add(1)
		go m.serveClient(f)
	}
}

// serveClient handles one attach connection: it registers the client for
// output, starts the container if asked, then reads stdin and resize
// frames until the connection ends.
func (m *monitor) serveClient(f *os.File) {
	defer m.clientWG.Done()
	opts, err := readRequest(f)
	if err != nil {
		f.Close()
		return
	}
	c := &client{f: f, opts: opts, wake: make(chan struct{}, 1)}
	m.clientWG.Add(1)
	go func() {
		defer m.clientWG.Done()
		c.writeLoop()
	}()
	streams := opts.Stdin || opts.Stdout || opts.Stderr
	if streams && !m.register(c) {
		return // exited: the exit frame is queued and the writer closes
	}
	if opts.Start {
		// Registered first, so the client sees all output of the start.
		if err := m.requestStart(); err != nil {
			m.unregister(c)
			c.send(staticFrame(encodeFrame(StreamError, []byte(err.Error()))))
			c.finish()
			return
		}
		if !streams {
			c.send(okFrame)
			c.finish()
			return
		}
	}
	if !streams {
		c.finish()
		return
	}
	m.readClient(c)
	m.unregister(c)
	c.shutdown()
}

// readRequest reads the JSON request line, byte by byte (it is short and
// comes once) so nothing after it is consumed.
func readRequest(f *os.File) (AttachOptions, error) {
	var opts AttachOptions // zero on error
	f.SetReadDeadline(time.Now().Add(requestTimeout))
	defer f.SetReadDeadline(time.Time{})
	line := make([]byte, 0, 80)
	var b [1]byte
	for {
		if _, err := f.Read(b[:]); err != nil {
			return opts, err
		}
		if b[0] == '\n' {
			break
		}
		if len(line) >= 4096 {
			return opts, errors.New("attach request too long")
		}
		line = append(line, b[0])
	}
	return unmarshalAttachOptions(line)
}

// register adds c to the output fan-out. After the exit it instead queues
// the exit frame and returns false.
func (m *monitor) register(c *client) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st.State == StateExited {
		if m.exitFrame != nil {
			c.send(m.exitFrame)
		}
		c.finish()
		return false
	}
	m.clients[c] = struct{}{}
	return true
}

func (m *monitor) unregister(c *client) {
	m.mu.Lock()
	delete(m.clients, c)
	m.mu.Unlock()
}

func (m *monitor) readClient(c *client) {
	var buf []byte
	for {
		id, p, err := readFrame(c.f, &buf)
		if err != nil {
			return
		}
		switch id {
		case StreamStdin:
			if !c.opts.Stdin {
				continue
			}
			if len(p) == 0 {
				m.stdinEOF()
			} else {
				m.writeStdin(p)
			}
		case StreamResize:
			if rows, cols, ok := decodeResize(p); ok {
				m.resize(rows, cols)
			}
		}
		if cap(buf) > 64<<10 { // do not keep a large frame's buffer
			buf = nil
		}
	}
}

// client is one attach connection. Frames are queued by send (never
// blocking) and written by the client's own writer goroutine.
type client struct {
	f    *os.File
	opts AttachOptions
	wake chan struct{}
	once sync.Once

	mu      sync.Mutex
	queue   []*outFrame
	queued  int  // bytes queued or being written
	closing bool // close once the queue is flushed
	dead    bool
}

func (c *client) wants(stream byte) bool {
	return (stream == StreamStdout && c.opts.Stdout) || (stream == StreamStderr && c.opts.Stderr)
}

func (c *client) notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

var (
	errClientGone = errors.New("attach client gone")
	errClientSlow = errors.New("attach client too slow: disconnected")
)

// send queues fr, taking a reference. It fails if the client is gone, or
// disconnects it (errClientSlow) when it fell too far behind.
func (c *client) send(fr *outFrame) error {
	c.mu.Lock()
	if c.dead || c.closing {
		c.mu.Unlock()
		return errClientGone
	}
	if c.queued+len(fr.b) > maxClientBacklog {
		c.mu.Unlock()
		c.shutdown()
		return errClientSlow
	}
	fr.ref()
	c.queue = append(c.queue, fr)
	c.queued += len(fr.b)
	c.mu.Unlock()
	c.notify()
	return nil
}

// finish closes the connection once everything queued is written.
func (c *client) finish() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.notify()
}

// shutdown closes the connection now; a blocked Read or Write returns.
func (c *client) shutdown() {
	c.mu.Lock()
	c.dead = true
	c.mu.Unlock()
	c.once.Do(func() { c.f.Close() })
	c.notify()
}

func (c *client) writeLoop() {
	var q []*outFrame
	defer func() {
		// Give back what was never written.
		c.mu.Lock()
		q = append(q, c.queue...)
		c.queue = nil
		c.mu.Unlock()
		for _, fr := range q {
			fr.release()
		}
	}()
	for range c.wake {
		for {
			c.mu.Lock()
			if c.dead {
				c.mu.Unlock()
				return
			}
			// Swap buffers: the writer owns q, send appends to the other.
			q, c.queue = c.queue, q[:0]
			closing := c.closing
			c.mu.Unlock()
			if len(q) == 0 {
				if closing {
					c.shutdown()
					return
				}
				break
			}
			for i, fr := range q {
				_, err := c.f.Write(fr.b)
				fr.release()
				q[i] = nil
				c.mu.Lock()
				c.queued -= len(fr.b)
				c.mu.Unlock()
				if err != nil {
					q = q[i+1:]
					c.shutdown()
					return
				}
			}
			q = q[:0]
		}
	}
}

// outFrame is an encoded frame shared by every client it was queued for.
// Output frames come from a pool and return to it once all their clients
// wrote or dropped them: a chatty container then makes no garbage, and
// the monitor's heap stays small without frequent GCs.
type outFrame struct {
	b      []byte
	refs   atomic.Int32
	pooled bool
}

// pumpBufSize is the read size of the output pumps.
const pumpBufSize = 8192

var framePool = sync.Pool{New: func() any {
	return &outFrame{b: make([]byte, 0, frameHeaderLen+pumpBufSize), pooled: true}
}}

// newOutFrame encodes a frame holding one reference (the caller's).
func newOutFrame(id byte, p []byte) *outFrame {
	var fr *outFrame
	if len(p) <= pumpBufSize {
		fr = framePool.Get().(*outFrame)
		fr.b = appendFrame(fr.b[:0], id, p)
	} else {
		fr = &outFrame{b: encodeFrame(id, p)}
	}
	fr.refs.Store(1)
	return fr
}

// staticFrame wraps a frame that is never recycled (exit, ok, error).
func staticFrame(b []byte) *outFrame { return &outFrame{b: b} }

func (fr *outFrame) ref() { fr.refs.Add(1) }

func (fr *outFrame) release() {
	if fr.refs.Add(-1) == 0 && fr.pooled {
		framePool.Put(fr)
	}
}
