package main

// Image commands: images (image list), image inspect/exists, import,
// load, rmi (image rm) and tag; the image group also holds the commands of
// pull.go and imagetools.go.

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

const imagesDefaultFormat = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"

var imagesHeaders = map[string]string{
	"ID":           "IMAGE ID",
	"Id":           "IMAGE ID",
	"CreatedSince": "CREATED",
}

func imagesCommand() *cli.Command { return imageListCommand("images") }

func imageListCommand(name string, aliases ...string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Aliases:   aliases,
		Usage:     "list images",
		ArgsUsage: "[REFERENCE]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all images (servin keeps no intermediate images)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only image IDs"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate image IDs"},
			&cli.BoolFlag{Name: "digests", Usage: "show digests"},
			&cli.BoolFlag{Name: "noheading", Aliases: []string{"n"}, Usage: "do not print the table header"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output (reference, dangling, label, id, before, since)"},
			&cli.StringFlag{Name: "format", Usage: "Go template or json"},
			&cli.StringFlag{Name: "sort", Value: "created", Usage: "sort by created, id, repository, size or tag"},
		},
		Action: withRuntime(imagesAction),
	}
}

func imagesAction(c *cli.Context, rt *libservin.Runtime) error {
	if c.NArg() > 1 {
		return fmt.Errorf("images takes at most one REFERENCE: %w", errdefs.ErrInvalidArgument)
	}
	flt := c.StringSlice("filter")
	if c.NArg() == 1 {
		flt = append(flt, "reference="+c.Args().First())
	}
	for _, f := range flt {
		if k, _, ok := strings.Cut(f, "="); !ok || k == "" {
			return errdefs.Worded(errdefs.ErrInvalidArgument, "invalid image filter %q: must be in the format \"filter=value or filter!=value\"", f)
		}
	}
	sortBy := c.String("sort")
	if !slices.Contains([]string{"created", "id", "repository", "size", "tag"}, sortBy) {
		return errdefs.Worded(errdefs.ErrInvalidArgument, "invalid option for --sort, options are: [created id repository size tag]")
	}
	filters, err := parseFilters(flt)
	if err != nil {
		return err
	}
	imgs, err := rt.Images(c.Context)
	if err != nil {
		return err
	}
	// Manifest lists are shown as images, as podman shows them.
	if lists, err := rt.ManifestListImages(c.Context); err == nil {
		imgs = append(imgs, lists...)
	}
	match, err := imageFilter(filters, imgs)
	if err != nil {
		return err
	}
	var sel []*libservin.Image
	for _, img := range imgs {
		if match(img) {
			sel = append(sel, img)
		}
	}
	noTrunc := c.Bool("no-trunc")
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	if c.Bool("quiet") {
		seen := map[string]bool{}
		for _, img := range sel {
			if !seen[img.ID] {
				seen[img.ID] = true
				fmt.Fprintln(out, displayImageID(img.ID, noTrunc))
			}
		}
		return nil
	}
	users, err := imageUsers(c.Context, rt)
	if err != nil {
		return err
	}
	now := time.Now()
	format := c.String("format")
	if isJSONFormat(format) {
		docs := []imageSummary{}
		for _, img := range sel {
			for range imageRepoTags(img) {
				docs = append(docs, newImageSummary(img, users[img.ID]))
			}
		}
		return writeJSON(out, docs, "    ", true)
	}
	if format == "" || format == "table" {
		format = imagesDefaultFormat
		if c.Bool("digests") {
			format = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
		}
	}
	p, err := newRowPrinter("images", format, imageRow{}, imagesHeaders)
	if err != nil {
		return err
	}
	var list []imageRow
	for _, img := range sel {
		for _, rt := range imageRepoTags(img) {
			list = append(list, newImageRow(img, rt, users[img.ID], now, noTrunc))
		}
	}
	sortImageRows(list, sortBy)
	rows := make([]any, len(list))
	for i := range list {
		rows[i] = list[i]
	}
	return p.print(out, rows, c.Bool("noheading"))
}

// imageUsers counts containers per image ID.
func imageUsers(ctx context.Context, rt *libservin.Runtime) (map[string]int, error) {
	ctrs, err := rt.Containers(ctx)
	if err != nil {
		return nil, err
	}
	m := map[string]int{}
	for _, c := range ctrs {
		m[c.ImageID]++
	}
	return m, nil
}

