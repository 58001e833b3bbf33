package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/runtime"
)

// FuzzReadK8sSnapshot checks that no input makes ReadK8sSnapshot panic, fail
// with an error a user cannot act on, build an invalid or unsorted batch, or
// answer differently twice. Seeds: every file under testdata and the corpus
// under testdata/fuzz.
func FuzzReadK8sSnapshot(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, ".md") {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	opts := runtime.K8sOptions{Cluster: "fuzz", Source: "fuzz.json", Now: now, MaxBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := runtime.ReadK8sSnapshot(context.Background(), bytes.NewReader(data), opts)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("panic: %v", err)
			}
			if !errors.Is(err, runtime.ErrNotSnapshot) && !errors.Is(err, runtime.ErrSnapshotTooLarge) {
				t.Fatalf("err = %v, want one matching ErrNotSnapshot or ErrSnapshotTooLarge", err)
			}
			if !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("err = %v does not name the file", err)
			}
			return
		}
		checkBatch(t, b)
		if _, ok := b.Node(graph.ClusterID("fuzz")); !ok {
			t.Fatal("no cluster node")
		}
		again, err := runtime.ReadK8sSnapshot(context.Background(), bytes.NewReader(data), opts)
		if err != nil {
			t.Fatalf("second read: %v", err)
		}
		if diff := cmp.Diff(b, again, cmpopts.IgnoreUnexported(graph.Batch{}), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("two reads differ (-first +second):\n%s", diff)
		}
	})
}
