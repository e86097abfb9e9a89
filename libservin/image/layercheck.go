package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/blobinfocache/none"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/types"
)

// checkEntryName refuses a layer entry whose name (or hard-link target)
// is absolute or climbs out of the root with "..": a well-formed layer
// never has one, and although storage confines extraction to the layer's
// directory, such an archive is a crafted one and is refused by name.
func checkEntryName(hdr *tar.Header) error {
	for _, name := range []string{hdr.Name, hardLinkTarget(hdr)} {
		if name == "" {
			continue
		}
		if strings.HasPrefix(name, "/") {
			return fmt.Errorf("entry %q has an absolute path", name)
		}
		for _, part := range strings.Split(path.Clean(name), "/") {
			if part == ".." {
				return fmt.Errorf("entry %q points outside the layer with \"..\"", name)
			}
		}
	}
	return nil
}

func hardLinkTarget(hdr *tar.Header) string {
	if hdr.Typeflag == tar.TypeLink {
		return hdr.Linkname
	}
	return ""
}

// checkLayerTar reads a whole (uncompressed) layer tar, checking every
// entry's name.
func checkLayerTar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a valid tar archive: %v", err)
		}
		if err := checkEntryName(hdr); err != nil {
			return err
		}
	}
}

// checkImageLayers reads every layer of the image ref stands for (this
// platform's instance of a list) and refuses the image if a layer is not a
// tar archive or has an entry that checkEntryName refuses. It runs before
// an archive is loaded, so a bad archive stores nothing.
func checkImageLayers(ctx context.Context, sys *types.SystemContext, ref types.ImageReference) error {
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return err
	}
	defer src.Close()
	raw, mime, err := src.GetManifest(ctx, nil)
	if err != nil {
		return err
	}
	if manifest.MIMETypeIsMultiImage(mime) {
		list, err := manifest.ListFromBlob(raw, mime)
		if err != nil {
			return err
		}
		instance, err := list.ChooseInstance(sys)
		if err != nil {
			return err
		}
		if raw, mime, err = src.GetManifest(ctx, &instance); err != nil {
			return err
		}
	}
	m, err := manifest.FromBlob(raw, mime)
	if err != nil {
		return err
	}
	for i, layer := range m.LayerInfos() {
		if err := checkBlob(ctx, src, layer.BlobInfo); err != nil {
			return classed(errdefs.ErrInvalidArgument, "layer %d (%s) is refused: %v", i+1, layer.Digest, err)
		}
	}
	return nil
}

func checkBlob(ctx context.Context, src types.ImageSource, info types.BlobInfo) error {
	rc, _, err := src.GetBlob(ctx, info, none.NoCache)
	if err != nil {
		return err
	}
	defer rc.Close()
	plain, _, err := compression.AutoDecompress(rc)
	if err != nil {
		return err
	}
	defer plain.Close()
	return checkLayerTar(plain)
}
