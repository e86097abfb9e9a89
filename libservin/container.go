package libservin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	jsoniter "github.com/json-iterator/go"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/image"
	"github.com/servin/servin/libservin/state"
)

// Container statuses, as podman reports them.
const (
	StatusCreated  = "created"
	StatusRunning  = "running"
	StatusPaused   = "paused"
	StatusExited   = "exited"
	StatusStopping = "stopping"
)

// ContainerConfig is everything fixed at create time. It is stored as JSON
// in the database and is what inspect's Config and HostConfig show.
type ContainerConfig struct {
	Image         string            `json:"image"`                 // the reference the user gave
	ImageDigest   string            `json:"imageDigest,omitempty"` // its manifest digest at create
	Entrypoint    []string          `json:"entrypoint"`            // effective entrypoint
	Cmd           []string          `json:"cmd"`                   // effective command
	Env           []string          `json:"env"`
	WorkingDir    string            `json:"workingDir,omitempty"`
	User          string            `json:"user,omitempty"`
	GroupAdd      []string          `json:"groupAdd,omitempty"`
	Hostname      string            `json:"hostname"`
	Labels        map[string]string `json:"labels,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	Tty           bool              `json:"tty,omitempty"`
	Interactive   bool              `json:"interactive,omitempty"`
	RestartPolicy string            `json:"restartPolicy,omitempty"`
	RestartMax    int               `json:"restartMax,omitempty"`
	Init          bool              `json:"init,omitempty"`
	LogDriver     string            `json:"logDriver"`
	LogOpts       map[string]string `json:"logOpts,omitempty"`
	LogPath       string            `json:"logPath,omitempty"`
	StopSignal    string            `json:"stopSignal"`
	StopTimeout   uint              `json:"stopTimeout"`
	NetworkMode   string            `json:"networkMode"`  // bridge, none, host, container:ID, ns:PATH
	Net           NetConfig         `json:"net,omitzero"` // network.go
	AutoRemove    bool              `json:"autoRemove,omitempty"`
	ReadOnly      bool              `json:"readOnly,omitempty"`
	Memory        int64             `json:"memory,omitempty"`
	CreateCommand []string          `json:"createCommand,omitempty"`
	Security      SecurityConfig    `json:"security,omitzero"`  // security.go
	Resources     ResourceConfig    `json:"resources,omitzero"` // resources.go
	Mounts        []Mount           `json:"mounts,omitempty"`   // mounts.go

	// AutoRemoveImage (--rmi): the image goes when the --rm container does.
	AutoRemoveImage bool `json:"autoRemoveImage,omitempty"`
	// UnsetEnv (--unsetenv) drops default and image variables by name;
	// UnsetEnvAll (--unsetenv-all) keeps only the user's.
	UnsetEnv    []string `json:"unsetEnv,omitempty"`
	UnsetEnvAll bool     `json:"unsetEnvAll,omitempty"`
	CgroupNS    string   `json:"cgroupns,omitempty"` // --cgroupns: host, private or "" (private on cgroup v2)
	Umask       string   `json:"umask,omitempty"`    // --umask, octal
	Timeout     uint     `json:"timeout,omitempty"`  // --timeout: seconds a run may last, 0 = unlimited`
	Timezone    string   `json:"timezone,omitempty"` // --tz: a zone name or "local"; timezone.go
	CIDFile     string   `json:"cidFile,omitempty"`  // --cidfile: holds the ID; removed with the container
	// UserWorkdir: WorkingDir came from --workdir, so it must exist (the
	// image's WORKDIR is created when missing); workdir.go.
	UserWorkdir bool `json:"userWorkdir,omitempty"`
	// MonitorPidFile (--conmon-pidfile) gets the monitor's PID at each start.
	MonitorPidFile string `json:"monitorPidFile,omitempty"`
	// NoHostname (--no-hostname): no /etc/hostname is made for it.
	NoHostname bool `json:"noHostname,omitempty"`

	// Rootfs: the container runs in a host directory, not an image
	// (--rootfs; rootfs.go).
	Rootfs *Rootfs `json:"rootfs,omitempty"`
	// Systemd: the container runs in systemd mode (systemd.go).
	Systemd bool `json:"systemd,omitempty"`
	// Secrets (--secret): secrets_container.go.
	Secrets []ContainerSecret `json:"secrets,omitempty"`

	// Healthchecks (healthcheck.go).
	Healthcheck          *HealthConfig        `json:"healthcheck,omitempty"`
	StartupHealthcheck   *StartupHealthConfig `json:"startupHealthcheck,omitempty"`
	HealthOnFailure      string               `json:"healthOnFailure,omitempty"`
	HealthLogDestination string               `json:"healthLogDestination,omitempty"`
	HealthMaxLogCount    *uint                `json:"healthMaxLogCount,omitempty"`
	HealthMaxLogSize     *uint                `json:"healthMaxLogSize,omitempty"`
}

