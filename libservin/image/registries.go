package image

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
)

// DefaultConfigDir holds servin's registry configuration, laid out like
// /etc/containers so that podman's files can be copied over as they are:
//
//	registries.conf     registries, mirrors, blocking, short names (TOML)
//	registries.conf.d/  drop-in files merged into registries.conf
//	registries.d/       signature storage (lookaside) per registry (YAML)
//	certs.d/HOST:PORT/  ca.crt, client.cert, client.key per registry
//	policy.json         signature policy enforced on pull
const DefaultConfigDir = "/etc/servin"

// RegistryConfig says where servin reads its registry configuration and
// keeps its credentials. servin never reads /etc/containers or the
// user's podman/docker files unless pointed at them.
type RegistryConfig struct {
	// ConfigDir is DefaultConfigDir unless servin runs with another
	// configuration file, whose directory is then used.
	ConfigDir string
	// RegistriesConf overrides ConfigDir/registries.conf (for example
	// from $SERVIN_REGISTRIES_CONF). It must exist when set.
	RegistriesConf string
	// AuthFile is the default credentials file (/run/servin/auth.json):
	// credentials are dropped at reboot, as podman does for root.
	AuthFile string
	// UserAgent is sent to registries.
	UserAgent string
}

// RemoteOptions are the per-command settings of an operation that talks
// to a registry.
type RemoteOptions struct {
	Config RegistryConfig
	// TLSVerify overrides registries.conf: false allows plain http and
	// unverified certificates, true requires verification.
	TLSVerify *bool
	// CertDir replaces the certs.d/HOST lookup with one directory.
	CertDir string
	// AuthFile replaces Config.AuthFile (--authfile, $REGISTRY_AUTH_FILE).
	AuthFile string
	// Creds is "user[:password]" used instead of stored credentials.
	Creds string
	// SignaturePolicy replaces ConfigDir/policy.json.
	SignaturePolicy string
	// OS, Arch and Variant choose the instance of a multi-arch image.
	OS, Arch, Variant string
	// ReportWriter receives progress; nil means none.
	ReportWriter io.Writer
	// Timeout bounds the first exchange with a registry (connection,
	// authentication, manifest): a registry that accepts connections but
	// never answers fails after it instead of hanging. 0 means 30s.
	Timeout time.Duration
}

// answerTimeout is o.Timeout or its default.
func (o *RemoteOptions) answerTimeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return 30 * time.Second
}

func (c RegistryConfig) dir() string {
	if c.ConfigDir == "" {
		return DefaultConfigDir
	}
	return c.ConfigDir
}

func (c RegistryConfig) path(name string) string { return filepath.Join(c.dir(), name) }

// remoteContext builds the containers/image context for a registry
// operation: every configuration path points into servin's own directory,
// so podman's and docker's configuration is never consulted by accident.
func (s *Store) remoteContext(o *RemoteOptions) (*types.SystemContext, error) {
	sys, err := s.systemContext()
	if err != nil {
		return nil, err
	}
	conf, err := s.registriesConf(o.Config)
	if err != nil {
		return nil, err
	}
	sys.SystemRegistriesConfPath = conf
	sys.SystemRegistriesConfDirPath = conf + ".d"
	sys.RegistriesDirPath = o.Config.path("registries.d")
	sys.UserShortNameAliasConfPath = filepath.Join(s.graphRoot, "cache", "short-name-aliases.conf")
	sys.DockerPerHostCertDirPath = o.Config.path("certs.d")
	sys.DockerCertPath = o.CertDir
	sys.AuthFilePath = authFile(o)
	sys.DockerRegistryUserAgent = o.Config.UserAgent
	sys.OSChoice, sys.ArchitectureChoice, sys.VariantChoice = o.OS, o.Arch, o.Variant
	if o.TLSVerify != nil {
		sys.DockerInsecureSkipTLSVerify = types.NewOptionalBool(!*o.TLSVerify)
		sys.OCIInsecureSkipTLSVerify = !*o.TLSVerify
	}
	if o.Creds != "" {
		user, pass, _ := strings.Cut(o.Creds, ":")
		if user == "" {
			return nil, classed(errdefs.ErrInvalidArgument, "--creds %q: the user name must not be empty", o.Creds)
		}
		sys.DockerAuthConfig = &types.DockerAuthConfig{Username: user, Password: pass}
	}
	return sys, nil
}

// authFile is the credentials file an operation reads and writes.
func authFile(o *RemoteOptions) string {
	switch {
	case o.AuthFile != "":
		return o.AuthFile
	case os.Getenv("REGISTRY_AUTH_FILE") != "":
		return os.Getenv("REGISTRY_AUTH_FILE")
	case o.Config.AuthFile != "":
		return o.Config.AuthFile
	}
	return "/run/servin/auth.json"
}

// defaultRegistriesConf is used when servin has no registries.conf: short
// names are looked up on docker.io only, as docker does, so that there is
// never an ambiguity to resolve.
const defaultRegistriesConf = `# Written by servin: the defaults used while ` + DefaultConfigDir + `/registries.conf is absent.
unqualified-search-registries = ["docker.io"]
short-name-mode = "enforcing"
`

// registriesConf returns the registries.conf to use. containers/image
// requires an explicitly configured file to exist, so without one servin
// points it at a defaults file of its own under the store.
func (s *Store) registriesConf(c RegistryConfig) (string, error) {
	if c.RegistriesConf != "" {
		if _, err := os.Stat(c.RegistriesConf); err != nil {
			return "", classed(errdefs.ErrInvalidArgument, "registries configuration: %v", err)
		}
		return c.RegistriesConf, nil
	}
	conf := c.path("registries.conf")
	if _, err := os.Stat(conf); err == nil {
		return conf, nil
	}
	def := filepath.Join(s.graphRoot, "registries-default.conf")
	if data, err := os.ReadFile(def); err == nil && string(data) == defaultRegistriesConf {
		return def, nil
	}
	if err := os.WriteFile(def, []byte(defaultRegistriesConf), 0o644); err != nil {
		return "", fmt.Errorf("writing default registries configuration: %w", err)
	}
	return def, nil
}

// remotePolicy loads the signature policy for pulls: the file given, else
// ConfigDir/policy.json, else (no file at all) accept anything, which is
// what podman's packaged default policy says.
func remotePolicy(o *RemoteOptions) (*signature.PolicyContext, error) {
	path := o.SignaturePolicy
	if path == "" {
		def := o.Config.path("policy.json")
		if _, err := os.Stat(def); err != nil {
			return policyContext()
		}
		path = def
	}
	policy, err := signature.NewPolicyFromFile(path)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "signature policy %s: %v", path, err)
	}
	return signature.NewPolicyContext(policy)
}

// SearchRegistries lists the unqualified-search registries of the
// registries.conf that c points at, as info shows them.
func (s *Store) SearchRegistries(c RegistryConfig) ([]string, error) {
	sys, err := s.remoteContext(&RemoteOptions{Config: c})
	if err != nil {
		return nil, err
	}
	return sysregistriesv2.UnqualifiedSearchRegistries(sys)
}
