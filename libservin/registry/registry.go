// Package registry owns servin's embedded OCI distribution registry
// (`servin registry serve`): the CNCF distribution registry's HTTP
// application (github.com/distribution/distribution/v3) storing blobs and
// manifests on the local filesystem under one root directory, optionally
// behind TLS and htpasswd (bcrypt) basic or bearer-token authentication.
//
// Only the registry's HTTP handlers are used, not its command-line server:
// servin builds the configuration itself and runs its own http.Server, so
// the registry's tracing exporters, debug server and configuration-file
// machinery stay out of servin.
package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/sirupsen/logrus"

	// The registry finds its storage driver and access controller by
	// name in registries filled by these packages' init functions.
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/auth/token"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

// Options configure a Server.
type Options struct {
	// Addr is the listen address, e.g. "127.0.0.1:5000".
	Addr string
	// Root is the directory holding the registry's data; created if needed.
	Root string
	// TLSCert and TLSKey, both or neither, are PEM files: with them the
	// registry serves HTTPS only.
	TLSCert, TLSKey string
	// Htpasswd is an htpasswd file with bcrypt entries; when set, every
	// request needs basic authentication.
	Htpasswd string
	// Realm is the basic-auth realm ("servin-registry" by default).
	Realm string
	// Token, when its Realm is set, requires bearer tokens (the docker
	// token authentication protocol) instead of basic authentication.
	Token TokenAuth
	// LogLevel is the registry's log level (error, warn, info, debug).
	LogLevel string
	// AccessLog writes one line per request to LogOutput.
	AccessLog bool
	// LogOutput receives the registry's logs (default os.Stderr).
	LogOutput io.Writer
}

// TokenAuth configures bearer-token authentication: clients get a JWT
// from the token server at Realm and present it to the registry, which
// checks its signature, issuer, audience (Service) and the access it
// grants.
type TokenAuth struct {
	// Realm is the token server's URL, sent to clients in the
	// WWW-Authenticate challenge.
	Realm string
	// Service is the registry's name: the audience tokens must be for
	// ("servin-registry" by default).
	Service string
	// Issuer is the "iss" tokens must carry.
	Issuer string
	// RootCertBundle is a PEM file of the certificates whose keys sign
	// tokens (a token names its key by x5c chain or key ID).
	RootCertBundle string
}

// Server is a running registry.
type Server struct {
	opts     Options
	app      *handlers.App
	server   *http.Server
	listener net.Listener
}

// New checks the options, prepares the storage root and binds the listen
// address, so that a port already in use is reported before serving.
func New(ctx context.Context, o Options) (*Server, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Root, 0o755); err != nil {
		return nil, fmt.Errorf("registry root %s: %w", o.Root, err)
	}
	configureLogging(o)
	app, err := newApp(ctx, o)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	var handler http.Handler = app
	if o.AccessLog {
		handler = accessLog(logOutput(o), handler)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second}
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("registry TLS certificate: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	return &Server{opts: o, app: app, server: srv, listener: ln}, nil
}

func (o *Options) check() error {
	if o.Addr == "" {
		return errors.New("registry: a listen address is required")
	}
	if o.Root == "" {
		return errors.New("registry: a storage root directory is required")
	}
	abs, err := filepath.Abs(o.Root)
	if err != nil {
		return err
	}
	o.Root = abs
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("registry: --tls-cert and --tls-key go together")
	}
	if err := o.Token.check(o.Htpasswd); err != nil {
		return err
	}
	for _, f := range []string{o.TLSCert, o.TLSKey, o.Htpasswd, o.Token.RootCertBundle} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			// The registry would otherwise create a missing htpasswd
			// file with a random password of its own.
			return fmt.Errorf("registry: %w", err)
		}
	}
	if o.Realm == "" {
		o.Realm = "servin-registry"
	}
	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}
	return nil
}

// config is the registry configuration servin serves with.
func (o *Options) config() *configuration.Configuration {
	c := &configuration.Configuration{Version: "0.1"}
	c.Log.Level = configuration.Loglevel(o.LogLevel)
	c.Log.AccessLog.Disabled = true
	c.Storage = configuration.Storage{
		"filesystem": configuration.Parameters{"rootdirectory": o.Root},
		// Deleting manifests and blobs lets clients clean up.
		"delete": configuration.Parameters{"enabled": true},
		// The in-memory descriptor cache saves stat calls on hot blobs.
		"cache": configuration.Parameters{"blobdescriptor": "inmemory"},
	}
	switch {
	case o.Htpasswd != "":
		c.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": o.Realm, "path": o.Htpasswd}}
	case o.Token.Realm != "":
		c.Auth = configuration.Auth{"token": configuration.Parameters{
			"realm": o.Token.Realm, "service": o.Token.Service, "issuer": o.Token.Issuer,
			"rootcertbundle": o.Token.RootCertBundle,
		}}
	}
	// Parsing a configuration file would set these defaults; a zero
	// limit would make the catalog and tag lists empty.
	c.Catalog.MaxEntries = 1000
	c.Tags.MaxTags = 1000
	c.HTTP.Addr = o.Addr
	if o.TLSCert != "" {
		c.HTTP.TLS.Certificate, c.HTTP.TLS.Key = o.TLSCert, o.TLSKey
	}
	// One process serves: upload state needs no secret shared with others.
	c.HTTP.Secret = "servin-registry-single-instance"
	c.HTTP.Headers = http.Header{"X-Content-Type-Options": []string{"nosniff"}}
	return c
}

// check validates the token options and fills in the default service;
// Options.check reports a missing certificate file.
func (t *TokenAuth) check(htpasswd string) error {
	if t.Realm == "" {
		if t.Issuer != "" || t.RootCertBundle != "" || t.Service != "" {
			return errors.New("registry: token authentication needs --auth-token-realm")
		}
		return nil
	}
	if htpasswd != "" {
		return errors.New("registry: --htpasswd and --auth-token-realm exclude each other")
	}
	if t.Issuer == "" || t.RootCertBundle == "" {
		return errors.New("registry: token authentication needs --auth-token-issuer and --auth-token-cert")
	}
	if t.Service == "" {
		t.Service = "servin-registry"
	}
	return nil
}

// newApp builds the registry application; the library reports
// configuration problems by panicking, which becomes an error here.
func newApp(ctx context.Context, o Options) (app *handlers.App, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("registry: %v", r)
		}
	}()
	return handlers.NewApp(ctx, o.config()), nil
}

func logOutput(o Options) io.Writer {
	if o.LogOutput != nil {
		return o.LogOutput
	}
	return os.Stderr
}

// configureLogging points the registry's logger (logrus, process-wide) at
// the configured output and level.
func configureLogging(o Options) {
	logrus.SetOutput(logOutput(o))
	if lvl, err := logrus.ParseLevel(o.LogLevel); err == nil {
		logrus.SetLevel(lvl)
	}
	logrus.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
}

// Addr is the address the registry listens on (useful with port 0).
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Serve serves until ctx is done, then stops accepting requests and lets
// running ones finish for up to drain.
func (s *Server) Serve(ctx context.Context, drain time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- s.server.Serve(s.listener) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := s.server.Shutdown(sctx)
	if aerr := s.app.Shutdown(); aerr != nil && err == nil {
		err = aerr
	}
	return err
}

// accessLog writes "METHOD PATH STATUS BYTES DURATION" per request.
func accessLog(w io.Writer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: rw, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		fmt.Fprintf(w, "%s %s %s %d %d %v\n", r.RemoteAddr, r.Method, r.URL.Path, rec.status, rec.bytes, time.Since(start).Round(time.Microsecond))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Flush lets streamed responses through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
