package runtime

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-sec/tether/graph"
)

// buildBatch turns a decoded snapshot into graph facts.
func buildBatch(ctx context.Context, s *snapshot, opts K8sOptions) (*graph.Batch, error) {
	cluster := opts.Cluster
	b := graph.NewBatch(BatchSource, opts.Source, opts.Now())
	clusterID := graph.ClusterID(cluster)
	b.AddNode(graph.Node{ID: clusterID, Kind: graph.KindCluster, Name: cluster, Attrs: graph.Attrs(ClusterAttrs{Name: cluster})})

	pods := make([]*corev1.Pod, len(s.pods))
	for i := range s.pods {
		pods[i] = &s.pods[i]
		if pods[i].Namespace == "" {
			pods[i].Namespace = metav1.NamespaceDefault
		}
	}
	services := make([]*corev1.Service, len(s.services))
	for i := range s.services {
		services[i] = &s.services[i]
		if services[i].Namespace == "" {
			services[i].Namespace = metav1.NamespaceDefault
		}
	}
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	slices.SortStableFunc(services, func(a, b *corev1.Service) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})

	// byLabel indexes pods by namespace and one label, "ns\x00key=value", so that
	// a service's selector is checked only against pods that carry one of its pairs.
	byLabel := map[string][]*corev1.Pod{}
	rbac := newRBACIndex(s)
	platforms := map[string]string{}
	for i := range s.nodes {
		n := &s.nodes[i]
		osName, arch := cmp.Or(n.Status.NodeInfo.OperatingSystem, n.Labels[corev1.LabelOSStable]), cmp.Or(n.Status.NodeInfo.Architecture, n.Labels[corev1.LabelArchStable])
		if osName != "" && arch != "" {
			platforms[n.Name] = osName + "/" + arch
		}
	}
	for _, p := range pods {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for k, v := range p.Labels {
			key := p.Namespace + "\x00" + k + "=" + v
			byLabel[key] = append(byLabel[key], p)
		}
		addPod(b, cluster, p, rbac, s.networkPolicies, platforms)
	}
	for _, svc := range services {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := addService(ctx, b, cluster, svc, byLabel); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(s.ingresses, func(a, b networkingv1.Ingress) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	for i := range s.ingresses {
		addIngress(b, cluster, &s.ingresses[i])
	}
	addGateways(b, cluster, s.gateways, s.routes)
	slices.SortStableFunc(s.controllers, func(a, b metav1.PartialObjectMetadata) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	for i := range s.controllers {
		addController(b, cluster, &s.controllers[i])
	}
	return sorted(b), nil
}

// sorted returns b with nodes ordered by ID and edges by key. It builds a new batch
// so that the batch's own index stays right.
func sorted(b *graph.Batch) *graph.Batch {
	nodes := slices.Clone(b.Nodes)
	slices.SortFunc(nodes, func(x, y graph.Node) int { return strings.Compare(string(x.ID), string(y.ID)) })
	// The order of graph.SortEdges, with each key computed once.
	type keyed struct {
		key  string
		edge graph.Edge
	}
	ks := make([]keyed, len(b.Edges))
	for i, e := range b.Edges {
		ks[i] = keyed{e.Key(), e}
	}
	slices.SortFunc(ks, func(x, y keyed) int { return strings.Compare(x.key, y.key) })
	edges := make([]graph.Edge, len(ks))
	for i, k := range ks {
		edges[i] = k.edge
	}
	out := graph.NewBatch(b.Source, b.Target, b.ObservedAt)
	for _, n := range nodes {
		out.AddNode(n)
	}
	for _, e := range edges {
		out.AddEdge(e)
	}
	return out
}

func addPod(b *graph.Batch, cluster string, p *corev1.Pod, rbac *rbacIndex, policies []networkingv1.NetworkPolicy, platforms map[string]string) {
	ns := p.Namespace
	podID := graph.WorkloadID(cluster, ns, "Pod", p.Name)
	attrs := WorkloadAttrs{
		Kind:                         "Pod",
		APIVersion:                   "v1",
		Namespace:                    ns,
		Name:                         p.Name,
		UID:                          string(p.UID),
		Created:                      timeString(p.CreationTimestamp),
		Labels:                       p.Labels,
		Phase:                        string(p.Status.Phase),
		NodeName:                     p.Spec.NodeName,
		PodIP:                        p.Status.PodIP,
		HostIP:                       p.Status.HostIP,
		ServiceAccount:               cmp.Or(p.Spec.ServiceAccountName, p.Spec.DeprecatedServiceAccount),
		AutomountServiceAccountToken: p.Spec.AutomountServiceAccountToken,
		HostNetwork:                  p.Spec.HostNetwork,
		HostPID:                      p.Spec.HostPID,
		HostIPC:                      p.Spec.HostIPC,
		HostUsers:                    p.Spec.HostUsers,
		ShareProcessNamespace:        p.Spec.ShareProcessNamespace,
		SecurityContext:              podSecurity(p.Spec.SecurityContext),
	}
	if _, ok := p.Annotations[corev1.MirrorPodAnnotationKey]; ok {
		attrs.Static = true
	}
	for _, o := range p.OwnerReferences {
		attrs.Owners = append(attrs.Owners, OwnerRef{
			APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: string(o.UID),
			Controller: o.Controller != nil && *o.Controller,
		})
		if o.Kind == "Node" && (o.APIVersion == "v1" || o.APIVersion == "") {
			attrs.Static = true
		}
	}
	addIdentity(b, rbac, podID, p, &attrs)
	attrs.Network = isolation(p, policies)
	attrs.NodePlatform = platforms[p.Spec.NodeName]
	b.AddNode(graph.Node{ID: podID, Kind: graph.KindWorkload, Name: ns + "/" + p.Name, Attrs: graph.Attrs(attrs)})
	b.Link(podID, graph.EdgeInCluster, graph.ClusterID(cluster), MethodK8sSnapshot, 1,
		graph.Evidence{Source: MethodK8sSnapshot, Detail: "cluster=" + cluster})

	addOwners(b, cluster, ns, podID, p.OwnerReferences)

	volumes := make(map[string]*corev1.Volume, len(p.Spec.Volumes))
	for i := range p.Spec.Volumes {
		volumes[p.Spec.Volumes[i].Name] = &p.Spec.Volumes[i]
	}
	pc := podContainers{b: b, cluster: cluster, pod: p, podID: podID, volumes: volumes}
	for i := range p.Spec.InitContainers {
		pc.add(&p.Spec.InitContainers[i], ContainerInit, "", "spec.initContainers", "status.initContainerStatuses", p.Status.InitContainerStatuses)
	}
	for i := range p.Spec.Containers {
		pc.add(&p.Spec.Containers[i], ContainerRegular, "", "spec.containers", "status.containerStatuses", p.Status.ContainerStatuses)
	}
	for i := range p.Spec.EphemeralContainers {
		ec := &p.Spec.EphemeralContainers[i]
		c := corev1.Container(ec.EphemeralContainerCommon)
		pc.add(&c, ContainerEphemeral, ec.TargetContainerName, "spec.ephemeralContainers", "status.ephemeralContainerStatuses", p.Status.EphemeralContainerStatuses)
	}
}

// addOwners draws controlled_by edges from a workload to its owners (stubs until
// the owner itself is read).
func addOwners(b *graph.Batch, cluster, ns string, from graph.ID, refs []metav1.OwnerReference) {
	for i, o := range refs {
		if o.Kind == "" || o.Name == "" {
			continue
		}
		if o.Kind == "Node" && (o.APIVersion == "v1" || o.APIVersion == "") {
			continue // a mirror pod's Node is not a workload; Static says so
		}
		ownerID := graph.WorkloadID(cluster, ns, o.Kind, o.Name)
		b.AddNode(graph.Node{ID: ownerID, Kind: graph.KindWorkload, Name: ns + "/" + o.Name, Stub: true,
			Attrs: graph.Attrs(WorkloadAttrs{Kind: o.Kind, APIVersion: o.APIVersion, Namespace: ns, Name: o.Name, UID: string(o.UID)})})
		detail := fmt.Sprintf("metadata.ownerReferences[%d]=%s %s %s", i, o.APIVersion, o.Kind, o.Name)
		if o.UID != "" {
			detail += " uid=" + string(o.UID)
		}
		b.AddEdge(graph.Edge{
			From: from, Kind: graph.EdgeControlledBy, To: ownerID, Method: MethodK8sOwnerRef, Confidence: 1,
			Evidence: []graph.Evidence{{Source: MethodK8sOwnerRef, Detail: detail}},
			Attrs:    graph.Attrs(ControlledByAttrs{Controller: o.Controller != nil && *o.Controller}),
		})
	}
}

// addController adds a workload controller (ReplicaSet, Deployment, …) as an
// observed workload with its own owners: the chain from a pod upwards.
func addController(b *graph.Batch, cluster string, m *metav1.PartialObjectMetadata) {
	ns := cmp.Or(m.Namespace, metav1.NamespaceDefault)
	id := graph.WorkloadID(cluster, ns, m.Kind, m.Name)
	attrs := WorkloadAttrs{Kind: m.Kind, APIVersion: m.APIVersion, Namespace: ns, Name: m.Name, UID: string(m.UID),
		Created: timeString(m.CreationTimestamp), Labels: m.Labels}
	for _, o := range m.OwnerReferences {
		attrs.Owners = append(attrs.Owners, OwnerRef{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: string(o.UID),
			Controller: o.Controller != nil && *o.Controller})
	}
	b.AddNode(graph.Node{ID: id, Kind: graph.KindWorkload, Name: ns + "/" + m.Name, Attrs: graph.Attrs(attrs)})
	b.Link(id, graph.EdgeInCluster, graph.ClusterID(cluster), MethodK8sSnapshot, 1,
		graph.Evidence{Source: MethodK8sSnapshot, Detail: "cluster=" + cluster})
	addOwners(b, cluster, ns, id, m.OwnerReferences)
}

type podContainers struct {
	b       *graph.Batch
	cluster string
	pod     *corev1.Pod
	podID   graph.ID
	volumes map[string]*corev1.Volume
}

func (pc podContainers) add(c *corev1.Container, typ, target, specPath, statusPath string, statuses []corev1.ContainerStatus) {
	p := pc.pod
	id := graph.ContainerID(pc.cluster, p.Namespace, p.Name, c.Name)
	attrs := ContainerAttrs{
		Name:            c.Name,
		Type:            typ,
		Init:            typ == ContainerInit,
		Sidecar:         typ == ContainerInit && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways,
		TargetContainer: target,
		Image:           c.Image,
		ImagePullPolicy: string(c.ImagePullPolicy),
		SecurityContext: containerSecurity(c.SecurityContext),
	}
	for _, port := range c.Ports {
		attrs.Ports = append(attrs.Ports, ContainerPort{
			Name: port.Name, ContainerPort: port.ContainerPort, HostPort: port.HostPort, HostIP: port.HostIP, Protocol: string(port.Protocol),
		})
	}
	for _, e := range c.Env {
		attrs.Env = append(attrs.Env, e.Name) // the name only: values may be secrets
	}
	for _, e := range c.EnvFrom {
		switch {
		case e.ConfigMapRef != nil:
			attrs.EnvFrom = append(attrs.EnvFrom, "configmap/"+e.ConfigMapRef.Name)
		case e.SecretRef != nil:
			attrs.EnvFrom = append(attrs.EnvFrom, "secret/"+e.SecretRef.Name)
		}
	}
	for _, m := range c.VolumeMounts {
		vm := VolumeMount{Name: m.Name, MountPath: m.MountPath, ReadOnly: m.ReadOnly, SubPath: cmp.Or(m.SubPath, m.SubPathExpr)}
		if m.MountPropagation != nil {
			vm.MountPropagation = string(*m.MountPropagation)
		}
		if v := pc.volumes[m.Name]; v != nil {
			vm.Source = volumeSource(v.VolumeSource)
			if v.HostPath != nil {
				vm.HostPath = v.HostPath.Path
			}
		}
		attrs.VolumeMounts = append(attrs.VolumeMounts, vm)
	}

	var st *corev1.ContainerStatus
	for i := range statuses {
		if statuses[i].Name == c.Name {
			st = &statuses[i]
			break
		}
	}
	var runs *graph.Edge
	if st != nil {
		attrs.StatusImage = st.Image
		attrs.ImageID = st.ImageID
		attrs.ContainerID = st.ContainerID
		attrs.Ready = st.Ready
		attrs.RestartCount = st.RestartCount
		switch s := st.State; {
		case s.Running != nil:
			attrs.State, attrs.StartedAt = "running", timeString(s.Running.StartedAt)
		case s.Waiting != nil:
			attrs.State, attrs.StateReason = "waiting", s.Waiting.Reason
		case s.Terminated != nil:
			attrs.State, attrs.StateReason, attrs.StartedAt = "terminated", s.Terminated.Reason, timeString(s.Terminated.StartedAt)
		}
		if st.ImageID != "" {
			ref, digest, form := parseImageID(st.ImageID)
			attrs.ImageIDForm = form
			if form == ImageIDRepoDigest {
				attrs.ImageDigest = digest
				imgID := graph.ImageID(digest)
				if _, ok := pc.b.Node(imgID); !ok {
					pc.b.AddNode(graph.Node{ID: imgID, Kind: graph.KindImage, Name: ref, Stub: true,
						Attrs: graph.Attrs(ImageStubAttrs{Reference: ref})})
				}
				runs = &graph.Edge{
					From: id, Kind: graph.EdgeRuns, To: imgID, Method: MethodK8sStatus, Confidence: 1,
					Evidence: []graph.Evidence{{Source: MethodK8sStatus,
						Detail: fmt.Sprintf("%s[%s].imageID=%s", statusPath, c.Name, st.ImageID)}},
					Attrs: graph.Attrs(RunsAttrs{SpecImage: c.Image, StatusImage: st.Image}),
				}
			}
		}
	}
	pc.b.AddNode(graph.Node{ID: id, Kind: graph.KindContainer, Name: p.Namespace + "/" + p.Name + "/" + c.Name, Attrs: graph.Attrs(attrs)})
	pc.b.Link(id, graph.EdgeInWorkload, pc.podID, MethodK8sSnapshot, 1,
		graph.Evidence{Source: MethodK8sSnapshot, Detail: fmt.Sprintf("%s[%s]", specPath, c.Name)})
	if runs != nil {
		pc.b.AddEdge(*runs)
	}
}

func addService(ctx context.Context, b *graph.Batch, cluster string, svc *corev1.Service, byLabel map[string][]*corev1.Pod) error {
	ns := svc.Namespace
	id := graph.ServiceID(cluster, ns, svc.Name)
	attrs := ServiceAttrs{
		Namespace:                ns,
		Name:                     svc.Name,
		UID:                      string(svc.UID),
		Created:                  timeString(svc.CreationTimestamp),
		Labels:                   svc.Labels,
		Type:                     string(svc.Spec.Type),
		ClusterIP:                svc.Spec.ClusterIP,
		ExternalIPs:              svc.Spec.ExternalIPs,
		ExternalName:             svc.Spec.ExternalName,
		Selector:                 svc.Spec.Selector,
		LoadBalancerSourceRanges: svc.Spec.LoadBalancerSourceRanges,
		ExternalTrafficPolicy:    string(svc.Spec.ExternalTrafficPolicy),
	}
	if svc.Spec.LoadBalancerClass != nil {
		attrs.LoadBalancerClass = *svc.Spec.LoadBalancerClass
	}
	for _, sp := range svc.Spec.Ports {
		port := ServicePort{Name: sp.Name, Protocol: string(sp.Protocol), Port: sp.Port, NodePort: sp.NodePort}
		if sp.AppProtocol != nil {
			port.AppProtocol = *sp.AppProtocol
		}
		if sp.TargetPort.IntVal != 0 || sp.TargetPort.StrVal != "" {
			port.TargetPort = sp.TargetPort.String()
		}
		attrs.Ports = append(attrs.Ports, port)
	}
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if a := cmp.Or(ing.IP, ing.Hostname); a != "" {
			attrs.LoadBalancerIngress = append(attrs.LoadBalancerIngress, a)
		}
	}
	for k, v := range svc.Annotations {
		if strings.Contains(strings.ToLower(k), "load-balancer") {
			if attrs.LoadBalancerAnnotations == nil {
				attrs.LoadBalancerAnnotations = map[string]string{}
			}
			attrs.LoadBalancerAnnotations[k] = v
		}
	}
	b.AddNode(graph.Node{ID: id, Kind: graph.KindService, Name: ns + "/" + svc.Name, Attrs: graph.Attrs(attrs)})
	b.Link(id, graph.EdgeInCluster, graph.ClusterID(cluster), MethodK8sSnapshot, 1,
		graph.Evidence{Source: MethodK8sSnapshot, Detail: "cluster=" + cluster})

	// A service without a selector has hand-made endpoints, and an ExternalName
	// service points outside the cluster: neither selects pods.
	if len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	keys := make([]string, 0, len(svc.Spec.Selector))
	for k := range svc.Spec.Selector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	var candidates []*corev1.Pod
	for i, k := range keys {
		parts[i] = k + "=" + svc.Spec.Selector[k]
		// Every pod the selector matches carries every pair: check the fewest.
		if c := byLabel[ns+"\x00"+parts[i]]; i == 0 || len(c) < len(candidates) {
			candidates = c
		}
	}
	ev := graph.Evidence{Source: MethodK8sSelector, Detail: "spec.selector=" + strings.Join(parts, ",")}
	for i, p := range candidates {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if matches(svc.Spec.Selector, p.Labels) {
			b.Link(id, graph.EdgeExposes, graph.WorkloadID(cluster, ns, "Pod", p.Name), MethodK8sSelector, 1, ev)
		}
	}
	return nil
}

// matches reports whether labels hold every key=value of a non-empty selector.
func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return len(selector) > 0
}

