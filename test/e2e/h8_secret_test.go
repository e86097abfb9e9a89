package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// secretID is what `secret create` prints: podman's 25-hex-digit IDs.
var secretID = regexp.MustCompile(`^[0-9a-f]{25}$`)

// secretCreate creates a secret from data (through stdin) and removes it
// when the test ends; it returns the secret's ID.
func (s *servin) secretCreate(name, data string, flags ...string) string {
	s.t.Helper()
	args := append(append([]string{"secret", "create"}, flags...), name, "-")
	r := s.runWithStdin(strings.NewReader(data), args...)
	if r.exit != 0 {
		s.t.Fatalf("%s", r)
	}
	s.t.Cleanup(func() { s.st.exec(context.Background(), nil, "secret", "rm", name) })
	id := r.out()
	if !secretID.MatchString(id) {
		s.t.Fatalf("secret create printed %q, want a 25-hex-digit ID", id)
	}
	return id
}

// runWithEnv runs the CLI with extra environment variables.
func (s *servin) runWithEnv(env []string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := s.st.command(ctx, args...)
	cmd.Env = append(append([]string(nil), cmd.Env...), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	r.setExit(cmd, err)
	s.t.Logf("$ %s servin %s  # exit %d", strings.Join(env, " "), strings.Join(args, " "), r.exit)
	return r
}

// secretJSON is podman's `secret inspect` document.
type secretJSON struct {
	ID        string
	CreatedAt time.Time
	UpdatedAt time.Time
	Spec      struct {
		Name   string
		Driver struct {
			Name    string
			Options map[string]string
		}
		Labels map[string]string
	}
	SecretData *string
}

func (s *servin) secretInspect(args ...string) []secretJSON {
	s.t.Helper()
	out := s.mustRun(append([]string{"secret", "inspect"}, args...)...)
	var v []secretJSON
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		s.t.Fatalf("secret inspect: %v\n%s", err, out)
	}
	return v
}

// TestH8SecretCreateSources: a secret's data comes from a file, stdin or
// (--env) an environment variable; what cannot be read, named or stored
// is refused with podman's messages.
func TestH8SecretCreateSources(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	file := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile, fromStdin, fromEnv := s.name("file"), s.name("stdin"), s.name("env")
	idFile := s.mustRun("secret", "create", fromFile, file)
	t.Cleanup(func() { s.run("secret", "rm", fromFile) })
	if !secretID.MatchString(idFile) {
		t.Fatalf("secret create printed %q", idFile)
	}
	s.secretCreate(fromStdin, "from\x00stdin")
	r := s.runWithEnv([]string{"H8_SECRET_VALUE=from-env"}, "secret", "create", "--env", fromEnv, "H8_SECRET_VALUE")
	s.expectExit(r, 0)
	t.Cleanup(func() { s.run("secret", "rm", fromEnv) })
	if !secretID.MatchString(r.out()) {
		t.Errorf("secret create --env printed %q", r.out())
	}
	for name, want := range map[string]string{fromFile: "from-file\n", fromStdin: "from\x00stdin", fromEnv: "from-env"} {
		v := s.secretInspect("--showsecret", name)
		if len(v) != 1 || v[0].SecretData == nil || *v[0].SecretData != want {
			t.Errorf("%s: data %+v, want %q", name, v, want)
		}
	}

	bad := s.name("bad")
	s.expectStderr(s.run("secret", "create", "--env", bad, "H8_SECRET_UNSET_VAR"), 125,
		"Error: cannot create store secret data: environment variable H8_SECRET_UNSET_VAR is not set")
	s.expectStderr(s.run("secret", "create", bad, "-"), 125, "Error: if `-` is used, data must be passed into stdin")
	s.expectStderr(s.run("secret", "create", bad, "/nonexistent/file"), 125, "Error: open /nonexistent/file: no such file or directory")
	s.expectStderr(s.runWithStdin(strings.NewReader(""), "secret", "create", bad, "-"), 125,
		"Error: secret data must be larger than 0 and less than 512000 bytes")
	s.expectStderr(s.runWithStdin(strings.NewReader(strings.Repeat("x", 512000)), "secret", "create", bad, "-"), 125,
		"Error: secret data must be larger than 0 and less than 512000 bytes")
	s.expectStderr(s.run("secret", "create", "a/b", file), 125,
		`Error: secret name "a/b" can not include '=', '/', ',', or the '\0' (NULL) and be between 1 and 253 characters: invalid secret name`)
	s.expectError(s.run("secret", "create", strings.Repeat("n", 254), file), "invalid secret name")
	s.expectStderr(s.run("secret", "create", fromFile, file), 125, "Error: "+fromFile+": secret name in use")
	s.expectError(s.run("secret", "create", "--driver", "nope", bad, file), "invalid driver")
	s.expectExit(s.run("secret", "create", bad), 125)
	s.expectExit(s.run("secret", "create", bad, file, "extra"), 125)
	if r := s.run("secret", "exists", bad); r.exit != 1 {
		t.Errorf("a failed create left a secret:\n%s", r)
	}
}

