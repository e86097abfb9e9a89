package libservin

// Healthchecks, as podman runs them without systemd: `servin healthcheck
// run` execs the container's test command, records the result and applies
// the on-failure action; the container's monitor runs that command on the
// healthcheck's interval while the container runs.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/monitor"
	"github.com/servin/servin/libservin/oci"
)

// Health statuses, in podman's and docker's words.
const (
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
	HealthStopped   = "stopped"
)

// On-failure actions (--health-on-failure).
const (
	HealthActionNone    = "none"
	HealthActionKill    = "kill"
	HealthActionRestart = "restart"
	HealthActionStop    = "stop"
)

// Defaults, as in podman.
const (
	defaultHealthInterval    = 30 * time.Second
	defaultHealthTimeout     = 30 * time.Second
	defaultHealthRetries     = 3
	DefaultHealthMaxLogCount = 5
	DefaultHealthMaxLogSize  = 500
	healthLocal              = "local"
	healthEventsLogger       = "events_logger"
)

// HealthConfig is a healthcheck in the docker image-config shape (the
// durations are nanoseconds in JSON), as inspect shows it.
type HealthConfig struct {
	// Test is ["NONE"], ["CMD", arg...], ["CMD-SHELL", command] or a bare
	// command line.
	Test          []string      `json:"Test,omitempty"`
	StartPeriod   time.Duration `json:"StartPeriod,omitempty"`
	StartInterval time.Duration `json:"StartInterval,omitempty"`
	Interval      time.Duration `json:"Interval,omitempty"`
	Timeout       time.Duration `json:"Timeout,omitempty"`
	Retries       int           `json:"Retries,omitempty"`
}

// StartupHealthConfig is podman's startup healthcheck: it runs instead of
// the regular one until it has passed Successes times in a row (once when
// 0); Retries failures in a row (0: never) restart the container.
type StartupHealthConfig struct {
	HealthConfig
	Successes int `json:"Successes,omitempty"`
}

// Defined reports whether h is a healthcheck that runs something.
func (h *HealthConfig) Defined() bool {
	return h != nil && len(h.Test) > 0 && h.Test[0] != "NONE" && h.Test[0] != ""
}

// command is the process the test runs.
func (h *HealthConfig) command() []string {
	switch h.Test[0] {
	case "CMD":
		return h.Test[1:]
	case "CMD-SHELL":
		return []string{"/bin/sh", "-c", strings.Join(h.Test[1:], " ")}
	}
	return h.Test
}

// HealthOptions are the --health-* flags of create and run. Empty strings
// and nil pointers leave the image's healthcheck (or podman's default).
type HealthOptions struct {
	Cmd         string // a shell command, a JSON array (["CMD", ...]) or "none"
	Interval    string // a duration, or "disable": no automatic runs
	Retries     *uint
	Timeout     string
	StartPeriod string
	OnFailure   string // none (""), kill, restart or stop
	Disable     bool   // --no-healthcheck

	LogDestination string // local (""), events_logger or a directory
	MaxLogCount    *uint  // results kept (0: all)
	MaxLogSize     *uint  // bytes of output kept per result (0: all)

	StartupCmd       string
	StartupInterval  string
	StartupRetries   *uint
	StartupSuccesses *uint
	StartupTimeout   string
}

// parseHealthTest turns --health-cmd into a Test as podman does: a JSON
// array is taken as given (a bare command gets "CMD"), "none" disables,
// anything else is a shell command.
func parseHealthTest(in string) ([]string, error) {
	var arr []string
	isArr := json.Unmarshal([]byte(in), &arr) == nil
	if !isArr {
		arr = strings.SplitN(in, " ", 2)
	}
	if len(arr) == 0 || arr[0] == "" {
		return nil, invalidWorded("must define a healthcheck command for all healthchecks")
	}
	switch strings.ToUpper(arr[0]) {
	case "NONE":
		return []string{"NONE"}, nil
	case "CMD":
		if !isArr {
			arr = strings.Fields(in)
		}
		return append([]string{"CMD"}, arr[1:]...), nil
	case "CMD-SHELL":
		return append([]string{"CMD-SHELL"}, arr[1:]...), nil
	}
	if isArr && len(arr) > 1 {
		return append([]string{"CMD"}, arr...), nil
	}
	return []string{"CMD-SHELL", strings.Join(arr, " ")}, nil
}

