package monitor

import (
	"bytes"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var stream bytes.Buffer
	stream.Write(encodeFrame(StreamStdout, []byte("hello")))
	stream.Write(encodeFrame(StreamStdin, nil))
	stream.Write(appendFrame(nil, StreamResize, encodeResize(24, 80)))
	var buf []byte
	id, p, err := readFrame(&stream, &buf)
	if err != nil || id != StreamStdout || string(p) != "hello" {
		t.Fatalf("frame 1 = %d %q %v", id, p, err)
	}
	id, p, err = readFrame(&stream, &buf)
	if err != nil || id != StreamStdin || len(p) != 0 {
		t.Fatalf("frame 2 = %d %q %v", id, p, err)
	}
	id, p, err = readFrame(&stream, &buf)
	rows, cols, ok := decodeResize(p)
	if err != nil || id != StreamResize || !ok || rows != 24 || cols != 80 {
		t.Fatalf("frame 3 = %d %v %d %d %v", id, err, rows, cols, ok)
	}
	if _, _, err := readFrame(&stream, &buf); err != io.EOF {
		t.Fatalf("end: err = %v, want EOF", err)
	}
}

func TestFrameErrors(t *testing.T) {
	var buf []byte
	full := encodeFrame(StreamStderr, []byte("abcdef"))
	if _, _, err := readFrame(bytes.NewReader(full[:8]), &buf); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated payload: err = %v", err)
	}
	huge := []byte{StreamStdin, 0xff, 0xff, 0xff, 0xff}
	if _, _, err := readFrame(bytes.NewReader(huge), &buf); err == nil {
		t.Error("oversized frame accepted")
	}
	if _, _, ok := decodeResize([]byte{1, 2, 3}); ok {
		t.Error("short resize payload accepted")
	}
	if code, err := ExitCode([]byte(`{"exitCode":137}`)); err != nil || code != 137 {
		t.Errorf("ExitCode = %d, %v", code, err)
	}
}
