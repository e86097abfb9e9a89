package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.podman.io/image/v5/signature/sigstore"
	"golang.org/x/crypto/bcrypt"
)

// regServer is a `servin registry serve` run by a test on a free port of
// 127.0.0.1 (the registry binds port 0 and reports the one it got).
type regServer struct {
	addr string // 127.0.0.1:PORT
	root string // the registry's storage directory
	proc *bgProc
}

var listeningRE = regexp.MustCompile(`listening on https?://(127\.0\.0\.1:\d+)`)

// startRegistry serves a registry until the test ends; extra are more
// `registry serve` flags (--tls-cert, --htpasswd...).
func startRegistry(t *testing.T, s *servin, extra ...string) *regServer {
	t.Helper()
	if suite.podman {
		t.Skip("podman has no built-in registry")
	}
	root := t.TempDir()
	args := append([]string{"registry", "serve", "--addr", "127.0.0.1:0", "--root", root}, extra...)
	p := s.start(nil, args...)
	reg := &regServer{root: root, proc: p}
	waitFor(t, 10*time.Second, "the registry to listen", func() bool {
		if m := listeningRE.FindStringSubmatch(p.stderr.String()); m != nil {
			reg.addr = m[1]
			return true
		}
		return p.exited()
	}, func() string { return p.stderr.String() })
	if reg.addr == "" {
		t.Fatalf("registry serve exited:\n%s", p.stderr.String())
	}
	return reg
}

// ref names a repository of this registry.
func (r *regServer) ref(repo string) string { return r.addr + "/" + repo }

// blobPath is where the registry keeps the blob with this digest.
func (r *regServer) blobPath(digest string) string {
	hexd := strings.TrimPrefix(digest, "sha256:")
	return filepath.Join(r.root, "docker", "registry", "v2", "blobs", "sha256", hexd[:2], hexd, "data")
}

// confDir is a servin configuration directory of the test's own: servin
// reads registries.conf, policy.json, registries.d and certs.d next to the
// configuration file given with --config.
type confDir struct {
	t    *testing.T
	dir  string
	conf string
}

func newConfDir(t *testing.T) *confDir {
	t.Helper()
	dir := t.TempDir()
	c := &confDir{t: t, dir: dir, conf: filepath.Join(dir, "servin.conf")}
	c.write("servin.conf", "")
	return c
}

func (c *confDir) write(name, content string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// args prefixes a command with --config.
func (c *confDir) args(args ...string) []string {
	return append([]string{"--config", c.conf}, args...)
}

// tlsFiles is a CA and a certificate for 127.0.0.1 signed by it.
type tlsFiles struct{ caCert, cert, key string }

func makeTLS(t *testing.T) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "servin test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	f := tlsFiles{caCert: filepath.Join(dir, "ca.crt"), cert: filepath.Join(dir, "server.crt"), key: filepath.Join(dir, "server.key")}
	writePEM(t, f.caCert, "CERTIFICATE", caDER)
	writePEM(t, f.cert, "CERTIFICATE", der)
	writePEM(t, f.key, "EC PRIVATE KEY", keyDER)
	return f
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeHtpasswd writes a bcrypt htpasswd file with one user.
func writeHtpasswd(t *testing.T, user, pass string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(p, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeEvilArchive writes a docker-archive (docker save format) whose one
// layer holds an entry with the given name: "../x" or "/x".
func writeEvilArchive(t *testing.T, path, entry string) {
	t.Helper()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for _, name := range []string{"ok.txt", entry} {
		data := []byte("payload\n")
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	sum := sha256.Sum256(layer.Bytes())
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Cmd": []string{"/bin/sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	csum := sha256.Sum256(config)
	configName := hex.EncodeToString(csum[:]) + ".json"
	manifest, _ := json.Marshal([]map[string]any{{
		"Config": configName, "RepoTags": []string{"evil:latest"}, "Layers": []string{"layer.tar"},
	}})
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := tar.NewWriter(f)
	for _, e := range []struct {
		name string
		data []byte
	}{{configName, config}, {"layer.tar", layer.Bytes()}, {"manifest.json", manifest}} {
		if err := out.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		out.Write(e.data)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// layerDigests returns the layer digests of a manifest document.
func layerDigests(t *testing.T, manifestJSON string) []string {
	t.Helper()
	var m struct {
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(manifestJSON), &m); err != nil {
		t.Fatalf("parsing manifest: %v\n%s", err, manifestJSON)
	}
	var out []string
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	if len(out) == 0 {
		t.Fatalf("manifest has no layers:\n%s", manifestJSON)
	}
	return out
}

// storedLayers counts the layers in a store's layer index.
func storedLayers(t *testing.T, s *servin) int {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(s.st.root, "storage", "*-layers", "layers.json"))
	n := 0
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		var layers []json.RawMessage
		if json.Unmarshal(data, &layers) == nil {
			n += len(layers)
		}
	}
	return n
}

var hexID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// runWithEnv is s.run with more environment variables.
func runWithEnv(s *servin, env []string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := s.st.command(ctx, args...)
	cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	r.setExit(cmd, err)
	s.t.Logf("$ %s servin %s  # exit %d", strings.Join(env, " "), strings.Join(args, " "), r.exit)
	return r
}

// writeRSAKeys writes an RSA key pair (PEM) for image encryption.
func writeRSAKeys(t *testing.T) (priv, pub string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	priv, pub = filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem")
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, priv, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))
	writePEM(t, pub, "PUBLIC KEY", pubDER)
	return priv, pub
}

// writeSigstoreKeys writes a sigstore (cosign-format) key pair and the
// file holding its passphrase into the configuration directory.
func writeSigstoreKeys(t *testing.T, c *confDir) (priv, pub, pass string) {
	t.Helper()
	passphrase := []byte("test-passphrase")
	keys, err := sigstore.GenerateKeyPair(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	return c.write("sigstore.key", string(keys.PrivateKey)), c.write("sigstore.pub", string(keys.PublicKey)),
		c.write("sigstore.pass", string(passphrase))
}