func parseHealthDuration(flag, v string, def time.Duration, min time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, invalidWorded("invalid healthcheck-%s: %v", flag, err)
	}
	if d < min {
		if min == 0 {
			return 0, invalidWorded("healthcheck-%s must be 0 seconds or greater", flag)
		}
		return 0, invalidWorded("healthcheck-%s must be at least 1 second", flag)
	}
	return d, nil
}

// applyHealth sets cfg's healthcheck from the options and the image's
// own healthcheck (nil when it has none).
func applyHealth(cfg *ContainerConfig, o HealthOptions, image *HealthConfig) error {
	action, err := parseHealthAction(o.OnFailure)
	if err != nil {
		return err
	}
	var base *HealthConfig
	switch {
	case o.Disable:
		if o.Cmd != "" && strings.ToLower(o.Cmd) != "none" {
			return invalidWorded("cannot specify both --no-healthcheck and --health-cmd")
		}
	case o.Cmd != "":
		base = &HealthConfig{}
	case image.Defined():
		c := *image
		base = &c
	}
	if base != nil {
		if base, err = healthFrom(base, o); err != nil {
			return err
		}
	}
	if !base.Defined() {
		if action != HealthActionNone {
			return invalidWorded("cannot set on-failure action to %s without a health check", action)
		}
		return nil
	}
	cfg.Healthcheck, cfg.HealthOnFailure = base, action
	count, size := uint(DefaultHealthMaxLogCount), uint(DefaultHealthMaxLogSize)
	cfg.HealthMaxLogCount, cfg.HealthMaxLogSize = &count, &size
	if err := applyHealthLog(cfg, o); err != nil {
		return err
	}
	if o.StartupCmd != "" {
		if cfg.StartupHealthcheck, err = startupHealthFrom(&StartupHealthConfig{}, o); err != nil {
			return err
		}
	}
	return nil
}

func parseHealthAction(a string) (string, error) {
	switch a {
	case "", HealthActionNone:
		return HealthActionNone, nil
	case HealthActionKill, HealthActionRestart, HealthActionStop:
		return a, nil
	}
	return "", invalidWorded("invalid on-failure action %q for health check: supported actions are none,kill,restart,stop", a)
}

// healthFrom returns base changed by the options that are set, with
// podman's defaults for what neither gives.
func healthFrom(base *HealthConfig, o HealthOptions) (*HealthConfig, error) {
	hc := *base
	if o.Cmd != "" {
		test, err := parseHealthTest(o.Cmd)
		if err != nil {
			return nil, err
		}
		hc.Test = test
	}
	var err error
	if o.Interval == "disable" {
		hc.Interval = 0
	} else if hc.Interval, err = parseHealthDuration("interval", o.Interval, orDuration(hc.Interval, defaultHealthInterval), 0); err != nil {
		return nil, err
	}
	if hc.Timeout, err = parseHealthDuration("timeout", o.Timeout, orDuration(hc.Timeout, defaultHealthTimeout), time.Second); err != nil {
		return nil, err
	}
	if hc.StartPeriod, err = parseHealthDuration("start-period", o.StartPeriod, hc.StartPeriod, 0); err != nil {
		return nil, err
	}
	if o.Retries != nil {
		hc.Retries = int(*o.Retries)
	} else if hc.Retries == 0 {
		hc.Retries = defaultHealthRetries
	}
	if hc.Retries < 1 {
		return nil, invalidWorded("healthcheck-retries must be greater than 0")
	}
	return &hc, nil
}