func displayImageID(id string, noTrunc bool) string {
	if noTrunc {
		return "sha256:" + id
	}
	return shortID(id)
}

// repoTag is one REPOSITORY/TAG pair of the listing.
type repoTag struct{ repo, tag string }

// imageRepoTags is one pair per name, or <none> <none> for an unnamed image.
func imageRepoTags(img *libservin.Image) []repoTag {
	if len(img.Names) == 0 {
		return []repoTag{{"<none>", "<none>"}}
	}
	out := make([]repoTag, 0, len(img.Names))
	for _, n := range img.Names {
		r, t := splitRepoTag(n)
		out = append(out, repoTag{r, t})
	}
	return out
}

// splitRepoTag splits "host:5000/repo:tag" into repository and tag; a
// digest reference has tag <none>.
func splitRepoTag(name string) (repo, tag string) {
	if i := strings.Index(name, "@"); i >= 0 {
		return name[:i], "<none>"
	}
	slash := strings.LastIndex(name, "/")
	if i := strings.LastIndex(name, ":"); i > slash {
		return name[:i], name[i+1:]
	}
	if name == "" {
		return "<none>", "<none>"
	}
	return name, "latest"
}

// imageRow is what --format templates see for each listed name.
type imageRow struct {
	ID           string
	Id           string //nolint:revive // podman's template field name
	Repository   string
	Tag          string
	Digest       string
	CreatedAt    string
	CreatedSince string
	Created      string
	Size         string
	VirtualSize  int64
	SharedSize   int64
	Containers   int
	Labels       map[string]string
	Names        []string
	History      string
	ReadOnly     bool
	IsReadOnly   bool
	Dangling     bool
}

func newImageRow(img *libservin.Image, rt repoTag, users int, now time.Time, noTrunc bool) imageRow {
	since := humanDuration(now, img.Created)
	return imageRow{
		ID: displayImageID(img.ID, noTrunc), Id: img.ID, Repository: rt.repo, Tag: rt.tag,
		Digest: img.Digest, CreatedAt: time.Unix(img.Created.Unix(), 0).String(),
		CreatedSince: since, Created: since, Size: humanSize(img.Size), VirtualSize: img.Size,
		Containers: users, Labels: imageLabels(img), Names: img.Names,
		History: strings.Join(imageHistory(img), ", "), Dangling: len(img.Names) == 0,
	}
}

func imageLabels(img *libservin.Image) map[string]string {
	if img.Config == nil {
		return nil
	}
	return img.Config.Config.Labels
}

// imageSummary is one element of `images --format json`, shaped like podman's.
type imageSummary struct {
	ID          string            `json:"Id"`
	ParentID    string            `json:"ParentId"`
	RepoTags    []string          `json:"RepoTags"`
	RepoDigests []string          `json:"RepoDigests"`
	Size        int64             `json:"Size"`
	SharedSize  int64             `json:"SharedSize"`
	VirtualSize int64             `json:"VirtualSize"`
	Labels      map[string]string `json:"Labels"`
	Containers  int               `json:"Containers"`
	ReadOnly    bool              `json:"ReadOnly,omitempty"`
	Dangling    bool              `json:"Dangling,omitempty"`
	Names       []string          `json:"Names,omitempty"`
	Digest      string            `json:"Digest,omitempty"`
	History     []string          `json:"History,omitempty"`
	Created     int64             `json:"Created"`
	CreatedAt   string            `json:"CreatedAt"`
}

func newImageSummary(img *libservin.Image, users int) imageSummary {
	labels := imageLabels(img)
	if len(labels) == 0 {
		labels = nil
	}
	return imageSummary{
		ID: img.ID, RepoDigests: repoDigests(img.Names, img.Digest), Size: img.Size,
		VirtualSize: img.Size, Labels: labels, Containers: users, Dangling: len(img.Names) == 0,
		Names: img.Names, Digest: img.Digest, History: imageHistory(img), Created: img.Created.Unix(),
		CreatedAt: img.Created.UTC().Truncate(time.Second).Format(time.RFC3339),
	}
}

