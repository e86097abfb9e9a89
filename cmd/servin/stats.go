package main

// stats: live resource usage of containers, in podman's columns.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

// statsRow is one line of `stats`; its fields are the --format names.
type statsRow struct {
	ID            string
	ContainerID   string
	Name          string
	CPUPerc       string
	MemUsage      string
	MemUsageBytes string
	MemPerc       string
	NetIO         string
	BlockIO       string
	PIDS          string
	CPU           string
	AVGCPU        string
	UpTime        string
}

// statsJSON is podman's --format json document for one container.
type statsJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	CPUTime    string `json:"cpu_time"`
	CPUPercent string `json:"cpu_percent"`
	AvgCPU     string `json:"avg_cpu"`
	MemUsage   string `json:"mem_usage"`
	MemPercent string `json:"mem_percent"`
	NetIO      string `json:"net_io"`
	BlockIO    string `json:"block_io"`
	PIDs       string `json:"pids"`
}

const statsDefaultFormat = "table {{.ID}} {{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.MemPerc}} {{.NetIO}} {{.BlockIO}} {{.PIDS}} {{.CPU}} {{.AVGCPU}}"

var statsHeaders = map[string]string{
	"ID": "ID", "ContainerID": "ID", "Name": "NAME", "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT",
	"MemUsageBytes": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET IO", "BlockIO": "BLOCK IO",
	"PIDS": "PIDS", "CPU": "CPU TIME", "AVGCPU": "AVG CPU %", "UpTime": "UP TIME",
}

func statsCommand() *cli.Command {
	return &cli.Command{
		Name:      "stats",
		Usage:     "display a live stream of container resource usage",
		ArgsUsage: "[CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers (only running ones have usage)"},
			&cli.BoolFlag{Name: "no-stream", Usage: "print one sample and exit"},
			&cli.BoolFlag{Name: "no-reset", Usage: "do not clear the screen between samples"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate IDs"},
			&cli.StringFlag{Name: "format", Usage: "Go template or json"},
			&cli.IntFlag{Name: "interval", Aliases: []string{"i"}, Value: 5, Usage: "seconds between samples"},
			latestFlag(), // ctrflags.go
		},
		Action: withRuntime(statsAction),
	}
}

