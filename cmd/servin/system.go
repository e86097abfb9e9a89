package main

// info, version and the system command group.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer/apparmor"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/selinux/go-selinux"
	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"

	"github.com/servin/servin/cmd/servin/internal/fastpath"
	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/oci"
)

// versionInfo is the Client (and info's version) section.
type versionInfo = fastpath.Info

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "show the servin version",
		Flags: []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Go template or json"}},
		// No runtime: version must work (and be quick) without any state.
		Action: func(c *cli.Context) error {
			doc := struct {
				Client versionInfo `json:"Client"`
			}{fastpath.Build()}
			return printVersion(os.Stdout, c.String("format"), doc)
		},
	}
}

func printVersion(w io.Writer, format string, doc struct {
	Client versionInfo `json:"Client"`
}) error {
	switch {
	case isJSONFormat(format):
		return writeJSON(w, doc, "", false)
	case format != "":
		text, _ := normalizeFormat(format)
		t, err := parseTemplate("version", text)
		if err != nil {
			return err
		}
		return t.Execute(w, doc)
	}
	_, err := io.WriteString(w, fastpath.Text(doc.Client))
	return err
}

// systemInfo is what `info` prints, in podman's layout.
type systemInfo struct {
	Host       hostInfo            `json:"host" yaml:"host"`
	Plugins    pluginsInfo         `json:"plugins" yaml:"plugins"`
	Registries map[string][]string `json:"registries" yaml:"registries"`
	Store      storeInfo           `json:"store" yaml:"store"`
	Version    versionInfo         `json:"version" yaml:"version"`
}

type hostInfo struct {
	Arch              string           `json:"arch" yaml:"arch"`
	CgroupManager     string           `json:"cgroupManager" yaml:"cgroupManager"`
	CgroupsVersion    string           `json:"cgroupVersion" yaml:"cgroupVersion"` // podman's template name
	CgroupControllers []string         `json:"cgroupControllers" yaml:"cgroupControllers"`
	Conmon            componentInfo    `json:"conmon" yaml:"conmon"`
	CPUs              int              `json:"cpus" yaml:"cpus"`
	Distribution      distributionInfo `json:"distribution" yaml:"distribution"`
	EventLogger       string           `json:"eventLogger" yaml:"eventLogger"`
	Hostname          string           `json:"hostname" yaml:"hostname"`
	Kernel            string           `json:"kernel" yaml:"kernel"`
	LogDriver         string           `json:"logDriver" yaml:"logDriver"`
	MemFree           int64            `json:"memFree" yaml:"memFree"`
	MemTotal          int64            `json:"memTotal" yaml:"memTotal"`
	OCIRuntime        componentInfo    `json:"ociRuntime" yaml:"ociRuntime"`
	OS                string           `json:"os" yaml:"os"`
	Security          securityInfo     `json:"security" yaml:"security"`
	ServiceIsRemote   bool             `json:"serviceIsRemote" yaml:"serviceIsRemote"`
	SwapFree          int64            `json:"swapFree" yaml:"swapFree"`
	SwapTotal         int64            `json:"swapTotal" yaml:"swapTotal"`
	Uptime            string           `json:"uptime" yaml:"uptime"`
	NetworkBackend    string           `json:"networkBackend" yaml:"networkBackend"`
	DatabaseBackend   string           `json:"databaseBackend" yaml:"databaseBackend"`

	hostFeaturesInfo `yaml:",inline"` // info_security.go
}

type componentInfo struct {
	Name    string `json:"name,omitempty" yaml:"name,omitempty"`
	Package string `json:"package" yaml:"package"`
	Path    string `json:"path" yaml:"path"`
	Version string `json:"version" yaml:"version"`
}

type distributionInfo struct {
	Distribution string `json:"distribution" yaml:"distribution"`
	Version      string `json:"version" yaml:"version"`
	Codename     string `json:"codename,omitempty" yaml:"codename,omitempty"`
}

type securityInfo struct {
	AppArmorEnabled     bool   `json:"apparmorEnabled" yaml:"apparmorEnabled"`
	DefaultCapabilities string `json:"capabilities" yaml:"capabilities"`
	Rootless            bool   `json:"rootless" yaml:"rootless"`
	SeccompEnabled      bool   `json:"seccompEnabled" yaml:"seccompEnabled"`
	SeccompProfilePath  string `json:"seccompProfilePath" yaml:"seccompProfilePath"`
	SELinuxEnabled      bool   `json:"selinuxEnabled" yaml:"selinuxEnabled"`
	UserNamespaces      bool   `json:"userNamespaces" yaml:"userNamespaces"`
}

type pluginsInfo struct {
	Log     []string `json:"log" yaml:"log"`
	Network []string `json:"network" yaml:"network"`
}

