package state

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/servin/servin/libservin/errdefs"
)

func openTemp(t testing.TB) *DB {
	t.Helper()
	d, err := Open(filepath.Join(t.TempDir(), "servin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newContainer(id, name string) *Container {
	return &Container{
		ID:        id,
		Name:      name,
		ImageID:   "img" + name,
		ImageName: "docker.io/library/alpine:latest",
		Created:   time.Now(),
		Config:    json.RawMessage(`{"cmd":["sh"]}`),
		State:     ContainerState{Status: StatusConfigured},
	}
}

func pragma(t *testing.T, d *DB, name string) string {
	t.Helper()
	var v string
	if err := d.db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenNewAndReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "servin.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := pragma(t, d, "journal_mode"); got != "wal" {
		t.Errorf("journal_mode = %q, want wal", got)
	}
	if got := pragma(t, d, "foreign_keys"); got != "1" {
		t.Errorf("foreign_keys = %q, want 1", got)
	}
	if got := pragma(t, d, "busy_timeout"); got != "30000" {
		t.Errorf("busy_timeout = %q, want 30000", got)
	}
	if got := pragma(t, d, "user_version"); got != strconv.Itoa(schemaVersion()) {
		t.Errorf("user_version = %q, want %d", got, schemaVersion())
	}
	ctx := context.Background()
	if err := d.AddContainer(ctx, newContainer(randomID(), "a")); err != nil {
		t.Fatal(err)
	}
	d.Close()

	d, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer d.Close()
	if _, err := d.GetContainer(ctx, "a"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

func TestOpenEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "servin.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := pragma(t, d, "user_version"); got != strconv.Itoa(schemaVersion()) {
		t.Errorf("user_version = %q", got)
	}
}

func TestOpenBadPath(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "a?b")); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("got %v, want ErrInvalidArgument", err)
	}
}

// TestMigrateOlder opens a database of the current version with a servin
// that knows one more step.
func TestMigrateOlder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "servin.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.AddContainer(ctx, newContainer(randomID(), "old")); err != nil {
		t.Fatal(err)
	}
	d.Close()

	saved := migrations
	migrations = append(append([]string(nil), saved...),
		`ALTER TABLE containers ADD COLUMN pod TEXT NOT NULL DEFAULT '';
		 CREATE TABLE extra (x INTEGER);`)
	defer func() { migrations = saved }()

	for i := 0; i < 2; i++ { // the second open finds nothing to do
		d, err = Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := pragma(t, d, "user_version"); got != strconv.Itoa(len(saved)+1) {
			t.Errorf("user_version = %q, want %d", got, len(saved)+1)
		}
		var pod string
		if err := d.db.QueryRow("SELECT pod FROM containers WHERE name = 'old'").Scan(&pod); err != nil {
			t.Fatalf("migrated column: %v", err)
		}
		d.Close()
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "servin.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()

	saved := migrations
	migrations = append(append([]string(nil), saved...),
		`CREATE TABLE half (x INTEGER); SELECT * FROM no_such_table;`)
	defer func() { migrations = saved }()
	if _, err := Open(path); err == nil {
		t.Fatal("broken migration succeeded")
	}
	migrations = saved
	d, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := pragma(t, d, "user_version"); got != strconv.Itoa(schemaVersion()) {
		t.Errorf("user_version = %q, want %d", got, schemaVersion())
	}
	var n int
	d.db.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'half'").Scan(&n)
	if n != 0 {
		t.Error("failed migration left table behind")
	}
}

func TestNewerVersionRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "servin.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	d.Close()
	_, err = Open(path)
	if !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("got %v, want a newer-version ErrFailedPrecondition", err)
	}
}

