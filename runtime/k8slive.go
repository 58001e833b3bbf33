package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tether-sec/tether/graph"
)

// controllerGVKs are the workload controllers listed with the pods.
var controllerGVKs = []struct {
	schema.GroupVersionKind
	resource string
}{
	{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}, "replicasets"},
	{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "deployments"},
	{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, "statefulsets"},
	{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}, "daemonsets"},
	{schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}, "jobs"},
	{schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}, "cronjobs"},
}

// listPage is how many objects one list request asks for; the API server
// continues the list with a token, so large clusters are read in pages.
const listPage = 500

// ErrCluster is matched by the error of a cluster that cannot be reached or
// read: no kubeconfig, a refused connection, no permission to list.
var ErrCluster = errors.New("runtime: cannot read the Kubernetes cluster")

// KubeConfig loads the client configuration the way kubectl does: the
// kubeconfig file (path, else $KUBECONFIG, else ~/.kube/config) with the given
// context (empty: the current one), or the in-cluster service account when no
// file exists and tether runs in a pod. It returns the config and the context
// name, which names the cluster by default.
func KubeConfig(path, context string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		if ic, ierr := rest.InClusterConfig(); ierr == nil && path == "" && context == "" {
			return ic, "in-cluster", nil
		}
		return nil, "", fmt.Errorf("%w: %v (pass --kubeconfig FILE and --context NAME, run inside the cluster, or read a snapshot with --snapshot FILE)", ErrCluster, err)
	}
	raw, err := cc.RawConfig()
	name := context
	if err == nil && name == "" {
		name = raw.CurrentContext
	}
	return cfg, name, nil
}

// ReadK8sLive lists the pods, services and workload controllers (ReplicaSets,
// Deployments, StatefulSets, DaemonSets, Jobs, CronJobs; metadata only) of every
// namespace through the API server and returns the same facts ReadK8sSnapshot
// gives for a snapshot of them. Lists are read in pages of 500.
func ReadK8sLive(ctx context.Context, cfg *rest.Config, opts K8sOptions) (*graph.Batch, error) {
	opts = opts.withDefaults()
	snap, err := listLive(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	return buildBatch(ctx, snap, opts)
}

// listLive reads what ReadK8sLive turns into facts.
func listLive(ctx context.Context, cfg *rest.Config, opts K8sOptions) (*snapshot, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCluster, err)
	}
	// The pods' controllers come through the metadata client: owner references
	// are all the chain needs.
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCluster, err)
	}
	snap := &snapshot{skipped: map[string]int{}}
	all := metav1.NamespaceAll
	// Pods and services are required; without the right to list anything else,
	// the facts that need it are left out and a warning says which (ifForbidden).
	type listing struct {
		what, ifForbidden string
		run               func() error
	}
	lists := []listing{
		{"pods", "", func() error {
			return pages(ctx, cs.CoreV1().Pods(all).List, func(l *corev1.PodList) []corev1.Pod { return l.Items }, &snap.pods)
		}},
		{"services", "", func() error {
			return pages(ctx, cs.CoreV1().Services(all).List, func(l *corev1.ServiceList) []corev1.Service { return l.Items }, &snap.services)
		}},
		{"ingresses", "exposure through them is not recorded", func() error {
			return pages(ctx, cs.NetworkingV1().Ingresses(all).List, func(l *networkingv1.IngressList) []networkingv1.Ingress { return l.Items }, &snap.ingresses)
		}},
		{"network policies", "pods' network isolation is not assessed", func() error {
			return pages(ctx, cs.NetworkingV1().NetworkPolicies(all).List, func(l *networkingv1.NetworkPolicyList) []networkingv1.NetworkPolicy { return l.Items }, &snap.networkPolicies)
		}},
		{"nodes", "pods' platforms are unknown", func() error {
			return pages(ctx, cs.CoreV1().Nodes().List, func(l *corev1.NodeList) []corev1.Node { return l.Items }, &snap.nodes)
		}},
	}
	for _, gvk := range controllerGVKs {
		gvr := schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: gvk.resource}
		lists = append(lists, listing{gvr.Resource, "the chain stops at the pods' owner references", func() error {
			return pages(ctx, mc.Resource(gvr).Namespace(all).List, func(l *metav1.PartialObjectMetadataList) []metav1.PartialObjectMetadata {
				for i := range l.Items {
					l.Items[i].APIVersion, l.Items[i].Kind = gvk.GroupVersion().String(), gvk.Kind
				}
				return l.Items
			}, &snap.controllers)
		}})
	}
	// Service accounts and RBAC, for the pods' privileges and IAM roles.
	const noIdentity = "pods' privileges and IAM roles are not assessed"
	lists = append(lists,
		listing{"serviceaccounts", noIdentity, func() error {
			return pages(ctx, cs.CoreV1().ServiceAccounts(all).List, func(l *corev1.ServiceAccountList) []corev1.ServiceAccount { return l.Items }, &snap.serviceAccounts)
		}},
		listing{"roles", noIdentity, func() error {
			return pages(ctx, cs.RbacV1().Roles(all).List, func(l *rbacv1.RoleList) []rbacv1.Role { return l.Items }, &snap.roles)
		}},
		listing{"clusterroles", noIdentity, func() error {
			return pages(ctx, cs.RbacV1().ClusterRoles().List, func(l *rbacv1.ClusterRoleList) []rbacv1.ClusterRole { return l.Items }, &snap.clusterRoles)
		}},
		listing{"rolebindings", noIdentity, func() error {
			return pages(ctx, cs.RbacV1().RoleBindings(all).List, func(l *rbacv1.RoleBindingList) []rbacv1.RoleBinding { return l.Items }, &snap.roleBindings)
		}},
		listing{"clusterrolebindings", noIdentity, func() error {
			return pages(ctx, cs.RbacV1().ClusterRoleBindings().List, func(l *rbacv1.ClusterRoleBindingList) []rbacv1.ClusterRoleBinding { return l.Items }, &snap.clusterRoleBindings)
		}},
	)
	for _, l := range lists {
		err := l.run()
		switch {
		case err == nil:
		case l.ifForbidden != "" && apierrors.IsForbidden(err):
			opts.Logger.Warn("runtime: cannot list "+l.what+": "+l.ifForbidden, "err", err)
		default:
			return nil, clusterError(cfg.Host, l.what, err)
		}
	}
	if err := listGatewayAPI(ctx, cfg, snap, opts); err != nil {
		return nil, err
	}
	for i := range snap.pods {
		setKind(&snap.pods[i].TypeMeta, "Pod")
	}
	for i := range snap.services {
		setKind(&snap.services[i].TypeMeta, "Service")
	}
	opts.Logger.Debug("runtime: listed the cluster", "server", cfg.Host, "pods", len(snap.pods), "services", len(snap.services))
	return snap, nil
}

