package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Pull policies of run/create/pull, pull --all-tags and pull retries,
// against servin's own registry on 127.0.0.1.

// pushMarked pushes an image whose /marker file holds text to ref.
func pushMarked(s *servin, ref, text string) {
	s.t.Helper()
	name := s.name("mark-" + text)
	s.mustRun("run", "--name", name, "--network", "none", busybox, "sh", "-c", "echo "+text+" > /marker")
	s.mustRun("commit", "-q", name, "marked-"+text)
	s.mustRun("rm", name)
	s.mustRun("push", "-q", "--tls-verify=false", "marked-"+text, ref)
}

func TestH3RunPullPolicy(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src)
	ref := reg.ref("policy/busybox:t")
	pushBusybox(src, ref)
	dst := newIsolatedServin(t)
	tls := "--tls-verify=false"

	// never: an absent image is podman's "image not known", nothing pulled.
	r := dst.run("run", "--rm", "--network", "none", "--pull=never", ref, "true")
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, ref+": image not known") {
		t.Errorf("run --pull=never of an absent image: %s", r)
	}
	r = dst.run("create", "--pull", "bogus", ref)
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, `unsupported pull policy "bogus"`) {
		t.Errorf("create --pull bogus: %s", r)
	}
	if out := dst.mustRun("images", "-q"); out != "" {
		t.Fatalf("failed runs stored images: %q", out)
	}

	// missing (the default): run pulls the absent image; progress goes to
	// stderr only, stdout is the container's.
	r = dst.run("run", "--rm", "--network", "none", tls, ref, "echo", "pulled-and-ran")
	dst.expectExit(r, 0)
	if r.stdout != "pulled-and-ran\n" {
		t.Errorf("run of an absent image: stdout %q, want only the container's output", r.stdout)
	}
	if !strings.Contains(r.stderr, "Copying") {
		t.Errorf("run of an absent image printed no pull progress on stderr: %s", r)
	}
	if got := dst.mustRun("images", "--format", "{{.Repository}}:{{.Tag}}"); got != ref {
		t.Errorf("images after run pulled: %q, want %s", got, ref)
	}
	// create -q pulls silently and prints only the container ID.
	ref2 := reg.ref("policy/busybox:create")
	src.mustRun("push", "-q", tls, busybox, ref2)
	r = dst.run("create", "-q", "--network", "none", tls, ref2, "true")
	dst.expectExit(r, 0)
	if !fullID.MatchString(r.out()) || strings.TrimSpace(r.stderr) != "" {
		t.Errorf("create -q of an absent image: want a container ID and an empty stderr: %s", r)
	}
	dst.mustRun("rm", r.out())

	// The tag moves to an image with /marker.
	pushMarked(src, ref, "v2")
	// missing keeps the stored image...
	dst.expectExit(dst.run("run", "--rm", "--network", "none", "--pull=missing", tls, ref, "cat", "/marker"), 1)
	// ... newer and always fetch the new one.
	if out := dst.mustRun("run", "--rm", "--network", "none", "--pull=newer", tls, ref, "cat", "/marker"); out != "v2" {
		t.Errorf("run --pull=newer after the tag moved: %q, want v2", out)
	}
	pushMarked(src, ref, "v3")
	if out := dst.mustRun("run", "--rm", "--network", "none", "--pull=always", "-q", tls, ref, "cat", "/marker"); out != "v3" {
		t.Errorf("run --pull=always after the tag moved: %q, want v3", out)
	}
	// pull --policy=missing does not fetch what is stored.
	pushMarked(src, ref, "v4")
	dst.mustRun("pull", "-q", "--policy=missing", tls, ref)
	if out := dst.mustRun("run", "--rm", "--network", "none", "--pull=never", ref, "cat", "/marker"); out != "v3" {
		t.Errorf("pull --policy=missing replaced the stored image: /marker %q, want v3", out)
	}
	id := dst.mustRun("image", "inspect", "--format", "{{.Id}}", ref)

	// With the registry gone: missing, never and newer use the stored
	// image; always fails.
	reg.proc.cancel()
	<-reg.proc.done
	for _, policy := range []string{"missing", "never", "newer"} {
		out := dst.mustRun("run", "--rm", "--network", "none", "--pull="+policy, "--retry=0", tls, ref, "cat", "/marker")
		if out != "v3" {
			t.Errorf("run --pull=%s with the registry down: %q, want v3", policy, out)
		}
	}
	r = dst.run("run", "--rm", "--network", "none", "--pull=always", "--retry=0", tls, ref, "true")
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("run --pull=always with the registry down: %s", r)
	}
	// An image ID is never pulled.
	r = dst.run("run", "--rm", "--network", "none", "--pull=always", id, "true")
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, "referred to by ID") {
		t.Errorf("run --pull=always of an image ID: %s", r)
	}
	if out := dst.mustRun("run", "--rm", "--network", "none", "--pull=newer", id, "cat", "/marker"); out != "v3" {
		t.Errorf("run --pull=newer of an image ID: %q", out)
	}
}

