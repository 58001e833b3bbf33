package runtime_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/runtime"
)

// rbacSnapshot is what `kubectl get pods,serviceaccounts,roles,clusterroles,
// rolebindings,clusterrolebindings -A -o json` gives for four pods whose service
// accounts are granted, in turn: cluster-admin, reading secrets in their
// namespace, exec into pods through a group binding, and nothing (but an IRSA role).
const rbacSnapshot = `{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ci-runner", "namespace": "ci"}, "spec": {"serviceAccountName": "runner", "containers": [{"name": "c", "image": "a"}]}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "api-1", "namespace": "shop"}, "spec": {"serviceAccountName": "api", "containers": [{"name": "c", "image": "a"}]}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug", "namespace": "ops"}, "spec": {"containers": [{"name": "c", "image": "a"}]}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "uploader", "namespace": "shop"}, "spec": {"serviceAccountName": "uploader", "containers": [{"name": "c", "image": "a"}]}},
 {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "uploader", "namespace": "shop", "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/shop-uploader"}}},
 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "cluster-admin"}, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}]},
 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "ci-admin"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": "ci"}]},
 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "secret-reader", "namespace": "shop"}, "rules": [{"apiGroups": [""], "resources": ["secrets", "configmaps"], "verbs": ["get", "list"]}]},
 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "api-secrets", "namespace": "shop"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secret-reader"}, "subjects": [{"kind": "ServiceAccount", "name": "api"}]},
 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "pod-exec"}, "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]},
 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "ops-exec", "namespace": "ops"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pod-exec"}, "subjects": [{"kind": "Group", "name": "system:serviceaccounts:ops"}]}
]}`