func statsAction(c *cli.Context, rt *libservin.Runtime) error {
	if c.Int("interval") < 1 {
		return fmt.Errorf("invalid --interval %d: it must be at least 1: %w", c.Int("interval"), errdefs.ErrInvalidArgument)
	}
	format := c.String("format")
	jsonOut := isJSONFormat(format)
	if format == "" || format == "table" {
		format = statsDefaultFormat
	}
	var printer *rowPrinter
	if !jsonOut {
		var err error
		if printer, err = newRowPrinter("stats", format, statsRow{}, statsHeaders); err != nil {
			return err
		}
	}
	names, err := latestOrArgs(c, rt) // ctrflags.go
	if err != nil {
		return err
	}
	// Named containers must exist; a stopped one is an error as in podman.
	for _, n := range names {
		if _, err := rt.Container(c.Context, n); err != nil {
			return err
		}
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(stop)
	prev := map[string]*libservin.ContainerStats{}
	for {
		samples, err := sampleStats(c, rt, names)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := printStats(&buf, samples, prev, printer, jsonOut, c.Bool("no-trunc")); err != nil {
			return err
		}
		out := bufio.NewWriter(os.Stdout)
		if !c.Bool("no-stream") && !c.Bool("no-reset") && !jsonOut {
			out.WriteString("\033[2J\033[H")
		}
		out.Write(buf.Bytes())
		out.Flush()
		if c.Bool("no-stream") {
			return nil
		}
		for _, s := range samples {
			if s != nil {
				prev[s.ID] = s
			}
		}
		select {
		case <-stop:
			return nil
		case <-c.Context.Done():
			return nil
		case <-time.After(time.Duration(c.Int("interval")) * time.Second):
		}
	}
}

// sampleStats samples the named containers, or all running ones (all
// containers with --all; stopped ones get a nil sample).
func sampleStats(c *cli.Context, rt *libservin.Runtime, names []string) ([]*libservin.ContainerStats, error) {
	type ref struct{ id, name string }
	var refs []ref
	if len(names) > 0 {
		for _, n := range names {
			refs = append(refs, ref{id: n})
		}
	} else {
		ctrs, err := rt.Containers(c.Context)
		if err != nil {
			return nil, err
		}
		for i := len(ctrs) - 1; i >= 0; i-- {
			ctr := ctrs[i]
			if ctr.Running() || c.Bool("all") {
				refs = append(refs, ref{id: ctr.ID, name: ctr.Name})
			}
		}
	}
	var out []*libservin.ContainerStats
	for _, r := range refs {
		s, err := rt.Stats(c.Context, r.id)
		switch {
		case err == nil:
			out = append(out, s)
		case errors.Is(err, errdefs.ErrFailedPrecondition) && len(names) == 0:
			out = append(out, &libservin.ContainerStats{ID: r.id, Name: r.name})
		case errors.Is(err, errdefs.ErrNotFound) && len(names) == 0:
			// removed meanwhile
		default:
			return nil, err
		}
	}
	return out, nil
}

func printStats(w io.Writer, samples []*libservin.ContainerStats, prev map[string]*libservin.ContainerStats, p *rowPrinter, jsonOut, noTrunc bool) error {
	if jsonOut {
		docs := []statsJSON{}
		for _, s := range samples {
			r := newStatsRow(s, prev[s.ID], noTrunc)
			docs = append(docs, statsJSON{
				ID: r.ID, Name: r.Name, CPUTime: r.CPU, CPUPercent: r.CPUPerc, AvgCPU: r.AVGCPU,
				MemUsage: r.MemUsage, MemPercent: r.MemPerc, NetIO: r.NetIO, BlockIO: r.BlockIO, PIDs: r.PIDS,
			})
		}
		return writeJSON(w, docs, "  ", false)
	}
	rows := make([]any, 0, len(samples))
	for _, s := range samples {
		rows = append(rows, newStatsRow(s, prev[s.ID], noTrunc))
	}
	return p.print(w, rows, false)
}

func newStatsRow(s, prev *libservin.ContainerStats, noTrunc bool) statsRow {
	id := s.ID
	if !noTrunc {
		id = shortID(id)
	}
	r := statsRow{ID: id, ContainerID: id, Name: s.Name}
	if s.Time.IsZero() {
		// Not running: podman shows dashes.
		r.CPUPerc, r.MemUsage, r.MemUsageBytes, r.MemPerc = "--", "-- / --", "-- / --", "--"
		r.NetIO, r.BlockIO, r.PIDS, r.CPU, r.AVGCPU, r.UpTime = "-- / --", "-- / --", "--", "--", "--", "--"
		return r
	}
	r.CPUPerc = fmt.Sprintf("%.2f%%", s.CPUPercent(prev))
	r.AVGCPU = fmt.Sprintf("%.2f%%", s.AvgCPU())
	r.MemUsage = units.HumanSizeWithPrecision(float64(s.MemUsage), 4) + " / " + units.HumanSizeWithPrecision(float64(s.MemLimit), 4)
	r.MemUsageBytes = units.BytesSize(float64(s.MemUsage)) + " / " + units.BytesSize(float64(s.MemLimit))
	r.MemPerc = fmt.Sprintf("%.2f%%", s.MemPercent())
	r.NetIO = "-- / --"
	if s.NetMeasured {
		r.NetIO = units.HumanSizeWithPrecision(float64(s.NetInput), 4) + " / " + units.HumanSizeWithPrecision(float64(s.NetOutput), 4)
	}
	r.BlockIO = units.HumanSizeWithPrecision(float64(s.BlockInput), 4) + " / " + units.HumanSizeWithPrecision(float64(s.BlockOutput), 4)
	r.PIDS = fmt.Sprint(s.PIDs)
	r.CPU = (time.Duration(s.CPUNanos) / time.Microsecond * time.Microsecond).String()
	r.UpTime = (s.Up / time.Millisecond * time.Millisecond).String()
	return r
}
