package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Registry authentication beyond htpasswd: docker-credential-* helpers
// holding the credentials, and registries that want bearer tokens from a
// token server (the docker token authentication protocol).

// credHelperScript is a docker credential helper (store, get, erase,
// list on the helper protocol) keeping one JSON file per server in DIR and
// appending each action it runs to DIR/calls.
const credHelperScript = `#!/bin/sh
dir=DIR
echo "$1" >> "$dir/calls"
file() { printf '%s/%s.json' "$dir" "$(printf '%s' "$1" | tr '/:' '__')"; }
case "$1" in
store)
	in=$(cat)
	url=$(printf '%s' "$in" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
	printf '%s' "$in" > "$(file "$url")" ;;
get)
	f=$(file "$(cat)")
	if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
erase)
	f=$(file "$(cat)")
	if [ -f "$f" ]; then rm -f "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
list)
	printf '{}' ;;
*)
	echo "unknown action $1" >&2; exit 1 ;;
esac
`

// credHelper is the helper installed in a directory of its own.
type credHelper struct {
	t    *testing.T
	dir  string // holds the helper program, its credential files and calls
	path string // PATH=... putting the helper first
}

func newCredHelper(t *testing.T) *credHelper {
	t.Helper()
	dir := t.TempDir()
	script := strings.Replace(credHelperScript, "DIR", dir, 1)
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-servintest"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &credHelper{t: t, dir: dir, path: "PATH=" + dir + ":" + os.Getenv("PATH")}
}

// stored returns what the helper holds for a server ("" if nothing).
func (h *credHelper) stored(server string) string {
	name := strings.NewReplacer("/", "_", ":", "_").Replace(server) + ".json"
	data, err := os.ReadFile(filepath.Join(h.dir, name))
	if err != nil {
		return ""
	}
	return string(data)
}

// calls lists the helper actions run so far.
func (h *credHelper) calls() string {
	data, _ := os.ReadFile(filepath.Join(h.dir, "calls"))
	return strings.Join(strings.Fields(string(data)), " ")
}