// pages runs one typed, paged list to its end and appends the items of every
// page to dst.
func pages[L interface{ GetContinue() string }, T any](ctx context.Context, list func(context.Context, metav1.ListOptions) (L, error), items func(L) []T, dst *[]T) error {
	return listAll(ctx, func(lo metav1.ListOptions) (string, error) {
		l, err := list(ctx, lo)
		if err != nil {
			return "", err
		}
		*dst = append(*dst, items(l)...)
		return l.GetContinue(), nil
	})
}

// setKind fills the type of a listed object, which list responses leave out.
func setKind(tm *metav1.TypeMeta, kind string) {
	tm.APIVersion, tm.Kind = corev1.SchemeGroupVersion.String(), kind
}

// listAll runs one paged list to its end.
func listAll(ctx context.Context, page func(metav1.ListOptions) (string, error)) error {
	lo := metav1.ListOptions{Limit: listPage}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		next, err := page(lo)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		lo.Continue = next
	}
}

func clusterError(host, what string, err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w: %s: listing %s is forbidden: the identity needs list on pods and services in all namespaces (a ClusterRole with get/list/watch): %v", ErrCluster, host, what, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w: %s: the credentials were refused: refresh the kubeconfig's token: %v", ErrCluster, host, err)
	}
	return fmt.Errorf("%w: %s: listing %s: %v", ErrCluster, host, what, err)
}

// listGatewayAPI lists the Gateway API objects where the cluster has the
// Gateway API installed (they are custom resources: absent is not an error).
func listGatewayAPI(ctx context.Context, cfg *rest.Config, snap *snapshot, opts K8sOptions) error {
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCluster, err)
	}
	for _, res := range []struct{ resource, kind string }{{"gateways", "Gateway"}, {"httproutes", "HTTPRoute"}, {"grpcroutes", "GRPCRoute"}} {
		gvr := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: res.resource}
		err := listAll(ctx, func(lo metav1.ListOptions) (string, error) {
			l, err := dc.Resource(gvr).Namespace(metav1.NamespaceAll).List(ctx, lo)
			if err != nil {
				return "", err
			}
			for i, it := range l.Items {
				raw, err := json.Marshal(it.Object)
				if err != nil {
					return "", err
				}
				snap.addGatewayObj(i, res.kind, it.GetNamespace()+"/"+it.GetName(), raw)
			}
			return l.GetContinue(), nil
		})
		switch {
		case apierrors.IsNotFound(err):
			opts.Logger.Debug("runtime: the Gateway API is not installed", "resource", res.resource)
		case apierrors.IsForbidden(err):
			opts.Logger.Warn("runtime: cannot list "+res.resource+": exposure through them is not recorded", "err", err)
		case err != nil:
			return clusterError(cfg.Host, res.resource, err)
		}
	}
	return nil
}