func TestH3PullAllTags(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src)
	repo := reg.ref("alltags/box")
	pushBusybox(src, repo+":a")
	src.mustRun("push", "-q", "--tls-verify=false", busybox, repo+":b")
	pushMarked(src, repo+":c", "tag-c")

	dst := newIsolatedServin(t)
	r := dst.run("pull", "--all-tags", "--tls-verify=false", repo)
	dst.expectExit(r, 0)
	ids := r.lines()
	if len(ids) != 3 || ids[0] != ids[1] || ids[1] == ids[2] {
		t.Fatalf("pull --all-tags printed %q, want the IDs of a, b (the same image) and c", ids)
	}
	for _, id := range ids {
		if !hexID.MatchString(id) {
			t.Errorf("pull --all-tags printed %q, not an image ID", id)
		}
	}
	tags := dst.mustRun("images", "--format", "{{.Repository}}:{{.Tag}}")
	for _, tag := range []string{"a", "b", "c"} {
		if !strings.Contains(tags, repo+":"+tag) {
			t.Errorf("images after pull --all-tags lacks %s:%s:\n%s", repo, tag, tags)
		}
	}
	if out := dst.mustRun("run", "--rm", "--network", "none", "--pull=never", repo+":c", "cat", "/marker"); out != "tag-c" {
		t.Errorf("tag c pulled by --all-tags: /marker %q", out)
	}
	// -a with a tag is refused; a repository the registry lacks fails.
	r = dst.run("pull", "-a", "--tls-verify=false", repo+":a")
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, "tag can't be used with --all-tags/-a") {
		t.Errorf("pull -a with a tag: %s", r)
	}
	r = dst.run("pull", "-a", "--retry=0", "--tls-verify=false", reg.ref("alltags/nothing"))
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, "alltags/nothing") {
		t.Errorf("pull -a of an unknown repository: %s", r)
	}
}

// flakyRegistry is a proxy in front of a registry that answers the first
// manifest requests badly, as fail says, and counts manifest requests.
type flakyRegistry struct {
	addr      string
	manifests atomic.Int32
}

