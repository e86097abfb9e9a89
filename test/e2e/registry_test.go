package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Registry tests run servin's own registry (`servin registry serve`) on a
// free port of 127.0.0.1 and move the busybox test image between isolated
// stores through it. Nothing here talks to any other address.

// pushBusybox imports busybox into s and pushes it to ref over plain http.
func pushBusybox(s *servin, ref string, extra ...string) {
	s.t.Helper()
	s.importBusybox()
	s.mustRun(append(append([]string{"push", "-q", "--tls-verify=false"}, extra...), busybox, ref)...)
}

func TestRegistryPushPull(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src)
	ref := reg.ref("test/busybox:1")
	pushBusybox(src, ref)

	dst := newIsolatedServin(t)
	// Plain http needs --tls-verify=false: the error says so.
	r := dst.run("pull", ref)
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, "--tls-verify=false") {
		t.Errorf("pull from an http registry: error does not suggest --tls-verify=false:\n%s", r)
	}
	// -q prints only the image ID; progress goes to stderr otherwise.
	id := dst.mustRun("pull", "-q", "--tls-verify=false", ref)
	if !hexID.MatchString(id) {
		t.Fatalf("pull -q printed %q, want an image ID", id)
	}
	r = dst.run("pull", "--tls-verify=false", ref)
	dst.expectExit(r, 0)
	if r.out() != id {
		t.Errorf("second pull printed %q, want %s", r.out(), id)
	}
	if got := dst.mustRun("images", "--format", "{{.Repository}}:{{.Tag}}"); got != ref {
		t.Errorf("images after pull: %q, want %s", got, ref)
	}
	if out := dst.mustRun("run", "--rm", "--network", "none", ref, "cat", "/etc/passwd"); !strings.HasPrefix(out, "root:x:0:0:") {
		t.Errorf("container of the pulled image: /etc/passwd = %q", out)
	}
	digests := dst.mustRun("images", "--digests", "--format", "{{.Digest}}")
	if !strings.HasPrefix(digests, "sha256:") {
		t.Errorf("images --digests: %q", digests)
	}
	// The pulled image can be pulled by digest too (served by the store).
	dst.mustRun("pull", "-q", "--tls-verify=false", reg.ref("test/busybox@"+digests))

	// Search lists the registry's catalog; --list-tags its tags.
	if out := dst.mustRun("search", "--tls-verify=false", reg.addr+"/busy"); !strings.Contains(out, "test/busybox") {
		t.Errorf("search: %q", out)
	}
	if out := dst.mustRun("search", "--tls-verify=false", "--list-tags", ref); !strings.Contains(out, " 1") && !strings.Contains(out, "\t1") {
		t.Errorf("search --list-tags: %q", out)
	}
}

func TestRegistryInsecureConfigAndShortNames(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src)
	pushBusybox(src, reg.ref("library/busybox:latest"))
	src.mustRun("push", "-q", "--tls-verify=false", busybox, reg.ref("busybox:latest"))

	conf := newConfDir(t)
	conf.write("registries.conf", fmt.Sprintf(`
unqualified-search-registries = [%q]
[[registry]]
location = %q
insecure = true
[aliases]
"mybox" = "%s/library/busybox"
`, reg.addr, reg.addr, reg.addr))
	dst := newIsolatedServin(t)
	// insecure = true: no --tls-verify=false needed.
	dst.mustRun(conf.args("pull", "-q", reg.ref("library/busybox"))...)
	// A short name resolves on the one search registry...
	dst.mustRun(conf.args("pull", "-q", "busybox")...)
	// ... and an alias wins.
	dst.mustRun(conf.args("pull", "-q", "mybox")...)
	names := dst.mustRun("images", "--format", "{{.Repository}}")
	for _, want := range []string{reg.ref("library/busybox"), reg.ref("busybox")} {
		if !strings.Contains(names, want) {
			t.Errorf("images lacks %s:\n%s", want, names)
		}
	}

	// Two search registries make a short name ambiguous: a clear error,
	// never a prompt.
	conf.write("registries.conf", fmt.Sprintf(`
unqualified-search-registries = [%q, "127.0.0.1:1"]
[[registry]]
location = %q
insecure = true
`, reg.addr, reg.addr))
	r := dst.run(conf.args("pull", "otherbox")...)
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, "ambiguous") || !strings.Contains(r.stderr, "127.0.0.1:1/otherbox") {
		t.Errorf("ambiguous short name: %s", r)
	}

	// A blocked registry is refused before any request.
	conf.write("registries.conf", fmt.Sprintf(`
[[registry]]
location = %q
blocked = true
`, reg.addr))
	r = dst.run(conf.args("pull", "--tls-verify=false", reg.ref("library/busybox"))...)
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, "blocked") {
		t.Errorf("pull from a blocked registry: %s", r)
	}
}

