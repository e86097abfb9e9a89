package monitor

import (
	"bytes"
	"io"
	"math/rand"
	"testing"
	"time"
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

func TestAppendTimeUTC(t *testing.T) {
	zone := time.FixedZone("x", -7*3600)
	times := []time.Time{
		{},
		time.Unix(0, 0),
		time.Unix(-1, 0),
		time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(2000, 3, 1, 0, 0, 0, 100, zone),
		time.Date(1969, 12, 31, 23, 59, 59, 500000000, time.UTC),
		time.Date(9999, 12, 31, 1, 2, 3, 4, time.UTC),
		time.Now(),
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		times = append(times, time.Unix(r.Int63n(253402300799+62135596800)-62135596800, r.Int63n(1e9)))
	}
	for _, tm := range times {
		want := tm.UTC().Format(time.RFC3339Nano)
		if got := string(appendTimeUTC(nil, tm)); got != want {
			t.Fatalf("appendTimeUTC(%v) = %s, want %s", tm, got, want)
		}
	}
}
