package runtime

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/tether-sec/tether/graph"
)

// MethodK8sIRSA links a pod to the IAM role its service account's
// eks.amazonaws.com/role-arn annotation names (IAM Roles for Service Accounts).
const MethodK8sIRSA = "k8s-irsa"

// annotationIRSA is the service account annotation EKS reads for IRSA.
const annotationIRSA = "eks.amazonaws.com/role-arn"

// Privileges summarizes what a pod's service account may do in the cluster,
// from the RBAC bindings in the input: the facts that make a compromised pod
// dangerous.
type Privileges struct {
	// ClusterAdmin: bound to cluster-admin, or to a role that allows every verb
	// on every resource, cluster-wide.
	ClusterAdmin bool `json:"cluster_admin,omitempty"`
	// ReadsSecrets is "cluster" or "namespace" when the account may get, list or
	// watch secrets there.
	ReadsSecrets string `json:"reads_secrets,omitempty"`
	// WildcardVerbs / WildcardResources: a rule grants "*" verbs or resources.
	WildcardVerbs     bool `json:"wildcard_verbs,omitempty"`
	WildcardResources bool `json:"wildcard_resources,omitempty"`
	// CanExec: may create pods/exec (run commands in other pods).
	CanExec bool `json:"can_exec,omitempty"`
	// Bindings are the bindings that grant these, as evidence
	// ("ClusterRoleBinding ci-admin → ClusterRole cluster-admin").
	Bindings []string `json:"bindings,omitempty"`
}

func (p *Privileges) empty() bool {
	return !p.ClusterAdmin && p.ReadsSecrets == "" && !p.WildcardVerbs && !p.WildcardResources && !p.CanExec
}

// rbacIndex answers what each service account may do.
type rbacIndex struct {
	roles        map[string]*rbacv1.Role // ns/name
	clusterRoles map[string]*rbacv1.ClusterRole
	// grants are the (subject, role, scope) triples of every binding.
	grants map[string][]grant // "ns/sa" → grants
	sas    map[string]*corev1.ServiceAccount
	read   bool // whether the input held any RBAC object at all
}

type grant struct {
	binding   string // "RoleBinding ns/name" or "ClusterRoleBinding name"
	roleKind  string // Role or ClusterRole
	roleName  string
	namespace string // "" for cluster-wide
}

func newRBACIndex(s *snapshot) *rbacIndex {
	x := &rbacIndex{roles: map[string]*rbacv1.Role{}, clusterRoles: map[string]*rbacv1.ClusterRole{},
		grants: map[string][]grant{}, sas: map[string]*corev1.ServiceAccount{}}
	x.read = len(s.roles)+len(s.clusterRoles)+len(s.roleBindings)+len(s.clusterRoleBindings) > 0
	for i := range s.roles {
		r := &s.roles[i]
		x.roles[r.Namespace+"/"+r.Name] = r
	}
	for i := range s.clusterRoles {
		r := &s.clusterRoles[i]
		x.clusterRoles[r.Name] = r
	}
	for i := range s.serviceAccounts {
		sa := &s.serviceAccounts[i]
		x.sas[cmp.Or(sa.Namespace, "default")+"/"+sa.Name] = sa
	}
	subjects := func(subs []rbacv1.Subject, bindingNS string) []string {
		var out []string
		for _, sub := range subs {
			switch {
			case sub.Kind == rbacv1.ServiceAccountKind:
				out = append(out, cmp.Or(sub.Namespace, bindingNS)+"/"+sub.Name)
			case sub.Kind == rbacv1.GroupKind && sub.Name == "system:serviceaccounts":
				out = append(out, "*/*")
			case sub.Kind == rbacv1.GroupKind && strings.HasPrefix(sub.Name, "system:serviceaccounts:"):
				out = append(out, strings.TrimPrefix(sub.Name, "system:serviceaccounts:")+"/*")
			}
		}
		return out
	}
	for i := range s.roleBindings {
		b := &s.roleBindings[i]
		for _, sub := range subjects(b.Subjects, b.Namespace) {
			x.grants[sub] = append(x.grants[sub], grant{binding: "RoleBinding " + b.Namespace + "/" + b.Name, roleKind: b.RoleRef.Kind, roleName: b.RoleRef.Name, namespace: b.Namespace})
		}
	}
	for i := range s.clusterRoleBindings {
		b := &s.clusterRoleBindings[i]
		for _, sub := range subjects(b.Subjects, "") {
			x.grants[sub] = append(x.grants[sub], grant{binding: "ClusterRoleBinding " + b.Name, roleKind: b.RoleRef.Kind, roleName: b.RoleRef.Name})
		}
	}
	return x
}

