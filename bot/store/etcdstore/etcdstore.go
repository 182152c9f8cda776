// Package etcdstore is the store backend for several replicas: the buckets
// live in an etcd cluster, under one key prefix, and every Update is one
// serialisable transaction.
//
// # Transactions
//
// A transaction reads at one etcd revision (a snapshot) and buffers its
// writes. Every committing Update also writes one key, the commit key
// (<prefix>c), and commits with an etcd Txn guarded by "the commit key has
// not changed since my snapshot". So write transactions are serialised
// exactly as bbolt's single writer serialises them, across every replica:
// the incident sequence, the once-only fire records, Slack's event-id
// dedupe and the outbox claims are all read-modify-writes that cannot
// interleave. When the guard fails (another replica committed first) fn
// runs again on a fresh snapshot: fn MAY RUN MORE THAN ONCE, so it must
// only assign what it captures, not accumulate. A View reads at a snapshot
// and never conflicts.
//
// Fairness: a slow transaction that loses three times in a row (any after
// twenty) takes the turn
// (the commit key holds "turn <id> <deadline>"): other writers wait until
// it commits or gives up, or for at most 10 s should it die. Without it a
// directory import (a second of reads and staging) never committed while
// small writes kept coming (measured: 307 tries in 20 s; with it, 4).
//
// Reads: the commit key is read linearizably (a fresh snapshot); reads at
// the snapshot revision are serializable (any member that has applied it
// answers the same). From the 32nd point read in one bucket a transaction
// reads the bucket whole, once, and answers from that copy.
//
// # Keys
//
//	<prefix>c                       the commit key ("", "apply …", "turn …")
//	<prefix>d/<bucket>/<key>        data; the bucket name escaped (%XX for
//	                                '/', '%' and non-printable bytes) so that
//	                                no bucket's range holds another's keys;
//	                                the key raw, so etcd's byte order is the
//	                                bucket's order
//	<prefix>s/<bucket>              NextSequence's counter, decimal
//	<prefix>x/<txid>/<n>            a large transaction's staged writes
//
// # Large transactions
//
// etcd takes at most 128 operations (--max-txn-ops) and 1.5 MiB
// (--max-request-bytes) per request by default; seeding the directory
// writes more. A transaction over either limit commits in three steps: its
// writes are staged in chunks under <prefix>x/<txid>/, then the guarded Txn
// sets the commit key to "apply <txid> <chunks>" (the commit point), then
// the chunks are applied, each in a Txn guarded by that marker, and the
// marker is cleared. Every transaction that begins while a marker is set
// applies the chunks itself first (they are final values per key, so
// applying them twice or from two replicas at once gives the same result),
// so nobody reads a half-applied transaction and a replica that dies
// mid-way leaves nothing half done. A single value over the request limit
// is an error.
package etcdstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"liaisonbot/bot/store"
)

// Defaults of the etcd server this store must fit into.
const (
	DefaultMaxTxnOps       = 128
	DefaultMaxRequestBytes = 3 << 19 // 1.5 MiB
	DefaultPrefix          = "/liaisonbot/"
	pageSize               = 512
)

// Config says how to reach the cluster.
type Config struct {
	Endpoints          []string
	CA, Cert, Key      string // PEM files; all empty means no TLS
	Username, Password string
	DialTimeout        time.Duration // default 5s
	Options
}

// Options tune the store on a client.
type Options struct {
	Prefix string // default DefaultPrefix; should end in "/"
	// The server's --max-txn-ops and --max-request-bytes, if raised;
	// transactions bigger than these are committed in steps.
	MaxTxnOps       int
	MaxRequestBytes int
	// OpTimeout bounds a View or Update whose context has no deadline
	// (default 30s): the etcd client waits for a connection, so without
	// it a partitioned replica would hang forever.
	OpTimeout time.Duration
}

// DB is an etcd-backed store.Store.
type DB struct {
	cli       *clientv3.Client
	ownClient bool
	prefix    string
	commitKey string
	maxOps    int
	maxBytes  int
	opTimeout time.Duration
	conflicts atomic.Int64
	reads     atomic.Int64
}

var _ store.Store = (*DB)(nil)

