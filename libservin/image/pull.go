package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/containers/ocicrypt/helpers"
	digest "github.com/opencontainers/go-digest"
	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/directory"
	"go.podman.io/image/v5/docker"
	dockerarchive "go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	pimage "go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	ociarchive "go.podman.io/image/v5/oci/archive"
	ocilayout "go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	storagetransport "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// PullOptions tune Pull.
type PullOptions struct {
	RemoteOptions
	// RetryOptions retry a registry pull that failed transiently.
	RetryOptions
	// DecryptionKeys are "keyfile[:password]" for encrypted layers.
	DecryptionKeys []string
}

// dockerPrefix is the transport prefix servin accepts on registry names.
const dockerPrefix = "docker://"

// localTransports are the transports besides docker:// that pull accepts
// ("oci-archive:/tmp/x.tar"), as podman does.
var localTransports = []string{"docker-archive:", "oci-archive:", "oci:", "dir:"}

// Pull copies an image from a registry (or another transport) into the
// store and returns it. Short names are resolved with registries.conf
// (see pullCandidates); mirrors, blocked and insecure registries,
// certificates and credentials all come from servin's configuration.
//
// Every blob's digest is verified while it is copied; when anything fails
// the layers this pull created are deleted again, so nothing half-pulled
// stays behind. When the image (the manifest for this platform) is already
// stored, the pull costs one manifest request and only updates the name.
func (s *Store) Pull(ctx context.Context, name string, o PullOptions) (*Image, error) {
	sys, err := s.remoteContext(&o.RemoteOptions)
	if err != nil {
		return nil, err
	}
	policy, err := remotePolicy(&o.RemoteOptions)
	if err != nil {
		return nil, err
	}
	defer policy.Destroy()
	copts, err := pullCopyOptions(sys, &o)
	if err != nil {
		return nil, err
	}
	for _, t := range localTransports {
		if strings.HasPrefix(name, t) {
			return s.pullLocalTransport(ctx, sys, policy, copts, name)
		}
	}
	input := strings.TrimPrefix(name, dockerPrefix)
	cands, err := pullCandidates(sys, input)
	if err != nil {
		return nil, err
	}
	var errs []string
	for _, named := range cands {
		if o.ReportWriter != nil && len(cands) > 1 {
			fmt.Fprintf(o.ReportWriter, "Trying to pull %s...\n", named)
		}
		img, err := withRetry(ctx, o.RetryOptions, func() (*Image, error) {
			return s.pullOne(ctx, sys, policy, copts, named, &o)
		})
		if err == nil {
			return img, nil
		}
		if len(cands) == 1 {
			return nil, err
		}
		errs = append(errs, fmt.Sprintf("%s: %v", named, err))
	}
	return nil, fmt.Errorf("pulling %q: every candidate failed:\n  %s", input, strings.Join(errs, "\n  "))
}

func pullCopyOptions(sys *types.SystemContext, o *PullOptions) (*copy.Options, error) {
	copts := &copy.Options{
		SourceCtx:      sys,
		DestinationCtx: sys,
		ReportWriter:   o.ReportWriter,
		// Registries on loopback or a LAN are faster than one stream.
		MaxParallelDownloads: 8,
	}
	if len(o.DecryptionKeys) > 0 {
		cc, err := helpers.CreateDecryptCryptoConfig(o.DecryptionKeys, nil)
		if err != nil {
			return nil, classed(errdefs.ErrInvalidArgument, "--decryption-key: %v", err)
		}
		copts.OciDecryptConfig = cc.DecryptConfig
	}
	return copts, nil
}

// pullOne pulls one fully-qualified reference: nothing but the manifest
// when the image is already stored, the fast path when it applies (see
// fastpull.go), containers/image's copy otherwise.
func (s *Store) pullOne(ctx context.Context, sys *types.SystemContext, policy *signature.PolicyContext, copts *copy.Options, named reference.Named, o *PullOptions) (*Image, error) {
	srcRef, err := docker.NewReference(named)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "invalid reference %q: %v", named, err)
	}
	rm, err := openRemote(ctx, sys, srcRef, named, o.answerTimeout())
	if err != nil {
		return nil, err
	}
	defer rm.src.Close()
	if img, err := s.alreadyStored(ctx, policy, rm, named); img != nil || err != nil {
		return img, err
	}
	decrypting := len(o.DecryptionKeys) > 0
	if !decrypting {
		if err := refuseEncrypted(ctx, rm, named); err != nil {
			return nil, err
		}
	}
	if !decrypting && fastPullable(policy, srcRef) && os.Getenv("SERVIN_PULL_COPY") == "" {
		if img, ok, err := s.fastPullRemote(ctx, sys, rm, named, o); ok {
			return img, err
		}
	}
	destRef, err := storagetransport.Transport.NewStoreReference(s.store, named, "")
	if err != nil {
		return nil, err
	}
	return s.copyFromRemote(ctx, policy, copts, srcRef, destRef, named.String())
}

