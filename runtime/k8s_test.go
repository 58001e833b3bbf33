package runtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/runtime"
)

var t0 = time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)

func now() time.Time { return t0 }

func ptr[T any](v T) *T { return &v }

const (
	webDigest    = "sha256:4b5e57f6eb2f42b9039b3d1e13929295f231749c510cbe341cd68036d9af97e2"
	istioDigest  = "sha256:b8e9c2a497daf0198e1b79d0044361efcbeb110b0e12096e96fcf46aadefd73e"
	nodeExDigest = "sha256:2303824a4e3dc61fe3195d1a6e978029d4774876cc9aba9d2c60ef85eb96a845"
	fakeSecret   = "s3cr3t-Hunter2-do-not-leak"
)

// read runs ReadK8sSnapshot on a file under testdata and checks the invariants
// every batch keeps: valid, nodes sorted by ID, edges sorted by key.
func read(t *testing.T, name string, opts runtime.K8sOptions) *graph.Batch {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if opts.Source == "" {
		opts.Source = name
	}
	if opts.Now == nil {
		opts.Now = now
	}
	b, err := runtime.ReadK8sSnapshot(context.Background(), bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("ReadK8sSnapshot(%s): %v", name, err)
	}
	checkBatch(t, b)
	return b
}

func checkBatch(t testing.TB, b *graph.Batch) {
	t.Helper()
	if err := b.Validate(); err != nil {
		t.Errorf("batch does not validate: %v", err)
	}
	if b.Source != runtime.BatchSource {
		t.Errorf("batch source = %q, want %q", b.Source, runtime.BatchSource)
	}
	if !slices.IsSortedFunc(b.Nodes, func(x, y graph.Node) int { return strings.Compare(string(x.ID), string(y.ID)) }) {
		t.Errorf("nodes are not sorted by ID")
	}
	if !slices.IsSortedFunc(b.Edges, func(x, y graph.Edge) int { return strings.Compare(x.Key(), y.Key()) }) {
		t.Errorf("edges are not sorted by key")
	}
	for _, n := range b.Nodes {
		if got, ok := b.Node(n.ID); !ok || got.ID != n.ID {
			t.Errorf("batch index is stale for %s", n.ID)
		}
	}
}

// Expected facts of testdata/list.json, read as cluster "prod".

func pod(ns, name string) graph.ID { return graph.WorkloadID("prod", ns, "Pod", name) }
func ctr(ns, p, c string) graph.ID { return graph.ContainerID("prod", ns, p, c) }
func svc(ns, name string) graph.ID { return graph.ServiceID("prod", ns, name) }
func ev(source, detail string) []graph.Evidence {
	return []graph.Evidence{{Source: source, Detail: detail}}
}

func inCluster(from graph.ID) graph.Edge {
	return graph.Edge{From: from, Kind: graph.EdgeInCluster, To: graph.ClusterID("prod"), Method: "k8s-snapshot", Confidence: 1,
		Evidence: ev("k8s-snapshot", "cluster=prod")}
}

func inWorkload(from, to graph.ID, detail string) graph.Edge {
	return graph.Edge{From: from, Kind: graph.EdgeInWorkload, To: to, Method: "k8s-snapshot", Confidence: 1,
		Evidence: ev("k8s-snapshot", detail)}
}

func runs(from graph.ID, digest, detail, spec, status string) graph.Edge {
	return graph.Edge{From: from, Kind: graph.EdgeRuns, To: graph.ImageID(digest), Method: "k8s-status", Confidence: 1,
		Evidence: ev("k8s-status", detail),
		Attrs:    map[string]any{"spec_image": spec, "status_image": status}}
}

func controlledBy(from, to graph.ID, detail string) graph.Edge {
	return graph.Edge{From: from, Kind: graph.EdgeControlledBy, To: to, Method: "k8s-owner-ref", Confidence: 1,
		Evidence: ev("k8s-owner-ref", detail), Attrs: map[string]any{"controller": true}}
}

func exposes(from, to graph.ID, selector string) graph.Edge {
	return graph.Edge{From: from, Kind: graph.EdgeExposes, To: to, Method: "k8s-selector", Confidence: 1,
		Evidence: ev("k8s-selector", "spec.selector="+selector)}
}

func imageStub(ref, digest string) graph.Node {
	return graph.Node{ID: graph.ImageID(digest), Kind: graph.KindImage, Name: ref, Stub: true,
		Attrs: map[string]any{"reference": ref}}
}

