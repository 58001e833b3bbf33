// Package demo builds a small, real estate to show tether end to end without a
// network or a Docker engine: a git repository, an image built from it and served by
// an in-process registry, and a Kubernetes pod snapshot that runs the image.
package demo

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Names in the demo estate.
const (
	RepoURL   = "https://github.com/acme/payments-api.git"
	Namespace = "payments"
	Pod       = "payments-api-7d9c6b5f4-x2x4q"
)

// Estate is a built demo estate. Close stops its registry.
type Estate struct {
	Dir      string
	RepoPath string
	// ImageRef is the image's tag in the in-process registry; ImageDigest its manifest digest.
	ImageRef    string
	ImageDigest string
	// HeadSHA is the commit the image was built from.
	HeadSHA      string
	SnapshotPath string
	// PodTarget is the trace target of the pod that runs the image.
	PodTarget string
	Registry  string

	srv *http.Server
}

// Close stops the registry.
func (e *Estate) Close() error {
	if e.srv == nil {
		return nil
	}
	return e.srv.Close()
}

// Build makes the estate under dir (which must exist).
func Build(ctx context.Context, dir string) (_ *Estate, err error) {
	e := &Estate{Dir: dir, RepoPath: filepath.Join(dir, "payments-api"), SnapshotPath: filepath.Join(dir, "pods.json")}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.HeadSHA, err = makeRepo(e.RepoPath); err != nil {
		return nil, fmt.Errorf("demo repository: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo registry: %w", err)
	}
	e.Registry = ln.Addr().String()
	e.srv = &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()

	img, err := buildImage(e.RepoPath, e.HeadSHA)
	if err != nil {
		return nil, fmt.Errorf("demo image: %w", err)
	}
	e.ImageRef = e.Registry + "/acme/payments-api:1.4.2"
	tag, err := name.NewTag(e.ImageRef, name.Insecure)
	if err != nil {
		return nil, err
	}
	if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
		return nil, fmt.Errorf("push demo image: %w", err)
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	e.ImageDigest = d.String()
	if err := writeSnapshot(e.SnapshotPath, e.Registry, e.ImageDigest); err != nil {
		return nil, fmt.Errorf("demo pod snapshot: %w", err)
	}
	e.PodTarget = "pod/" + Namespace + "/" + Pod
	return e, nil
}

// dpkgStatus is the package database of the demo's Debian base layer: a slice of
// a real bookworm image's.
const dpkgStatus = `Package: base-files
Status: install ok installed
Priority: required
Section: admin
Architecture: amd64
Version: 12.4+deb12u10
Maintainer: Santiago Vila <sanvila@debian.org>

Package: ca-certificates
Status: install ok installed
Priority: optional
Section: misc
Architecture: all
Version: 20230311
Maintainer: Julien Cristau <jcristau@debian.org>

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u9
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>

Package: libssl3
Status: install ok installed
Priority: optional
Section: libs
Architecture: amd64
Source: openssl
Version: 3.0.15-1~deb12u1
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>

Package: netbase
Status: install ok installed
Priority: optional
Section: admin
Architecture: all
Version: 6.4
Maintainer: Marco d'Itri <md@linux.it>

Package: tzdata
Status: install ok installed
Priority: required
Section: localization
Architecture: all
Version: 2024b-0+deb12u1
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>

Package: zlib1g
Status: install ok installed
Priority: optional
Section: libs
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1
Maintainer: Mark Brown <broonie@debian.org>
`

// The repository's files, as the demo's team wrote them.
var (
	dockerfile = `# syntax=docker/dockerfile:1
ARG BASE=ghcr.io/acme/base-debian:12

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod main.go ./
RUN CGO_ENABLED=0 go build -trimpath \
      -o /out/payments-api .

FROM ${BASE}
WORKDIR /app
COPY --from=build /out/payments-api /app/payments-api
COPY config/ /app/config/
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/app/payments-api"]
`
	migrateDockerfile = `FROM ghcr.io/acme/base-debian:12
WORKDIR /migrations
COPY migrations/ /migrations/
ENTRYPOINT ["/usr/bin/migrate", "-path", "/migrations"]
`
	codeowners = `# Platform owns everything by default.
*                   @acme/platform
# The payments team owns the service and how it is built.
/Dockerfile         @acme/payments-team alice@acme.example
/config/            @acme/payments-team
/tools/             @acme/dba
`
	mainGo = `package main

import (
	"log"
	"net/http"
)

func main() {
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	log.Fatal(http.ListenAndServe(":8080", nil))
}
`
	appYAML = "listen: :8080\nledger_url: http://ledger.payments.svc:8080\n"
)