// fastPullRemote runs the fast path, removing what it stored on failure.
func (s *Store) fastPullRemote(ctx context.Context, sys *types.SystemContext, rm *remoteManifest, named reference.Named, o *PullOptions) (*Image, bool, error) {
	raw, mime, err := rm.image(ctx)
	if err != nil {
		return nil, true, pullError(named.String(), err)
	}
	before, err := s.layerIDs()
	if err != nil {
		return nil, true, err
	}
	progress := newPullProgress(o.ReportWriter)
	stored, ok, err := s.fastPull(ctx, sys, rm.src, named, rm.top, raw, mime, rm.instance, progress)
	progress.close()
	if !ok {
		return nil, false, nil
	}
	if err != nil {
		s.removeNewLayers(before)
		return nil, true, pullError(named.String(), err)
	}
	img, err := s.toImage(ctx, stored)
	return img, true, err
}

// copyFromRemote copies src into dest and returns the stored image; on
// failure it removes the layers the copy left behind.
func (s *Store) copyFromRemote(ctx context.Context, policy *signature.PolicyContext, copts *copy.Options, srcRef, destRef types.ImageReference, what string) (*Image, error) {
	before, err := s.layerIDs()
	if err != nil {
		return nil, err
	}
	var resolved types.ImageReference
	o := *copts
	o.ReportResolvedReference = &resolved
	if _, err := copy.Image(ctx, policy, destRef, srcRef, &o); err != nil {
		s.removeNewLayers(before)
		return nil, pullError(what, err)
	}
	if resolved == nil {
		resolved = destRef
	}
	stored, err := storagetransport.Transport.GetStoreImage(s.store, resolved)
	if err != nil {
		return nil, fmt.Errorf("finding pulled image %s: %w", what, err)
	}
	return s.toImage(ctx, stored)
}

// remoteManifest is what a pull reads first: the manifest the tag points
// to (maybe a list) and this platform's instance of it.
type remoteManifest struct {
	src      types.ImageSource
	top      []byte
	topMime  string
	want     digest.Digest  // manifest digest of the image to store
	topDig   digest.Digest  // digest of top
	instance *digest.Digest // set when top is a list

	instRaw  []byte // the instance's manifest, once read
	instMime string
}

// image returns the manifest of the image to store: top, or the chosen
// instance of the list top (read once, checked against its digest).
func (rm *remoteManifest) image(ctx context.Context) ([]byte, string, error) {
	if rm.instance == nil {
		return rm.top, rm.topMime, nil
	}
	if rm.instRaw == nil {
		raw, mime, err := rm.src.GetManifest(ctx, rm.instance)
		if err != nil {
			return nil, "", err
		}
		if ok, err := manifest.MatchesDigest(raw, *rm.instance); !ok || err != nil {
			return nil, "", fmt.Errorf("the manifest of instance %s does not match its digest", rm.instance)
		}
		rm.instRaw, rm.instMime = raw, mime
	}
	return rm.instRaw, rm.instMime, nil
}

// openRemote opens the source and reads its manifest. Opening the source
// pings the registry (and its mirrors) and the manifest request
// authenticates: a registry that accepts connections but never answers is
// reported after timeout rather than waited for forever.
func openRemote(ctx context.Context, sys *types.SystemContext, srcRef types.ImageReference, named reference.Named, timeout time.Duration) (_ *remoteManifest, retErr error) {
	mctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fail := func(err error) error {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return newCauseError(fmt.Sprintf("pulling image %s: the registry %s did not answer within %v",
				named, reference.Domain(named), timeout), err)
		}
		return pullError(named.String(), err)
	}
	src, err := srcRef.NewImageSource(mctx, sys)
	if err != nil {
		return nil, fail(err)
	}
	defer func() {
		if retErr != nil {
			src.Close()
		}
	}()
	raw, mime, err := src.GetManifest(mctx, nil)
	if err != nil {
		return nil, fail(err)
	}
	top, err := manifest.Digest(raw)
	if err != nil {
		return nil, fail(err)
	}
	rm := &remoteManifest{src: src, top: raw, topMime: mime, want: top, topDig: top}
	if manifest.MIMETypeIsMultiImage(mime) {
		list, err := manifest.ListFromBlob(raw, mime)
		if err != nil {
			return nil, pullError(named.String(), fmt.Errorf("parsing manifest list: %w", err))
		}
		d, err := list.ChooseInstance(sys)
		if err != nil {
			return nil, classed(errdefs.ErrNotFound, "pulling %s: %v", named, err)
		}
		rm.want, rm.instance = d, &d
	}
	return rm, nil
}

// alreadyStored implements the cheap re-pull: if the store has an image
// with the manifest digest just read, it checks the signature policy and
// gives the image the name. It returns nil, nil when a copy is needed.
func (s *Store) alreadyStored(ctx context.Context, policy *signature.PolicyContext, rm *remoteManifest, named reference.Named) (*Image, error) {
	stored := s.imageWithDigest(rm.want)
	if stored == nil {
		return nil, nil
	}
	unparsed := pimage.UnparsedInstance(rm.src, rm.instance)
	if ok, err := policy.IsRunningImageAllowed(ctx, unparsed); !ok || err != nil {
		return nil, nil // the copy reports the policy's verdict
	}
	if err := s.store.AddNames(stored.ID, []string{named.String()}); err != nil {
		return nil, err
	}
	if err := s.addDigest(stored, rm.topDig, rm.top); err != nil {
		return nil, err
	}
	return s.toImage(ctx, stored)
}

