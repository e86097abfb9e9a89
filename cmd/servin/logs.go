package main

// logs: print a container's stored output, stdout lines to stdout and
// stderr lines to stderr.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "fetch the logs of one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow log output"},
			&cli.StringFlag{Name: "since", Usage: "show logs since TIMESTAMP (RFC 3339, Unix time or duration)"},
			&cli.StringFlag{Name: "until", Usage: "show logs until TIMESTAMP (RFC 3339, Unix time or duration)"},
			&cli.IntFlag{Name: "tail", Value: -1, Usage: "output the last N lines (-1: all)"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "prefix each line with its time"},
			&cli.BoolFlag{Name: "names", Aliases: []string{"n"}, Usage: "prefix lines with the container name instead of its ID"},
			&cli.BoolFlag{Name: "latest", Aliases: []string{"l"}, Usage: "act on the most recently created container"},
		},
		Action: withRuntime(logsAction),
	}
}

func logsAction(c *cli.Context, rt *libservin.Runtime) error {
	names, err := latestOrArgs(c, rt) // ctrflags.go
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return requireArgs(c, 1, "logs CONTAINER [CONTAINER...]")
	}
	since, until, err := timeFlags(c.String("since"), c.String("until"), time.Now())
	if err != nil {
		return err
	}
	tail := c.Int("tail")
	if tail < 0 {
		tail = -1
	}
	opts := libservin.LogOptions{Since: since, Until: until, Tail: tail, Follow: c.Bool("follow")}
	// Resolve every name first so a typo fails before any output, and so
	// multi-container output can be prefixed with IDs.
	ctrs := make([]*libservin.Container, 0, len(names))
	for _, n := range names {
		ctr, err := rt.Container(c.Context, n)
		if err != nil {
			return err
		}
		ctrs = append(ctrs, ctr)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := newLogWriter(os.Stdout, os.Stderr, opts.Follow)
	defer w.flush()
	lw := logLineWriter{w: w, timestamps: c.Bool("timestamps")}
	multi := len(ctrs) > 1
	prefix := func(ctr *libservin.Container) string {
		if !multi {
			return ""
		}
		if c.Bool("names") {
			return ctr.Name + " "
		}
		return shortID(ctr.ID) + " "
	}
	if !opts.Follow || !multi {
		for _, ctr := range ctrs {
			p := prefix(ctr)
			err := rt.Logs(ctx, ctr.ID, opts, func(l libservin.LogLine) error { return lw.write(p, l) })
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
		}
		return nil
	}
	// Following several containers: one reader each, output interleaved
	// line by line.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs = make([]error, len(ctrs))
	)
	for i, ctr := range ctrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := prefix(ctr)
			errs[i] = rt.Logs(ctx, ctr.ID, opts, func(l libservin.LogLine) error {
				mu.Lock()
				defer mu.Unlock()
				return lw.write(p, l)
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return nil
}

// logLineWriter renders log lines as podman does: an output that ended
// without a newline is printed without one.
type logLineWriter struct {
	w          *logWriter
	timestamps bool
}

func (lw logLineWriter) write(prefix string, l libservin.LogLine) error {
	var b []byte
	b = append(b, prefix...)
	if lw.timestamps {
		b = l.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, ' ')
	}
	b = append(b, l.Text...)
	if !l.Partial {
		b = append(b, '\n')
	}
	return lw.w.write(l.Stream, b)
}

// logWriter buffers stdout and stderr but keeps their relative order: a
// change of stream flushes the other one first. When following, every
// line is flushed at once.
type logWriter struct {
	out, err  *bufio.Writer
	last      *bufio.Writer
	flushEach bool
}

func newLogWriter(stdout, stderr io.Writer, flushEach bool) *logWriter {
	return &logWriter{out: bufio.NewWriter(stdout), err: bufio.NewWriter(stderr), flushEach: flushEach}
}

func (w *logWriter) write(stream string, b []byte) error {
	dst := w.out
	if stream == "stderr" {
		dst = w.err
	}
	if w.last != nil && w.last != dst {
		if err := w.last.Flush(); err != nil {
			return err
		}
	}
	w.last = dst
	if _, err := dst.Write(b); err != nil {
		return err
	}
	if w.flushEach {
		return dst.Flush()
	}
	return nil
}

func (w *logWriter) flush() {
	w.out.Flush()
	w.err.Flush()
}

// latestContainer is the most recently created container (--latest).
func latestContainer(ctx context.Context, rt *libservin.Runtime) (string, error) {
	ctrs, err := rt.Containers(ctx)
	if err != nil {
		return "", err
	}
	var latest *libservin.Container
	for _, c := range ctrs {
		if latest == nil || c.Created.After(latest.Created) {
			latest = c
		}
	}
	if latest == nil {
		return "", fmt.Errorf("no containers to act on: %w", errdefs.ErrNotFound)
	}
	return latest.ID, nil
}