// Open connects to the cluster and checks that it answers.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("etcd: no endpoints")
	}
	cc := clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: cfg.DialTimeout,
		Username:    cfg.Username,
		Password:    cfg.Password,
		// A replica must notice a dead connection within its session TTL.
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		// The client's own zap logs would be a second log format on
		// stderr; its errors reach the bot's log through the store.
		Logger: zap.NewNop(),
	}
	if cc.DialTimeout <= 0 {
		cc.DialTimeout = 5 * time.Second
	}
	if cfg.CA != "" || cfg.Cert != "" || cfg.Key != "" {
		tls, err := (transport.TLSInfo{TrustedCAFile: cfg.CA, CertFile: cfg.Cert, KeyFile: cfg.Key}).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("etcd TLS: %w", err)
		}
		cc.TLS = tls
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("etcd %s: %w", strings.Join(cfg.Endpoints, ","), err)
	}
	db := New(cli, cfg.Options)
	db.ownClient = true
	cctx, cancel := context.WithTimeout(ctx, cc.DialTimeout)
	defer cancel()
	if _, err := cli.Get(cctx, db.commitKey); err != nil {
		cli.Close()
		return nil, fmt.Errorf("etcd %s: %w", strings.Join(cfg.Endpoints, ","), err)
	}
	return db, nil
}

// New uses a client the caller owns (Close leaves it open).
func New(cli *clientv3.Client, opts Options) *DB {
	db := &DB{cli: cli, prefix: opts.Prefix, maxOps: opts.MaxTxnOps, maxBytes: opts.MaxRequestBytes, opTimeout: opts.OpTimeout}
	if db.opTimeout <= 0 {
		db.opTimeout = 30 * time.Second
	}
	if db.prefix == "" {
		db.prefix = DefaultPrefix
	}
	if db.maxOps <= 0 {
		db.maxOps = DefaultMaxTxnOps
	}
	if db.maxBytes <= 0 {
		db.maxBytes = DefaultMaxRequestBytes
	}
	db.commitKey = db.prefix + "c"
	return db
}

// Client is the etcd client, for leader election on the same connection.
func (db *DB) Client() *clientv3.Client { return db.cli }

// Prefix is the key prefix.
func (db *DB) Prefix() string { return db.prefix }

// Conflicts counts Updates that ran again because another transaction
// committed first.
func (db *DB) Conflicts() int64 { return db.conflicts.Load() }

// Watch calls fn after each committed change to bucket, until ctx ends:
// the leader's outbox wakes when another replica queues a post.
func (db *DB) Watch(ctx context.Context, bucket string, fn func()) {
	db.watch(ctx, db.bucketPrefix(bucket), fn)
}

// WatchBuckets is Watch over every bucket whose name begins with prefix.
func (db *DB) WatchBuckets(ctx context.Context, prefix string, fn func()) {
	db.watch(ctx, db.prefix+"d/"+escapeBucket(prefix), fn)
}

