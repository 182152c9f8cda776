// Package etcdtest starts a real, single-member etcd server inside a test
// process: loopback only, data in a temporary directory, ports picked by the
// kernel. A package's tests share one server (see Main) and keep apart by
// key prefix.
package etcdtest

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is a running embedded etcd.
type Server struct {
	etcd   *embed.Etcd
	dir    string
	scheme string
	// CA is the PEM file a client trusts, for StartTLS.
	CA string
}

// Start starts a server with data in a new directory under dir ("" is the
// system's temporary directory). It does not fsync: a test's data dies with
// the test.
func Start(dir string) (*Server, error) { return start(dir, false, false) }

// StartTLS is Start serving clients over TLS with a self-signed
// certificate for 127.0.0.1 (Server.CA).
func StartTLS(dir string) (*Server, error) { return start(dir, false, true) }

// StartDurable is Start with fsync on, as a real member runs: for
// benchmarks.
func StartDurable(dir string) (*Server, error) { return start(dir, true, false) }

func start(dir string, durable, tls bool) (*Server, error) {
	data, err := os.MkdirTemp(dir, "etcdtest-")
	if err != nil {
		return nil, err
	}
	cfg := embed.NewConfig()
	cfg.Dir = data
	cfg.Name = "default"
	local := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{local}, []url.URL{local}
	s := &Server{dir: data, scheme: "http"}
	if tls {
		info, err := transport.SelfCert(zap.NewNop(), filepath.Join(data, "certs"), []string{"127.0.0.1:0"}, 1) // host:port, as SelfCert parses it
		if err != nil {
			os.RemoveAll(data)
			return nil, err
		}
		cfg.ClientTLSInfo = info
		local.Scheme, s.scheme, s.CA = "https", "https", info.CertFile
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{local}, []url.URL{local}
	cfg.InitialCluster = "default=http://127.0.0.1:0"
	// Quiet: closing the server logs harmless "use of closed network
	// connection" errors.
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.UnsafeNoFsync = !durable
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		os.RemoveAll(data)
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		os.RemoveAll(data)
		return nil, fmt.Errorf("etcd did not become ready in 30s")
	case err := <-e.Err():
		e.Close()
		os.RemoveAll(data)
		return nil, fmt.Errorf("etcd: %w", err)
	}
	s.etcd = e
	return s, nil
}

// Endpoint is the client URL, http(s)://127.0.0.1:PORT.
func (s *Server) Endpoint() string { return s.scheme + "://" + s.etcd.Clients[0].Addr().String() }

// Close stops the server and removes its data.
func (s *Server) Close() {
	s.etcd.Close()
	os.RemoveAll(s.dir)
}

var shared *Server

// Main runs a package's tests with one shared server (from TestMain):
//
//	func TestMain(m *testing.M) { etcdtest.Main(m) }
//
// With -test.bench set the server fsyncs, so figures are a real member's.
func Main(m *testing.M) {
	flag.Parse()
	stop := StartShared()
	code := m.Run()
	stop()
	os.Exit(code)
}

// StartShared starts the server Shared returns, for a TestMain that does
// more than Main; it exits the process if etcd does not start.
func StartShared() (stop func()) {
	durable := false
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		durable = true
	}
	s, err := start("", durable, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdtest:", err)
		os.Exit(1)
	}
	shared = s
	return s.Close
}

// Shared is the server Main started.
func Shared(t testing.TB) *Server {
	t.Helper()
	if shared == nil {
		t.Fatal("etcdtest.Shared needs etcdtest.Main in the package's TestMain")
	}
	return shared
}

var prefixes atomic.Int64

// Prefix returns a key prefix no other test in the process uses.
func Prefix(t testing.TB) string {
	return fmt.Sprintf("/test/%d-%s/", prefixes.Add(1), url.PathEscape(t.Name()))
}