// imageFilter compiles --filter values: values of one key are ORed,
// keys ANDed. all is the full listing, for before= and since=.
func imageFilter(filters map[string][]string, all []*libservin.Image) (func(*libservin.Image) bool, error) {
	var preds []func(*libservin.Image) bool
	for key, vals := range filters {
		var one []func(*libservin.Image) bool
		for _, v := range vals {
			m, err := imageFilterOne(key, v, all)
			if err != nil {
				return nil, err
			}
			one = append(one, m)
		}
		preds = append(preds, func(img *libservin.Image) bool {
			for _, m := range one {
				if m(img) {
					return true
				}
			}
			return false
		})
	}
	return func(img *libservin.Image) bool {
		for _, p := range preds {
			if !p(img) {
				return false
			}
		}
		return true
	}, nil
}

func imageFilterOne(key, v string, all []*libservin.Image) (func(*libservin.Image) bool, error) {
	switch key {
	case "reference":
		return func(img *libservin.Image) bool { return matchReference(img, v) }, nil
	case "dangling":
		want, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("invalid dangling filter value %q: %w", v, errdefs.ErrInvalidArgument)
		}
		return func(img *libservin.Image) bool { return (len(img.Names) == 0) == want }, nil
	case "label":
		return func(img *libservin.Image) bool { return matchLabel(imageLabels(img), v) }, nil
	case "id":
		return func(img *libservin.Image) bool { return strings.HasPrefix(img.ID, strings.TrimPrefix(v, "sha256:")) }, nil
	case "before", "since", "after":
		var ref *libservin.Image
		for _, img := range all {
			if matchImageRef(img, v) {
				ref = img
				break
			}
		}
		if ref == nil {
			return nil, fmt.Errorf("%s: image not known: %w", v, errdefs.ErrNotFound)
		}
		if key == "before" {
			return func(img *libservin.Image) bool { return img.Created.Before(ref.Created) }, nil
		}
		return func(img *libservin.Image) bool { return img.Created.After(ref.Created) }, nil
	}
	return nil, fmt.Errorf("unsupported image filter %q: %w", key, errdefs.ErrInvalidArgument)
}

// matchImageRef reports whether ref names img exactly: an ID prefix, a
// full name, or a short form of one of its names.
func matchImageRef(img *libservin.Image, ref string) bool {
	if len(ref) >= 3 && strings.HasPrefix(img.ID, strings.TrimPrefix(ref, "sha256:")) {
		return true
	}
	for _, n := range img.Names {
		for _, f := range imageNameForms(n) {
			if f == ref {
				return true
			}
		}
	}
	return false
}

// matchReference is the reference= filter: a glob (path.Match, as docker)
// against each name with and without its tag and registry prefix, or an
// exact image reference.
func matchReference(img *libservin.Image, pattern string) bool {
	if matchImageRef(img, pattern) {
		return true
	}
	for _, n := range img.Names {
		repo, _ := splitRepoTag(n)
		cands := append(imageNameForms(n), imageNameForms(repo)...)
		for _, cand := range cands {
			if ok, _ := path.Match(pattern, cand); ok {
				return true
			}
		}
	}
	return false
}

// imageCommand groups the image subcommands.
func imageCommand() *cli.Command {
	exists := &cli.Command{
		Name:      "exists",
		Usage:     "check whether an image exists (exit 0) or not (exit 1)",
		ArgsUsage: "IMAGE",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "image exists IMAGE"); err != nil {
				return err
			}
			ok, err := rt.ImageExists(c.Context, c.Args().First())
			if err != nil {
				return err
			}
			if !ok {
				// A manifest list is an image too, as in podman.
				ok, _ = rt.ManifestListExists(c.Args().First())
			}
			if !ok {
				return exitError{1}
			}
			return nil
		}),
	}
	rm := rmiCommand()
	rm.Name = "rm"
	tag := tagCommand()
	return &cli.Command{
		Name:  "image",
		Usage: "manage images",
		Subcommands: []*cli.Command{
			imageListCommand("list", "ls"), imageInspectCommand(), exists, rm, tag,
			importCommand(), loadCommand(), pullCommand(), pushCommand(), saveCommand(),
			historyCommand(), untagCommand(), imagePruneCommand(), imageTreeCommand(),
			imageMountCommand(), imageUnmountCommand(), searchCommand(), commitCommand(),
		},
	}
}