// refuseEncrypted reports an image with encrypted layers pulled without
// a decryption key; the copy would otherwise fail with a digest mismatch.
func refuseEncrypted(ctx context.Context, rm *remoteManifest, named reference.Named) error {
	raw, mime, err := rm.image(ctx)
	if err != nil {
		return nil // the copy reports it
	}
	m, err := manifest.FromBlob(raw, mime)
	if err != nil {
		return nil
	}
	for _, l := range m.LayerInfos() {
		if strings.HasSuffix(l.MediaType, "+encrypted") {
			return classed(errdefs.ErrInvalidArgument, "pulling image %s: its layers are encrypted: give the key with --decryption-key", named)
		}
	}
	return nil
}

// imageWithDigest finds a stored image pulled with manifest digest d.
func (s *Store) imageWithDigest(d digest.Digest) *storage.Image {
	images, err := s.store.Images()
	if err != nil {
		return nil
	}
	for i := range images {
		if images[i].Digest == d || slices.Contains(images[i].Digests, d) {
			return &images[i]
		}
	}
	return nil
}

// addDigest records another manifest (a list's) for the image, so that
// name@digest finds it; storage derives an image's digests from the
// manifests it keeps, as the storage transport does for a pulled list.
func (s *Store) addDigest(img *storage.Image, d digest.Digest, raw []byte) error {
	if img.Digest == d || slices.Contains(img.Digests, d) {
		return nil
	}
	return s.store.SetImageBigData(img.ID, storage.ImageDigestManifestBigDataNamePrefix+"-"+d.String(), raw, manifest.Digest)
}

// pullLocalTransport pulls from docker-archive:, oci-archive:, oci: or dir:.
func (s *Store) pullLocalTransport(ctx context.Context, sys *types.SystemContext, policy *signature.PolicyContext, copts *copy.Options, name string) (*Image, error) {
	srcRef, err := parseLocalTransport(name)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "invalid image source %q: %v", name, err)
	}
	var named reference.Named
	if n := srcRef.DockerReference(); n != nil {
		named = reference.TagNameOnly(n)
	}
	id := ""
	if named == nil {
		if id, err = configID(ctx, sys, srcRef); err != nil {
			return nil, pullError(name, err)
		}
	}
	destRef, err := storagetransport.Transport.NewStoreReference(s.store, named, id)
	if err != nil {
		return nil, err
	}
	return s.copyFromRemote(ctx, policy, copts, srcRef, destRef, name)
}

// parseLocalTransport parses "transport:reference" for the transports
// of localTransports.
func parseLocalTransport(name string) (types.ImageReference, error) {
	transport, ref, _ := strings.Cut(name, ":")
	switch transport {
	case "docker-archive":
		return dockerarchive.ParseReference(ref)
	case "oci-archive":
		return ociarchive.ParseReference(ref)
	case "oci":
		return ocilayout.ParseReference(ref)
	case "dir":
		return directory.NewReference(ref)
	}
	return nil, fmt.Errorf("unknown transport %q", transport)
}

// layerIDs is the set of stored layers.
func (s *Store) layerIDs() (map[string]bool, error) {
	layers, err := s.store.Layers()
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool, len(layers))
	for _, l := range layers {
		ids[l.ID] = true
	}
	return ids, nil
}

// removeNewLayers deletes layers created since before that no image or
// container uses: what a failed pull committed before it failed. Children
// go before their parents.
func (s *Store) removeNewLayers(before map[string]bool) {
	for range 64 { // each round removes the current leaves
		layers, err := s.store.Layers()
		if err != nil {
			return
		}
		used := map[string]bool{}
		parents := map[string]bool{}
		for _, l := range layers {
			parents[l.Parent] = true
		}
		images, _ := s.store.Images()
		for _, img := range images {
			used[img.TopLayer] = true
			for _, l := range img.MappedTopLayers {
				used[l] = true
			}
		}
		ctrs, _ := s.store.Containers()
		for _, c := range ctrs {
			used[c.LayerID] = true
		}
		removed := 0
		for _, l := range layers {
			if before[l.ID] || used[l.ID] || parents[l.ID] {
				continue
			}
			if err := s.store.DeleteLayer(l.ID); err == nil {
				removed++
			}
		}
		if removed == 0 {
			return
		}
	}
}

// pullError names the image and makes the common failures readable.
func pullError(what string, err error) error {
	msg := err.Error()
	var class error
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg += " (the registry closed the connection early)"
	case strings.Contains(msg, "manifest unknown") || strings.Contains(msg, "name unknown"):
		class = errdefs.ErrNotFound
	case strings.Contains(msg, "http: server gave HTTP response to HTTPS client"):
		msg += " (use --tls-verify=false or mark the registry insecure in registries.conf)"
	}
	return newCauseError(fmt.Sprintf("pulling image %s: %s", what, msg), err, class)
}
