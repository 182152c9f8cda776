package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// childEnv, when set, makes this program the baseline server: the variable
// names the file holding the body, and childTypeEnv gives its content type.
const (
	childEnv     = "LIAISONLOAD_BASELINE_BODY"
	childTypeEnv = "LIAISONLOAD_BASELINE_TYPE"
)

// bareHandler answers every request with body, as is: the least a server
// can do for a request of this size.
func bareHandler(body []byte, ctype string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", ctype)
		_, _ = w.Write(body)
	})
}

// serveBaseline starts the bare handler in this process.
func serveBaseline(body []byte, ctype string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: bareHandler(body, ctype), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// startBaselineProcess starts the bare handler in a child process (this
// program again), so that it runs apart from the load, as the bot does.
func startBaselineProcess(body []byte, ctype string) (string, func(), error) {
	f, err := os.CreateTemp("", "liaisonload-body")
	if err != nil {
		return "", nil, err
	}
	defer os.Remove(f.Name()) // the child reads it before announcing its address
	if _, err := f.Write(body); err != nil {
		f.Close()
		return "", nil, err
	}
	f.Close()
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childEnv+"="+f.Name(), childTypeEnv+"="+ctype)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return "", nil, fmt.Errorf("baseline process: %w", err)
	}
	stop := func() { stdin.Close(); _ = cmd.Wait() }
	return strings.TrimSpace(line), stop, nil
}

// baselineChild is the child's side: serve until the parent closes stdin.
func baselineChild() error {
	body, err := os.ReadFile(os.Getenv(childEnv))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: bareHandler(body, os.Getenv(childTypeEnv)), ReadHeaderTimeout: 5 * time.Second}
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); _ = srv.Close() }()
	fmt.Println(ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
