package cli_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/internal/cli"
	"github.com/tether-sec/tether/internal/testenv"
	"github.com/tether-sec/tether/internal/testkube"
	"github.com/tether-sec/tether/store"
)

// TestScanK8sLive scans a real API server through a kubeconfig: the cluster is
// named after the context, and the running digest a pod's status reports is in
// the graph.
func TestScanK8sLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Kubernetes API server")
	}
	srv := testkube.Start(t)
	ctx := context.Background()
	cs := srv.Client(t)
	const digest = "sha256:47237ffd5e8d3ad8c0b6c26b7e5b2c0d9bb9cfee7e3c0c1b0a1f9a7a3c4e5d6f"
	testkube.RunPod(t, cs, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "api-1", Namespace: "default"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "reg.example/acme/api:1.4.2"}}},
	}, digest)
	db := filepath.Join(t.TempDir(), "tether.db")
	if code, out, stderr := run(t, "scan", "k8s", "--kubeconfig", srv.Kubeconfig, "--db", db); code != 0 {
		t.Fatalf("scan k8s: exit %d\n%s%s", code, out, stderr)
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	edges, err := st.Edges(ctx, store.EdgeQuery{From: graph.ContainerID("test", "default", "api-1", "api"), Kind: graph.EdgeRuns})
	if err != nil || len(edges) != 1 || edges[0].To != graph.ImageID(digest) {
		t.Errorf("runs edges %+v, %v; want the container of cluster \"test\" running %s", edges, err, digest)
	}
	if code, _, stderr := run(t, "scan", "k8s", "--snapshot", "x.json", "--context", "test", "--db", db); code != 2 || stderr == "" {
		t.Errorf("--snapshot with --context: exit %d", code)
	}
}

// TestScanK8sWatch runs 'tether scan k8s --watch' until a pod created after it
// started is in the store, then interrupts it: it exits cleanly.
func TestScanK8sWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Kubernetes API server")
	}
	srv := testkube.Start(t)
	cs := srv.Client(t)
	db := filepath.Join(t.TempDir(), "tether.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb testenv.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"scan", "k8s", "--kubeconfig", srv.Kubeconfig, "--watch", "--db", db}, &out, &errb)
	}()
	const digest = "sha256:47237ffd5e8d3ad8c0b6c26b7e5b2c0d9bb9cfee7e3c0c1b0a1f9a7a3c4e5d6f"
	// Wait for the watch's first listing before creating the pod.
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(errb.String()+out.String(), "scanned"); {
		if time.Now().After(deadline) {
			t.Fatalf("no first listing in 20 s:\n%s%s", out.String(), errb.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	testkube.RunPod(t, cs, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "late-1", Namespace: "default"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "reg.example/acme/app:2"}}},
	}, digest)
	ctr := graph.ContainerID("test", "default", "late-1", "app")
	for deadline := time.Now().Add(20 * time.Second); ; {
		st, err := store.Open(ctx, db)
		if err == nil {
			edges, _ := st.Edges(ctx, store.EdgeQuery{From: ctr, Kind: graph.EdgeRuns})
			st.Close()
			if len(edges) == 1 && edges[0].To == graph.ImageID(digest) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watch did not record the new pod in 20 s:\n%s%s", out.String(), errb.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("interrupted watch: exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watch did not stop after the interrupt")
	}
}