func (db *DB) watch(ctx context.Context, key string, fn func()) {
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		// WithCreatedNotify: the first answer says the watch is set up, and
		// fn runs for it too, so a change made between the caller's last
		// read and the watch starting (a replica starting while another
		// imports) is not missed.
		for resp := range db.cli.Watch(wctx, key, clientv3.WithPrefix(), clientv3.WithCreatedNotify()) {
			if resp.Err() != nil {
				break
			}
			fn()
		}
		cancel() // ends this watcher before the next one starts
		if ctx.Err() != nil {
			return
		}
		fn() // something may have changed while the watch was down
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// Reads counts the read requests transactions made (not the commit-key
// read that begins each).
func (db *DB) Reads() int64 { return db.reads.Load() }

// Close closes the client if Open made it.
func (db *DB) Close() error {
	if db.ownClient {
		return db.cli.Close()
	}
	return nil
}

// escapeBucket makes a bucket name that holds no '/'.
func escapeBucket(b string) string {
	var sb strings.Builder
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '/' || c == '%' || c < 0x21 || c > 0x7e {
			fmt.Fprintf(&sb, "%%%02X", c)
		} else {
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

func unescapeBucket(s string) (string, error) {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			sb.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("bad bucket name %q", s)
		}
		b, err := hex.DecodeString(s[i+1 : i+3])
		if err != nil {
			return "", fmt.Errorf("bad bucket name %q", s)
		}
		sb.WriteByte(b[0])
		i += 2
	}
	return sb.String(), nil
}

func (db *DB) bucketPrefix(bucket string) string {
	return db.prefix + "d/" + escapeBucket(bucket) + "/"
}
func (db *DB) seqKey(bucket string) string { return db.prefix + "s/" + escapeBucket(bucket) }
func (db *DB) stagePrefix(txid string) string {
	return db.prefix + "x/" + txid + "/"
}

// begin returns a snapshot revision with no large transaction half
// applied, and the commit key's revision to guard a commit with. A writer
// (wait) also waits while another transaction holds the turn (own is the
// turn this one holds, if any).
func (db *DB) begin(ctx context.Context, wait bool, own string) (rev, commitRev int64, err error) {
	pause := time.Millisecond
	for {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		resp, err := db.cli.Get(ctx, db.commitKey)
		if err != nil {
			return 0, 0, fmt.Errorf("etcd: %w", err)
		}
		if len(resp.Kvs) == 0 {
			return resp.Header.Revision, 0, nil
		}
		v := string(resp.Kvs[0].Value)
		if strings.HasPrefix(v, "apply ") {
			if err := db.rollForward(ctx, v); err != nil {
				return 0, 0, err
			}
			continue
		}
		if wait && v != own {
			if until, ok := turnUntil(v); ok && time.Now().Before(until) {
				t := time.NewTimer(min(pause, time.Until(until)))
				select {
				case <-ctx.Done():
					t.Stop()
					return 0, 0, ctx.Err()
				case <-t.C:
				}
				pause = min(2*pause, 20*time.Millisecond)
				continue
			}
		}
		return resp.Header.Revision, resp.Kvs[0].ModRevision, nil
	}
}

// The turn: a transaction that has lost turnAfter times in a row to other
// commits (a large one, whose reads and staging take long, under a stream
// of small writes) sets the commit key to "turn <id> <deadline>"; other
// writers wait until it commits, gives up, or the deadline passes (a
// holder that died). Readers do not wait. The turn is only about
// fairness: every commit is still guarded as usual, so a holder that
// overruns its deadline simply conflicts and takes the turn again.
const (
	turnAfter = 3
	turnTTL   = 10 * time.Second
	// Only a slow attempt (long reads, staging) takes the turn after
	// turnAfter losses: short ones recover by backing off, and taking
	// turns among them cost a third more per commit under contention.
	// Any transaction takes it after turnAlways losses.
	slowAttempt = 10 * time.Millisecond
	turnAlways  = 20
)

func turnUntil(v string) (time.Time, bool) {
	f := strings.Fields(v)
	if len(f) != 3 || f[0] != "turn" {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// takeTurn sets the commit key to a new turn marker, once no one else
// holds one.
func (db *DB) takeTurn(ctx context.Context) (string, error) {
	id := make([]byte, 8)
	rand.Read(id)
	for {
		_, commitRev, err := db.begin(ctx, true, "")
		if err != nil {
			return "", err
		}
		marker := fmt.Sprintf("turn %x %d", id, time.Now().Add(turnTTL).UnixNano())
		resp, err := db.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(db.commitKey), "=", commitRev)).
			Then(clientv3.OpPut(db.commitKey, marker)).Commit()
		if err != nil {
			return "", fmt.Errorf("etcd: %w", err)
		}
		if resp.Succeeded {
			return marker, nil
		}
	}
}

// releaseTurn clears the turn if this transaction still holds it (it
// ends without committing).
func (db *DB) releaseTurn(marker string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = db.cli.Txn(ctx).If(clientv3.Compare(clientv3.Value(db.commitKey), "=", marker)).
		Then(clientv3.OpPut(db.commitKey, "")).Commit()
}

// View runs fn at one snapshot.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := db.bound(ctx)
	defer cancel()
	for {
		rev, _, err := db.begin(ctx, false, "")
		if err != nil {
			return err
		}
		err = fn(&tx{db: db, ctx: ctx, rev: rev})
		if !errors.Is(err, rpctypes.ErrCompacted) {
			return err
		}
		// The snapshot was compacted away meanwhile: read a fresh one.
	}
}

