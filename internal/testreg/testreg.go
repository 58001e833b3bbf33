// Package testreg starts a real OCI registry (Debian's docker-registry, distribution
// 2.8) for tests.
package testreg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-sec/tether/internal/testenv"
)

// Binary is where Debian's docker-registry package installs the registry.
const Binary = "/usr/bin/docker-registry"

const install = "apt-get install -y docker-registry"

// Start runs `docker-registry serve CONFIG` on 127.0.0.1 with a free port and a storage
// directory under t.TempDir, waits until GET /v2/ answers, and stops the process when
// the test ends. It returns the registry's host:port, e.g. "127.0.0.1:40123", which
// go-containerregistry reaches over plain HTTP because the address is a loopback one.
//
// When the binary is missing the test skips, or fails under CI=true (see testenv).
func Start(t testing.TB) string {
	t.Helper()
	bin := Binary
	if _, err := os.Stat(bin); err != nil {
		p, lerr := exec.LookPath("docker-registry")
		if lerr != nil {
			testenv.Missing(t, "docker-registry", install, err)
			return ""
		}
		bin = p
	}
	// A free port found by listening and closing can be taken by someone else before
	// the registry binds it; try a few times.
	var lastErr error
	for range 3 {
		addr, err := start(t, bin)
		if err == nil {
			return addr
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("testreg: %v", lastErr)
	return ""
}

func start(t testing.TB, bin string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yml")
	yml := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: tether-test-secret
`, filepath.Join(dir, "storage"), addr)
	if err := os.WriteFile(config, []byte(yml), 0o600); err != nil {
		return "", err
	}

	out := &testenv.SyncBuffer{}
	cmd := exec.Command(bin, "serve", config)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			return "", fmt.Errorf("docker-registry exited (%v): %s", err, out.String())
		case <-ctx.Done():
			stop()
			return "", fmt.Errorf("docker-registry did not answer GET http://%s/v2/ within 15s: %s", addr, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get("http://" + addr + "/v2/")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() && out.Len() > 0 {
			t.Logf("docker-registry output:\n%s", out.String())
		}
	})
	return addr, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	tcp, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("listener address is not TCP")
	}
	return tcp.Port, nil
}
