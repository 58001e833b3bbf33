// Package testkube starts a real Kubernetes API server for tests: Debian's etcd
// and a kube-apiserver built from the Kubernetes modules by scripts/kube-apiserver
// (its path in TETHER_KUBE_APISERVER, or the script's cache). No scheduler or
// kubelet runs: tests create pods with a node name and write their status.
package testkube

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tether-sec/tether/internal/testenv"
)

// Version is the kube-apiserver version scripts/kube-apiserver builds.
const Version = "v1.37.2"

// Server is a running API server.
type Server struct {
	// Config reaches it as cluster-admin (a static token, TLS unverified: the
	// server's certificate is self-signed).
	Config *rest.Config
	// Kubeconfig is a kubeconfig file for the same, for kubectl and tether's CLI.
	Kubeconfig string
}

// Start runs etcd and kube-apiserver on free 127.0.0.1 ports in a temporary
// directory and stops them when the test ends. Without either binary the test
// skips, or fails under CI=true.
func Start(t testing.TB) *Server {
	t.Helper()
	etcd := testenv.LookPath(t, "etcd", "apt-get install -y etcd-server")
	apiserver := os.Getenv("TETHER_KUBE_APISERVER")
	if apiserver == "" {
		home, _ := os.UserHomeDir()
		cache := os.Getenv("TETHER_CACHE")
		if cache == "" {
			cache = filepath.Join(home, ".cache", "tether")
		}
		apiserver = filepath.Join(cache, "kube-apiserver-"+Version, "kube-apiserver")
	}
	if _, err := os.Stat(apiserver); err != nil {
		testenv.Missing(t, "kube-apiserver", "scripts/kube-apiserver (builds it into the cache; scripts/test runs it)", err)
		return nil
	}
	dir := t.TempDir()
	ports := freePorts(t, 3)
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	etcdLog := start(t, etcd, "--data-dir", filepath.Join(dir, "etcd"), "--name", "default",
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "default="+peerURL, "--log-level", "error")

	token := randomHex(t)
	if err := os.WriteFile(filepath.Join(dir, "tokens.csv"), []byte(token+",admin,admin,system:masters\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeServiceAccountKeys(t, dir)
	apiLog := start(t, apiserver,
		"--etcd-servers="+clientURL, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none", fmt.Sprintf("--secure-port=%d", ports[2]),
		"--cert-dir="+filepath.Join(dir, "pki"), "--token-auth-file="+filepath.Join(dir, "tokens.csv"),
		"--authorization-mode=RBAC", "--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16", "--disable-admission-plugins=ServiceAccount", "--allow-privileged=true")

	host := fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("testkube: kube-apiserver not ready after 90 s\netcd:\n%s\nkube-apiserver:\n%s", tail(etcdLog.String()), tail(apiLog.String()))
		}
		time.Sleep(200 * time.Millisecond)
	}
	cfg := &rest.Config{Host: host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, QPS: 200, Burst: 400}
	kc := filepath.Join(dir, "kubeconfig")
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: %s
contexts:
- name: test
  context:
    cluster: test
    user: admin
current-context: test
`, host, token)
	if err := os.WriteFile(kc, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return &Server{Config: cfg, Kubeconfig: kc}
}

// start runs a process until the test ends and returns its combined output.
func start(t testing.TB, bin string, args ...string) *testenv.SyncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("testkube: %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	return out
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

func randomHex(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// writeServiceAccountKeys writes the key pair the API server signs and checks
// service account tokens with.
func writeServiceAccountKeys(t testing.TB, dir string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// RunPod creates pod (with a node name, as a scheduler would set) and writes
// the status a kubelet reports once it runs: phase Running and, per container,
// its image and the image ID "REPO@DIGEST" built from the container's image
// (tag dropped) and digest. It returns the pod as stored.
func RunPod(t testing.TB, cs kubernetes.Interface, pod *corev1.Pod, digest string) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	if pod.Spec.NodeName == "" {
		pod.Spec.NodeName = "node-1"
	}
	created, err := cs.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status = corev1.PodStatus{Phase: corev1.PodRunning}
	for i, c := range created.Spec.Containers {
		repo := c.Image
		if at := strings.LastIndex(repo, ":"); at > strings.LastIndex(repo, "/") {
			repo = repo[:at]
		}
		created.Status.ContainerStatuses = append(created.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Ready: true, Image: c.Image, ImageID: repo + "@" + digest,
			ContainerID: fmt.Sprintf("containerd://%032x%032x", len(created.Name), i),
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
		})
	}
	stored, err := cs.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

// Client returns a clientset for the server.
func (s *Server) Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