// Update runs fn, and again on a fresh snapshot while another transaction
// commits first; see the package documentation.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := db.bound(ctx)
	defer cancel()
	turn := "" // the turn this transaction holds, if any
	defer func() {
		if turn != "" {
			db.releaseTurn(turn)
		}
	}()
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		started := time.Now()
		rev, commitRev, err := db.begin(ctx, true, turn)
		if err != nil {
			return err
		}
		t := &tx{db: db, ctx: ctx, rev: rev, writes: map[string]write{}}
		if err := fn(t); err != nil {
			if errors.Is(err, rpctypes.ErrCompacted) {
				// etcd compacted away the snapshot under a slow
				// transaction: run it again on a fresh one.
				db.conflicts.Add(1)
				continue
			}
			return err
		}
		if len(t.writes) == 0 {
			return nil
		}
		ok, err := db.commit(ctx, t, commitRev)
		if ok {
			turn = "" // the commit replaced the marker
		}
		if err != nil || ok {
			return err
		}
		db.conflicts.Add(1)
		turn = "" // held or not, it is gone: a commit overtook it
		if attempt+1 >= turnAlways || (attempt+1 >= turnAfter && time.Since(started) >= slowAttempt) {
			if turn, err = db.takeTurn(ctx); err != nil {
				return err
			}
			continue
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

func (db *DB) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, db.opTimeout)
}

