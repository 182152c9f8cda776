package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"liaisonbot/bot/store"
)

// The control socket lets `liaisonbot backup` take a consistent copy from
// the process that holds the database (bbolt locks the file with flock, so
// no other process can open it). It is a Unix socket beside the database,
// mode 0600 in a directory only the bot writes: no network exposure, and
// only the same OS user (or root) can connect.
//
// The protocol, one request per connection:
//
//	client: "backup 1\n"
//	server: "ok pid=<pid>\n" or "error <message>\n"
//	server, after ok: chunks, each a big-endian uint32 length n > 0 and n
//	bytes of the snapshot; then a zero length and a trailer line,
//	"ok <bytes>\n" or "error <message>\n".
//
// The trailer means a snapshot cut short (the bot stopping, a disk error)
// is an error, never a short file taken for a whole one.

const (
	controlRequest = "backup 1"
	// controlIdle bounds how long either side waits on the other without
	// progress: a stalled client must not hold a read transaction (which
	// stops bbolt reusing pages) for ever.
	controlIdle = 30 * time.Second
	// maxChunk bounds one chunk the client accepts.
	maxChunk = 1 << 20
)

// controlPath is the control socket of the database at db.
func controlPath(db string) string { return db + ".sock" }

// controlServer answers backup requests for a running process.
type controlServer struct {
	path   string
	ln     *net.UnixListener
	store  store.Store
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// serveControl starts the control socket of a process that holds the
// database, and returns the function that stops it (before the store
// closes). Failing to start it costs only online backups: the bot runs on,
// with a warning.
func (a *app) serveControl() (stop func()) {
	path := controlPath(a.cfg.DB)
	ln, err := listenControl(path)
	if err != nil {
		a.log.Warn("online backup unavailable: cannot open the control socket; `liaisonbot backup` needs the bot stopped", "socket", path, "err", err)
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &controlServer{path: path, ln: ln, store: a.store, log: a.log, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	a.log.Info("control socket for online backup", "socket", path)
	return s.stop
}

// listenControl binds the socket in a private directory, makes it 0600,
// then renames it into place: there is no moment at which another user
// could connect. A socket already at path that nobody answers on is a
// crashed process's, and is replaced; anything else there is left alone.
func listenControl(path string) (*net.UnixListener, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() != fs.ModeSocket {
		return nil, fmt.Errorf("%s exists and is not a socket", path)
	}
	// With bbolt the database lock keeps a second process out; an etcd
	// store has no such lock, so a live socket is another process's.
	if answering(path) {
		return nil, fmt.Errorf("another liaisonbot answers on %s", path)
	}
	dir, err := os.MkdirTemp(filepath.Dir(path), ".lbctl")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

func (s *controlServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return // closed by stop
			}
			// A passing failure (out of descriptors, a client gone): the
			// socket must outlive it, or backups stop for good.
			s.log.Warn("control socket: accept failed", "err", err)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(100 * time.Millisecond) // not to spin while descriptors are short
			continue
		}
		s.mu.Lock()
		if s.ctx.Err() != nil { // stop has already closed the others
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.handle(c)
		}()
	}
}

// stop closes the socket, removes it, and cuts short backups in progress
// (their clients see an error, not a short file).
func (s *controlServer) stop() {
	s.cancel()
	s.ln.Close()
	if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("control socket not removed", "socket", s.path, "err", err)
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *controlServer) handle(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(controlIdle))
	line, err := bufio.NewReaderSize(io.LimitReader(c, 256), 256).ReadString('\n')
	if err != nil {
		return
	}
	if strings.TrimSpace(line) != controlRequest {
		fmt.Fprintf(c, "error unknown request %q (want %q)\n", strings.TrimSpace(line), controlRequest)
		return
	}
	dw := &deadlineWriter{c: c}
	if _, err := fmt.Fprintf(dw, "ok pid=%d\n", os.Getpid()); err != nil {
		return
	}
	start := time.Now()
	bw := bufio.NewWriterSize(&chunkWriter{w: dw}, 64<<10)
	n, err := s.store.Backup(s.ctx, bw)
	if err == nil {
		err = bw.Flush()
	}
	var trailer string
	if err != nil {
		trailer = "error " + oneLine(err.Error())
	} else {
		trailer = "ok " + strconv.FormatInt(n, 10)
	}
	var zero [4]byte
	if _, werr := dw.Write(zero[:]); werr == nil {
		_, werr = io.WriteString(dw, trailer+"\n")
		if err == nil {
			err = werr
		}
	}
	if err != nil {
		s.log.Warn("online backup failed", "err", err)
		return
	}
	s.log.Info("online backup sent", "bytes", n, "ms", time.Since(start).Milliseconds())
}