// startupHealthFrom is healthFrom for the startup healthcheck.
func startupHealthFrom(base *StartupHealthConfig, o HealthOptions) (*StartupHealthConfig, error) {
	s := *base
	if o.StartupCmd != "" {
		test, err := parseHealthTest(o.StartupCmd)
		if err != nil {
			return nil, err
		}
		s.Test = test
	}
	if o.StartupRetries != nil {
		s.Retries = int(*o.StartupRetries)
	}
	if o.StartupSuccesses != nil {
		s.Successes = int(*o.StartupSuccesses)
	}
	var err error
	if s.Interval, err = parseHealthDuration("startup-interval", o.StartupInterval, orDuration(s.Interval, defaultHealthInterval), 0); err != nil {
		return nil, err
	}
	if s.Timeout, err = parseHealthDuration("startup-timeout", o.StartupTimeout, orDuration(s.Timeout, defaultHealthTimeout), time.Second); err != nil {
		return nil, err
	}
	return &s, nil
}

// applyHealthLog sets where results go and how many are kept.
func applyHealthLog(cfg *ContainerConfig, o HealthOptions) error {
	if d := o.LogDestination; d != "" {
		if d != healthLocal && d != healthEventsLogger {
			if !filepath.IsAbs(d) {
				return invalidWorded("healthcheck-log-destination must be an absolute path, %q or %q", healthLocal, healthEventsLogger)
			}
			if st, err := os.Stat(d); err != nil || !st.IsDir() {
				return invalidWorded("healthcheck-log-destination %s: not a directory", d)
			}
		}
		cfg.HealthLogDestination = d
	}
	cfg.HealthLogDestination = firstNonEmpty(cfg.HealthLogDestination, healthLocal)
	if o.MaxLogCount != nil {
		n := *o.MaxLogCount
		cfg.HealthMaxLogCount = &n
	}
	if o.MaxLogSize != nil {
		n := *o.MaxLogSize
		cfg.HealthMaxLogSize = &n
	}
	return nil
}

// UpdateHealth changes a container's healthchecks (podman update
// --health-*): the options that are set replace the current settings. A
// running container's monitor switches to the new interval at once.
func (r *Runtime) UpdateHealth(ctx context.Context, nameOrID string, o HealthOptions) (*Container, error) {
	regular := o.Cmd != "" || o.Interval != "" || o.Retries != nil || o.Timeout != "" || o.StartPeriod != ""
	startup := o.StartupCmd != "" || o.StartupInterval != "" || o.StartupRetries != nil || o.StartupSuccesses != nil || o.StartupTimeout != ""
	return r.withLock(ctx, nameOrID, func(c *Container) error {
		cfg := &c.Config
		var err error
		switch {
		case o.Disable && (regular || startup):
			return invalidWorded("cannot specify both --no-healthcheck and other HealthCheck flags")
		case o.Disable:
			cfg.Healthcheck, cfg.StartupHealthcheck = &HealthConfig{Test: []string{"NONE"}}, nil
		}
		if regular {
			if cfg.Healthcheck == nil && o.Cmd == "" {
				return invalidWorded("healthcheck command is not set")
			}
			if cfg.Healthcheck, err = healthFrom(cmpOr(cfg.Healthcheck, &HealthConfig{}), o); err != nil {
				return err
			}
		}
		if startup {
			if cfg.StartupHealthcheck == nil && o.StartupCmd == "" {
				return invalidWorded("startup healthcheck command is not set")
			}
			if cfg.StartupHealthcheck, err = startupHealthFrom(cmpOr(cfg.StartupHealthcheck, &StartupHealthConfig{}), o); err != nil {
				return err
			}
		}
		if o.OnFailure != "" {
			if cfg.HealthOnFailure, err = parseHealthAction(o.OnFailure); err != nil {
				return err
			}
		}
		if err := applyHealthLog(cfg, o); err != nil {
			return err
		}
		if err := r.saveConfig(ctx, c); err != nil {
			return err
		}
		if c.Running() {
			r.reloadMonitor(c)
		}
		r.ctrEvent(ctx, "update", c, nil)
		return nil
	})
}

