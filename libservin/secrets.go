package libservin

// Secrets (podman's `secret` commands and --secret): named blobs of
// sensitive data kept under ROOT/secrets, never in an image or a
// container's layer.
//
// ROOT/secrets/secrets.json indexes the secrets' metadata; the file
// driver keeps each secret's data in DIR/ID, mode 0600, where DIR is
// ROOT/secrets/filedriver unless --driver-opts path=DIR says otherwise.
// Every file is replaced atomically (written aside, then renamed), and
// ROOT/secrets/secrets.lock (flock) serializes writers, so concurrent CLI
// calls never lose an update or read half a file.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/state"
)

const (
	// SecretIDLength is the length of a secret's ID (hex digits), as podman's.
	SecretIDLength = 25
	// MaxSecretSize bounds a secret's data: podman takes 1 to 511999 bytes.
	MaxSecretSize = 512000
	// SecretDriverFile keeps secret data in files (podman's default driver).
	SecretDriverFile = "file"
)

// Secret is one secret's metadata.
type Secret struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Driver        string            `json:"driver"`
	DriverOptions map[string]string `json:"driverOptions"`
	Labels        map[string]string `json:"labels,omitempty"`
	CreatedAt     time.Time         `json:"createdAt"`
	UpdatedAt     time.Time         `json:"updatedAt"`
}

// SecretCreateOptions is a request to create (or replace) a secret.
type SecretCreateOptions struct {
	Name          string
	Data          []byte
	Driver        string            // "" is the file driver
	DriverOptions map[string]string // file: path=DIR
	Labels        map[string]string
	// Replace gives an existing secret of that name the new data (and a
	// new ID); IgnoreIfExists returns the existing one untouched.
	Replace        bool
	IgnoreIfExists bool
}

// SecretInspect is podman's `secret inspect` view of a secret.
type SecretInspect struct {
	ID         string     `json:"ID"`
	CreatedAt  time.Time  `json:"CreatedAt"`
	UpdatedAt  time.Time  `json:"UpdatedAt"`
	Spec       SecretSpec `json:"Spec"`
	SecretData string     `json:"SecretData,omitempty"` // --showsecret
}

// SecretSpec is Spec in SecretInspect.
type SecretSpec struct {
	Name   string            `json:"Name"`
	Driver SecretDriverSpec  `json:"Driver"`
	Labels map[string]string `json:"Labels"`
}

// SecretDriverSpec is Spec.Driver in SecretInspect.
type SecretDriverSpec struct {
	Name    string            `json:"Name"`
	Options map[string]string `json:"Options"`
}

// Inspect returns the inspect view of s; data, when not nil, is shown.
func (s *Secret) Inspect(data []byte) *SecretInspect {
	labels := s.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return &SecretInspect{
		ID: s.ID, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		Spec: SecretSpec{
			Name:   s.Name,
			Driver: SecretDriverSpec{Name: s.Driver, Options: s.DriverOptions},
			Labels: labels,
		},
		SecretData: string(data),
	}
}

// ValidateSecretName applies podman's rule: 1 to 253 characters, none of
// them '=', '/', ',' or NUL.
func ValidateSecretName(name string) error {
	if len(name) == 0 || len(name) > 253 || strings.ContainsAny(name, ",/=\x00") {
		return errdefs.Worded(errdefs.ErrInvalidArgument,
			"secret name %q can not include '=', '/', ',', or the '\\0' (NULL) and be between 1 and 253 characters: invalid secret name", name)
	}
	return nil
}

// errNoSuchSecret is podman's wording for a secret that does not exist.
func errNoSuchSecret(nameOrID string) error {
	return errdefs.Worded(errdefs.ErrNotFound, "no secret with name or id %q: no such secret", nameOrID)
}

