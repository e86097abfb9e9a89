package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/signature"
)

// remoteStore is a Store whose registry configuration lives in a
// temporary directory; enough for the functions that only build contexts.
func remoteStore(t *testing.T, registriesConf string) (*Store, RemoteOptions) {
	t.Helper()
	dir := t.TempDir()
	s := &Store{graphRoot: filepath.Join(dir, "graph")}
	o := RemoteOptions{Config: RegistryConfig{ConfigDir: filepath.Join(dir, "etc"), AuthFile: filepath.Join(dir, "auth.json")}}
	if registriesConf != "" {
		if err := os.MkdirAll(o.Config.ConfigDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(o.Config.ConfigDir, "registries.conf"), []byte(registriesConf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return s, o
}

func candidates(t *testing.T, conf, input string) ([]string, error) {
	t.Helper()
	s, o := remoteStore(t, conf)
	sys, err := s.remoteContext(&o)
	if err != nil {
		t.Fatal(err)
	}
	named, err := pullCandidates(sys, input)
	var out []string
	for _, n := range named {
		out = append(out, n.String())
	}
	return out, err
}

func TestPullCandidates(t *testing.T) {
	for _, tc := range []struct {
		name, conf, input string
		want              []string
		errHas            string
	}{
		{name: "qualified", input: "quay.io/a/b", want: []string{"quay.io/a/b:latest"}},
		{name: "docker.io normalized", input: "docker.io/busybox:1", want: []string{"docker.io/library/busybox:1"}},
		{name: "port", input: "127.0.0.1:5000/x@sha256:" + strings.Repeat("a", 64), want: []string{"127.0.0.1:5000/x@sha256:" + strings.Repeat("a", 64)}},
		{name: "default search", input: "busybox", want: []string{"docker.io/library/busybox:latest"}},
		{name: "one search registry", conf: `unqualified-search-registries = ["quay.io"]`, input: "x/y:2", want: []string{"quay.io/x/y:2"}},
		{name: "alias", conf: "unqualified-search-registries = [\"a.io\", \"b.io\"]\n[aliases]\n\"box\" = \"quay.io/team/box\"", input: "box:3", want: []string{"quay.io/team/box:3"}},
		{name: "ambiguous", conf: `unqualified-search-registries = ["a.io", "b.io"]`, input: "box", errHas: "ambiguous"},
		{name: "permissive", conf: "unqualified-search-registries = [\"a.io\", \"b.io\"]\nshort-name-mode = \"permissive\"", input: "box", want: []string{"a.io/box:latest", "b.io/box:latest"}},
		{name: "no search registries", conf: `unqualified-search-registries = []`, input: "box", errHas: "no unqualified-search registries"},
		{name: "uppercase", input: "Box", errHas: "invalid reference"},
		{name: "garbage", input: "a:b:c", errHas: "invalid reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := candidates(t, tc.conf, tc.input)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) || !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("got %v, %v; want an invalid-argument error with %q", got, err, tc.errHas)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestRemoteContextPaths(t *testing.T) {
	s, o := remoteStore(t, "")
	sys, err := s.remoteContext(&o)
	if err != nil {
		t.Fatal(err)
	}
	// Without a registries.conf servin writes and uses its own defaults.
	if !strings.HasPrefix(sys.SystemRegistriesConfPath, s.graphRoot) {
		t.Errorf("registries.conf = %s, want servin's defaults under the store", sys.SystemRegistriesConfPath)
	}
	if sys.DockerPerHostCertDirPath != filepath.Join(o.Config.ConfigDir, "certs.d") || sys.AuthFilePath != o.Config.AuthFile {
		t.Errorf("certs.d %s, auth %s", sys.DockerPerHostCertDirPath, sys.AuthFilePath)
	}
	t.Setenv("REGISTRY_AUTH_FILE", "/x/auth.json")
	if sys, _ := s.remoteContext(&o); sys.AuthFilePath != "/x/auth.json" {
		t.Errorf("$REGISTRY_AUTH_FILE ignored: %s", sys.AuthFilePath)
	}
	o.AuthFile = "/y/auth.json"
	if sys, _ := s.remoteContext(&o); sys.AuthFilePath != "/y/auth.json" {
		t.Errorf("--authfile ignored: %s", sys.AuthFilePath)
	}
	o.Config.RegistriesConf = "/nonexistent/registries.conf"
	if _, err := s.remoteContext(&o); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("missing explicit registries.conf: %v", err)
	}
	o.Config.RegistriesConf = ""
	o.Creds = ":pass"
	if _, err := s.remoteContext(&o); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("--creds without a user: %v", err)
	}
}

func TestAuthKeyHost(t *testing.T) {
	for key, want := range map[string]string{
		"quay.io": "quay.io", "127.0.0.1:5000": "127.0.0.1:5000", "https://r.io": "r.io",
		"quay.io/ns/repo": "quay.io",
	} {
		if got, err := authKeyHost(key); err != nil || got != want {
			t.Errorf("authKeyHost(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	for _, bad := range []string{"", "quay.io/UPPER", "a b"} {
		if _, err := authKeyHost(bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("authKeyHost(%q): %v", bad, err)
		}
	}
}

func TestCheckEntryName(t *testing.T) {
	for name, ok := range map[string]bool{
		"etc/passwd": true, "./etc": true, "a/../b": true, "..a": true,
		"../x": false, "/etc/passwd": false, "a/../../x": false,
	} {
		err := checkEntryName(&tar.Header{Name: name, Typeflag: tar.TypeReg})
		if (err == nil) != ok {
			t.Errorf("checkEntryName(%q) = %v", name, err)
		}
	}
	if err := checkEntryName(&tar.Header{Name: "x", Typeflag: tar.TypeLink, Linkname: "../../etc/shadow"}); err == nil {
		t.Errorf("a hard link out of the root was accepted")
	}
	if err := checkEntryName(&tar.Header{Name: "x", Typeflag: tar.TypeSymlink, Linkname: "/bin/busybox"}); err != nil {
		t.Errorf("an absolute symlink target was refused: %v", err)
	}
}

func TestChainLayerID(t *testing.T) {
	d := digest.FromString("layer")
	if got := chainLayerID("", d); got != d.Encoded() {
		t.Errorf("base layer ID %s, want its diffID", got)
	}
	sum := sha256.Sum256([]byte("parent+" + d.Encoded()))
	if got := chainLayerID("parent", d); got != hex.EncodeToString(sum[:]) {
		t.Errorf("chain ID %s", got)
	}
}

func TestFastPullable(t *testing.T) {
	named, _ := reference.ParseNormalizedNamed("127.0.0.1:5000/ns/img:1")
	ref, err := docker.NewReference(named)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := reference.ParseNormalizedNamed("quay.io/ns/img:1")
	otherRef, _ := docker.NewReference(other)
	for _, tc := range []struct {
		policy    string
		ref, oref bool
	}{
		{`{"default":[{"type":"insecureAcceptAnything"}]}`, true, true},
		{`{"default":[{"type":"reject"}]}`, false, false},
		{`{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{"127.0.0.1:5000/ns":[{"type":"reject"}]}}}`, false, true},
	} {
		p, err := signature.NewPolicyFromBytes([]byte(tc.policy))
		if err != nil {
			t.Fatal(err)
		}
		pc, err := signature.NewPolicyContext(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fastPullable(pc, ref); got != tc.ref {
			t.Errorf("%s: fastPullable(%s) = %v", tc.policy, named, got)
		}
		if got := fastPullable(pc, otherRef); got != tc.oref {
			t.Errorf("%s: fastPullable(%s) = %v", tc.policy, other, got)
		}
		pc.Destroy()
	}
}

func TestGrowingFile(t *testing.T) {
	g, err := newGrowingFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer g.remove()
	want := bytes.Repeat([]byte("0123456789"), 100000)
	go func() {
		for off := 0; off < len(want); off += 4096 {
			g.Write(want[off:min(off+4096, len(want))])
			if off%40960 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		g.finish(nil)
	}()
	got, err := io.ReadAll(g.reader())
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, %v; want %d", len(got), err, len(want))
	}

	bad, _ := newGrowingFile(t.TempDir())
	defer bad.remove()
	bad.Write([]byte("partial"))
	boom := errors.New("digest mismatch")
	bad.finish(boom)
	if _, err := io.ReadAll(bad.reader()); !errors.Is(err, boom) {
		t.Errorf("reading a failed download: %v", err)
	}
}

func TestDiffIDReader(t *testing.T) {
	data := []byte("layer data")
	good := &diffIDReader{r: bytes.NewReader(data), want: digest.FromBytes(data), h: sha256.New()}
	if _, err := io.ReadAll(good); err != nil {
		t.Errorf("matching data: %v", err)
	}
	bad := &diffIDReader{r: bytes.NewReader(data), want: digest.FromString("other"), h: sha256.New()}
	if _, err := io.ReadAll(bad); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatching data: %v", err)
	}
}

func TestPushDestination(t *testing.T) {
	for in, want := range map[string]string{
		"quay.io/a/b":               "docker quay.io/a/b:latest",
		"docker://127.0.0.1:5000/x": "docker 127.0.0.1:5000/x:latest",
		"busybox":                   "docker docker.io/library/busybox:latest",
		"oci-archive:/tmp/x.tar":    "oci-archive",
	} {
		ref, err := pushDestination(in)
		if err != nil {
			t.Errorf("pushDestination(%q): %v", in, err)
			continue
		}
		got := ref.Transport().Name()
		if n := ref.DockerReference(); n != nil {
			got += " " + n.String()
		}
		if got != want {
			t.Errorf("pushDestination(%q) = %s, want %s", in, got, want)
		}
	}
	if _, err := pushDestination("Bad/Name"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad destination: %v", err)
	}
}

func TestSizeString(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1500: "1.5 kB", 26_200_000: "26.2 MB"} {
		if got := sizeString(n); got != want {
			t.Errorf("sizeString(%d) = %q, want %q", n, got, want)
		}
	}
}
