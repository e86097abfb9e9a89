package libservin

// Security options of a container: parsing and validating the flags of
// create/run (--privileged, --cap-add, --security-opt, --sysctl, --ulimit,
// --device, --pid/--ipc/--uts, --userns, --oom-score-adj ...), storing them,
// and turning them into oci.Security at start.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/sys/capability"
	"github.com/opencontainers/runc/libcontainer/apparmor"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/selinux/go-selinux"
	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/oci"
)

// SecurityOptions are the security flags as the user gave them.
type SecurityOptions struct {
	Privileged       bool
	CapAdd, CapDrop  []string
	SecurityOpt      []string // seccomp=, no-new-privileges, apparmor=, label=, mask=, unmask=, systempaths=unconfined
	Sysctl           []string // KEY=VALUE
	Ulimit           []string // TYPE=SOFT[:HARD]
	Device           []string // HOST[:CTR[:rwm]]
	DeviceCgroupRule []string
	PID, IPC, UTS    string // private (default), host, container:NAME
	OOMScoreAdj      *int
	NoReadOnlyTmpfs  bool // --read-only-tmpfs=false
	// User namespace: see userns.go.
	UserNS         string // host, auto[:size=N], keep-id, nomap, private
	UIDMap, GIDMap []string
}

// SecurityConfig is the validated form stored with the container.
type SecurityConfig struct {
	Privileged        bool              `json:"privileged,omitempty"`
	CapAdd            []string          `json:"capAdd,omitempty"`
	CapDrop           []string          `json:"capDrop,omitempty"`
	SecurityOpt       []string          `json:"securityOpt,omitempty"` // as given, for inspect
	Seccomp           string            `json:"seccomp,omitempty"`     // "", "unconfined" or a profile's JSON text
	SeccompPath       string            `json:"seccompPath,omitempty"`
	NoNewPrivileges   bool              `json:"noNewPrivileges,omitempty"`
	AppArmorProfile   string            `json:"apparmorProfile,omitempty"`
	Mask              []string          `json:"mask,omitempty"`
	Unmask            []string          `json:"unmask,omitempty"`
	Sysctls           map[string]string `json:"sysctls,omitempty"`
	Ulimits           []Ulimit          `json:"ulimits,omitempty"`
	Devices           []DeviceMapping   `json:"devices,omitempty"`
	DeviceCgroupRules []string          `json:"deviceCgroupRules,omitempty"`
	PidMode           string            `json:"pidMode,omitempty"` // "", host, container:ID
	IpcMode           string            `json:"ipcMode,omitempty"`
	UTSMode           string            `json:"utsMode,omitempty"`
	OOMScoreAdj       *int              `json:"oomScoreAdj,omitempty"`
	NoReadOnlyTmpfs   bool              `json:"noReadOnlyTmpfs,omitempty"`
	UserNS            UserNSConfig      `json:"userns,omitzero"`
}

// Ulimit is one rlimit; -1 is unlimited.
type Ulimit struct {
	Name string `json:"Name"` // as docker: "nofile", ...
	Soft int64  `json:"Soft"`
	Hard int64  `json:"Hard"`
}

// DeviceMapping is one --device.
type DeviceMapping struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}

var rlimitNames = map[string]int{
	"as": unix.RLIMIT_AS, "core": unix.RLIMIT_CORE, "cpu": unix.RLIMIT_CPU, "data": unix.RLIMIT_DATA,
	"fsize": unix.RLIMIT_FSIZE, "locks": unix.RLIMIT_LOCKS, "memlock": unix.RLIMIT_MEMLOCK,
	"msgqueue": unix.RLIMIT_MSGQUEUE, "nice": unix.RLIMIT_NICE, "nofile": unix.RLIMIT_NOFILE,
	"nproc": unix.RLIMIT_NPROC, "rss": unix.RLIMIT_RSS, "rtprio": unix.RLIMIT_RTPRIO,
	"rttime": unix.RLIMIT_RTTIME, "sigpending": unix.RLIMIT_SIGPENDING, "stack": unix.RLIMIT_STACK,
}