// CreateSecret stores a new secret and returns it. A secret of the same
// name is an error unless o.Replace or o.IgnoreIfExists.
func (r *Runtime) CreateSecret(ctx context.Context, o SecretCreateOptions) (*Secret, error) {
	if err := ValidateSecretName(o.Name); err != nil {
		return nil, err
	}
	if len(o.Data) == 0 || len(o.Data) >= MaxSecretSize {
		return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "secret data must be larger than 0 and less than %d bytes", MaxSecretSize)
	}
	if o.Replace && o.IgnoreIfExists {
		return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "ignoreIfExists and replace cannot be used together")
	}
	driver := firstNonEmpty(o.Driver, SecretDriverFile)
	if driver != SecretDriverFile {
		// pass and shell (podman's other drivers) are not offered.
		return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "invalid driver")
	}
	opts := maps.Clone(o.DriverOptions)
	if opts == nil {
		opts = map[string]string{}
	}
	if opts["path"] == "" {
		opts["path"] = r.secretStore().defaultDataDir()
	} else if !filepath.IsAbs(opts["path"]) {
		return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "path must be absolute: %s: invalid secrets path", opts["path"])
	}
	labels := maps.Clone(o.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	var out *Secret
	err := r.secretStore().update(func(idx secretIndex) (func(), error) {
		old := idx.byName(o.Name)
		if old == nil && idx[o.Name] != nil {
			// A name that is another secret's ID would make lookups ambiguous.
			return nil, errdefs.Worded(errdefs.ErrAlreadyExists, "%s: secret name in use", o.Name)
		}
		if old != nil && !o.Replace {
			if o.IgnoreIfExists {
				out = old
				return nil, errSecretUnchanged
			}
			return nil, errdefs.Worded(errdefs.ErrAlreadyExists, "%s: secret name in use", o.Name)
		}
		now := time.Now()
		s := &Secret{ID: idx.newID(), Name: o.Name, Driver: driver, DriverOptions: opts, Labels: labels, CreatedAt: now, UpdatedAt: now}
		if err := writeFileAtomic(secretDataPath(s), o.Data, 0o600); err != nil {
			return nil, fmt.Errorf("creating secret %s: %w", o.Name, err)
		}
		idx[s.ID] = s
		out = s
		if old == nil {
			return nil, nil
		}
		// --replace keeps the creation time; the old data goes once the
		// index no longer names it.
		s.CreatedAt = old.CreatedAt
		delete(idx, old.ID)
		return func() { _ = os.Remove(secretDataPath(old)) }, nil
	})
	if errors.Is(err, errSecretUnchanged) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Secret returns the secret of a name, an ID or a unique ID prefix.
func (r *Runtime) Secret(ctx context.Context, nameOrID string) (*Secret, error) {
	var out *Secret
	err := r.secretStore().read(func(idx secretIndex) error {
		var err error
		out, err = idx.lookup(nameOrID)
		return err
	})
	return out, err
}

// SecretData returns a secret and its data.
func (r *Runtime) SecretData(ctx context.Context, nameOrID string) (*Secret, []byte, error) {
	var (
		out  *Secret
		data []byte
	)
	err := r.secretStore().read(func(idx secretIndex) error {
		var err error
		if out, err = idx.lookup(nameOrID); err != nil {
			return err
		}
		data, err = os.ReadFile(secretDataPath(out))
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("secret %s: its data is missing: %w", out.Name, errdefs.ErrNotFound)
		}
		return err
	})
	return out, data, err
}

