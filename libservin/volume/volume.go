// Package volume owns servin's volume drivers: the Driver interface a volume
// plugin implements, the Registry that finds a driver by name, and the
// built-in "local" driver.
//
// A driver owns a volume's data; servin's state database owns the volume's
// record (name, labels, options, which containers use it). The interface
// follows docker's volume plugin protocol (Create, Remove, Mount, Unmount),
// so that a driver speaking that protocol to an out-of-process plugin can be
// registered beside "local" without changing any caller.
package volume

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"sync"

	"github.com/servin/servin/libservin/errdefs"
)

// Volume is what a driver is told about a volume.
type Volume struct {
	Name    string
	Options map[string]string // driver options (-o KEY=VALUE)
	Labels  map[string]string
	// Mountpoint is where the driver keeps the data; Create sets it.
	Mountpoint string
}

// Driver is a volume plugin.
//
// servin serialises calls for one volume (it holds the volume's lock) and
// counts the containers that use a mount: Mount is called each time a
// container starts and must be idempotent; Unmount is called when the last
// container that mounted the volume has stopped.
type Driver interface {
	// Name is the name users pass to --driver.
	Name() string
	// Scope is "local" (the data lives on this host) or "global".
	Scope() string
	// Create validates v.Options, prepares the volume's storage and sets
	// v.Mountpoint. Bad options are errdefs.ErrInvalidArgument.
	Create(ctx context.Context, v *Volume) error
	// Remove deletes the volume's data. It is never called while the
	// volume is mounted for a container.
	Remove(ctx context.Context, v *Volume) error
	// Mount makes the data available for containerID and returns the host
	// path to bind into the container.
	Mount(ctx context.Context, v *Volume, containerID string) (string, error)
	// Unmount releases what Mount set up.
	Unmount(ctx context.Context, v *Volume, containerID string) error
}

// DefaultDriver is the driver of volumes created without --driver.
const DefaultDriver = "local"

// Registry maps driver names to drivers. It is safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	drivers map[string]Driver
}

// NewRegistry returns a registry holding drivers.
func NewRegistry(drivers ...Driver) *Registry {
	r := &Registry{drivers: map[string]Driver{}}
	for _, d := range drivers {
		r.drivers[d.Name()] = d
	}
	return r
}

// Register adds a driver; a name can be registered once.
func (r *Registry) Register(d Driver) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.drivers[d.Name()]; ok {
		return fmt.Errorf("volume driver %q is already registered: %w", d.Name(), errdefs.ErrAlreadyExists)
	}
	r.drivers[d.Name()] = d
	return nil
}

// Get returns the driver called name ("" is the default driver).
func (r *Registry) Get(name string) (Driver, error) {
	if name == "" {
		name = DefaultDriver
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.drivers[name]
	if !ok {
		return nil, fmt.Errorf("volume driver %q not found (available: %v): %w", name, r.namesLocked(), errdefs.ErrNotFound)
	}
	return d, nil
}

// Names lists the registered drivers, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.namesLocked()
}

func (r *Registry) namesLocked() []string {
	names := make([]string, 0, len(r.drivers))
	for n := range r.drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// ValidName checks a volume name: it becomes a directory name, so it must
// not contain a slash or be "." or "..".
func ValidName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("invalid volume name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: %w", name, errdefs.ErrInvalidArgument)
	}
	return nil
}
