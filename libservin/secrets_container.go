package libservin

// Secrets in containers (--secret on create and run), as podman gives
// them:
//   - type=mount (the default): a read-only file, /run/secrets/NAME unless
//     target= says otherwise. Its data is copied into the container's data
//     directory when the container is created (later changes to the secret,
//     even its removal, do not reach it), and each start writes the file,
//     with its uid, gid and mode, into the container's run directory, from
//     where it is bind-mounted read-only. /run/secrets itself is a tmpfs
//     (writable, as podman's directory is, and so a place for other mounts).
//     Nothing is written into the container's layer, so diff, commit and
//     export never see the data.
//   - type=env: an environment variable (NAME unless target=), read from
//     the secret at each start and exec; inspect masks its value.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/servin/servin/libservin/errdefs"
)

// Secret types of --secret.
const (
	SecretTypeMount = "mount"
	SecretTypeEnv   = "env"
)

const (
	// secretsDir is where file secrets go in a container by default.
	secretsDir = "/run/secrets"
	// secretEnvMask replaces an environment secret's value in inspect.
	secretEnvMask = "*******"
	// secretDefaultMode is a file secret's mode unless mode= is given.
	secretDefaultMode = 0o444
)

// SecretRequest is one parsed --secret value.
type SecretRequest struct {
	Source   string // the secret's name, ID or ID prefix
	Type     string // mount or env
	Target   string // mount: a path ("" is the name); env: a variable ("" is Source)
	UID, GID uint32 // mount only
	Mode     uint32 // mount only
}

// ContainerSecret is one secret of a container, resolved when it was
// created.
type ContainerSecret struct {
	Name   string `json:"name"`
	ID     string `json:"id"` // the secret's ID at create: its data copy is named by it
	Type   string `json:"type"`
	Target string `json:"target,omitempty"` // as requested; see SecretRequest
	UID    uint32 `json:"uid,omitempty"`
	GID    uint32 `json:"gid,omitempty"`
	Mode   uint32 `json:"mode,omitempty"`
}

// InspectSecret is an entry of Config.Secrets in container inspect: the
// file secrets, as podman lists them.
type InspectSecret struct {
	Name string `json:"Name"`
	ID   string `json:"ID"`
	UID  uint32 `json:"UID"`
	GID  uint32 `json:"GID"`
	Mode uint32 `json:"Mode"`
}

// secretParseError words a --secret mistake as podman does.
func secretParseError(format string, args ...any) error {
	return errdefs.Worded(errdefs.ErrInvalidArgument, format+": parsing secret", args...)
}

// ParseSecretFlag parses a --secret value:
// NAME[,type=mount|env][,target=T][,uid=N][,gid=N][,mode=OCTAL], where
// source=NAME may replace the leading NAME.
func ParseSecretFlag(val string) (SecretRequest, error) {
	req := SecretRequest{Mode: secretDefaultMode}
	parts := strings.Split(val, ",")
	if len(parts) == 1 {
		req.Source, req.Type = val, SecretTypeMount
		return req, nil
	}
	if !strings.Contains(parts[0], "=") {
		req.Source, parts = parts[0], parts[1:]
	}
	mountOnly := false
	for _, p := range parts {
		key, value, ok := strings.Cut(p, "=")
		if !ok {
			return req, secretParseError("option %s must be in form option=value", p)
		}
		switch key {
		case "source":
			req.Source = value
		case "type":
			if req.Type != "" {
				return req, secretParseError("cannot set more than one secret type")
			}
			if value != SecretTypeMount && value != SecretTypeEnv {
				return req, secretParseError("type %s is invalid", value)
			}
			req.Type = value
		case "target":
			req.Target = value
		case "mode":
			mountOnly = true
			n, err := strconv.ParseUint(value, 8, 32)
			if err != nil || n > 0o777 {
				return req, secretParseError("mode %s invalid", value)
			}
			req.Mode = uint32(n)
		case "uid", "UID", "gid", "GID":
			mountOnly = true
			n, err := strconv.ParseUint(value, 10, 32)
			if err != nil {
				return req, secretParseError("%s %s invalid", strings.ToUpper(key), value)
			}
			if strings.EqualFold(key, "uid") {
				req.UID = uint32(n)
			} else {
				req.GID = uint32(n)
			}
		default:
			return req, secretParseError("option %s invalid", p)
		}
	}
	if req.Type == "" {
		req.Type = SecretTypeMount
	}
	if req.Source == "" {
		return req, secretParseError("no source found %s", val)
	}
	if req.Type == SecretTypeEnv {
		if mountOnly {
			return req, secretParseError("UID, GID, Mode options cannot be set with secret type env")
		}
		if req.Target == "" {
			req.Target = req.Source
		}
		if strings.Contains(req.Target, "=") {
			return req, secretParseError("target %s is not a valid environment variable name", req.Target)
		}
	}
	return req, nil
}