// parseSecurity validates the security flags. network is the container's
// network mode, hostname the --hostname given.
func (r *Runtime) parseSecurity(ctx context.Context, o *SecurityOptions, network, hostname string) (SecurityConfig, error) {
	sc := SecurityConfig{Privileged: o.Privileged, NoReadOnlyTmpfs: o.NoReadOnlyTmpfs}
	var err error
	if sc.CapAdd, err = parseCaps("cap-add", o.CapAdd); err != nil {
		return sc, err
	}
	if sc.CapDrop, err = parseCaps("cap-drop", o.CapDrop); err != nil {
		return sc, err
	}
	if _, err := oci.Capabilities(&oci.Security{CapAdd: sc.CapAdd, CapDrop: sc.CapDrop}); err != nil {
		return sc, invalid("%v", err)
	}
	for _, opt := range o.SecurityOpt {
		if err := parseSecurityOpt(&sc, opt); err != nil {
			return sc, err
		}
	}
	if sc.PidMode, err = r.parseNSMode(ctx, "pid", o.PID); err != nil {
		return sc, err
	}
	if sc.IpcMode, err = r.parseNSMode(ctx, "ipc", o.IPC); err != nil {
		return sc, err
	}
	if sc.UTSMode, err = r.parseNSMode(ctx, "uts", o.UTS); err != nil {
		return sc, err
	}
	if sc.UTSMode != "" && hostname != "" {
		return sc, invalid("conflicting options: --hostname cannot be set with --uts=%s", o.UTS)
	}
	if sc.Sysctls, err = parseSysctls(o.Sysctl, sc.IpcMode == "", network != "host", sc.UTSMode == ""); err != nil {
		return sc, err
	}
	if sc.Ulimits, err = parseUlimits(o.Ulimit); err != nil {
		return sc, err
	}
	if sc.Devices, err = parseDevices(o.Device); err != nil {
		return sc, err
	}
	for _, rule := range o.DeviceCgroupRule {
		if rule, err = normalizeDeviceCgroupRule(rule); err != nil { // podman_words.go
			return sc, err
		}
		if _, err := oci.ParseDeviceCgroupRule(rule); err != nil {
			return sc, invalid("%v", err)
		}
		sc.DeviceCgroupRules = append(sc.DeviceCgroupRules, rule)
	}
	if o.OOMScoreAdj != nil {
		if err := checkOOMScoreAdj(*o.OOMScoreAdj); err != nil {
			return sc, err
		}
		v := *o.OOMScoreAdj
		sc.OOMScoreAdj = &v
	}
	if sc.UserNS, err = r.parseUserNS(ctx, o); err != nil {
		return sc, err
	}
	return sc, nil
}