func TestContainerCRUD(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	id := randomID()
	c := newContainer(id, "web")
	c.Created = time.Unix(1700000000, 123456789)
	if err := d.AddContainer(ctx, c); err != nil {
		t.Fatal(err)
	}

	got, err := d.GetContainer(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || got.Name != "web" || got.ImageID != c.ImageID || got.ImageName != c.ImageName ||
		!got.Created.Equal(c.Created) || string(got.Config) != string(c.Config) || got.State.Status != StatusConfigured {
		t.Fatalf("got %+v, want %+v", got, c)
	}

	st := ContainerState{
		Status: StatusRunning, Pid: 42, MonitorPid: 41,
		StartedAt: time.Unix(1700000001, 1), ExitCode: 0, RestartCount: 2,
		Mountpoint: "/var/lib/servin/storage/overlay/x/merged",
	}
	if err := d.SaveState(ctx, id, st); err != nil {
		t.Fatal(err)
	}
	got, _ = d.GetContainer(ctx, id)
	if !got.State.StartedAt.Equal(st.StartedAt) || !got.State.FinishedAt.IsZero() ||
		got.State.Pid != 42 || got.State.MonitorPid != 41 || got.State.RestartCount != 2 ||
		got.State.Mountpoint != st.Mountpoint || got.State.Status != StatusRunning {
		t.Fatalf("state = %+v, want %+v", got.State, st)
	}
	var status string
	d.db.QueryRow("SELECT status FROM containers WHERE id = ?", id).Scan(&status)
	if status != StatusRunning {
		t.Errorf("status column = %q", status)
	}

	if err := d.UpdateConfig(ctx, id, json.RawMessage(`{"cmd":["true"]}`)); err != nil {
		t.Fatal(err)
	}
	got, _ = d.GetContainer(ctx, id)
	if string(got.Config) != `{"cmd":["true"]}` {
		t.Errorf("config = %s", got.Config)
	}

	if err := d.RenameContainer(ctx, id, "web2"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetContainer(ctx, "web"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("old name: %v", err)
	}
	if _, err := d.GetContainer(ctx, "web2"); err != nil {
		t.Errorf("new name: %v", err)
	}
	if err := d.RenameContainer(ctx, id, "web2"); err != nil {
		t.Errorf("rename to own name: %v", err)
	}

	ids, err := d.ContainersUsingImage(ctx, c.ImageID)
	if err != nil || len(ids) != 1 || ids[0] != id {
		t.Errorf("ContainersUsingImage = %v, %v", ids, err)
	}
	if ids, _ := d.ContainersUsingImage(ctx, "other"); len(ids) != 0 {
		t.Errorf("ContainersUsingImage(other) = %v", ids)
	}

	if err := d.RemoveContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"get":    func() error { _, err := d.GetContainer(ctx, id); return err }(),
		"remove": d.RemoveContainer(ctx, id),
		"save":   d.SaveState(ctx, id, st),
		"config": d.UpdateConfig(ctx, id, nil),
		"rename": d.RenameContainer(ctx, id, "x"),
	} {
		if !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("%s after remove: %v, want ErrNotFound", name, err)
		}
	}
}

func TestNameConflicts(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	a, b := randomID(), randomID()
	if err := d.AddContainer(ctx, newContainer(a, "x")); err != nil {
		t.Fatal(err)
	}
	err := d.AddContainer(ctx, newContainer(b, "x"))
	if !errors.Is(err, errdefs.ErrAlreadyExists) ||
		!strings.Contains(err.Error(), `the container name "x" is already in use by `+a+`. `) {
		t.Fatalf("same name: %v", err)
	}
	if err := d.AddContainer(ctx, newContainer(a, "y")); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("same ID: %v", err)
	}
	if err := d.AddContainer(ctx, newContainer(b, "y")); err != nil {
		t.Fatal(err)
	}
	err = d.RenameContainer(ctx, b, "x")
	if !errors.Is(err, errdefs.ErrAlreadyExists) || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("rename onto taken name: %v", err)
	}
	if err := d.AddContainer(ctx, newContainer("", "z")); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("empty ID: %v", err)
	}
	if err := d.AddContainer(ctx, newContainer(randomID(), "")); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("empty name: %v", err)
	}
}

func TestGetContainerLookup(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	ids := []string{
		"abc1" + strings.Repeat("0", 60),
		"abc2" + strings.Repeat("0", 60),
		"def0" + strings.Repeat("0", 60),
	}
	for i, id := range ids {
		if err := d.AddContainer(ctx, newContainer(id, []string{"one", "two", "abc"}[i])); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		in, want string
	}{
		{ids[0], ids[0]},
		{"one", ids[0]},
		{"abc1", ids[0]},
		{"abc2", ids[1]},
		{"d", ids[2]},
		{"abc", ids[2]}, // exact name beats the (ambiguous) prefix
	} {
		c, err := d.GetContainer(ctx, tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
		} else if c.ID != tc.want {
			t.Errorf("%q -> %s, want %s", tc.in, c.ID, tc.want)
		}
	}
	_, err := d.GetContainer(ctx, "ab")
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), `"ab"`) {
		t.Errorf("ambiguous prefix: %v", err)
	}
	_, err = d.GetContainer(ctx, "nope")
	if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), `no container with name or ID "nope" found`) {
		t.Errorf("missing: %v", err)
	}
	if _, err := d.GetContainer(ctx, ""); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("empty: %v", err)
	}
	// An ID that is also another container's name: the ID wins.
	if err := d.AddContainer(ctx, newContainer(randomID(), ids[1])); err != nil {
		t.Fatal(err)
	}
	if c, err := d.GetContainer(ctx, ids[1]); err != nil || c.ID != ids[1] {
		t.Errorf("ID vs name: %v %v", c, err)
	}
}

