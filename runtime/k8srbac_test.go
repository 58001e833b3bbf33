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