// secretMountTarget is where a file secret goes in the container: rel, a
// path under /run/secrets, or else abs, another absolute path.
func secretMountTarget(cs *ContainerSecret) (rel, abs string, err error) {
	t := firstNonEmpty(cs.Target, cs.Name)
	if filepath.IsAbs(t) {
		t = filepath.Clean(t)
		if r, ok := strings.CutPrefix(t, secretsDir+"/"); ok {
			return r, "", nil
		}
		if t == secretsDir || t == "/" {
			return "", "", errdefs.Worded(errdefs.ErrInvalidArgument, "secret %s: target %s is not a file path", cs.Name, t)
		}
		return "", t, nil
	}
	t = filepath.Clean(t)
	if t == "." || t == ".." || strings.HasPrefix(t, "../") {
		return "", "", errdefs.Worded(errdefs.ErrInvalidArgument, "secret %s: target %s is not a path under %s", cs.Name, firstNonEmpty(cs.Target, cs.Name), secretsDir)
	}
	return t, "", nil
}

// secretPlan is what Create resolved of the --secret values: the
// container's configuration and the data to copy for its file secrets.
type secretPlan struct {
	config []ContainerSecret
	data   map[string][]byte // file secrets' data by secret ID
}

// resolveSecrets parses the --secret values and finds their secrets.
func (r *Runtime) resolveSecrets(vals []string) (*secretPlan, error) {
	plan := &secretPlan{data: map[string][]byte{}}
	if len(vals) == 0 {
		return plan, nil
	}
	reqs := make([]SecretRequest, 0, len(vals))
	for _, v := range vals {
		req, err := ParseSecretFlag(v)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, req)
	}
	err := r.secretStore().read(func(idx secretIndex) error {
		for _, req := range reqs {
			s, err := idx.lookup(req.Source)
			if err != nil {
				return err
			}
			cs := ContainerSecret{Name: s.Name, ID: s.ID, Type: req.Type, Target: req.Target}
			if req.Type == SecretTypeMount {
				cs.UID, cs.GID, cs.Mode = req.UID, req.GID, req.Mode
				if _, _, err := secretMountTarget(&cs); err != nil {
					return err
				}
				if plan.data[s.ID] == nil {
					data, err := os.ReadFile(secretDataPath(s))
					if err != nil {
						return fmt.Errorf("reading secret %s: %w", s.Name, err)
					}
					plan.data[s.ID] = data
				}
			}
			plan.config = append(plan.config, cs)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return plan, checkSecretTargets(plan.config)
}

// checkSecretTargets refuses file secrets under /run/secrets of which one
// would be the directory of another ("a" and "a/b").
func checkSecretTargets(secrets []ContainerSecret) error {
	files := map[string]string{}
	for i := range secrets {
		if rel, _, _ := secretMountTarget(&secrets[i]); rel != "" && secrets[i].Type == SecretTypeMount {
			files[rel] = secrets[i].Name
		}
	}
	for rel, name := range files {
		for d := filepath.Dir(rel); d != "."; d = filepath.Dir(d) {
			if other, ok := files[d]; ok {
				return errdefs.Worded(errdefs.ErrInvalidArgument, "secret %s: target %s is inside the target of secret %s", name, rel, other)
			}
		}
	}
	return nil
}

// secretCopyDir holds the container's copies of its file secrets' data.
func (r *Runtime) secretCopyDir(id string) string {
	return filepath.Join(r.ctrDataDir(id), "secrets")
}

// write copies the file secrets' data for container id (its data
// directory exists).
func (p *secretPlan) write(r *Runtime, id string) error {
	for sid, data := range p.data {
		if err := writeFileAtomic(filepath.Join(r.secretCopyDir(id), sid), data, 0o600); err != nil {
			return fmt.Errorf("copying secrets: %w", err)
		}
	}
	return nil
}

// prepareSecrets writes c's file secrets into its run directory for one
// start and returns their read-only bind mounts, with the environment
// variables of its env secrets.
func (r *Runtime) prepareSecrets(ctx context.Context, c *Container, runDir string) ([]specs.Mount, []string, error) {
	if len(c.Config.Secrets) == 0 {
		return nil, nil, nil
	}
	env, err := r.secretEnv(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	dir := filepath.Join(runDir, "secrets")
	if err := os.RemoveAll(dir); err != nil {
		return nil, nil, err
	}
	if err := mkdirAllMode(dir, 0o755); err != nil {
		return nil, nil, err
	}
	var mounts []specs.Mount
	underDir := false
	for i := range c.Config.Secrets {
		cs := &c.Config.Secrets[i]
		if cs.Type != SecretTypeMount {
			continue
		}
		rel, abs, err := secretMountTarget(cs)
		if err != nil {
			return nil, nil, err
		}
		data, err := os.ReadFile(filepath.Join(r.secretCopyDir(c.ID), cs.ID))
		if err != nil {
			return nil, nil, fmt.Errorf("secret %s: the container's copy: %w", cs.Name, err)
		}
		if rel != "" {
			abs, underDir = filepath.Join(secretsDir, rel), true
		}
		p := filepath.Join(dir, strconv.Itoa(i))
		uid, gid := r.hostIDs(c.ID, cs.UID, cs.GID)
		if err := writeSecretFile(p, data, uid, gid, os.FileMode(cs.Mode)); err != nil {
			return nil, nil, fmt.Errorf("secret %s: %w", cs.Name, err)
		}
		mounts = append(mounts, bindMount(p, abs, true))
	}
	if underDir {
		// Mounted before the files (mounts go parents first).
		mounts = append(mounts, specs.Mount{Destination: secretsDir, Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "noexec", "mode=755"}})
	}
	return mounts, env, nil
}

// secretEnv reads c's env secrets as NAME=VALUE: by name, as they are now
// (a secret removed since create is an error, as in podman).
func (r *Runtime) secretEnv(ctx context.Context, c *Container) ([]string, error) {
	var env []string
	for _, cs := range c.Config.Secrets {
		if cs.Type != SecretTypeEnv {
			continue
		}
		_, data, err := r.SecretData(ctx, cs.Name)
		if err != nil {
			return nil, err
		}
		env = append(env, cs.Target+"="+string(data))
	}
	return env, nil
}

// mkdirAllMode makes dir and its missing parents with mode, whatever the
// umask.
func mkdirAllMode(dir string, mode os.FileMode) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := mkdirAllMode(filepath.Dir(dir), mode); err != nil {
		return err
	}
	if err := os.Mkdir(dir, mode); err != nil && !os.IsExist(err) {
		return err
	}
	return os.Chmod(dir, mode)
}

// writeSecretFile writes one secret file with its owner and mode.
func writeSecretFile(p string, data []byte, uid, gid int, mode os.FileMode) error {
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return err
	}
	if err := os.Lchown(p, uid, gid); err != nil {
		return err
	}
	return os.Chmod(p, mode)
}

// secretMountpoints are the paths file secrets are mounted on, which the
// runtime (not the container) creates in the container's layer.
func secretMountpoints(c *Container) []string {
	var out []string
	tree := false
	for i := range c.Config.Secrets {
		if c.Config.Secrets[i].Type != SecretTypeMount {
			continue
		}
		rel, abs, _ := secretMountTarget(&c.Config.Secrets[i])
		if abs != "" {
			out = append(out, abs)
		}
		tree = tree || rel != ""
	}
	if tree {
		out = append(out, secretsDir)
	}
	return out
}

// inspectSecrets returns Config.Secrets of container inspect (the file
// secrets) and env with each env secret shown, its value masked.
func inspectSecrets(cfg *ContainerConfig, env []string) ([]InspectSecret, []string) {
	var out []InspectSecret
	var masked []string
	for _, cs := range cfg.Secrets {
		if cs.Type == SecretTypeEnv {
			masked = append(masked, cs.Target+"="+secretEnvMask)
			continue
		}
		out = append(out, InspectSecret{Name: cs.Name, ID: cs.ID, UID: cs.UID, GID: cs.GID, Mode: cs.Mode})
	}
	if masked != nil {
		env = mergeEnv(env, masked)
	}
	return out, env
}
