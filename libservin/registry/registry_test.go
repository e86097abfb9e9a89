package registry

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// serve starts a registry on a free port of 127.0.0.1 for the test.
func serve(t *testing.T, o Options) *Server {
	t.Helper()
	o.Addr = "127.0.0.1:0"
	if o.Root == "" {
		o.Root = t.TempDir()
	}
	o.LogOutput = io.Discard
	srv, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

func get(t *testing.T, url, user, pass string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestServeAPI(t *testing.T) {
	srv := serve(t, Options{})
	base := "http://" + srv.Addr()
	if resp := get(t, base+"/v2/", "", ""); resp.StatusCode != http.StatusOK ||
		resp.Header.Get("Docker-Distribution-Api-Version") != "registry/2.0" {
		t.Errorf("GET /v2/: %s %v", resp.Status, resp.Header)
	}
	if resp := get(t, base+"/v2/_catalog", "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/_catalog: %s", resp.Status)
	}
	if resp := get(t, base+"/v2/nothing/manifests/latest", "", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown manifest: %s", resp.Status)
	}
}

func TestServeHtpasswd(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(file, []byte("bob:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, Options{Htpasswd: file})
	base := "http://" + srv.Addr() + "/v2/"
	resp := get(t, base, "", "")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="servin-registry"`) {
		t.Errorf("anonymous: %s %v", resp.Status, resp.Header)
	}
	if resp := get(t, base, "bob", "wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %s", resp.Status)
	}
	if resp := get(t, base, "bob", "pw"); resp.StatusCode != http.StatusOK {
		t.Errorf("right password: %s", resp.Status)
	}
}

func TestOptionErrors(t *testing.T) {
	dir := t.TempDir()
	for name, o := range map[string]Options{
		"no address":       {Root: dir},
		"no root":          {Addr: "127.0.0.1:0"},
		"cert without key": {Addr: "127.0.0.1:0", Root: dir, TLSCert: "/x.crt"},
		"missing htpasswd": {Addr: "127.0.0.1:0", Root: dir, Htpasswd: filepath.Join(dir, "none")},
		"bad address":      {Addr: "127.0.0.1:notaport", Root: dir},
		"token without issuer": {Addr: "127.0.0.1:0", Root: dir,
			Token: TokenAuth{Realm: "http://127.0.0.1:1/token", RootCertBundle: filepath.Join(dir, "x.pem")}},
		"token issuer without realm": {Addr: "127.0.0.1:0", Root: dir, Token: TokenAuth{Issuer: "x"}},
		"token and htpasswd": {Addr: "127.0.0.1:0", Root: dir, Htpasswd: "/etc/hostname",
			Token: TokenAuth{Realm: "http://127.0.0.1:1/token", Issuer: "x", RootCertBundle: "/etc/hostname"}},
		"missing token certificate": {Addr: "127.0.0.1:0", Root: dir,
			Token: TokenAuth{Realm: "http://127.0.0.1:1/token", Issuer: "x", RootCertBundle: filepath.Join(dir, "none.pem")}},
	} {
		o.LogOutput = io.Discard
		if _, err := New(context.Background(), o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// TestServeToken: with token authentication the registry challenges for
// a bearer token from the configured realm and refuses basic credentials.
func TestServeToken(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "signer.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, Options{Token: TokenAuth{Realm: "http://127.0.0.1:1/token", Issuer: "test", RootCertBundle: bundle}})
	base := "http://" + srv.Addr() + "/v2/"
	for _, user := range []string{"", "bob"} {
		resp := get(t, base, user, "pw")
		want := `Bearer realm="http://127.0.0.1:1/token",service="servin-registry"`
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
			t.Errorf("user %q: %s, challenge %q, want %q", user, resp.Status, resp.Header.Get("WWW-Authenticate"), want)
		}
	}
}
