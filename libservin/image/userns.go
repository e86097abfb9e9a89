package image

// User namespace support for container layers (see libservin/userns.go).

import (
	"fmt"

	"go.podman.io/storage/pkg/idtools"
	stypes "go.podman.io/storage/types"
)

func idMappingOptions(o ContainerOptions) stypes.IDMappingOptions {
	return stypes.IDMappingOptions{
		UIDMap: o.UIDMap, GIDMap: o.GIDMap,
		AutoUserNs: o.AutoUserNS, AutoUserNsOpts: stypes.AutoUserNsOptions{Size: o.AutoUserNSSize},
	}
}

// ContainerIDMaps returns the ID mappings storage recorded for a
// container's layer (none without a user namespace).
func (s *Store) ContainerIDMaps(id string) (uids, gids []idtools.IDMap, err error) {
	if drv, err := s.driver(); err == nil && s.isDriverLayer(drv, id) {
		return nil, nil, nil // made without ID mappings
	}
	c, err := s.store.Container(id)
	if err != nil {
		return nil, nil, fmt.Errorf("container %s: %w", id, notAContainer(err))
	}
	return c.UIDMap, c.GIDMap, nil
}