// Args is the command line the container's init runs.
func (c *ContainerConfig) Args() []string {
	return append(append([]string(nil), c.Entrypoint...), c.Cmd...)
}

// Container is a snapshot of one container's configuration and state.
type Container struct {
	ID        string
	Name      string
	ImageID   string
	ImageName string
	Created   time.Time
	Config    ContainerConfig
	State     state.ContainerState

	// Warnings are what Create adjusted and the user should hear about
	// (e.g. ports dropped for --network host); never stored.
	Warnings []string
	// Health is the healthcheck status ("" without a healthcheck), as
	// Container and Containers read it.
	Health string
}

// Running reports whether the container has live processes.
func (c *Container) Running() bool {
	return c.State.Status == StatusRunning || c.State.Status == StatusPaused || c.State.Status == StatusStopping
}

func fromRecord(rec *state.Container) (*Container, error) {
	c := &Container{
		ID: rec.ID, Name: rec.Name, ImageID: rec.ImageID, ImageName: rec.ImageName,
		Created: rec.Created, State: rec.State,
	}
	if len(rec.Config) > 0 {
		// json-iterator decodes as encoding/json does, in a third of the
		// time: `ps -a` decodes every container's configuration.
		if err := jsoniter.ConfigCompatibleWithStandardLibrary.Unmarshal(rec.Config, &c.Config); err != nil {
			return nil, fmt.Errorf("container %s: corrupt config: %w", rec.ID, err)
		}
	}
	return c, nil
}

