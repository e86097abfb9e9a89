package libservin

// User and group names in `top`: podman shows the container's names for
// the container's IDs (as its /etc/passwd and /etc/group say), and host
// IDs are translated through the container's user namespace mappings.

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

type topIDs struct {
	users, groups map[int]string
	uidMap        [][3]int64 // container, host, size
	gidMap        [][3]int64
}

func newTopIDs(rootfs string, initPid int) *topIDs {
	t := &topIDs{users: map[int]string{}, groups: map[int]string{}}
	if rootfs != "" {
		readNames(rootfs, "/etc/passwd", t.users)
		readNames(rootfs, "/etc/group", t.groups)
	}
	if initPid > 0 {
		t.uidMap = readIDMap(filepath.Join("/proc", strconv.Itoa(initPid), "uid_map"))
		t.gidMap = readIDMap(filepath.Join("/proc", strconv.Itoa(initPid), "gid_map"))
	}
	return t
}

// readNames reads name:x:id:... lines of a file inside rootfs.
func readNames(rootfs, file string, into map[int]string) {
	p, err := securejoin.SecureJoin(rootfs, file)
	if err != nil {
		return
	}
	f, err := os.Open(p)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), ":")
		if len(fs) < 3 {
			continue
		}
		if id, err := strconv.Atoi(fs[2]); err == nil {
			if _, dup := into[id]; !dup {
				into[id] = fs[0]
			}
		}
	}
}

func readIDMap(path string) [][3]int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out [][3]int64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		var m [3]int64
		for i := range f {
			m[i], _ = strconv.ParseInt(f[i], 10, 64)
		}
		out = append(out, m)
	}
	return out
}

// toContainer maps a host ID into the container's user namespace; -1 when
// it is not mapped there.
func toContainer(m [][3]int64, host int64) int64 {
	if len(m) == 0 {
		return host
	}
	for _, e := range m {
		if host >= e[1] && host < e[1]+e[2] {
			return e[0] + host - e[1]
		}
	}
	return -1
}

// name turns a host uid/gid column value into the container's name for it.
func (t *topIDs) name(descriptor, value string) string {
	var names map[int]string
	var m [][3]int64
	switch descriptor {
	case "user", "ruser":
		names, m = t.users, t.uidMap
	case "group", "rgroup":
		names, m = t.groups, t.gidMap
	default:
		return value
	}
	host, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return value
	}
	id := toContainer(m, host)
	if id < 0 {
		return "nobody"
	}
	if n, ok := names[int(id)]; ok {
		return n
	}
	return strconv.FormatInt(id, 10)
}
