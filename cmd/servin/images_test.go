package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

func testImage(id string, age time.Duration, names ...string) *libservin.Image {
	return &libservin.Image{
		ID: id + strings.Repeat("0", 64-len(id)), Names: names,
		Digest:  "sha256:59e826f40357c54b5b4cd698e78f5884ed3c78ffcbecf774a8556a0b84c333a4",
		Created: testNow.Add(-age), Size: 1997895,
		Config: &v1.Image{Config: v1.ImageConfig{Labels: map[string]string{"maintainer": "me"}}},
	}
}

func TestSplitRepoTag(t *testing.T) {
	cases := map[string][2]string{
		"localhost/busybox:latest":   {"localhost/busybox", "latest"},
		"localhost:5000/a/b:v1":      {"localhost:5000/a/b", "v1"},
		"localhost:5000/a/b":         {"localhost:5000/a/b", "latest"},
		"quay.io/x/y@sha256:abcd":    {"quay.io/x/y", "<none>"},
		"docker.io/library/alpine:3": {"docker.io/library/alpine", "3"},
	}
	for in, want := range cases {
		r, tag := splitRepoTag(in)
		if r != want[0] || tag != want[1] {
			t.Errorf("splitRepoTag(%q) = %q, %q; want %q", in, r, tag, want)
		}
	}
}

func TestImageRepoTagsAndDigests(t *testing.T) {
	img := testImage("f24b", time.Minute, "localhost/busybox:latest", "localhost/bb2:v1", "localhost/bb2:v2")
	rts := imageRepoTags(img)
	if len(rts) != 3 || rts[1] != (repoTag{"localhost/bb2", "v1"}) {
		t.Errorf("repo tags: %v", rts)
	}
	if got := imageRepoTags(testImage("a", 0)); len(got) != 1 || got[0] != (repoTag{"<none>", "<none>"}) {
		t.Errorf("unnamed: %v", got)
	}
	got := strings.Join(repoDigests(img.Names, img.Digest), " ")
	want := "localhost/bb2@" + img.Digest + " localhost/busybox@" + img.Digest
	if got != want {
		t.Errorf("repoDigests = %q, want %q", got, want)
	}
	if d := repoDigests(img.Names, ""); len(d) != 0 || d == nil {
		t.Errorf("no digest: %#v", d)
	}
}

func TestImagesDefaultTable(t *testing.T) {
	p, err := newRowPrinter("images", imagesDefaultFormat, imageRow{}, imagesHeaders)
	if err != nil {
		t.Fatal(err)
	}
	img := testImage("f24b42fb70c4d9", 2*time.Minute, "localhost/busybox:latest")
	var b bytes.Buffer
	rows := []any{newImageRow(img, imageRepoTags(img)[0], 0, testNow, false)}
	if err := p.print(&b, rows, false); err != nil {
		t.Fatal(err)
	}
	want := "REPOSITORY         TAG         IMAGE ID      CREATED        SIZE\n" +
		"localhost/busybox  latest      f24b42fb70c4  2 minutes ago  2 MB\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestImageRow(t *testing.T) {
	img := testImage("f24b42fb70c4d9", time.Hour, "localhost/a:1", "localhost/b:2")
	r := newImageRow(img, repoTag{"localhost/a", "1"}, 2, testNow, true)
	if r.ID != "sha256:"+img.ID || r.Id != img.ID || r.Containers != 2 || r.Size != "2 MB" || r.VirtualSize != 1997895 {
		t.Errorf("row: %+v", r)
	}
	if r.History != "localhost/a:1, localhost/b:2" || r.Labels["maintainer"] != "me" || r.Dangling {
		t.Errorf("row: %+v", r)
	}
	if r.CreatedSince != "About an hour ago" {
		t.Errorf("CreatedSince %q", r.CreatedSince)
	}
}

func TestImageSummaryJSON(t *testing.T) {
	img := testImage("f24b", time.Hour)
	b, err := json.Marshal(newImageSummary(img, 0))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	// Podman's quirks: RepoTags is null, Dangling only when true, Names
	// and History left out when empty.
	for _, want := range []string{`"RepoTags":null`, `"RepoDigests":[]`, `"Dangling":true`, `"Labels":{"maintainer":"me"}`} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in %s", want, s)
		}
	}
	if strings.Contains(s, `"Names"`) || strings.Contains(s, `"History"`) || strings.Contains(s, `"ReadOnly"`) {
		t.Errorf("empty fields present: %s", s)
	}
	if !strings.HasSuffix(s, fmt.Sprintf(`"Created":%d,"CreatedAt":"%s"}`, img.Created.Unix(), img.Created.UTC().Format(time.RFC3339))) {
		t.Errorf("created: %s", s)
	}
}

