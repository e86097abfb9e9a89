package monitor

import (
	"errors"
	"io"
	"strconv"
	"strings"
)

// ErrDetach is returned by a DetachReader when the user typed the detach
// sequence; AttachConn.Run then returns it promptly.
var ErrDetach = errors.New("detached from container")

// DefaultDetachKeys is docker's ctrl-p,ctrl-q.
var DefaultDetachKeys = []byte{0x10, 0x11}

// ParseDetachKeys parses docker's detach-key syntax: a comma-separated list
// of single characters or "ctrl-X" (X in a-z, @, [, \, ], ^, _).
// An empty string yields nil (detaching disabled).
func ParseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	var keys []byte
	for _, part := range strings.Split(s, ",") {
		k, err := parseDetachKey(part)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func parseDetachKey(part string) (byte, error) {
	if len(part) == 1 {
		return part[0], nil
	}
	lower := strings.ToLower(part)
	if len(part) == 6 && strings.HasPrefix(lower, "ctrl-") {
		c := lower[5]
		switch {
		case c >= 'a' && c <= 'z':
			return c - 'a' + 1, nil
		case c == '@':
			return 0, nil
		case c >= '[' && c <= '_': // [ \ ] ^ _
			return c - '[' + 27, nil
		}
	}
	return 0, errors.New("invalid detach key " + strconv.Quote(part) + ": want a single character or ctrl-<key>")
}

// DetachReader wraps r so that reading the byte sequence keys returns
// ErrDetach. Bytes of a partly typed sequence are held back until it is
// clear they are not the sequence, then passed through. Empty keys return
// r unchanged.
func DetachReader(r io.Reader, keys []byte) io.Reader {
	if len(keys) == 0 {
		return r
	}
	return &detachReader{r: r, keys: keys, buf: make([]byte, 4096)}
}

type detachReader struct {
	r       io.Reader
	keys    []byte
	matched int    // how many bytes of keys are held back
	out     []byte // bytes ready for the caller
	pend    []byte // reusable backing array for out
	buf     []byte
	err     error // sticky error returned once out is empty
}

func (d *detachReader) Read(p []byte) (int, error) {
	for {
		if len(d.out) > 0 {
			n := copy(p, d.out)
			d.out = d.out[n:]
			return n, nil
		}
		if d.err != nil {
			return 0, d.err
		}
		n, err := d.r.Read(d.buf)
		d.out = d.pend[:0] // out is empty here, so its backing array is free
		d.scan(d.buf[:n])
		d.pend = d.out[:0]
		if err != nil && d.err == nil {
			if d.matched > 0 { // an incomplete sequence at EOF is plain input
				d.out = append(d.out, d.keys[:d.matched]...)
				d.matched = 0
			}
			d.err = err
		}
	}
}

// scan moves input bytes to d.out, holding back a partial detach sequence.
func (d *detachReader) scan(in []byte) {
	for _, b := range in {
		if b == d.keys[d.matched] {
			d.matched++
			if d.matched == len(d.keys) {
				d.matched = 0
				d.err = ErrDetach // whatever follows the sequence is dropped
				return
			}
			continue
		}
		if d.matched > 0 {
			d.out = append(d.out, d.keys[:d.matched]...)
			d.matched = 0
			if b == d.keys[0] {
				d.matched = 1
				continue
			}
		}
		d.out = append(d.out, b)
	}
}
