package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/internal/testenv"
	"github.com/tether-sec/tether/internal/testkube"
	"github.com/tether-sec/tether/runtime"
)

// TestReadK8sLive writes pods (more than one list page of them) and a service
// to a real API server, as a kubelet would report them (status with image IDs),
// and checks that listing the cluster gives exactly the facts of reading
// `kubectl get pods,services -A -o json` from the same server.
func TestReadK8sLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Kubernetes API server")
	}
	srv := testkube.Start(t)
	ctx := context.Background()
	cs := srv.Client(t)
	for _, ns := range []string{"payments", "web"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	const digest = "sha256:47237ffd5e8d3ad8c0b6c26b7e5b2c0d9bb9cfee7e3c0c1b0a1f9a7a3c4e5d6f"
	// The chain a Deployment makes (no controller manager runs: the objects are
	// written as it would write them): Deployment → ReplicaSet → pods.
	labels := map[string]string{"app": "api"}
	podTemplate := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "reg.example/acme/api:1.4.2"}}}}
	dep, err := cs.AppsV1().Deployments("payments").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "payments"},
		Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: podTemplate},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := cs.AppsV1().ReplicaSets("payments").Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "api-7d9c6b5f4", Namespace: "payments", Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "api", UID: dep.UID, Controller: ptr(true)}}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: podTemplate},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cron, err := cs.BatchV1().CronJobs("web").Create(ctx, &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "report", Namespace: "web"},
		Spec: batchv1.CronJobSpec{Schedule: "0 * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "r", Image: "reg.example/acme/report:1"}}}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.BatchV1().Jobs("web").Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "report-29000000", Namespace: "web",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: "report", UID: cron.UID, Controller: ptr(true)}}},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "r", Image: "reg.example/acme/report:1"}}}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createPod := func(ns, name string, labels map[string]string) {
		t.Helper()
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "api", Image: "reg.example/acme/api:1.4.2",
				SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}}},
		}
		if ns == rs.Namespace {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr(true)}}
		}
		testkube.RunPod(t, cs, p, digest)
	}
	// 510 pods: the live list reads them in two pages.
	for i := range 510 {
		createPod("payments", fmt.Sprintf("api-7d9c6b5f4-%03d", i), map[string]string{"app": "api"})
	}
	createPod("web", "front-1", map[string]string{"app": "front"})
	// An uploader whose service account reads secrets and assumes an IAM role.
	if _, err := cs.CoreV1().ServiceAccounts("web").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "uploader", Namespace: "web",
		Annotations: map[string]string{"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/web-uploader"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().Roles("web").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "secret-reader", Namespace: "web"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().RoleBindings("web").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "uploader-secrets", Namespace: "web"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "secret-reader"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "uploader", Namespace: "web"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	up, err := cs.CoreV1().Pods("web").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "uploader-1", Namespace: "web"},
		Spec: corev1.PodSpec{NodeName: "node-1", ServiceAccountName: "uploader", Containers: []corev1.Container{{Name: "up", Image: "reg.example/acme/up:1"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services("payments").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "payments"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "api"},
			Ports: []corev1.ServicePort{{Port: 443, TargetPort: intstr.FromInt32(8080)}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	class := "alb"
	if _, err := cs.NetworkingV1().Ingresses("payments").Create(ctx, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "public", Namespace: "payments", Annotations: map[string]string{"alb.ingress.kubernetes.io/scheme": "internet-facing"}},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{Host: "pay.example.com", IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptr(networkingv1.PathTypePrefix),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "api", Port: networkingv1.ServiceBackendPort{Number: 443}}}}}}}}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if _, err := cs.NetworkingV1().NetworkPolicies("payments").Create(ctx, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "default-deny", Namespace: "payments"},
		Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	opts := runtime.K8sOptions{Cluster: "prod", Source: "test", Now: now}
	live, err := runtime.ReadK8sLive(ctx, srv.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	kubectl := testenv.LookPath(t, "kubectl", "apt-get install -y kubectl")
	cmd := exec.Command(kubectl, "--kubeconfig", srv.Kubeconfig, "get", "pods,services,ingresses,networkpolicies,replicasets,deployments,statefulsets,daemonsets,jobs,cronjobs,serviceaccounts,roles,clusterroles,rolebindings,clusterrolebindings", "-A", "-o", "json")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl: %v", err)
	}
	snap, err := runtime.ReadK8sSnapshot(ctx, bytes.NewReader(out), opts)
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, live)
	if d := cmp.Diff(snap.Nodes, live.Nodes); d != "" {
		t.Errorf("nodes: snapshot (-) and live (+) differ:\n%s", d)
	}
	if d := cmp.Diff(snap.Edges, live.Edges); d != "" {
		t.Errorf("edges: snapshot (-) and live (+) differ:\n%s", d)
	}
	pods := 0
	for _, n := range live.Nodes {
		if n.Attrs["kind"] == "Pod" {
			pods++
		}
	}
	if pods != 512 {
		t.Errorf("%d pods, want 512", pods)
	}
	if _, ok := live.Node(graph.IngressID("prod", "payments", "public")); !ok {
		t.Error("no ingress node")
	}
	if n, _ := live.Node(graph.WorkloadID("prod", "payments", "Pod", "api-7d9c6b5f4-000")); n.Attrs["network"] == nil {
		t.Error("a pod under a default-deny policy has no network facts")
	}
	upNode, _ := live.Node(graph.WorkloadID("prod", "web", "Pod", up.Name))
	if priv, _ := upNode.Attrs["privileges"].(map[string]any); priv["reads_secrets"] != "namespace" || upNode.Attrs["iam_role"] != "arn:aws:iam::123456789012:role/web-uploader" {
		t.Errorf("uploader: privileges %v, iam_role %v", upNode.Attrs["privileges"], upNode.Attrs["iam_role"])
	}
	// The chain: pod → ReplicaSet → Deployment, Job → CronJob, all observed.
	chain := map[string]bool{}
	for _, e := range live.Edges {
		if e.Kind == graph.EdgeControlledBy {
			chain[string(e.From)+" → "+string(e.To)] = true
		}
	}
	for _, want := range []string{
		string(graph.WorkloadID("prod", "payments", "ReplicaSet", "api-7d9c6b5f4")) + " → " + string(graph.WorkloadID("prod", "payments", "Deployment", "api")),
		string(graph.WorkloadID("prod", "web", "Job", "report-29000000")) + " → " + string(graph.WorkloadID("prod", "web", "CronJob", "report")),
		string(graph.WorkloadID("prod", "payments", "Pod", "api-7d9c6b5f4-000")) + " → " + string(graph.WorkloadID("prod", "payments", "ReplicaSet", "api-7d9c6b5f4")),
	} {
		if !chain[want] {
			t.Errorf("no controlled_by %s", want)
		}
	}
	for _, n := range live.Nodes {
		if n.Kind == graph.KindWorkload && n.Stub {
			t.Errorf("workload %s is a stub: every controller was listed", n.ID)
		}
	}

	// The kubeconfig loads as kubectl loads it; a refused token is a clear error.
	cfg, name, err := runtime.KubeConfig(srv.Kubeconfig, "")
	if err != nil || name != "test" || cfg.Host != srv.Config.Host {
		t.Errorf("KubeConfig = %v, %q, %v", cfg, name, err)
	}
	bad := rest.CopyConfig(srv.Config)
	bad.BearerToken = "wrong"
	if _, err := runtime.ReadK8sLive(ctx, bad, opts); !errors.Is(err, runtime.ErrCluster) {
		t.Errorf("wrong token: %v", err)
	}
	if _, _, err := runtime.KubeConfig(os.DevNull, ""); !errors.Is(err, runtime.ErrCluster) {
		t.Errorf("empty kubeconfig: %v", err)
	}
}