func TestH3CredentialHelperInAuthFile(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src, "--htpasswd", writeHtpasswd(t, "carol", "helper-pw"))
	ref := reg.ref("helper/busybox:1")
	h := newCredHelper(t)
	// auth.json sends this registry's credentials to the helper.
	authFile := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(authFile, []byte(fmt.Sprintf(`{"auths": {}, "credHelpers": {%q: "servintest"}}`, reg.addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{h.path, "REGISTRY_AUTH_FILE=" + authFile}
	src.importBusybox()

	r := runWithEnv(src, env, "login", "--tls-verify=false", "-u", "carol", "-p", "wrong", reg.addr)
	src.expectExit(r, 125)
	if h.stored(reg.addr) != "" {
		t.Errorf("a failed login stored credentials in the helper: %s", h.stored(reg.addr))
	}
	r = runWithEnv(src, env, "login", "--tls-verify=false", "-u", "carol", "-p", "helper-pw", reg.addr)
	src.expectExit(r, 0)
	if got := h.stored(reg.addr); !strings.Contains(got, `"Username":"carol"`) || !strings.Contains(got, `"Secret":"helper-pw"`) {
		t.Fatalf("login did not store the credentials through the helper: helper holds %q (calls: %s)", got, h.calls())
	}
	if data, _ := os.ReadFile(authFile); strings.Contains(string(data), "helper-pw") || strings.Contains(string(data), base64.StdEncoding.EncodeToString([]byte("carol:helper-pw"))) {
		t.Errorf("login wrote the password into auth.json although a helper is configured:\n%s", data)
	}
	if r := runWithEnv(src, env, "login", "--get-login", reg.addr); r.exit != 0 || r.out() != "carol" {
		t.Errorf("login --get-login through the helper: %s", r)
	}
	// Push and pull authenticate with what the helper returns.
	src.expectExit(runWithEnv(src, env, "push", "-q", "--tls-verify=false", busybox, ref), 0)
	dst := newIsolatedServin(t)
	dst.expectExit(runWithEnv(dst, env, "pull", "-q", "--tls-verify=false", ref), 0)
	if !strings.Contains(h.calls(), "get") {
		t.Errorf("pull never asked the helper: calls %s", h.calls())
	}
	// Logout erases in the helper; then pulls are anonymous and refused.
	src.expectExit(runWithEnv(src, env, "logout", reg.addr), 0)
	if h.stored(reg.addr) != "" || !strings.Contains(h.calls(), "erase") {
		t.Errorf("logout did not erase the helper's credentials: holds %q, calls %s", h.stored(reg.addr), h.calls())
	}
	r = runWithEnv(dst, env, "pull", "-q", "--tls-verify=false", reg.ref("helper/busybox:1"))
	// The image is stored already: this pull asks the registry for the
	// manifest only, which needs credentials too.
	dst.expectExit(r, 125)
	if strings.Contains(r.stderr, "retrying") {
		t.Errorf("an authentication failure was retried: %s", r)
	}
	src.expectExit(runWithEnv(src, env, "logout", reg.addr), 125)
}

func TestH3CredentialHelperInRegistriesConf(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src, "--htpasswd", writeHtpasswd(t, "dave", "conf-pw"))
	ref := reg.ref("confhelper/busybox:1")
	h := newCredHelper(t)
	conf := newConfDir(t)
	conf.write("registries.conf", fmt.Sprintf(`
credential-helpers = ["servintest"]
[[registry]]
location = %q
insecure = true
`, reg.addr))
	// No auth.json should appear: the helper is the only store.
	authFile := filepath.Join(t.TempDir(), "auth.json")
	env := []string{h.path, "REGISTRY_AUTH_FILE=" + authFile}
	src.importBusybox()

	src.expectExit(runWithEnv(src, env, conf.args("login", "-u", "dave", "-p", "conf-pw", reg.addr)...), 0)
	if got := h.stored(reg.addr); !strings.Contains(got, `"Secret":"conf-pw"`) {
		t.Fatalf("login with credential-helpers did not store in the helper: %q (calls %s)", got, h.calls())
	}
	if _, err := os.Stat(authFile); err == nil {
		data, _ := os.ReadFile(authFile)
		t.Errorf("login wrote an auth file although only a helper is configured:\n%s", data)
	}
	src.expectExit(runWithEnv(src, env, conf.args("push", "-q", busybox, ref)...), 0)
	dst := newIsolatedServin(t)
	dst.expectExit(runWithEnv(dst, env, conf.args("pull", "-q", ref)...), 0)
	// run pulls a missing image with the helper's credentials too.
	dst2 := newIsolatedServin(t)
	r := runWithEnv(dst2, env, conf.args("run", "--rm", "--network", "none", ref, "echo", "via-helper")...)
	if r.exit != 0 || r.out() != "via-helper" {
		t.Errorf("run of an image pulled with helper credentials: %s", r)
	}
	src.expectExit(runWithEnv(src, env, conf.args("logout", reg.addr)...), 0)
	if h.stored(reg.addr) != "" {
		t.Errorf("logout left the credentials in the helper: %q", h.stored(reg.addr))
	}
	dst3 := newIsolatedServin(t)
	dst3.expectExit(runWithEnv(dst3, env, conf.args("pull", "-q", ref)...), 125)
}

// tokenServer issues bearer tokens for a registry started with
// --auth-token-*: it checks basic credentials and grants the requested
// repository actions to one user, nothing to anyone else. Tokens are JWTs
// (ES256) carrying the signing certificate in x5c.
type tokenServer struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string
	user   string
	pass   string
	key    *ecdsa.PrivateKey
	cert   []byte // DER of the self-signed certificate of key
	// rogue signs tokens for user "mallory" with a key the registry does
	// not trust.
	rogue     *ecdsa.PrivateKey
	rogueCert []byte

	mu       sync.Mutex
	requests []string // "user scope..." per token request
}

func newTokenServer(t *testing.T, user, pass string) *tokenServer {
	t.Helper()
	ts := &tokenServer{t: t, issuer: "servin-test-issuer", user: user, pass: pass}
	ts.key, ts.cert = selfSignedKey(t, "servin test token signer")
	ts.rogue, ts.rogueCert = selfSignedKey(t, "rogue token signer")
	ts.srv = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.srv.Close)
	return ts
}

func selfSignedKey(t *testing.T, cn string) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

// certFile writes the trusted signing certificate for --auth-token-cert.
func (ts *tokenServer) certFile() string {
	p := filepath.Join(ts.t.TempDir(), "token-signer.pem")
	writePEM(ts.t, p, "CERTIFICATE", ts.cert)
	return p
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, hasAuth := r.BasicAuth()
	scopes := r.URL.Query()["scope"]
	ts.mu.Lock()
	ts.requests = append(ts.requests, strings.TrimSpace(user+" "+strings.Join(scopes, " ")))
	ts.mu.Unlock()
	key, cert := ts.key, ts.cert
	var access []map[string]any
	switch {
	case hasAuth && user == ts.user && pass == ts.pass:
		access = grants(scopes)
	case hasAuth && user == "mallory":
		key, cert = ts.rogue, ts.rogueCert
		access = grants(scopes)
	case hasAuth:
		http.Error(w, `{"details":"invalid user name or password"}`, http.StatusUnauthorized)
		return
	}
	token := ts.sign(key, cert, r.URL.Query().Get("service"), user, access)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"token": token, "access_token": token, "expires_in": 300, "issued_at": time.Now().UTC().Format(time.RFC3339),
	})
}

