package libservin

import (
	"context"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// InspectContainer is the docker/podman-shaped view of a container that
// `inspect` prints.
type InspectContainer struct {
	ID              string            `json:"Id"`
	Created         time.Time         `json:"Created"`
	Path            string            `json:"Path"`
	Args            []string          `json:"Args"`
	State           InspectState      `json:"State"`
	Image           string            `json:"Image"`
	ImageDigest     string            `json:"ImageDigest"`
	ImageName       string            `json:"ImageName"`
	Rootfs          string            `json:"Rootfs"`
	ResolvConfPath  string            `json:"ResolvConfPath"`
	HostnamePath    string            `json:"HostnamePath"`
	HostsPath       string            `json:"HostsPath"`
	LogPath         string            `json:"LogPath"`
	Name            string            `json:"Name"`
	RestartCount    int               `json:"RestartCount"`
	Driver          string            `json:"Driver"`
	MountLabel      string            `json:"MountLabel"`
	ProcessLabel    string            `json:"ProcessLabel"`
	AppArmorProfile string            `json:"AppArmorProfile"`
	Mounts          []any             `json:"Mounts"`
	Config          InspectConfig     `json:"Config"`
	HostConfig      InspectHostConfig `json:"HostConfig"`
	NetworkSettings InspectNetwork    `json:"NetworkSettings"`
	IsInfra         bool              `json:"IsInfra"`
	ExecIDs         []string          `json:"ExecIDs"` // running exec sessions; execsessions.go
}

// InspectState is State in inspect output.
type InspectState struct {
	OciVersion string    `json:"OciVersion"`
	Status     string    `json:"Status"`
	Running    bool      `json:"Running"`
	Paused     bool      `json:"Paused"`
	Restarting bool      `json:"Restarting"`
	OOMKilled  bool      `json:"OOMKilled"`
	Dead       bool      `json:"Dead"`
	Pid        int       `json:"Pid"`
	ConmonPid  int       `json:"ConmonPid"`
	ExitCode   int       `json:"ExitCode"`
	Error      string    `json:"Error"`
	StartedAt  time.Time `json:"StartedAt"`
	FinishedAt time.Time `json:"FinishedAt"`
	// StoppedByUser: stop or kill ended it (restart policies leave it be).
	StoppedByUser bool `json:"StoppedByUser"`
	// Health: the healthcheck's results, when the container has one.
	Health *HealthResults `json:"Health,omitempty"`
}

// Healthcheck is Health under the name older podman templates use
// ({{.State.Healthcheck.Status}}).
func (s InspectState) Healthcheck() *HealthResults { return s.Health }

// InspectConfig is Config in inspect output.
type InspectConfig struct {
	Hostname      string            `json:"Hostname"`
	Domainname    string            `json:"Domainname"`
	User          string            `json:"User"`
	AttachStdin   bool              `json:"AttachStdin"`
	AttachStdout  bool              `json:"AttachStdout"`
	AttachStderr  bool              `json:"AttachStderr"`
	Tty           bool              `json:"Tty"`
	OpenStdin     bool              `json:"OpenStdin"`
	StdinOnce     bool              `json:"StdinOnce"`
	Env           []string          `json:"Env"`
	Cmd           []string          `json:"Cmd"`
	Image         string            `json:"Image"`
	Volumes       map[string]any    `json:"Volumes"`
	WorkingDir    string            `json:"WorkingDir"`
	Entrypoint    []string          `json:"Entrypoint"`
	Labels        map[string]string `json:"Labels"`
	Annotations   map[string]string `json:"Annotations"`
	StopSignal    string            `json:"StopSignal"`
	StopTimeout   uint              `json:"StopTimeout"`
	CreateCommand []string          `json:"CreateCommand"`
	Secrets       []InspectSecret   `json:"Secrets,omitempty"` // secrets_container.go
	Timezone      string            `json:"Timezone,omitempty"`

	SystemdMode                bool                 `json:"SystemdMode,omitempty"`
	Healthcheck                *HealthConfig        `json:"Healthcheck,omitempty"`
	HealthcheckOnFailureAction string               `json:"HealthcheckOnFailureAction,omitempty"`
	StartupHealthCheck         *StartupHealthConfig `json:"StartupHealthCheck,omitempty"`
	HealthLogDestination       string               `json:"HealthLogDestination,omitempty"`
	HealthMaxLogCount          uint                 `json:"HealthMaxLogCount"`
	HealthMaxLogSize           uint                 `json:"HealthMaxLogSize"`
}

// InspectHostConfig is HostConfig in inspect output.
type InspectHostConfig struct {
	RestartPolicy struct {
		Name              string `json:"Name"`
		MaximumRetryCount int    `json:"MaximumRetryCount"`
	} `json:"RestartPolicy"`
	NetworkMode string `json:"NetworkMode"`
	AutoRemove  bool   `json:"AutoRemove"`
	// AutoRemoveImage is --rmi.
	AutoRemoveImage bool `json:"AutoRemoveImage"`
	LogConfig       struct {
		Type   string            `json:"Type"`
		Config map[string]string `json:"Config"`
		Path   string            `json:"Path"`
		Size   string            `json:"Size"` // max-size, as "1.5MB"; logsize.go
	} `json:"LogConfig"`
	ReadonlyRootfs bool              `json:"ReadonlyRootfs"`
	Memory         int64             `json:"Memory"`
	Init           bool              `json:"Init"`
	GroupAdd       []string          `json:"GroupAdd"`
	Binds          []string          `json:"Binds"` // mountstart.go
	Tmpfs          map[string]string `json:"Tmpfs"`

	InspectHostLimits // security and resources: inspect_security.go
}

// InspectNetwork is NetworkSettings in inspect output (network.go fills it).
type InspectNetwork struct {
	Ports               map[string]any                     `json:"Ports"`
	IPAddress           string                             `json:"IPAddress"`
	IPPrefixLen         int                                `json:"IPPrefixLen"`
	Gateway             string                             `json:"Gateway"`
	GlobalIPv6Address   string                             `json:"GlobalIPv6Address"`
	GlobalIPv6PrefixLen int                                `json:"GlobalIPv6PrefixLen"`
	IPv6Gateway         string                             `json:"IPv6Gateway"`
	MacAddress          string                             `json:"MacAddress"`
	SandboxKey          string                             `json:"SandboxKey"`
	Networks            map[string]*InspectNetworkEndpoint `json:"Networks,omitempty"`
}

// Inspect returns the inspect view of a container.
func (r *Runtime) Inspect(ctx context.Context, nameOrID string) (*InspectContainer, error) {
	c, err := r.Container(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	return r.inspectView(c), nil
}

func (r *Runtime) inspectView(c *Container) *InspectContainer {
	args := c.Config.Args()
	ic := &InspectContainer{
		ID: c.ID, Created: c.Created, Image: c.ImageID, ImageDigest: c.Config.ImageDigest, ImageName: c.ImageName,
		Rootfs: "", Name: c.Name, RestartCount: c.State.RestartCount,
		LogPath: c.Config.LogPath, Mounts: []any{},
		Driver: r.opts.StorageDriver, ExecIDs: r.execIDs(c),
	}
	if len(args) > 0 {
		ic.Path, ic.Args = args[0], args[1:]
	}
	if ic.Args == nil {
		ic.Args = []string{}
	}
	if ic.Driver == "" {
		ic.Driver, _ = r.db.GetMeta(context.Background(), "storage_driver")
	}
	runDir := r.ctrRunDir(c.ID)
	ic.ResolvConfPath = runDir + "/resolv.conf"
	ic.HostnamePath = runDir + "/hostname"
	ic.HostsPath = runDir + "/hosts"
	st := c.State
	status := st.Status
	ic.State = InspectState{
		OciVersion: specs.Version,
		Status:     status,
		Running:    status == StatusRunning || status == StatusStopping,
		Paused:     status == StatusPaused,
		OOMKilled:  st.OOMKilled,
		Pid:        st.Pid,
		ConmonPid:  st.MonitorPid,
		ExitCode:   st.ExitCode,
		Error:      st.Error,
		StartedAt:  st.StartedAt,
		FinishedAt: st.FinishedAt,

		StoppedByUser: st.StoppedByUser,
	}
	if !ic.State.Running && !ic.State.Paused {
		ic.State.Pid, ic.State.ConmonPid = 0, 0
	}
	cfg := c.Config
	ic.Config = InspectConfig{
		Hostname: cfg.Hostname, User: cfg.User, Tty: cfg.Tty, OpenStdin: cfg.Interactive,
		StdinOnce: cfg.Interactive, Env: cfg.Env, Cmd: cfg.Cmd, Image: cfg.Image,
		WorkingDir: firstNonEmpty(cfg.WorkingDir, "/"), Entrypoint: cfg.Entrypoint,
		Labels: cfg.Labels, Annotations: cfg.Annotations, StopSignal: cfg.StopSignal,
		StopTimeout: cfg.StopTimeout, CreateCommand: cfg.CreateCommand,
	}
	if ic.Config.Entrypoint == nil {
		ic.Config.Entrypoint = []string{}
	}
	ic.Config.Secrets, ic.Config.Env = inspectSecrets(&cfg, ic.Config.Env) // secrets_container.go
	ic.Config.SystemdMode = cfg.Systemd
	if cfg.Rootfs != nil {
		ic.Rootfs = cfg.Rootfs.Path
	}
	ic.Config.Healthcheck, ic.Config.StartupHealthCheck = cfg.Healthcheck, cfg.StartupHealthcheck
	if cfg.Healthcheck.Defined() {
		ic.Config.HealthcheckOnFailureAction = firstNonEmpty(cfg.HealthOnFailure, HealthActionNone)
		ic.State.Health = r.Health(c)
	}
	ic.Config.HealthLogDestination = firstNonEmpty(cfg.HealthLogDestination, healthLocal)
	ic.Config.HealthMaxLogCount = derefUint(cfg.HealthMaxLogCount, DefaultHealthMaxLogCount)
	ic.Config.HealthMaxLogSize = derefUint(cfg.HealthMaxLogSize, DefaultHealthMaxLogSize)
	ic.HostConfig.RestartPolicy.Name = firstNonEmpty(cfg.RestartPolicy, "no")
	ic.HostConfig.RestartPolicy.MaximumRetryCount = cfg.RestartMax
	ic.HostConfig.NetworkMode = cfg.NetworkMode
	ic.HostConfig.AutoRemove = cfg.AutoRemove
	ic.HostConfig.AutoRemoveImage = cfg.AutoRemoveImage
	ic.Config.Timezone = cfg.Timezone
	ic.HostConfig.LogConfig.Type = cfg.LogDriver
	ic.HostConfig.LogConfig.Config = cfg.LogOpts
	ic.HostConfig.LogConfig.Path = cfg.LogPath
	ic.HostConfig.LogConfig.Size = logSizeText(cfg.LogOpts["max-size"]) // logsize.go
	ic.HostConfig.ReadonlyRootfs = cfg.ReadOnly
	ic.HostConfig.Memory = cfg.Memory
	ic.HostConfig.Init = cfg.Init
	ic.HostConfig.GroupAdd = cfg.GroupAdd
	ic.Mounts = r.inspectMounts(c) // mountstart.go
	ic.HostConfig.Binds, ic.HostConfig.Tmpfs = inspectBinds(c), inspectTmpfs(c)
	ic.HostConfig.InspectHostLimits = inspectLimits(&cfg)
	ic.NetworkSettings = r.inspectNetwork(c) // network.go
	return ic
}
