package image

import (
	"errors"
	"reflect"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/servin/servin/libservin/errdefs"
)

func TestApplyChanges(t *testing.T) {
	tests := []struct {
		name    string
		changes []string
		want    v1.ImageConfig
	}{
		{"cmd json", []string{`CMD ["sh", "-c", "echo hi"]`}, v1.ImageConfig{Cmd: []string{"sh", "-c", "echo hi"}}},
		{"cmd shell", []string{"CMD echo hi"}, v1.ImageConfig{Cmd: []string{"/bin/sh", "-c", "echo hi"}}},
		{"cmd equals", []string{"CMD=sh"}, v1.ImageConfig{Cmd: []string{"/bin/sh", "-c", "sh"}}},
		{"lowercase instruction", []string{`cmd ["top"]`}, v1.ImageConfig{Cmd: []string{"top"}}},
		{"cmd bad json is shell", []string{`CMD [oops`}, v1.ImageConfig{Cmd: []string{"/bin/sh", "-c", "[oops"}}},
		{"entrypoint", []string{`ENTRYPOINT ["/bin/busybox"]`}, v1.ImageConfig{Entrypoint: []string{"/bin/busybox"}}},
		{"entrypoint cleared", []string{`ENTRYPOINT ["x"]`, "ENTRYPOINT "}, v1.ImageConfig{}},
		{"env pairs", []string{`ENV A=b C="d e"`}, v1.ImageConfig{Env: []string{"A=b", "C=d e"}}},
		{"env legacy", []string{"ENV A b c"}, v1.ImageConfig{Env: []string{"A=b c"}}},
		{"env replace", []string{"ENV A=1", "ENV B=2", "ENV A=3"}, v1.ImageConfig{Env: []string{"A=3", "B=2"}}},
		{"env empty value", []string{"ENV A="}, v1.ImageConfig{Env: []string{"A="}}},
		{"workdir", []string{"WORKDIR /x"}, v1.ImageConfig{WorkingDir: "/x"}},
		{"workdir relative", []string{"WORKDIR /a", "WORKDIR b/../c"}, v1.ImageConfig{WorkingDir: "/a/c"}},
		{"workdir relative first", []string{"WORKDIR a"}, v1.ImageConfig{WorkingDir: "/a"}},
		{"user", []string{"USER nobody:nogroup"}, v1.ImageConfig{User: "nobody:nogroup"}},
		{"label", []string{`LABEL a=b "c d"=e`}, v1.ImageConfig{Labels: map[string]string{"a": "b", "c d": "e"}}},
		{"expose", []string{"EXPOSE 80 53/udp 8000-8001/TCP"}, v1.ImageConfig{ExposedPorts: map[string]struct{}{
			"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {},
		}}},
		{"volume", []string{"VOLUME /data /logs", `VOLUME ["/x"]`}, v1.ImageConfig{Volumes: map[string]struct{}{
			"/data": {}, "/logs": {}, "/x": {},
		}}},
		{"stopsignal name", []string{"STOPSIGNAL SIGKILL"}, v1.ImageConfig{StopSignal: "SIGKILL"}},
		{"stopsignal short", []string{"STOPSIGNAL term"}, v1.ImageConfig{StopSignal: "term"}},
		{"stopsignal number", []string{"STOPSIGNAL 9"}, v1.ImageConfig{StopSignal: "9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got v1.ImageConfig
			if err := ApplyChanges(&got, tt.changes); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestApplyChangesErrors(t *testing.T) {
	for _, change := range []string{
		"FROM busybox",
		"CMD",
		"CMD ",
		"ONBUILD RUN x",
		"EXPOSE 0",
		"EXPOSE 70000",
		"EXPOSE 80/icmp",
		"EXPOSE 90-80",
		"ENV =x",
		"ENV A='unterminated",
		"LABEL novalue",
		"STOPSIGNAL SIGNOPE",
		"STOPSIGNAL 99",
		"USER ",
		"WORKDIR ",
		"VOLUME",
		`VOLUME ["x"`,
	} {
		err := ApplyChanges(&v1.ImageConfig{}, []string{change})
		if err == nil {
			t.Errorf("%q: no error", change)
			continue
		}
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%q: error %v is not ErrInvalidArgument", change, err)
		}
	}
}