type commitSpec struct {
	author, email, msg string
	files              map[string]string
}

func makeRepo(path string) (string, error) {
	r, err := git.PlainInit(path, false)
	if err != nil {
		return "", err
	}
	if _, err := r.CreateRemote(&gitconfig.RemoteConfig{Name: "origin", URLs: []string{RepoURL}}); err != nil {
		return "", err
	}
	wt, err := r.Worktree()
	if err != nil {
		return "", err
	}
	commits := []commitSpec{
		{"Alice Smith", "alice@acme.example", "Initial payments API", map[string]string{
			"go.mod": "module github.com/acme/payments-api\n\ngo 1.26\n", "main.go": mainGo, "CODEOWNERS": codeowners}},
		{"Bob Jones", "bob@acme.example", "Build a container image", map[string]string{
			"Dockerfile": dockerfile, "config/app.yaml": appYAML}},
		{"Dana Lee", "dana@acme.example", "Add schema migrations image", map[string]string{
			"tools/Dockerfile.migrate": migrateDockerfile, "migrations/001_init.sql": "CREATE TABLE payments (id bigint PRIMARY KEY);\n"}},
		{"Alice Smith", "alice@acme.example", "Serve a health check", map[string]string{
			"main.go": mainGo + "\n// healthz is served for the load balancer.\n"}},
	}
	when := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	var head string
	for i, c := range commits {
		for p, content := range c.files {
			full := filepath.Join(path, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				return "", err
			}
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				return "", err
			}
			if _, err := wt.Add(p); err != nil {
				return "", err
			}
		}
		sig := &object.Signature{Name: c.author, Email: c.email, When: when.Add(time.Duration(i) * 26 * time.Hour)}
		h, err := wt.Commit(c.msg, &git.CommitOptions{Author: sig, Committer: sig})
		if err != nil {
			return "", err
		}
		head = h.String()
	}
	return head, nil
}

type layerFile struct {
	name string
	mode int64
	body string
}