// repeatable is a string flag that may be given several times; unlike
// cli.StringSliceFlag it never splits values at commas (a --change value
// is a Dockerfile instruction such as CMD ["sh","-c","x"]).
type repeatable []string

// repeatablePrefix marks a serialized list: urfave/cli copies a flag's
// value to its aliases through Serialize and Set.
const repeatablePrefix = "\x00servin-list:"

func (r *repeatable) Set(v string) error {
	if s, ok := strings.CutPrefix(v, repeatablePrefix); ok {
		return json.Unmarshal([]byte(s), (*[]string)(r))
	}
	*r = append(*r, v)
	return nil
}

func (r *repeatable) String() string { return strings.Join(*r, " ") }

func (r *repeatable) Serialize() string {
	b, _ := json.Marshal([]string(*r))
	return repeatablePrefix + string(b)
}

func repeatableValues(c *cli.Context, name string) []string {
	if r, ok := c.Generic(name).(*repeatable); ok && r != nil {
		return *r
	}
	return nil
}

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "create an image from a root filesystem tarball",
		ArgsUsage: "PATH|URL|- [REFERENCE]",
		Flags: []cli.Flag{
			&cli.GenericFlag{Name: "change", Aliases: []string{"c"}, Value: &repeatable{}, Usage: "apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "commit message for the image's history"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress progress output"},
			&cli.StringFlag{Name: "os", Usage: "image operating system (default: the host's)"},
			&cli.StringFlag{Name: "arch", Usage: "image architecture (default: the host's)"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return fmt.Errorf("import requires a source and optionally a reference: usage: servin import PATH|URL|- [REFERENCE]: %w", errdefs.ErrInvalidArgument)
			}
			src, err := openImportSource(c.Context, c.Args().First())
			if err != nil {
				return err
			}
			defer src.Close()
			img, err := rt.Import(c.Context, src, libservin.ImportOptions{
				Reference: c.Args().Get(1), Changes: repeatableValues(c, "change"),
				Message: c.String("message"), OS: c.String("os"), Arch: c.String("arch"),
			})
			if err != nil {
				return err
			}
			fmt.Println("sha256:" + img.ID)
			return nil
		}),
	}
}

// openImportSource opens a file, standard input ("-") or an http(s) URL.
func openImportSource(ctx context.Context, src string) (io.ReadCloser, error) {
	switch {
	case src == "-":
		return io.NopCloser(os.Stdin), nil
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", err, errdefs.ErrInvalidArgument)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("downloading %s: %s", src, resp.Status)
		}
		return resp.Body, nil
	}
	return os.Open(src)
}

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:  "load",
		Usage: "load images from a docker-archive or oci-archive tarball",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "read from this file instead of standard input"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress progress output"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() > 0 {
				return fmt.Errorf("load takes no arguments (use --input): %w", errdefs.ErrInvalidArgument)
			}
			input := c.String("input")
			if input == "" {
				p, cleanup, err := stdinToFile()
				if err != nil {
					return err
				}
				defer cleanup()
				input = p
			}
			names, err := rt.Load(c.Context, input)
			if len(names) > 0 {
				fmt.Println("Loaded image: " + strings.Join(names, "\nLoaded image: "))
			}
			return err
		}),
	}
}

// stdinToFile copies standard input to a temporary file: archives are
// read by path, and a pipe cannot be seeked.
func stdinToFile() (string, func(), error) {
	if term.IsTerminal(int(os.Stdin.Fd())) {
		return "", nil, fmt.Errorf("cannot read from terminal, use command-line redirection or the --input flag: %w", errdefs.ErrInvalidArgument)
	}
	f, err := os.CreateTemp("", "servin-load-*.tar")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.Remove(f.Name()) }
	_, err = io.Copy(f, os.Stdin)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("reading the archive from standard input: %w", err)
	}
	return f.Name(), cleanup, nil
}

