package image

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	pimage "go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/blobinfocache/none"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// The fast pull path copies an image from a registry into the store
// without containers/image's generic copy pipeline, which decompresses
// every layer twice (once to stage it, once to store it), digests it four
// times and applies layers only after staging them.
//
// Here every missing layer is downloaded at once into a file next to the
// store while its (compressed) digest is checked; the layers are then
// applied in order as soon as each one has arrived, so that applying
// layer 1 overlaps the download of the others. Each layer is decompressed
// once, on its way into storage, and its uncompressed digest is checked
// against the config's DiffID as it streams: a mismatch fails the layer,
// which storage then removes. Layer and image IDs are computed the way the
// containers/image storage destination computes them, so images pulled
// either way share their layers.
//
// It serves the common case only (schema2 or OCI manifests, plain or
// gzip/zstd layers, a policy that accepts anything for the image): the
// rest (encrypted layers, foreign layers, signature requirements,
// decryption) goes through containers/image's copy.

// maxParallelDownloads bounds the layers fetched at once.
const maxParallelDownloads = 6

// fastPullable reports whether pulling ref can take the fast path under
// this policy: every requirement that applies to it is
// insecureAcceptAnything, so there are no signatures to verify or keep.
func fastPullable(policy *signature.PolicyContext, ref types.ImageReference) bool {
	reqs := policy.Policy.Default
	if scopes, ok := policy.Policy.Transports[ref.Transport().Name()]; ok {
		found := false
		for _, scope := range append([]string{ref.PolicyConfigurationIdentity()}, append(ref.PolicyConfigurationNamespaces(), "")...) {
			if r, ok := scopes[scope]; ok {
				reqs, found = r, true
				break
			}
		}
		_ = found
	}
	if len(reqs) == 0 {
		return false
	}
	for _, r := range reqs {
		data, err := json.Marshal(r)
		if err != nil || !strings.Contains(string(data), `"insecureAcceptAnything"`) {
			return false
		}
	}
	return true
}

// fastLayer is one layer of the image being pulled.
type fastLayer struct {
	index   int
	info    types.BlobInfo // from the manifest
	diffID  digest.Digest
	id      string // storage layer ID (chain ID)
	present bool
	file    *growingFile  // the blob as it downloads
	done    chan struct{} // closed when the download ended (err says how)
	err     error
}