func listNodes() []graph.Node {
	const (
		webPod  = "web-7d9c8b6f5d-abcde"
		pending = "web-7d9c8b6f5d-fghij"
		node17  = "ip-10-0-1-17.eu-west-1.compute.internal"
		webImg  = "registry.example.com/shop/web:1.4.2"
	)
	rsOwner := runtime.OwnerRef{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9c8b6f5d", UID: "0d0f6f0e-7a51-4d43-9d0e-4c7a3c1b7a10", Controller: true}
	saMount := runtime.VolumeMount{Name: "kube-api-access-7xk2p", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true, Source: "projected"}
	return []graph.Node{
		{ID: graph.ClusterID("prod"), Kind: graph.KindCluster, Name: "prod", Attrs: map[string]any{"name": "prod"}},
		{ID: ctr("monitoring", "node-exporter-x7k9q", "node-exporter"), Kind: graph.KindContainer, Name: "monitoring/node-exporter-x7k9q/node-exporter",
			Attrs: graph.Attrs(runtime.ContainerAttrs{
				Name: "node-exporter", Type: "regular",
				Image: "quay.io/prometheus/node-exporter:v1.8.1", ImagePullPolicy: "IfNotPresent",
				StatusImage: "quay.io/prometheus/node-exporter:v1.8.1",
				ImageID:     "quay.io/prometheus/node-exporter@" + nodeExDigest, ImageIDForm: "repo-digest", ImageDigest: nodeExDigest,
				ContainerID: "containerd://7766554433221100ffeeddccbbaa99887766554433221100ffeeddccbbaa9988",
				Ready:       true, State: "running", StartedAt: "2026-02-20T08:00:03Z",
				SecurityContext: &runtime.ContainerSecurity{Privileged: ptr(true), RunAsUser: ptr[int64](0), CapabilitiesAdd: []string{"SYS_TIME"}},
				Ports:           []runtime.ContainerPort{{Name: "metrics", ContainerPort: 9100, HostPort: 9100, Protocol: "TCP"}},
				VolumeMounts: []runtime.VolumeMount{
					{Name: "proc", MountPath: "/host/proc", ReadOnly: true, Source: "hostPath", HostPath: "/proc"},
					{Name: "root", MountPath: "/host/root", ReadOnly: true, Source: "hostPath", HostPath: "/", MountPropagation: "HostToContainer"},
				},
			})},
		{ID: ctr("shop", "local-build", "helper"), Kind: graph.KindContainer, Name: "shop/local-build/helper",
			Attrs: graph.Attrs(runtime.ContainerAttrs{
				Name: "helper", Type: "regular", Image: "shop/helper:dev", ImagePullPolicy: "Never", StatusImage: "shop/helper:dev",
				ImageID:      "docker://sha256:df041fe8f874f17eec7bbd30ff3f81ae1a9651d7cd34702238a1977b9510c01a",
				ImageIDForm:  "config-digest",
				ContainerID:  "docker://5f4e3d2c1b0a99887766554433221100ffeeddccbbaa99887766554433221100",
				RestartCount: 12, State: "waiting", StateReason: "CrashLoopBackOff",
			})},
		{ID: ctr("shop", "local-build", "tool"), Kind: graph.KindContainer, Name: "shop/local-build/tool",
			Attrs: graph.Attrs(runtime.ContainerAttrs{
				Name: "tool", Type: "regular", Image: "shop/tool:dev", ImagePullPolicy: "Never", StatusImage: "shop/tool:dev",
				ImageID:     "sha256:9c1fdbb4fb61fa1881d18f9160ab5d607db6affe1da1f8f0c0ad910679ef822f",
				ImageIDForm: "config-digest",
				ContainerID: "docker://00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
				Ready:       true, State: "running", StartedAt: "2026-03-01T17:45:14Z",
				Env: []string{"ADMIN_TOKEN"},
			})},
		{ID: ctr("shop", webPod, "istio-proxy"), Kind: graph.KindContainer, Name: "shop/" + webPod + "/istio-proxy",
			Attrs: graph.Attrs(runtime.ContainerAttrs{
				Name: "istio-proxy", Type: "regular",
				Image: "docker.io/istio/proxyv2:1.22.1", ImagePullPolicy: "IfNotPresent", StatusImage: "docker.io/istio/proxyv2:1.22.1",
				ImageID: "docker.io/istio/proxyv2@" + istioDigest, ImageIDForm: "repo-digest", ImageDigest: istioDigest,
				ContainerID: "containerd://e3c1a9f0b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1",
				Ready:       true, State: "running", StartedAt: "2026-03-02T09:15:07Z",
				SecurityContext: &runtime.ContainerSecurity{
					Privileged: ptr(false), AllowPrivilegeEscalation: ptr(false), RunAsUser: ptr[int64](1337), RunAsGroup: ptr[int64](1337),
					RunAsNonRoot: ptr(true), ReadOnlyRootFilesystem: ptr(true), CapabilitiesDrop: []string{"ALL"},
				},
				Ports: []runtime.ContainerPort{{Name: "http-envoy-prom", ContainerPort: 15090, Protocol: "TCP"}},
			})},
		{ID: ctr("shop", webPod, "migrate"), Kind: graph.KindContainer, Name: "shop/" + webPod + "/migrate",
			Attrs: graph.Attrs(runtime.ContainerAttrs{
				Name: "migrate", Type: "init", Init: true, Image: webImg, ImagePullPolicy: "IfNotPresent", StatusImage: webImg,
				ImageID: "registry.example.com/shop/web@" + webDigest, ImageIDForm: "repo-digest", ImageDigest: webDigest,
				ContainerID: "containerd://9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081",
				Ready:       true, State: "terminated", StateReason: "Completed", StartedAt: "2026-03-02T09:15:05Z",
				Env: []string{"DATABASE_URL"},
			})},
		{ID: ctr("shop", webPod, "web"), Kind: graph.KindContainer, Name: "shop/" + webPod + "/web",
			Attrs: graph.Attrs(runtime.ContainerAttrs{
				Name: "web", Type: "regular", Image: webImg, ImagePullPolicy: "IfNotPresent", StatusImage: webImg,
				ImageID: "registry.example.com/shop/web@" + webDigest, ImageIDForm: "repo-digest", ImageDigest: webDigest,
				ContainerID: "containerd://a1b2c3d4e5f60718293a4b5c6d7e8f901a2b3c4d5e6f708192a3b4c5d6e7f809",
				Ready:       true, RestartCount: 1, State: "running", StartedAt: "2026-03-02T11:02:45Z",
				SecurityContext: &runtime.ContainerSecurity{
					AllowPrivilegeEscalation: ptr(false), RunAsUser: ptr[int64](10001), RunAsNonRoot: ptr(true),
					ReadOnlyRootFilesystem: ptr(true), CapabilitiesDrop: []string{"ALL"},
				},
				Ports:        []runtime.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: "TCP"}},
				Env:          []string{"LOG_LEVEL", "DATABASE_URL", "STRIPE_KEY"},
				EnvFrom:      []string{"configmap/web-config", "secret/web-secrets"},
				VolumeMounts: []runtime.VolumeMount{{Name: "tmp", MountPath: "/tmp", Source: "emptyDir"}, saMount},
			})},
		{ID: ctr("shop", pending, "web"), Kind: graph.KindContainer, Name: "shop/" + pending + "/web",
			Attrs: graph.Attrs(runtime.ContainerAttrs{Name: "web", Type: "regular", Image: webImg, ImagePullPolicy: "IfNotPresent"})},
		imageStub("quay.io/prometheus/node-exporter@"+nodeExDigest, nodeExDigest),
		imageStub("registry.example.com/shop/web@"+webDigest, webDigest),
		imageStub("docker.io/istio/proxyv2@"+istioDigest, istioDigest),
		{ID: svc("default", "kubernetes"), Kind: graph.KindService, Name: "default/kubernetes",
			Attrs: graph.Attrs(runtime.ServiceAttrs{
				Namespace: "default", Name: "kubernetes", UID: "3f4a5b6c-7d8e-4f9a-8b1c-2d3e4f5a6b7c", Created: "2026-01-10T12:00:00Z",
				Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"},
				Type:   "ClusterIP", ClusterIP: "172.20.0.1",
				Ports: []runtime.ServicePort{{Name: "https", Protocol: "TCP", Port: 443, TargetPort: "443"}},
			})},
		{ID: svc("monitoring", "node-exporter"), Kind: graph.KindService, Name: "monitoring/node-exporter",
			Attrs: graph.Attrs(runtime.ServiceAttrs{
				Namespace: "monitoring", Name: "node-exporter", UID: "9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b", Created: "2026-02-20T07:59:58Z",
				Type: "NodePort", ClusterIP: "172.20.44.12",
				Ports:                 []runtime.ServicePort{{Name: "metrics", Protocol: "TCP", Port: 9100, TargetPort: "metrics", NodePort: 30910}},
				Selector:              map[string]string{"app": "node-exporter"},
				ExternalTrafficPolicy: "Cluster",
			})},
		{ID: svc("shop", "web"), Kind: graph.KindService, Name: "shop/web",
			Attrs: graph.Attrs(runtime.ServiceAttrs{
				Namespace: "shop", Name: "web", UID: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", Created: "2026-01-15T10:00:00Z",
				Labels: map[string]string{"app": "web"}, Type: "ClusterIP", ClusterIP: "172.20.12.34",
				Ports:    []runtime.ServicePort{{Name: "http", Protocol: "TCP", Port: 80, TargetPort: "http"}},
				Selector: map[string]string{"app": "web"},
			})},
		{ID: svc("shop", "web-public"), Kind: graph.KindService, Name: "shop/web-public",
			Attrs: graph.Attrs(runtime.ServiceAttrs{
				Namespace: "shop", Name: "web-public", UID: "6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a", Created: "2026-01-15T10:00:01Z",
				Type: "LoadBalancer", ClusterIP: "172.20.99.1",
				Ports:                    []runtime.ServicePort{{Name: "https", Protocol: "TCP", Port: 443, TargetPort: "8080", NodePort: 32443}},
				Selector:                 map[string]string{"app": "web", "tier": "frontend"},
				LoadBalancerIngress:      []string{"a1b2c3d4e5f6-0123456789.elb.eu-west-1.amazonaws.com"},
				LoadBalancerSourceRanges: []string{"0.0.0.0/0"},
				ExternalTrafficPolicy:    "Local",
				LoadBalancerAnnotations: map[string]string{
					"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
					"service.beta.kubernetes.io/aws-load-balancer-type":   "nlb",
				},
			})},
		{ID: svc("staging", "web"), Kind: graph.KindService, Name: "staging/web",
			Attrs: graph.Attrs(runtime.ServiceAttrs{
				Namespace: "staging", Name: "web", UID: "0f9e8d7c-6b5a-4f3e-2d1c-0b9a8f7e6d5c", Created: "2026-01-20T10:00:00Z",
				Type: "ClusterIP", ClusterIP: "172.20.77.7",
				Ports:    []runtime.ServicePort{{Protocol: "TCP", Port: 80, TargetPort: "8080"}},
				Selector: map[string]string{"app": "web"},
			})},
		{ID: graph.WorkloadID("prod", "monitoring", "DaemonSet", "node-exporter"), Kind: graph.KindWorkload, Name: "monitoring/node-exporter", Stub: true,
			Attrs: map[string]any{"kind": "DaemonSet", "api_version": "apps/v1", "namespace": "monitoring", "name": "node-exporter", "uid": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"}},
		{ID: pod("monitoring", "node-exporter-x7k9q"), Kind: graph.KindWorkload, Name: "monitoring/node-exporter-x7k9q",
			Attrs: graph.Attrs(runtime.WorkloadAttrs{
				Kind: "Pod", APIVersion: "v1", Namespace: "monitoring", Name: "node-exporter-x7k9q",
				UID: "e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9", Created: "2026-02-20T08:00:00Z",
				Labels: map[string]string{"app": "node-exporter", "controller-revision-hash": "6b8f9c7d4", "pod-template-generation": "3"},
				Owners: []runtime.OwnerRef{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "node-exporter", UID: "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f", Controller: true}},
				Phase:  "Running", NodeName: node17, PodIP: "10.0.1.17", HostIP: "10.0.1.17", ServiceAccount: "node-exporter",
				HostNetwork: true, HostPID: true,
			})},
		{ID: pod("shop", "local-build"), Kind: graph.KindWorkload, Name: "shop/local-build",
			Attrs: graph.Attrs(runtime.WorkloadAttrs{
				Kind: "Pod", APIVersion: "v1", Namespace: "shop", Name: "local-build",
				UID: "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d", Created: "2026-03-01T17:45:12Z",
				Phase: "Running", NodeName: "ip-10-0-2-9.eu-west-1.compute.internal", PodIP: "10.0.2.77", HostIP: "10.0.2.9", ServiceAccount: "default",
			})},
		{ID: pod("shop", webPod), Kind: graph.KindWorkload, Name: "shop/" + webPod,
			Attrs: graph.Attrs(runtime.WorkloadAttrs{
				Kind: "Pod", APIVersion: "v1", Namespace: "shop", Name: webPod,
				UID: "5b6a3c1e-2f4d-4e8a-9b7c-1d2e3f4a5b6c", Created: "2026-03-02T09:15:04Z",
				Labels: map[string]string{"app": "web", "pod-template-hash": "7d9c8b6f5d", "tier": "frontend"},
				Owners: []runtime.OwnerRef{rsOwner},
				Phase:  "Running", NodeName: node17, PodIP: "10.0.1.143", HostIP: "10.0.1.17", ServiceAccount: "web",
				AutomountServiceAccountToken: ptr(false),
				SecurityContext:              &runtime.PodSecurity{FSGroup: ptr[int64](10001), RunAsNonRoot: ptr(true), SeccompProfile: "RuntimeDefault"},
			})},
		{ID: pod("shop", pending), Kind: graph.KindWorkload, Name: "shop/" + pending,
			Attrs: graph.Attrs(runtime.WorkloadAttrs{
				Kind: "Pod", APIVersion: "v1", Namespace: "shop", Name: pending,
				UID: "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f", Created: "2026-03-02T11:30:00Z",
				Labels: map[string]string{"app": "web", "pod-template-hash": "7d9c8b6f5d"},
				Owners: []runtime.OwnerRef{rsOwner},
				Phase:  "Pending", ServiceAccount: "web",
			})},
		// The ReplicaSet is in the list itself: observed, not a stub.
		{ID: graph.WorkloadID("prod", "shop", "ReplicaSet", "web-7d9c8b6f5d"), Kind: graph.KindWorkload, Name: "shop/web-7d9c8b6f5d",
			Attrs: map[string]any{"kind": "ReplicaSet", "api_version": "apps/v1", "namespace": "shop", "name": "web-7d9c8b6f5d", "uid": "0d0f6f0e-7a51-4d43-9d0e-4c7a3c1b7a10",
				"created": "2026-03-02T09:15:03Z", "labels": map[string]any{"app": "web", "pod-template-hash": "7d9c8b6f5d"}}},
	}
}