func tarLayer(files []layerFile) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mod := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, ModTime: mod, Typeflag: tar.TypeReg, Size: int64(len(f.body))}
		if f.body == "" && f.name[len(f.name)-1] == '/' {
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// buildImage assembles what BuildKit would produce for the final stage of the
// repository's Dockerfile on top of a small Debian-like base: the same layers, the
// same history entries, and the OCI source/revision labels.
func buildImage(repo, sha string) (v1.Image, error) {
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(repo, p))
		if err != nil {
			return ""
		}
		return string(b)
	}
	type step struct {
		files     []layerFile
		createdBy string
	}
	steps := []step{
		{[]layerFile{
			{"etc/", 0, ""},
			{"etc/os-release", 0o644, "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n"},
			{"etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"},
			{"var/", 0, ""}, {"var/lib/", 0, ""}, {"var/lib/dpkg/", 0, ""},
			{"var/lib/dpkg/status", 0o644, dpkgStatus},
		}, "/bin/sh -c #(nop) ADD file:4b1e0c8d2a in / "},
		{[]layerFile{{"app/", 0, ""}}, "WORKDIR /app"},
		{[]layerFile{{"app/payments-api", 0o755, "#!/bin/sh\n# stand-in for the payments-api binary built from " + sha + "\n"}},
			"COPY /out/payments-api /app/payments-api # buildkit"},
		{[]layerFile{{"app/config/", 0, ""}, {"app/config/app.yaml", 0o644, read("config/app.yaml")}},
			"COPY config/ /app/config/ # buildkit"},
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	created := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
	var history []v1.History
	for i, s := range steps {
		l, err := tarLayer(s.files)
		if err != nil {
			return nil, err
		}
		h := v1.History{CreatedBy: s.createdBy, Created: v1.Time{Time: created}}
		if i == 0 {
			h.Created = v1.Time{Time: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: h}); err != nil {
			return nil, err
		}
		history = append(history, h)
		if i == 0 {
			history = append(history, v1.History{CreatedBy: `/bin/sh -c #(nop)  CMD ["bash"]`, EmptyLayer: true, Created: h.Created})
		}
	}
	for _, cb := range []string{"USER 65532:65532", "EXPOSE map[8080/tcp:{}]", `ENTRYPOINT ["/app/payments-api"]`} {
		history = append(history, v1.History{CreatedBy: cb, EmptyLayer: true, Created: v1.Time{Time: created}})
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: created}
	cf.History = history
	cf.Config = v1.Config{
		User:         "65532:65532",
		WorkingDir:   "/app",
		Entrypoint:   []string{"/app/payments-api"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LEDGER_TOKEN=demo-secret-value-never-stored"},
		Labels: map[string]string{
			"org.opencontainers.image.source":   RepoURL,
			"org.opencontainers.image.revision": sha,
			"org.opencontainers.image.title":    "payments-api",
			"org.opencontainers.image.created":  created.Format(time.RFC3339),
		},
	}
	return mutate.ConfigFile(img, cf)
}

// writeSnapshot writes what 'kubectl get pods,services -A -o json' prints for a
// cluster that runs the image in a Deployment behind a LoadBalancer, with an
// Envoy sidecar whose image nobody has scanned.
func writeSnapshot(path, reg, digest string) error {
	const envoyDigest = "sha256:6c4f7a1d2b8e9f0a3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b"
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": Pod, "namespace": Namespace, "uid": "5f0c1a9e-3c39-4f43-9d7a-1b2c3d4e5f60",
			"creationTimestamp": "2026-10-06T08:00:00Z",
			"labels":            map[string]any{"app": "payments-api", "pod-template-hash": "7d9c6b5f4"},
			"ownerReferences": []any{map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "payments-api-7d9c6b5f4",
				"uid": "0b7e2d4c-1111-4a2b-9c3d-4e5f60718293", "controller": true, "blockOwnerDeletion": true}},
		},
		"spec": map[string]any{
			"nodeName": "ip-10-0-3-17.eu-west-1.compute.internal", "serviceAccountName": "payments-api",
			"containers": []any{
				map[string]any{"name": "api", "image": reg + "/acme/payments-api:1.4.2",
					"ports": []any{map[string]any{"containerPort": 8080, "protocol": "TCP"}},
					"env":   []any{map[string]any{"name": "LEDGER_TOKEN", "value": "demo-secret-value-never-stored"}}},
				map[string]any{"name": "envoy", "image": "docker.io/envoyproxy/envoy:v1.31.2"},
			},
		},
		"status": map[string]any{
			"phase": "Running", "podIP": "10.0.3.42",
			"containerStatuses": []any{
				map[string]any{"name": "api", "ready": true, "restartCount": 0, "image": reg + "/acme/payments-api:1.4.2",
					"imageID":     reg + "/acme/payments-api@" + digest,
					"containerID": "containerd://9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
					"state":       map[string]any{"running": map[string]any{"startedAt": "2026-10-06T08:00:05Z"}}},
				map[string]any{"name": "envoy", "ready": true, "restartCount": 0, "image": "docker.io/envoyproxy/envoy:v1.31.2",
					"imageID":     "docker.io/envoyproxy/envoy@" + envoyDigest,
					"containerID": "containerd://1f2e3d4c5b6a79881726354433221100ffeeddccbbaa99887766554433221100",
					"state":       map[string]any{"running": map[string]any{"startedAt": "2026-10-06T08:00:04Z"}}},
			},
		},
	}
	svc := map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "payments-api", "namespace": Namespace, "uid": "7a6b5c4d-2222-4e3f-8a9b-0c1d2e3f4a5b"},
		"spec": map[string]any{"type": "LoadBalancer", "selector": map[string]any{"app": "payments-api"}, "clusterIP": "172.20.14.3",
			"ports": []any{map[string]any{"port": 443, "targetPort": 8080, "protocol": "TCP", "nodePort": 31443}}},
		"status": map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"hostname": "a1b2c3-payments.elb.eu-west-1.amazonaws.com"}}}},
	}
	list := map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}, "items": []any{pod, svc}}
	b, err := json.MarshalIndent(list, "", "    ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// ErrNoDir: Build was given a directory that does not exist.
var ErrNoDir = errors.New("demo: directory does not exist")
