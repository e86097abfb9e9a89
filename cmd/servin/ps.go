package main

// ps: list containers. Everything comes from one Runtime.Containers call
// (the database plus each running container's monitor status); ps never
// opens image storage, so it stays fast with hundreds of containers.

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/network"
)

const psDefaultFormat = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

// psHeaders are the column titles that differ from the field names.
var psHeaders = map[string]string{
	"ID":           "CONTAINER ID",
	"CreatedHuman": "CREATED",
}

func psCommand() *cli.Command { return psListCommand("ps") }

// psListCommand builds `ps`; containerCommand reuses it as `container
// list/ls/ps`.
func psListCommand(name string, aliases ...string) *cli.Command {
	return &cli.Command{
		Name:    name,
		Aliases: aliases,
		Usage:   "list containers",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers, not only running ones"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only container IDs"},
			&cli.IntFlag{Name: "last", Aliases: []string{"n"}, Value: -1, Usage: "print the N most recently created containers (all states)"},
			&cli.BoolFlag{Name: "latest", Aliases: []string{"l"}, Usage: "print the most recently created container (all states)"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate IDs and commands"},
			&cli.BoolFlag{Name: "external", Usage: "accepted for podman compatibility: servin's storage holds only servin's own containers"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output (id, name, status, label, exited, ancestor, before, since)"},
			&cli.StringFlag{Name: "format", Usage: "Go template or json"},
			&cli.BoolFlag{Name: "noheading", Usage: "do not print the table header"},
			&cli.StringFlag{Name: "sort", Value: "created", Usage: "sort by command, created, id, image, names, runningfor, status"},
		},
		Action: withRuntime(psAction),
	}
}

func psAction(c *cli.Context, rt *libservin.Runtime) error {
	if c.NArg() > 0 {
		return fmt.Errorf("ps takes no arguments: %w", errdefs.ErrInvalidArgument)
	}
	filters, err := parseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	last := c.Int("last")
	if c.Bool("latest") {
		last = 1
	}
	all := c.Bool("all") || last >= 0 || filters != nil && len(filters["status"]) > 0
	match, err := psFilter(filters)
	if err != nil {
		return err
	}
	ctrs, err := rt.Containers(c.Context)
	if err != nil {
		return err
	}
	now := time.Now()
	var sel []*libservin.Container
	for _, ctr := range ctrs {
		if (all || ctr.Running() && ctr.State.Status != libservin.StatusPaused) && match(ctr, ctrs) {
			sel = append(sel, ctr)
		}
	}
	// -n N keeps the N newest; the listing itself is oldest first.
	sort.SliceStable(sel, func(i, j int) bool { return sel[i].Created.After(sel[j].Created) })
	if last >= 0 && last < len(sel) {
		sel = sel[:last]
	}
	if err := sortContainers(sel, c.String("sort"), now); err != nil {
		return err
	}
	noTrunc := c.Bool("no-trunc")
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	format := c.String("format")
	switch {
	case c.Bool("quiet"):
		for _, ctr := range sel {
			id := ctr.ID
			if !noTrunc {
				id = shortID(id)
			}
			fmt.Fprintln(out, id)
		}
		return nil
	case isJSONFormat(format):
		docs := make([]psJSON, len(sel))
		for i, ctr := range sel {
			docs[i] = newPsJSON(ctr, now)
			docs[i].Ports = rt.PublishedPorts(ctr)
		}
		return writeJSON(out, docs, "  ", true)
	case format == "" || format == "table":
		format = psDefaultFormat
	}
	p, err := newRowPrinter("ps", format, psRow{}, psHeaders)
	if err != nil {
		return err
	}
	rows := make([]any, len(sel))
	for i, ctr := range sel {
		row := newPsRow(ctr, now, noTrunc)
		row.Ports = network.FormatPorts(rt.PublishedPorts(ctr))
		rows[i] = row
	}
	return p.print(out, rows, c.Bool("noheading"))
}

