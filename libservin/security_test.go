package libservin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin/errdefs"
)

func TestParseSecurityOpt(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(prof, []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`), 0o644)
	var sc SecurityConfig
	for _, opt := range []string{"seccomp=" + prof, "no-new-privileges", "apparmor=unconfined", "label=disable", "label=type:spc_t", "mask=/proc/a:/proc/b", "unmask=/proc/keys"} {
		if err := parseSecurityOpt(&sc, opt); err != nil {
			t.Errorf("%s: %v", opt, err)
		}
	}
	if sc.SeccompPath != prof || !strings.Contains(sc.Seccomp, "SCMP_ACT_ALLOW") || !sc.NoNewPrivileges ||
		sc.AppArmorProfile != "unconfined" || len(sc.Mask) != 2 || sc.Unmask[0] != "/proc/keys" || len(sc.SecurityOpt) != 7 {
		t.Errorf("config %+v", sc)
	}
	if err := parseSecurityOpt(&sc, "seccomp=unconfined"); err != nil || sc.Seccomp != "unconfined" {
		t.Error("seccomp=unconfined")
	}
	if err := parseSecurityOpt(&sc, "no-new-privileges=false"); err != nil || sc.NoNewPrivileges {
		t.Error("no-new-privileges=false")
	}
	bad := []string{"seccomp=/nonexistent.json", "seccomp", "bogus=1", "no-new-privileges=maybe", "mask=relative", "label=weird", "systempaths=x", "apparmor="}
	for _, opt := range bad {
		if err := parseSecurityOpt(&sc, opt); err == nil || !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: err = %v", opt, err)
		}
	}
}

func TestParseUlimits(t *testing.T) {
	us, err := parseUlimits([]string{"nofile=100:200", "core=0", "NOFILE=300"})
	if err != nil || len(us) != 2 || us[0] != (Ulimit{"nofile", 300, 300}) || us[1] != (Ulimit{"core", 0, 0}) {
		t.Errorf("ulimits %v, %v", us, err)
	}
	var rl unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &rl)
	above := "nofile=" + strconv.FormatUint(rl.Max+1, 10)
	for _, bad := range []string{"nofile", "bogus=1", "nofile=2:1", "nofile=x", above, "nofile=-1"} {
		if _, err := parseUlimits([]string{bad}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if _, err := parseUlimits([]string{above}); err == nil || !strings.Contains(err.Error(), "servin's own hard limit") {
		t.Errorf("above the hard limit: %v", err)
	}
}

func TestParseDevices(t *testing.T) {
	ds, err := parseDevices([]string{"/dev/null", "/dev/zero:/dev/z", "/dev/full:r", "/dev/null:/dev/n2:rw"})
	if err != nil {
		t.Fatal(err)
	}
	want := []DeviceMapping{{"/dev/null", "/dev/null", "rwm"}, {"/dev/zero", "/dev/z", "rwm"}, {"/dev/full", "/dev/full", "r"}, {"/dev/null", "/dev/n2", "rw"}}
	for i := range want {
		if ds[i] != want[i] {
			t.Errorf("device %d = %+v, want %+v", i, ds[i], want[i])
		}
	}
	for _, bad := range []string{"/dev/nonexistent", "dev/null", "/dev/null:/x:q", "/etc/passwd", "/a:/b:/c:/d"} {
		if _, err := parseDevices([]string{bad}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestParseSysctls(t *testing.T) {
	m, err := parseSysctls([]string{"kernel.shmmax=100", "net/ipv4/ip_forward=1"}, true, true, true)
	if err != nil || m["kernel.shmmax"] != "100" || m["net.ipv4.ip_forward"] != "1" {
		t.Errorf("sysctls %v, %v", m, err)
	}
	for _, c := range []struct {
		v             string
		ipc, net, uts bool
	}{{"kernel.panic=1", true, true, true}, {"net.core.somaxconn=1", true, false, true}, {"kernel.sem=1", false, true, true}, {"novalue", true, true, true}} {
		if _, err := parseSysctls([]string{c.v}, c.ipc, c.net, c.uts); err == nil {
			t.Errorf("%s accepted", c.v)
		}
	}
}

func TestOOMScoreAdjRange(t *testing.T) {
	if err := checkOOMScoreAdj(1001); err == nil {
		t.Error("1001 accepted")
	}
	if err := checkOOMScoreAdj(1000); err != nil {
		t.Error(err)
	}
}

func TestParseUserNS(t *testing.T) {
	r := &Runtime{}
	ctx := context.Background()
	u, err := r.parseUserNS(ctx, &SecurityOptions{UIDMap: []string{"0:100000:65536"}})
	if err != nil || u.Mode != UserNSPrivate || len(u.GIDMap) != 1 || u.GIDMap[0] != (IDMapping{0, 100000, 65536}) {
		t.Errorf("--uidmap alone = %+v, %v (gidmap must follow uidmap)", u, err)
	}
	u, err = r.parseUserNS(ctx, &SecurityOptions{UserNS: "keep-id"})
	if err != nil || u.Mode != UserNSKeepID || u.UIDMap[0].Size != 4294967295 {
		t.Errorf("keep-id = %+v, %v", u, err)
	}
	if u, err := r.parseUserNS(ctx, &SecurityOptions{UserNS: "host"}); err != nil || u.Mode != "" {
		t.Errorf("host = %+v, %v", u, err)
	}
	bad := []SecurityOptions{
		{UserNS: "nomap"}, {UserNS: "bogus"}, {UserNS: "private"}, {UserNS: "auto:size=x"},
		{UserNS: "host", UIDMap: []string{"0:1:1"}}, {UserNS: "keep-id", UIDMap: []string{"0:1:1"}},
		{UIDMap: []string{"0:1"}}, {UIDMap: []string{"0:1:0"}}, {UIDMap: []string{"0:100:10", "5:200:10"}},
		{UIDMap: []string{"0:100:10", "20:105:10"}}, {GIDMap: []string{"a:1:1"}},
	}
	for _, o := range bad {
		if _, err := r.parseUserNS(ctx, &o); err == nil || !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%+v: err = %v", o, err)
		}
	}
}