func listEdges() []graph.Edge {
	const webPod, pending = "web-7d9c8b6f5d-abcde", "web-7d9c8b6f5d-fghij"
	rs := graph.WorkloadID("prod", "shop", "ReplicaSet", "web-7d9c8b6f5d")
	rsDetail := "metadata.ownerReferences[0]=apps/v1 ReplicaSet web-7d9c8b6f5d uid=0d0f6f0e-7a51-4d43-9d0e-4c7a3c1b7a10"
	webImg := "registry.example.com/shop/web:1.4.2"
	es := []graph.Edge{
		inWorkload(ctr("monitoring", "node-exporter-x7k9q", "node-exporter"), pod("monitoring", "node-exporter-x7k9q"), "spec.containers[node-exporter]"),
		runs(ctr("monitoring", "node-exporter-x7k9q", "node-exporter"), nodeExDigest,
			"status.containerStatuses[node-exporter].imageID=quay.io/prometheus/node-exporter@"+nodeExDigest,
			"quay.io/prometheus/node-exporter:v1.8.1", "quay.io/prometheus/node-exporter:v1.8.1"),
		inWorkload(ctr("shop", "local-build", "helper"), pod("shop", "local-build"), "spec.containers[helper]"),
		inWorkload(ctr("shop", "local-build", "tool"), pod("shop", "local-build"), "spec.containers[tool]"),
		inWorkload(ctr("shop", webPod, "istio-proxy"), pod("shop", webPod), "spec.containers[istio-proxy]"),
		runs(ctr("shop", webPod, "istio-proxy"), istioDigest,
			"status.containerStatuses[istio-proxy].imageID=docker.io/istio/proxyv2@"+istioDigest,
			"docker.io/istio/proxyv2:1.22.1", "docker.io/istio/proxyv2:1.22.1"),
		inWorkload(ctr("shop", webPod, "migrate"), pod("shop", webPod), "spec.initContainers[migrate]"),
		runs(ctr("shop", webPod, "migrate"), webDigest,
			"status.initContainerStatuses[migrate].imageID=registry.example.com/shop/web@"+webDigest, webImg, webImg),
		inWorkload(ctr("shop", webPod, "web"), pod("shop", webPod), "spec.containers[web]"),
		runs(ctr("shop", webPod, "web"), webDigest,
			"status.containerStatuses[web].imageID=registry.example.com/shop/web@"+webDigest, webImg, webImg),
		inWorkload(ctr("shop", pending, "web"), pod("shop", pending), "spec.containers[web]"),
		inCluster(graph.WorkloadID("prod", "shop", "ReplicaSet", "web-7d9c8b6f5d")),
		inCluster(svc("default", "kubernetes")),
		inCluster(svc("monitoring", "node-exporter")),
		exposes(svc("monitoring", "node-exporter"), pod("monitoring", "node-exporter-x7k9q"), "app=node-exporter"),
		inCluster(svc("shop", "web")),
		exposes(svc("shop", "web"), pod("shop", webPod), "app=web"),
		exposes(svc("shop", "web"), pod("shop", pending), "app=web"),
		inCluster(svc("shop", "web-public")),
		exposes(svc("shop", "web-public"), pod("shop", webPod), "app=web,tier=frontend"),
		inCluster(svc("staging", "web")),
		controlledBy(pod("monitoring", "node-exporter-x7k9q"), graph.WorkloadID("prod", "monitoring", "DaemonSet", "node-exporter"),
			"metadata.ownerReferences[0]=apps/v1 DaemonSet node-exporter uid=c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"),
		inCluster(pod("monitoring", "node-exporter-x7k9q")),
		inCluster(pod("shop", "local-build")),
		controlledBy(pod("shop", webPod), rs, rsDetail),
		inCluster(pod("shop", webPod)),
		controlledBy(pod("shop", pending), rs, rsDetail),
		inCluster(pod("shop", pending)),
	}
	graph.SortEdges(es)
	return es
}

