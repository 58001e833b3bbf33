package runtime

// The attribute types below fix the keys of the attributes this package puts on
// nodes and edges. Readers decode them with graph.DecodeAttrs. Optional pointers keep
// "not set" apart from "set to false/0": for a security setting, the default
// applies when it is not set.

// Methods and evidence sources of the edges this package draws.
const (
	// MethodK8sSnapshot marks structural edges read from a snapshot: in_cluster,
	// in_workload.
	MethodK8sSnapshot = "k8s-snapshot"
	// MethodK8sStatus marks container → image edges read from
	// status.containerStatuses[].imageID.
	MethodK8sStatus = "k8s-status"
	// MethodK8sOwnerRef marks workload → owner edges read from
	// metadata.ownerReferences.
	MethodK8sOwnerRef = "k8s-owner-ref"
	// MethodK8sSelector marks service → pod edges: the service's selector matches
	// the pod's labels.
	MethodK8sSelector = "k8s-selector"
)

// BatchSource is the Source of every batch this package builds from Kubernetes.
const BatchSource = "k8s"

// ImageIDForm says what a container status's imageID held.
type ImageIDForm string

// Forms of status.containerStatuses[].imageID.
const (
	// ImageIDRepoDigest is "repo@sha256:…", with or without a "docker-pullable://"
	// prefix: the registry digest the node pulled. The container gets a runs edge.
	// For a multi-platform image the digest may be that of the image index rather
	// than of the platform's manifest.
	ImageIDRepoDigest ImageIDForm = "repo-digest"
	// ImageIDConfigDigest is "sha256:…" alone (or "docker://sha256:…"): some
	// runtimes report the image's config digest, which names no registry manifest,
	// for images that were built or loaded locally. No runs edge is drawn.
	ImageIDConfigDigest ImageIDForm = "config-digest"
	// ImageIDUnrecognized is any other non-empty value. No runs edge is drawn.
	ImageIDUnrecognized ImageIDForm = "unrecognized"
)

// ClusterAttrs are the attributes of a cluster node.
type ClusterAttrs struct {
	Name string `json:"name"`
}

// WorkloadAttrs are the attributes of a workload node. A pod fills them all; an
// owner stub (a ReplicaSet named by a pod's ownerReferences) fills only the
// identifying ones.
type WorkloadAttrs struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"api_version,omitempty"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	UID        string `json:"uid,omitempty"`
	// Created is metadata.creationTimestamp in RFC 3339, UTC.
	Created        string            `json:"created,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	Owners         []OwnerRef        `json:"owners,omitempty"`
	Phase          string            `json:"phase,omitempty"`
	NodeName       string            `json:"node_name,omitempty"`
	PodIP          string            `json:"pod_ip,omitempty"`
	HostIP         string            `json:"host_ip,omitempty"`
	ServiceAccount string            `json:"service_account,omitempty"`
	// AutomountServiceAccountToken is spec.automountServiceAccountToken as set.
	AutomountServiceAccountToken *bool `json:"automount_service_account_token,omitempty"`
	HostNetwork                  bool  `json:"host_network,omitempty"`
	HostPID                      bool  `json:"host_pid,omitempty"`
	HostIPC                      bool  `json:"host_ipc,omitempty"`
	// HostUsers is spec.hostUsers as set: false runs the pod in a user namespace.
	HostUsers             *bool `json:"host_users,omitempty"`
	ShareProcessNamespace *bool `json:"share_process_namespace,omitempty"`
	// Static marks a mirror pod: one the kubelet runs from a file on the node,
	// owned by the Node.
	Static          bool         `json:"static,omitempty"`
	SecurityContext *PodSecurity `json:"security_context,omitempty"`
	// Privileges are what the pod's service account may do, where the input held
	// the RBAC objects; IAMRole the role its IRSA annotation names.
	Privileges *Privileges `json:"privileges,omitempty"`
	IAMRole    string      `json:"iam_role,omitempty"`
	// Network is what the NetworkPolicies selecting the pod allow, where the
	// input held policies for its namespace.
	Network *NetworkIsolation `json:"network,omitempty"`
	// NodePlatform is "os/arch" of the node the pod runs on, where the input
	// held the node: it picks the platform image when a pod reports an index
	// digest.
	NodePlatform string `json:"node_platform,omitempty"`
}

// OwnerRef is one entry of metadata.ownerReferences.
type OwnerRef struct {
	APIVersion string `json:"api_version,omitempty"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	UID        string `json:"uid,omitempty"`
	Controller bool   `json:"controller,omitempty"`
}

