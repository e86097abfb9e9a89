package libservin

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/oci"
)

// DefaultTopDescriptors are podman top's default columns.
var DefaultTopDescriptors = []string{"user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"}

var topHeaders = map[string]string{
	"user": "USER", "ruser": "RUSER", "group": "GROUP", "rgroup": "RGROUP",
	"pid": "PID", "ppid": "PPID", "pgid": "PGID", "pcpu": "%CPU", "etime": "ELAPSED",
	"tty": "TTY", "time": "TIME", "args": "COMMAND", "comm": "COMMAND", "nice": "NI",
	"vsz": "VSZ", "rss": "RSS", "state": "STATE", "huser": "HUSER", "hpid": "HPID",
}

// aixDescriptors maps ps's AIX format codes to descriptor names.
var aixDescriptors = map[string]string{
	"%C": "pcpu", "%G": "group", "%P": "ppid", "%U": "user", "%a": "args", "%c": "comm",
	"%g": "rgroup", "%n": "nice", "%p": "pid", "%r": "pgid", "%t": "etime", "%u": "ruser",
	"%x": "time", "%y": "tty", "%z": "vsz",
}

// Top lists the container's processes with the given ps descriptors.
func (r *Runtime) Top(ctx context.Context, nameOrID string, descriptors []string) ([][]string, error) {
	c, err := r.Container(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	if !c.Running() {
		return nil, fmt.Errorf("top can only be used on running containers: %s is %s: %w", c.Name, c.State.Status, errdefs.ErrFailedPrecondition)
	}
	if len(descriptors) == 0 {
		descriptors = DefaultTopDescriptors
	}
	var descs []string
	for _, d := range descriptors {
		for _, f := range strings.FieldsFunc(d, func(r rune) bool { return r == ',' || r == ' ' }) {
			if a, ok := aixDescriptors[f]; ok {
				f = a
			}
			if f == "-ef" || f == "-e" || f == "-f" {
				continue
			}
			if _, ok := topHeaders[f]; !ok {
				return nil, fmt.Errorf("unknown descriptor: %s: %w", f, errdefs.ErrInvalidArgument)
			}
			descs = append(descs, f)
		}
	}
	if len(descs) == 0 {
		descs = DefaultTopDescriptors
	}
	pids, err := oci.Processes(r.runcRoot(), c.ID)
	if err != nil {
		return nil, err
	}
	header := make([]string, len(descs))
	for i, d := range descs {
		header[i] = topHeaders[d]
	}
	rows := [][]string{header}
	bootTime := bootTime()
	ids := newTopIDs(c.State.Mountpoint, c.State.Pid) // top_ids.go
	for _, pid := range pids {
		p, err := readProc(pid)
		if err != nil {
			continue
		}
		row := make([]string, len(descs))
		for i, d := range descs {
			row[i] = ids.name(d, p.field(d, bootTime, c.State.Pid))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

type procInfo struct {
	pid, ppid, pgid, nice int
	uid, gid              int
	ruid, rgid            int
	state                 string
	comm, args            string
	utime, stime, start   uint64
	vsz, rss              uint64
	ttyNr                 int
	nsPid                 int
}

const clkTck = 100

func readProc(pid int) (*procInfo, error) {
	base := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(base + "/stat")
	if err != nil {
		return nil, err
	}
	s := string(stat)
	l, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if l < 0 || rp < 0 {
		return nil, fmt.Errorf("bad stat")
	}
	p := &procInfo{pid: pid, comm: s[l+1 : rp]}
	f := strings.Fields(s[rp+2:])
	atoi := func(i int) int { n, _ := strconv.Atoi(f[i]); return n }
	atou := func(i int) uint64 { n, _ := strconv.ParseUint(f[i], 10, 64); return n }
	p.state = f[0]
	p.ppid, p.pgid, p.ttyNr = atoi(1), atoi(2), atoi(4)
	p.utime, p.stime = atou(11), atou(12)
	p.nice = atoi(16)
	p.start = atou(19)
	p.vsz = atou(20) / 1024
	p.rss = atou(21) * uint64(os.Getpagesize()) / 1024
	if st, err := os.ReadFile(base + "/status"); err == nil {
		for _, line := range strings.Split(string(st), "\n") {
			k, v, _ := strings.Cut(line, ":")
			fs := strings.Fields(v)
			switch k {
			case "Uid":
				if len(fs) > 1 {
					p.ruid, _ = strconv.Atoi(fs[0])
					p.uid, _ = strconv.Atoi(fs[1])
				}
			case "Gid":
				if len(fs) > 1 {
					p.rgid, _ = strconv.Atoi(fs[0])
					p.gid, _ = strconv.Atoi(fs[1])
				}
			case "NSpid":
				if len(fs) > 0 {
					p.nsPid, _ = strconv.Atoi(fs[len(fs)-1])
				}
			case "PPid":
			}
		}
	}
	if cmd, err := os.ReadFile(base + "/cmdline"); err == nil && len(cmd) > 0 {
		p.args = strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))
	} else {
		p.args = "[" + p.comm + "]"
	}
	return p, nil
}

func bootTime() time.Time {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Now()
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "btime ") {
			n, _ := strconv.ParseInt(strings.TrimSpace(line[6:]), 10, 64)
			return time.Unix(n, 0)
		}
	}
	return time.Now()
}

func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}

func groupName(gid int) string {
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		return g.Name
	}
	return strconv.Itoa(gid)
}

func (p *procInfo) field(d string, boot time.Time, initPid int) string {
	started := boot.Add(time.Duration(p.start) * time.Second / clkTck)
	elapsed := time.Since(started)
	cpu := time.Duration(p.utime+p.stime) * time.Second / clkTck
	switch d {
	case "user", "ruser":
		// Inside the container numeric IDs are what /etc/passwd there maps;
		// without a user namespace they equal the host's.
		if d == "user" {
			return strconv.Itoa(p.uid)
		}
		return strconv.Itoa(p.ruid)
	case "huser":
		return userName(p.uid)
	case "group":
		return strconv.Itoa(p.gid)
	case "rgroup":
		return strconv.Itoa(p.rgid)
	case "pid":
		if p.nsPid > 0 {
			return strconv.Itoa(p.nsPid)
		}
		return strconv.Itoa(p.pid)
	case "hpid":
		return strconv.Itoa(p.pid)
	case "ppid":
		if p.pid == initPid {
			return "0"
		}
		if pp, err := readProc(p.ppid); err == nil && pp.nsPid > 0 {
			return strconv.Itoa(pp.nsPid)
		}
		return strconv.Itoa(p.ppid)
	case "pgid":
		return strconv.Itoa(p.pgid)
	case "pcpu":
		if elapsed <= 0 {
			return "0.000"
		}
		return fmt.Sprintf("%.3f", 100*cpu.Seconds()/elapsed.Seconds())
	case "etime":
		return elapsed.Round(time.Millisecond).String()
	case "time":
		return cpu.String()
	case "tty":
		if p.ttyNr == 0 {
			return "?"
		}
		return fmt.Sprintf("pts/%d", p.ttyNr&0xff|(p.ttyNr>>12)&0xfff00)
	case "args":
		return p.args
	case "comm":
		return p.comm
	case "nice":
		return strconv.Itoa(p.nice)
	case "vsz":
		return strconv.FormatUint(p.vsz, 10)
	case "rss":
		return strconv.FormatUint(p.rss, 10)
	case "state":
		return p.state
	}
	return ""
}