func parseCaps(flag string, in []string) ([]string, error) {
	var out []string
	for _, c := range in {
		for _, part := range strings.Split(c, ",") {
			n := oci.NormalizeCapability(part)
			if n != "ALL" && !oci.KnownCapability(n) {
				return nil, invalid("invalid --%s %q: unknown capability", flag, part)
			}
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// parseSecurityOpt handles one --security-opt, in docker's KEY=VALUE (or
// older KEY:VALUE) form.
func parseSecurityOpt(sc *SecurityConfig, opt string) error {
	key, val, hasVal := strings.Cut(opt, "=")
	if !hasVal && key != "no-new-privileges" {
		key, val, hasVal = strings.Cut(opt, ":")
	}
	sc.SecurityOpt = append(sc.SecurityOpt, opt)
	switch key {
	case "seccomp":
		switch val {
		case "unconfined":
			sc.Seccomp = oci.SeccompUnconfined
		case "", "builtin", "default":
			if !hasVal {
				return invalid("invalid --security-opt %q: seccomp=PROFILE.json or seccomp=unconfined expected", opt)
			}
			sc.Seccomp = ""
		default:
			text, err := os.ReadFile(val)
			if err != nil {
				return invalid("--security-opt seccomp: reading the profile: %v", err)
			}
			if err := oci.ValidateSeccompProfile(string(text)); err != nil {
				return invalid("--security-opt seccomp=%s: %v", val, err)
			}
			sc.Seccomp, sc.SeccompPath = string(text), val
		}
	case "no-new-privileges":
		switch val {
		case "", "true":
			sc.NoNewPrivileges = true
		case "false":
			sc.NoNewPrivileges = false
		default:
			return invalid("invalid --security-opt %q: no-new-privileges[=true|false] expected", opt)
		}
	case "apparmor":
		switch {
		case val == "":
			return invalid("invalid --security-opt %q: apparmor=PROFILE or apparmor=unconfined expected", opt)
		case val == "unconfined":
			sc.AppArmorProfile = val
		case !apparmor.IsEnabled():
			return invalid("--security-opt apparmor=%s: AppArmor is not enabled on this host, so no profile can be applied (apparmor=unconfined is accepted)", val)
		default:
			sc.AppArmorProfile = val
		}
	case "label":
		switch {
		case val == "disable" || val == "nested":
		case strings.HasPrefix(val, "user:"), strings.HasPrefix(val, "role:"), strings.HasPrefix(val, "type:"),
			strings.HasPrefix(val, "level:"), strings.HasPrefix(val, "filetype:"):
			if selinux.GetEnabled() {
				return invalid("--security-opt label=%s: SELinux labels are not supported by servin (label=disable is)", val)
			}
			// SELinux is off: labels have nothing to apply to, as with podman.
		default:
			return invalid("invalid --security-opt %q: label=user:|role:|type:|level:|filetype:|disable|nested expected", opt)
		}
	case "mask", "unmask":
		if val == "" {
			return invalid("invalid --security-opt %q: a colon-separated list of paths expected", opt)
		}
		for _, p := range strings.Split(val, ":") {
			if p != "ALL" && !filepath.IsAbs(p) {
				return invalid("invalid --security-opt %q: %q is not an absolute path", opt, p)
			}
			if key == "mask" {
				sc.Mask = append(sc.Mask, filepath.Clean(p))
			} else if p == "ALL" {
				sc.Unmask = append(sc.Unmask, p)
			} else {
				sc.Unmask = append(sc.Unmask, filepath.Clean(p))
			}
		}
	case "systempaths":
		if val != "unconfined" {
			return invalid("invalid --security-opt %q: systempaths=unconfined expected", opt)
		}
		sc.Unmask = append(sc.Unmask, "ALL")
	default:
		return invalid("invalid --security-opt %q: seccomp=, no-new-privileges, apparmor=, label=, mask=, unmask= or systempaths=unconfined expected", opt)
	}
	return nil
}

// parseNSMode validates a --pid/--ipc/--uts mode. "container:NAME" is
// stored as "container:ID".
func (r *Runtime) parseNSMode(ctx context.Context, flag, mode string) (string, error) {
	switch {
	case mode == "" || mode == "private" || (flag == "ipc" && (mode == "shareable" || mode == "none")):
		return "", nil
	case mode == "host":
		return "host", nil
	case strings.HasPrefix(mode, "container:"):
		ref := strings.TrimPrefix(mode, "container:")
		rec, err := r.db.GetContainer(ctx, ref)
		if err != nil {
			return "", fmt.Errorf("--%s=%s: %w", flag, mode, err)
		}
		return "container:" + rec.ID, nil
	}
	return "", invalid("invalid --%s %q: private, host or container:NAME expected", flag, mode)
}

func parseSysctls(vals []string, ipcPrivate, netPrivate, utsPrivate bool) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, invalid("invalid --sysctl %q: KEY=VALUE expected", v)
		}
		k = oci.NormalizeSysctl(k)
		if err := oci.CheckSysctl(k, ipcPrivate, netPrivate, utsPrivate); err != nil {
			return nil, invalid("%v", err)
		}
		out[k] = val
	}
	return out, nil
}