func TestReadK8sSnapshotList(t *testing.T) {
	wantNodes, wantEdges := listNodes(), listEdges()
	slices.SortFunc(wantNodes, func(x, y graph.Node) int { return strings.Compare(string(x.ID), string(y.ID)) })
	for _, file := range []string{"list.json", "list.yaml"} {
		t.Run(file, func(t *testing.T) {
			b := read(t, file, runtime.K8sOptions{Cluster: "prod"})
			if b.Target != file || !b.ObservedAt.Equal(t0) {
				t.Errorf("target, observed = %q, %v; want %q, %v", b.Target, b.ObservedAt, file, t0)
			}
			if diff := cmp.Diff(wantNodes, b.Nodes); diff != "" {
				t.Errorf("nodes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantEdges, b.Edges); diff != "" {
				t.Errorf("edges (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAttrKeys pins the attribute keys that other parts read.
func TestAttrKeys(t *testing.T) {
	b := read(t, "list.json", runtime.K8sOptions{Cluster: "prod"})
	n, _ := b.Node(ctr("monitoring", "node-exporter-x7k9q", "node-exporter"))
	sc, _ := n.Attrs["security_context"].(map[string]any)
	mounts, _ := n.Attrs["volume_mounts"].([]any)
	got := map[string]any{
		"image":        n.Attrs["image"],
		"image_id":     n.Attrs["image_id"],
		"init":         n.Attrs["init"],
		"privileged":   sc["privileged"],
		"run_as_user":  sc["run_as_user"],
		"caps_add":     sc["capabilities_add"],
		"host_path":    mounts[0].(map[string]any)["host_path"],
		"restart_ctr":  n.Attrs["restart_count"],
		"ready":        n.Attrs["ready"],
		"state":        n.Attrs["state"],
		"started":      n.Attrs["started_at"],
		"container_id": n.Attrs["container_id"],
	}
	want := map[string]any{
		"image":        "quay.io/prometheus/node-exporter:v1.8.1",
		"image_id":     "quay.io/prometheus/node-exporter@" + nodeExDigest,
		"init":         nil,
		"privileged":   true,
		"run_as_user":  0.0,
		"caps_add":     []any{"SYS_TIME"},
		"host_path":    "/proc",
		"restart_ctr":  nil,
		"ready":        true,
		"state":        "running",
		"started":      "2026-02-20T08:00:03Z",
		"container_id": "containerd://7766554433221100ffeeddccbbaa99887766554433221100ffeeddccbbaa9988",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("container attrs (-want +got):\n%s", diff)
	}
	w, _ := b.Node(pod("monitoring", "node-exporter-x7k9q"))
	for _, k := range []string{"namespace", "name", "uid", "phase", "node_name", "service_account", "labels", "owners", "host_network", "host_pid", "created"} {
		if _, ok := w.Attrs[k]; !ok {
			t.Errorf("workload attrs lack %q: %v", k, w.Attrs)
		}
	}
	s, _ := b.Node(svc("shop", "web-public"))
	for _, k := range []string{"type", "cluster_ip", "ports", "selector", "load_balancer_ingress", "external_traffic_policy"} {
		if _, ok := s.Attrs[k]; !ok {
			t.Errorf("service attrs lack %q: %v", k, s.Attrs)
		}
	}
	c, _ := b.Node(ctr("shop", "local-build", "tool"))
	if c.Attrs["image_id_form"] != "config-digest" {
		t.Errorf("image_id_form = %v, want config-digest", c.Attrs["image_id_form"])
	}
}

// TestReadK8sSnapshotFiles reads real kubectl and k9s objects and counts what comes out.
func TestReadK8sSnapshotFiles(t *testing.T) {
	type count struct {
		nodes map[graph.Kind]int
		stubs int
		edges map[graph.EdgeKind]int
	}
	tests := []struct {
		file string
		want count
		// has lists edges that must be present, as "from kind to".
		has []graph.Edge
	}{
		{
			file: "skipper-podlist-kube-system.json",
			want: count{
				nodes: map[graph.Kind]int{graph.KindCluster: 1, graph.KindWorkload: 10, graph.KindContainer: 9, graph.KindImage: 1},
				stubs: 2,
				edges: map[graph.EdgeKind]int{graph.EdgeInCluster: 9, graph.EdgeControlledBy: 9, graph.EdgeInWorkload: 9, graph.EdgeRuns: 9},
			},
			has: []graph.Edge{{
				From: graph.ContainerID("default", "kube-system", "skipper-ingress-03zmn", "skipper-ingress"), Kind: graph.EdgeRuns,
				To: graph.ImageID("sha256:65e409ae5b2d553181bd086cc59aaaaa19c9b5b6e9aadd3c7b8122606f03744a"),
			}, {
				From: graph.WorkloadID("default", "kube-system", "Pod", "skipper-ingress-03zmn"), Kind: graph.EdgeControlledBy,
				To: graph.WorkloadID("default", "kube-system", "DaemonSet", "skipper-ingress"),
			}},
		},
		{
			file: "k9s-render-po_sidecar.json",
			want: count{
				nodes: map[graph.Kind]int{graph.KindCluster: 1, graph.KindWorkload: 1, graph.KindContainer: 3, graph.KindImage: 1},
				stubs: 1,
				edges: map[graph.EdgeKind]int{graph.EdgeInCluster: 1, graph.EdgeInWorkload: 3, graph.EdgeRuns: 3},
			},
			has: []graph.Edge{{
				From: graph.ContainerID("default", "default", "sleep", "sidecar"), Kind: graph.EdgeRuns,
				To: graph.ImageID("sha256:61673929bc39a86dca7d978b27fc632d3e590bc59cd8b2f386408751d007c91e"),
			}},
		},
		{
			file: "k9s-xray-cilium-pod.json",
			want: count{
				nodes: map[graph.Kind]int{graph.KindCluster: 1, graph.KindWorkload: 2, graph.KindContainer: 1, graph.KindImage: 1},
				stubs: 2,
				edges: map[graph.EdgeKind]int{graph.EdgeInCluster: 1, graph.EdgeControlledBy: 1, graph.EdgeInWorkload: 1, graph.EdgeRuns: 1},
			},
		},
		{
			file: "k9s-render-svc.json",
			want: count{
				nodes: map[graph.Kind]int{graph.KindCluster: 1, graph.KindService: 1},
				edges: map[graph.EdgeKind]int{graph.EdgeInCluster: 1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b := read(t, tt.file, runtime.K8sOptions{})
			got := count{nodes: map[graph.Kind]int{}, edges: map[graph.EdgeKind]int{}}
			for _, n := range b.Nodes {
				got.nodes[n.Kind]++
				if n.Stub {
					got.stubs++
				}
			}
			for _, e := range b.Edges {
				got.edges[e.Kind]++
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(count{})); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			for _, h := range tt.has {
				if !slices.ContainsFunc(b.Edges, func(e graph.Edge) bool { return e.From == h.From && e.Kind == h.Kind && e.To == h.To }) {
					t.Errorf("no edge %s -%s-> %s", h.From, h.Kind, h.To)
				}
			}
		})
	}
}

func TestSidecarAndEnvNames(t *testing.T) {
	b := read(t, "k9s-render-po_sidecar.json", runtime.K8sOptions{})
	var got []runtime.ContainerAttrs
	for _, name := range []string{"init", "sidecar", "sleep"} {
		n, ok := b.Node(graph.ContainerID("default", "default", "sleep", name))
		if !ok {
			t.Fatalf("no container %s", name)
		}
		var a runtime.ContainerAttrs
		if err := graph.DecodeAttrs(n.Attrs, &a); err != nil {
			t.Fatal(err)
		}
		got = append(got, runtime.ContainerAttrs{Name: a.Name, Type: a.Type, Init: a.Init, Sidecar: a.Sidecar, State: a.State})
	}
	want := []runtime.ContainerAttrs{
		{Name: "init", Type: "init", Init: true, State: "terminated"},
		{Name: "sidecar", Type: "init", Init: true, Sidecar: true, State: "running"},
		{Name: "sleep", Type: "regular", State: "running"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}

	b = read(t, "k9s-xray-cilium-pod.json", runtime.K8sOptions{})
	n, _ := b.Node(graph.ContainerID("default", "kube-system", "cilium-operator-55658fb5c4-rxtnl", "cilium-operator"))
	var a runtime.ContainerAttrs
	if err := graph.DecodeAttrs(n.Attrs, &a); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(a.Env, "AWS_SECRET_ACCESS_KEY") || len(a.Env) != 13 {
		t.Errorf("env = %v, want the 13 names of the spec", a.Env)
	}
}

// TestNoSecretValues seeds env values, args, annotations and probe headers with a
// secret and checks it reaches no part of the batch.
func TestNoSecretValues(t *testing.T) {
	const podJSON = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"leaky","namespace":"x",
	  "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"env\":\"` + fakeSecret + `\"}","service.beta.kubernetes.io/aws-load-balancer-x":"` + fakeSecret + `"}},
	  "spec":{"containers":[{"name":"c","image":"busybox","command":["sh","-c","echo ` + fakeSecret + `"],"args":["--token=` + fakeSecret + `"],
	    "env":[{"name":"TOKEN","value":"` + fakeSecret + `"}],
	    "livenessProbe":{"httpGet":{"path":"/","port":80,"httpHeaders":[{"name":"Authorization","value":"` + fakeSecret + `"}]}},
	    "lifecycle":{"postStart":{"exec":{"command":["` + fakeSecret + `"]}}}}]},
	  "status":{"containerStatuses":[{"name":"c","image":"busybox","imageID":"docker.io/library/busybox@` + webDigest + `","ready":true,"restartCount":0,
	    "state":{"terminated":{"exitCode":1,"message":"` + fakeSecret + `","reason":"Error"}}}]}}`
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"list.json", mustRead(t, "list.json")},
		{"list.yaml", mustRead(t, "list.yaml")},
		{"pod", []byte(podJSON)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(tt.data, []byte(fakeSecret)) {
				t.Fatal("the input does not hold the secret")
			}
			b, err := runtime.ReadK8sSnapshot(context.Background(), bytes.NewReader(tt.data), runtime.K8sOptions{Source: tt.name, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(struct {
				Nodes []graph.Node
				Edges []graph.Edge
			}{b.Nodes, b.Edges})
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out, []byte(fakeSecret)) || bytes.Contains(out, []byte("Hunter2")) {
				t.Errorf("the secret value reached the batch:\n%s", out)
			}
		})
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestDeterministic reads the List twice, and once with its items reversed.
func TestDeterministic(t *testing.T) {
	data := mustRead(t, "list.json")
	var list map[string]any
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	items := list["items"].([]any)
	slices.Reverse(items)
	reversed, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	var batches []*graph.Batch
	for i, in := range [][]byte{data, data, reversed} {
		at := i
		b, err := runtime.ReadK8sSnapshot(context.Background(), bytes.NewReader(in), runtime.K8sOptions{
			Source: "list.json", Now: func() time.Time { return t0.Add(time.Duration(at) * time.Hour) },
		})
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b)
	}
	for _, b := range batches[1:] {
		if diff := cmp.Diff(batches[0], b, cmpopts.IgnoreUnexported(graph.Batch{}), cmpopts.IgnoreFields(graph.Batch{}, "ObservedAt")); diff != "" {
			t.Errorf("batches differ (-first +later):\n%s", diff)
		}
	}
}

func TestImageIDForms(t *testing.T) {
	const d = "sha256:65e409ae5b2d553181bd086cc59aaaaa19c9b5b6e9aadd3c7b8122606f03744a"
	tests := []struct {
		imageID  string
		wantForm string
		wantTo   graph.ID // "" when no runs edge
		wantRef  string
	}{
		{"docker-pullable://registry.opensource.zalan.do/pathfinder/skipper@" + d, "repo-digest", graph.ImageID(d), "registry.opensource.zalan.do/pathfinder/skipper@" + d},
		{"docker.io/library/nginx@" + d, "repo-digest", graph.ImageID(d), "docker.io/library/nginx@" + d},
		{"nginx@" + strings.ToUpper(d[7:]), "unrecognized", "", ""},
		{"nginx@sha256:" + strings.ToUpper(d[7:]), "repo-digest", graph.ImageID(d), "nginx@" + d},
		{"localhost:5000/app@sha512:" + strings.Repeat("ab", 64), "repo-digest", graph.ImageID("sha512:" + strings.Repeat("ab", 64)), "localhost:5000/app@sha512:" + strings.Repeat("ab", 64)},
		{d, "config-digest", "", ""},
		{"docker://" + d, "config-digest", "", ""},
		{"nginx:1.27", "unrecognized", "", ""},
		{"@" + d, "unrecognized", "", ""},
		{"nginx@sha256:abc", "unrecognized", "", ""},
		{"my image@" + d, "unrecognized", "", ""},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.imageID, func(t *testing.T) {
			podJSON, _ := json.Marshal(map[string]any{
				"apiVersion": "v1", "kind": "Pod",
				"metadata": map[string]any{"name": "p", "namespace": "ns"},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "nginx:1.27"}}},
				"status": map[string]any{"containerStatuses": []any{map[string]any{
					"name": "c", "image": "nginx:1.27", "imageID": tt.imageID, "ready": true, "restartCount": 0,
				}}},
			})
			b, err := runtime.ReadK8sSnapshot(context.Background(), bytes.NewReader(podJSON), runtime.K8sOptions{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			checkBatch(t, b)
			c, _ := b.Node(graph.ContainerID("default", "ns", "p", "c"))
			var a runtime.ContainerAttrs
			if err := graph.DecodeAttrs(c.Attrs, &a); err != nil {
				t.Fatal(err)
			}
			if string(a.ImageIDForm) != tt.wantForm || a.ImageID != tt.imageID {
				t.Errorf("image_id, image_id_form = %q, %q; want %q, %q", a.ImageID, a.ImageIDForm, tt.imageID, tt.wantForm)
			}
			var to graph.ID
			for _, e := range b.Edges {
				if e.Kind == graph.EdgeRuns {
					to = e.To
					want := "status.containerStatuses[c].imageID=" + tt.imageID
					if len(e.Evidence) != 1 || e.Evidence[0].Detail != want || e.Method != "k8s-status" || e.Confidence != 1 {
						t.Errorf("runs edge = %+v, want evidence %q", e, want)
					}
				}
			}
			if to != tt.wantTo {
				t.Errorf("runs edge to %q, want %q", to, tt.wantTo)
			}
			if tt.wantTo != "" {
				img, _ := b.Node(tt.wantTo)
				if !img.Stub || img.String("reference") != tt.wantRef || a.ImageDigest != tt.wantTo.Key() {
					t.Errorf("image stub = %+v, image_digest %q; want a stub with reference %q", img, a.ImageDigest, tt.wantRef)
				}
			}
		})
	}
}

func TestInputShapes(t *testing.T) {
	const podA = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"ns","labels":{"app":"a"}},"spec":{"containers":[{"name":"c","image":"x"}]}}`
	const svcA = `{"apiVersion":"v1","kind":"Service","metadata":{"name":"a","namespace":"ns"},"spec":{"type":"ClusterIP","selector":{"app":"a"}}}`
	exposesA := graph.Edge{From: graph.ServiceID("default", "ns", "a"), Kind: graph.EdgeExposes, To: graph.WorkloadID("default", "ns", "Pod", "a")}
	tests := []struct {
		name      string
		in        string
		workloads int
		services  int
		exposes   bool
	}{
		{"PodList", `{"kind":"PodList","apiVersion":"v1","items":[` + strings.Replace(podA, `"apiVersion":"v1","kind":"Pod",`, "", 1) + `]}`, 1, 0, false},
		{"ServiceList", `{"kind":"ServiceList","apiVersion":"v1","items":[` + svcA + `]}`, 0, 1, false},
		{"List", `{"kind":"List","apiVersion":"v1","items":[` + podA + `,` + svcA + `]}`, 1, 1, true},
		{"JSON stream", podA + "\n" + svcA, 1, 1, true},
		{"YAML documents", "# pods\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: ns\n  labels:\n    app: a\nspec:\n  containers:\n  - name: c\n    image: x\n---\n" +
			"apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: ns\nspec:\n  selector:\n    app: a\n---\n", 1, 1, true},
		{"BOM", "\xef\xbb\xbf" + podA, 1, 0, false},
		{"Knative Service skipped", `{"kind":"List","apiVersion":"v1","items":[` + podA + `,{"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"a","namespace":"ns"}}]}`, 1, 0, false},
		{"no namespace", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"x"}]}}`, 1, 0, false},
		{"malformed item skipped", `{"kind":"List","apiVersion":"v1","items":[` + podA + `,{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"},"spec":"oops"},7]}`, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := runtime.ReadK8sSnapshot(context.Background(), strings.NewReader(tt.in), runtime.K8sOptions{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			checkBatch(t, b)
			var workloads, services int
			for _, n := range b.Nodes {
				switch n.Kind {
				case graph.KindWorkload:
					workloads++
				case graph.KindService:
					services++
				}
			}
			gotExposes := slices.ContainsFunc(b.Edges, func(e graph.Edge) bool {
				return e.From == exposesA.From && e.Kind == exposesA.Kind && e.To == exposesA.To
			})
			if workloads != tt.workloads || services != tt.services || gotExposes != tt.exposes {
				t.Errorf("workloads, services, exposes = %d, %d, %v; want %d, %d, %v",
					workloads, services, gotExposes, tt.workloads, tt.services, tt.exposes)
			}
		})
	}
}

func TestSkippedAndInvalidAreLogged(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	in := `{"kind":"List","apiVersion":"v1","items":[
	  {"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"ns"},"spec":{"containers":[{"name":"c","image":"x"}]}},
	  {"apiVersion":"v1","kind":"Pod","metadata":{"name":"b","namespace":"ns"},"spec":{"containers":"oops"}},
	  {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}},
	  {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"e"}},
	  {"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"g"}},
	  {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"f"},"data":{"password":"` + fakeSecret + `"}}]}`
	if _, err := runtime.ReadK8sSnapshot(context.Background(), strings.NewReader(in), runtime.K8sOptions{Source: "mixed.json", Logger: logger}); err != nil {
		t.Fatal(err)
	}
	type rec struct {
		Level, Msg, File, Kind, Error string
		Count                         int
	}
	var got []rec
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var r rec
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := []rec{
		{Level: "WARN", Msg: "skipped an item that could not be read", File: "mixed.json",
			Error: "item 1 (Pod ns/b): json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container"},
		{Level: "INFO", Msg: "skipped items that are not pods, services, ingresses, gateways and routes, network policies, nodes, workload controllers or RBAC objects", File: "mixed.json", Kind: "policy/v1 PodDisruptionBudget", Count: 1},
		{Level: "INFO", Msg: "skipped items that are not pods, services, ingresses, gateways and routes, network policies, nodes, workload controllers or RBAC objects", File: "mixed.json", Kind: "v1 ConfigMap", Count: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log records (-want +got):\n%s", diff)
	}
	if strings.Contains(buf.String(), fakeSecret) {
		t.Error("a secret reached the log")
	}
}

func TestReadK8sSnapshotErrors(t *testing.T) {
	const hint = "create it with `kubectl get pods,services -A -o json > snap.json`"
	list := mustRead(t, "list.json")
	tests := []struct {
		name string
		in   []byte
		opts runtime.K8sOptions
		// want is the sentinel the error matches; msg is a part of its message.
		want error
		msg  string
	}{
		{"not JSON", []byte("NAME   READY   STATUS\nweb-1  1/1     Running\n"), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "snap.json is not a Kubernetes pod list (not JSON or YAML describing a Kubernetes object: it is a string): " + hint},
		{"binary", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(binary data, not JSON or YAML)"},
		{"UTF-16", []byte("\xff\xfe{\x00}\x00"), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "UTF-16"},
		{"bad YAML", []byte("kind: Pod\n\tmetadata: [\n"), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(not JSON or YAML: "},
		{"Deployment alone", mustRead(t, "k9s-render-dp.json"), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "snap.json is not a Kubernetes pod list (kind Deployment): " + hint},
		{"ConfigMap list", []byte(`{"kind":"ConfigMapList","apiVersion":"v1","items":[{"metadata":{"name":"a"},"data":{"k":"v"}}]}`), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(kind ConfigMapList: no pods or services): " + hint},
		{"List of ConfigMaps", []byte(`{"kind":"List","apiVersion":"v1","items":[{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}]}`), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(kind List: no pods or services)"},
		{"empty list", []byte(`{"apiVersion":"v1","items":[],"kind":"List","metadata":{"resourceVersion":""}}`), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(kind List: no pods or services): " + hint},
		{"only broken pods", []byte(`{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"},"spec":{"containers":3}}]}`), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(kind PodList: no readable pods or services: item 0 (Pod a): json: cannot unmarshal"},
		{"truncated JSON", list[:len(list)/2], runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(truncated JSON: unexpected EOF)"},
		{"trailing garbage", append(slices.Clone(list), "}"...), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(not valid JSON: invalid character '}'"},
		{"JSON number", []byte("42\n"), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "it is a number"},
		{"JSON array", []byte(`[{"kind":"Pod"}]`), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "it is a JSON array"},
		{"JSON null", []byte(`null`), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(no YAML document holds anything)"},
		{"no kind", []byte(`{"name":"web","image":"nginx"}`), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(no kind: not a Kubernetes object)"},
		{"kind not a string", []byte(`{"kind":5}`), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(not a Kubernetes object: json: cannot unmarshal number"},
		{"empty", []byte(" \n"), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(the input is empty)"},
		{"empty YAML", []byte("---\n# nothing\n---\n"), runtime.K8sOptions{}, runtime.ErrNotSnapshot, "(no YAML document holds anything)"},
		{"unnamed input", []byte("{}"), runtime.K8sOptions{Source: "-"}, runtime.ErrNotSnapshot, "the input is not a Kubernetes pod list (no kind: not a Kubernetes object): create it with `kubectl get pods,services -A -o json > pods.json`"},
		{"too large", list, runtime.K8sOptions{MaxBytes: 1 << 10}, runtime.ErrSnapshotTooLarge, "runtime: Kubernetes snapshot too large: snap.json is larger than 1024 bytes; take one snapshot per namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Source == "" {
				tt.opts.Source = "snap.json"
			}
			b, err := runtime.ReadK8sSnapshot(context.Background(), bytes.NewReader(tt.in), tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want one matching %v", err, tt.want)
			}
			if b != nil {
				t.Errorf("batch = %v, want nil", b)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.msg)
			}
			var se *runtime.SnapshotError
			if errors.As(err, &se) && se.File != tt.opts.Source {
				t.Errorf("SnapshotError.File = %q, want %q", se.File, tt.opts.Source)
			}
		})
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := runtime.ReadK8sSnapshot(ctx, bytes.NewReader(mustRead(t, "list.json")), runtime.K8sOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadError(t *testing.T) {
	_, err := runtime.ReadK8sSnapshot(context.Background(), errReader{}, runtime.K8sOptions{Source: "x.json"})
	if err == nil || errors.Is(err, runtime.ErrNotSnapshot) || !strings.Contains(err.Error(), "x.json: disk on fire") {
		t.Errorf("err = %v, want the read error", err)
	}
}

func TestDefaults(t *testing.T) {
	before := time.Now()
	b, err := runtime.ReadK8sSnapshot(context.Background(), bytes.NewReader(mustRead(t, "k9s-render-svc.json")), runtime.K8sOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Target != "-" || b.ObservedAt.Before(before.UTC().Truncate(time.Second)) || b.ObservedAt.Location() != time.UTC {
		t.Errorf("target, observed = %q, %v; want \"-\", now in UTC", b.Target, b.ObservedAt)
	}
	if _, ok := b.Node(graph.ClusterID("default")); !ok {
		t.Errorf("no cluster node %q", graph.ClusterID("default"))
	}
}

func TestEphemeralAndMirrorPod(t *testing.T) {
	const in = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"etcd-cp1","namespace":"kube-system",
	  "annotations":{"kubernetes.io/config.mirror":"5f1c","kubernetes.io/config.source":"file"},
	  "ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"cp1","uid":"8d2e","controller":true}]},
	 "spec":{"hostNetwork":true,"nodeName":"cp1","hostUsers":false,
	  "securityContext":{"seccompProfile":{"type":"Localhost","localhostProfile":"profiles/etcd.json"},"sysctls":[{"name":"net.core.somaxconn","value":"1024"}]},
	  "containers":[{"name":"etcd","image":"registry.k8s.io/etcd:3.5.15-0"}],
	  "ephemeralContainers":[{"name":"debugger-x1","image":"busybox:1.36","targetContainerName":"etcd","securityContext":{"capabilities":{"add":["SYS_PTRACE"]}}}]},
	 "status":{"phase":"Running",
	  "ephemeralContainerStatuses":[{"name":"debugger-x1","image":"docker.io/library/busybox:1.36","imageID":"docker.io/library/busybox@` + webDigest + `",
	    "ready":false,"restartCount":0,"state":{"running":{"startedAt":"2026-03-02T10:00:00Z"}}}]}}`
	b, err := runtime.ReadK8sSnapshot(context.Background(), strings.NewReader(in), runtime.K8sOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, b)
	w, _ := b.Node(graph.WorkloadID("default", "kube-system", "Pod", "etcd-cp1"))
	var wa runtime.WorkloadAttrs
	if err := graph.DecodeAttrs(w.Attrs, &wa); err != nil {
		t.Fatal(err)
	}
	wantSec := &runtime.PodSecurity{SeccompProfile: "Localhost/profiles/etcd.json", Sysctls: []string{"net.core.somaxconn"}}
	if !wa.Static || !wa.HostNetwork || wa.HostUsers == nil || *wa.HostUsers || !cmp.Equal(wa.SecurityContext, wantSec) {
		t.Errorf("workload attrs = %+v, want a static host-network pod with its seccomp profile and sysctl names", wa)
	}
	for _, e := range b.Edges {
		if e.Kind == graph.EdgeControlledBy {
			t.Errorf("a mirror pod got a controlled_by edge to %s", e.To)
		}
	}
	c, _ := b.Node(graph.ContainerID("default", "kube-system", "etcd-cp1", "debugger-x1"))
	var ca runtime.ContainerAttrs
	if err := graph.DecodeAttrs(c.Attrs, &ca); err != nil {
		t.Fatal(err)
	}
	if ca.Type != "ephemeral" || ca.TargetContainer != "etcd" || ca.State != "running" || ca.SecurityContext == nil ||
		!cmp.Equal(ca.SecurityContext.CapabilitiesAdd, []string{"SYS_PTRACE"}) {
		t.Errorf("ephemeral container attrs = %+v", ca)
	}
	want := "status.ephemeralContainerStatuses[debugger-x1].imageID=docker.io/library/busybox@" + webDigest
	if !slices.ContainsFunc(b.Edges, func(e graph.Edge) bool {
		return e.Kind == graph.EdgeRuns && e.From == c.ID && len(e.Evidence) == 1 && e.Evidence[0].Detail == want
	}) {
		t.Errorf("no runs edge from the ephemeral container with evidence %q", want)
	}
}
