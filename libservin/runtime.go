// Package libservin is servin's engine: the Runtime and the nouns it manages
// (containers, images). Every CLI invocation, the API servers and Go
// programs that import servin use this one implementation.
//
// Each container operation follows lock -> sync -> act -> save: it takes the
// container's file lock, re-reads the state from SQLite and from the
// container's monitor, acts, and saves the result before unlocking, so that
// concurrent servin processes never step on each other.
package libservin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/image"
	"github.com/servin/servin/libservin/state"
)

// Options configure a Runtime. The zero value of each field means "the default".
type Options struct {
	// Root holds persistent state: the database, image storage and logs.
	Root string
	// RunRoot holds runtime state that does not survive a reboot.
	RunRoot string
	// StorageDriver is the containers/storage driver ("overlay", "vfs").
	StorageDriver string
	// StorageOptions are driver options (--storage-opt).
	StorageOptions []string
	// MonitorPath is the servin-monitor binary. Required to start containers.
	MonitorPath string
	// RuntimePath is the servin binary used as the OCI runtime helper and
	// cleanup command (`servin oci create`, `servin container cleanup`).
	// Required to start containers.
	RuntimePath string
	// OCIRuntimePath is the small servin-runtime binary the monitor execs
	// to create containers (and libcontainer re-executes as their init).
	// Empty: RuntimePath, which offers the same commands, is used.
	OCIRuntimePath string
	// ConfigPath is passed on to helper processes.
	ConfigPath string
	// LogLevel is passed on to helper processes.
	LogLevel string
	// CNIPluginDir holds the CNI plugins servin runs (bridge, host-local,
	// portmap...). Required for bridge networking; never searched on PATH.
	CNIPluginDir string
	// Version is the engine's version, as /run/.containerenv names it.
	Version string
	// EventsBackend is podman's --events-backend: "file" (the default)
	// and "journald" both record events in servin's database, which is
	// servin's one event store; "none" records nothing, and reading
	// events then fails.
	EventsBackend string
	// EventsCreateInspectData adds the container's inspect JSON to its
	// create event (podman's events_container_create_inspect_data).
	EventsCreateInspectData bool
	// VolumePath holds the data of new local volumes (podman's
	// --volumepath); empty: Root/volumes.
	VolumePath string
	// TmpDir holds temporary files (image blobs being copied, podman's
	// --tmpdir); empty: under the image store.
	TmpDir string
}

// Defaults for Options.
const (
	DefaultRoot    = "/var/lib/servin"
	DefaultRunRoot = "/run/servin"
)

// Runtime is the entry point to servin's engine.
type Runtime struct {
	opts Options
	db   *state.DB

	storeOnce sync.Once
	store     *image.Store
	storeErr  error

	volDrivers volumeDrivers // volume.go
}

// New opens (creating as needed) servin's state under opts.Root and opts.RunRoot.
func New(ctx context.Context, opts Options) (*Runtime, error) {
	if opts.Root == "" {
		opts.Root = DefaultRoot
	}
	if opts.RunRoot == "" {
		opts.RunRoot = DefaultRunRoot
	}
	if err := checkEventsBackend(opts.EventsBackend); err != nil {
		return nil, err
	}
	for _, d := range []string{opts.Root, opts.RunRoot} {
		if !filepath.IsAbs(d) {
			return nil, fmt.Errorf("%q must be an absolute path: %w", d, errdefs.ErrInvalidArgument)
		}
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, err
		}
	}
	db, err := state.Open(filepath.Join(opts.Root, "servin.db"))
	if err != nil {
		return nil, err
	}
	return &Runtime{opts: opts, db: db}, nil
}

// Close releases the database and the image store.
func (r *Runtime) Close() error {
	if r.store != nil {
		r.store.Shutdown(false)
	}
	return r.db.Close()
}

// Options returns the options the runtime runs with (defaults filled in).
func (r *Runtime) Options() Options { return r.opts }

// DB exposes the state store to servin's own packages.
func (r *Runtime) DB() *state.DB { return r.db }

// Store opens containers/storage on first use: commands that only read the
// database (ps, inspect, logs) never pay for it.
func (r *Runtime) Store() (*image.Store, error) {
	r.storeOnce.Do(func() {
		driver := r.opts.StorageDriver
		ctx := context.Background()
		saved, _ := r.db.GetMeta(ctx, "storage_driver")
		if driver != "" && saved != "" && driver != saved {
			r.storeErr = fmt.Errorf("storage driver %q requested but %s was initialized with %q: %w",
				driver, r.opts.Root, saved, errdefs.ErrInvalidArgument)
			return
		}
		if driver == "" {
			driver = saved
		}
		s, err := image.OpenStore(image.StoreOptions{
			GraphRoot:     filepath.Join(r.opts.Root, "storage"),
			RunRoot:       filepath.Join(r.opts.RunRoot, "storage"),
			Driver:        driver,
			DriverOptions: r.opts.StorageOptions,
			TmpDir:        r.opts.TmpDir,
		})
		if err != nil {
			r.storeErr = err
			return
		}
		if saved == "" {
			_ = r.db.SetMeta(ctx, "storage_driver", s.Driver())
		}
		r.store = s
	})
	return r.store, r.storeErr
}

func (r *Runtime) lockDir() string  { return filepath.Join(r.opts.RunRoot, "locks") }
func (r *Runtime) runcRoot() string { return filepath.Join(r.opts.RunRoot, "runc") }
func (r *Runtime) ctrRunDir(id string) string {
	return filepath.Join(r.opts.RunRoot, "containers", id)
}
func (r *Runtime) ctrDataDir(id string) string {
	return filepath.Join(r.opts.Root, "containers", id)
}

// helperArgs are the global flags helper processes need to find the same state.
func (r *Runtime) helperArgs() []string {
	args := []string{"--root", r.opts.Root, "--runroot", r.opts.RunRoot}
	if r.opts.StorageDriver != "" {
		args = append(args, "--storage-driver", r.opts.StorageDriver)
	}
	for _, o := range r.opts.StorageOptions {
		args = append(args, "--storage-opt", o)
	}
	if r.opts.ConfigPath != "" {
		args = append(args, "--config", r.opts.ConfigPath)
	}
	if r.opts.LogLevel != "" {
		args = append(args, "--log-level", r.opts.LogLevel)
	}
	if r.opts.VolumePath != "" {
		args = append(args, "--volumepath", r.opts.VolumePath)
	}
	if r.opts.TmpDir != "" {
		args = append(args, "--tmpdir", r.opts.TmpDir)
	}
	if r.opts.EventsBackend != "" {
		// The cleanup process records died and remove: it must record
		// them where (and whether) this process does.
		args = append(args, "--events-backend", r.opts.EventsBackend)
	}
	return args
}

func (r *Runtime) requireHelpers() error {
	if r.opts.MonitorPath == "" {
		return errors.New("no monitor binary configured (servin-monitor): set Options.MonitorPath")
	}
	if r.opts.RuntimePath == "" {
		return errors.New("no runtime helper configured (the servin binary): set Options.RuntimePath")
	}
	return nil
}