// cmpOr returns p, or def when p is nil.
func cmpOr[T any](p, def *T) *T {
	if p == nil {
		return def
	}
	return p
}

// reloadMonitor gives a running container's monitor the container's
// current restart policy and healthcheck.
func (r *Runtime) reloadMonitor(c *Container) {
	restart := firstNonEmpty(c.Config.RestartPolicy, "no")
	err := monitor.Reload(r.ctrRunDir(c.ID), c.State.MonitorPid, func(mc *monitor.Config) {
		mc.Restart, mc.RestartMax = restart, c.Config.RestartMax
		mc.HealthCommand, mc.HealthIntervalMs, mc.HealthStartupIntervalMs = nil, 0, 0
		r.healthMonitorConfig(c, mc)
	})
	if err != nil {
		logrus.Warnf("container %s: the monitor keeps its settings until the next start: %v", c.Name, err)
	}
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// HealthResults is State.Health in inspect: the current status, the
// failures in a row and the latest results.
type HealthResults struct {
	Status        string      `json:"Status"`
	FailingStreak int         `json:"FailingStreak"`
	Log           []HealthLog `json:"Log"`
}

// HealthLog is one healthcheck run.
type HealthLog struct {
	Start    string `json:"Start"`
	End      string `json:"End"`
	ExitCode int    `json:"ExitCode"`
	Output   string `json:"Output"`
}

// healthRecord is the healthcheck file: the results of the container's
// current run, and the startup healthcheck's progress. Start removes the
// file; a restart by the monitor (restart policy) shows in RestartCount.
type healthRecord struct {
	HealthResults
	RestartCount     int  `json:"restartCount"`
	StartupPassed    bool `json:"startupPassed,omitempty"`
	StartupSuccesses int  `json:"startupSuccesses,omitempty"`
	StartupFailures  int  `json:"startupFailures,omitempty"`
}

// healthPath is where the container's results are kept: its data
// directory, or a directory the user named (--health-log-destination).
func (r *Runtime) healthPath(c *Container) string {
	switch d := c.Config.HealthLogDestination; d {
	case "", healthLocal, healthEventsLogger:
		return filepath.Join(r.ctrDataDir(c.ID), "healthcheck.log")
	default:
		return filepath.Join(d, c.ID+"-healthcheck.log")
	}
}

// readHealth returns the results of the container's current run: a record
// left from an earlier run (before a restart) reads as a fresh start.
func (r *Runtime) readHealth(c *Container) healthRecord {
	fresh := healthRecord{HealthResults: HealthResults{Status: HealthStarting, Log: []HealthLog{}}, RestartCount: c.State.RestartCount}
	b, err := os.ReadFile(r.healthPath(c))
	if err != nil {
		return fresh
	}
	var rec healthRecord
	if json.Unmarshal(b, &rec) != nil || rec.RestartCount != c.State.RestartCount {
		return fresh
	}
	if rec.Log == nil {
		rec.Log = []HealthLog{}
	}
	return rec
}

// resetHealth forgets the results of earlier runs (at each start).
func (r *Runtime) resetHealth(c *Container) {
	if c.Config.Healthcheck.Defined() {
		_ = os.Remove(r.healthPath(c))
	}
}

// healthMonitorConfig tells the monitor to run `servin healthcheck run` on
// the healthcheck's interval.
func (r *Runtime) healthMonitorConfig(c *Container, mc *monitor.Config) {
	hc := c.Config.Healthcheck
	if !hc.Defined() {
		return
	}
	mc.HealthCommand = append(append([]string{r.opts.RuntimePath}, r.helperArgs()...), "healthcheck", "run", "--ignore-result", c.ID)
	mc.HealthIntervalMs = hc.Interval.Milliseconds()
	if s := c.Config.StartupHealthcheck; s != nil {
		mc.HealthStartupIntervalMs = max(s.Interval.Milliseconds(), 1)
	}
}

func (r *Runtime) writeHealth(c *Container, rec healthRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	path := r.healthPath(c)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Health returns the container's health results, or nil when it has no
// healthcheck.
func (r *Runtime) Health(c *Container) *HealthResults {
	if !c.Config.Healthcheck.Defined() {
		return nil
	}
	rec := r.readHealth(c)
	return &rec.HealthResults
}

// HealthStatus is the container's health status ("" without a
// healthcheck), as ps shows it.
func (r *Runtime) HealthStatus(c *Container) string {
	if h := r.Health(c); h != nil {
		return h.Status
	}
	return ""
}

// Healthcheck runs the container's healthcheck once (podman healthcheck
// run) and returns the status this run gives: healthy, unhealthy (the
// test failed, whatever the retries say), starting (a startup healthcheck
// has not passed yet) or stopped (the container stopped meanwhile).
func (r *Runtime) Healthcheck(ctx context.Context, nameOrID string) (string, error) {
	c, err := r.Container(ctx, nameOrID)
	if err != nil {
		return "", err
	}
	if c.State.Status != StatusRunning {
		return HealthStopped, errdefs.Worded(errCtrStateImproper, "container %s is not running", c.ID)
	}
	if !c.Config.Healthcheck.Defined() {
		return "", invalidWorded("container %s has no defined healthcheck", c.ID)
	}
	hc := c.Config.Healthcheck
	startup := c.Config.StartupHealthcheck != nil && !r.readHealth(c).StartupPassed
	if startup {
		hc = &c.Config.StartupHealthcheck.HealthConfig
	}
	start := time.Now()
	out, code, timedOut, err := r.execCapture(c, hc.command(), hc.Timeout)
	end := time.Now()
	if err != nil {
		// The test could not run at all (no such command, container
		// gone): a failed check, as in podman, with the reason as output.
		out, code = []byte(err.Error()), 1
		if errdefs.ExitCode(err) == 127 || errdefs.ExitCode(err) == 126 {
			code = errdefs.ExitCode(err)
		}
	}
	if timedOut {
		out, code = fmt.Appendf(out, "healthcheck command exceeded timeout of %s", hc.Timeout), -1
	}
	status := HealthHealthy
	var action string
	_, err = r.withLock(ctx, c.ID, func(c *Container) error {
		rec := r.readHealth(c)
		if max := derefUint(c.Config.HealthMaxLogSize, DefaultHealthMaxLogSize); max > 0 && len(out) > int(max) {
			out = out[:max]
		}
		rec.Log = append(rec.Log, HealthLog{
			Start: start.Format(time.RFC3339Nano), End: end.Format(time.RFC3339Nano),
			ExitCode: code, Output: string(out),
		})
		if max := derefUint(c.Config.HealthMaxLogCount, DefaultHealthMaxLogCount); max > 0 && len(rec.Log) > int(max) {
			rec.Log = rec.Log[len(rec.Log)-int(max):]
		}
		inStartPeriod := time.Now().Before(c.State.StartedAt.Add(c.Config.Healthcheck.StartPeriod))
		switch {
		case code != 0 && c.State.Status != StatusRunning:
			status, rec.Status = HealthStopped, HealthStopped
		case startup:
			// As podman: a passing startup check counts as healthy, a
			// failing one leaves the status (starting) and the streak be.
			action = r.startupResult(c, &rec, code == 0)
			if code == 0 {
				rec.Status, rec.FailingStreak = HealthHealthy, 0
			} else {
				status = HealthStarting
			}
		case code == 0:
			rec.Status, rec.FailingStreak = HealthHealthy, 0
		default:
			status = HealthUnhealthy
			if rec.Status == HealthStarting || rec.Status == "" {
				rec.Status = HealthHealthy // podman's: not unhealthy before the retries run out
			}
			if !inStartPeriod {
				rec.FailingStreak++
				if rec.FailingStreak >= c.Config.Healthcheck.Retries {
					rec.Status = HealthUnhealthy
					action = c.Config.HealthOnFailure
				}
			}
		}
		if err := r.writeHealth(c, rec); err != nil {
			return fmt.Errorf("unable to update health check log %s for %s: %w", r.healthPath(c), c.ID, err)
		}
		r.ctrEvent(ctx, "health_status", c, map[string]string{"health_status": rec.Status, "health_failing_streak": strconv.Itoa(rec.FailingStreak)})
		return nil
	})
	if err != nil {
		return status, err
	}
	return status, r.healthAction(ctx, c.ID, action)
}

// startupResult counts a startup healthcheck run and returns the action
// it calls for (restart after too many failures).
func (r *Runtime) startupResult(c *Container, rec *healthRecord, ok bool) string {
	s := c.Config.StartupHealthcheck
	if ok {
		rec.StartupSuccesses++
		rec.StartupFailures = 0
		if s.Successes == 0 || rec.StartupSuccesses >= s.Successes {
			rec.StartupPassed = true
			// The monitor switches to the regular interval.
			_ = os.WriteFile(filepath.Join(r.ctrRunDir(c.ID), monitor.HealthStartupPassed), nil, 0o600)
		}
		return ""
	}
	rec.StartupSuccesses = 0
	rec.StartupFailures++
	if s.Retries > 0 && rec.StartupFailures >= s.Retries {
		return HealthActionRestart
	}
	return ""
}

func (r *Runtime) healthAction(ctx context.Context, id, action string) error {
	var err error
	switch action {
	case HealthActionKill:
		_, err = r.Kill(ctx, id, "KILL")
	case HealthActionStop:
		_, err = r.Stop(ctx, id, nil)
	case HealthActionRestart:
		err = r.Restart(ctx, id, nil)
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s container %s after its healthcheck failed: %w", action, id, err)
	}
	return nil
}

func derefUint(p *uint, def uint) uint {
	if p == nil {
		return def
	}
	return *p
}

// execCapture runs cmd in the container with stdout and stderr going to
// one pipe, and kills it after timeout (0: none).
func (r *Runtime) execCapture(c *Container, cmd []string, timeout time.Duration) (out []byte, code int, timedOut bool, err error) {
	eo, err := r.execProcessOptions(c, ExecOptions{Cmd: cmd})
	if err != nil {
		return nil, -1, false, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, -1, false, err
	}
	defer pr.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		pw.Close()
		return nil, -1, false, err
	}
	defer null.Close()
	eo.Stdin, eo.Stdout, eo.Stderr = null, pw, pw
	p, err := oci.Exec(r.runcRoot(), c.ID, eo)
	pw.Close()
	if err != nil {
		return nil, -1, false, classifyExecErr(err)
	}
	var buf bytes.Buffer
	read := make(chan struct{})
	go func() { buf.ReadFrom(pr); close(read) }()
	var timer *time.Timer
	expired := make(chan struct{})
	if timeout > 0 {
		timer = time.AfterFunc(timeout, func() { close(expired); _ = p.Signal(syscall.SIGKILL) })
	}
	code, err = p.Wait()
	if timer != nil && !timer.Stop() {
		<-expired
		timedOut = true
	}
	// A process the test left behind may hold the pipe: stop reading soon
	// after the test itself ended.
	select {
	case <-read:
	case <-time.After(100 * time.Millisecond):
		pr.SetReadDeadline(time.Now())
		<-read
	}
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return buf.Bytes(), -1, timedOut, err
	}
	return buf.Bytes(), code, timedOut, nil
}