// TestWatchK8s: after the first full listing, a pod created later and the
// status it reports when it runs arrive as batches of their own.
func TestWatchK8s(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Kubernetes API server")
	}
	srv := testkube.Start(t)
	cs := srv.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	batches := make(chan *graph.Batch, 16)
	done := make(chan error, 1)
	go func() {
		done <- runtime.WatchK8s(ctx, srv.Config, runtime.WatchOptions{K8sOptions: runtime.K8sOptions{Cluster: "prod"}, Flush: 100 * time.Millisecond},
			func(b *graph.Batch) error { batches <- b; return nil })
	}()
	next := func(what string, ok func(*graph.Batch) bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case b := <-batches:
				if ok(b) {
					return
				}
			case err := <-done:
				t.Fatalf("watch ended waiting for %s: %v", what, err)
			case <-deadline:
				t.Fatalf("no batch with %s in 20 s", what)
			}
		}
	}
	next("the first listing", func(b *graph.Batch) bool { return len(b.Nodes) >= 1 })

	const digest = "sha256:47237ffd5e8d3ad8c0b6c26b7e5b2c0d9bb9cfee7e3c0c1b0a1f9a7a3c4e5d6f"
	p, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "late-1"},
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app", Image: "reg.example/acme/app:2"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	podID := graph.WorkloadID("prod", "default", "Pod", "late-1")
	next("the new pod", func(b *graph.Batch) bool { _, ok := b.Node(podID); return ok })

	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "reg.example/acme/app:2", ImageID: "reg.example/acme/app@" + digest}}}
	if _, err := cs.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	next("the running digest", func(b *graph.Batch) bool {
		for _, e := range b.Edges {
			if e.Kind == graph.EdgeRuns && e.To == graph.ImageID(digest) {
				return true
			}
		}
		return false
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("watch ended with %v after cancel", err)
	}
}

