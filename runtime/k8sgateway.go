package runtime

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-sec/tether/graph"
)

// MethodK8sRoute links a Gateway API Gateway to the services its routes send
// traffic to.
const MethodK8sRoute = "k8s-gateway-route"

// The Gateway API objects tether reads, the parts it needs (gateway.networking.k8s.io/v1).
type (
	gatewayObj struct {
		metav1.TypeMeta   `json:",inline"`
		metav1.ObjectMeta `json:"metadata"`
		Spec              struct {
			GatewayClassName string `json:"gatewayClassName"`
			Listeners        []struct {
				Name     string `json:"name"`
				Hostname string `json:"hostname"`
				Port     int32  `json:"port"`
				Protocol string `json:"protocol"`
			} `json:"listeners"`
		} `json:"spec"`
		Status struct {
			Addresses []struct {
				Value string `json:"value"`
			} `json:"addresses"`
		} `json:"status"`
	}
	routeObj struct {
		metav1.TypeMeta   `json:",inline"`
		metav1.ObjectMeta `json:"metadata"`
		Spec              struct {
			ParentRefs []struct {
				Kind      string `json:"kind"`
				Namespace string `json:"namespace"`
				Name      string `json:"name"`
			} `json:"parentRefs"`
			Hostnames []string `json:"hostnames"`
			Rules     []struct {
				BackendRefs []struct {
					Kind      string `json:"kind"`
					Namespace string `json:"namespace"`
					Name      string `json:"name"`
					Port      int32  `json:"port"`
				} `json:"backendRefs"`
			} `json:"rules"`
		} `json:"spec"`
	}
)

// gatewayKinds are the Gateway API kinds read (apiVersion and kind).
var gatewayKinds = map[string]bool{
	"gateway.networking.k8s.io/v1 Gateway": true, "gateway.networking.k8s.io/v1 HTTPRoute": true,
	"gateway.networking.k8s.io/v1 GRPCRoute": true,
}

// GatewayAttrs are the attributes of a Gateway's ingress node.
type GatewayAttrs struct {
	Type      string   `json:"type"` // "Gateway"
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	UID       string   `json:"uid,omitempty"`
	Class     string   `json:"class,omitempty"`
	Listeners []string `json:"listeners,omitempty"` // "HTTPS 443 shop.example.com"
	Addresses []string `json:"addresses,omitempty"`
}

// gatewayID names a Gateway's node: an ingress node whose name cannot clash
// with an Ingress's (names have no "/").
func gatewayID(cluster, ns, name string) graph.ID {
	return graph.IngressID(cluster, ns, "gateway/"+name)
}

// addGatewayObj decodes one Gateway API object into the snapshot.
func (s *snapshot) addGatewayObj(index int, kind, name string, raw json.RawMessage) {
	switch kind {
	case "Gateway":
		decodeInto(s, index, kind, name, raw, &s.gateways)
	default:
		decodeInto(s, index, kind, name, raw, &s.routes)
	}
}

// addGateways adds the Gateways and, for every route, exposes edges from its
// parent Gateways to its backend services.
func addGateways(b *graph.Batch, cluster string, gateways []gatewayObj, routes []routeObj) {
	for i := range gateways {
		g := &gateways[i]
		ns := cmp.Or(g.Namespace, "default")
		a := GatewayAttrs{Type: "Gateway", Namespace: ns, Name: g.Name, UID: string(g.UID), Class: g.Spec.GatewayClassName}
		for _, l := range g.Spec.Listeners {
			a.Listeners = append(a.Listeners, fmt.Sprintf("%s %d %s", l.Protocol, l.Port, cmp.Or(l.Hostname, "*")))
		}
		for _, ad := range g.Status.Addresses {
			a.Addresses = append(a.Addresses, ad.Value)
		}
		id := gatewayID(cluster, ns, g.Name)
		b.AddNode(graph.Node{ID: id, Kind: graph.KindIngress, Name: ns + "/" + g.Name, Attrs: graph.Attrs(a)})
		b.Link(id, graph.EdgeInCluster, graph.ClusterID(cluster), MethodK8sSnapshot, 1, graph.Evidence{Source: MethodK8sSnapshot, Detail: "cluster=" + cluster})
	}
	slices.SortStableFunc(routes, func(a, b routeObj) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	for _, rt := range routes {
		ns := cmp.Or(rt.Namespace, "default")
		for _, p := range rt.Spec.ParentRefs {
			if p.Kind != "" && p.Kind != "Gateway" {
				continue
			}
			gw := gatewayID(cluster, cmp.Or(p.Namespace, ns), p.Name)
			b.AddNode(graph.Node{ID: gw, Kind: graph.KindIngress, Name: cmp.Or(p.Namespace, ns) + "/" + p.Name, Stub: true,
				Attrs: map[string]any{"type": "Gateway", "namespace": cmp.Or(p.Namespace, ns), "name": p.Name}})
			for i, r := range rt.Spec.Rules {
				for _, be := range r.BackendRefs {
					if be.Kind != "" && be.Kind != "Service" {
						continue
					}
					sns := cmp.Or(be.Namespace, ns)
					svc := graph.ServiceID(cluster, sns, be.Name)
					b.AddNode(graph.Node{ID: svc, Kind: graph.KindService, Name: sns + "/" + be.Name, Stub: true, Attrs: map[string]any{"namespace": sns, "name": be.Name}})
					b.Link(gw, graph.EdgeExposes, svc, MethodK8sRoute, 1, graph.Evidence{Source: MethodK8sRoute,
						Detail: fmt.Sprintf("%s %s/%s rules[%d] → service %s:%d (hosts %v)", rt.Kind, ns, rt.Name, i, be.Name, be.Port, rt.Spec.Hostnames)})
				}
			}
		}
	}
}