// SecretExists reports whether a secret of that name, ID or ID prefix exists.
func (r *Runtime) SecretExists(ctx context.Context, nameOrID string) (bool, error) {
	_, err := r.Secret(ctx, nameOrID)
	if errors.Is(err, errdefs.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Secrets lists all secrets, by name.
func (r *Runtime) Secrets(ctx context.Context) ([]*Secret, error) {
	var out []*Secret
	err := r.secretStore().read(func(idx secretIndex) error {
		out = slices.Collect(maps.Values(idx))
		return nil
	})
	slices.SortFunc(out, func(a, b *Secret) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

// RemoveSecret deletes a secret and its data. Containers created with it
// keep their copy of a file secret; an environment secret they use makes
// their next start fail, as in podman.
func (r *Runtime) RemoveSecret(ctx context.Context, nameOrID string) (*Secret, error) {
	var out *Secret
	err := r.secretStore().update(func(idx secretIndex) (func(), error) {
		s, err := idx.lookup(nameOrID)
		if err != nil {
			return nil, err
		}
		delete(idx, s.ID)
		out = s
		return func() { _ = os.Remove(secretDataPath(s)) }, nil
	})
	return out, err
}

// errSecretUnchanged ends an update that has nothing to save.
var errSecretUnchanged = errors.New("secret unchanged")

// secretIndex maps IDs to secrets.
type secretIndex map[string]*Secret

func (idx secretIndex) byName(name string) *Secret {
	for _, s := range idx {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// lookup finds a secret by ID, name or unique ID prefix, in that order.
func (idx secretIndex) lookup(nameOrID string) (*Secret, error) {
	if s := idx[nameOrID]; s != nil {
		return s, nil
	}
	if s := idx.byName(nameOrID); s != nil {
		return s, nil
	}
	if nameOrID == "" || len(nameOrID) > SecretIDLength {
		return nil, errNoSuchSecret(nameOrID)
	}
	var found *Secret
	for id, s := range idx {
		if strings.HasPrefix(id, nameOrID) {
			if found != nil {
				return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "more than one result secret with prefix %s: secret is ambiguous", nameOrID)
			}
			found = s
		}
	}
	if found == nil {
		return nil, errNoSuchSecret(nameOrID)
	}
	return found, nil
}

// newID returns a fresh 25-digit hex ID that is no secret's ID or name.
func (idx secretIndex) newID() string {
	for {
		b := make([]byte, (SecretIDLength+1)/2)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)[:SecretIDLength]
		if _, err := strconv.ParseInt(id[:12], 10, 64); err == nil {
			continue // all digits: it would read as a number, as with docker's IDs
		}
		if idx[id] == nil && idx.byName(id) == nil {
			return id
		}
	}
}

// secretDataPath is where the file driver keeps a secret's data.
func secretDataPath(s *Secret) string {
	return filepath.Join(s.DriverOptions["path"], s.ID)
}

// secretStore is the on-disk home of the secrets: ROOT/secrets.
type secretStore struct{ dir string }

func (r *Runtime) secretStore() secretStore {
	return secretStore{dir: filepath.Join(r.opts.Root, "secrets")}
}

func (s secretStore) defaultDataDir() string { return filepath.Join(s.dir, "filedriver") }
func (s secretStore) indexPath() string      { return filepath.Join(s.dir, "secrets.json") }

// secretIndexFile is the JSON of secrets.json.
type secretIndexFile struct {
	Secrets []*Secret `json:"secrets"`
}

// lock takes the store's flock (shared to read, exclusive to write).
func (s secretStore) lock(exclusive bool) (func(), error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, err
	}
	return state.LockFile(filepath.Join(s.dir, "secrets.lock"), exclusive)
}

func (s secretStore) load() (secretIndex, error) {
	idx := secretIndex{}
	raw, err := os.ReadFile(s.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return idx, nil
	}
	if err != nil {
		return nil, err
	}
	var f secretIndexFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%s is corrupt: %w", s.indexPath(), err)
	}
	for _, sec := range f.Secrets {
		idx[sec.ID] = sec
	}
	return idx, nil
}

func (s secretStore) save(idx secretIndex) error {
	f := secretIndexFile{Secrets: slices.Collect(maps.Values(idx))}
	slices.SortFunc(f.Secrets, func(a, b *Secret) int { return strings.Compare(a.ID, b.ID) })
	if f.Secrets == nil {
		f.Secrets = []*Secret{}
	}
	raw, err := json.MarshalIndent(&f, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.indexPath(), raw, 0o600)
}

// read runs fn on the index under the shared lock.
func (s secretStore) read(fn func(secretIndex) error) error {
	unlock, err := s.lock(false)
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := s.load()
	if err != nil {
		return err
	}
	return fn(idx)
}

// update runs fn on the index under the exclusive lock and saves what it
// changed; the function fn returns runs after the save (removing data the
// index no longer names), so a crash never leaves an entry without data.
func (s secretStore) update(fn func(secretIndex) (func(), error)) error {
	unlock, err := s.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := s.load()
	if err != nil {
		return err
	}
	after, err := fn(idx)
	if err != nil {
		return err
	}
	if err := s.save(idx); err != nil {
		return err
	}
	if after != nil {
		after()
	}
	return nil
}

// writeFileAtomic replaces path with data: readers see the old file or
// the new one, never part of it.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
