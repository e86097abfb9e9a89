package libservin

import (
	"context"
	"os"
	"path/filepath"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/servin/servin/libservin/image"
)

// Registry-facing image operations: pull, push, login/logout.

// RemoteOptions, PullOptions, PushOptions and RetryOptions are the image
// package's.
type (
	RemoteOptions = image.RemoteOptions
	PullOptions   = image.PullOptions
	PushOptions   = image.PushOptions
	RetryOptions  = image.RetryOptions
)

// RegistryConfig returns where this runtime reads registries.conf,
// policy.json and certs.d (the directory of the configuration file,
// /etc/servin by default; $SERVIN_REGISTRIES_CONF overrides the
// registries.conf file) and keeps credentials (RunRoot/auth.json, which
// is /run/servin/auth.json by default).
func (r *Runtime) RegistryConfig() image.RegistryConfig {
	dir := image.DefaultConfigDir
	if r.opts.ConfigPath != "" {
		dir = filepath.Dir(r.opts.ConfigPath)
	}
	return image.RegistryConfig{
		ConfigDir:      dir,
		RegistriesConf: os.Getenv("SERVIN_REGISTRIES_CONF"),
		AuthFile:       filepath.Join(r.opts.RunRoot, "auth.json"),
		UserAgent:      "servin",
	}
}

// SearchRegistries lists the registries short names are looked up in.
func (r *Runtime) SearchRegistries() ([]string, error) {
	s, err := r.Store()
	if err != nil {
		return nil, err
	}
	return s.SearchRegistries(r.RegistryConfig())
}

// Pull copies an image from a registry into the store.
func (r *Runtime) Pull(ctx context.Context, name string, o PullOptions) (*Image, error) {
	s, err := r.pullStore(&o)
	if err != nil {
		return nil, err
	}
	img, err := s.Pull(ctx, name, o)
	if err != nil {
		r.pullErrorEvent(ctx, name, err)
		return img, err
	}
	r.imageEvent(ctx, "pull", img.ID, name)
	return img, nil
}

// Push copies a stored image to a registry or a local transport and
// returns the digest of the manifest written.
func (r *Runtime) Push(ctx context.Context, source, dest string, o PushOptions) (digest.Digest, error) {
	s, err := r.Store()
	if err != nil {
		return "", err
	}
	o.Config = r.RegistryConfig()
	d, err := s.Push(ctx, source, dest, o)
	if err == nil {
		// podman names the image pushed by its ID, not the manifest's digest.
		id := d.String()
		if img, lerr := s.Lookup(ctx, source); lerr == nil {
			id = img.ID
		}
		r.imageEvent(ctx, "push", id, dest)
	}
	return d, err
}

// Login checks and stores credentials for a registry.
func (r *Runtime) Login(ctx context.Context, key, user, password string, o RemoteOptions) (string, error) {
	s, err := r.Store()
	if err != nil {
		return "", err
	}
	o.Config = r.RegistryConfig()
	return s.Login(ctx, key, user, password, o)
}

// Logout removes stored credentials for a registry, or all of them.
func (r *Runtime) Logout(key string, all bool, o RemoteOptions) error {
	s, err := r.Store()
	if err != nil {
		return err
	}
	o.Config = r.RegistryConfig()
	return s.Logout(key, all, o)
}

// LoginUser returns the user name stored for a registry.
func (r *Runtime) LoginUser(key string, o RemoteOptions) (string, error) {
	s, err := r.Store()
	if err != nil {
		return "", err
	}
	o.Config = r.RegistryConfig()
	return s.LoginUser(key, o)
}

// pullStore is the store to pull into, with o completed by the registry
// configuration and the default answer timeout.
func (r *Runtime) pullStore(o *PullOptions) (*image.Store, error) {
	s, err := r.Store()
	if err != nil {
		return nil, err
	}
	o.Config = r.RegistryConfig()
	if o.Timeout == 0 {
		o.Timeout = registryTimeout()
	}
	return s, nil
}

// registryTimeout reads $SERVIN_REGISTRY_TIMEOUT (a Go duration such as
// "10s"): how long a registry may take to answer a pull's first request.
func registryTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("SERVIN_REGISTRY_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return 0
}