// CreateOptions is a request to create a container: the CLI's flags, the
// REST API's fields and Go callers all fill this one struct.
type CreateOptions struct {
	Image         string
	Name          string
	Command       []string  // args after the image
	Entrypoint    *[]string // nil: the image's; empty: none
	Env           []string
	WorkingDir    string
	User          string
	GroupAdd      []string
	Hostname      string
	Labels        map[string]string
	Annotations   map[string]string
	Tty           bool
	Interactive   bool
	Restart       string // no, always, unless-stopped, on-failure[:N]
	Init          bool
	LogDriver     string            // k8s-file (default), none
	LogOpts       map[string]string // max-size, max-file, path
	StopSignal    string
	StopTimeout   *uint
	Network       string         // bridge (default: the servin network), none, host, container:NAME, ns:PATH or NAME[,NAME...]
	NetworkOpts   NetworkOptions // network.go
	AutoRemove    bool
	ReadOnly      bool
	Memory        string // --memory: "64m", "1g"
	CreateCommand []string
	Security      SecurityOptions // security.go
	Resources     ResourceOptions // resources.go
	Mounts        MountOptions    // mounts.go
	Pull          PullPolicy      // --pull: when to pull the image ("" is missing); image_policy.go
	PullOptions   PullOptions     // how to pull it (registry flags, progress, retries)

	AutoRemoveImage bool          // --rmi: remove the image with the container (needs AutoRemove)
	UnsetEnv        []string      // --unsetenv: default or image variables not to set
	UnsetEnvAll     bool          // --unsetenv-all: only the variables given in Env
	CgroupNS        string        // --cgroupns: host or private ("" is podman's default)
	Umask           string        // --umask: octal, e.g. 0027
	Timeout         uint          // --timeout: kill the container after this many seconds (0: never)
	Timezone        string        // --tz: a zone of the host's zoneinfo, or "local"
	CIDFile         string        // --cidfile: written by the caller, removed with the container
	MonitorPidFile  string        // --conmon-pidfile: where each start writes the monitor's PID
	NoHostname      bool          // --no-hostname: keep the image's /etc/hostname (if any)
	Health          HealthOptions // --health-*, --no-healthcheck; healthcheck.go
	Rootfs          bool          // --rootfs: Image is a host directory (PATH[:O]); rootfs.go
	Systemd         string        // --systemd: true (default), false or always; systemd.go
	Secrets         []string      // --secret NAME[,type=mount|env][,target=...]; secrets_container.go
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// Create makes a new container from an image. The container is left in the
// created state; Start runs it.
func (r *Runtime) Create(ctx context.Context, o *CreateOptions) (*Container, error) {
	if o.Image == "" {
		return nil, fmt.Errorf("an image is required: %w", errdefs.ErrInvalidArgument)
	}
	o.Name = strings.TrimPrefix(o.Name, "/") // "/name" is name, as with docker and podman
	if o.Name != "" && !nameRE.MatchString(o.Name) {
		return nil, fmt.Errorf("invalid container name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: %w", o.Name, errdefs.ErrInvalidArgument)
	}
	restart, restartMax, err := ParseRestartPolicy(o.Restart)
	if err != nil {
		return nil, err
	}
	if o.AutoRemove && restart != "" && restart != "no" {
		return nil, fmt.Errorf("the --rm option conflicts with --restart (other than \"no\"): %w", errdefs.ErrInvalidArgument)
	}
	network, err := parseNetworkMode(o.Network) // network.go
	if err != nil {
		return nil, err
	}
	stopSignal := o.StopSignal
	if stopSignal != "" {
		if _, err := ParseSignal(stopSignal); err != nil {
			return nil, err
		}
	}
	logDriver, logOpts, err := parseLogOptions(o.LogDriver, o.LogOpts)
	if err != nil {
		return nil, err
	}
	memory, err := ParseSize(o.Memory)
	if err != nil {
		return nil, fmt.Errorf("invalid --memory: %w", err)
	}
	if memory != 0 && memory < 6*1024*1024 {
		return nil, fmt.Errorf("minimum memory limit allowed is 6MB: %w", errdefs.ErrInvalidArgument)
	}
	security, err := r.parseSecurity(ctx, &o.Security, network, o.Hostname)
	if err != nil {
		return nil, err
	}
	resources, memory, err := parseResources(&o.Resources, memory, ResourceConfig{}, detectCgroupHost(), true)
	if err != nil {
		return nil, err
	}
	secrets, err := r.resolveSecrets(o.Secrets) // secrets_container.go
	if err != nil {
		return nil, err
	}

	tracef("create")
	store, err := r.Store()
	if err != nil {
		return nil, err
	}
	tracef("store open")
	var img *image.Image
	var rootfs *Rootfs
	if o.Rootfs {
		// --rootfs: the "image" is a directory on the host; rootfs.go.
		if rootfs, err = parseRootfs(o.Image); err != nil {
			return nil, err
		}
		img = &image.Image{}
	} else if img, err = r.ImageWithPolicy(ctx, o.Image, o.Pull, o.PullOptions); err != nil { // image_policy.go
		return nil, err
	}
	tracef("image found")
	netPlan, err := r.planNetwork(ctx, o, network, img) // network.go
	if err != nil {
		return nil, err
	}

	cfg := ContainerConfig{
		Image:         o.Image,
		Rootfs:        rootfs,
		ImageDigest:   img.Digest,
		Labels:        map[string]string{},
		Annotations:   o.Annotations,
		Tty:           o.Tty,
		Interactive:   o.Interactive,
		RestartPolicy: restart,
		RestartMax:    restartMax,
		Init:          o.Init,
		LogDriver:     logDriver,
		LogOpts:       logOpts,
		NetworkMode:   netPlan.mode,
		Net:           netPlan.cfg,
		AutoRemove:    o.AutoRemove,
		ReadOnly:      o.ReadOnly,
		Memory:        memory,
		Security:      security,
		Resources:     resources,
		GroupAdd:      o.GroupAdd,
		CreateCommand: o.CreateCommand,
		StopTimeout:   10,
	}
	if o.StopTimeout != nil {
		cfg.StopTimeout = *o.StopTimeout
	}
	if cfg.Timezone, err = checkTimezone(o.Timezone); err != nil { // timezone.go
		return nil, err
	}
	if o.AutoRemoveImage && !o.AutoRemove {
		return nil, fmt.Errorf("the --rmi option does not work without --rm: %w", errdefs.ErrInvalidArgument)
	}
	cfg.AutoRemoveImage = o.AutoRemoveImage
	cfg.CIDFile = o.CIDFile
	cfg.UserWorkdir = o.WorkingDir != ""
	cfg.MonitorPidFile = o.MonitorPidFile
	cfg.NoHostname = o.NoHostname
	cfg.Secrets = secrets.config
	var imgHealth *HealthConfig
	if h := img.Healthcheck; h != nil {
		imgHealth = &HealthConfig{Test: h.Test, StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Interval: h.Interval, Timeout: h.Timeout, Retries: h.Retries}
	}
	if err := applyHealth(&cfg, o.Health, imgHealth); err != nil { // healthcheck.go
		return nil, err
	}
	ic := img.Config
	var imgEnv, imgEntrypoint, imgCmd []string
	var imgWorkdir, imgUser, imgStopSignal string
	if ic != nil {
		imgEnv, imgEntrypoint, imgCmd = ic.Config.Env, ic.Config.Entrypoint, ic.Config.Cmd
		imgWorkdir, imgUser, imgStopSignal = ic.Config.WorkingDir, ic.Config.User, ic.Config.StopSignal
		for k, v := range ic.Config.Labels {
			cfg.Labels[k] = v
		}
	}
	for k, v := range o.Labels {
		cfg.Labels[k] = v
	}
	// Docker's rule: --entrypoint replaces the image's entrypoint and
	// drops its CMD; command arguments replace CMD.
	cfg.Entrypoint = imgEntrypoint
	cfg.Cmd = imgCmd
	if o.Entrypoint != nil {
		cfg.Entrypoint = *o.Entrypoint
		cfg.Cmd = nil
	}
	if len(o.Command) > 0 {
		cfg.Cmd = o.Command
	}
	if len(cfg.Entrypoint)+len(cfg.Cmd) == 0 {
		return nil, fmt.Errorf("no command or entrypoint provided, and no CMD or ENTRYPOINT from image: %w", errdefs.ErrInvalidArgument)
	}
	cfg.UnsetEnv, cfg.UnsetEnvAll = o.UnsetEnv, o.UnsetEnvAll
	switch o.CgroupNS {
	case "", "host", "private":
		cfg.CgroupNS = o.CgroupNS
	default:
		return nil, fmt.Errorf("invalid cgroup namespace mode %q (use host or private): %w", o.CgroupNS, errdefs.ErrInvalidArgument)
	}
	if o.Umask != "" && parseUmask(o.Umask) == nil {
		return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "invalid umask string %s: invalid argument", o.Umask)
	}
	cfg.Umask = o.Umask
	cfg.Timeout = o.Timeout
	switch {
	case o.UnsetEnvAll:
		imgEnv = nil
	case len(o.UnsetEnv) > 0:
		imgEnv = slices.DeleteFunc(slices.Clone(imgEnv), func(kv string) bool {
			k, _, _ := strings.Cut(kv, "=")
			return slices.Contains(o.UnsetEnv, k)
		})
	}
	cfg.Env = mergeEnv(imgEnv, o.Env)
	cfg.WorkingDir = firstNonEmpty(o.WorkingDir, imgWorkdir)
	cfg.User = firstNonEmpty(o.User, imgUser)
	if cfg.Systemd, err = systemdMode(o.Systemd, cfg.Args()); err != nil { // systemd.go
		return nil, err
	}
	defaultStop := "SIGTERM"
	if cfg.Systemd {
		defaultStop = systemdStopSignal
	}
	cfg.StopSignal = firstNonEmpty(stopSignal, imgStopSignal, defaultStop)
	if _, err := ParseSignal(cfg.StopSignal); err != nil {
		return nil, err
	}
	mounts, err := r.planMounts(ctx, &o.Mounts, o.ReadOnly && !o.Security.NoReadOnlyTmpfs, img) // mountplan.go
	if err != nil {
		return nil, err
	}
	defer mounts.release(ctx)
	cfg.Mounts = mounts.mounts

	id, err := newID()
	if err != nil {
		return nil, err
	}
	cfg.Hostname = o.Hostname
	if cfg.Hostname == "" && network != "host" && security.UTSMode == "" {
		cfg.Hostname = id[:12]
	}
	if logDriver != "none" && cfg.LogPath == "" {
		cfg.LogPath = firstNonEmpty(logOpts["path"], r.ctrDataDir(id)+"/ctr.log")
	}
	name := o.Name
	if name == "" {
		if name, err = r.db.GenerateName(ctx); err != nil {
			return nil, err
		}
	}
	raw, err := json.Marshal(&cfg)
	if err != nil {
		return nil, err
	}
	imageName := o.Image
	if rootfs != nil {
		imageName = ""
	} else if len(img.Names) > 0 && !strings.HasPrefix(img.ID, o.Image) {
		imageName = createdImageName(img.Names, o.Image) // imagename.go
	}
	rec := &state.Container{
		ID: id, Name: name, ImageID: img.ID, ImageName: imageName,
		Created: time.Now().UTC(), Config: raw,
		State: state.ContainerState{Status: StatusCreated},
	}
	// The row comes first so a name clash costs nothing; a crash after it
	// leaves a container that start repairs and rm removes.
	for attempt := 0; ; attempt++ {
		err := r.db.AddContainer(ctx, rec)
		if err == nil {
			break
		}
		// A generated name can race with another process taking it.
		if o.Name != "" || attempt > 5 || !errors.Is(err, errdefs.ErrAlreadyExists) {
			return nil, nameInUse(err) // podman_words.go
		}
		if rec.Name, err = r.db.GenerateName(ctx); err != nil {
			return nil, err
		}
		name = rec.Name
	}
	if err := mounts.link(ctx, id); err != nil {
		_ = r.db.RemoveContainer(ctx, id)
		return nil, err
	}
	if err := r.linkNetworks(ctx, id, netPlan); err != nil { // network.go
		_ = r.db.RemoveContainer(ctx, id)
		return nil, err
	}
	// A container removed on exit needs no crash safety for its layer.
	copts := image.ContainerOptions{Volatile: o.AutoRemove}
	if err := r.storageUserNS(ctx, &cfg.Security.UserNS, &copts); err != nil { // userns.go
		_ = r.db.RemoveContainer(ctx, id)
		return nil, err
	}
	// Storage knows the container by ID only: names live in the database,
	// where rename changes them. A --rootfs container has no layer there.
	if rootfs == nil {
		if _, err := store.CreateContainerWithOptions(ctx, id, img.ID, "", copts); err != nil {
			_ = r.db.RemoveContainer(ctx, id)
			return nil, fmt.Errorf("creating storage for container %s: %w", name, err)
		}
	}
	tracef("storage container created")
	if err := os.MkdirAll(r.ctrDataDir(id), 0o700); err != nil {
		return nil, err
	}
	if err := secrets.write(r, id); err != nil {
		return nil, err
	}
	mounts.commit()
	c, err := fromRecord(rec)
	if c != nil {
		c.Warnings = netPlan.warnings
	}
	r.event(ctx, "container", "create", id, name, r.createEventAttrs(cfg.Labels, imageName, c))
	return c, err
}