// grants turns "repository:NAME:ACTIONS" scopes into token access claims.
func grants(scopes []string) []map[string]any {
	var out []map[string]any
	for _, sc := range scopes {
		for _, one := range strings.Split(sc, " ") {
			typ, rest, ok := strings.Cut(one, ":")
			i := strings.LastIndex(rest, ":")
			if !ok || i < 0 {
				continue
			}
			out = append(out, map[string]any{"type": typ, "name": rest[:i], "actions": strings.Split(rest[i+1:], ",")})
		}
	}
	return out
}

func (ts *tokenServer) sign(key *ecdsa.PrivateKey, cert []byte, service, subject string, access []map[string]any) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]any{"alg": "ES256", "typ": "JWT", "x5c": []string{base64.StdEncoding.EncodeToString(cert)}})
	now := time.Now()
	if access == nil {
		access = []map[string]any{}
	}
	claims, _ := json.Marshal(map[string]any{
		"iss": ts.issuer, "sub": subject, "aud": service, "exp": now.Add(5 * time.Minute).Unix(),
		"nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(), "jti": fmt.Sprint(now.UnixNano()), "access": access,
	})
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	rr, ss, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		ts.t.Error(err)
	}
	sig := make([]byte, 64)
	rr.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig)
}

func (ts *tokenServer) requestLog() string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return strings.Join(ts.requests, "\n")
}

func TestH3BearerTokenRegistry(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	ts := newTokenServer(t, "erin", "token-pw")
	reg := startRegistry(t, src, "--auth-token-realm", ts.srv.URL+"/token",
		"--auth-token-issuer", ts.issuer, "--auth-token-cert", ts.certFile())
	ref := reg.ref("bearer/busybox:1")
	authFile := filepath.Join(t.TempDir(), "auth.json")
	src.importBusybox()

	// The registry challenges for a bearer token from the token server.
	resp, err := http.Get("http://" + reg.addr + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, ts.srv.URL+"/token") {
		t.Fatalf("GET /v2/ without a token: status %d, challenge %q", resp.StatusCode, ch)
	}

	// Anonymous tokens grant nothing.
	r := src.run("push", "-q", "--tls-verify=false", "--authfile", authFile, busybox, ref)
	src.expectExit(r, 125)
	r = src.run("login", "--tls-verify=false", "--authfile", authFile, "-u", "erin", "-p", "wrong", reg.addr)
	src.expectExit(r, 125)
	if !strings.Contains(r.stderr, "invalid user name or password") {
		t.Errorf("login with a wrong password at the token server: %s", r)
	}
	src.mustRun("login", "--tls-verify=false", "--authfile", authFile, "-u", "erin", "-p", "token-pw", reg.addr)
	src.mustRun("push", "-q", "--tls-verify=false", "--authfile", authFile, busybox, ref)
	if log := ts.requestLog(); !strings.Contains(log, "erin repository:bearer/busybox:pull,push") && !strings.Contains(log, "erin repository:bearer/busybox:push,pull") {
		t.Errorf("push did not get a push token for erin; token requests:\n%s", log)
	}

	dst := newIsolatedServin(t)
	dst.expectExit(dst.run("pull", "-q", "--tls-verify=false", ref), 125)
	dst.mustRun("pull", "-q", "--tls-verify=false", "--authfile", authFile, ref)
	dst2 := newIsolatedServin(t)
	dst2.mustRun("pull", "-q", "--tls-verify=false", "--creds", "erin:token-pw", ref)
	if out := dst2.mustRun("run", "--rm", "--network", "none", ref, "echo", "bearer-ok"); out != "bearer-ok" {
		t.Errorf("run of the image pulled with a bearer token: %q", out)
	}
	// A token signed by a key the registry does not trust is refused.
	dst3 := newIsolatedServin(t)
	r = dst3.run("pull", "-q", "--tls-verify=false", "--creds", "mallory:any", ref)
	dst3.expectExit(r, 125)
	// The token server did issue it: the registry refused it.
	if !strings.Contains(r.stderr, "authentication required") || !strings.Contains(ts.requestLog(), "mallory repository:bearer/busybox:pull") {
		t.Errorf("pull with an untrusted token: %s\ntoken requests:\n%s", r, ts.requestLog())
	}
	if out := dst3.mustRun("images", "-q"); out != "" {
		t.Errorf("pull with an untrusted token stored %q", out)
	}

	// Bad registry token options are refused at start.
	r = src.run("registry", "serve", "--addr", "127.0.0.1:0", "--root", t.TempDir(), "--auth-token-realm", ts.srv.URL)
	src.expectExit(r, 125)
	if !strings.Contains(r.stderr, "--auth-token-issuer") {
		t.Errorf("registry serve with an incomplete token configuration: %s", r)
	}
}