func TestListContainersOrder(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	if l, err := d.ListContainers(ctx); err != nil || len(l) != 0 {
		t.Fatalf("empty list: %v %v", l, err)
	}
	base := time.Now()
	for i := 0; i < 5; i++ {
		c := newContainer(randomID(), string(rune('a'+i)))
		c.Created = base.Add(time.Duration(i) * time.Nanosecond)
		if err := d.AddContainer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	l, err := d.ListContainers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names string
	for _, c := range l {
		names += c.Name
	}
	if names != "edcba" {
		t.Errorf("order = %s, want edcba", names)
	}
}

func TestEvents(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	base := time.Unix(1700000000, 0)
	evs := []Event{
		{Time: base.Add(1), Type: EventContainer, Action: "create", ActorID: "c1", Name: "web", Attributes: map[string]string{"image": "alpine"}},
		{Time: base.Add(2), Type: EventContainer, Action: "start", ActorID: "c1", Name: "web"},
		{Time: base.Add(3), Type: EventImage, Action: "pull", ActorID: "i1", Name: "alpine"},
		{Time: base.Add(4), Type: EventContainer, Action: "died", ActorID: "c2", Name: "db"},
	}
	for _, e := range evs {
		if err := d.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AddEvent(ctx, Event{Type: "container"}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("event without action: %v", err)
	}
	all, err := d.ListEvents(ctx, EventFilter{})
	if err != nil || len(all) != 4 {
		t.Fatalf("all = %v, %v", all, err)
	}
	if !all[0].Time.Equal(base.Add(1)) || all[0].Attributes["image"] != "alpine" || all[1].Attributes != nil {
		t.Errorf("roundtrip: %+v", all[:2])
	}
	actions := func(f EventFilter) string {
		t.Helper()
		l, err := d.ListEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, e := range l {
			s = append(s, e.Action)
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		f    EventFilter
		want string
	}{
		{EventFilter{Since: base.Add(2)}, "start,pull,died"},
		{EventFilter{Until: base.Add(2)}, "create,start"},
		{EventFilter{Since: base.Add(2), Until: base.Add(3)}, "start,pull"},
		{EventFilter{AfterID: all[2].ID}, "died"},
		{EventFilter{Types: []string{EventImage}}, "pull"},
		{EventFilter{Actions: []string{"start", "died"}}, "start,died"},
		{EventFilter{Actors: []string{"web"}}, "create,start"},
		{EventFilter{Actors: []string{"c2", "alpine"}}, "pull,died"},
		{EventFilter{Types: []string{EventContainer}, Actors: []string{"c1"}, Actions: []string{"start"}}, "start"},
		{EventFilter{Limit: 2}, "create,start"},
		{EventFilter{Types: []string{"volume"}}, ""},
	} {
		if got := actions(tc.f); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.f, got, tc.want)
		}
	}
	// A zero time means now.
	before := time.Now()
	d.AddEvent(ctx, Event{Type: EventSystem, Action: "refresh"})
	l, _ := d.ListEvents(ctx, EventFilter{Types: []string{EventSystem}})
	if len(l) != 1 || l[0].Time.Before(before) {
		t.Errorf("default time: %+v", l)
	}
}

func TestEventsPrune(t *testing.T) {
	oldMax, oldEvery := maxEvents, pruneEvery
	maxEvents, pruneEvery = 20, 8
	defer func() { maxEvents, pruneEvery = oldMax, oldEvery }()
	d := openTemp(t)
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		if err := d.AddEvent(ctx, Event{Type: EventSystem, Action: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := d.ListEvents(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l) < 20 || len(l) > 28 {
		t.Errorf("%d events kept, want 20..28", len(l))
	}
	if l[len(l)-1].ID != 100 {
		t.Errorf("last ID %d, want 100", l[len(l)-1].ID)
	}
}

func TestMeta(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	if _, err := d.GetMeta(ctx, "driver"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	if got, err := d.InitMeta(ctx, "driver", "overlay"); err != nil || got != "overlay" {
		t.Fatalf("InitMeta = %q, %v", got, err)
	}
	if got, err := d.InitMeta(ctx, "driver", "vfs"); err != nil || got != "overlay" {
		t.Fatalf("second InitMeta = %q, %v", got, err)
	}
	if err := d.SetMeta(ctx, "driver", "vfs"); err != nil {
		t.Fatal(err)
	}
	if got, err := d.GetMeta(ctx, "driver"); err != nil || got != "vfs" {
		t.Fatalf("GetMeta = %q, %v", got, err)
	}
}

func TestGenerateName(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	seen := map[string]bool{}
	// Far more containers than plain adjective_surname names exist
	// would be slow; 300 still forces collisions and numbered names.
	for i := 0; i < 300; i++ {
		name, err := d.GenerateName(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if seen[name] || !strings.Contains(name, "_") {
			t.Fatalf("bad or reused name %q", name)
		}
		seen[name] = true
		if err := d.AddContainer(ctx, newContainer(randomID(), name)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLockContainer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	id := randomID()
	unlock, err := LockContainer(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("lock dir: %v %v", fi, err)
	}

	got := make(chan func(), 1)
	go func() {
		u, err := LockContainer(dir, id)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("second exclusive lock granted while the first is held")
	case <-time.After(50 * time.Millisecond):
	}
	// Another container is not blocked.
	other, err := LockContainer(dir, randomID())
	if err != nil {
		t.Fatal(err)
	}
	other()
	unlock()
	select {
	case u := <-got:
		u()
	case <-time.After(5 * time.Second):
		t.Fatal("waiter never got the lock")
	}

	// Shared locks coexist, and exclude an exclusive one.
	s1, err := LockContainerShared(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := LockContainerShared(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		u, err := LockContainer(dir, id)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("exclusive lock granted over shared locks")
	case <-time.After(50 * time.Millisecond):
	}
	s1()
	s2()
	(<-got)()

	if _, err := LockContainer(dir, "../x"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad ID: %v", err)
	}
}

// TestRemoveLockWhileWaiting: a process waiting on a lock file that `rm`
// removes must end up holding a lock that newcomers respect.
func TestRemoveLockWhileWaiting(t *testing.T) {
	dir := t.TempDir()
	id := randomID()
	unlock, err := LockContainer(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func(), 1)
	go func() {
		u, err := LockContainer(dir, id)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	time.Sleep(50 * time.Millisecond)
	if err := RemoveLock(dir, id); err != nil {
		t.Fatal(err)
	}
	unlock()
	waiter := <-got
	// The waiter holds the lock on the file now at the path: a newcomer waits.
	third := make(chan func(), 1)
	go func() {
		u, _ := LockContainer(dir, id)
		third <- u
	}()
	select {
	case <-third:
		t.Fatal("newcomer got the lock the waiter holds")
	case <-time.After(50 * time.Millisecond):
	}
	waiter()
	(<-third)()
	if err := RemoveLock(dir, id); err != nil {
		t.Fatal(err)
	}
	if err := RemoveLock(dir, id); err != nil {
		t.Errorf("removing a missing lock: %v", err)
	}
}

// TestIsBusy checks the classification used by the retry loops.
func TestIsBusy(t *testing.T) {
	d := openTemp(t)
	// A second handle with no busy timeout, to provoke SQLITE_BUSY.
	raw, err := sql.Open("sqlite3", d.path+"?_busy_timeout=0&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tx, err := d.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, err = raw.Exec("BEGIN IMMEDIATE")
	if !isBusy(err) {
		t.Fatalf("isBusy(%v) = false", err)
	}
	if isBusy(errors.New("database is locked")) || isBusy(nil) {
		t.Error("isBusy true for a non-SQLite error")
	}
}

func TestContainersWithConfigText(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	base := newContainer(randomID(), "base")
	joiner := newContainer(randomID(), "joiner")
	joiner.Config = json.RawMessage(`{"networkMode":"container:` + base.ID + `"}`)
	other := newContainer(randomID(), "other")
	for _, c := range []*Container{base, joiner, other} {
		if err := d.AddContainer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.ContainersWithConfigText(ctx, "container:"+base.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != joiner.ID {
		t.Fatalf("containers mentioning container:%s = %v, want only %s", base.ID, got, joiner.Name)
	}
	if got, _ := d.ContainersWithConfigText(ctx, "container:"+other.ID); len(got) != 0 {
		t.Fatalf("nothing mentions %s, got %v", other.Name, got)
	}
}