func TestRegistryMirrors(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src)
	// The local registry answers for docker.io/library/busybox.
	pushBusybox(src, reg.ref("library/busybox:latest"))

	conf := newConfDir(t)
	// The first mirror refuses connections: servin falls back to the next.
	conf.write("registries.conf", fmt.Sprintf(`
[[registry]]
location = "docker.io"
[[registry.mirror]]
location = "127.0.0.1:1"
insecure = true
[[registry.mirror]]
location = %q
insecure = true
`, reg.addr))
	dst := newIsolatedServin(t)
	id := dst.mustRun(conf.args("pull", "-q", "docker.io/library/busybox:latest")...)
	if !hexID.MatchString(id) {
		t.Fatalf("pull through a mirror printed %q", id)
	}
	if got := dst.mustRun("images", "--format", "{{.Repository}}:{{.Tag}}"); got != "docker.io/library/busybox:latest" {
		t.Errorf("image pulled through the mirror is named %q", got)
	}

	// A registry whose only mirror is down is reached directly.
	conf.write("registries.conf", fmt.Sprintf(`
[[registry]]
location = %q
insecure = true
[[registry.mirror]]
location = "127.0.0.1:1"
insecure = true
`, reg.addr))
	dst2 := newIsolatedServin(t)
	dst2.mustRun(conf.args("pull", "-q", reg.ref("library/busybox:latest"))...)
}