// backoff waits a little, more after repeated conflicts, with jitter so
// that replicas do not collide in step.
func backoff(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	ceiling := int64(time.Millisecond) << min(attempt, 6) // up to 64ms
	n, _ := rand.Int(rand.Reader, big.NewInt(ceiling))
	t := time.NewTimer(time.Duration(n.Int64()))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type write struct {
	value []byte
	del   bool
}

// ops turns the buffered writes into final values per key, in key order.
func (t *tx) ops() []op {
	keys := make([]string, 0, len(t.writes))
	for k := range t.writes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ops := make([]op, len(keys))
	for i, k := range keys {
		w := t.writes[k]
		ops[i] = op{key: k, value: w.value, del: w.del}
	}
	return ops
}

type op struct {
	key   string
	value []byte
	del   bool
}

func (o op) size() int { return len(o.key) + len(o.value) + 16 }

func (o op) clientOp() clientv3.Op {
	if o.del {
		return clientv3.OpDelete(o.key)
	}
	return clientv3.OpPut(o.key, string(o.value))
}

// requestBudget is what a request may carry beyond its own framing.
func (db *DB) requestBudget() int { return db.maxBytes - 64<<10 }

func (db *DB) commit(ctx context.Context, t *tx, commitRev int64) (bool, error) {
	ops := t.ops()
	size := 0
	for _, o := range ops {
		if o.size() > db.requestBudget()/2 {
			return false, fmt.Errorf("etcd: %s is %d bytes, over what one etcd request takes (%d; the server's --max-request-bytes)", o.key, len(o.value), db.maxBytes)
		}
		size += o.size()
	}
	guard := clientv3.Compare(clientv3.ModRevision(db.commitKey), "=", commitRev)
	if len(ops)+1 <= db.maxOps && size <= db.requestBudget() {
		then := make([]clientv3.Op, 0, len(ops)+1)
		for _, o := range ops {
			then = append(then, o.clientOp())
		}
		then = append(then, clientv3.OpPut(db.commitKey, ""))
		resp, err := db.cli.Txn(ctx).If(guard).Then(then...).Commit()
		if err != nil {
			return false, fmt.Errorf("etcd commit: %w", err)
		}
		return resp.Succeeded, nil
	}
	return db.commitLarge(ctx, ops, guard)
}

// commitLarge stages the writes, commits by setting the marker, and
// applies them; see the package documentation.
func (db *DB) commitLarge(ctx context.Context, ops []op, guard clientv3.Cmp) (bool, error) {
	id := make([]byte, 12)
	rand.Read(id)
	txid := hex.EncodeToString(id)
	chunks := db.chunk(ops)
	for i, c := range chunks {
		if _, err := db.cli.Put(ctx, fmt.Sprintf("%s%06d", db.stagePrefix(txid), i), string(encodeOps(c))); err != nil {
			db.dropStaged(txid)
			return false, fmt.Errorf("etcd stage: %w", err)
		}
	}
	marker := fmt.Sprintf("apply %s %d", txid, len(chunks))
	resp, err := db.cli.Txn(ctx).If(guard).Then(clientv3.OpPut(db.commitKey, marker)).Commit()
	if err != nil {
		// Maybe committed: leave the staged writes for whoever sees the marker.
		return false, fmt.Errorf("etcd commit: %w", err)
	}
	if !resp.Succeeded {
		db.dropStaged(txid)
		return false, nil
	}
	// Committed. Should applying fail here, whoever begins next applies.
	_ = db.rollForward(ctx, marker)
	return true, nil
}

func (db *DB) dropStaged(txid string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db.cli.Delete(ctx, db.stagePrefix(txid), clientv3.WithPrefix())
}

// chunk splits ops into groups one Txn takes (one operation is left for
// the guard's companion and margin kept for framing).
func (db *DB) chunk(ops []op) [][]op {
	var chunks [][]op
	budget := db.requestBudget() / 2 // the staged copy is encoded once more
	var cur []op
	size := 0
	for _, o := range ops {
		if len(cur) > 0 && (len(cur)+1 >= db.maxOps || size+o.size() > budget) {
			chunks = append(chunks, cur)
			cur, size = nil, 0
		}
		cur = append(cur, o)
		size += o.size()
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	return chunks
}

// rollForward applies the staged writes of the large transaction the
// marker names; harmless to run twice or concurrently.
func (db *DB) rollForward(ctx context.Context, marker string) error {
	f := strings.Fields(marker)
	if len(f) != 3 {
		return fmt.Errorf("etcd: bad commit marker %q", marker)
	}
	txid := f[1]
	n, err := strconv.Atoi(f[2])
	if err != nil {
		return fmt.Errorf("etcd: bad commit marker %q", marker)
	}
	still := clientv3.Compare(clientv3.Value(db.commitKey), "=", marker)
	for i := range n {
		resp, err := db.cli.Get(ctx, fmt.Sprintf("%s%06d", db.stagePrefix(txid), i))
		if err != nil {
			return fmt.Errorf("etcd apply: %w", err)
		}
		if len(resp.Kvs) == 0 {
			return nil // applied and cleared by someone else
		}
		ops, err := decodeOps(resp.Kvs[0].Value)
		if err != nil {
			return fmt.Errorf("etcd apply %s: %w", txid, err)
		}
		then := make([]clientv3.Op, len(ops))
		for j, o := range ops {
			then[j] = o.clientOp()
		}
		tr, err := db.cli.Txn(ctx).If(still).Then(then...).Commit()
		if err != nil {
			return fmt.Errorf("etcd apply: %w", err)
		}
		if !tr.Succeeded {
			return nil
		}
	}
	_, err = db.cli.Txn(ctx).If(still).Then(
		clientv3.OpPut(db.commitKey, ""),
		clientv3.OpDelete(db.stagePrefix(txid), clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return fmt.Errorf("etcd apply: %w", err)
	}
	return nil
}

func encodeOps(ops []op) []byte {
	var b []byte
	for _, o := range ops {
		if o.del {
			b = append(b, 'd')
		} else {
			b = append(b, 'p')
		}
		b = binary.AppendUvarint(b, uint64(len(o.key)))
		b = append(b, o.key...)
		b = binary.AppendUvarint(b, uint64(len(o.value)))
		b = append(b, o.value...)
	}
	return b
}

func decodeOps(b []byte) ([]op, error) {
	var ops []op
	field := func() ([]byte, error) {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return nil, errors.New("truncated staged writes")
		}
		v := b[w : w+int(n)]
		b = b[w+int(n):]
		return v, nil
	}
	for len(b) > 0 {
		kind := b[0]
		b = b[1:]
		k, err := field()
		if err != nil {
			return nil, err
		}
		v, err := field()
		if err != nil {
			return nil, err
		}
		ops = append(ops, op{key: string(k), value: v, del: kind == 'd'})
	}
	return ops, nil
}

// Backup writes a bbolt database file with every bucket, key and sequence
// at one snapshot: the same format boltstore's Backup writes, so a backup
// restores into either backend.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	f, err := os.CreateTemp("", "liaisonbot-etcd-backup-*.db")
	if err != nil {
		return 0, err
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return 0, err
	}
	err = db.View(ctx, func(stx store.Tx) error {
		t := stx.(*tx)
		return bdb.Update(func(btx *bolt.Tx) error {
			if err := t.each(db.prefix+"d/", func(bucket, key string, value []byte) error {
				b, err := btx.CreateBucketIfNotExists([]byte(bucket))
				if err != nil {
					return err
				}
				return b.Put([]byte(key), bytes.Clone(value))
			}); err != nil {
				return err
			}
			seqs, err := t.Sequences()
			if err != nil {
				return err
			}
			for bucket, n := range seqs {
				b, err := btx.CreateBucketIfNotExists([]byte(bucket))
				if err != nil {
					return err
				}
				if err := b.SetSequence(n); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	f, err = os.Open(filepath.Clean(path))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}

// tx is one transaction: reads at rev, writes buffered (nil writes for View).
type tx struct {
	db     *DB
	ctx    context.Context
	rev    int64
	writes map[string]write
	// Point reads per bucket, and buckets read whole once a transaction
	// has made many point reads in them (see Get).
	gets   map[string]int
	loaded map[string]map[string][]byte
}

// prefetchAfter is how many point reads in one bucket make a transaction
// read the whole bucket instead (one paged range): a directory import
// looks up every row it imports, and 50,000 round trips took 12 s where
// bbolt takes 1. A revision's content never changes, so the copy is exact.
const (
	prefetchAfter = 32
	prefetchMax   = 1 << 20 // keys; bigger buckets keep point reads
)

var errReadOnly = errors.New("read-only transaction")

// read is a Get at the snapshot's revision. It is served by whichever
// member the client talks to without a round through the raft leader
// (serializable): what a revision holds never changes, so any member
// that has applied it answers the same. A member behind the revision
// says so, and the read goes linearizable.
func (t *tx) read(key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	t.db.reads.Add(1)
	resp, err := t.db.cli.Get(t.ctx, key, append(opts, clientv3.WithSerializable())...)
	if errors.Is(err, rpctypes.ErrFutureRev) {
		return t.db.cli.Get(t.ctx, key, opts...)
	}
	return resp, err
}

func (t *tx) get(key string) ([]byte, bool, error) {
	if w, ok := t.writes[key]; ok {
		if w.del {
			return nil, false, nil
		}
		return bytes.Clone(w.value), true, nil
	}
	resp, err := t.read(key, clientv3.WithRev(t.rev))
	if err != nil {
		return nil, false, fmt.Errorf("etcd: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return nil, false, nil
	}
	return resp.Kvs[0].Value, true, nil
}

func (t *tx) Get(bucket, key string) ([]byte, error) {
	full := t.db.bucketPrefix(bucket) + key
	if _, mine := t.writes[full]; !mine {
		if m, err := t.prefetched(bucket); err != nil {
			return nil, err
		} else if m != nil {
			v, ok := m[key]
			if !ok {
				return nil, store.ErrNotFound
			}
			return append([]byte{}, v...), nil
		}
	}
	v, ok, err := t.get(full)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, store.ErrNotFound
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// prefetched returns the bucket read whole at the snapshot, reading it on
// the prefetchAfter-th point read; nil while point reads are the better
// deal.
func (t *tx) prefetched(bucket string) (map[string][]byte, error) {
	if m, ok := t.loaded[bucket]; ok {
		return m, nil
	}
	if t.gets == nil {
		t.gets = map[string]int{}
	}
	t.gets[bucket]++
	if t.gets[bucket] != prefetchAfter {
		return nil, nil
	}
	if t.loaded == nil {
		t.loaded = map[string]map[string][]byte{}
	}
	bp := t.db.bucketPrefix(bucket)
	resp, err := t.read(bp, clientv3.WithPrefix(), clientv3.WithRev(t.rev), clientv3.WithCountOnly())
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	if resp.Count > prefetchMax {
		t.loaded[bucket] = nil // stays with point reads
		return nil, nil
	}
	m := make(map[string][]byte, resp.Count)
	lo, hi := bp, store.PrefixEnd(bp)
	for {
		resp, err := t.read(lo, clientv3.WithRange(hi), clientv3.WithRev(t.rev), clientv3.WithLimit(4*pageSize),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
		if err != nil {
			return nil, fmt.Errorf("etcd: %w", err)
		}
		for _, kv := range resp.Kvs {
			m[string(kv.Key[len(bp):])] = kv.Value
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		lo = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	t.loaded[bucket] = m
	return m, nil
}

func (t *tx) Put(bucket, key string, value []byte) error {
	if t.writes == nil {
		return fmt.Errorf("put %s/%s: %w", bucket, key, errReadOnly)
	}
	t.writes[t.db.bucketPrefix(bucket)+key] = write{value: bytes.Clone(value)}
	return nil
}

func (t *tx) Delete(bucket, key string) error {
	if t.writes == nil {
		return fmt.Errorf("delete %s/%s: %w", bucket, key, errReadOnly)
	}
	t.writes[t.db.bucketPrefix(bucket)+key] = write{del: true}
	return nil
}

func (t *tx) Scan(bucket, from, to string, fn func(string, []byte) error) error {
	return t.scan(bucket, from, to, false, false, fn)
}

func (t *tx) ScanReverse(bucket, from, to string, fn func(string, []byte) error) error {
	return t.scan(bucket, from, to, true, false, fn)
}

// scan merges etcd's keys at the snapshot with the transaction's own
// writes, page by page, in key order (or reverse).
func (t *tx) scan(bucket, from, to string, reverse, keysOnly bool, fn func(string, []byte) error) error {
	bp := t.db.bucketPrefix(bucket)
	lo, hi := bp+from, bp+to
	if to == "" {
		hi = store.PrefixEnd(bp)
	}
	if lo >= hi {
		return nil
	}
	var mine []string
	for k := range t.writes {
		if k >= lo && k < hi {
			mine = append(mine, k)
		}
	}
	slices.Sort(mine)
	if reverse {
		slices.Reverse(mine)
	}
	before := func(a, b string) bool {
		if reverse {
			return a > b
		}
		return a < b
	}
	call := func(k string, v []byte) error {
		if err := fn(k[len(bp):], v); err != nil {
			return err
		}
		return nil
	}
	mi := 0
	// flush passes the transaction's own keys before k ("" = all left).
	flush := func(k string) error {
		for ; mi < len(mine) && (k == "" || before(mine[mi], k)); mi++ {
			if w := t.writes[mine[mi]]; !w.del {
				if err := call(mine[mi], w.value); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := func() error {
		for {
			opts := []clientv3.OpOption{clientv3.WithRange(hi), clientv3.WithRev(t.rev), clientv3.WithLimit(pageSize)}
			if reverse {
				opts = append(opts, clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
			} else {
				opts = append(opts, clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
			}
			if keysOnly {
				opts = append(opts, clientv3.WithKeysOnly())
			}
			resp, err := t.read(lo, opts...)
			if err != nil {
				return fmt.Errorf("etcd: %w", err)
			}
			for _, kv := range resp.Kvs {
				k := string(kv.Key)
				if err := flush(k); err != nil {
					return err
				}
				if mi < len(mine) && mine[mi] == k {
					continue // the transaction's own write wins; flushed next
				}
				if err := call(k, kv.Value); err != nil {
					return err
				}
			}
			if !resp.More || len(resp.Kvs) == 0 {
				return flush("")
			}
			last := string(resp.Kvs[len(resp.Kvs)-1].Key)
			if reverse {
				hi = last
			} else {
				lo = last + "\x00"
			}
		}
	}()
	if errors.Is(err, store.ErrStop) {
		return nil
	}
	return err
}

func (t *tx) NextSequence(bucket string) (uint64, error) {
	if t.writes == nil {
		return 0, fmt.Errorf("sequence %s: %w", bucket, errReadOnly)
	}
	key := t.db.seqKey(bucket)
	n, err := t.sequence(key)
	if err != nil {
		return 0, err
	}
	n++
	t.writes[key] = write{value: []byte(strconv.FormatUint(n, 10))}
	return n, nil
}

func (t *tx) sequence(key string) (uint64, error) {
	v, ok, err := t.get(key)
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("etcd: sequence %s: %w", key, err)
	}
	return n, nil
}

// DeleteBucket deletes every key one by one (and the sequence, as bbolt
// does): a range delete could not be combined with later puts into the
// same bucket in one etcd Txn.
func (t *tx) DeleteBucket(bucket string) error {
	if t.writes == nil {
		return fmt.Errorf("delete bucket %s: %w", bucket, errReadOnly)
	}
	var keys []string
	bp := t.db.bucketPrefix(bucket)
	if err := t.scan(bucket, "", "", false, true, func(k string, _ []byte) error {
		keys = append(keys, bp+k)
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		t.writes[k] = write{del: true}
	}
	t.writes[t.db.seqKey(bucket)] = write{del: true}
	return nil
}

func (t *tx) Count(bucket string) (int, error) {
	bp := t.db.bucketPrefix(bucket)
	mine := false
	for k := range t.writes {
		if strings.HasPrefix(k, bp) {
			mine = true
			break
		}
	}
	if !mine {
		resp, err := t.read(bp, clientv3.WithPrefix(), clientv3.WithRev(t.rev), clientv3.WithCountOnly())
		if err != nil {
			return 0, fmt.Errorf("etcd: %w", err)
		}
		return int(resp.Count), nil
	}
	n := 0
	err := t.scan(bucket, "", "", false, true, func(string, []byte) error { n++; return nil })
	return n, err
}

// each calls fn for every key under the data prefix, with its bucket.
func (t *tx) each(prefix string, fn func(bucket, key string, value []byte) error) error {
	lo, hi := prefix, store.PrefixEnd(prefix)
	for {
		resp, err := t.read(lo, clientv3.WithRange(hi), clientv3.WithRev(t.rev), clientv3.WithLimit(pageSize),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
		if err != nil {
			return fmt.Errorf("etcd: %w", err)
		}
		for _, kv := range resp.Kvs {
			rest := string(kv.Key[len(prefix):])
			i := strings.IndexByte(rest, '/')
			if i < 0 {
				return fmt.Errorf("etcd: stray key %q", kv.Key)
			}
			bucket, err := unescapeBucket(rest[:i])
			if err != nil {
				return err
			}
			if err := fn(bucket, rest[i+1:], kv.Value); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		lo = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Buckets lists every bucket holding keys or a sequence, at one snapshot.
func (db *DB) Buckets(ctx context.Context) (map[string]uint64, error) {
	var out map[string]uint64
	err := db.View(ctx, func(stx store.Tx) error {
		t := stx.(*tx)
		seqs, err := t.Sequences()
		if err != nil {
			return err
		}
		out = seqs
		// Keys only, one page at a time, jumping over each bucket seen.
		dp := db.prefix + "d/"
		lo, hi := dp, store.PrefixEnd(dp)
		for lo < hi {
			resp, err := t.read(lo, clientv3.WithRange(hi), clientv3.WithRev(t.rev), clientv3.WithLimit(1), clientv3.WithKeysOnly())
			if err != nil {
				return fmt.Errorf("etcd: %w", err)
			}
			if len(resp.Kvs) == 0 {
				return nil
			}
			rest := string(resp.Kvs[0].Key[len(dp):])
			i := strings.IndexByte(rest, '/')
			if i < 0 {
				return fmt.Errorf("etcd: stray key %q", resp.Kvs[0].Key)
			}
			bucket, err := unescapeBucket(rest[:i])
			if err != nil {
				return err
			}
			if _, ok := out[bucket]; !ok {
				out[bucket] = 0
			}
			lo = store.PrefixEnd(dp + rest[:i+1])
		}
		return nil
	})
	return out, err
}

// SetSequence sets a bucket's sequence (store migrate).
func (t *tx) SetSequence(bucket string, n uint64) error {
	if t.writes == nil {
		return fmt.Errorf("sequence %s: %w", bucket, errReadOnly)
	}
	t.writes[t.db.seqKey(bucket)] = write{value: []byte(strconv.FormatUint(n, 10))}
	return nil
}

// Sequences returns every bucket's sequence at the snapshot.
func (t *tx) Sequences() (map[string]uint64, error) {
	out := map[string]uint64{}
	sp := t.db.prefix + "s/"
	resp, err := t.read(sp, clientv3.WithPrefix(), clientv3.WithRev(t.rev))
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	for _, kv := range resp.Kvs {
		bucket, err := unescapeBucket(string(kv.Key[len(sp):]))
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseUint(string(kv.Value), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("etcd: sequence %s: %w", bucket, err)
		}
		out[bucket] = n
	}
	return out, nil
}