// PodSecurity summarizes spec.securityContext.
type PodSecurity struct {
	RunAsUser          *int64  `json:"run_as_user,omitempty"`
	RunAsGroup         *int64  `json:"run_as_group,omitempty"`
	RunAsNonRoot       *bool   `json:"run_as_non_root,omitempty"`
	FSGroup            *int64  `json:"fs_group,omitempty"`
	SupplementalGroups []int64 `json:"supplemental_groups,omitempty"`
	// SeccompProfile is the profile type, "Localhost/<path>" for a local profile.
	SeccompProfile string `json:"seccomp_profile,omitempty"`
	// AppArmorProfile is the profile type, "Localhost/<name>" for a local profile.
	AppArmorProfile string `json:"apparmor_profile,omitempty"`
	// Sysctls lists the names of the sysctls set.
	Sysctls []string `json:"sysctls,omitempty"`
}

// Container types.
const (
	ContainerRegular   = "regular"
	ContainerInit      = "init"
	ContainerEphemeral = "ephemeral"
)

// ContainerAttrs are the attributes of a container node. Environment variables are
// recorded by name only: their values may be secrets. Command and args are not
// recorded for the same reason.
type ContainerAttrs struct {
	Name string `json:"name"`
	// Type is "regular", "init" or "ephemeral".
	Type string `json:"type"`
	Init bool   `json:"init,omitempty"`
	// Sidecar marks an init container with restartPolicy Always, which runs beside
	// the regular containers.
	Sidecar bool `json:"sidecar,omitempty"`
	// TargetContainer is the container an ephemeral (debug) container targets.
	TargetContainer string `json:"target_container,omitempty"`
	// Image is the image the spec asks for, usually a tag.
	Image           string `json:"image"`
	ImagePullPolicy string `json:"image_pull_policy,omitempty"`
	// StatusImage is status.containerStatuses[].image, the image as the runtime
	// names it.
	StatusImage string `json:"status_image,omitempty"`
	// ImageID is status.containerStatuses[].imageID exactly as reported.
	ImageID string `json:"image_id,omitempty"`
	// ImageIDForm says what ImageID holds; only "repo-digest" yields a runs edge.
	ImageIDForm ImageIDForm `json:"image_id_form,omitempty"`
	// ImageDigest is the digest of the runs edge, set only when one is drawn.
	ImageDigest  string `json:"image_digest,omitempty"`
	ContainerID  string `json:"container_id,omitempty"`
	Ready        bool   `json:"ready,omitempty"`
	RestartCount int32  `json:"restart_count,omitempty"`
	// State is "running", "waiting" or "terminated"; empty when the pod reports no
	// status for the container.
	State       string `json:"state,omitempty"`
	StateReason string `json:"state_reason,omitempty"`
	// StartedAt is when the current state's process started, RFC 3339, UTC.
	StartedAt       string             `json:"started_at,omitempty"`
	SecurityContext *ContainerSecurity `json:"security_context,omitempty"`
	Ports           []ContainerPort    `json:"ports,omitempty"`
	// Env lists the names of spec.env variables, in spec order. Never values.
	Env []string `json:"env,omitempty"`
	// EnvFrom lists the sources of spec.envFrom as "configmap/NAME" or
	// "secret/NAME".
	EnvFrom      []string      `json:"env_from,omitempty"`
	VolumeMounts []VolumeMount `json:"volume_mounts,omitempty"`
}