func TestRegistryTLS(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	certs := makeTLS(t)
	reg := startRegistry(t, src, "--tls-cert", certs.cert, "--tls-key", certs.key)
	ref := reg.ref("tls/busybox:1")
	conf := newConfDir(t)

	src.importBusybox()
	// The CA is unknown: verification fails with a clear error.
	r := src.run(conf.args("push", "-q", busybox, ref)...)
	src.expectExit(r, 125)
	if !strings.Contains(r.stderr, "certificate") {
		t.Errorf("push to a registry with an unknown CA: %s", r)
	}
	// With the CA in certs.d/HOST:PORT/ (docker's layout) it verifies.
	ca, err := os.ReadFile(certs.caCert)
	if err != nil {
		t.Fatal(err)
	}
	conf.write(filepath.Join("certs.d", reg.addr, "ca.crt"), string(ca))
	src.mustRun(conf.args("push", "-q", busybox, ref)...)
	dst := newIsolatedServin(t)
	dst.mustRun(conf.args("pull", "-q", ref)...)
	// --cert-dir points at a directory holding the CA for every registry.
	dst2 := newIsolatedServin(t)
	certDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(certDir, "ca.crt"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
	dst2.mustRun("pull", "-q", "--cert-dir", certDir, ref)
}

func TestRegistryLogin(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	certs := makeTLS(t)
	htpasswd := writeHtpasswd(t, "alice", "s3cret")
	reg := startRegistry(t, src, "--htpasswd", htpasswd, "--tls-cert", certs.cert, "--tls-key", certs.key)
	ref := reg.ref("auth/busybox:1")
	conf := newConfDir(t)
	ca, _ := os.ReadFile(certs.caCert)
	conf.write(filepath.Join("certs.d", reg.addr, "ca.crt"), string(ca))
	src.importBusybox()

	r := src.run(conf.args("push", "-q", busybox, ref)...)
	src.expectExit(r, 125)
	if !strings.Contains(strings.ToLower(r.stderr), "auth") {
		t.Errorf("push without credentials: %s", r)
	}
	r = src.runWithStdin(strings.NewReader("wrong\n"), conf.args("login", "-u", "alice", "--password-stdin", reg.addr)...)
	src.expectExit(r, 125)
	if !strings.Contains(r.stderr, "invalid user name or password") {
		t.Errorf("login with a wrong password: %s", r)
	}
	r = src.runWithStdin(strings.NewReader("s3cret\n"), conf.args("login", "-u", "alice", "--password-stdin", reg.addr)...)
	src.expectExit(r, 0)
	authFile := filepath.Join(src.st.runroot, "auth.json")
	st, err := os.Stat(authFile)
	if err != nil {
		t.Fatalf("login stored no credentials: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("auth.json mode %v, want 0600", st.Mode().Perm())
	}
	if data, _ := os.ReadFile(authFile); !strings.Contains(string(data), `"auths"`) || !strings.Contains(string(data), reg.addr) {
		t.Errorf("auth.json is not in the podman/docker format:\n%s", data)
	}
	if got := src.mustRun(conf.args("login", "--get-login", reg.addr)...); got != "alice" {
		t.Errorf("login --get-login = %q, want alice", got)
	}
	src.mustRun(conf.args("push", "-q", busybox, ref)...)

	// Another store: --authfile and --creds.
	dst := newIsolatedServin(t)
	custom := filepath.Join(t.TempDir(), "auth.json")
	dst.expectExit(dst.run(conf.args("pull", "-q", ref)...), 125)
	dst.mustRun(conf.args("pull", "-q", "--creds", "alice:s3cret", ref)...)
	dst.expectExit(dst.runWithStdin(strings.NewReader("s3cret"), conf.args("login", "--authfile", custom, "-u", "alice", "--password-stdin", reg.addr)...), 0)
	dst.mustRun(conf.args("pull", "-q", "--authfile", custom, ref)...)

	src.mustRun(conf.args("logout", reg.addr)...)
	r = src.run(conf.args("login", "--get-login", reg.addr)...)
	src.expectExit(r, 125)
	src.expectExit(src.run(conf.args("push", "-q", busybox, ref)...), 125)
	src.expectExit(src.run(conf.args("logout", reg.addr)...), 125)
}

func TestRegistryBadInput(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	for _, bad := range []string{"UPPER/case", "a:b:c", "busybox@sha256:123", "/leading"} {
		r := s.run("pull", bad)
		s.expectExit(r, 125)
		if !strings.Contains(r.stderr, "invalid reference") {
			t.Errorf("pull %q: %s", bad, r)
		}
	}
	// Nothing listens on port 1 (--retry=0: no waits between attempts).
	r := s.run("pull", "--retry=0", "--tls-verify=false", "127.0.0.1:1/nothing:latest")
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("pull from a closed port: %s", r)
	}
	// A server answering garbage.
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		fmt.Fprint(w, "this is not a registry \x00\xff")
	}))
	t.Cleanup(garbage.Close)
	host := strings.TrimPrefix(garbage.URL, "http://")
	r = s.run("pull", "--tls-verify=false", host+"/x/y:latest")
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, host) {
		t.Errorf("pull from a garbage server does not name it: %s", r)
	}
	// A server that never answers: a bounded wait.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		<-req.Context().Done()
	}))
	t.Cleanup(hang.Close)
	hangHost := strings.TrimPrefix(hang.URL, "http://")
	r = runWithEnv(s, []string{"SERVIN_REGISTRY_TIMEOUT=2s"}, "pull", "--tls-verify=false", hangHost+"/x/y:latest")
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "did not answer") {
		t.Errorf("pull from a hanging server: %s", r)
	}
	if out := s.mustRun("images", "-q"); out != "" {
		t.Errorf("failed pulls stored images: %q", out)
	}
	if n := storedLayers(t, s); n != 0 {
		t.Errorf("failed pulls stored %d layers", n)
	}
}

