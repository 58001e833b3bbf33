package runtime

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// NetworkIsolation says which NetworkPolicies select a pod and what they leave
// open: the facts that decide whether anything may reach it.
type NetworkIsolation struct {
	// Policies are the namespace's NetworkPolicies whose podSelector selects
	// the pod.
	Policies []string `json:"policies"`
	// IngressIsolated: at least one selecting policy has policyType Ingress, so
	// only what some policy allows may connect (without one, everything may).
	IngressIsolated bool `json:"ingress_isolated"`
	// IngressFromAnywhere: an ingress rule allows every source (no from, or an
	// ipBlock of 0.0.0.0/0 or ::/0).
	IngressFromAnywhere bool `json:"ingress_from_anywhere,omitempty"`
	EgressIsolated      bool `json:"egress_isolated"`
}

// isolation of pod p under the NetworkPolicies of its namespace; nil when the
// input held no policy for that namespace (nothing is known, or nothing isolates).
func isolation(p *corev1.Pod, policies []networkingv1.NetworkPolicy) *NetworkIsolation {
	var iso *NetworkIsolation
	for i := range policies {
		np := &policies[i]
		if np.Namespace != p.Namespace {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		if iso == nil {
			iso = &NetworkIsolation{}
		}
		iso.Policies = append(iso.Policies, np.Name)
		types := np.Spec.PolicyTypes
		if len(types) == 0 {
			// The API server defaults: Ingress always, Egress when egress rules exist.
			types = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
			if len(np.Spec.Egress) > 0 {
				types = append(types, networkingv1.PolicyTypeEgress)
			}
		}
		if slices.Contains(types, networkingv1.PolicyTypeIngress) {
			iso.IngressIsolated = true
			for _, r := range np.Spec.Ingress {
				if len(r.From) == 0 {
					iso.IngressFromAnywhere = true
				}
				for _, f := range r.From {
					if f.IPBlock != nil && (f.IPBlock.CIDR == "0.0.0.0/0" || f.IPBlock.CIDR == "::/0") {
						iso.IngressFromAnywhere = true
					}
				}
			}
		}
		if slices.Contains(types, networkingv1.PolicyTypeEgress) {
			iso.EgressIsolated = true
		}
	}
	if iso != nil {
		slices.Sort(iso.Policies)
	}
	return iso
}