// TestH8SecretListInspectRemove covers ls (format, filters, quiet,
// noheading), inspect (podman's JSON, --format, errors), exists and rm
// (by ID prefix, --ignore, --all) in a store of the test's own.
func TestH8SecretListInspectRemove(t *testing.T) {
	s := newIsolatedServin(t)
	t.Parallel()
	if got := s.mustRun("secret", "ls"); got != "ID          NAME        DRIVER      CREATED     UPDATED" {
		t.Errorf("ls of no secrets: %q", got)
	}
	idA := s.secretCreate("alpha", "a-data", "--label", "team=db", "-l", "flag")
	idB := s.secretCreate("beta", "b-data", "--driver", "file")

	lines := strings.Split(s.mustRun("secret", "ls"), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^ID +NAME +DRIVER +CREATED +UPDATED$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^`+idA+` +alpha +file +(Less than a second|\d+ seconds?) ago +`).MatchString(lines[1]) ||
		!strings.HasPrefix(lines[2], idB+"  beta") {
		t.Errorf("ls:\n%s", strings.Join(lines, "\n"))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "{{.Name}} {{.Driver}} {{.ID}}"}, "alpha file " + idA + "\nbeta file " + idB},
		{[]string{"--filter", "name=^al", "--format", "{{.Name}}"}, "alpha"},
		{[]string{"--filter", "name=ph", "--filter", "name=^b", "--format", "{{.Name}}"}, "alpha\nbeta"},
		{[]string{"--filter", "id=" + idB[:8], "-q"}, idB},
		{[]string{"--filter", "name=alpha", "--filter", "id=" + idB, "-q"}, ""},
		{[]string{"-q"}, idA + "\n" + idB},
		{[]string{"--noheading", "--format", "table {{.Name}}"}, "alpha\nbeta"},
	} {
		if got := s.mustRun(append([]string{"secret", "ls"}, tc.args...)...); got != tc.want {
			t.Errorf("secret ls %v:\n got %q\nwant %q", tc.args, got, tc.want)
		}
	}
	s.expectStderr(s.run("secret", "ls", "--filter", "bogus=1"), 125, `Error: invalid filter "bogus"`)

	// inspect: podman's shape; the data only with --showsecret.
	raw := s.mustRun("secret", "inspect", "alpha")
	if strings.Contains(raw, "SecretData") || strings.Contains(raw, "a-data") {
		t.Errorf("inspect without --showsecret shows the data:\n%s", raw)
	}
	v := s.secretInspect(idA[:6], "beta")
	if len(v) != 2 || v[0].ID != idA || v[0].Spec.Name != "alpha" || v[0].Spec.Driver.Name != "file" ||
		v[0].Spec.Driver.Options["path"] == "" || v[0].Spec.Labels["team"] != "db" ||
		v[0].CreatedAt.IsZero() || !v[0].UpdatedAt.Equal(v[0].CreatedAt) || v[1].Spec.Labels == nil {
		t.Errorf("inspect:\n%s", raw)
	}
	if got := s.mustRun("secret", "inspect", "--format", "{{.Spec.Name}}:{{.Spec.Labels.team}}", "alpha"); got != "alpha:db" {
		t.Errorf("inspect --format: %q", got)
	}
	r := s.run("secret", "inspect", "nope")
	s.expectStderr(r, 125, `Error: inspecting secret: no secret with name or id "nope": no such secret`)
	if r.out() != "[]" {
		t.Errorf("inspect of a missing secret printed %q, want []", r.out())
	}
	r = s.run("secret", "inspect", "--format", "{{.Spec.Name}}", "nope1", "alpha", "nope2")
	s.expectExit(r, 125)
	if r.out() != "alpha" || !strings.Contains(r.stderr, `error inspecting secret: no secret with name or id "nope2"`) ||
		!strings.Contains(r.stderr, `Error: inspecting secret: no secret with name or id "nope1"`) {
		t.Errorf("inspect of found and missing secrets:\n%s", r)
	}

	// exists
	s.expectExit(s.run("secret", "exists", "alpha"), 0)
	s.expectExit(s.run("secret", "exists", idB[:5]), 0)
	r = s.run("secret", "exists", "nope")
	s.expectExit(r, 1)
	if r.stdout+r.stderr != "" {
		t.Errorf("exists printed something:\n%s", r)
	}

	// rm
	s.expectStderr(s.run("secret", "rm"), 125, "Error: `"+prog()+" secret rm` requires one argument, or the --all flag")
	s.expectExit(s.run("secret", "rm", "--all", "alpha"), 125)
	r = s.run("secret", "rm", "nope1", idA[:7], "nope2")
	s.expectExit(r, 125)
	if r.out() != idA || !strings.Contains(r.stderr, `Error: no secret with name or id "nope1": no such secret`) ||
		!strings.Contains(r.stderr, `Error: no secret with name or id "nope2": no such secret`) {
		t.Errorf("rm of missing and existing secrets:\n%s", r)
	}
	s.expectExit(s.run("secret", "exists", "alpha"), 1)
	if r := s.run("secret", "rm", "--ignore", "nope"); r.exit != 0 || r.out() != "" {
		t.Errorf("rm --ignore of a missing secret:\n%s", r)
	}
	s.secretCreate("gamma", "g")
	if got := s.mustRun("secret", "rm", "-a"); len(strings.Fields(got)) != 2 || !strings.Contains(got, idB) {
		t.Errorf("rm -a printed %q", got)
	}
	if got := s.mustRun("secret", "ls", "-q"); got != "" {
		t.Errorf("secrets left after rm -a: %q", got)
	}
}

// TestH8SecretReplace: --replace gives a secret new data and a new ID and
// keeps its creation time; --ignore keeps the existing one.
func TestH8SecretReplace(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	name := s.name("rot")
	id := s.secretCreate(name, "v1")
	before := s.secretInspect(name)[0]
	s.expectStderr(s.runWithStdin(strings.NewReader("v2"), "secret", "create", name, "-"), 125, "Error: "+name+": secret name in use")
	r := s.runWithStdin(strings.NewReader("ignored"), "secret", "create", "--ignore", name, "-")
	if r.exit != 0 || r.out() != id {
		t.Errorf("create --ignore of an existing secret:\n%s", r)
	}
	r = s.runWithStdin(strings.NewReader("v2"), "secret", "create", "--replace", name, "-")
	s.expectExit(r, 0)
	newID := r.out()
	if !secretID.MatchString(newID) || newID == id {
		t.Errorf("replace printed %q (old ID %s)", newID, id)
	}
	after := s.secretInspect("--showsecret", name)
	if len(after) != 1 || after[0].ID != newID || !after[0].CreatedAt.Equal(before.CreatedAt) ||
		!after[0].UpdatedAt.After(before.UpdatedAt) || after[0].SecretData == nil || *after[0].SecretData != "v2" {
		t.Errorf("after replace: %+v (before %+v)", after, before)
	}
	s.expectExit(s.run("secret", "exists", id), 1)
	s.expectError(s.runWithStdin(strings.NewReader("v3"), "secret", "create", "--replace", "--ignore", name, "-"), "cannot be used together")
}

// TestH8SecretRunMount: file secrets are read-only files at /run/secrets/
// NAME, a relative target under /run/secrets, an absolute one where
// given, with uid, gid and mode; inspect lists them, and neither diff nor
// commit carries their data. /run/secrets itself is writable (a tmpfs, as
// podman's is a directory of its own): what is made there is not in the
// layer either, and other mounts can go below it.
func TestH8SecretRunMount(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	sec := s.name("cert")
	id := s.secretCreate(sec, "s3cr3t-data")
	name := s.name("c")
	script := `cat /run/secrets/` + sec + `; echo; cat /run/secrets/sub/dir/key; echo; cat /etc/app/key; echo
stat -c '%u %g %a' /run/secrets/` + sec + ` /run/secrets/sub/dir/key /etc/app/key
echo x > /run/secrets/` + sec + ` || echo write-refused
echo x > /etc/app/key || echo write-refused
chmod 666 /run/secrets/sub/dir/key || echo chmod-refused
rm -f /run/secrets/` + sec + ` || echo rm-refused
touch /run/secrets/new /run/secrets/scratch/f && echo created`
	out := s.mustRun("run", "--name", name, "--network", "none",
		"--secret", sec, "--secret", sec+",target=sub/dir/key,mode=0440,gid=12",
		"--secret", "source="+sec+",target=/etc/app/key,uid=5,gid=6,mode=0400",
		"--tmpfs", "/run/secrets/scratch",
		busybox, "sh", "-c", script)
	want := "s3cr3t-data\ns3cr3t-data\ns3cr3t-data\n0 0 444\n0 12 440\n5 6 400\nwrite-refused\nwrite-refused\nchmod-refused\nrm-refused\ncreated"
	if out != want {
		t.Errorf("in the container:\n got %q\nwant %q", out, want)
	}
	var secrets []struct {
		Name           string
		ID             string
		UID, GID, Mode uint32
	}
	if err := json.Unmarshal([]byte(s.inspect(name, "{{json .Config.Secrets}}")), &secrets); err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 3 || secrets[0].Name != sec || secrets[0].ID != id || secrets[0].Mode != 0o444 ||
		secrets[2].UID != 5 || secrets[2].GID != 6 || secrets[2].Mode != 0o400 {
		t.Errorf("inspect .Config.Secrets: %+v", secrets)
	}
	// A second start mounts the files again.
	if out := s.mustRun("start", "-a", name); !strings.HasPrefix(out, "s3cr3t-data\n") {
		t.Errorf("second start: %q", out)
	}
	diff := s.mustRun("diff", name)
	if strings.Contains(diff, "/run/secrets") || strings.Contains(diff, "/etc/app/key") {
		t.Errorf("diff shows the secrets' mountpoints:\n%s", diff)
	}
	img := s.prefix + "-img"
	imgID := s.mustRun("commit", "-q", name, img)
	t.Cleanup(func() { s.run("rmi", "-f", imgID) })
	got := s.mustRun("run", "--rm", "--network", "none", img, "sh", "-c", "cat /etc/app/key /run/secrets/* 2>/dev/null; true")
	if strings.Contains(got, "s3cr3t") {
		t.Errorf("the committed image holds the secret: %q", got)
	}
}

// TestH8SecretRunEnv: env secrets set a variable (the secret's name or
// target=) for the container and its exec sessions; inspect masks it.
func TestH8SecretRunEnv(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	sec := s.name("token")
	s.secretCreate(sec, "tok-value")
	name := s.name("c")
	s.runDetached(name, "--secret", sec+",type=env,target=API_TOKEN", "--secret", "source="+sec+",type=env", busybox, "sleep", "1000")
	if out := s.mustRun("exec", name, "sh", "-c", `echo "$API_TOKEN"`); out != "tok-value" {
		t.Errorf("exec sees %q", out)
	}
	// The default variable is the secret's name, which no shell variable
	// can spell here ('-'): read the environments themselves.
	for _, environ := range []string{"/proc/self/environ", "/proc/1/environ"} {
		out := "\x00" + s.mustRun("exec", name, "cat", environ) + "\x00"
		if !strings.Contains(out, "\x00API_TOKEN=tok-value\x00") || !strings.Contains(out, "\x00"+sec+"=tok-value\x00") {
			t.Errorf("%s lacks the variables: %q", environ, out)
		}
	}
	env := s.inspect(name, "{{json .Config.Env}}")
	if strings.Contains(env, "tok-value") || !strings.Contains(env, `"API_TOKEN=*******"`) {
		t.Errorf("inspect .Config.Env: %s", env)
	}
	if got := s.inspect(name, "{{len .Config.Secrets}}"); got != "0" {
		t.Errorf("env secrets listed as mounted: %s", got)
	}
}

// TestH8SecretInUse follows podman: a secret in use can be removed; a
// container keeps its copy of a file secret, while an env secret is read
// at each start, so that start fails until the secret exists again.
func TestH8SecretInUse(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	sec := s.name("pw")
	s.secretCreate(sec, "old")
	file, env := s.name("file"), s.name("env")
	s.mustRun("create", "--name", file, "--network", "none", "--secret", sec, busybox, "cat", "/run/secrets/"+sec)
	s.mustRun("create", "--name", env, "--network", "none", "--secret", sec+",type=env,target=PW", busybox, "sh", "-c", "echo $PW")
	s.mustRun("secret", "rm", sec)
	if out := s.mustRun("start", "-a", file); out != "old" {
		t.Errorf("file secret after rm: %q", out)
	}
	r := s.run("start", "-a", env)
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, `no secret with name or id "`+sec+`": no such secret`) {
		t.Errorf("start with a removed env secret:\n%s", r)
	}
	s.secretCreate(sec, "new")
	if out := s.mustRun("start", "-a", env); out != "new" {
		t.Errorf("env secret after re-create: %q", out)
	}
	if out := s.mustRun("start", "-a", file); out != "old" {
		t.Errorf("file secret after re-create: %q", out)
	}
}

// TestH8SecretRunErrors: a missing secret or a bad --secret fails create
// with podman's messages, and makes no container.
func TestH8SecretRunErrors(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	sec := s.name("e")
	s.secretCreate(sec, "x")
	name := s.name("c")
	for _, tc := range []struct{ flag, want string }{
		{s.name("missing"), `Error: no secret with name or id "` + s.name("missing") + `": no such secret`},
		{sec + ",type=bogus", "Error: type bogus is invalid: parsing secret"},
		{sec + ",type=env,mode=0400", "Error: UID, GID, Mode options cannot be set with secret type env: parsing secret"},
		{sec + ",foo", "Error: option foo must be in form option=value: parsing secret"},
		{sec + ",uid=x", "Error: UID x invalid: parsing secret"},
	} {
		s.expectStderr(s.run("create", "--name", name, "--secret", tc.flag, busybox, "true"), 125, tc.want)
		if s.exists(name) {
			t.Fatalf("--secret %s made a container", tc.flag)
		}
	}
	if !suite.podman {
		s.expectError(s.run("create", "--name", name, "--secret", sec+",target=../escape", busybox, "true"), "is not a path under /run/secrets")
	}
}