// fastPull pulls the manifest raw (of type mime, this platform's instance;
// top is the manifest first fetched, a list or the same) from src.
// ok is false when the image is not one the fast path handles; nothing
// was written then.
func (s *Store) fastPull(ctx context.Context, sys *types.SystemContext, src types.ImageSource, named reference.Named,
	top []byte, raw []byte, mime string, instance *digest.Digest, progress *pullProgress) (img *storage.Image, ok bool, err error) {
	if mime != manifest.DockerV2Schema2MediaType && mime != v1.MediaTypeImageManifest {
		return nil, false, nil
	}
	m, err := manifest.FromBlob(raw, mime)
	if err != nil {
		return nil, false, nil
	}
	infos := m.LayerInfos()
	for _, l := range infos {
		if len(l.URLs) > 0 || strings.HasSuffix(l.MediaType, "+encrypted") || !knownLayerType(l.MediaType) {
			return nil, false, nil
		}
	}
	unparsed := pimage.UnparsedInstance(src, instance)
	parsed, err := pimage.FromUnparsedImage(ctx, sys, unparsed)
	if err != nil {
		return nil, true, err
	}
	configBlob, err := parsed.ConfigBlob(ctx) // verified against its digest
	if err != nil {
		return nil, true, fmt.Errorf("reading image config: %w", err)
	}
	cfg, err := parsed.OCIConfig(ctx)
	if err != nil {
		return nil, true, fmt.Errorf("reading image config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(infos) {
		return nil, false, nil
	}
	progress.config(m.ConfigInfo().Digest)

	layers := make([]*fastLayer, len(infos))
	parent := ""
	for i, l := range infos {
		fl := &fastLayer{index: i, info: l.BlobInfo, diffID: cfg.RootFS.DiffIDs[i], done: make(chan struct{})}
		fl.id = chainLayerID(parent, fl.diffID)
		if _, err := s.store.Layer(fl.id); err == nil {
			fl.present = true
			close(fl.done)
			progress.skipped(l.Digest)
		}
		layers[i] = fl
		parent = fl.id
	}
	tmp, err := s.tmpDir()
	if err != nil {
		return nil, true, err
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		for _, l := range layers {
			l.file.remove()
		}
	}()
	if s.supportsStaging() {
		err = s.pullStaged(dctx, src, layers, tmp, progress)
	} else {
		err = s.pullSequential(dctx, src, layers, tmp, progress, &wg)
	}
	if err != nil {
		return nil, true, err
	}
	parent = ""
	if len(layers) > 0 {
		parent = layers[len(layers)-1].id
	}
	img, err = s.createPulledImage(named, m, top, raw, configBlob, cfg, parent)
	if err != nil {
		return nil, true, err
	}
	progress.finished()
	return img, true, nil
}

func knownLayerType(mt string) bool {
	switch mt {
	case manifest.DockerV2Schema2LayerMediaType, manifest.DockerV2SchemaLayerMediaTypeUncompressed,
		v1.MediaTypeImageLayer, v1.MediaTypeImageLayerGzip, v1.MediaTypeImageLayerZstd,
		v1.MediaTypeImageLayerNonDistributable, v1.MediaTypeImageLayerNonDistributableGzip, //nolint:staticcheck // still found in the wild
		v1.MediaTypeImageLayerNonDistributableZstd: //nolint:staticcheck
		return true
	}
	return false
}

// chainLayerID is the storage layer ID of a layer with diffID on top of
// parent: the scheme of containers/image's storage destination.
func chainLayerID(parent string, diffID digest.Digest) string {
	if parent == "" {
		return diffID.Encoded()
	}
	return digest.Canonical.FromString(parent + "+" + diffID.Encoded()).Encoded()
}

// downloadBlob fetches one blob into f, checking its size and digest.
// The digest is known good only when it returns nil: readers of f must
// not take the data for complete before.
func downloadBlob(ctx context.Context, src types.ImageSource, info types.BlobInfo, f io.Writer, progress *pullProgress) error {
	if err := info.Digest.Validate(); err != nil {
		return err
	}
	rc, size, err := src.GetBlob(ctx, info, none.NoCache)
	if err != nil {
		return err
	}
	defer rc.Close()
	if size < 0 {
		size = info.Size
	}
	verifier := info.Digest.Verifier()
	counter := progress.counter(info.Digest, size)
	buf := make([]byte, 1<<20)
	n, err := io.CopyBuffer(io.MultiWriter(f, verifier, counter), rc, buf)
	if err != nil {
		return err
	}
	if info.Size > 0 && n != info.Size {
		return fmt.Errorf("blob %s: read %d bytes, the manifest says %d", info.Digest, n, info.Size)
	}
	if !verifier.Verified() {
		return fmt.Errorf("blob %s: digest mismatch: the data read does not match the manifest's digest (corrupted or tampered blob)", info.Digest)
	}
	return nil
}

// growingFile is a blob being downloaded into a temporary file, readable
// while it grows: a reader waits for more data at the end of what has
// arrived, and sees the end of the blob only once the download finished
// and was verified.
type growingFile struct {
	f    *os.File
	mu   sync.Mutex
	cond *sync.Cond
	size int64
	done bool
	err  error
}

func newGrowingFile(dir string) (*growingFile, error) {
	f, err := os.CreateTemp(dir, "pull-*.blob")
	if err != nil {
		return nil, err
	}
	g := &growingFile{f: f}
	g.cond = sync.NewCond(&g.mu)
	return g, nil
}

func (g *growingFile) Write(p []byte) (int, error) {
	n, err := g.f.Write(p)
	g.mu.Lock()
	g.size += int64(n)
	g.mu.Unlock()
	g.cond.Broadcast()
	return n, err
}

// finish ends the download with err (nil: complete and verified).
func (g *growingFile) finish(err error) {
	g.mu.Lock()
	g.done, g.err = true, err
	g.mu.Unlock()
	g.cond.Broadcast()
}

// reader reads the blob from the start, following the download.
func (g *growingFile) reader() io.Reader { return &growingReader{g: g} }

type growingReader struct {
	g   *growingFile
	off int64
}

func (r *growingReader) Read(p []byte) (int, error) {
	g := r.g
	g.mu.Lock()
	for r.off >= g.size && !g.done {
		g.cond.Wait()
	}
	avail, done, ferr := g.size-r.off, g.done, g.err
	g.mu.Unlock()
	if avail <= 0 {
		if ferr != nil {
			return 0, ferr
		}
		if done {
			return 0, io.EOF
		}
	}
	if int64(len(p)) > avail {
		p = p[:avail]
	}
	n, err := g.f.ReadAt(p, r.off)
	r.off += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

// remove deletes the file (nil-safe, idempotent).
func (g *growingFile) remove() {
	if g == nil || g.f == nil {
		return
	}
	g.f.Close()
	os.Remove(g.f.Name())
	g.f = nil
}

// layerError names the layer and prefers the download's error (a digest
// mismatch, a broken connection) to what it caused downstream.
func layerError(l *fastLayer, err error) error {
	<-l.done
	if l.err != nil {
		err = l.err
	}
	return fmt.Errorf("copying layer %s: %w", l.info.Digest, err)
}

// pullSequential downloads every missing layer into a growing file (in
// layer order, so that the layer stored next is always among those
// arriving) and stores the layers one after the other, each read while it
// downloads: for graph drivers that cannot stage layers.
func (s *Store) pullSequential(ctx context.Context, src types.ImageSource, layers []*fastLayer, tmp string, progress *pullProgress, wg *sync.WaitGroup) error {
	sem := make(chan struct{}, maxParallelDownloads)
	for _, l := range layers {
		if l.present {
			continue
		}
		var err error
		if l.file, err = newGrowingFile(tmp); err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(l.done)
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				l.err = ctx.Err()
				l.file.finish(l.err)
				return
			}
			defer func() { <-sem }()
			l.err = downloadBlob(ctx, src, l.info, l.file, progress)
			l.file.finish(l.err)
		}()
	}
	return s.applySequential(layers, progress)
}

