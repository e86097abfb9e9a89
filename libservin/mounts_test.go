package libservin

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/servin/servin/libservin/errdefs"
)

func TestParseVolumeFlag(t *testing.T) {
	cwd, _ := os.Getwd()
	cases := []struct {
		in   string
		want Mount
	}{
		{"/data", Mount{Type: MountTypeVolume, Destination: "/data", Anonymous: true}},
		{"vol:/data/", Mount{Type: MountTypeVolume, Source: "vol", Destination: "/data"}},
		{"vol:/data:ro,z,nocopy", Mount{Type: MountTypeVolume, Source: "vol", Destination: "/data", ReadOnly: true, Relabel: "z", NoCopy: true}},
		{"/src:/dst:rw,rshared,U,noexec", Mount{Type: MountTypeBind, Source: "/src", Destination: "/dst", Propagation: "rshared", Chown: true, Options: []string{"noexec"}, createSource: true}},
		{"./rel:/dst:bind", Mount{Type: MountTypeBind, Source: filepath.Join(cwd, "rel"), Destination: "/dst", NonRecursive: true, createSource: true}},
	}
	for _, c := range cases {
		got, err := ParseVolumeFlag(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
}

func TestParseVolumeFlagErrors(t *testing.T) {
	cases := map[string]string{
		"vol:data":         "must be an absolute path",
		"vol:/a:foo":       `invalid option "foo"`,
		"vol:/a:ro,rw":     "conflicting options",
		"vol:/a:z,Z":       "conflicting options",
		"a:/b:ro:x":        "expected [SOURCE:]DESTINATION",
		":/x":              "empty source",
		"bad/name:/x":      "neither an absolute host path nor a valid volume name",
		"/:/":              "cannot be /",
		"relative":         "must be an absolute path",
		"vol:/a:private,z": "", // valid
	}
	for in, want := range cases {
		_, err := ParseVolumeFlag(in)
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%q: got %v, want an invalid-argument error containing %q", in, err, want)
		}
	}
	if _, err := ParseVolumeFlag("vol:/a:O"); !errors.Is(err, errdefs.ErrNotImplemented) {
		t.Errorf("overlay option: %v", err)
	}
}

func TestParseMountFlag(t *testing.T) {
	cases := []struct {
		in   string
		want Mount
	}{
		{"type=bind,source=/s,target=/d,readonly", Mount{Type: MountTypeBind, Source: "/s", Destination: "/d", ReadOnly: true}},
		{"type=bind,src=/s,dst=/d,bind-propagation=rslave,ro=false,relabel=private",
			Mount{Type: MountTypeBind, Source: "/s", Destination: "/d", Propagation: "rslave", Relabel: "Z"}},
		{"src=data,dst=/d,volume-nocopy,volume-opt=type=tmpfs,volume-label=a=b",
			Mount{Type: MountTypeVolume, Source: "data", Destination: "/d", NoCopy: true,
				volumeOpts: map[string]string{"type": "tmpfs"}, volumeLabels: map[string]string{"a": "b"}}},
		{"type=volume,dst=/anon", Mount{Type: MountTypeVolume, Destination: "/anon", Anonymous: true}},
		{"type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777",
			Mount{Type: MountTypeTmpfs, Destination: "/t", TmpCopyUp: true, Options: []string{"noexec", "nosuid", "nodev", "size=1048576", "mode=1777"}}},
		{"type=image,source=busybox,destination=/img", Mount{Type: MountTypeImage, Source: "busybox", Destination: "/img", ReadOnly: true}},
		{"type=image,source=busybox,destination=/img,ro=true,subpath=etc", Mount{Type: MountTypeImage, Source: "busybox", Destination: "/img", SubPath: "etc", ReadOnly: true}},
		{`type=bind,"source=/a,b",dst=/d`, Mount{Type: MountTypeBind, Source: "/a,b", Destination: "/d"}},
	}
	for _, c := range cases {
		got, err := ParseMountFlag(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
}

func TestParseMountFlagErrors(t *testing.T) {
	cases := map[string]string{
		"type=bind,src=/s":                                 "must set volume destination",
		"type=bind,dst=/d":                                 "needs source",
		"type=bind,src=rel,dst=/d":                         "must be an absolute path",
		"type=bind,src=/s,dst=rel":                         "must be an absolute path",
		"type=volume,src=v,dst=/d,bind-propagation=shared": "only valid with type=bind",
		"type=bind,src=/s,dst=/d,volume-nocopy":            "only valid with type=volume",
		"type=tmpfs,src=x,dst=/d":                          "takes no source",
		"type=tmpfs,dst=/d,tmpfs-size=huge":                "bad tmpfs-size",
		"type=nfs,src=x,dst=/d":                            "unsupported type",
		"type=bind,src=/s,dst=/d,colour=blue":              `unknown key "colour"`,
		"type=bind,src=/s,dst=/d,readonly=maybe":           "not a boolean",
		"type=volume,src=v,dst=/d,subpath=/abs":            "subpath must be a relative path",
		"type=glob,src=relative*":                          "absolute source= pattern",
		"type=ramfs,src=x,dst=/d":                          "takes no source",
	}
	for in, want := range cases {
		_, err := ParseMountFlag(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error containing %q", in, err, want)
		}
	}
}

func TestParseTmpfsFlag(t *testing.T) {
	m, err := ParseTmpfsFlag("/run:size=1m,exec,ro")
	if err != nil {
		t.Fatal(err)
	}
	if !m.ReadOnly || !reflect.DeepEqual(m.tmpfsOptions(), []string{"noexec", "nosuid", "nodev", "size=1m", "exec", "ro", "tmpcopyup"}) {
		t.Errorf("got %+v, options %v", m, m.tmpfsOptions())
	}
	if _, err := ParseTmpfsFlag("/run:colour=blue"); err == nil {
		t.Error("an unknown tmpfs option was accepted")
	}
	if _, err := ParseTmpfsFlag("run"); err == nil {
		t.Error("a relative tmpfs destination was accepted")
	}
}

func TestSpecOptions(t *testing.T) {
	cases := []struct {
		m    Mount
		want []string
	}{
		{Mount{Type: MountTypeVolume}, []string{"rbind", "rprivate", "nosuid", "nodev"}},
		{Mount{Type: MountTypeVolume, Options: []string{"suid", "exec"}, ReadOnly: true}, []string{"rbind", "rprivate", "nodev", "suid", "exec", "rro"}},
		{Mount{Type: MountTypeBind, NonRecursive: true, ReadOnly: true, Propagation: "shared"}, []string{"bind", "shared", "ro"}},
	}
	for _, c := range cases {
		if got := c.m.specOptions(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.m, got, c.want)
		}
	}
}

func TestParseVolumesFrom(t *testing.T) {
	if c, m, err := parseVolumesFrom("web:ro"); err != nil || c != "web" || m != "ro" {
		t.Errorf("web:ro -> %q %q %v", c, m, err)
	}
	if _, _, err := parseVolumesFrom("web:rx"); err == nil {
		t.Error("bad mode accepted")
	}
}