func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseUmask reads an octal umask (at most 0777); nil when s is empty or
// not one.
func parseUmask(s string) *uint32 {
	if s == "" || len(s) > 4 {
		return nil
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o777 {
		return nil
	}
	m := uint32(n)
	return &m
}

// mergeEnv overlays user variables on the image's, by key.
func mergeEnv(base, over []string) []string {
	out := append([]string(nil), base...)
	idx := map[string]int{}
	for i, e := range out {
		k, _, _ := strings.Cut(e, "=")
		idx[k] = i
	}
	for _, e := range over {
		k, _, _ := strings.Cut(e, "=")
		if i, ok := idx[k]; ok {
			out[i] = e
			continue
		}
		idx[k] = len(out)
		out = append(out, e)
	}
	return out
}

// ParseRestartPolicy validates no|always|unless-stopped|on-failure[:N].
func ParseRestartPolicy(s string) (string, int, error) {
	name, max, hasMax := strings.Cut(s, ":")
	switch name {
	case "", "no":
		if hasMax {
			break
		}
		return "", 0, nil
	case "always", "unless-stopped":
		if hasMax {
			break
		}
		return name, 0, nil
	case "on-failure":
		if !hasMax {
			return name, 0, nil
		}
		var n int
		if _, err := fmt.Sscanf(max, "%d", &n); err == nil && n >= 0 && fmt.Sprint(n) == max {
			return name, n, nil
		}
	}
	return "", 0, fmt.Errorf("invalid restart policy %q: must be no, always, unless-stopped or on-failure[:max-retries]: %w", s, errdefs.ErrInvalidArgument)
}

func parseLogOptions(driver string, opts map[string]string) (string, map[string]string, error) {
	switch driver {
	case "":
		driver = "k8s-file"
	case "k8s-file", "json-file", "none":
		// json-file keeps its name (inspect shows what was asked for), but
		// its log is written in the k8s-file format, as podman does.
	default:
		// Worded as podman's, which scripts and tests match.
		return "", nil, fmt.Errorf("running container create option: invalid log driver: %w", errdefs.ErrInvalidArgument)
	}
	for k, v := range opts {
		switch k {
		case "max-size":
			if _, err := ParseSize(v); err != nil {
				return "", nil, fmt.Errorf("invalid --log-opt max-size=%s: %w", v, errdefs.ErrInvalidArgument)
			}
		case "max-file":
			var n int
			if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 1 {
				return "", nil, fmt.Errorf("invalid --log-opt max-file=%s: must be a positive integer: %w", v, errdefs.ErrInvalidArgument)
			}
		case "path", "tag":
		default:
			return "", nil, fmt.Errorf("unknown log option %q: %w", k, errdefs.ErrInvalidArgument)
		}
	}
	return driver, opts, nil
}

// Container returns one container by name, ID or ID prefix, with its state
// synced from its monitor.
func (r *Runtime) Container(ctx context.Context, nameOrID string) (*Container, error) {
	rec, err := r.db.GetContainer(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	c, err := fromRecord(rec)
	if err != nil {
		return nil, err
	}
	r.observe(c)
	c.Health = r.HealthStatus(c) // healthcheck.go
	return c, nil
}

// Containers lists all containers, newest first, with their states synced.
func (r *Runtime) Containers(ctx context.Context) ([]*Container, error) {
	recs, err := r.db.ListContainers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Container, 0, len(recs))
	for _, rec := range recs {
		c, err := fromRecord(rec)
		if err != nil {
			return nil, err
		}
		r.observe(c)
		c.Health = r.HealthStatus(c)
		out = append(out, c)
	}
	return out, nil
}
