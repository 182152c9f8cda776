//go:build !linux

package boltstore

// ReleaseMapped does nothing where the release is not implemented
// (release_linux.go says why it exists).
func (db *DB) ReleaseMapped() error { return nil }