func imageNames(t *testing.T, flt []string, imgs []*libservin.Image) string {
	t.Helper()
	filters, err := parseFilters(flt)
	if err != nil {
		t.Fatal(err)
	}
	m, err := imageFilter(filters, imgs)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, img := range imgs {
		if m(img) {
			out = append(out, img.ID[:4])
		}
	}
	return strings.Join(out, ",")
}

func TestImageFilter(t *testing.T) {
	a := testImage("aaaa", 3*time.Hour, "localhost/busybox:latest", "localhost/bb2:v1")
	b := testImage("bbbb", 2*time.Hour, "docker.io/library/alpine:3.19")
	b.Config.Config.Labels = map[string]string{"x": "1"}
	c := testImage("cccc", time.Hour)
	all := []*libservin.Image{a, b, c}
	cases := []struct {
		filters []string
		want    string
	}{
		{nil, "aaaa,bbbb,cccc"},
		{[]string{"reference=busybox"}, "aaaa"},
		{[]string{"reference=bb2"}, "aaaa"},
		{[]string{"reference=localhost/bb2:v1"}, "aaaa"},
		{[]string{"reference=*box*"}, "aaaa"},
		{[]string{"reference=alpine"}, "bbbb"},
		{[]string{"reference=alpine:3.19"}, "bbbb"},
		{[]string{"reference=*:3.19"}, "bbbb"},
		{[]string{"reference=bogus"}, ""},
		{[]string{"reference=busybox", "reference=alpine"}, "aaaa,bbbb"},
		{[]string{"dangling=true"}, "cccc"},
		{[]string{"dangling=false"}, "aaaa,bbbb"},
		{[]string{"label=x"}, "bbbb"},
		{[]string{"label=maintainer=me", "dangling=false"}, "aaaa"},
		{[]string{"label=maintainer", "label=x"}, "aaaa,bbbb,cccc"},
		{[]string{"id=bbb"}, "bbbb"},
		{[]string{"before=bbbb"}, "aaaa"},
		{[]string{"since=busybox"}, "bbbb,cccc"},
	}
	for _, tc := range cases {
		if got := imageNames(t, tc.filters, all); got != tc.want {
			t.Errorf("filters %v: got %q, want %q", tc.filters, got, tc.want)
		}
	}
	for _, bad := range []string{"bogus=1", "dangling=maybe"} {
		filters, _ := parseFilters([]string{bad})
		if _, err := imageFilter(filters, all); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: %v, want invalid argument", bad, err)
		}
	}
	filters, _ := parseFilters([]string{"before=nosuch"})
	if _, err := imageFilter(filters, all); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("before=nosuch: %v", err)
	}
}

func TestRmiExitCode(t *testing.T) {
	for err, want := range map[error]int{
		fmt.Errorf("x: image not known: %w", errdefs.ErrNotFound): 1,
		fmt.Errorf("in use: %w", errdefs.ErrInUse):                2,
		errors.New("boom"): 125,
	} {
		if got := rmiExitCode(err); got != want {
			t.Errorf("rmiExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestRepeatableFlag(t *testing.T) {
	// Parse the way urfave/cli does, including its copy of the value to
	// the flag's alias through Serialize.
	app := &cli.App{
		Flags: []cli.Flag{&cli.GenericFlag{Name: "change", Aliases: []string{"c"}, Value: &repeatable{}}},
	}
	var got []string
	app.Action = func(c *cli.Context) error {
		got = repeatableValues(c, "change")
		return nil
	}
	if err := app.Run([]string{"x", "-c", `CMD ["sh","-c","a,b"]`, "-c", "ENV A=1,B=2"}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != `CMD ["sh","-c","a,b"]` || got[1] != "ENV A=1,B=2" {
		t.Errorf("values: %q", got)
	}

	var r repeatable
	_ = r.Set("a,b")
	_ = r.Set("c")
	var r2 repeatable
	_ = r2.Set("stale")
	if err := r2.Set(r.Serialize()); err != nil || len(r2) != 2 || r2[0] != "a,b" {
		t.Errorf("round trip: %q %v", r2, err)
	}
}
