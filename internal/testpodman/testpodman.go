// Package testpodman starts a real Podman API service (Debian's podman, with runc) for
// tests, its storage under t.TempDir.
package testpodman

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tether-sec/tether/internal/testenv"
)

const install = "apt-get install -y podman runc"

// Podman is a running `podman system service`.
type Podman struct {
	// Socket is the path of the service's unix socket, where it serves the Docker
	// Engine API (and Podman's own).
	Socket string
	// Env is the environment a podman command needs to use the service's storage
	// and configuration: the process's own plus CONTAINERS_CONF,
	// CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF.
	Env []string

	bin string
}

// Start runs `podman system service --time=0 unix://SOCKET` as RECIPES.md describes
// (runc, cgroupfs, raised ulimits, overlay storage under t.TempDir), waits until the
// socket answers, and when the test ends removes every container, stops the service
// and unmounts what it mounted.
//
// When podman or runc is missing the test skips, or fails under CI=true (see testenv).
func Start(t testing.TB) *Podman {
	t.Helper()
	bin := testenv.LookPath(t, "podman", install)
	// Podman finds runc in /usr/sbin, which a user's PATH may lack.
	if _, err := os.Stat("/usr/sbin/runc"); err != nil {
		testenv.LookPath(t, "runc", install)
	}
	dir := t.TempDir()
	// A unix socket path must stay under 108 bytes; t.TempDir's grow with test names.
	sockDir, err := os.MkdirTemp("", "tp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(sockDir) })
	p := &Podman{Socket: filepath.Join(sockDir, "podman.sock"), bin: bin}

	files := map[string]string{
		"containers.conf": fmt.Sprintf(`[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = %q
`, filepath.Join(dir, "tmp")),
		"storage.conf": fmt.Sprintf(`[storage]
driver = "overlay"
graphroot = %q
runroot = %q
`, filepath.Join(dir, "storage"), filepath.Join(dir, "run")),
		"registries.conf": `unqualified-search-registries = []
short-name-mode = "disabled"
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p.Env = append(os.Environ(),
		"CONTAINERS_CONF="+filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF="+filepath.Join(dir, "storage.conf"),
		"CONTAINERS_REGISTRIES_CONF="+filepath.Join(dir, "registries.conf"),
	)

	out := &testenv.SyncBuffer{}
	cmd := exec.Command(bin, "system", "service", "--time=0", "unix://"+p.Socket)
	cmd.Env = p.Env
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("testpodman: start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// Containers first, while the service still runs: their conmon and runc
		// processes outlive it otherwise.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rm := exec.CommandContext(ctx, bin, "rm", "--all", "--force", "--time", "0")
		rm.Env = p.Env
		if b, err := rm.CombinedOutput(); err != nil {
			t.Logf("testpodman: podman rm: %v: %s", err, b)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if err := unmountUnder(dir); err != nil {
			t.Logf("testpodman: %v", err)
		}
		if t.Failed() && out.Len() > 0 {
			t.Logf("podman system service output:\n%s", out.String())
		}
	})

	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", p.Socket)
		},
	}}
	defer client.CloseIdleConnections()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("testpodman: podman system service exited (%v): %s", err, out.String())
		case <-deadline:
			t.Fatalf("testpodman: podman system service did not answer on %s within 20s: %s", p.Socket, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get("http://podman/_ping")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return p
		}
	}
}

// Run runs `podman ARGS` against the service's storage and returns its standard
// output; it fails the test when podman fails.
func (p *Podman) Run(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, args...)
	cmd.Env = p.Env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("testpodman: podman %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// unmountUnder detaches every mount at or below dir (overlay's own bind mount of its
// graph root, container root file systems, shm), deepest first, so that the test's
// temporary directory can be removed.
func unmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		p := unescapeMount(fields[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	var errs []string
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && err != syscall.EINVAL {
			errs = append(errs, fmt.Sprintf("unmount %s: %v", p, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + byte(c-'0')
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