// deadlineWriter extends the write deadline at every write: a slow disk
// on the client's side is fine, a client that stopped reading is not.
type deadlineWriter struct{ c net.Conn }

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.c.SetWriteDeadline(time.Now().Add(controlIdle))
	return d.c.Write(p)
}

// chunkWriter frames each write as a length and the bytes.
type chunkWriter struct{ w io.Writer }

func (c *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), maxChunk)
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(n))
		if _, err := c.w.Write(hdr[:]); err != nil {
			return written, err
		}
		if _, err := c.w.Write(p[:n]); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

// errNoControl means no process answers on the control socket: none runs
// on the database (or one without online backup does).
var errNoControl = errors.New("no running liaisonbot answers on the control socket")

// fetchBackup asks the process holding the database for a snapshot and
// writes it to w. It returns errNoControl when nothing listens there, and
// the pid of the process that answered.
func fetchBackup(path string, w io.Writer) (n int64, pid string, err error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return 0, "", errNoControl
		}
		return 0, "", fmt.Errorf("control socket %s: %w", path, err)
	}
	defer c.Close()
	_ = c.SetWriteDeadline(time.Now().Add(controlIdle))
	if _, err := io.WriteString(c, controlRequest+"\n"); err != nil {
		return 0, "", fmt.Errorf("control socket %s: %w", path, err)
	}
	r := bufio.NewReaderSize(&deadlineReader{c: c}, 64<<10)
	status, err := readLine(r)
	if err != nil {
		return 0, "", fmt.Errorf("control socket %s: %w", path, err)
	}
	if msg, ok := strings.CutPrefix(status, "error "); ok {
		return 0, "", fmt.Errorf("the running liaisonbot refused the backup: %s", msg)
	}
	pid, ok := strings.CutPrefix(status, "ok pid=")
	if !ok {
		return 0, "", fmt.Errorf("control socket %s: unexpected answer %q", path, status)
	}
	cut := func(err error) error {
		return fmt.Errorf("the running liaisonbot (pid %s) stopped sending after %d bytes: %w", pid, n, err)
	}
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return n, pid, cut(err)
		}
		size := binary.BigEndian.Uint32(hdr[:])
		if size == 0 {
			break
		}
		if size > maxChunk {
			return n, pid, fmt.Errorf("control socket %s: chunk of %d bytes, over the %d limit", path, size, maxChunk)
		}
		m, err := io.CopyN(w, r, int64(size))
		n += m
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return n, pid, cut(err)
		}
	}
	trailer, err := readLine(r)
	if err != nil {
		return n, pid, cut(err)
	}
	if msg, ok := strings.CutPrefix(trailer, "error "); ok {
		return n, pid, fmt.Errorf("the running liaisonbot (pid %s) could not finish the backup: %s", pid, msg)
	}
	if trailer != "ok "+strconv.FormatInt(n, 10) {
		return n, pid, fmt.Errorf("the running liaisonbot (pid %s) says %q, %d bytes received", pid, trailer, n)
	}
	return n, pid, nil
}

type deadlineReader struct{ c net.Conn }

func (d *deadlineReader) Read(p []byte) (int, error) {
	_ = d.c.SetReadDeadline(time.Now().Add(controlIdle))
	return d.c.Read(p)
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	if len(line) > 4096 {
		line = line[:4096]
	}
	return strings.TrimRight(line, "\n"), nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
