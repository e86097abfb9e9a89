package state

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

const (
	workers   = 16
	procs     = 8
	opsPerRun = 50
)

// workload does what one servin process does to the database, n times:
// create a container, log events, update it, look it up, list, remove.
// Every error counts; the point is that there are none.
func workload(ctx context.Context, d *DB, tag string, n int) error {
	for i := 0; i < n; i++ {
		id := randomID()
		name := fmt.Sprintf("%s-%d", tag, i)
		c := newContainer(id, name)
		if err := d.AddContainer(ctx, c); err != nil {
			return fmt.Errorf("add %s: %w", name, err)
		}
		if err := d.AddEvent(ctx, Event{Type: EventContainer, Action: "create", ActorID: id, Name: name}); err != nil {
			return fmt.Errorf("event: %w", err)
		}
		st := ContainerState{Status: StatusRunning, Pid: 100 + i, StartedAt: time.Now()}
		if err := d.SaveState(ctx, id, st); err != nil {
			return fmt.Errorf("save %s: %w", name, err)
		}
		if err := d.UpdateConfig(ctx, id, json.RawMessage(`{"i":`+strconv.Itoa(i)+`}`)); err != nil {
			return fmt.Errorf("config %s: %w", name, err)
		}
		got, err := d.GetContainer(ctx, name)
		if err != nil {
			return fmt.Errorf("get %s: %w", name, err)
		}
		if got.State.Pid != 100+i {
			return fmt.Errorf("get %s: pid %d", name, got.State.Pid)
		}
		if _, err := d.ListContainers(ctx); err != nil {
			return fmt.Errorf("list: %w", err)
		}
		if i%2 == 0 {
			if err := d.RenameContainer(ctx, id, name+"-r"); err != nil {
				return fmt.Errorf("rename %s: %w", name, err)
			}
			if err := d.RemoveContainer(ctx, id); err != nil {
				return fmt.Errorf("remove %s: %w", name, err)
			}
		}
		if _, err := d.ListEvents(ctx, EventFilter{AfterID: int64(i)}); err != nil {
			return fmt.Errorf("events: %w", err)
		}
	}
	return nil
}

// TestConcurrentHandles: 16 goroutines, each with its own *DB opened at the
// same moment on a brand new file, as 16 servin processes would.
func TestConcurrentHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "servin.db")
	ctx := context.Background()
	start := make(chan struct{})
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			d, err := Open(path)
			if err != nil {
				errs <- fmt.Errorf("open: %w", err)
				return
			}
			defer d.Close()
			if err := workload(ctx, d, fmt.Sprintf("w%d", w), opsPerRun); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkSurvivors(t, path, workers)
}

// checkSurvivors verifies that the odd-numbered containers of each of n
// workers are there, and nothing else.
func checkSurvivors(t *testing.T, path string, n int) {
	t.Helper()
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	l, err := d.ListContainers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := n * opsPerRun / 2; len(l) != want {
		t.Errorf("%d containers left, want %d", len(l), want)
	}
	ev, err := d.ListEvents(context.Background(), EventFilter{Actions: []string{"create"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := n * opsPerRun; len(ev) != want {
		t.Errorf("%d create events, want %d", len(ev), want)
	}
}

const childEnv = "SERVIN_STATE_TEST_CHILD"

// TestMultiProcess runs the workload in 8 real processes (this test binary
// re-executed) sharing one new database file.
func TestMultiProcess(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		runChild(t, path)
		return
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	procs := procs
	if n, err := strconv.Atoi(os.Getenv("SERVIN_STATE_TEST_PROCS")); err == nil {
		procs = n // for stress runs: SERVIN_STATE_TEST_PROCS=50
	}
	path := filepath.Join(t.TempDir(), "servin.db")
	cmds := make([]*exec.Cmd, procs)
	outs := make([][]byte, procs)
	var wg sync.WaitGroup
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMultiProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+path, "SERVIN_STATE_TEST_TAG=p"+strconv.Itoa(i))
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := cmd.CombinedOutput()
			if err != nil {
				outs[i] = append(out, []byte(err.Error())...)
			}
		}()
	}
	wg.Wait()
	for i, out := range outs {
		if out != nil {
			t.Errorf("process %d failed:\n%s", i, out)
		}
	}
	checkSurvivors(t, path, procs)
}

func runChild(t *testing.T, path string) {
	d, err := Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer d.Close()
	if err := workload(context.Background(), d, os.Getenv("SERVIN_STATE_TEST_TAG"), opsPerRun); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkListContainers500(b *testing.B) {
	d := openTemp(b)
	ctx := context.Background()
	for i := 0; i < 500; i++ {
		c := newContainer(randomID(), fmt.Sprintf("c%d", i))
		c.Config = json.RawMessage(`{"cmd":["sh","-c","sleep 1000"],"env":["PATH=/usr/bin:/bin","TERM=xterm"],"labels":{"a":"b"}}`)
		c.State = ContainerState{Status: StatusExited, Pid: 0, StartedAt: time.Now(), FinishedAt: time.Now(), ExitCode: 1}
		if err := d.AddContainer(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		l, err := d.ListContainers(ctx)
		if err != nil || len(l) != 500 {
			b.Fatal(len(l), err)
		}
	}
}

func BenchmarkOpenExisting(b *testing.B) {
	path := filepath.Join(b.TempDir(), "servin.db")
	d, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close() // keep the WAL around, as other processes would
	for b.Loop() {
		d2, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		d2.Close()
	}
}
