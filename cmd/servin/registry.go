package main

// registry serve: servin's own OCI distribution registry. The server runs
// in the servin-registry helper binary (cmd/servin-registry), which this
// command execs: its dependencies stay out of every other command's
// start-up.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin/errdefs"
)

func registryCommand() *cli.Command {
	serve := &cli.Command{
		Name:  "serve",
		Usage: "serve an OCI distribution registry stored under a directory",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:5000", Usage: "listen address (port 0: any free port, printed at start)"},
			&cli.StringFlag{Name: "root", Value: "/var/lib/servin/registry", Usage: "directory holding the registry's data"},
			&cli.StringFlag{Name: "tls-cert", Usage: "PEM certificate: serve HTTPS"},
			&cli.StringFlag{Name: "tls-key", Usage: "PEM private key of --tls-cert"},
			&cli.StringFlag{Name: "htpasswd", Usage: "htpasswd file (bcrypt entries): require basic authentication"},
			&cli.StringFlag{Name: "realm", Value: "servin-registry", Usage: "basic authentication realm"},
			&cli.StringFlag{Name: "auth-token-realm", Usage: "token server URL: require bearer tokens it issues (docker token authentication)"},
			&cli.StringFlag{Name: "auth-token-service", Usage: "registry name tokens must be issued for (default servin-registry)"},
			&cli.StringFlag{Name: "auth-token-issuer", Usage: "issuer tokens must name"},
			&cli.StringFlag{Name: "auth-token-cert", Usage: "PEM certificates whose keys sign tokens"},
			&cli.BoolFlag{Name: "access-log", Usage: "log every request to standard error"},
		},
		Action: registryServe,
	}
	return &cli.Command{
		Name:        "registry",
		Usage:       "run a local OCI registry",
		Subcommands: []*cli.Command{serve},
	}
}

// registryServe replaces this process with servin-registry, which serves
// in the foreground until SIGINT or SIGTERM.
func registryServe(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("registry serve takes no arguments: %w", errdefs.ErrInvalidArgument)
	}
	helper, err := findRegistryHelper()
	if err != nil {
		return err
	}
	args := []string{helper,
		"--addr", c.String("addr"), "--root", c.String("root"),
		"--tls-cert", c.String("tls-cert"), "--tls-key", c.String("tls-key"),
		"--htpasswd", c.String("htpasswd"), "--realm", c.String("realm"),
		"--auth-token-realm", c.String("auth-token-realm"), "--auth-token-service", c.String("auth-token-service"),
		"--auth-token-issuer", c.String("auth-token-issuer"), "--auth-token-cert", c.String("auth-token-cert"),
		"--log-level", c.String("log-level"), "--access-log=" + strconv.FormatBool(c.Bool("access-log")),
	}
	return syscall.Exec(helper, args, os.Environ())
}

// findRegistryHelper locates servin-registry: $SERVIN_REGISTRY_BINARY,
// beside this binary, or in ../libexec/servin/ as installed.
func findRegistryHelper() (string, error) {
	if p := os.Getenv("SERVIN_REGISTRY_BINARY"); p != "" {
		return p, nil
	}
	var cands []string
	if self, err := os.Executable(); err == nil {
		dir := filepath.Dir(self)
		cands = append(cands, filepath.Join(dir, "servin-registry"), filepath.Join(dir, "..", "libexec", "servin", "servin-registry"))
	}
	cands = append(cands, "/usr/local/libexec/servin/servin-registry", "/usr/libexec/servin/servin-registry")
	for _, p := range cands {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return filepath.Clean(p), nil
		}
	}
	return "", fmt.Errorf("servin-registry not found beside servin or in libexec/servin (set $SERVIN_REGISTRY_BINARY): %w", errdefs.ErrNotFound)
}