// applySequential stores the layers one after the other, each read while
// it downloads.
func (s *Store) applySequential(layers []*fastLayer, progress *pullProgress) error {
	parent := ""
	for _, l := range layers {
		if !l.present {
			if err := s.applyLayer(l, parent); err != nil {
				return layerError(l, err)
			}
			l.file.remove()
			progress.stored(l.info.Digest)
		}
		parent = l.id
	}
	return nil
}

// pullStaged streams each missing layer from the registry straight into
// a staging directory (download, digest checks and unpacking of up to
// maxParallelDownloads layers at once, on every core, with no temporary
// copy), and commits the staged layers in order.
func (s *Store) pullStaged(ctx context.Context, src types.ImageSource, layers []*fastLayer, tmp string, progress *pullProgress) (retErr error) {
	ctx, cancel := context.WithCancel(ctx)
	staged := make([]chan stagedLayerOutput, len(layers))
	for i, l := range layers {
		if !l.present {
			staged[i] = make(chan stagedLayerOutput, 1)
		}
	}
	// Slots are taken in layer order, so the layer committed next is
	// always among those in flight.
	go func() {
		sem := make(chan struct{}, maxParallelDownloads)
		for i, l := range layers {
			if l.present {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				staged[i] <- stagedLayerOutput{err: ctx.Err()}
				continue
			}
			go func() {
				defer func() { <-sem }()
				staged[i] <- s.streamLayer(ctx, src, l, tmp, progress)
			}()
		}
	}()
	// Whatever happens, every layer's result is waited for and what was
	// staged but not committed is cleaned up.
	next := 0
	defer func() {
		cancel() // stops the transfers still running after a failure
		for ; next < len(layers); next++ {
			if staged[next] == nil {
				continue
			}
			if r := <-staged[next]; r.out != nil {
				_ = s.store.CleanupStagedLayer(r.out)
			}
		}
	}()
	parent := ""
	for ; next < len(layers); next++ {
		l := layers[next]
		if staged[next] != nil {
			r := <-staged[next]
			staged[next] = nil
			if r.err != nil {
				return fmt.Errorf("copying layer %s: %w", l.info.Digest, r.err)
			}
			if err := s.commitStagedLayer(l, parent, r.out); err != nil {
				_ = s.store.CleanupStagedLayer(r.out)
				return fmt.Errorf("copying layer %s: %w", l.info.Digest, err)
			}
			progress.stored(l.info.Digest)
		}
		parent = l.id
	}
	return nil
}