func TestPrivileges(t *testing.T) {
	b, err := runtime.ReadK8sSnapshot(context.Background(), strings.NewReader(rbacSnapshot), runtime.K8sOptions{Cluster: "prod", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, b)
	got := map[string]any{}
	for _, n := range b.Nodes {
		if n.Kind == graph.KindWorkload {
			got[n.Name] = n.Attrs["privileges"]
		}
	}
	want := map[string]any{
		"ci/ci-runner": map[string]any{"cluster_admin": true, "reads_secrets": "cluster", "wildcard_verbs": true, "wildcard_resources": true, "can_exec": true,
			"bindings": []any{"ClusterRoleBinding ci-admin → ClusterRole cluster-admin"}},
		"shop/api-1":    map[string]any{"reads_secrets": "namespace", "bindings": []any{"RoleBinding shop/api-secrets → Role secret-reader"}},
		"ops/debug":     map[string]any{"can_exec": true, "bindings": []any{"RoleBinding ops/ops-exec → ClusterRole pod-exec"}},
		"shop/uploader": nil,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("privileges (-want +got):\n%s", d)
	}
	uploader := graph.WorkloadID("prod", "shop", "Pod", "uploader")
	role := graph.CloudResourceID("arn:aws:iam::123456789012:role/shop-uploader")
	found := false
	for _, e := range b.Edges {
		if e.From == uploader && e.Kind == graph.EdgeUsesIdentity && e.To == role && e.Method == runtime.MethodK8sIRSA {
			found = true
		}
	}
	n, _ := b.Node(uploader)
	if !found || n.Attrs["iam_role"] != "arn:aws:iam::123456789012:role/shop-uploader" {
		t.Errorf("IRSA: edge %v, iam_role %v", found, n.Attrs["iam_role"])
	}
}

// TestIngress: an internet-facing ALB Ingress exposes the services its rules
// and default backend send traffic to, each edge naming the rule.
func TestIngress(t *testing.T) {
	in := `{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}},
 {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "public", "namespace": "shop",
   "annotations": {"alb.ingress.kubernetes.io/scheme": "internet-facing", "kubernetes.io/description": "x"}},
  "spec": {"ingressClassName": "alb", "tls": [{"hosts": ["shop.example.com"]}],
   "defaultBackend": {"service": {"name": "fallback", "port": {"number": 8080}}},
   "rules": [{"host": "shop.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http"}}}}]}}]},
  "status": {"loadBalancer": {"ingress": [{"hostname": "k8s-shop-public-1234.eu-west-1.elb.amazonaws.com"}]}}}
]}`
	b, err := runtime.ReadK8sSnapshot(context.Background(), strings.NewReader(in), runtime.K8sOptions{Cluster: "prod", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, b)
	ing, ok := b.Node(graph.IngressID("prod", "shop", "public"))
	if !ok {
		t.Fatal("no ingress node")
	}
	wantAttrs := map[string]any{"namespace": "shop", "name": "public", "class": "alb", "hosts": []any{"shop.example.com"}, "tls_hosts": []any{"shop.example.com"},
		"load_balancer_ingress":     []any{"k8s-shop-public-1234.eu-west-1.elb.amazonaws.com"},
		"load_balancer_annotations": map[string]any{"alb.ingress.kubernetes.io/scheme": "internet-facing"}}
	if d := cmp.Diff(wantAttrs, ing.Attrs); d != "" {
		t.Errorf("ingress attrs (-want +got):\n%s", d)
	}
	var routes []string
	for _, e := range b.Edges {
		if e.From == ing.ID && e.Kind == graph.EdgeExposes {
			routes = append(routes, string(e.To)+" "+e.Evidence[0].Detail)
		}
	}
	want := []string{
		string(graph.ServiceID("prod", "shop", "fallback")) + " spec.defaultBackend → service fallback:8080",
		string(graph.ServiceID("prod", "shop", "web")) + " spec.rules[0] host shop.example.com path / → service web:http (rules[0].http.paths[0])",
	}
	if d := cmp.Diff(want, routes); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
}

// TestNetworkIsolation: a default-deny policy isolates every pod of its
// namespace; an allow rule from 0.0.0.0/0 opens one of them to anywhere; a pod
// of a namespace without policies has no network facts.
func TestNetworkIsolation(t *testing.T) {
	in := `{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "a"}]}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db-1", "namespace": "shop", "labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "a"}]}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tool", "namespace": "ops"}, "spec": {"containers": [{"name": "c", "image": "a"}]}},
 {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "default-deny", "namespace": "shop"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
 {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "web-public", "namespace": "shop"},
  "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}]}}
]}`
	b, err := runtime.ReadK8sSnapshot(context.Background(), strings.NewReader(in), runtime.K8sOptions{Cluster: "prod", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, n := range b.Nodes {
		if n.Kind == graph.KindWorkload {
			got[n.Name] = n.Attrs["network"]
		}
	}
	want := map[string]any{
		"shop/web-1": map[string]any{"policies": []any{"default-deny", "web-public"}, "ingress_isolated": true, "ingress_from_anywhere": true, "egress_isolated": true},
		"shop/db-1":  map[string]any{"policies": []any{"default-deny"}, "ingress_isolated": true, "egress_isolated": true},
		"ops/tool":   nil,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("network (-want +got):\n%s", d)
	}
}

// TestGatewayRoutes: an HTTPRoute attached to a Gateway in another namespace
// exposes its backend services through that Gateway.
func TestGatewayRoutes(t *testing.T) {
	in := `{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "public", "namespace": "infra"},
  "spec": {"gatewayClassName": "aws-alb", "listeners": [{"name": "https", "hostname": "*.example.com", "port": 443, "protocol": "HTTPS"}]},
  "status": {"addresses": [{"type": "Hostname", "value": "gw-1234.elb.amazonaws.com"}]}},
 {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "shop", "namespace": "shop"},
  "spec": {"parentRefs": [{"name": "public", "namespace": "infra"}], "hostnames": ["shop.example.com"],
   "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": [{"name": "web", "port": 80}]}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
]}`
	b, err := runtime.ReadK8sSnapshot(context.Background(), strings.NewReader(in), runtime.K8sOptions{Cluster: "prod", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, b)
	gw := graph.IngressID("prod", "infra", "gateway/public")
	n, ok := b.Node(gw)
	if !ok || n.Stub || n.Attrs["class"] != "aws-alb" || n.Attrs["type"] != "Gateway" {
		t.Fatalf("gateway node %+v", n)
	}
	var got []string
	for _, e := range b.Edges {
		if e.From == gw && e.Kind == graph.EdgeExposes {
			got = append(got, string(e.To)+" "+e.Evidence[0].Detail)
		}
	}
	want := []string{string(graph.ServiceID("prod", "shop", "web")) + " HTTPRoute shop/shop rules[0] → service web:80 (hosts [shop.example.com])"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("exposes (-want +got):\n%s", d)
	}
}
