// Package audit keeps the audit trail of SPEC §6 in an append-only bucket:
// every command and every denial, who, where, what, outcome, when. Keys sort
// by time, so an export from a given time reads only what it returns.
//
// Records are written by one goroutine that commits everything queued in a
// single transaction. A transaction per command would cost one fsync per
// command and cap the bot at a few thousand commands a second; grouped, the
// cost is shared. The price is a window of a few milliseconds in which a
// crash (not a shutdown: Close drains the queue) loses the newest records
// of read-only commands; a command that changes stored state
// (bot.Command.Writes) waits for its record with Flush before answering, so
// no acknowledged change goes unaudited.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
)

// Bucket holds the audit records.
const Bucket = "audit"

// keyTime is the sortable time prefix of an audit key.
const keyTime = "20060102T150405.000000000Z"

// queueSize bounds what waits to be written; a full queue makes Record
// wait, it never drops a record.
const queueSize = 4096

// maxGroup bounds one transaction.
const maxGroup = 1024

// linger is how long the writer waits for more records before committing a
// group: under load it turns hundreds of small commits a second (each an
// fsync) into a few dozen, and it bounds what a crash can lose.
const linger = 10 * time.Millisecond

// kickAt is how full the queue may get before a record wakes the writer
// early, so that Record does not wait for a lingering writer.
const kickAt = queueSize / 2

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("audit log is closed")

// Log writes audit records to a store. The zero value with Store set is
// ready to use; call Close before closing the store.
type Log struct {
	Store store.Store

	once    sync.Once
	mu      sync.RWMutex // guards closed against a Record racing Close
	closed  bool
	queue   chan item
	wake    chan struct{} // commit now: a flush is waiting, the queue is filling or closed
	stopped chan struct{}
	errMu   sync.Mutex
	lastErr error
}

// item is a record to write, or (flush != nil) a request to be told when
// everything queued before it is written.
type item struct {
	data  *[]byte // from bufs; the writer puts it back once copied
	time  time.Time
	flush chan error
}

// bufs recycles the records' buffers: Record takes one, the writer returns
// it once the record is copied into its group's value, so a command does
// not allocate one for the garbage collector to sweep.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooled bounds the buffers kept in bufs: a long command line (the
// audit keeps 500 bytes of it, escaped) may make a bigger one, but most
// records are a few hundred bytes.
const maxPooled = 4 << 10

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		bufs.Put(b)
	}
}

var _ bot.Auditor = (*Log)(nil)

func (l *Log) start() {
	l.once.Do(func() {
		l.queue = make(chan item, queueSize)
		l.wake = make(chan struct{}, 1)
		l.stopped = make(chan struct{})
		go l.writer()
	})
}

// Record queues one record.
func (l *Log) Record(ctx context.Context, r bot.AuditRecord) error {
	b := bufs.Get().(*[]byte)
	*b = r.AppendJSON((*b)[:0])
	err := l.send(ctx, item{data: b, time: r.Time})
	if err != nil {
		putBuf(b) // not queued: nobody else holds it
	}
	return err
}