// sortContainers orders the listing as --sort says; "created" is oldest first.
func sortContainers(ctrs []*libservin.Container, by string, now time.Time) error {
	var less func(a, b *libservin.Container) bool
	switch by {
	case "created", "":
		less = func(a, b *libservin.Container) bool { return a.Created.Before(b.Created) }
	case "id":
		less = func(a, b *libservin.Container) bool { return a.ID < b.ID }
	case "image":
		less = func(a, b *libservin.Container) bool { return a.ImageName < b.ImageName }
	case "names":
		less = func(a, b *libservin.Container) bool { return a.Name < b.Name }
	case "command":
		less = func(a, b *libservin.Container) bool {
			return strings.Join(a.Config.Args(), " ") < strings.Join(b.Config.Args(), " ")
		}
	case "status":
		less = func(a, b *libservin.Container) bool { return a.State.Status < b.State.Status }
	case "runningfor":
		less = func(a, b *libservin.Container) bool { return a.Created.After(b.Created) }
	default:
		return fmt.Errorf("invalid option for --sort %q: options are: command, created, id, image, names, runningfor, status: %w", by, errdefs.ErrInvalidArgument)
	}
	sort.SliceStable(ctrs, func(i, j int) bool { return less(ctrs[i], ctrs[j]) })
	return nil
}

// psRow is what --format templates see: podman's field names, values
// already formatted for display.
type psRow struct {
	ID           string
	Image        string
	ImageID      string
	Command      string
	Created      string
	CreatedAt    string
	CreatedHuman string
	RunningFor   string
	Status       string
	State        string
	Names        string
	Labels       psLabels // ps_podman.go
	Ports        string
	Mounts       []string
	Networks     string
	Pid          int
	ExitCode     int
	Exited       bool
	ExitedAt     int64
	StartedAt    int64
	AutoRemove   bool
	Size         string
	Pod          string
	PodName      string
	IsInfra      bool
	Restarts     int
}

func newPsRow(c *libservin.Container, now time.Time, noTrunc bool) psRow {
	cmd := strings.Join(c.Config.Args(), " ")
	id, imageID := c.ID, c.ImageID
	if !noTrunc {
		id, imageID = shortID(id), shortID(imageID)
		if len(cmd) > 17 {
			cmd = cmd[:17] + "..."
		}
	}
	created := c.Created.Local().String()
	status := containerStatus(c, now)
	return psRow{
		ID: id, Image: c.ImageName, ImageID: imageID, Command: cmd,
		Created: created, CreatedAt: created,
		CreatedHuman: humanDuration(now, c.Created), RunningFor: humanDuration(now, c.Created),
		Status: status, State: c.State.Status, Names: c.Name, Labels: c.Config.Labels,
		Mounts: []string{}, Pid: c.State.Pid, ExitCode: c.State.ExitCode,
		Exited: exited(c), ExitedAt: c.State.FinishedAt.Unix(), StartedAt: c.State.StartedAt.Unix(),
		AutoRemove: c.Config.AutoRemove, Restarts: c.State.RestartCount,
	}
}

func exited(c *libservin.Container) bool {
	return c.State.Status == libservin.StatusExited || c.State.Status == "stopped"
}

// containerStatus is the STATUS column: "Up 3 seconds", "Paused",
// "Exited (0) 2 seconds ago", "Created".
func containerStatus(c *libservin.Container, now time.Time) string {
	st := c.State
	switch st.Status {
	case libservin.StatusPaused:
		return "Paused" // as podman's ps says
	case libservin.StatusRunning:
		started := st.StartedAt
		if started.IsZero() {
			started = c.Created
		}
		if c.Health != "" {
			return "Up " + unitsDuration(now.Sub(started)) + " (" + c.Health + ")"
		}
		return "Up " + unitsDuration(now.Sub(started))
	case libservin.StatusExited, "stopped":
		return fmt.Sprintf("Exited (%d) %s", st.ExitCode, humanDuration(now, st.FinishedAt))
	case libservin.StatusCreated, "configured":
		return "Created"
	}
	return titleCase(st.Status)
}

