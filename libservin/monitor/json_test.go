package monitor

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

var weird = "q\"uote \\ slash / tab\t nl\n ctl\x01\x1f del\x7f é 日本 \U0001F600 bad\xff end"

func sampleConfig() Config {
	return Config{
		ID: "abc", Bundle: "/b", RunDir: "/run/x", RuntimePath: "/usr/bin/servin",
		RuntimeArgs: []string{"--root", weird}, ExecFifo: "/f", ExitCommand: []string{"a", ""},
		LogPath: "/l", LogMaxSize: 1 << 40, LogMaxFiles: 3, Terminal: true, Stdin: true, StdinOnce: true,
		Rows: 65535, Cols: 80, Restart: "on-failure", RestartMax: 5, StartNow: true,
		OOMCounters:   []string{"/sys/fs/cgroup/memory/servin/abc/memory.oom_control"},
		HealthCommand: []string{"/usr/bin/servin", "healthcheck", "run", "abc"}, HealthIntervalMs: 1500, HealthStartupIntervalMs: 250,
	}
}

func TestJSONConfigCompat(t *testing.T) {
	cfg := sampleConfig()
	// Ours -> encoding/json.
	var std Config
	if err := json.Unmarshal(cfg.marshal(), &std); err != nil {
		t.Fatalf("encoding/json rejects our output %s: %v", cfg.marshal(), err)
	}
	want := cfg
	want.RuntimeArgs = []string{"--root", "q\"uote \\ slash / tab\t nl\n ctl\x01\x1f del\x7f é 日本 \U0001F600 bad\uFFFD end"}
	if !reflect.DeepEqual(std, want) {
		t.Errorf("ours -> std:\n%+v\nwant\n%+v", std, want)
	}
	// encoding/json -> ours.
	b, _ := json.Marshal(want)
	got, err := unmarshalConfig(b)
	if err != nil {
		t.Fatalf("unmarshalConfig(%s): %v", b, err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("std -> ours:\n%+v\nwant\n%+v", *got, want)
	}
	// Zero values and nulls.
	got, err = unmarshalConfig([]byte(`{"runtimeArgs":null,"rows":null,"id":null}`))
	if err != nil || !reflect.DeepEqual(*got, Config{}) {
		t.Errorf("nulls: %+v %v", got, err)
	}
}

func TestJSONStatusCompat(t *testing.T) {
	st := Status{
		State: StateExited, Pid: 0, MonitorPid: 42,
		StartedAt:  time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		FinishedAt: time.Now(), ExitCode: 137, Signal: 9, RestartCount: 2, Error: weird,
	}
	var std Status
	if err := json.Unmarshal(st.marshal(), &std); err != nil {
		t.Fatalf("encoding/json rejects %s: %v", st.marshal(), err)
	}
	if !std.StartedAt.Equal(st.StartedAt) || !std.FinishedAt.Equal(st.FinishedAt) || std.ExitCode != 137 || std.Signal != 9 || std.RestartCount != 2 || std.MonitorPid != 42 {
		t.Errorf("ours -> std: %+v", std)
	}
	b, _ := json.Marshal(st)
	got, err := unmarshalStatus(b)
	if err != nil || !got.FinishedAt.Equal(st.FinishedAt) || got.Error != std.Error || got.State != StateExited {
		t.Errorf("std -> ours: %+v %v", got, err)
	}
	// Zero times survive the round trip as zero.
	var zero Status
	got, err = unmarshalStatus(zero.marshal())
	if err != nil || !got.StartedAt.IsZero() || !got.FinishedAt.IsZero() {
		t.Errorf("zero status: %+v %v", got, err)
	}
}

func TestJSONSmallMessages(t *testing.T) {
	for _, o := range []AttachOptions{{}, {Stdin: true, Start: true}, {Stdout: true, Stderr: true}} {
		got, err := unmarshalAttachOptions(o.marshal())
		if err != nil || got != o {
			t.Errorf("attach options %+v -> %+v %v", o, got, err)
		}
		var std AttachOptions
		if json.Unmarshal(o.marshal(), &std); std != o {
			t.Errorf("std reads %s as %+v", o.marshal(), std)
		}
	}
	m, err := unmarshalSyncMsg((&syncMsg{Pid: 7, MonitorPid: 8}).marshal())
	if err != nil || m.Pid != 7 || m.MonitorPid != 8 || m.Error != "" {
		t.Errorf("sync ok: %+v %v", m, err)
	}
	m, err = unmarshalSyncMsg((&syncMsg{Error: weird}).marshal())
	if err != nil || m.Error == "" || m.Pid != 0 {
		t.Errorf("sync error: %+v %v", m, err)
	}
	if code, err := ExitCode([]byte(`{"exitCode": 3, "extra": {"a": [1, "x", null, true]}}`)); code != 3 || err != nil {
		t.Errorf("ExitCode with unknown members = %d %v", code, err)
	}
}

func TestJSONRejects(t *testing.T) {
	for _, bad := range []string{
		``, `[]`, `{`, `{"id"}`, `{"id":}`, `{"id":"x",}`, `{"id":"x"} junk`, `{"id":1}`,
		`{"rows":70000}`, `{"stdin":"yes"}`, `{"runtimeArgs":"x"}`, `{"id":"\x01"}`, `{"id":"\q"}`,
		`{"id":"unterminated}`, `{"extra":[1,2}`,
	} {
		if _, err := unmarshalConfig([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	got, err := unmarshalConfig([]byte(` { "id" : "\u00e9\ud83d\ude00\/" , "unknown": {"x": [1.5e3, {"y": null}]} } `))
	if err != nil || got.ID != "é\U0001F600/" {
		t.Errorf("escapes: %+v %v", got, err)
	}
}
