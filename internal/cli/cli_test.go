package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-sec/tether/internal/cli"
	"github.com/tether-sec/tether/internal/demo"
	"github.com/tether-sec/tether/lineage"

	_ "modernc.org/sqlite"
)

// run runs tether in process and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestDemo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tether.db")
	code, out, stderr := run(t, "demo", "--db", db, "-o", "json")
	if code != 0 {
		t.Fatalf("demo exit %d: %s", code, stderr)
	}
	var tr lineage.Trace
	if err := json.Unmarshal([]byte(out), &tr); err != nil {
		t.Fatalf("demo -o json is not a trace: %v\n%s", err, out)
	}
	if tr.Subject.Kind != "workload" || len(tr.Chains) != 2 {
		t.Fatalf("trace subject %+v with %d chains, want the pod with 2 containers", tr.Subject, len(tr.Chains))
	}
	api, envoy := tr.Chains[0], tr.Chains[1]
	if api.Container != "api" || envoy.Container != "envoy" {
		t.Fatalf("containers = %q, %q", api.Container, envoy.Container)
	}
	links := map[string]lineage.Step{}
	for _, s := range api.Steps {
		links[string(s.Link)+" "+s.To.Name] = s
	}
	want := []string{"in_workload", "runs", "built_from", "in_repo github.com/acme/payments-api", "built_with Dockerfile", "owned_by @acme/payments-team"}
	for _, w := range want {
		found := false
		for k := range links {
			if strings.HasPrefix(k, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("api chain lacks %q; links: %v", w, keys(links))
		}
	}
	for k, s := range links {
		if strings.HasPrefix(k, "built_from") {
			if s.Method != "oci-label" || s.Confidence != 0.9 || s.To.Stub {
				t.Errorf("built_from = %+v, want a verified oci-label link", s)
			}
		}
		if strings.HasPrefix(k, "built_with") {
			var lines []int
			for _, l := range s.Lines {
				lines = append(lines, l.StartLine)
			}
			if fmt.Sprint(lines) != "[11 12 13 14 15 16]" {
				t.Errorf("Dockerfile lines = %v, want the final stage's lines 11-16", lines)
			}
		}
	}
	if len(api.Gaps) != 0 {
		t.Errorf("api gaps = %v, want none", api.Gaps)
	}
	if len(envoy.Gaps) != 1 || !strings.Contains(envoy.Gaps[0], "tether scan image docker.io/envoyproxy/envoy@sha256:") {
		t.Errorf("envoy gaps = %v, want the unscanned image with the command to scan it", envoy.Gaps)
	}
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("demo-secret-value-never-stored")) {
		t.Error("an environment variable value reached the store")
	}
}

func keys(m map[string]lineage.Step) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

type scanResult struct {
	Result struct{ NodesAdded, NodesChanged, EdgesAdded, EdgesChanged int }
}

// TestScanIdempotent scans the same repo, image and snapshot twice: the second time
// nothing is added or changed.
func TestScanIdempotent(t *testing.T) {
	dir := t.TempDir()
	e, err := demo.Build(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	db := filepath.Join(dir, "tether.db")
	scans := [][]string{
		{"scan", "repo", e.RepoPath},
		{"scan", "image", "--insecure", e.ImageRef},
		{"scan", "k8s", "--snapshot", e.SnapshotPath},
	}
	for round := 0; round < 2; round++ {
		for _, s := range scans {
			code, out, stderr := run(t, append(s, "--db", db, "-o", "json")...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", s, code, stderr)
			}
			var r scanResult
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v: %v\n%s", s, err, out)
			}
			if round == 0 && r.Result.NodesAdded == 0 {
				t.Errorf("%v: first scan added no nodes", s)
			}
			if round == 1 && r.Result != (scanResult{}).Result {
				t.Errorf("%v: second scan changed the store: %+v", s, r.Result)
			}
		}
	}
	code, out, stderr := run(t, "trace", e.ImageDigest, "--db", db)
	if code != 0 || !strings.Contains(out, "built_with") || !strings.Contains(out, "@acme/payments-team") {
		t.Errorf("trace by digest: exit %d\n%s%s", code, out, stderr)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "tether.db")
	notJSON := filepath.Join(dir, "deploy.json")
	os.WriteFile(notJSON, []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"}}`), 0o644)
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte("\x00\x01 not json"), 0o644)
	newer := filepath.Join(dir, "newer.db")
	if code, _, stderr := run(t, "trace", "pod/a/b", "--db", newer); code != 2 || !strings.Contains(stderr, "tether scan k8s") {
		t.Fatalf("prepare a store: exit %d: %s", code, stderr)
	}
	bumpSchema(t, newer)

	badManifest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", "sha256:0000000000000000000000000000000000000000000000000000000000000000")
		fmt.Fprint(w, "<html>not a manifest</html>")
	}))
	defer badManifest.Close()
	host := strings.TrimPrefix(badManifest.URL, "http://")

	tests := []struct {
		name string
		args []string
		want string // a phrase the one-line message must carry
	}{
		{"not a repo", []string{"scan", "repo", dir}, "not a git repository"},
		{"missing path", []string{"scan", "repo", filepath.Join(dir, "nope")}, "nope"},
		{"unreachable registry", []string{"scan", "image", "127.0.0.1:1/app:v1"}, "127.0.0.1:1"},
		{"manifest not JSON", []string{"scan", "image", "--insecure", host + "/app:v1"}, "manifest"},
		{"not a pod list", []string{"scan", "k8s", "--snapshot", notJSON}, "kubectl get pods"},
		{"not JSON", []string{"scan", "k8s", "--snapshot", garbage}, "kubectl get pods"},
		{"no snapshot flag", []string{"scan", "k8s"}, "--snapshot"},
		{"unknown format", []string{"trace", "x", "-o", "yaml"}, "unknown format"},
		{"unknown pod", []string{"trace", "pod/ns/missing"}, "tether scan k8s"},
		{"bad pod target", []string{"trace", "pod/a/b/c/d"}, "pod/NAMESPACE/NAME"},
		{"unknown image", []string{"trace", "sha256:abcd"}, "tether scan image"},
		{"newer schema", []string{"trace", "pod/a/b", "--db", newer}, "upgrade tether"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if !contains(args, "--db") {
				args = append(args, "--db", db)
			}
			code, out, stderr := run(t, args...)
			if code != cli.ExitError {
				t.Errorf("exit = %d, want %d\nstdout: %s\nstderr: %s", code, cli.ExitError, out, stderr)
			}
			if !strings.HasPrefix(stderr, "tether: error: ") || !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr = %q, want a 'tether: error:' line containing %q", stderr, tt.want)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("panic: %s", stderr)
			}
		})
	}
}

// bumpSchema marks the SQLite store at path as written by a newer tether.
func bumpSchema(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)"); err != nil {
		t.Fatal(err)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
