package monitor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func readAllLogs(t *testing.T, path string, opts LogOptions) []LogLine {
	t.Helper()
	var lines []LogLine
	err := ReadLogs(context.Background(), path, opts, func(l LogLine) error {
		lines = append(lines, l)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadLogs: %v", err)
	}
	return lines
}

func texts(lines []LogLine) string {
	var s []string
	for _, l := range lines {
		p := ""
		if l.Partial {
			p = "(P)"
		}
		s = append(s, l.Stream[:3]+":"+l.Text+p)
	}
	return strings.Join(s, "|")
}

func TestLogWriterFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	w, err := openLogWriter(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.write("stdout", []byte("one\ntwo\npart"), t0)
	w.write("stderr", []byte("\n"), t0.Add(time.Nanosecond))
	w.write("stdout", []byte("ial\n"), t0.Add(time.Second))
	w.close()
	b, _ := os.ReadFile(path)
	want := "2024-05-01T12:00:00Z stdout F one\n" +
		"2024-05-01T12:00:00Z stdout F two\n" +
		"2024-05-01T12:00:00Z stdout P part\n" +
		"2024-05-01T12:00:00.000000001Z stderr F \n" +
		"2024-05-01T12:00:01Z stdout F ial\n"
	if string(b) != want {
		t.Fatalf("log =\n%s\nwant\n%s", b, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode = %v", fi.Mode())
	}
	got := texts(readAllLogs(t, path, LogOptions{Tail: -1}))
	if got != "std:one|std:two|std:|std:partial" {
		t.Errorf("read back: %s", got)
	}
}

func TestLogPartialJoinAndEOF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	w, _ := openLogWriter(path, 0, 0)
	w.write("stdout", []byte("a"), t0)
	w.write("stderr", []byte("E"), t0)
	w.write("stdout", []byte("b"), t0)
	w.write("stdout", []byte("c\nd"), t0)
	w.close()
	lines := readAllLogs(t, path, LogOptions{Tail: -1})
	if got := texts(lines); got != "std:abc|std:d(P)|std:E(P)" {
		t.Errorf("got %s", got)
	}
	if lines[0].Stream != "stdout" || lines[2].Stream != "stderr" {
		t.Errorf("streams: %+v", lines)
	}
}

func TestLogRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	// Each record is 20 (stamp) + 8 + 3 + 3 bytes = 34: two fit in 80.
	w, err := openLogWriter(path, 80, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 9; i++ {
		w.write("stdout", []byte(fmt.Sprintf("l%02d\n", i)), t0.Add(time.Duration(i)*time.Second))
	}
	w.close()
	for _, p := range []string{path, path + ".1", path + ".2"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 80 {
			t.Errorf("%s is %d bytes, over the limit", p, fi.Size())
		}
	}
	if _, err := os.Stat(path + ".3"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("path.3 should not exist: %v", err)
	}
	// 9 lines, 2 per file: .2 = l04,l05; .1 = l06,l07; live = l08.
	got := texts(readAllLogs(t, path, LogOptions{Tail: -1}))
	if got != "std:l04|std:l05|std:l06|std:l07|std:l08" {
		t.Errorf("after rotation: %s", got)
	}
	// Reopening continues the live file's size accounting.
	w, _ = openLogWriter(path, 80, 2)
	w.write("stdout", []byte("l09\nl10\n"), t0.Add(9*time.Second))
	w.close()
	got = texts(readAllLogs(t, path, LogOptions{Tail: 3}))
	if got != "std:l08|std:l09|std:l10" {
		t.Errorf("tail after reopen: %s", got)
	}
}

func TestLogFilters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	w, _ := openLogWriter(path, 0, 0)
	for i := 0; i < 6; i++ {
		w.write("stdout", []byte(fmt.Sprintf("%d\n", i)), t0.Add(time.Duration(i)*time.Minute))
	}
	w.close()
	for _, tc := range []struct {
		name string
		opts LogOptions
		want string
	}{
		{"all", LogOptions{Tail: -1}, "std:0|std:1|std:2|std:3|std:4|std:5"},
		{"tail 2", LogOptions{Tail: 2}, "std:4|std:5"},
		{"tail 0", LogOptions{Tail: 0}, ""},
		{"tail 100", LogOptions{Tail: 100}, "std:0|std:1|std:2|std:3|std:4|std:5"},
		{"since", LogOptions{Tail: -1, Since: t0.Add(4 * time.Minute)}, "std:4|std:5"},
		{"until", LogOptions{Tail: -1, Until: t0.Add(time.Minute)}, "std:0|std:1"},
		{"since+until+tail", LogOptions{Tail: 1, Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, "std:3"},
	} {
		if got := texts(readAllLogs(t, path, tc.opts)); got != tc.want {
			t.Errorf("%s: got %q want %q", tc.name, got, tc.want)
		}
	}
	// A missing log is empty, not an error.
	if got := readAllLogs(t, path+".none", LogOptions{Tail: -1}); len(got) != 0 {
		t.Errorf("missing log gave %v", got)
	}
}

func TestLogFollowAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	w, _ := openLogWriter(path, 200, 3)
	w.write("stdout", []byte("old1\nold2\n"), t0)

	var done atomic.Bool
	got := make(chan string, 1)
	lines := make(chan LogLine, 100)
	go func() {
		var all []LogLine
		err := ReadLogs(context.Background(), path, LogOptions{Tail: 1, Follow: true, Done: done.Load}, func(l LogLine) error {
			all = append(all, l)
			lines <- l
			return nil
		})
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- texts(all)
	}()
	if l := <-lines; l.Text != "old2" {
		t.Fatalf("first followed line %q", l.Text)
	}
	// Enough output to rotate a few times while the reader polls.
	for i := 0; i < 6; i++ {
		w.write("stderr", []byte(fmt.Sprintf("new%d\n", i)), t0)
		time.Sleep(3 * followInterval / 2)
	}
	w.write("stdout", []byte("tail-no-newline"), t0)
	w.close()
	done.Store(true)
	select {
	case s := <-got:
		want := "std:old2|std:new0|std:new1|std:new2|std:new3|std:new4|std:new5|std:tail-no-newline(P)"
		if s != want {
			t.Errorf("followed:\n %s\nwant\n %s", s, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not stop after Done")
	}
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Errorf("expected a rotation during the test: %v", err)
	}
}

func TestLogFollowCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "never-written.log")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- ReadLogs(ctx, path, LogOptions{Tail: -1, Follow: true}, func(LogLine) error { return nil })
	}()
	time.Sleep(2 * followInterval)
	// The file appearing later is picked up.
	os.WriteFile(path, []byte("2024-05-01T12:00:00Z stdout F late\n"), 0o600)
	time.Sleep(3 * followInterval)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ReadLogs ignored cancellation")
	}
}

func TestParseLogRecord(t *testing.T) {
	for _, bad := range []string{"", "garbage", "2024-05-01T12:00:00Z stdout", "2024-05-01T12:00:00Z stdout X hi", "notatime stdout F x", "2024-05-01T12:00:00Z stdout Fx"} {
		if _, ok := parseLogRecord([]byte(bad)); ok {
			t.Errorf("parsed %q", bad)
		}
	}
	l, ok := parseLogRecord([]byte("2024-05-01T12:00:00.5Z stderr F  two spaces "))
	if !ok || l.Text != " two spaces " || l.Stream != "stderr" || l.Time.Nanosecond() != 5e8 {
		t.Errorf("got %+v %v", l, ok)
	}
	if l, ok := parseLogRecord([]byte("2024-05-01T12:00:00Z stdout F")); !ok || l.Text != "" {
		t.Errorf("empty line without trailing space: %+v %v", l, ok)
	}
}
