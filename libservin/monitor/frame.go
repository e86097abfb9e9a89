package monitor

import (
	"encoding/binary"
	"errors"
	"io"
	"strconv"
)

// Stream ids of attach-socket frames. A frame is 1 byte id, 4 bytes
// big-endian payload length, then the payload.
const (
	StreamStdin  byte = 0 // client->monitor; zero-length payload = EOF
	StreamStdout byte = 1 // monitor->client (all output in terminal mode)
	StreamStderr byte = 2 // monitor->client
	StreamExit   byte = 3 // monitor->client, payload {"exitCode":N}, then close
	StreamResize byte = 4 // client->monitor, payload rows,cols as uint16 BE
	StreamError  byte = 5 // monitor->client, error text
	StreamOK     byte = 6 // monitor->client, start-only request succeeded
)

const (
	frameHeaderLen = 5
	// maxFramePayload bounds what a peer can make us allocate.
	maxFramePayload = 1 << 20
)

// appendFrame appends one encoded frame to dst.
func appendFrame(dst []byte, id byte, payload []byte) []byte {
	var hdr [frameHeaderLen]byte
	hdr[0] = id
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	dst = append(dst, hdr[:]...)
	return append(dst, payload...)
}

// encodeFrame returns a new buffer holding one frame.
func encodeFrame(id byte, payload []byte) []byte {
	return appendFrame(make([]byte, 0, frameHeaderLen+len(payload)), id, payload)
}

// readFrame reads one frame. The payload reuses *buf when it is big
// enough, so it is only valid until the next call with the same buf.
func readFrame(r io.Reader, buf *[]byte) (id byte, payload []byte, err error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFramePayload {
		return 0, nil, errors.New("attach frame too large (" + strconv.FormatUint(uint64(n), 10) + " bytes)")
	}
	if cap(*buf) < int(n) {
		*buf = make([]byte, n)
	}
	payload = (*buf)[:n]
	if _, err := io.ReadFull(r, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

func encodeResize(rows, cols uint16) []byte {
	var p [4]byte
	binary.BigEndian.PutUint16(p[0:], rows)
	binary.BigEndian.PutUint16(p[2:], cols)
	return p[:]
}

func decodeResize(p []byte) (rows, cols uint16, ok bool) {
	if len(p) != 4 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(p[0:]), binary.BigEndian.Uint16(p[2:]), true
}
