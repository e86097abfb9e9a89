package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/servin/servin/libservin"
)

// orderedBuffer records which stream each write reached, in order.
type orderedBuffer struct {
	name string
	log  *[]string
	buf  bytes.Buffer
}

func (o *orderedBuffer) Write(p []byte) (int, error) {
	*o.log = append(*o.log, o.name+":"+string(p))
	return o.buf.Write(p)
}

func TestLogLineWriter(t *testing.T) {
	var order []string
	out := &orderedBuffer{name: "out", log: &order}
	errw := &orderedBuffer{name: "err", log: &order}
	w := newLogWriter(out, errw, false)
	ts := time.Date(2024, 1, 2, 3, 4, 5, 60, time.UTC)
	lw := logLineWriter{w: w}
	lines := []libservin.LogLine{
		{Time: ts, Stream: "stdout", Text: "a"},
		{Time: ts, Stream: "stdout", Text: "b"},
		{Time: ts, Stream: "stderr", Text: "err"},
		{Time: ts, Stream: "stdout", Text: "partial", Partial: true},
	}
	for _, l := range lines {
		if err := lw.write("", l); err != nil {
			t.Fatal(err)
		}
	}
	w.flush()
	if out.buf.String() != "a\nb\npartial" || errw.buf.String() != "err\n" {
		t.Errorf("stdout %q, stderr %q", out.buf.String(), errw.buf.String())
	}
	// Buffered, but a change of stream flushes what came before.
	if got := strings.Join(order, "|"); got != "out:a\nb\n|err:err\n|out:partial" {
		t.Errorf("write order %q", got)
	}

	var o2, e2 bytes.Buffer
	lw = logLineWriter{w: newLogWriter(&o2, &e2, true), timestamps: true}
	_ = lw.write("abc123456789 ", libservin.LogLine{Time: ts, Stream: "stdout", Text: "x"})
	// Following flushes each line at once.
	if got := o2.String(); got != "abc123456789 2024-01-02T03:04:05.00000006Z x\n" {
		t.Errorf("timestamped line %q", got)
	}
}
