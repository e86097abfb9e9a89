// Package image owns servin's local image and layer store.
//
// It wraps containers/storage (go.podman.io/storage), which keeps the image
// records, the layers and the containers' read-write layers on disk, and
// containers/image (go.podman.io/image/v5), which moves whole images
// (manifest + config + layers) between the store and tarballs or archives.
// Everything servin knows about images goes through this package: listing,
// name resolution with podman's rules, import, load, save, tag, rmi, and the
// per-container read-write layer (create, mount, unmount, delete).
//
// The store never reads podman's configuration for its own settings: the
// caller passes the roots, the driver and the driver options explicitly.
// Programs using this package must call ReexecInit first thing in main,
// because containers/storage applies layers in a re-executed child.
package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	drivers "go.podman.io/storage/drivers"
	"go.podman.io/storage/pkg/reexec"
	stypes "go.podman.io/storage/types"
)

// StoreOptions says where the store lives and how layers are stacked.
type StoreOptions struct {
	GraphRoot string // persistent data, e.g. /var/lib/servin/storage
	RunRoot   string // run-time state (mount counts), e.g. /run/servin/storage
	// Driver is the graph driver; "" means overlay when the kernel and the
	// backing filesystem support it, else vfs.
	Driver string
	// DriverOptions are passed through as "driver.key=value" (--storage-opt).
	DriverOptions []string
	// TmpDir holds temporary files; empty: GraphRoot/tmp.
	TmpDir string
}

// Store is an open image and layer store.
type Store struct {
	store     storage.Store
	graphRoot string
	tmp       string // StoreOptions.TmpDir
}

// ReexecInit must be called at the very beginning of main. containers/storage
// re-executes the current binary to unpack layers inside a chroot; when the
// process is such a child, ReexecInit runs the child's work and returns
// true, and main must return at once.
func ReexecInit() bool {
	return reexec.Init()
}

// OpenStore opens (creating if needed) the store. It only initialises the
// graph driver and reads the store's JSON indexes, so callers should open it
// lazily, only for commands that need images or container layers.
func OpenStore(opts StoreOptions) (*Store, error) {
	if opts.GraphRoot == "" || opts.RunRoot == "" {
		return nil, classed(errdefs.ErrInvalidArgument, "image store: GraphRoot and RunRoot must be set")
	}
	driver := opts.Driver
	if driver == "" {
		driver = priorDriver(opts.GraphRoot)
	}
	st, err := getStore(opts, driver)
	if err != nil && opts.Driver == "" && driver == "overlay" && isDriverNotSupported(err) {
		st, err = getStore(opts, "vfs")
	}
	if err != nil {
		return nil, fmt.Errorf("opening image store at %s: %w", opts.GraphRoot, err)
	}
	return &Store{store: st, graphRoot: st.GraphRoot(), tmp: opts.TmpDir}, nil
}

func getStore(opts StoreOptions, driver string) (storage.Store, error) {
	return storage.GetStore(stypes.StoreOptions{
		GraphRoot:          opts.GraphRoot,
		RunRoot:            opts.RunRoot,
		GraphDriverName:    driver,
		GraphDriverOptions: driverOptions(opts.DriverOptions),
		RootAutoNsUser:     "containers", // --userns=auto ranges, as podman
	})
}

// priorDriver picks the driver for a store without a configured one: the
// driver whose image index already exists in graphRoot (so a store that once
// fell back to vfs keeps its images), else overlay. Choosing by name, rather
// than with storage's priority list, keeps storage from logging its choice
// on every open.
func priorDriver(graphRoot string) string {
	for _, d := range []string{"overlay", "vfs"} {
		if _, err := os.Stat(filepath.Join(graphRoot, d+"-images")); err == nil {
			return d
		}
	}
	return "overlay"
}

func isDriverNotSupported(err error) bool {
	return errors.Is(err, drivers.ErrNotSupported) || errors.Is(err, drivers.ErrPrerequisites) ||
		errors.Is(err, drivers.ErrIncompatibleFS)
}

// driverOptions adds the defaults podman's packaged storage.conf uses
// (overlay mounted nodev) unless the caller set that option itself, or
// gave an empty option (--storage-opt=""), which means no options but
// those given. Options of a driver that is not selected are ignored by
// storage.
func driverOptions(user []string) []string {
	if slices.Contains(user, "") {
		return slices.DeleteFunc(slices.Clone(user), func(o string) bool { return o == "" })
	}
	opts := slices.Clone(user)
	hasMountOpt := slices.ContainsFunc(opts, func(o string) bool {
		return strings.HasPrefix(o, "overlay.mountopt=") || strings.HasPrefix(o, "overlay2.mountopt=")
	})
	if !hasMountOpt {
		opts = append(opts, "overlay.mountopt=nodev")
	}
	return opts
}

// Shutdown releases the store. Layers of running containers stay mounted
// unless force is set, in which case everything is unmounted (tests, or a
// full servin reset).
func (s *Store) Shutdown(force bool) {
	if !force {
		// Storage unmounts its driver's home when it knows of no mounted
		// layer, which would take the driver layers' mounts (ctrlayer.go)
		// with it: it is asked only when none is mounted either, and
		// under the layers lock, which every mount takes.
		unlock, err := s.layersLock(true)
		if err != nil {
			return
		}
		defer unlock()
		if s.anyDriverLayerMounted() {
			return
		}
	}
	if force {
		s.unmountAllDriverLayers()
	}
	// storage reports ErrLayerUsedByContainer when mounts remain and force
	// is false: that is the normal state while containers run.
	_, _ = s.store.Shutdown(force)
}

// Driver returns the graph driver in use ("overlay" or "vfs").
func (s *Store) Driver() string {
	return s.store.GraphDriverName()
}

// Storage returns the underlying containers/storage store.
func (s *Store) Storage() storage.Store {
	return s.store
}

// tmpDir returns a directory for big temporary files (staged import layers,
// decompressed archives) on the same filesystem as the store, rather than
// /tmp, which may be a small tmpfs.
func (s *Store) tmpDir() (string, error) {
	dir := s.tmp
	if dir == "" {
		dir = filepath.Join(s.graphRoot, "tmp")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return dir, nil
}

// systemContext is what containers/image needs to know about this store.
// Pointing the blob-info cache and temporary files under GraphRoot keeps
// image/v5 away from /var/lib/containers and /var/tmp. Registries.conf and
// policy.json are never read: servin only uses local transports and passes
// its own policy (policyContext).
func (s *Store) systemContext() (*types.SystemContext, error) {
	tmp, err := s.tmpDir()
	if err != nil {
		return nil, err
	}
	return &types.SystemContext{
		BigFilesTemporaryDir: tmp,
		BlobInfoCacheDir:     filepath.Join(s.graphRoot, "cache"),
	}, nil
}

// policyContext accepts any image: servin only moves images between local
// files and its own store, there is no remote source to verify.
func policyContext() (*signature.PolicyContext, error) {
	return signature.NewPolicyContext(&signature.Policy{
		Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()},
	})
}
