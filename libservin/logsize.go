package libservin

import (
	units "github.com/docker/go-units"
)

// logSizeText is inspect's LogConfig.Size: --log-opt max-size read in
// decimal units and printed as podman prints it ("1.234MB", "0B" when
// unset).
func logSizeText(maxSize string) string {
	var n int64
	if maxSize != "" {
		if v, err := units.FromHumanSize(maxSize); err == nil {
			n = v
		}
	}
	return units.HumanSize(float64(n))
}
