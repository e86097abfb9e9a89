package main

// inspect: the JSON view of containers, images, volumes and networks, or
// a --format template over it.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"text/template"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

const (
	inspectAll       = "all"
	inspectContainer = "container"
	inspectImage     = "image"
	inspectVolume    = "volume"
	inspectNetwork   = "network"
)

func inspectFlags(withType bool) []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Go template, or json (the default)"},
		&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "accepted for compatibility; sizes are not computed"},
	}
	if withType {
		flags = append(flags, latestFlag(), &cli.StringFlag{Name: "type", Aliases: []string{"t"}, Value: inspectAll, Usage: "container, image, volume, network or all"})
	}
	return flags
}

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "display the configuration of containers, images, volumes or networks",
		ArgsUsage: "NAME [NAME...]",
		Flags:     inspectFlags(true),
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			return runInspect(c, rt, c.String("type"))
		}),
	}
}

// containerInspectCommand is `container inspect`.
func containerInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "display the configuration of containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     append(inspectFlags(false), latestFlag()), // ctrflags.go
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			return runInspect(c, rt, inspectContainer)
		}),
	}
}

// imageInspectCommand is `image inspect`.
func imageInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "display the configuration of images",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags:     inspectFlags(false),
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			return runInspect(c, rt, inspectImage)
		}),
	}
}

