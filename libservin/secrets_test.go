package libservin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/servin/servin/libservin/errdefs"
)

func newSecretRuntime(t *testing.T) *Runtime {
	t.Helper()
	dir := t.TempDir()
	r, err := New(context.Background(), Options{Root: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func mustCreateSecret(t *testing.T, r *Runtime, name, data string) *Secret {
	t.Helper()
	s, err := r.CreateSecret(context.Background(), SecretCreateOptions{Name: name, Data: []byte(data)})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return s
}

func TestParseSecretFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want SecretRequest
		err  string
	}{
		{in: "s", want: SecretRequest{Source: "s", Type: "mount", Mode: 0o444}},
		{in: "s,type=env", want: SecretRequest{Source: "s", Type: "env", Target: "s", Mode: 0o444}},
		{in: "s,type=env,target=VAR", want: SecretRequest{Source: "s", Type: "env", Target: "VAR", Mode: 0o444}},
		{in: "source=s,target=/a/b,uid=5,GID=6,mode=0400", want: SecretRequest{Source: "s", Type: "mount", Target: "/a/b", UID: 5, GID: 6, Mode: 0o400}},
		{in: "s,type=mount,target=rel/x", want: SecretRequest{Source: "s", Type: "mount", Target: "rel/x", Mode: 0o444}},
		// A single word is the source, even with "=" in it (as in podman).
		{in: "type=env", want: SecretRequest{Source: "type=env", Type: "mount", Mode: 0o444}},
		{in: "s,foo", err: "option foo must be in form option=value: parsing secret"},
		{in: "s,type=bogus", err: "type bogus is invalid: parsing secret"},
		{in: "s,type=env,type=mount", err: "cannot set more than one secret type: parsing secret"},
		{in: "s,type=env,mode=0400", err: "UID, GID, Mode options cannot be set with secret type env: parsing secret"},
		{in: "s,type=env,uid=1", err: "UID, GID, Mode options cannot be set with secret type env"},
		{in: "s,mode=9", err: "mode 9 invalid: parsing secret"},
		{in: "s,mode=01777", err: "mode 01777 invalid"},
		{in: "s,uid=-1", err: "UID -1 invalid: parsing secret"},
		{in: "s,gid=x", err: "GID x invalid: parsing secret"},
		{in: "s,bogus=1", err: "option bogus=1 invalid: parsing secret"},
		{in: "type=env,target=X", err: "no source found type=env,target=X: parsing secret"},
		{in: "s,type=env,target=A=B", err: "not a valid environment variable name"},
	} {
		got, err := ParseSecretFlag(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%q: want error %q, got %v", tc.in, tc.err, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestValidateSecretName(t *testing.T) {
	for _, ok := range []string{"a", "my-secret_1.x", "UPPER", "a b", "x.", strings.Repeat("n", 253)} {
		if err := ValidateSecretName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a/b", "a=b", "a,b", "a\x00b", strings.Repeat("n", 254)} {
		err := ValidateSecretName(bad)
		if err == nil || !strings.HasSuffix(err.Error(), ": invalid secret name") {
			t.Errorf("%q: want invalid secret name, got %v", bad, err)
		}
	}
}

func TestSecretMountTarget(t *testing.T) {
	for _, tc := range []struct {
		name, target, rel, abs string
		bad                    bool
	}{
		{name: "s", rel: "s"},
		{name: "s", target: "x/y", rel: "x/y"},
		{name: "s", target: "/etc/app/key", abs: "/etc/app/key"},
		{name: "s", target: "/run/secrets/k", rel: "k"},
		{name: "s", target: "/run/secrets/../k", abs: "/run/k"},
		{name: "s", target: "./a//b/", rel: "a/b"},
		{name: "s", target: "../x", bad: true},
		{name: "s", target: "a/../../x", bad: true},
		{name: "..", bad: true},
		{name: "s", target: "/run/secrets", bad: true},
		{name: "s", target: "/", bad: true},
	} {
		rel, abs, err := secretMountTarget(&ContainerSecret{Name: tc.name, Target: tc.target, Type: SecretTypeMount})
		if tc.bad {
			if err == nil {
				t.Errorf("%s/%q: want an error, got %q %q", tc.name, tc.target, rel, abs)
			}
			continue
		}
		if err != nil || rel != tc.rel || abs != tc.abs {
			t.Errorf("%s/%q: got %q %q %v, want %q %q", tc.name, tc.target, rel, abs, err, tc.rel, tc.abs)
		}
	}
}

func TestCheckSecretTargets(t *testing.T) {
	ok := []ContainerSecret{{Name: "a", Type: "mount"}, {Name: "b", Target: "b/c", Type: "mount"}, {Name: "a", Target: "A", Type: "env"}}
	if err := checkSecretTargets(ok); err != nil {
		t.Error(err)
	}
	clash := []ContainerSecret{{Name: "a", Target: "d", Type: "mount"}, {Name: "b", Target: "d/e/f", Type: "mount"}}
	if err := checkSecretTargets(clash); err == nil || !strings.Contains(err.Error(), "inside the target of secret a") {
		t.Errorf("want a clash, got %v", err)
	}
}

func TestSecretStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	r := newSecretRuntime(t)
	s := mustCreateSecret(t, r, "db-pass", "hunter2")
	if len(s.ID) != SecretIDLength || strings.Trim(s.ID, "0123456789abcdef") != "" {
		t.Errorf("ID %q is not %d hex digits", s.ID, SecretIDLength)
	}
	if s.Driver != "file" || s.DriverOptions["path"] != filepath.Join(r.opts.Root, "secrets", "filedriver") {
		t.Errorf("driver %s %v", s.Driver, s.DriverOptions)
	}
	for _, p := range []string{secretDataPath(s), r.secretStore().indexPath()} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", p, st.Mode(), err)
		}
	}
	index, _ := os.ReadFile(r.secretStore().indexPath())
	if strings.Contains(string(index), "hunter2") {
		t.Error("the index holds the secret's data")
	}

	// Lookups: name, full ID, ID prefix.
	for _, key := range []string{"db-pass", s.ID, s.ID[:5]} {
		got, data, err := r.SecretData(ctx, key)
		if err != nil || got.ID != s.ID || string(data) != "hunter2" {
			t.Errorf("lookup %q: %v %q %v", key, got, data, err)
		}
	}
	if _, err := r.Secret(ctx, "nope"); err == nil || err.Error() != `no secret with name or id "nope": no such secret` || !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("missing secret: %v", err)
	}
	if ok, err := r.SecretExists(ctx, "nope"); ok || err != nil {
		t.Errorf("exists nope: %v %v", ok, err)
	}

	// A name in use, and a name that is another secret's ID.
	_, err := r.CreateSecret(ctx, SecretCreateOptions{Name: "db-pass", Data: []byte("x")})
	if err == nil || err.Error() != "db-pass: secret name in use" || !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := r.CreateSecret(ctx, SecretCreateOptions{Name: s.ID, Data: []byte("x")}); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("a name that is an ID: %v", err)
	}

	// --ignore returns the existing secret; --replace gives a new ID and
	// data, keeps the creation time and drops the old data.
	same, err := r.CreateSecret(ctx, SecretCreateOptions{Name: "db-pass", Data: []byte("x"), IgnoreIfExists: true})
	if err != nil || same.ID != s.ID {
		t.Errorf("ignore: %v %v", same, err)
	}
	repl, err := r.CreateSecret(ctx, SecretCreateOptions{Name: "db-pass", Data: []byte("new"), Replace: true, Labels: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if repl.ID == s.ID || !repl.CreatedAt.Equal(s.CreatedAt) || !repl.UpdatedAt.After(s.UpdatedAt) || repl.Labels["k"] != "v" {
		t.Errorf("replace: old %+v new %+v", s, repl)
	}
	if _, err := os.Stat(secretDataPath(s)); !os.IsNotExist(err) {
		t.Errorf("old data still there: %v", err)
	}
	if _, data, _ := r.SecretData(ctx, "db-pass"); string(data) != "new" {
		t.Errorf("data after replace: %q", data)
	}
	if _, err := r.Secret(ctx, s.ID); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("old ID still found: %v", err)
	}

	// Removal.
	gone, err := r.RemoveSecret(ctx, "db-pass")
	if err != nil || gone.ID != repl.ID {
		t.Fatalf("remove: %v %v", gone, err)
	}
	if _, err := os.Stat(secretDataPath(repl)); !os.IsNotExist(err) {
		t.Errorf("data still there after rm: %v", err)
	}
	if _, err := r.RemoveSecret(ctx, "db-pass"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("second rm: %v", err)
	}
	if list, err := r.Secrets(ctx); err != nil || len(list) != 0 {
		t.Errorf("list after rm: %v %v", list, err)
	}
}