// TestReadK8sLiveGatewayAPI installs the Gateway API's Gateway and HTTPRoute
// custom resources (schemas left open) on a real API server, creates a route,
// and checks that the live listing reads them; without the CRDs the listing
// goes on quietly (TestReadK8sLive).
func TestReadK8sLiveGatewayAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Kubernetes API server")
	}
	srv := testkube.Start(t)
	ctx := context.Background()
	dc, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	for _, c := range []struct{ plural, kind string }{{"gateways", "Gateway"}, {"httproutes", "HTTPRoute"}} {
		crd := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": c.plural + ".gateway.networking.k8s.io",
				// As the Gateway API's own CRDs carry it: k8s.io groups are protected.
				"annotations": map[string]any{"api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api/pull/2466"}},
			"spec": map[string]any{"group": "gateway.networking.k8s.io", "scope": "Namespaced",
				"names": map[string]any{"plural": c.plural, "kind": c.kind},
				"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}},
		}}
		if _, err := dc.Resource(crds).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create := func(resource string, obj map[string]any) {
		t.Helper()
		gvr := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: resource}
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, err := dc.Resource(gvr).Namespace("default").Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("create %s: %v", resource, err)
			}
			time.Sleep(200 * time.Millisecond) // the CRD is not established yet
		}
	}
	create("gateways", map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
		"metadata": map[string]any{"name": "public"},
		"spec":     map[string]any{"gatewayClassName": "aws-alb", "listeners": []any{map[string]any{"name": "http", "port": int64(80), "protocol": "HTTP"}}}})
	create("httproutes", map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "web"},
		"spec": map[string]any{"parentRefs": []any{map[string]any{"name": "public"}},
			"rules": []any{map[string]any{"backendRefs": []any{map[string]any{"name": "web", "port": int64(80)}}}}}})
	b, err := runtime.ReadK8sLive(ctx, srv.Config, runtime.K8sOptions{Cluster: "prod", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	gw := graph.IngressID("prod", "default", "gateway/public")
	if n, ok := b.Node(gw); !ok || n.Stub {
		t.Fatalf("no gateway node: %+v", n)
	}
	found := false
	for _, e := range b.Edges {
		if e.From == gw && e.Kind == graph.EdgeExposes && e.To == graph.ServiceID("prod", "default", "web") {
			found = true
		}
	}
	if !found {
		t.Error("the route's backend is not exposed through the gateway")
	}
}