func TestRegistryTamperedBlob(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src)
	ref := reg.ref("tamper/busybox:1")
	pushBusybox(src, ref)
	man := src.mustRun("manifest", "inspect", "--tls-verify=false", ref)
	blob := reg.blobPath(layerDigests(t, man)[0])
	data, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(blob, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dst := newIsolatedServin(t)
	r := dst.run("pull", "--tls-verify=false", ref)
	dst.expectExit(r, 125)
	if !strings.Contains(strings.ToLower(r.stderr), "digest") {
		t.Errorf("pull of a tampered blob: error does not mention the digest: %s", r)
	}
	if out := dst.mustRun("images", "-q"); out != "" {
		t.Errorf("a tampered pull stored an image: %q", out)
	}
	if n := storedLayers(t, dst); n != 0 {
		t.Errorf("a tampered pull left %d layers", n)
	}
}

func TestRegistryMultiArch(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src)
	src.mustRun("import", "--arch", "arm64", suite.rootfsTar, "bb-arm64")
	src.mustRun("import", "--arch", "amd64", suite.rootfsTar, "bb-amd64")
	src.mustRun("manifest", "create", "bblist", "bb-arm64")
	src.mustRun("manifest", "add", "bblist", "bb-amd64")
	if out := src.mustRun("manifest", "inspect", "bblist"); !strings.Contains(out, `"arm64"`) || !strings.Contains(out, `"amd64"`) {
		t.Errorf("manifest inspect of the local list:\n%s", out)
	}
	ref := reg.ref("multi/busybox:1")
	src.mustRun("manifest", "push", "-q", "--tls-verify=false", "bblist", ref)
	remote := src.mustRun("manifest", "inspect", "--tls-verify=false", ref)
	if !strings.Contains(remote, "application/vnd.oci.image.index.v1+json") || strings.Count(remote, `"platform"`) != 2 {
		t.Errorf("pushed list:\n%s", remote)
	}
	src.mustRun("manifest", "rm", "bblist")
	src.expectExit(src.run("manifest", "exists", "bblist"), 1)

	dst := newIsolatedServin(t)
	dst.mustRun("pull", "-q", "--tls-verify=false", "--arch", "arm64", ref)
	if got := dst.mustRun("image", "inspect", "--format", "{{.Architecture}}", ref); got != "arm64" {
		t.Errorf("pull --arch arm64 got %s", got)
	}
	dst.mustRun("pull", "-q", "--tls-verify=false", "--platform", "linux/amd64", ref)
	if got := dst.mustRun("image", "inspect", "--format", "{{.Architecture}}", ref); got != "amd64" {
		t.Errorf("pull --platform linux/amd64 got %s", got)
	}
	r := dst.run("pull", "--tls-verify=false", "--arch", "s390x", ref)
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, "s390x") {
		t.Errorf("pull of a missing platform: %s", r)
	}
}

func TestRegistrySignaturePolicy(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src)
	ref := reg.ref("policy/busybox:1")
	pushBusybox(src, ref)
	conf := newConfDir(t)
	dst := newIsolatedServin(t)

	conf.write("policy.json", `{"default": [{"type": "reject"}]}`)
	r := dst.run(conf.args("pull", "--tls-verify=false", ref)...)
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, "rejected") {
		t.Errorf("pull under a reject policy: %s", r)
	}
	key := conf.write("key.gpg", "")
	conf.write("policy.json", fmt.Sprintf(`{"default": [{"type": "insecureAcceptAnything"}],
  "transports": {"docker": {%q: [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": %q}]}}}`, reg.addr, key))
	r = dst.run(conf.args("pull", "--tls-verify=false", ref)...)
	dst.expectExit(r, 125)
	if !strings.Contains(strings.ToLower(r.stderr), "signature") {
		t.Errorf("pull of an unsigned image under signedBy: %s", r)
	}
	if out := dst.mustRun("images", "-q"); out != "" {
		t.Errorf("rejected pulls stored an image: %q", out)
	}
	conf.write("policy.json", `{"default": [{"type": "insecureAcceptAnything"}]}`)
	dst.mustRun(conf.args("pull", "-q", "--tls-verify=false", ref)...)
	// GPG signing is not available in this build: a clear refusal.
	r = src.run("push", "--tls-verify=false", "--sign-by", "someone@example.com", busybox, ref)
	src.expectExit(r, 125)
	if !strings.Contains(r.stderr, "GPG signing is not available") {
		t.Errorf("push --sign-by: %s", r)
	}
}