type storeInfo struct {
	ConfigFile         string            `json:"configFile" yaml:"configFile"`
	ContainerStore     containerCounts   `json:"containerStore" yaml:"containerStore"`
	GraphDriverName    string            `json:"graphDriverName" yaml:"graphDriverName"`
	GraphOptions       map[string]string `json:"graphOptions" yaml:"graphOptions"`
	GraphRoot          string            `json:"graphRoot" yaml:"graphRoot"`
	GraphRootAllocated uint64            `json:"graphRootAllocated" yaml:"graphRootAllocated"`
	GraphRootUsed      uint64            `json:"graphRootUsed" yaml:"graphRootUsed"`
	GraphStatus        map[string]string `json:"graphStatus" yaml:"graphStatus"`
	ImageCopyTmpDir    string            `json:"imageCopyTmpDir" yaml:"imageCopyTmpDir"`
	ImageStore         imageCount        `json:"imageStore" yaml:"imageStore"`
	RunRoot            string            `json:"runRoot" yaml:"runRoot"`
	VolumePath         string            `json:"volumePath" yaml:"volumePath"`
}

type containerCounts struct {
	Number  int `json:"number" yaml:"number"`
	Paused  int `json:"paused" yaml:"paused"`
	Running int `json:"running" yaml:"running"`
	Stopped int `json:"stopped" yaml:"stopped"`
}

type imageCount struct {
	Number int `json:"number" yaml:"number"`
}

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:  "info",
		Usage: "display system information",
		Flags: []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Go template or json"}},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			info, err := gatherInfo(c, rt)
			if err != nil {
				return err
			}
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			return printInfo(out, c.String("format"), info)
		}),
	}
}

func printInfo(w io.Writer, format string, info *systemInfo) error {
	switch {
	case isJSONFormat(format):
		return writeJSON(w, info, "  ", false)
	case format != "":
		text, _ := normalizeFormat(format)
		t, err := parseTemplate("info", text)
		if err != nil {
			return err
		}
		return t.Execute(w, info)
	}
	// Podman prints the JSON document as YAML, so keys come out sorted.
	doc, err := jsonToYAMLValue(info)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// jsonToYAMLValue turns v into maps, slices and scalars through its JSON
// form, keeping integers integers.
func jsonToYAMLValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return convertNumbers(doc), nil
}

func convertNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = convertNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = convertNumbers(e)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return u
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

func gatherInfo(c *cli.Context, rt *libservin.Runtime) (*systemInfo, error) {
	opts := rt.Options()
	info := &systemInfo{
		Host:    gatherHost(opts),
		Plugins: pluginsInfo{Log: []string{"k8s-file", "none"}, Network: []string{"bridge", "macvlan", "ipvlan", "host", "none"}},
		Version: fastpath.Build(),
	}
	search, err := rt.SearchRegistries()
	if err != nil {
		return nil, err
	}
	info.Registries = map[string][]string{"search": search}
	ctrs, err := rt.Containers(c.Context)
	if err != nil {
		return nil, err
	}
	cs := &info.Store.ContainerStore
	for _, ctr := range ctrs {
		cs.Number++
		switch ctr.State.Status {
		case libservin.StatusRunning, libservin.StatusStopping:
			cs.Running++
		case libservin.StatusPaused:
			cs.Paused++
		default:
			cs.Stopped++
		}
	}
	st := &info.Store
	st.ConfigFile = c.String("config")
	st.VolumePath = firstSet(opts.VolumePath, filepath.Join(opts.Root, "volumes"))
	st.GraphOptions = map[string]string{}
	st.GraphStatus = map[string]string{}
	store, err := rt.Store()
	if err != nil {
		return nil, err
	}
	s := store.Storage()
	st.GraphRoot, st.RunRoot, st.GraphDriverName = s.GraphRoot(), s.RunRoot(), s.GraphDriverName()
	st.ImageCopyTmpDir = firstSet(opts.TmpDir, filepath.Join(st.GraphRoot, "tmp"))
	for _, o := range s.GraphOptions() {
		k, v, _ := strings.Cut(o, "=")
		st.GraphOptions[k] = v
	}
	if drv, err := s.GraphDriver(); err == nil {
		for _, kv := range drv.Status() {
			st.GraphStatus[kv[0]] = kv[1]
		}
	}
	var fs unix.Statfs_t
	if unix.Statfs(st.GraphRoot, &fs) == nil {
		st.GraphRootAllocated = fs.Blocks * uint64(fs.Bsize)
		st.GraphRootUsed = (fs.Blocks - fs.Bfree) * uint64(fs.Bsize)
	}
	imgs, err := rt.Images(c.Context)
	if err != nil {
		return nil, err
	}
	st.ImageStore.Number = len(imgs)
	return info, nil
}