// privileges of the service account ns/name.
func (x *rbacIndex) privileges(ns, name string) *Privileges {
	p := &Privileges{}
	var gs []grant
	for _, key := range []string{ns + "/" + name, ns + "/*", "*/*"} {
		gs = append(gs, x.grants[key]...)
	}
	for _, g := range gs {
		var rules []rbacv1.PolicyRule
		switch g.roleKind {
		case "ClusterRole":
			if r := x.clusterRoles[g.roleName]; r != nil {
				rules = r.Rules
			} else if g.roleName == "cluster-admin" {
				rules = []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}
			}
		case "Role":
			if r := x.roles[g.namespace+"/"+g.roleName]; r != nil {
				rules = r.Rules
			}
		}
		scope := "namespace"
		if g.namespace == "" {
			scope = "cluster"
		}
		granted := false
		for _, rule := range rules {
			allVerbs, allRes := slices.Contains(rule.Verbs, "*"), slices.Contains(rule.Resources, "*")
			core := slices.Contains(rule.APIGroups, "") || slices.Contains(rule.APIGroups, "*")
			if allVerbs {
				p.WildcardVerbs, granted = true, true
			}
			if allRes {
				p.WildcardResources, granted = true, true
			}
			if allVerbs && allRes && slices.Contains(rule.APIGroups, "*") && scope == "cluster" {
				p.ClusterAdmin = true
			}
			reads := allVerbs || slices.ContainsFunc(rule.Verbs, func(v string) bool { return v == "get" || v == "list" || v == "watch" })
			if core && reads && (allRes || slices.Contains(rule.Resources, "secrets")) {
				if p.ReadsSecrets != "cluster" {
					p.ReadsSecrets = scope
				}
				granted = true
			}
			if core && (allVerbs || slices.Contains(rule.Verbs, "create")) && (allRes || slices.Contains(rule.Resources, "pods/exec")) {
				p.CanExec, granted = true, true
			}
		}
		if granted {
			p.Bindings = append(p.Bindings, fmt.Sprintf("%s → %s %s", g.binding, g.roleKind, g.roleName))
		}
	}
	slices.Sort(p.Bindings)
	p.Bindings = slices.Compact(p.Bindings)
	return p
}

// addIdentity records a pod's service account privileges on its attributes and
// links it to the IAM role its service account's IRSA annotation names.
func addIdentity(b *graph.Batch, x *rbacIndex, podID graph.ID, p *corev1.Pod, attrs *WorkloadAttrs) {
	sa := cmp.Or(p.Spec.ServiceAccountName, p.Spec.DeprecatedServiceAccount, "default")
	if x.read {
		if priv := x.privileges(p.Namespace, sa); !priv.empty() {
			attrs.Privileges = priv
		}
	}
	acct := x.sas[p.Namespace+"/"+sa]
	if acct == nil {
		return
	}
	arn := acct.Annotations[annotationIRSA]
	if !strings.HasPrefix(arn, "arn:") {
		return
	}
	attrs.IAMRole = arn
	role := graph.CloudResourceID(arn)
	b.AddNode(graph.Node{ID: role, Kind: graph.KindCloudResource, Name: arn, Stub: true, Attrs: map[string]any{"arn": arn, "type": "AWS::IAM::Role"}})
	b.AddEdge(graph.Edge{From: podID, Kind: graph.EdgeUsesIdentity, To: role, Method: MethodK8sIRSA, Confidence: 1,
		Evidence: []graph.Evidence{{Source: MethodK8sIRSA, Detail: fmt.Sprintf("service account %s/%s annotation %s=%s", p.Namespace, sa, annotationIRSA, arn)}}})
}