func TestImageArchivesAndBadInput(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	s.mustRun("import", "--arch", "arm64", suite.rootfsTar, "second")
	dir := t.TempDir()
	for _, f := range []string{"docker-archive", "oci-archive", "oci-dir"} {
		out := filepath.Join(dir, f)
		s.mustRun("save", "--format", f, "-o", out, busybox, "second")
		other := newIsolatedServin(t)
		if f == "oci-dir" {
			other.mustRun("pull", "-q", "oci:"+out+":localhost/second:latest")
			continue
		}
		loaded := other.mustRun("load", "-i", out)
		for _, want := range []string{"localhost/busybox:latest", "localhost/second:latest"} {
			if !strings.Contains(loaded, want) {
				t.Errorf("load of a %s of two images: %q lacks %s", f, loaded, want)
			}
		}
	}

	// Not an image.
	junk := filepath.Join(dir, "junk.tar")
	os.WriteFile(junk, []byte("this is not an archive"), 0o644)
	r := s.run("load", "-i", junk)
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "does not match any of the supported image formats") {
		t.Errorf("load of junk: %s", r)
	}
	// Layers escaping the root, by ../ or by an absolute path.
	for _, entry := range []string{"../escape.txt", "/abs/escape.txt"} {
		evil := filepath.Join(dir, "evil.tar")
		writeEvilArchive(t, evil, entry)
		clean := newIsolatedServin(t)
		r := clean.run("load", "-i", evil)
		clean.expectExit(r, 125)
		if !strings.Contains(r.stderr, entry) {
			t.Errorf("load of a layer with %q: error does not name it: %s", entry, r)
		}
		if out := clean.mustRun("images", "-q"); out != "" {
			t.Errorf("load of a bad layer stored an image: %q", out)
		}
		if n := storedLayers(t, clean); n != 0 {
			t.Errorf("load of a bad layer left %d layers", n)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape.txt")); err == nil {
		t.Errorf("a layer wrote outside the store")
	}
}

