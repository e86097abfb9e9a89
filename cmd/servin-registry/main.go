// Command servin-registry serves servin's OCI distribution registry; it is
// what `servin registry serve` runs. The registry server's dependencies
// (the CNCF distribution handlers, metrics, tracing) live in this helper
// binary so that they add nothing to the start-up time of every servin
// command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/servin/servin/libservin/registry"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("servin-registry", flag.ContinueOnError)
	o := registry.Options{}
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:5000", "listen address (port 0: any free port)")
	fs.StringVar(&o.Root, "root", "/var/lib/servin/registry", "directory holding the registry's data")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "PEM certificate: serve HTTPS")
	fs.StringVar(&o.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&o.Htpasswd, "htpasswd", "", "htpasswd file (bcrypt entries): require basic authentication")
	fs.StringVar(&o.Realm, "realm", "servin-registry", "basic authentication realm")
	fs.StringVar(&o.Token.Realm, "auth-token-realm", "", "token server URL: require bearer tokens it issues")
	fs.StringVar(&o.Token.Service, "auth-token-service", "", "registry name tokens must be issued for (default servin-registry)")
	fs.StringVar(&o.Token.Issuer, "auth-token-issuer", "", "issuer tokens must name")
	fs.StringVar(&o.Token.RootCertBundle, "auth-token-cert", "", "PEM certificates of the keys that sign tokens")
	fs.StringVar(&o.LogLevel, "log-level", "warn", "log level (error, warn, info, debug)")
	fs.BoolVar(&o.AccessLog, "access-log", false, "log every request to standard error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 125
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "Error: registry serve takes no arguments, got %q\n", fs.Args())
		return 125
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := registry.New(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		return 125
	}
	scheme := "http"
	if o.TLSCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(os.Stderr, "servin registry listening on %s://%s, storing in %s\n", scheme, srv.Addr(), o.Root)
	if err := srv.Serve(ctx, 10*time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		return 125
	}
	return 0
}