// unitsDuration is humanDuration without " ago".
func unitsDuration(d time.Duration) string {
	return strings.TrimSuffix(humanDuration(time.Time{}.Add(d), time.Time{}), " ago")
}

// psJSON is one element of `ps --format json`, shaped like podman's.
type psJSON struct {
	AutoRemove bool                  `json:"AutoRemove"`
	Command    []string              `json:"Command"`
	CreatedAt  string                `json:"CreatedAt"`
	Exited     bool                  `json:"Exited"`
	ExitedAt   int64                 `json:"ExitedAt"`
	ExitCode   int                   `json:"ExitCode"`
	ID         string                `json:"Id"`
	Image      string                `json:"Image"`
	ImageID    string                `json:"ImageID"`
	IsInfra    bool                  `json:"IsInfra"`
	Labels     map[string]string     `json:"Labels"`
	Mounts     []string              `json:"Mounts"`
	Names      []string              `json:"Names"`
	Namespaces struct{}              `json:"Namespaces"`
	Networks   []string              `json:"Networks"`
	Pid        int                   `json:"Pid"`
	Pod        string                `json:"Pod"`
	PodName    string                `json:"PodName"`
	Ports      []network.PortMapping `json:"Ports"`
	Size       any                   `json:"Size"`
	StartedAt  int64                 `json:"StartedAt"`
	State      string                `json:"State"`
	Status     string                `json:"Status"`
	Created    int64                 `json:"Created"`
	Restarts   int                   `json:"Restarts"`
}

func newPsJSON(c *libservin.Container, now time.Time) psJSON {
	labels := c.Config.Labels
	if len(labels) == 0 {
		labels = nil
	}
	return psJSON{
		AutoRemove: c.Config.AutoRemove, Command: c.Config.Args(),
		CreatedAt: humanDuration(now, c.Created), Exited: exited(c),
		ExitedAt: c.State.FinishedAt.Unix(), ExitCode: c.State.ExitCode,
		ID: c.ID, Image: c.ImageName, ImageID: c.ImageID, Labels: labels,
		Mounts: []string{}, Names: []string{c.Name}, Networks: []string{},
		Pid: c.State.Pid, StartedAt: c.State.StartedAt.Unix(), State: c.State.Status, Restarts: c.State.RestartCount,
		Status: containerStatus(c, now), Created: c.Created.Unix(),
	}
}

// containerStates are the values status= accepts.
var containerStates = map[string]bool{
	"created": true, "running": true, "paused": true, "exited": true, "stopped": true,
	"stopping": true, "configured": true, "removing": true, "unknown": true,
}

// ctrMatcher reports whether a container passes a filter; all lists every
// container (for before= and since=).
type ctrMatcher func(c *libservin.Container, all []*libservin.Container) bool

// psFilter compiles --filter values: values of one key are ORed, keys ANDed.
func psFilter(filters map[string][]string) (ctrMatcher, error) {
	var preds []ctrMatcher
	for key, vals := range filters {
		one := make([]ctrMatcher, 0, len(vals))
		for _, v := range vals {
			m, err := psFilterOne(key, v)
			if err != nil {
				return nil, err
			}
			one = append(one, m)
		}
		preds = append(preds, func(c *libservin.Container, all []*libservin.Container) bool {
			for _, m := range one {
				if m(c, all) {
					return true
				}
			}
			return false
		})
	}
	return func(c *libservin.Container, all []*libservin.Container) bool {
		for _, p := range preds {
			if !p(c, all) {
				return false
			}
		}
		return true
	}, nil
}