func TestSecretCreateErrors(t *testing.T) {
	ctx := context.Background()
	r := newSecretRuntime(t)
	for _, tc := range []struct {
		o   SecretCreateOptions
		err string
	}{
		{SecretCreateOptions{Name: "a/b", Data: []byte("x")}, "invalid secret name"},
		{SecretCreateOptions{Name: "e"}, "secret data must be larger than 0 and less than 512000 bytes"},
		{SecretCreateOptions{Name: "big", Data: make([]byte, MaxSecretSize)}, "less than 512000 bytes"},
		{SecretCreateOptions{Name: "d", Data: []byte("x"), Driver: "pass"}, "invalid driver"},
		{SecretCreateOptions{Name: "p", Data: []byte("x"), DriverOptions: map[string]string{"path": "rel"}}, "path must be absolute"},
		{SecretCreateOptions{Name: "r", Data: []byte("x"), Replace: true, IgnoreIfExists: true}, "cannot be used together"},
	} {
		if _, err := r.CreateSecret(ctx, tc.o); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: want %q, got %v", tc.o.Name, tc.err, err)
		}
	}
	if _, err := r.CreateSecret(ctx, SecretCreateOptions{Name: "max", Data: make([]byte, MaxSecretSize-1)}); err != nil {
		t.Errorf("largest secret: %v", err)
	}
	// --driver-opts path=DIR keeps the data there.
	dir := t.TempDir()
	s, err := r.CreateSecret(ctx, SecretCreateOptions{Name: "elsewhere", Data: []byte("x"), DriverOptions: map[string]string{"path": dir, "other": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, s.ID)); err != nil || s.DriverOptions["other"] != "1" {
		t.Errorf("data not under the driver's path: %v %v", err, s.DriverOptions)
	}
}

