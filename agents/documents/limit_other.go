//go:build !linux

package documents

// limitAddressSpace is a no-op outside Linux: there the child keeps only the
// Go runtime's soft memory limit (debug.SetMemoryLimit), which slows a
// runaway parse down but does not stop it; the wall-time limit still kills
// it. docs/documents.md says so.
func limitAddressSpace(extra int64) error { return nil }

const hardMemoryLimit = false