func TestImageCommitHistoryTree(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	ctr := s.name("c")
	s.mustRun("run", "--name", ctr, "--network", "none", busybox, "sh", "-c", "echo committed > /greeting && rm /etc/group")
	id := s.mustRun("commit", "-q", "--format", "docker", "-m", "add greeting", "-a", "tester", "--change", `CMD ["cat","/greeting"]`, ctr, "greeted")
	if !hexID.MatchString(id) {
		t.Fatalf("commit printed %q", id)
	}
	if out := s.mustRun("run", "--rm", "--network", "none", "greeted"); out != "committed" {
		t.Errorf("committed image's CMD printed %q", out)
	}
	s.expectExit(s.run("run", "--rm", "--network", "none", "greeted", "ls", "/etc/group"), 1)
	hist := s.mustRun("history", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Comment}}", "greeted")
	lines := strings.Split(hist, "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], id[:12]+"|servin commit|add greeting") || !strings.HasPrefix(lines[1], "<missing>|") {
		t.Errorf("history:\n%s", hist)
	}
	if tree := s.mustRun("image", "tree", "greeted"); strings.Count(tree, "── ID: ") != 2 || !strings.Contains(tree, "localhost/greeted:latest") {
		t.Errorf("image tree:\n%s", tree)
	}
	// untag leaves the image dangling; prune removes it once unused.
	s.mustRun("untag", "greeted")
	if out := s.mustRun("images", "--filter", "dangling=true", "-q"); out != id[:12] {
		t.Errorf("untagged image not dangling: %q", out)
	}
	// A dangling image in use by a container stays.
	inUse := s.mustRun("commit", "-q", ctr)
	user := s.name("user")
	s.mustRun("create", "--name", user, "--network", "none", inUse, "true")
	pruned := s.mustRun("image", "prune", "-f")
	if !strings.Contains(pruned, id) || strings.Contains(pruned, inUse) {
		t.Errorf("image prune removed %q; want %s and not %s", pruned, id, inUse)
	}
	s.mustRun("rm", user, ctr)
	if pruned := s.mustRun("image", "prune", "-f"); pruned != inUse {
		t.Errorf("second image prune removed %q, want %s", pruned, inUse)
	}
	if out := s.mustRun("images", "-q"); len(strings.Fields(out)) != 1 {
		t.Errorf("after prune: %q, want only busybox", out)
	}
	// -a removes unused tagged images too.
	s.mustRun("tag", busybox, "extra")
	s.mustRun("image", "prune", "-a", "-f")
	if out := s.mustRun("images", "-q"); out != "" {
		t.Errorf("after prune -a: %q", out)
	}
	s.importBusybox()
	// image mount gives a read-only view of the image.
	mnt := s.mustRun("image", "mount", busybox)
	if _, err := os.Stat(filepath.Join(mnt, "etc", "passwd")); err != nil {
		t.Errorf("image mount %s: %v", mnt, err)
	}
	s.mustRun("image", "unmount", busybox)
}

func TestRegistryEncryptedImage(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src)
	ref := reg.ref("enc/busybox:1")
	priv, pub := writeRSAKeys(t)
	src.importBusybox()
	src.mustRun("push", "-q", "--tls-verify=false", "--encryption-key", "jwe:"+pub, busybox, ref)

	dst := newIsolatedServin(t)
	r := dst.run("pull", "--tls-verify=false", ref)
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, "--decryption-key") {
		t.Errorf("pull of an encrypted image without a key: %s", r)
	}
	if out := dst.mustRun("images", "-q"); out != "" {
		t.Errorf("a pull without the key stored %q", out)
	}
	dst.mustRun("pull", "-q", "--tls-verify=false", "--decryption-key", priv, ref)
	if out := dst.mustRun("run", "--rm", "--network", "none", ref, "echo", "decrypted"); out != "decrypted" {
		t.Errorf("container of the decrypted image printed %q", out)
	}
}

func TestRegistrySigstoreSigned(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src)
	conf := newConfDir(t)
	// Signatures travel in the registry as OCI attachments.
	conf.write("registries.d/default.yaml", fmt.Sprintf("docker:\n  %s:\n    use-sigstore-attachments: true\n", reg.addr))
	priv, pub, pass := writeSigstoreKeys(t, conf)
	signed, unsigned := reg.ref("signed/busybox:1"), reg.ref("unsigned/busybox:1")
	src.importBusybox()
	src.mustRun(conf.args("push", "-q", "--tls-verify=false", "--sign-by-sigstore-private-key", priv, "--sign-passphrase-file", pass, busybox, signed)...)
	src.mustRun(conf.args("push", "-q", "--tls-verify=false", busybox, unsigned)...)

	conf.write("policy.json", fmt.Sprintf(`{"default": [{"type": "insecureAcceptAnything"}],
  "transports": {"docker": {%q: [{"type": "sigstoreSigned", "keyPath": %q, "signedIdentity": {"type": "matchRepoDigestOrExact"}}]}}}`, reg.addr, pub))
	dst := newIsolatedServin(t)
	dst.mustRun(conf.args("pull", "-q", "--tls-verify=false", signed)...)
	r := dst.run(conf.args("pull", "--tls-verify=false", unsigned)...)
	dst.expectExit(r, 125)
	if !strings.Contains(strings.ToLower(r.stderr), "signature") {
		t.Errorf("pull of an unsigned image under sigstoreSigned: %s", r)
	}
}