func rmiCommand() *cli.Command {
	return &cli.Command{
		Name:      "rmi",
		Usage:     "remove one or more images",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "remove containers using the image, and images with several names"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all images"},
			&cli.BoolFlag{Name: "ignore", Aliases: []string{"i"}, Usage: "ignore images that do not exist"},
		},
		Action: withRuntime(rmiAction),
	}
}

// rmiAction prints every Untagged line, then every Deleted line, then the
// errors, and exits as podman does: 1 when an image is not known, 2 when
// one is in use, 125 otherwise.
func rmiAction(c *cli.Context, rt *libservin.Runtime) error {
	names := c.Args().Slice()
	if c.Bool("all") {
		if len(names) > 0 {
			return fmt.Errorf("when using the --all switch, you may not pass any images names or IDs: %w", errdefs.ErrInvalidArgument)
		}
		imgs, err := rt.Images(c.Context)
		if err != nil {
			return err
		}
		if lists, err := rt.ManifestListImages(c.Context); err == nil {
			imgs = append(imgs, lists...)
		}
		// By name, so an image with several names is untagged name by
		// name and deleted with the last one (by ID it would need --force).
		for _, img := range imgs {
			if len(img.Names) == 0 {
				names = append(names, img.ID)
			}
			names = append(names, img.Names...)
		}
	} else if len(names) == 0 {
		return requireArgs(c, 1, "rmi IMAGE [IMAGE...]")
	}
	var untagged, deleted []string
	var errs []error
	for _, n := range names {
		u, d, err := rt.RemoveImage(c.Context, n, c.Bool("force"))
		if errors.Is(err, errdefs.ErrNotFound) {
			// Not a stored image: a manifest list goes the same way.
			if ok, _ := rt.ManifestListExists(n); ok {
				name, id, lerr := rt.RemoveManifestListImage(c.Context, n)
				u, d, err = []string{name}, nil, lerr
				if id != "" {
					d = []string{id}
				}
			}
		}
		untagged = append(untagged, u...)
		deleted = append(deleted, d...)
		// --force, like --ignore, passes over images that are not there.
		if err != nil && !((c.Bool("ignore") || c.Bool("force")) && errors.Is(err, errdefs.ErrNotFound)) {
			errs = append(errs, err)
		}
	}
	for _, u := range untagged {
		fmt.Println("Untagged: " + u)
	}
	for _, d := range deleted {
		fmt.Println("Deleted: " + d)
	}
	if len(errs) == 0 {
		return nil
	}
	for _, err := range errs {
		fmt.Fprintf(os.Stderr, "Error: %s\n", err)
	}
	return exitError{rmiExitCode(errs[len(errs)-1])}
}

// rmiExitCode is podman's: 1 for an unknown image, 2 for one in use.
func rmiExitCode(err error) int {
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		return 1
	case errors.Is(err, errdefs.ErrInUse):
		return 2
	}
	return errdefs.ExitCode(err)
}

func tagCommand() *cli.Command {
	return &cli.Command{
		Name:      "tag",
		Usage:     "add names to an image",
		ArgsUsage: "IMAGE TARGET_NAME [TARGET_NAME...]",
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 2, "tag IMAGE TARGET_NAME [TARGET_NAME...]"); err != nil {
				return err
			}
			src := c.Args().First()
			for _, dst := range c.Args().Slice()[1:] {
				if err := rt.Tag(c.Context, src, dst); err != nil {
					return err
				}
			}
			return nil
		}),
	}
}

// sortImageRows orders the listing as --sort asks; "created" keeps the
// newest-first order the images come in.
func sortImageRows(rows []imageRow, by string) {
	slices.SortStableFunc(rows, func(a, b imageRow) int {
		switch by {
		case "id":
			return strings.Compare(a.ID, b.ID)
		case "repository":
			if c := strings.Compare(a.Repository, b.Repository); c != 0 {
				return c
			}
			return strings.Compare(a.Tag, b.Tag)
		case "tag":
			return strings.Compare(a.Tag, b.Tag)
		case "size":
			return cmp.Compare(a.VirtualSize, b.VirtualSize)
		}
		return 0
	})
}

// imageHistory is the names an image has had, the latest first (podman's
// History).
func imageHistory(img *libservin.Image) []string {
	if len(img.History) > 0 {
		return img.History
	}
	return img.Names
}