// parseUlimits parses TYPE=SOFT[:HARD]. A hard limit may not exceed servin's
// own: raising it would need CAP_SYS_RESOURCE, which a container runtime
// should not use to lift limits it was itself given.
func parseUlimits(vals []string) ([]Ulimit, error) {
	var out []Ulimit
	for _, v := range vals {
		name, lim, ok := strings.Cut(v, "=")
		res, known := rlimitNames[strings.ToLower(name)]
		if !ok || !known {
			return nil, invalid("invalid --ulimit %q: TYPE=SOFT[:HARD] expected with TYPE one of core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack, as", v)
		}
		softS, hardS, hasHard := strings.Cut(lim, ":")
		if !hasHard {
			hardS = softS
		}
		soft, err1 := parseLimit(softS)
		hard, err2 := parseLimit(hardS)
		if err1 != nil || err2 != nil {
			return nil, invalid("invalid --ulimit %q: limits must be numbers or -1 (unlimited)", v)
		}
		if uint64(soft) > uint64(hard) {
			// podman's words.
			return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "ulimit option %q requires name=SOFT:HARD, failed to be parsed: ulimit soft limit must be less than or equal to hard limit: soft: %s, hard: %s", v, podmanLimit(soft), podmanLimit(hard))
		}
		var cur unix.Rlimit
		if err := unix.Getrlimit(res, &cur); err == nil && uint64(hard) > cur.Max {
			return nil, invalid("--ulimit %s: the hard limit %s is above servin's own hard limit %s for %s; a container can only get limits up to its caller's", v, limitString(hard), limitString(int64(cur.Max)), name)
		}
		u := Ulimit{Name: strings.ToLower(name), Soft: soft, Hard: hard}
		if i := slices.IndexFunc(out, func(x Ulimit) bool { return x.Name == u.Name }); i >= 0 {
			out[i] = u
		} else {
			out = append(out, u)
		}
	}
	return out, nil
}

func parseLimit(s string) (int64, error) {
	if s == "-1" || s == "unlimited" {
		return -1, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad limit %q", s)
	}
	return n, nil
}

func limitString(n int64) string {
	if n < 0 || uint64(n) == unix.RLIM_INFINITY {
		return "unlimited"
	}
	return strconv.FormatInt(n, 10)
}