func psFilterOne(key, v string) (ctrMatcher, error) {
	switch key {
	case "id":
		return idFilter(v), nil
	case "name":
		// Like podman, a pattern that does not compile matches nothing.
		re, err := regexp.Compile(v)
		// docker's "/name" spelling matches too (podman's "^/name$").
		return func(c *libservin.Container, _ []*libservin.Container) bool {
			return err == nil && (re.MatchString(c.Name) || re.MatchString("/"+c.Name))
		}, nil
	case "status":
		if !containerStates[v] {
			return nil, fmt.Errorf("unknown container state: %s: %w", v, errdefs.ErrInvalidArgument)
		}
		return func(c *libservin.Container, _ []*libservin.Container) bool {
			s := c.State.Status
			return s == v || v == "exited" && s == "stopped" || v == "stopped" && s == libservin.StatusExited ||
				v == "created" && s == "configured"
		}, nil
	case "label":
		return func(c *libservin.Container, _ []*libservin.Container) bool { return matchLabel(c.Config.Labels, v) }, nil
	case "volume":
		// A volume's name, or where a volume or bind mount is mounted.
		return func(c *libservin.Container, _ []*libservin.Container) bool {
			for _, m := range c.Config.Mounts {
				if m.Destination == v || m.Type == libservin.MountTypeVolume && m.Source == v {
					return true
				}
			}
			return false
		}, nil
	case "health":
		switch v {
		case libservin.HealthHealthy, libservin.HealthUnhealthy, libservin.HealthStarting, "none":
		default:
			return nil, fmt.Errorf("%q is not a valid health status: use healthy, unhealthy, starting or none: %w", v, errdefs.ErrInvalidArgument)
		}
		return func(c *libservin.Container, _ []*libservin.Container) bool {
			return c.Health == v || v == "none" && c.Health == ""
		}, nil
	case "exited":
		code, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("exited code out of range %q: %w", v, errdefs.ErrInvalidArgument)
		}
		return func(c *libservin.Container, _ []*libservin.Container) bool {
			return exited(c) && c.State.ExitCode == code
		}, nil
	case "ancestor":
		return func(c *libservin.Container, _ []*libservin.Container) bool { return matchAncestor(c, v) }, nil
	case "before", "since":
		return func(c *libservin.Container, all []*libservin.Container) bool {
			ref := findContainer(all, v)
			if ref == nil {
				return false
			}
			if key == "before" {
				return c.Created.Before(ref.Created)
			}
			return c.Created.After(ref.Created)
		}, nil
	}
	return nil, fmt.Errorf("%s is an invalid filter: %w", key, errdefs.ErrInvalidArgument)
}

// matchAncestor matches the container's image by full or prefix ID, by
// full name, by name without a ":latest" tag, or by the short name
// ("busybox" for "localhost/busybox:latest").
func matchAncestor(c *libservin.Container, v string) bool {
	if v == "" {
		return false
	}
	if strings.HasPrefix(c.ImageID, strings.TrimPrefix(v, "sha256:")) {
		return true
	}
	name := c.ImageName
	for _, cand := range imageNameForms(name) {
		if cand == v {
			return true
		}
	}
	return false
}

// imageNameForms lists the spellings that refer to the image name n:
// itself, without ":latest", and without a "localhost/" or
// "docker.io/library/" prefix.
func imageNameForms(n string) []string {
	forms := []string{n}
	base := strings.TrimSuffix(n, ":latest")
	if base != n {
		forms = append(forms, base)
	}
	for _, p := range []string{"localhost/", "docker.io/library/", "docker.io/"} {
		if s, ok := strings.CutPrefix(n, p); ok {
			forms = append(forms, s)
			if b, ok := strings.CutSuffix(s, ":latest"); ok {
				forms = append(forms, b)
			}
			break
		}
	}
	return forms
}

// findContainer finds a container by name, ID or ID prefix in a listing.
func findContainer(all []*libservin.Container, ref string) *libservin.Container {
	for _, c := range all {
		if c.Name == ref || c.ID == ref {
			return c
		}
	}
	var found *libservin.Container
	for _, c := range all {
		if strings.HasPrefix(c.ID, ref) {
			if found != nil {
				return nil
			}
			found = c
		}
	}
	return found
}
