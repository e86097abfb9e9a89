package image

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/docker/config"
)

// Credentials are kept in an auth.json in the format podman, skopeo and
// docker share ({"auths": {"host": {"auth": base64(user:pass)}}}), written
// atomically with mode 0600. A "credHelpers" entry in that file, or
// credential-helpers in registries.conf, sends them to a
// docker-credential-* helper instead.

// Login checks the credentials against the registry (key is "host[:port]"
// or "host/namespace/repo" for credentials scoped to a repository) and
// stores them. It returns where they were stored.
func (s *Store) Login(ctx context.Context, key, username, password string, o RemoteOptions) (string, error) {
	host, err := authKeyHost(key)
	if err != nil {
		return "", err
	}
	if username == "" {
		return "", classed(errdefs.ErrInvalidArgument, "login to %s: a user name is required", key)
	}
	if password == "" {
		return "", classed(errdefs.ErrInvalidArgument, "login to %s: a password is required", key)
	}
	sys, err := s.remoteContext(&o)
	if err != nil {
		return "", err
	}
	sys.DockerAuthConfig = nil
	if err := docker.CheckAuth(ctx, sys, username, password, host); err != nil {
		var unauth docker.ErrUnauthorizedForCredentials
		if errors.As(err, &unauth) {
			return "", newCauseError(fmt.Sprintf("logging in to %s: invalid user name or password (%v)", host, err), err, errdefs.ErrInvalidArgument)
		}
		return "", newCauseError(fmt.Sprintf("logging in to %s: %v", host, err), err)
	}
	where, err := config.SetCredentials(sys, key, username, password)
	if err != nil {
		return "", fmt.Errorf("storing credentials for %s: %w", key, err)
	}
	return where, nil
}

// Logout removes the stored credentials for key, or all of them.
func (s *Store) Logout(key string, all bool, o RemoteOptions) error {
	sys, err := s.remoteContext(&o)
	if err != nil {
		return err
	}
	if all {
		return config.RemoveAllAuthentication(sys)
	}
	if _, err := authKeyHost(key); err != nil {
		return err
	}
	err = config.RemoveAuthentication(sys, key)
	if errors.Is(err, config.ErrNotLoggedIn) {
		return classed(errdefs.ErrNotFound, "not logged into %s", key)
	}
	return err
}

// LoginUser returns the user name stored for key (login --get-login).
func (s *Store) LoginUser(key string, o RemoteOptions) (string, error) {
	if _, err := authKeyHost(key); err != nil {
		return "", err
	}
	sys, err := s.remoteContext(&o)
	if err != nil {
		return "", err
	}
	sys.DockerAuthConfig = nil
	auth, err := config.GetCredentials(sys, key)
	if err != nil {
		return "", fmt.Errorf("reading credentials for %s: %w", key, err)
	}
	if auth.Username == "" {
		return "", classed(errdefs.ErrNotFound, "not logged into %s", key)
	}
	return auth.Username, nil
}

// authKeyHost checks a login key ("host", "host/ns/repo", with an
// optional scheme as docker accepts) and returns its host.
func authKeyHost(key string) (string, error) {
	k := strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	if k == "" {
		return "", classed(errdefs.ErrInvalidArgument, "a registry is required")
	}
	host, rest, _ := strings.Cut(k, "/")
	if rest != "" {
		if _, err := reference.ParseNormalizedNamed(k); err != nil {
			return "", classed(errdefs.ErrInvalidArgument, "invalid registry or repository %q: %v", key, err)
		}
	}
	if host == "" || strings.ContainsAny(host, " @") {
		return "", classed(errdefs.ErrInvalidArgument, "invalid registry %q", key)
	}
	return host, nil
}
