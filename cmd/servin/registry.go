package main

// registry serve: servin's own OCI distribution registry.

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/registry"
)

func registryCommand() *cli.Command {
	serve := &cli.Command{
		Name:  "serve",
		Usage: "serve an OCI distribution registry stored under a directory",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:5000", Usage: "listen address"},
			&cli.StringFlag{Name: "root", Value: "/var/lib/servin/registry", Usage: "directory holding the registry's data"},
			&cli.StringFlag{Name: "tls-cert", Usage: "PEM certificate: serve HTTPS"},
			&cli.StringFlag{Name: "tls-key", Usage: "PEM private key of --tls-cert"},
			&cli.StringFlag{Name: "htpasswd", Usage: "htpasswd file (bcrypt entries): require basic authentication"},
			&cli.StringFlag{Name: "realm", Value: "servin-registry", Usage: "basic authentication realm"},
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

// registryServe runs in the foreground until SIGINT or SIGTERM, then lets
// requests in flight finish.
func registryServe(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("registry serve takes no arguments: %w", errdefs.ErrInvalidArgument)
	}
	level := c.String("log-level")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := registry.New(ctx, registry.Options{
		Addr: c.String("addr"), Root: c.String("root"),
		TLSCert: c.String("tls-cert"), TLSKey: c.String("tls-key"),
		Htpasswd: c.String("htpasswd"), Realm: c.String("realm"),
		LogLevel: level, AccessLog: c.Bool("access-log"),
	})
	if err != nil {
		return fmt.Errorf("%w: %w", err, errdefs.ErrInvalidArgument)
	}
	scheme := "http"
	if c.String("tls-cert") != "" {
		scheme = "https"
	}
	fmt.Fprintf(os.Stderr, "servin registry listening on %s://%s, storing in %s\n", scheme, srv.Addr(), c.String("root"))
	return srv.Serve(ctx, 10*time.Second)
}