// runInspect looks every name up (as a container first, then as an image,
// a volume and a network, as podman does), prints what it found, then
// reports the failures.
func runInspect(c *cli.Context, rt *libservin.Runtime, typ string) error {
	switch typ {
	case inspectAll, inspectContainer, inspectImage, inspectVolume, inspectNetwork:
	default:
		return fmt.Errorf("invalid type %q: must be %q, %q, %q, %q or %q: %w", typ,
			inspectContainer, inspectImage, inspectVolume, inspectNetwork, inspectAll, errdefs.ErrInvalidArgument)
	}
	names, err := latestOrArgs(c, rt) // ctrflags.go
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return requireArgs(c, 1, c.Command.Name+" NAME [NAME...]")
	}
	var tmpl *template.Template
	format := c.String("format")
	if format != "" && !isJSONFormat(format) {
		text, _ := normalizeFormat(inspectNormalize(format))
		t, err := parseTemplate("inspect", text)
		if err != nil {
			return err
		}
		tmpl = t
	}
	var (
		found []any
		errs  []error
	)
	for _, name := range names {
		v, err := inspectOne(c, rt, typ, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		found = append(found, v)
	}
	out := bufio.NewWriter(os.Stdout)
	if tmpl == nil {
		if found == nil {
			found = []any{}
		}
		err = writeJSON(out, found, "    ", false)
	} else {
		for _, v := range found {
			if err = tmpl.Execute(out, v); err != nil {
				break
			}
		}
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	for _, e := range errs[:max(len(errs)-1, 0)] {
		fmt.Fprintf(os.Stderr, "Error: %s\n", e)
	}
	if len(errs) > 0 {
		return errs[len(errs)-1]
	}
	return nil
}

// inspectLookups are the kinds of object inspect finds, in the order
// podman tries them for a name without --type.
var inspectLookups = []struct {
	typ  string
	find func(c *cli.Context, rt *libservin.Runtime, name string) (any, error)
}{
	{inspectContainer, func(c *cli.Context, rt *libservin.Runtime, name string) (any, error) {
		ic, err := rt.Inspect(c.Context, name)
		if err != nil {
			return nil, err
		}
		return ic, nil
	}},
	{inspectImage, func(c *cli.Context, rt *libservin.Runtime, name string) (any, error) {
		img, err := rt.Image(c.Context, name)
		if err != nil {
			return nil, err
		}
		return newImageInspect(rt, img), nil
	}},
	{inspectVolume, func(c *cli.Context, rt *libservin.Runtime, name string) (any, error) {
		v, err := rt.Volume(c.Context, name)
		if err != nil {
			return nil, err
		}
		return v, nil
	}},
	{inspectNetwork, func(c *cli.Context, rt *libservin.Runtime, name string) (any, error) {
		n, err := rt.InspectNetwork(c.Context, name)
		if err != nil {
			return nil, err
		}
		return n, nil
	}},
}

// inspectOne finds name as an object of kind typ, or of the first kind
// that has it (all). Only "not found" moves on to the next kind: any
// other failure is reported as it is.
func inspectOne(c *cli.Context, rt *libservin.Runtime, typ, name string) (any, error) {
	for _, l := range inspectLookups {
		if typ != inspectAll && typ != l.typ {
			continue
		}
		v, err := l.find(c, rt, name)
		if err == nil {
			return v, nil
		}
		if typ == inspectContainer && errors.Is(err, errdefs.ErrNotFound) {
			// podman's words for `container inspect` of a missing name.
			return nil, errdefs.Worded(errdefs.ErrNotFound, "no such container %q", name)
		}
		if typ != inspectAll || !errors.Is(err, errdefs.ErrNotFound) {
			return nil, fmt.Errorf("inspecting object: %w", err)
		}
	}
	return nil, errdefs.Worded(errdefs.ErrNotFound, "no such object: %q", name)
}

// inspectNormalize lets templates use the JSON key ".Id" for the Go field
// ID, as podman allows.
var idFieldRE = regexp.MustCompile(`\.Id\b`)

func inspectNormalize(format string) string {
	return idFieldRE.ReplaceAllString(format, ".ID")
}

// imageInspect is podman's image inspect document.
type imageInspect struct {
	ID           string            `json:"Id"`
	Digest       string            `json:"Digest"`
	RepoTags     []string          `json:"RepoTags"`
	RepoDigests  []string          `json:"RepoDigests"`
	Parent       string            `json:"Parent"`
	Comment      string            `json:"Comment"`
	Created      *time.Time        `json:"Created"`
	Config       *v1.ImageConfig   `json:"Config"`
	Version      string            `json:"Version"`
	Author       string            `json:"Author"`
	Architecture string            `json:"Architecture"`
	Os           string            `json:"Os"`
	Size         int64             `json:"Size"`
	VirtualSize  int64             `json:"VirtualSize"`
	GraphDriver  graphDriver       `json:"GraphDriver"`
	RootFS       imageRootFS       `json:"RootFS"`
	Labels       map[string]string `json:"Labels"`
	Annotations  map[string]string `json:"Annotations"`
	ManifestType string            `json:"ManifestType"`
	User         string            `json:"User"`
	History      []v1.History      `json:"History"`
	NamesHistory []string          `json:"NamesHistory"`
}

type graphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

type imageRootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

func newImageInspect(rt *libservin.Runtime, img *libservin.Image) *imageInspect {
	ii := buildImageInspect(img)
	ii.GraphDriver = imageGraphDriver(rt, img.TopLayer)
	if mt := rt.ImageManifestType(img.ID); mt != "" {
		ii.ManifestType = mt
	}
	return ii
}

// buildImageInspect fills everything but GraphDriver from the image.
func buildImageInspect(img *libservin.Image) *imageInspect {
	created := img.Created
	ii := &imageInspect{
		ID: img.ID, Digest: img.Digest, RepoTags: nonNil(img.Names),
		RepoDigests: repoDigests(img.Names, img.Digest), Created: &created,
		Config: &v1.ImageConfig{}, Size: img.Size, VirtualSize: img.Size,
		RootFS:       imageRootFS{Type: "layers", Layers: []string{}},
		Annotations:  map[string]string{},
		ManifestType: v1.MediaTypeImageManifest,
		History:      []v1.History{},
		NamesHistory: nonNil(imageHistory(img)),
		Comment:      img.Comment,
	}
	if oc := img.Config; oc != nil {
		if oc.Created != nil {
			ii.Created = oc.Created
		}
		ii.Config = &oc.Config
		ii.Author, ii.Architecture, ii.Os = oc.Author, oc.Architecture, oc.OS
		for _, d := range oc.RootFS.DiffIDs {
			ii.RootFS.Layers = append(ii.RootFS.Layers, d.String())
		}
		if len(oc.Config.Labels) > 0 {
			ii.Labels = oc.Config.Labels
		}
		ii.User = oc.Config.User
		if len(oc.History) > 0 {
			ii.History = oc.History
			if ii.Comment == "" {
				ii.Comment = oc.History[0].Comment
			}
		}
	}
	return ii
}

// imageGraphDriver describes where the image's top layer lives; failures
// just leave the paths out.
func imageGraphDriver(rt *libservin.Runtime, topLayer string) graphDriver {
	gd := graphDriver{Data: map[string]string{}}
	s, err := rt.Store()
	if err != nil {
		return gd
	}
	gd.Name = s.Driver()
	if topLayer == "" {
		return gd
	}
	if drv, err := s.Storage().GraphDriver(); err == nil {
		if md, err := drv.Metadata(topLayer); err == nil {
			gd.Data = md
		}
	}
	return gd
}

// repoDigests is "repository@digest" for each distinct repository the
// image is named in, sorted.
func repoDigests(names []string, digest string) []string {
	out := []string{}
	if digest == "" {
		return out
	}
	seen := map[string]bool{}
	for _, n := range names {
		repo, _ := splitRepoTag(n)
		if repo == "<none>" || seen[repo] {
			continue
		}
		seen[repo] = true
		out = append(out, repo+"@"+digest)
	}
	sort.Strings(out)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
