package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/asm"
	tsstorage "github.com/vbatts/tar-split/tar/storage"
	"go.podman.io/storage"
	drivers "go.podman.io/storage/drivers"
	"go.podman.io/storage/pkg/archive"
)

// Staged layers: storage can unpack a layer into a staging directory
// before its parent exists (storage's "differ" interface, made for partial
// pulls) and later turn the staged directory into the layer in one rename.
// The fast pull path uses it to unpack all layers at once, on every core,
// and to commit them in order as each parent appears. Storage drivers
// without staging support take the sequential path (applyLayer).

// tarDiffer unpacks one uncompressed layer tar (already checked against
// its DiffID by the reader) into a staging directory, recording what
// storage records for a layer: its tar-split metadata, size and owners.
type tarDiffer struct {
	layer      io.Reader
	diffID     digest.Digest
	compressed digest.Digest
	tmpDir     string
}

func (d *tarDiffer) ApplyDiff(dest string, options *archive.TarOptions, differOpts *drivers.DifferOptions) (out drivers.DriverWithDifferOutput, retErr error) {
	if differOpts != nil && differOpts.Format != drivers.DifferOutputFormatDir {
		return out, errors.New("staging: only directory layouts are supported")
	}
	tarSplit, err := os.CreateTemp(d.tmpDir, "tar-split-*.json")
	if err != nil {
		return out, err
	}
	os.Remove(tarSplit.Name()) // storage reads it through the open file
	defer func() {
		if retErr != nil {
			tarSplit.Close()
		}
	}()

	// The stream is split three ways: tar-split records its headers and
	// padding, an owner scanner notes UIDs and GIDs, and the rest is
	// unpacked (confined to dest, see unpackConfined).
	owners := newOwnerScanner()
	counted := &countWriter{}
	teed := io.TeeReader(d.layer, io.MultiWriter(counted, owners))
	payload, done, err := asm.NewInputTarStreamWithDone(teed, tsstorage.NewJSONPacker(tarSplit), tsstorage.NewDiscardFilePutter())
	if err != nil {
		owners.close(err)
		return out, err
	}
	// unpackConfined also reads the end-of-archive padding, which
	// belongs in tar-split too.
	err = unpackConfined(payload, dest, options)
	payload.Close()
	if derr := <-done; err == nil {
		err = derr
	}
	uids, gids, oerr := owners.close(err)
	if oerr != nil && (err == nil || owners.nameErr) {
		err = oerr // a refused name explains any unpacking error it caused
	}
	if err != nil {
		return out, err
	}
	return drivers.DriverWithDifferOutput{
		Size:               counted.n,
		UIDs:               uids,
		GIDs:               gids,
		UncompressedDigest: d.diffID,
		CompressedDigest:   d.compressed,
		TarSplit:           tarSplit,
	}, nil
}

func (d *tarDiffer) Close() error { return nil }

// ownerScanner reads tar headers from what is written to it, refuses
// entries named outside the layer (checkEntryName) and collects the owners
// of the entries (not of whiteouts), as storage does.
type ownerScanner struct {
	pw   *io.PipeWriter
	done chan struct{}
	uids map[uint32]struct{}
	gids map[uint32]struct{}
	err  error
	// nameErr: err is checkEntryName's, not a read error.
	nameErr bool
}

func newOwnerScanner() *ownerScanner {
	pr, pw := io.Pipe()
	o := &ownerScanner{pw: pw, done: make(chan struct{}), uids: map[uint32]struct{}{}, gids: map[uint32]struct{}{}}
	go func() {
		defer close(o.done)
		tr := tar.NewReader(pr)
		for {
			hdr, err := tr.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					o.err = err
				}
				io.Copy(io.Discard, pr) // let the writer finish
				return
			}
			if err := checkEntryName(hdr); err != nil {
				o.err, o.nameErr = err, true // refused by name, as load refuses it
				io.Copy(io.Discard, pr)
				return
			}
			if !strings.HasPrefix(path.Base(hdr.Name), archive.WhiteoutPrefix) {
				o.uids[uint32(hdr.Uid)] = struct{}{}
				o.gids[uint32(hdr.Gid)] = struct{}{}
			}
		}
	}()
	return o
}

func (o *ownerScanner) Write(p []byte) (int, error) { return o.pw.Write(p) }

// close ends the scan (with the stream's error, if any) and returns the
// sorted owners.
func (o *ownerScanner) close(streamErr error) (uids, gids []uint32, err error) {
	o.pw.CloseWithError(streamErr)
	<-o.done
	for u := range o.uids {
		uids = append(uids, u)
	}
	for g := range o.gids {
		gids = append(gids, g)
	}
	slices.Sort(uids)
	slices.Sort(gids)
	if o.err != nil {
		if o.nameErr {
			return nil, nil, o.err
		}
		return nil, nil, fmt.Errorf("reading layer headers: %w", o.err)
	}
	return uids, gids, nil
}

// stagedLayerOutput is a layer unpacked into a staging directory.
type stagedLayerOutput struct {
	out *drivers.DriverWithDifferOutput
	err error
}

// stageLayerDiff unpacks l's blob, read from r, into a staging directory
// (no parent needed).
func (s *Store) stageLayerDiff(r io.Reader, l *fastLayer, tmp string) (*drivers.DriverWithDifferOutput, error) {
	plain, err := decompressedLayer(l, r)
	if err != nil {
		return nil, err
	}
	defer plain.Close()
	differ := &tarDiffer{layer: plain, diffID: l.diffID, compressed: l.info.Digest, tmpDir: tmp}
	out, err := s.store.PrepareStagedLayer(&drivers.ApplyDiffWithDifferOpts{}, differ)
	if err != nil {
		if out != nil {
			_ = s.store.CleanupStagedLayer(out)
		}
		return nil, err
	}
	return out, nil
}

// commitStagedLayer turns a staged directory into layer l on parent.
func (s *Store) commitStagedLayer(l *fastLayer, parent string, out *drivers.DriverWithDifferOutput) error {
	size := l.info.Size
	_, err := s.store.ApplyStagedLayer(storage.ApplyStagedLayerOptions{
		ID:          l.id,
		ParentLayer: parent,
		DiffOutput:  out,
		DiffOptions: &drivers.ApplyDiffWithDifferOpts{},
		LayerOptions: &storage.LayerOptions{
			OriginalDigest:     l.info.Digest,
			OriginalSize:       &size,
			UncompressedDigest: l.diffID,
		},
	})
	if errors.Is(err, storage.ErrDuplicateID) {
		_ = s.store.CleanupStagedLayer(out)
		return nil // a concurrent pull stored it first
	}
	return err
}

// supportsStaging reports whether the graph driver can stage layers.
func (s *Store) supportsStaging() bool {
	d, err := s.store.GraphDriver()
	if err != nil {
		return false
	}
	_, ok := d.(drivers.DriverWithDiffer)
	return ok && s.store.GraphDriverName() == "overlay"
}