// parseImageID reads a container status's imageID. Forms seen in the wild:
// "docker-pullable://repo@sha256:…" (dockershim), "docker.io/library/nginx@sha256:…"
// (containerd, CRI-O), "sha256:…" or "docker://sha256:…" (a locally built or loaded
// image: the config digest).
func parseImageID(raw string) (ref, digest string, form ImageIDForm) {
	s := strings.TrimSpace(raw)
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	if validDigest(s) {
		return "", "", ImageIDConfigDigest
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return "", "", ImageIDUnrecognized
	}
	name, d := s[:at], s[at+1:]
	if !validDigest(d) || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == '@' || r == 0x7f }) {
		return "", "", ImageIDUnrecognized
	}
	return name + "@" + strings.ToLower(d), strings.ToLower(d), ImageIDRepoDigest
}

// validDigest reports whether d is "sha256:" (or sha384, sha512) followed by a hex
// string of the algorithm's length.
func validDigest(d string) bool {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok {
		return false
	}
	want := map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}[algo]
	if want == 0 || len(hex) != want {
		return false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func podSecurity(sc *corev1.PodSecurityContext) *PodSecurity {
	if sc == nil {
		return nil
	}
	ps := &PodSecurity{
		RunAsUser:          sc.RunAsUser,
		RunAsGroup:         sc.RunAsGroup,
		RunAsNonRoot:       sc.RunAsNonRoot,
		FSGroup:            sc.FSGroup,
		SupplementalGroups: sc.SupplementalGroups,
		SeccompProfile:     seccomp(sc.SeccompProfile),
		AppArmorProfile:    apparmor(sc.AppArmorProfile),
	}
	for _, s := range sc.Sysctls {
		ps.Sysctls = append(ps.Sysctls, s.Name)
	}
	if reflect.ValueOf(*ps).IsZero() {
		return nil
	}
	return ps
}

func containerSecurity(sc *corev1.SecurityContext) *ContainerSecurity {
	if sc == nil {
		return nil
	}
	cs := &ContainerSecurity{
		Privileged:               sc.Privileged,
		AllowPrivilegeEscalation: sc.AllowPrivilegeEscalation,
		RunAsUser:                sc.RunAsUser,
		RunAsGroup:               sc.RunAsGroup,
		RunAsNonRoot:             sc.RunAsNonRoot,
		ReadOnlyRootFilesystem:   sc.ReadOnlyRootFilesystem,
		SeccompProfile:           seccomp(sc.SeccompProfile),
		AppArmorProfile:          apparmor(sc.AppArmorProfile),
	}
	if sc.Capabilities != nil {
		for _, c := range sc.Capabilities.Add {
			cs.CapabilitiesAdd = append(cs.CapabilitiesAdd, string(c))
		}
		for _, c := range sc.Capabilities.Drop {
			cs.CapabilitiesDrop = append(cs.CapabilitiesDrop, string(c))
		}
	}
	if sc.ProcMount != nil {
		cs.ProcMount = string(*sc.ProcMount)
	}
	if reflect.ValueOf(*cs).IsZero() {
		return nil
	}
	return cs
}

func seccomp(p *corev1.SeccompProfile) string {
	if p == nil {
		return ""
	}
	if p.LocalhostProfile != nil && *p.LocalhostProfile != "" {
		return string(p.Type) + "/" + *p.LocalhostProfile
	}
	return string(p.Type)
}

func apparmor(p *corev1.AppArmorProfile) string {
	if p == nil {
		return ""
	}
	if p.LocalhostProfile != nil && *p.LocalhostProfile != "" {
		return string(p.Type) + "/" + *p.LocalhostProfile
	}
	return string(p.Type)
}

// volumeSource names the kind of a volume by its JSON field ("hostPath",
// "secret", …), so that every kind the API knows is named without a list here.
func volumeSource(vs corev1.VolumeSource) string {
	raw, err := json.Marshal(vs)
	if err != nil {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func timeString(t metav1.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