func (l *Log) send(ctx context.Context, it item) error {
	l.start()
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	// Try the queue alone first: it is seldom full, and ctx.Done() makes
	// a request context allocate its done channel, once per command.
	select {
	case l.queue <- it:
	default:
		select {
		case l.queue <- it:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if it.flush != nil || len(l.queue) >= kickAt {
		l.kick()
	}
	return nil
}

// kick wakes a lingering writer; a wake already pending is enough.
func (l *Log) kick() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Flush waits until every record queued before it is written, and returns
// the last write error, if any.
func (l *Log) Flush(ctx context.Context) error {
	done := make(chan error, 1)
	if err := l.send(ctx, item{flush: done}); err != nil {
		if errors.Is(err, ErrClosed) {
			return nil // Close already wrote everything
		}
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops the writer.
func (l *Log) Close() error {
	l.start()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.queue)
	l.mu.Unlock()
	l.kick()
	<-l.stopped
	l.errMu.Lock()
	defer l.errMu.Unlock()
	return l.lastErr
}

// writer commits what is queued, a group at a time. After a group's first
// record it lingers without reading the queue, then takes everything queued
// meanwhile: a record does not wake it (the queue is buffered), so under
// load the cost of waking a goroutine is paid once per group, not once per
// command. A flush, a filling queue or Close cut the lingering short.
func (l *Log) writer() {
	defer close(l.stopped)
	timer := time.NewTimer(linger)
	timer.Stop()
	// The group and the value's buffer outlive a group: under load groups
	// are large, and making them afresh for each was most of the audit's
	// allocation.
	var group []item
	var buf []byte
	for first := range l.queue {
		if first.flush == nil {
			timer.Reset(linger)
			select {
			case <-timer.C:
			case <-l.wake:
				timer.Stop()
			}
		}
		group = append(group[:0], first)
	take:
		for len(group) < maxGroup {
			select {
			case it, ok := <-l.queue:
				if !ok {
					break take
				}
				group = append(group, it)
			default:
				break take
			}
		}
		err := l.write(group, &buf)
		l.errMu.Lock()
		l.lastErr = err
		l.errMu.Unlock()
		for _, it := range group {
			if it.flush != nil {
				it.flush <- err
			}
		}
		clear(group) // hold no flush channel until the next group
	}
}

// write stores a group as values of JSON lines, each keyed by its earliest
// record's time: a few records per tree insertion instead of one, like a
// log segment. Export splits the lines again. A value is cut at maxValue
// bytes, at a record's end (a longer record is a value of its own).
//
// The values are built in *buf, which write keeps for the next group: Put
// copies what it is given (the store contract), so one buffer serves every
// value. The records' buffers go back to bufs once the group is stored.
func (l *Log) write(group []item, buf *[]byte) error {
	records := false
	for _, it := range group {
		records = records || it.data != nil
	}
	if !records {
		return nil
	}
	err := l.Store.Update(context.Background(), func(tx store.Tx) error {
		// Built again from the group on each run: the store may run this
		// more than once.
		b := (*buf)[:0]
		var first time.Time
		put := func() error {
			seq, err := tx.NextSequence(Bucket)
			if err != nil {
				return err
			}
			err = tx.Put(Bucket, fmt.Sprintf("%s-%012d", first.UTC().Format(keyTime), seq), b)
			b, first = b[:0], time.Time{}
			return err
		}
		for _, it := range group {
			if it.data == nil {
				continue
			}
			data := *it.data
			if len(b) > 0 && len(b)+len(data)+1 > maxValue {
				if err := put(); err != nil {
					return err
				}
			}
			if first.IsZero() || it.time.Before(first) {
				first = it.time
			}
			b = append(b, data...)
			b = append(b, '\n')
		}
		err := put()
		if cap(b) <= 2*maxValue { // keep no outsized buffer a huge record made
			*buf = b
		}
		return err
	})
	for _, it := range group {
		if it.data != nil {
			putBuf(it.data)
		}
	}
	return err
}

// maxValue bounds one stored value of records: two fit in a bbolt page.
// Bigger values cost more, not less: bbolt splits no leaf of four keys or
// fewer, so with values of a whole group (up to 256 KiB before) the last
// leaf held the previous 3–5 groups and every commit copied them all again,
// about four times each record's bytes. Measured with BenchmarkRecord (a
// record's CPU, bytes allocated): 256 KiB 2.25 µs, 1.46 KB; 3,900 bytes
// 1.6 µs, 0.71 KB; 1,900 bytes 1.39 µs, 0.49 KB; 900 bytes 2.25 µs (too many
// insertions). Under a light load a group is a record or two anyway.
const maxValue = 1900

// pruneSpan bounds how much later than its group's key a record can be: a
// group is keyed by its earliest record, and a record is queued when its
// command ends, at most a command's time limit after it started. Prune
// keeps a group until its key is this much older than the cutoff.
const pruneSpan = time.Hour

// pruneBatch is how many groups one prune transaction deletes.
const pruneBatch = 100

// Prune deletes the records older than before, the retention setting's
// cutoff, in whole groups: a record is deleted within pruneSpan after it
// passes the cutoff, never before. It is the only deletion the audit
// allows. It returns how many groups went.
func (l *Log) Prune(ctx context.Context, before time.Time) (int, error) {
	end := before.Add(-pruneSpan).UTC().Format(keyTime)
	total := 0
	for {
		n := 0
		err := l.Store.Update(ctx, func(tx store.Tx) error {
			var keys []string
			if err := tx.Scan(Bucket, "", end, func(k string, _ []byte) error {
				keys = append(keys, k)
				if len(keys) == pruneBatch {
					return store.ErrStop
				}
				return nil
			}); err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(Bucket, k); err != nil {
					return err
				}
			}
			n = len(keys) // assigned, not added: the store may run this again
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("audit prune: %w", err)
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

// Export writes the records at or after since as JSON lines, oldest first.
func (l *Log) Export(ctx context.Context, w io.Writer, since time.Time) (int, error) {
	if err := l.Flush(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := l.Store.View(ctx, func(tx store.Tx) error {
		// A group keyed before since may still hold later records: start
		// from the last group before it and filter record by record.
		from := ""
		if !since.IsZero() {
			_ = tx.ScanReverse(Bucket, "", since.UTC().Format(keyTime), func(k string, _ []byte) error {
				from = k
				return store.ErrStop
			})
		}
		return tx.Scan(Bucket, from, "", func(_ string, v []byte) error {
			for _, line := range bytes.Split(v, []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				if !since.IsZero() {
					var r struct {
						Time time.Time `json:"time"`
					}
					if err := json.Unmarshal(line, &r); err != nil || r.Time.Before(since) {
						continue
					}
				}
				// line belongs to the database's read-only memory map: write it, never append to it.
				if _, err := w.Write(line); err != nil {
					return err
				}
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
				n++
			}
			return nil
		})
	})
	return n, err
}