func TestSecretAmbiguousPrefix(t *testing.T) {
	ctx := context.Background()
	r := newSecretRuntime(t)
	a := mustCreateSecret(t, r, "a", "1")
	b := mustCreateSecret(t, r, "b", "2")
	// Give both IDs a common prefix, as the index could hold.
	err := r.secretStore().update(func(idx secretIndex) (func(), error) {
		for _, s := range []*Secret{a, b} {
			delete(idx, s.ID)
		}
		a.ID, b.ID = "abc"+a.ID[3:], "abc"+b.ID[3:]
		idx[a.ID], idx[b.ID] = a, b
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Secret(ctx, "abc"); err == nil || !strings.Contains(err.Error(), "secret is ambiguous") {
		t.Errorf("want ambiguous, got %v", err)
	}
	if s, err := r.Secret(ctx, a.ID[:10]); err != nil || s.Name != "a" {
		t.Errorf("unique prefix: %v %v", s, err)
	}
}

// TestSecretConcurrentCreate: writers in parallel (each with its own lock
// file descriptor, as separate CLI processes have) lose no secret.
func TestSecretConcurrentCreate(t *testing.T) {
	ctx := context.Background()
	r := newSecretRuntime(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := r.CreateSecret(ctx, SecretCreateOptions{Name: fmt.Sprintf("s%d", i), Data: []byte{byte('a' + i)}})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	list, err := r.Secrets(ctx)
	if err != nil || len(list) != n {
		t.Fatalf("want %d secrets, got %d (%v)", n, len(list), err)
	}
	for i := range n {
		if _, data, err := r.SecretData(ctx, fmt.Sprintf("s%d", i)); err != nil || string(data) != string(rune('a'+i)) {
			t.Errorf("s%d: %q %v", i, data, err)
		}
	}
}

func TestResolveSecretsAndInspect(t *testing.T) {
	ctx := context.Background()
	r := newSecretRuntime(t)
	s := mustCreateSecret(t, r, "tok", "v1")
	plan, err := r.resolveSecrets([]string{s.ID[:6], "tok,type=env,target=TOKEN", "tok,target=/etc/tok,uid=7,mode=0400"})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.config) != 3 || plan.config[0].Name != "tok" || plan.config[0].Mode != 0o444 || string(plan.data[s.ID]) != "v1" {
		t.Fatalf("plan: %+v", plan)
	}
	if _, err := r.resolveSecrets([]string{"nope"}); err == nil || err.Error() != `no secret with name or id "nope": no such secret` {
		t.Errorf("missing secret: %v", err)
	}
	cfg := &ContainerConfig{Env: []string{"PATH=/bin", "TOKEN=plain"}, Secrets: plan.config}
	list, env := inspectSecrets(cfg, cfg.Env)
	if len(list) != 2 || list[1] != (InspectSecret{Name: "tok", ID: s.ID, UID: 7, Mode: 0o400}) {
		t.Errorf("inspect secrets: %+v", list)
	}
	if strings.Join(env, " ") != "PATH=/bin TOKEN=*******" || cfg.Env[1] != "TOKEN=plain" {
		t.Errorf("inspect env: %v (config %v)", env, cfg.Env)
	}
	c := &Container{ID: "x", Config: *cfg}
	if got := strings.Join(secretMountpoints(c), " "); got != "/etc/tok /run/secrets" {
		t.Errorf("mountpoints: %s", got)
	}
	// Env secrets are read when used: a removed one fails, a replaced one
	// gives its new value.
	if _, err := r.CreateSecret(ctx, SecretCreateOptions{Name: "tok", Data: []byte("v2"), Replace: true}); err != nil {
		t.Fatal(err)
	}
	if env, err := r.secretEnv(ctx, c); err != nil || strings.Join(env, " ") != "TOKEN=v2" {
		t.Errorf("env after replace: %v %v", env, err)
	}
	if _, err := r.RemoveSecret(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.secretEnv(ctx, c); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("env of a removed secret: %v", err)
	}
}