func gatherHost(opts libservin.Options) hostInfo {
	h := hostInfo{
		Arch: runtime.GOARCH, OS: runtime.GOOS, CPUs: runtime.NumCPU(),
		CgroupManager: "cgroupfs", EventLogger: "database", LogDriver: "k8s-file",
		NetworkBackend: "cni", DatabaseBackend: "sqlite",
		Distribution: readDistribution("/etc/os-release"),
	}
	h.CgroupsVersion, h.CgroupControllers = cgroupInfo()
	h.Hostname, _ = os.Hostname()
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		h.Kernel = unix.ByteSliceToString(uts.Release[:])
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		unit := int64(si.Unit)
		h.MemTotal, h.MemFree = int64(si.Totalram)*unit, int64(si.Freeram)*unit
		h.SwapTotal, h.SwapFree = int64(si.Totalswap)*unit, int64(si.Freeswap)*unit
	}
	h.Uptime = readUptime("/proc/uptime")
	h.Conmon = componentInfo{Path: opts.MonitorPath, Version: "servin-monitor version " + fastpath.Version}
	h.OCIRuntime = componentInfo{Name: "libcontainer", Path: opts.RuntimePath, Version: ociRuntimeVersion()}
	caps := append([]string(nil), oci.DefaultCapabilities...)
	sort.Strings(caps)
	major, _, _ := seccomp.Version()
	h.Security = securityInfo{
		AppArmorEnabled: apparmor.IsEnabled(), DefaultCapabilities: strings.Join(caps, ","),
		Rootless: os.Geteuid() != 0, SeccompEnabled: major > 0 && kernelHasSeccomp(),
		SELinuxEnabled: selinux.GetEnabled(),
	}
	addHostFeatures(&h) // info_security.go
	return h
}

// ociRuntimeVersion describes the libcontainer linked into this binary.
func ociRuntimeVersion() string {
	runc := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/opencontainers/runc" {
				runc = d.Version
			}
		}
	}
	lines := []string{
		"runc " + runc + " (libcontainer, linked into servin)",
		"spec: " + specs.Version,
		"go: " + runtime.Version(),
	}
	if a, b, c := seccomp.Version(); a > 0 {
		lines = append(lines, fmt.Sprintf("libseccomp: %d.%d.%d", a, b, c))
	}
	return strings.Join(lines, "\n")
}

// cgroupInfo reports "v2" when /sys/fs/cgroup is a cgroup2 mount and "v1"
// otherwise (hybrid hosts run containers on v1), with the controllers.
func cgroupInfo() (string, []string) {
	var fs unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &fs) == nil && fs.Type == unix.CGROUP2_SUPER_MAGIC {
		b, _ := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
		return "v2", nonNil(strings.Fields(string(b)))
	}
	b, _ := os.ReadFile("/proc/cgroups")
	return "v1", v1Controllers(string(b))
}

// v1Controllers lists the enabled controllers of /proc/cgroups that are
// mounted in a hierarchy.
func v1Controllers(procCgroups string) []string {
	out := []string{}
	for _, line := range strings.Split(procCgroups, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if f[1] != "0" && f[3] == "1" {
			out = append(out, f[0])
		}
	}
	return out
}

func kernelHasSeccomp() bool {
	b, err := os.ReadFile("/proc/self/status")
	return err == nil && bytes.Contains(b, []byte("\nSeccomp:"))
}

// readDistribution reads ID, VERSION_ID and VERSION_CODENAME of os-release.
func readDistribution(path string) distributionInfo {
	var d distributionInfo
	b, err := os.ReadFile(path)
	if err != nil {
		return d
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			d.Distribution = v
		case "VERSION_ID":
			d.Version = v
		case "VERSION_CODENAME":
			d.Codename = v
		}
	}
	return d
}

// readUptime formats /proc/uptime as podman does: "0h 15m 12.00s".
func readUptime(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	secs, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return ""
	}
	return formatUptime(secs)
}

func formatUptime(secs float64) string {
	h := int64(secs) / 3600
	m := (int64(secs) % 3600) / 60
	s := secs - float64(h*3600+m*60)
	out := fmt.Sprintf("%dh %dm %.2fs", h, m, s)
	if h >= 24 {
		out += fmt.Sprintf(" (Approximately %.2f days)", secs/86400)
	}
	return out
}

// systemCommand groups info and prune.
func systemCommand() *cli.Command {
	info := infoCommand()
	prune := &cli.Command{
		Name:  "prune",
		Usage: "remove stopped containers and dangling images (and, with --volumes, unused volumes)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not ask for confirmation"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all images no container uses, not only dangling ones"},
			&cli.BoolFlag{Name: "volumes", Usage: "remove the volumes no container uses"},
		},
		Action: withRuntime(systemPrune), // df.go
	}
	reset := &cli.Command{
		Name:  "reset",
		Usage: "remove all containers, images, volumes, networks and secrets, and servin's state",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not ask for confirmation"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			o := rt.Options()
			if !c.Bool("force") {
				q := fmt.Sprintf("WARNING! This will remove:\n        - all containers\n        - all images\n        - all networks\n"+
					"        - all volumes\n        - all secrets\n        - the root directory: %q\n        - the run root directory: %q\n"+
					"Are you sure you want to continue? [y/N] ", o.Root, o.RunRoot)
				if !confirm(os.Stdin, os.Stdout, q) {
					return nil
				}
			}
			return rt.Reset(c.Context)
		}),
	}
	return &cli.Command{
		Name:        "system",
		Usage:       "manage servin",
		Subcommands: []*cli.Command{info, prune, systemDfCommand(), eventsCommand(), reset},
	}
}

// confirm asks a yes/no question; anything but y/yes is no.
func confirm(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprint(out, question)
	line, _ := bufio.NewReader(in).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}
