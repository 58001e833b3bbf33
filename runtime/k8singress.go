package runtime

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/tether-sec/tether/graph"
)

// MethodK8sIngress links an Ingress to the services its rules send traffic to.
const MethodK8sIngress = "k8s-ingress-backend"

// IngressAttrs are the attributes of an ingress node: what the world reaches
// and through which load balancer.
type IngressAttrs struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	UID       string            `json:"uid,omitempty"`
	Created   string            `json:"created,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	// Class is spec.ingressClassName (or the legacy kubernetes.io/ingress.class
	// annotation).
	Class string `json:"class,omitempty"`
	// Hosts are the rules' hosts ("*" for a rule without one); TLSHosts those
	// served over TLS.
	Hosts    []string `json:"hosts,omitempty"`
	TLSHosts []string `json:"tls_hosts,omitempty"`
	// LoadBalancerIngress lists status.loadBalancer.ingress, IP or host name each.
	LoadBalancerIngress []string `json:"load_balancer_ingress,omitempty"`
	// LoadBalancerAnnotations are the annotations that decide whether the load
	// balancer is internal or public (alb.ingress.kubernetes.io/scheme, …).
	LoadBalancerAnnotations map[string]string `json:"load_balancer_annotations,omitempty"`
}

// addIngress adds an Ingress and its exposes edges to the services it routes to.
func addIngress(b *graph.Batch, cluster string, ing *networkingv1.Ingress) {
	ns := cmp.Or(ing.Namespace, "default")
	id := graph.IngressID(cluster, ns, ing.Name)
	attrs := IngressAttrs{Namespace: ns, Name: ing.Name, UID: string(ing.UID), Created: timeString(ing.CreationTimestamp), Labels: ing.Labels,
		Class: ing.Annotations["kubernetes.io/ingress.class"]}
	if ing.Spec.IngressClassName != nil {
		attrs.Class = *ing.Spec.IngressClassName
	}
	for _, lb := range ing.Status.LoadBalancer.Ingress {
		if a := cmp.Or(lb.IP, lb.Hostname); a != "" {
			attrs.LoadBalancerIngress = append(attrs.LoadBalancerIngress, a)
		}
	}
	for k, v := range ing.Annotations {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "scheme") || strings.Contains(lk, "internal") || strings.Contains(lk, "load-balancer") {
			if attrs.LoadBalancerAnnotations == nil {
				attrs.LoadBalancerAnnotations = map[string]string{}
			}
			attrs.LoadBalancerAnnotations[k] = v
		}
	}
	for _, t := range ing.Spec.TLS {
		attrs.TLSHosts = append(attrs.TLSHosts, t.Hosts...)
	}
	type route struct{ service, detail string }
	var routes []route
	if d := ing.Spec.DefaultBackend; d != nil && d.Service != nil {
		routes = append(routes, route{d.Service.Name, "spec.defaultBackend → " + backendText(d)})
	}
	for i, r := range ing.Spec.Rules {
		attrs.Hosts = append(attrs.Hosts, cmp.Or(r.Host, "*"))
		if r.HTTP == nil {
			continue
		}
		for j, p := range r.HTTP.Paths {
			if p.Backend.Service == nil {
				continue
			}
			routes = append(routes, route{p.Backend.Service.Name,
				fmt.Sprintf("spec.rules[%d] host %s path %s → %s (rules[%d].http.paths[%d])", i, cmp.Or(r.Host, "*"), cmp.Or(p.Path, "/"), backendText(&p.Backend), i, j)})
		}
	}
	slices.Sort(attrs.Hosts)
	attrs.Hosts = slices.Compact(attrs.Hosts)
	slices.Sort(attrs.TLSHosts)
	attrs.TLSHosts = slices.Compact(attrs.TLSHosts)
	b.AddNode(graph.Node{ID: id, Kind: graph.KindIngress, Name: ns + "/" + ing.Name, Attrs: graph.Attrs(attrs)})
	b.Link(id, graph.EdgeInCluster, graph.ClusterID(cluster), MethodK8sSnapshot, 1,
		graph.Evidence{Source: MethodK8sSnapshot, Detail: "cluster=" + cluster})
	for _, rt := range routes {
		svc := graph.ServiceID(cluster, ns, rt.service)
		b.AddNode(graph.Node{ID: svc, Kind: graph.KindService, Name: ns + "/" + rt.service, Stub: true,
			Attrs: map[string]any{"namespace": ns, "name": rt.service}})
		b.Link(id, graph.EdgeExposes, svc, MethodK8sIngress, 1, graph.Evidence{Source: MethodK8sIngress, Detail: rt.detail})
	}
}

func backendText(bk *networkingv1.IngressBackend) string {
	port := ""
	if p := bk.Service.Port; p.Name != "" {
		port = ":" + p.Name
	} else if p.Number != 0 {
		port = fmt.Sprintf(":%d", p.Number)
	}
	return "service " + bk.Service.Name + port
}