func newFlakyRegistry(t *testing.T, backend string, fail func(n int32, w http.ResponseWriter) bool) *flakyRegistry {
	t.Helper()
	f := &flakyRegistry{}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: backend})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") {
			if n := f.manifests.Add(1); fail(n, w) {
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.addr = strings.TrimPrefix(srv.URL, "http://")
	return f
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

var retryWarning = regexp.MustCompile(`Failed, retrying in [0-9.]+m?s \.\.\. \(\d+/\d+\)`)

func TestH3PullRetry(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src)
	pushBusybox(src, reg.ref("retry/busybox:1"))
	tls := "--tls-verify=false"

	// Two 503 answers, then the registry: the third attempt succeeds.
	unavailable := func(n int32, w http.ResponseWriter) bool {
		if n <= 2 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	f := newFlakyRegistry(t, reg.addr, unavailable)
	dst := newIsolatedServin(t)
	start := time.Now()
	r := dst.run("pull", "--retry-delay", "100ms", tls, f.addr+"/retry/busybox:1")
	dst.expectExit(r, 0)
	if n := len(retryWarning.FindAllString(r.stderr, -1)); n != 2 {
		t.Errorf("pull through two 503 answers: %d retry warnings, want 2:\n%s", n, r.stderr)
	}
	if !strings.Contains(r.stderr, "retrying in 100ms") {
		t.Errorf("--retry-delay 100ms not used: %s", r.stderr)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("pull with two 100ms retries took %v", el)
	}
	// --retry 1 gives up after one retry.
	f = newFlakyRegistry(t, reg.addr, unavailable)
	dst2 := newIsolatedServin(t)
	r = dst2.run("pull", "--retry", "1", "--retry-delay", "10ms", tls, f.addr+"/retry/busybox:1")
	dst2.expectExit(r, 125)
	if n := len(retryWarning.FindAllString(r.stderr, -1)); n != 1 || !strings.Contains(r.stderr, "503") {
		t.Errorf("pull --retry 1 through two 503 answers: want 1 retry and the 503 reported:\n%s", r.stderr)
	}
	if got := f.manifests.Load(); got != 2 {
		t.Errorf("pull --retry 1: %d manifest requests, want 2", got)
	}
	// run retries too (the default is 3 retries).
	f = newFlakyRegistry(t, reg.addr, unavailable)
	dst3 := newIsolatedServin(t)
	r = dst3.run("run", "--rm", "--network", "none", "--retry-delay", "10ms", tls, f.addr+"/retry/busybox:1", "echo", "after-retries")
	if r.exit != 0 || r.stdout != "after-retries\n" || len(retryWarning.FindAllString(r.stderr, -1)) != 2 {
		t.Errorf("run through two 503 answers: %s", r)
	}

	// Dropped connections are transient as well.
	dropped := newFlakyRegistry(t, reg.addr, func(n int32, w http.ResponseWriter) bool {
		if n <= 2 {
			dropConnection(w)
			return true
		}
		return false
	})
	dst4 := newIsolatedServin(t)
	r = dst4.run("pull", "-q", "--retry", "5", "--retry-delay", "10ms", tls, dropped.addr+"/retry/busybox:1")
	dst4.expectExit(r, 0)
	if !retryWarning.MatchString(r.stderr) {
		t.Errorf("pull through dropped connections did not retry: %s", r)
	}

	// Final answers are not retried: an unknown manifest, and a registry
	// that wants credentials.
	for _, c := range []struct {
		desc string
		fail func(int32, http.ResponseWriter) bool
		ref  string
		want string
	}{
		{"unknown tag", func(int32, http.ResponseWriter) bool { return false }, "/retry/busybox:nope", "manifest unknown"},
		{"authentication", func(_ int32, w http.ResponseWriter) bool {
			w.Header().Set("WWW-Authenticate", `Basic realm="flaky"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return true
		}, "/retry/busybox:1", "unauthorized"},
	} {
		f := newFlakyRegistry(t, reg.addr, c.fail)
		s := newIsolatedServin(t)
		r := s.run("pull", "--retry-delay", "10ms", tls, f.addr+c.ref)
		s.expectExit(r, 125)
		if retryWarning.MatchString(r.stderr) || f.manifests.Load() != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: want one manifest request, no retry and %q; got %d requests:\n%s", c.desc, c.want, f.manifests.Load(), r)
		}
	}
	// push retries the same way: the manifest upload answered 503 twice.
	f = newFlakyRegistry(t, reg.addr, unavailable)
	r = src.run("push", "--retry", "0", tls, busybox, f.addr+"/retry/pushed:1")
	src.expectExit(r, 125)
	if retryWarning.MatchString(r.stderr) || !strings.Contains(r.stderr, "503") {
		t.Errorf("push --retry 0 through a 503: %s", r)
	}
	r = src.run("push", "--retry-delay", "10ms", tls, busybox, f.addr+"/retry/pushed:1")
	src.expectExit(r, 0)
	if !retryWarning.MatchString(r.stderr) {
		t.Errorf("push through a 503 did not retry: %s", r)
	}
	dst5 := newIsolatedServin(t)
	dst5.mustRun("pull", "-q", tls, reg.ref("retry/pushed:1"))

	r = dst.run("pull", "--retry-delay", "soon", tls, reg.ref("retry/busybox:1"))
	dst.expectExit(r, 125)
	if !strings.Contains(r.stderr, "--retry-delay") {
		t.Errorf("pull --retry-delay soon: %s", r)
	}
}

// TestH3CreatePullPlatform: with the default policy, a stored image of
// another platform than --arch asks for counts as missing.
func TestH3CreatePullPlatform(t *testing.T) {
	t.Parallel()
	src := newIsolatedServin(t)
	reg := startRegistry(t, src)
	src.mustRun("import", "--arch", "arm64", suite.rootfsTar, "bb-arm64")
	src.mustRun("import", "--arch", "amd64", suite.rootfsTar, "bb-amd64")
	src.mustRun("manifest", "create", "bblist", "bb-arm64")
	src.mustRun("manifest", "add", "bblist", "bb-amd64")
	ref := reg.ref("platform/busybox:1")
	src.mustRun("manifest", "push", "-q", "--tls-verify=false", "bblist", ref)

	dst := newIsolatedServin(t)
	arch := func() string { return dst.mustRun("image", "inspect", "--format", "{{.Architecture}}", ref) }
	c1 := dst.mustRun("create", "-q", "--network", "none", "--tls-verify=false", "--arch", "amd64", ref, "true")
	if got := arch(); got != "amd64" {
		t.Fatalf("create --arch amd64 pulled %s", got)
	}
	// The stored amd64 image does not do for arm64: create pulls again.
	c2 := dst.mustRun("create", "-q", "--network", "none", "--tls-verify=false", "--arch", "arm64", ref, "true")
	if got := arch(); got != "arm64" {
		t.Errorf("create --arch arm64 with an amd64 image stored used %s", got)
	}
	// --pull=never takes what is stored, whatever its platform.
	dst.mustRun("create", "-q", "--network", "none", "--pull=never", "--arch", "amd64", ref, "true")
	dst.mustRun("rm", c1, c2)
}
