// Package fastpath answers `servin version` and `servin --version` before
// the rest of the program starts.
//
// Go runs every package's init before main, and servin links image,
// storage, CNI and gRPC code whose inits compile regular expressions and
// register protobuf types: about 15 ms on every invocation. Go initializes
// packages in dependency order, and among those whose imports are ready,
// in import-path order. This package imports only runtime, strconv,
// syscall and time, and its path sorts before fmt and os, so its init runs
// before fmt and os, and so before any package that imports them. When
// the command line asks only for the version, the init prints it and ends
// the process; otherwise it returns and the program starts as usual.
//
// The same Info and Text serve the ordinary `version` command, so both
// paths print the same bytes. For every other command the init also takes
// stock of the file descriptors servin inherited (inherited.go).
package fastpath

import (
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Version, GitCommit and BuildTime (Unix seconds) are set at link time
// with -ldflags "-X github.com/servin/servin/cmd/servin/internal/fastpath.Version=...".
var (
	Version   = "1.0.0-dev"
	GitCommit = ""
	BuildTime = ""
)

// Info describes this binary: `version`'s Client section and `info`'s
// version section.
type Info struct {
	APIVersion string `json:"APIVersion" yaml:"APIVersion"`
	Version    string `json:"Version" yaml:"Version"`
	GoVersion  string `json:"GoVersion" yaml:"GoVersion"`
	GitCommit  string `json:"GitCommit" yaml:"GitCommit"`
	BuiltTime  string `json:"BuiltTime" yaml:"BuiltTime"`
	Built      int64  `json:"Built" yaml:"Built"`
	OsArch     string `json:"OsArch" yaml:"OsArch"`
	Os         string `json:"Os" yaml:"Os"`
}

// Build returns this binary's Info. Without a link-time BuildTime the
// binary's own modification time stands in for it.
func Build() Info {
	v := Info{
		APIVersion: Version, Version: Version, GoVersion: runtime.Version(),
		GitCommit: GitCommit, OsArch: runtime.GOOS + "/" + runtime.GOARCH, Os: runtime.GOOS,
	}
	if t, err := strconv.ParseInt(BuildTime, 10, 64); err == nil {
		v.Built = t
	} else {
		var st syscall.Stat_t
		if syscall.Stat("/proc/self/exe", &st) == nil {
			v.Built = st.Mtim.Sec
		}
	}
	v.BuiltTime = time.Unix(v.Built, 0).Format(time.ANSIC)
	return v
}

// Text is the plain `version` output, in podman's layout: one "Key:" per
// line, values aligned two spaces after the longest key.
func Text(v Info) string {
	rows := [][2]string{
		{"Client:", "Servin Engine"},
		{"Version:", v.Version},
		{"API Version:", v.APIVersion},
		{"Go Version:", v.GoVersion},
		{"Git Commit:", v.GitCommit},
		{"Built:", v.BuiltTime},
		{"OS/Arch:", v.OsArch},
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0])+2)
	}
	var b []byte
	for _, r := range rows {
		if r[0] == "Git Commit:" && r[1] == "" {
			continue
		}
		b = append(b, r[0]...)
		for i := len(r[0]); i < width; i++ {
			b = append(b, ' ')
		}
		b = append(b, r[1]...)
		b = append(b, '\n')
	}
	return string(b)
}

// Answer is what the command line args (args[0] the program) asks of this
// package, or "" when the program must start as usual: `version` with no
// flags of its own, or `--version`/`-v`, after global flags that do not
// change what they print.
func Answer(args []string) string {
	for i := 1; i < len(args); i++ {
		a := args[i]
		last := i == len(args)-1
		switch {
		case a == "version" && last:
			return Text(Build())
		case (a == "--version" || a == "-v") && last:
			return "servin version " + Version + "\n"
		case skipsValue(a):
			i++ // --root DIR
		case len(a) > 2 && a[:2] == "--" && skipsValue(cut(a, '=')):
			// --root=DIR
		default:
			// Anything else (--log-level, --out, -h, another command)
			// is the full program's to handle.
			return ""
		}
	}
	return ""
}

// skipsValue reports whether a is a global flag that takes a value and
// has no effect on what `version` prints.
func skipsValue(a string) bool {
	switch a {
	case "--root", "--runroot", "--storage-driver", "--storage-opt", "--config", "--monitor-path",
		"--volumepath", "--tmpdir", "--events-backend":
		return true
	}
	return false
}

func cut(s string, sep byte) string {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i]
		}
	}
	return s
}

// args reads this process's command line from /proc: os.Args is not set
// up before package os initializes.
func args() []string {
	fd, err := syscall.Open("/proc/self/cmdline", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer syscall.Close(fd)
	var data []byte
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(fd, buf)
		if err != nil {
			return nil
		}
		if n <= 0 {
			break
		}
		data = append(data, buf[:n]...)
	}
	var out []string
	start := 0
	for i, c := range data {
		if c == 0 {
			out = append(out, string(data[start:i]))
			start = i + 1
		}
	}
	return out
}

func init() {
	text := Answer(args())
	if text == "" {
		recordInherited() // inherited.go
		return
	}
	b := []byte(text)
	for written := 0; written < len(b); {
		n, err := syscall.Write(1, b[written:])
		if err != nil && written == 0 {
			return // nothing printed: the full program reports the error
		}
		if err != nil {
			syscall.Exit(125)
		}
		written += n
	}
	syscall.Exit(0)
}
