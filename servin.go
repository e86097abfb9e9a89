// Package servin is the Go door to servin, a daemonless, podman-style
// container engine. A program opens a Runtime with New and uses the same
// engine the servin CLI uses:
//
//	rt, err := servin.New(ctx,
//		servin.WithMonitorPath("/usr/local/libexec/servin/servin-monitor"),
//		servin.WithRuntimePath("/usr/local/bin/servin"),
//		servin.WithCNIPluginDir("/usr/local/libexec/servin/cni"))
//	ctr, err := rt.Create(ctx, &servin.CreateOptions{Image: "busybox", Command: []string{"true"}})
//	code, err := rt.Start(ctx, ctr.ID, servin.StartOptions{Attach: &servin.AttachStreams{Stdout: os.Stdout}})
//
// Containers are run by the servin binary (RuntimePath, used as the OCI
// runtime helper) under a servin-monitor process each (MonitorPath); both
// paths must be given, servin never guesses them.
package servin

import (
	"context"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/volume"
)

// Runtime is servin's engine.
type Runtime = libservin.Runtime

// Types used with Runtime's methods.
type (
	Container     = libservin.Container
	CreateOptions = libservin.CreateOptions
	StartOptions  = libservin.StartOptions
	AttachStreams = libservin.AttachStreams
	RemoveOptions = libservin.RemoveOptions
	ExecOptions   = libservin.ExecOptions
	ImportOptions = libservin.ImportOptions
	LogOptions    = libservin.LogOptions
	Image         = libservin.Image

	// Volumes and mounts (libservin/volume.go, mounts.go, cp.go).
	Volume              = libservin.Volume
	VolumeCreateOptions = libservin.VolumeCreateOptions
	VolumeRemoveOptions = libservin.VolumeRemoveOptions
	MountOptions        = libservin.MountOptions
	CopyOptions         = libservin.CopyOptions
	// VolumeDriver is what a volume plugin implements (Runtime.RegisterVolumeDriver).
	VolumeDriver = volume.Driver
)

// Option configures New.
type Option func(*libservin.Options)

// WithRoot sets the directory for persistent state (default /var/lib/servin).
func WithRoot(dir string) Option { return func(o *libservin.Options) { o.Root = dir } }

// WithRunRoot sets the directory for runtime state (default /run/servin).
func WithRunRoot(dir string) Option { return func(o *libservin.Options) { o.RunRoot = dir } }

// WithStorageDriver selects the containers/storage driver (overlay, vfs).
func WithStorageDriver(name string, options ...string) Option {
	return func(o *libservin.Options) { o.StorageDriver, o.StorageOptions = name, options }
}

// WithMonitorPath sets the servin-monitor binary.
func WithMonitorPath(path string) Option { return func(o *libservin.Options) { o.MonitorPath = path } }

// WithCNIPluginDir sets the directory holding the CNI plugins (bridge,
// host-local, portmap, ...) that bridge networking runs.
func WithCNIPluginDir(dir string) Option { return func(o *libservin.Options) { o.CNIPluginDir = dir } }

// WithOCIRuntimePath sets the servin-runtime binary, the lean OCI runtime
// helper that creates containers (default: the servin binary itself).
func WithOCIRuntimePath(path string) Option {
	return func(o *libservin.Options) { o.OCIRuntimePath = path }
}

// WithRuntimePath sets the servin binary used as OCI runtime helper.
func WithRuntimePath(path string) Option { return func(o *libservin.Options) { o.RuntimePath = path } }

// New opens servin's engine.
func New(ctx context.Context, opts ...Option) (*Runtime, error) {
	var o libservin.Options
	for _, fn := range opts {
		fn(&o)
	}
	return libservin.New(ctx, o)
}
