package boltstore

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"liaisonbot/bot/store"
)

// rssFileKB reads this process's resident file-backed memory.
func rssFileKB(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// Pages read through bbolt's map leave the resident set when released,
// and the data reads the same afterwards.
func TestReleaseMappedDropsReadPages(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	value := bytes.Repeat([]byte("x"), 4000)
	for batch := range 8 { // 16 MB of values
		err := db.Update(ctx, func(tx store.Tx) error {
			for i := range 512 {
				if err := tx.Put("b", fmt.Sprintf("%d-%04d", batch, i), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	readAll := func() int {
		n := 0
		if err := db.View(ctx, func(tx store.Tx) error {
			return tx.Scan("b", "", "", func(_ string, v []byte) error {
				if !bytes.Equal(v, value) {
					return fmt.Errorf("value changed")
				}
				n++
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := db.ReleaseMapped(); err != nil {
		t.Fatal(err)
	}
	before := rssFileKB(t)
	if n := readAll(); n != 8*512 {
		t.Fatalf("read %d values", n)
	}
	read := rssFileKB(t)
	if read-before < 8<<10 {
		t.Skipf("reading 16 MB through the map added only %d kB of file-backed memory: nothing to release here", read-before)
	}
	if err := db.ReleaseMapped(); err != nil {
		t.Fatal(err)
	}
	released := rssFileKB(t)
	if read-released < (read-before)*3/4 {
		t.Fatalf("file-backed memory %d kB before reading, %d kB after, %d kB after release: the pages stayed", before, read, released)
	}
	if n := readAll(); n != 8*512 {
		t.Fatalf("after release read %d values", n)
	}
}