// parseDevices parses HOST[:CTR[:PERMS]].
func parseDevices(vals []string) ([]DeviceMapping, error) {
	var out []DeviceMapping
	for _, v := range vals {
		parts := strings.Split(v, ":")
		d := DeviceMapping{PathOnHost: parts[0], CgroupPermissions: "rwm"}
		switch len(parts) {
		case 1:
			d.PathInContainer = parts[0]
		case 2:
			if oci.ValidAccess(parts[1]) {
				d.PathInContainer, d.CgroupPermissions = parts[0], parts[1]
			} else {
				d.PathInContainer = parts[1]
			}
		case 3:
			d.PathInContainer, d.CgroupPermissions = parts[1], parts[2]
		default:
			return nil, invalid("invalid --device %q: HOST[:CONTAINER[:PERMISSIONS]] expected", v)
		}
		if !filepath.IsAbs(d.PathOnHost) || !filepath.IsAbs(d.PathInContainer) {
			return nil, invalid("invalid --device %q: paths must be absolute", v)
		}
		if !oci.ValidAccess(d.CgroupPermissions) {
			return nil, invalid("invalid --device %q: permissions must be a combination of r, w and m", v)
		}
		if _, err := deviceNodes(d); err != nil {
			return nil, invalid("--device %s: %v", v, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// deviceNodes resolves a mapping to the device nodes it stands for: one
// node, or every node under a directory.
func deviceNodes(d DeviceMapping) ([]oci.Device, error) {
	st, err := os.Stat(d.PathOnHost)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		ds, err := oci.DevicesUnder(d.PathOnHost, d.PathInContainer, d.CgroupPermissions)
		if err == nil && len(ds) == 0 {
			err = fmt.Errorf("no device nodes under %s", d.PathOnHost)
		}
		return ds, err
	}
	dev, err := oci.DeviceFromPath(d.PathOnHost, d.PathInContainer, d.CgroupPermissions)
	if err != nil {
		return nil, err
	}
	return []oci.Device{dev}, nil
}

// checkOOMScoreAdj refuses values out of range, and values below servin's
// own score when servin may not lower it (that needs CAP_SYS_RESOURCE).
func checkOOMScoreAdj(v int) error {
	if v < -1000 || v > 1000 {
		return invalid("invalid --oom-score-adj %d: the range is -1000 to 1000", v)
	}
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return nil
	}
	own, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || v >= own {
		return nil
	}
	if hasCapability(capability.CAP_SYS_RESOURCE) {
		return nil
	}
	return invalid("--oom-score-adj %d is below servin's own score (%d): lowering it needs CAP_SYS_RESOURCE, which servin does not hold here (the host leaves it out of the capability bounding set); use a value of at least %d", v, own, own)
}

func hasCapability(c capability.Cap) bool {
	p, err := capability.NewPid2(0)
	if err != nil || p.Load() != nil {
		return false
	}
	return p.Get(capability.EFFECTIVE, c)
}

// ociSecurity resolves the stored security config into what the spec
// generator needs; other containers' namespaces are looked up now.
func (r *Runtime) ociSecurity(ctx context.Context, c *Container) (oci.Security, error) {
	sc := &c.Config.Security
	sec := oci.Security{
		Privileged: sc.Privileged, CapAdd: sc.CapAdd, CapDrop: sc.CapDrop,
		Seccomp: sc.Seccomp, NoNewPrivileges: sc.NoNewPrivileges, AppArmorProfile: sc.AppArmorProfile,
		Mask: sc.Mask, Unmask: sc.Unmask, Sysctls: sc.Sysctls, OOMScoreAdj: sc.OOMScoreAdj,
		NoReadOnlyTmpfs: sc.NoReadOnlyTmpfs, Systemd: c.Config.Systemd,
	}
	for _, u := range sc.Ulimits {
		sec.Ulimits = append(sec.Ulimits, specs.POSIXRlimit{
			Type: "RLIMIT_" + strings.ToUpper(u.Name), Soft: uint64(u.Soft), Hard: uint64(u.Hard),
		})
	}
	for _, d := range sc.Devices {
		nodes, err := deviceNodes(d)
		if err != nil {
			return sec, fmt.Errorf("--device %s: %w", d.PathOnHost, err)
		}
		sec.Devices = append(sec.Devices, nodes...)
	}
	for _, rule := range sc.DeviceCgroupRules {
		dr, err := oci.ParseDeviceCgroupRule(rule)
		if err != nil {
			return sec, err
		}
		sec.DeviceRules = append(sec.DeviceRules, dr)
	}
	var err error
	if sec.PidNS, err = r.nsPath(ctx, sc.PidMode, "pid"); err != nil {
		return sec, err
	}
	if sec.IpcNS, err = r.nsPath(ctx, sc.IpcMode, "ipc"); err != nil {
		return sec, err
	}
	if sec.UtsNS, err = r.nsPath(ctx, sc.UTSMode, "uts"); err != nil {
		return sec, err
	}
	if err := r.applyUserNS(ctx, c, &sec); err != nil {
		return sec, err
	}
	return sec, nil
}

// nsPath turns a stored namespace mode into oci.Security's form.
func (r *Runtime) nsPath(ctx context.Context, mode, ns string) (string, error) {
	ref, ok := strings.CutPrefix(mode, "container:")
	if !ok {
		return mode, nil
	}
	other, err := r.Container(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("joining the %s namespace of container %s: %w", ns, ref, err)
	}
	if other.State.Status != StatusRunning || other.State.Pid <= 0 {
		return "", fmt.Errorf("joining the %s namespace of container %s: it is %s, not running: %w", ns, other.Name, other.State.Status, errdefs.ErrFailedPrecondition)
	}
	return fmt.Sprintf("/proc/%d/ns/%s", other.State.Pid, ns), nil
}

// confine fills in the security and resource parts of a container's spec
// input at start.
func (r *Runtime) confine(ctx context.Context, c *Container, in *oci.SpecInput) error {
	sec, err := r.ociSecurity(ctx, c)
	if err != nil {
		return err
	}
	res, err := c.Config.Resources.spec(c.Config.Memory)
	if err != nil {
		return err
	}
	in.Security, in.Resources = sec, res
	in.CgroupManager = c.Config.Resources.CgroupManager
	return nil
}