// streamLayer downloads one layer through a pipe into a staging
// directory. The downloader ends the pipe with its error, so a digest
// mismatch fails the unpacking instead of ending it; the download's error
// is the one reported.
func (s *Store) streamLayer(ctx context.Context, src types.ImageSource, l *fastLayer, tmp string, progress *pullProgress) stagedLayerOutput {
	pr, pw := io.Pipe()
	dlErr := make(chan error, 1)
	go func() {
		err := downloadBlob(ctx, src, l.info, pw, progress)
		pw.CloseWithError(err)
		dlErr <- err
	}()
	out, err := s.stageLayerDiff(pr, l, tmp)
	if err != nil {
		pr.CloseWithError(errUnpackStopped) // unblocks the downloader
	}
	derr := <-dlErr
	if derr != nil && !errors.Is(derr, errUnpackStopped) {
		if out != nil {
			_ = s.store.CleanupStagedLayer(out)
		}
		return stagedLayerOutput{err: derr}
	}
	return stagedLayerOutput{out: out, err: err}
}

var errUnpackStopped = errors.New("unpacking the layer stopped")

// decompressedLayer reads l's blob from r, decompressed, and checked
// against its DiffID at the end.
func decompressedLayer(l *fastLayer, r io.Reader) (io.ReadCloser, error) {
	plain, _, err := compression.AutoDecompress(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{&diffIDReader{r: plain, want: l.diffID, h: sha256.New()}, plain}, nil
}

// applyLayer decompresses a layer into storage as it downloads, checking
// its DiffID as it streams.
func (s *Store) applyLayer(l *fastLayer, parent string) error {
	plain, err := decompressedLayer(l, l.file.reader())
	if err != nil {
		return err
	}
	defer plain.Close()
	size := l.info.Size
	_, _, err = s.store.PutLayer(l.id, parent, nil, "", false, &storage.LayerOptions{
		OriginalDigest:     l.info.Digest,
		OriginalSize:       &size,
		UncompressedDigest: l.diffID,
	}, plain)
	if errors.Is(err, storage.ErrDuplicateID) {
		return nil // a concurrent pull stored it first
	}
	return err
}

// diffIDReader passes a layer through, failing at its end if the data
// does not have the expected digest, so that storage discards the layer.
type diffIDReader struct {
	r    io.Reader
	want digest.Digest
	h    hash.Hash
}

func (d *diffIDReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	if errors.Is(err, io.EOF) {
		if got := digest.NewDigest(digest.SHA256, d.h); got != d.want {
			return n, fmt.Errorf("layer content digest %s does not match the config's DiffID %s (corrupted or tampered layer)", got, d.want)
		}
	}
	return n, err
}

// createPulledImage records the image as the containers/image storage
// destination does: config and manifests as big data, ID = config digest.
func (s *Store) createPulledImage(named reference.Named, m manifest.Manifest, top, raw, configBlob []byte, cfg *v1.Image, topLayer string) (*storage.Image, error) {
	mdigest, err := manifest.Digest(raw)
	if err != nil {
		return nil, err
	}
	configDigest := m.ConfigInfo().Digest
	opts := &storage.ImageOptions{}
	if cfg.Created != nil {
		opts.CreationDate = *cfg.Created
	}
	key := storage.ImageDigestManifestBigDataNamePrefix + "-"
	opts.BigData = append(opts.BigData,
		storage.ImageBigDataOption{Key: configDigest.String(), Data: configBlob, Digest: digest.Canonical.FromBytes(configBlob)},
		storage.ImageBigDataOption{Key: key + mdigest.String(), Data: raw, Digest: mdigest},
		storage.ImageBigDataOption{Key: storage.ImageDigestBigDataKey, Data: raw, Digest: mdigest},
	)
	if topDigest, err := manifest.Digest(top); err == nil && topDigest != mdigest {
		opts.BigData = append(opts.BigData, storage.ImageBigDataOption{Key: key + topDigest.String(), Data: top, Digest: topDigest})
	}
	id := configDigest.Encoded()
	img, err := s.store.CreateImage(id, nil, topLayer, "{}", opts)
	if errors.Is(err, storage.ErrDuplicateID) {
		img, err = s.store.Image(id)
		if err == nil && img.TopLayer != topLayer {
			return nil, fmt.Errorf("image %s already exists with other layers", id)
		}
		for _, bd := range opts.BigData {
			if err == nil {
				err = s.store.SetImageBigData(id, bd.Key, bd.Data, manifest.Digest)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("creating image %s: %w", id, err)
	}
	if err := s.store.AddNames(id, []string{named.String()}); err != nil {
		return nil, err
	}
	return s.store.Image(id)
}
