package main

import (
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestInspectNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"{{.Id}}":                "{{.ID}}",
		"{{ .Id }} {{.Idle}}":    "{{ .ID }} {{.Idle}}",
		"{{.State.Id}}":          "{{.State.ID}}",
		"{{.ImageID}} {{.Name}}": "{{.ImageID}} {{.Name}}",
	} {
		if got := inspectNormalize(in); got != want {
			t.Errorf("inspectNormalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewImageInspect(t *testing.T) {
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	img := testImage("f24b", time.Hour, "localhost/busybox:latest")
	img.Config = &v1.Image{
		Created: &created,
		Author:  "me",
		Platform: v1.Platform{
			Architecture: "amd64", OS: "linux",
		},
		Config:  v1.ImageConfig{Cmd: []string{"sh"}, User: "1000"},
		RootFS:  v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{"sha256:aebe"}},
		History: []v1.History{{Comment: "imported from tarball"}},
	}
	ii := buildImageInspect(img)
	if ii.ID != img.ID || ii.Digest != img.Digest || strings.Join(ii.RepoTags, ",") != "localhost/busybox:latest" {
		t.Errorf("ids: %+v", ii)
	}
	if !ii.Created.Equal(created) || ii.Architecture != "amd64" || ii.Os != "linux" || ii.Author != "me" || ii.User != "1000" {
		t.Errorf("config fields: %+v", ii)
	}
	if ii.Comment != "imported from tarball" || len(ii.RootFS.Layers) != 1 || ii.RootFS.Layers[0] != "sha256:aebe" {
		t.Errorf("history/rootfs: %+v", ii)
	}
	if ii.Labels != nil || ii.Config.Cmd[0] != "sh" || ii.Size != img.Size || ii.VirtualSize != img.Size {
		t.Errorf("labels/config/size: %+v", ii)
	}
}
