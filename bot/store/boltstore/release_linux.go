package boltstore

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// ReleaseMapped drops this process's mapping of the database file's pages;
// the data stays in the kernel's page cache and on disk.
//
// Why: bbolt reads through a shared memory map, and every page read (with
// the kernel's fault-around, its neighbours too) stays counted in the
// process's resident memory until the map is gone. The directory is read
// once at start and kept on the heap, and the audit's newest pages are
// read once per commit, yet without this the resident size would carry the
// whole file: 26 MB with 50,000 missions, growing by every audit record.
//
// It is safe while the database is in use: MADV_DONTNEED on a shared file
// map only unmaps pages, and the next read maps them again from the page
// cache. It runs inside a read transaction, which holds bbolt's map lock,
// so the map cannot be replaced (remapped on growth) meanwhile; the range
// is the database's size as that transaction sees it, never past the map.
func (db *DB) ReleaseMapped() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		start, size := db.bolt.Info().Data, tx.Size()
		if start == 0 || size <= 0 {
			return nil
		}
		// A raw system call: the address is the map's, not a Go pointer.
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, start, uintptr(size), syscall.MADV_DONTNEED); errno != 0 {
			return errno
		}
		return nil
	})
}