// ContainerSecurity summarizes a container's securityContext as set.
type ContainerSecurity struct {
	Privileged               *bool    `json:"privileged,omitempty"`
	AllowPrivilegeEscalation *bool    `json:"allow_privilege_escalation,omitempty"`
	RunAsUser                *int64   `json:"run_as_user,omitempty"`
	RunAsGroup               *int64   `json:"run_as_group,omitempty"`
	RunAsNonRoot             *bool    `json:"run_as_non_root,omitempty"`
	ReadOnlyRootFilesystem   *bool    `json:"read_only_root_filesystem,omitempty"`
	CapabilitiesAdd          []string `json:"capabilities_add,omitempty"`
	CapabilitiesDrop         []string `json:"capabilities_drop,omitempty"`
	ProcMount                string   `json:"proc_mount,omitempty"`
	SeccompProfile           string   `json:"seccomp_profile,omitempty"`
	AppArmorProfile          string   `json:"apparmor_profile,omitempty"`
}

// ContainerPort is one entry of a container's spec.ports.
type ContainerPort struct {
	Name          string `json:"name,omitempty"`
	ContainerPort int32  `json:"container_port"`
	HostPort      int32  `json:"host_port,omitempty"`
	HostIP        string `json:"host_ip,omitempty"`
	Protocol      string `json:"protocol,omitempty"`
}

// VolumeMount is one entry of a container's spec.volumeMounts, joined with the pod
// volume it mounts.
type VolumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mount_path"`
	ReadOnly  bool   `json:"read_only,omitempty"`
	SubPath   string `json:"sub_path,omitempty"`
	// Source is the kind of the pod volume ("hostPath", "secret", "configMap",
	// "persistentVolumeClaim", "emptyDir", "projected", …); empty when the pod
	// declares no volume of that name.
	Source string `json:"source,omitempty"`
	// HostPath is the node path of a hostPath volume; set only for those.
	HostPath         string `json:"host_path,omitempty"`
	MountPropagation string `json:"mount_propagation,omitempty"`
}

// ServiceAttrs are the attributes of a service node.
type ServiceAttrs struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	UID       string            `json:"uid,omitempty"`
	Created   string            `json:"created,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Type      string            `json:"type,omitempty"`
	ClusterIP string            `json:"cluster_ip,omitempty"`
	// ExternalIPs is spec.externalIPs: addresses the cluster's nodes accept
	// traffic on for the service.
	ExternalIPs  []string          `json:"external_ips,omitempty"`
	ExternalName string            `json:"external_name,omitempty"`
	Ports        []ServicePort     `json:"ports,omitempty"`
	Selector     map[string]string `json:"selector,omitempty"`
	// LoadBalancerIngress lists status.loadBalancer.ingress, IP or host name each.
	LoadBalancerIngress      []string `json:"load_balancer_ingress,omitempty"`
	LoadBalancerSourceRanges []string `json:"load_balancer_source_ranges,omitempty"`
	LoadBalancerClass        string   `json:"load_balancer_class,omitempty"`
	ExternalTrafficPolicy    string   `json:"external_traffic_policy,omitempty"`
	// LoadBalancerAnnotations holds the annotations whose key names a load
	// balancer ("service.beta.kubernetes.io/aws-load-balancer-internal", …):
	// they decide whether a load balancer is internal or public.
	LoadBalancerAnnotations map[string]string `json:"load_balancer_annotations,omitempty"`
}

// ServicePort is one entry of a service's spec.ports.
type ServicePort struct {
	Name        string `json:"name,omitempty"`
	Protocol    string `json:"protocol,omitempty"`
	AppProtocol string `json:"app_protocol,omitempty"`
	Port        int32  `json:"port"`
	// TargetPort is a number or a container port name, as written.
	TargetPort string `json:"target_port,omitempty"`
	NodePort   int32  `json:"node_port,omitempty"`
}

// ImageStubAttrs are the attributes of the image stub a runs edge points at.
type ImageStubAttrs struct {
	// Reference is "repo@digest" as the container status named it.
	Reference string `json:"reference"`
}

// RunsAttrs are the attributes of a container → image runs edge.
type RunsAttrs struct {
	// SpecImage is the image the spec asked for (usually a tag).
	SpecImage string `json:"spec_image,omitempty"`
	// StatusImage is the image as the runtime names it.
	StatusImage string `json:"status_image,omitempty"`
}

// ControlledByAttrs are the attributes of a workload → owner controlled_by edge.
type ControlledByAttrs struct {
	// Controller is ownerReference.controller: the owner manages the workload.
	Controller bool `json:"controller,omitempty"`
}
