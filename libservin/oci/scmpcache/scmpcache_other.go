//go:build !(linux && cgo && seccomp)

package scmpcache

// Enable does nothing in builds without libseccomp.
func Enable(dir string) error { return nil }

// Supported reports whether this build has the cache.
const Supported = false
