package image

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	digest "github.com/opencontainers/go-digest"
	"golang.org/x/term"
)

// pullProgress reports the fast pull path's progress: on a terminal one
// line per layer redrawn in place (bytes, total, rate); otherwise one
// plain line per event. A nil *pullProgress reports nothing.
type pullProgress struct {
	w     io.Writer
	tty   bool
	start time.Time

	mu      sync.Mutex
	bars    []*blobBar
	drawn   int // lines drawn last time (tty)
	stop    chan struct{}
	stopped chan struct{}
}

type blobBar struct {
	d       digest.Digest
	size    int64
	n       atomic.Int64
	started time.Time
	state   string // "", "done", "skipped", "stored"
	elapsed time.Duration
}

func newPullProgress(w io.Writer) *pullProgress {
	if w == nil {
		return nil
	}
	p := &pullProgress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
		p.stop, p.stopped = make(chan struct{}), make(chan struct{})
		go p.redraw()
	}
	return p
}

func shortDigest(d digest.Digest) string {
	e := d.Encoded()
	if len(e) > 12 {
		e = e[:12]
	}
	return e
}

func (p *pullProgress) bar(d digest.Digest, size int64) *blobBar {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.bars {
		if b.d == d {
			return b
		}
	}
	b := &blobBar{d: d, size: size, started: time.Now()}
	p.bars = append(p.bars, b)
	return b
}

// counter returns a writer counting the blob's bytes as they arrive.
func (p *pullProgress) counter(d digest.Digest, size int64) io.Writer {
	if p == nil {
		return io.Discard
	}
	b := p.bar(d, size)
	return countingWriter{b: b, done: func() { p.downloaded(b) }}
}

type countingWriter struct {
	b    *blobBar
	done func()
}

func (c countingWriter) Write(data []byte) (int, error) {
	if n := c.b.n.Add(int64(len(data))); c.b.size > 0 && n >= c.b.size {
		c.done()
	}
	return len(data), nil
}

func (p *pullProgress) downloaded(b *blobBar) {
	p.mu.Lock()
	if b.state != "" {
		p.mu.Unlock()
		return
	}
	b.state, b.elapsed = "done", time.Since(b.started)
	p.mu.Unlock()
	if !p.tty {
		fmt.Fprintf(p.w, "Copying blob %s done: %s in %v (%s/s)\n", shortDigest(b.d), sizeString(b.size),
			b.elapsed.Round(time.Millisecond), sizeString(int64(float64(b.size)/max(b.elapsed.Seconds(), 1e-3))))
	}
}

func (p *pullProgress) skipped(d digest.Digest) {
	if p == nil {
		return
	}
	b := p.bar(d, 0)
	p.mu.Lock()
	b.state = "skipped"
	p.mu.Unlock()
	if !p.tty {
		fmt.Fprintf(p.w, "Copying blob %s skipped: already exists\n", shortDigest(d))
	}
}

func (p *pullProgress) stored(d digest.Digest) {
	if p == nil {
		return
	}
	p.mu.Lock()
	for _, b := range p.bars {
		if b.d == d {
			b.state = "stored"
		}
	}
	p.mu.Unlock()
}

func (p *pullProgress) config(d digest.Digest) {
	if p != nil && !p.tty {
		fmt.Fprintf(p.w, "Copying config %s done\n", shortDigest(d))
	}
}

// finished ends the live display and prints the summary line.
func (p *pullProgress) finished() {
	if p == nil {
		return
	}
	p.close()
	fmt.Fprintf(p.w, "Writing manifest to image destination (%v)\n", time.Since(p.start).Round(time.Millisecond))
}

// close stops the live display (idempotent).
func (p *pullProgress) close() {
	if p == nil || !p.tty {
		return
	}
	select {
	case <-p.stop:
	default:
		close(p.stop)
		<-p.stopped
	}
}

func (p *pullProgress) redraw() {
	defer close(p.stopped)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			p.draw()
			return
		case <-t.C:
			p.draw()
		}
	}
}

// draw rewrites the bar lines in place.
func (p *pullProgress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	for _, bar := range p.bars {
		b.WriteString("\x1b[2K")
		b.WriteString(bar.line())
		b.WriteByte('\n')
	}
	p.drawn = len(p.bars)
	io.WriteString(p.w, b.String())
}

func (b *blobBar) line() string {
	n := b.n.Load()
	switch b.state {
	case "skipped":
		return fmt.Sprintf("Copying blob %s skipped: already exists", shortDigest(b.d))
	case "stored":
		return fmt.Sprintf("Copying blob %s done   %s", shortDigest(b.d), sizeString(b.size))
	}
	const width = 30
	filled := width
	if b.size > 0 {
		filled = int(int64(width) * min(n, b.size) / b.size)
	}
	elapsed := time.Since(b.started)
	if b.state == "done" {
		elapsed = b.elapsed
	}
	rate := float64(n) / max(elapsed.Seconds(), 1e-3)
	return fmt.Sprintf("Copying blob %s [%s%s] %s / %s %s/s", shortDigest(b.d),
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), sizeString(n), sizeString(b.size), sizeString(int64(rate)))
}

// sizeString is a byte count in decimal units, as podman shows sizes.
func sizeString(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	for f >= unit && i < 4 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %cB", f, "kMGT"[i-1])
}
