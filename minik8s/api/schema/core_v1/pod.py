"""core/v1: Pod, its spec (scheduling, security, DNS) and its status.

Field numbers are those of k8s.io/api/core/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1
from minik8s.api.schema.core_v1 import common
from minik8s.api.schema.core_v1 import containers
from minik8s.api.schema.core_v1 import node
from minik8s.api.schema.core_v1 import volumes

SYSCTL = dsl.Message(
    "io.k8s.api.core.v1.Sysctl",
    "A namespaced kernel parameter to set for the pod.",
    (
        dsl.Field("name", 1, dsl.STRING, "The parameter, such as net.ipv4.ip_local_port_range.", required=True),
        dsl.Field("value", 2, dsl.STRING, "Its value.", required=True),
    ),
)


POD_SECURITY_CONTEXT = dsl.Message(
    "io.k8s.api.core.v1.PodSecurityContext",
    "Security settings for the whole pod; a container's own securityContext wins where both are set.",
    (
        dsl.Field("seLinuxOptions", 1, containers.SE_LINUX_OPTIONS, "The SELinux context of every container. "
                  "Defaults to one chosen by the runtime.", pointer=True),
        dsl.Field("windowsOptions", 8, containers.WINDOWS_SECURITY_CONTEXT_OPTIONS, "Windows-only settings of every "
                  "container.", pointer=True),
        dsl.Field("runAsUser", 2, dsl.INT64, "The UID to run every container's entrypoint as. Defaults to the "
                  "image's user.", pointer=True),
        dsl.Field("runAsGroup", 6, dsl.INT64, "The primary GID to run every container's entrypoint as. Defaults to "
                  "the runtime's.", pointer=True),
        dsl.Field("runAsNonRoot", 3, dsl.BOOL, "When true, the kubelet refuses to start a container that would run "
                  "as UID 0.", pointer=True),
        dsl.Field("supplementalGroups", 4, dsl.INT64, "Extra GIDs for the first process of every container.",
                  repeated=True, list_type="atomic"),
        dsl.Field("supplementalGroupsPolicy", 12, dsl.STRING, "Merge (the default) adds the groups of the image's "
                  "/etc/group; Strict uses only those given here.", pointer=True, enum=("Merge", "Strict")),
        dsl.Field("fsGroup", 5, dsl.INT64, "A GID that owns supporting volumes and is added to every container's "
                  "groups; new files get it.", pointer=True),
        dsl.Field("sysctls", 7, SYSCTL, "Namespaced kernel parameters to set for the pod.", repeated=True,
                  list_type="atomic"),
        dsl.Field("fsGroupChangePolicy", 9, dsl.STRING, "When to change volume ownership to fsGroup: Always (the "
                  "default) or OnRootMismatch.", pointer=True, enum=("OnRootMismatch", "Always")),
        dsl.Field("seccompProfile", 10, containers.SECCOMP_PROFILE, "The seccomp profile of every container.",
                  pointer=True),
        dsl.Field("appArmorProfile", 11, containers.APP_ARMOR_PROFILE, "The AppArmor profile of every container.",
                  pointer=True),
        dsl.Field("seLinuxChangePolicy", 13, dsl.STRING, "How volumes get the pod's SELinux label: MountOption "
                  "(fast, at mount) or Recursive (relabel every file).", pointer=True),
    ),
)


PREFERRED_SCHEDULING_TERM = dsl.Message(
    "io.k8s.api.core.v1.PreferredSchedulingTerm",
    "A weighted node preference.",
    (
        dsl.Field("weight", 1, dsl.INT32, "How much a matching node scores, 1 to 100.", required=True),
        dsl.Field("preference", 2, common.NODE_SELECTOR_TERM, "Which nodes match.", required=True),
    ),
)


NODE_AFFINITY = dsl.Message(
    "io.k8s.api.core.v1.NodeAffinity",
    "Rules on which nodes the pod may or should run.",
    (
        dsl.Field("requiredDuringSchedulingIgnoredDuringExecution", 1, common.NODE_SELECTOR, "Nodes the pod may only "
                  "be scheduled on; not rechecked once it runs.", pointer=True),
        dsl.Field("preferredDuringSchedulingIgnoredDuringExecution", 2, PREFERRED_SCHEDULING_TERM,
                  "Nodes the scheduler prefers, by the summed weight of the matching terms.", repeated=True,
                  list_type="atomic"),
    ),
)


POD_AFFINITY_TERM = dsl.Message(
    "io.k8s.api.core.v1.PodAffinityTerm",
    "A group of pods, in some namespaces, whose topology domains this pod should (or should not) share.",
    (
        dsl.Field("labelSelector", 1, meta_v1.LABEL_SELECTOR, "Which pods count; unset matches none.", pointer=True),
        dsl.Field("namespaces", 2, dsl.STRING, "Namespaces to look in, besides those namespaceSelector picks. "
                  "Defaults to the pod's own namespace when both are empty.", repeated=True, list_type="atomic"),
        dsl.Field("topologyKey", 3, dsl.STRING, "The node label that defines a domain (kubernetes.io/hostname for a "
                  "node, topology.kubernetes.io/zone for a zone).", required=True),
        dsl.Field("namespaceSelector", 4, meta_v1.LABEL_SELECTOR, "Namespaces to look in, by their labels; an empty "
                  "selector means all.", pointer=True),
        dsl.Field("matchLabelKeys", 5, dsl.STRING, "Label keys of this pod whose values are added to labelSelector "
                  "as key in (value).", repeated=True, list_type="atomic"),
        dsl.Field("mismatchLabelKeys", 6, dsl.STRING, "Label keys of this pod whose values are added to "
                  "labelSelector as key notin (value).", repeated=True, list_type="atomic"),
    ),
)


WEIGHTED_POD_AFFINITY_TERM = dsl.Message(
    "io.k8s.api.core.v1.WeightedPodAffinityTerm",
    "A weighted pod affinity or anti-affinity preference.",
    (
        dsl.Field("weight", 1, dsl.INT32, "How much a matching node scores, 1 to 100.", required=True),
        dsl.Field("podAffinityTerm", 2, POD_AFFINITY_TERM, "The pods and topology the preference is about.",
                  required=True),
    ),
)


POD_AFFINITY = dsl.Message(
    "io.k8s.api.core.v1.PodAffinity",
    "Rules that place the pod in the same topology domain as other pods.",
    (
        dsl.Field("requiredDuringSchedulingIgnoredDuringExecution", 1, POD_AFFINITY_TERM, "Terms that must all hold "
                  "for a node to be chosen; not rechecked once the pod runs.", repeated=True, list_type="atomic"),
        dsl.Field("preferredDuringSchedulingIgnoredDuringExecution", 2, WEIGHTED_POD_AFFINITY_TERM,
                  "Terms the scheduler prefers, by summed weight.", repeated=True, list_type="atomic"),
    ),
)


POD_ANTI_AFFINITY = dsl.Message(
    "io.k8s.api.core.v1.PodAntiAffinity",
    "Rules that keep the pod out of topology domains where other pods run.",
    (
        dsl.Field("requiredDuringSchedulingIgnoredDuringExecution", 1, POD_AFFINITY_TERM, "Terms that must all hold "
                  "for a node to be chosen; not rechecked once the pod runs.", repeated=True, list_type="atomic"),
        dsl.Field("preferredDuringSchedulingIgnoredDuringExecution", 2, WEIGHTED_POD_AFFINITY_TERM,
                  "Terms the scheduler prefers, by summed weight.", repeated=True, list_type="atomic"),
    ),
)


AFFINITY = dsl.Message(
    "io.k8s.api.core.v1.Affinity",
    "Scheduling rules relative to nodes and to other pods.",
    (
        dsl.Field("nodeAffinity", 1, NODE_AFFINITY, "Rules on the node's labels.", pointer=True),
        dsl.Field("podAffinity", 2, POD_AFFINITY, "Run near matching pods (same node, zone, ...).", pointer=True),
        dsl.Field("podAntiAffinity", 3, POD_ANTI_AFFINITY, "Run away from matching pods.", pointer=True),
    ),
)


HOST_ALIAS = dsl.Message(
    "io.k8s.api.core.v1.HostAlias",
    "An extra line of the pod's /etc/hosts.",
    (
        dsl.Field("ip", 1, dsl.STRING, "The address.", required=True),
        dsl.Field("hostnames", 2, dsl.STRING, "The names for it.", repeated=True, list_type="atomic"),
    ),
)


POD_DNS_CONFIG_OPTION = dsl.Message(
    "io.k8s.api.core.v1.PodDNSConfigOption",
    "A resolver option of the pod's resolv.conf.",
    (
        dsl.Field("name", 1, dsl.STRING, "The option's name, such as ndots."),
        dsl.Field("value", 2, dsl.STRING, "The option's value, if it takes one.", pointer=True),
    ),
)


POD_DNS_CONFIG = dsl.Message(
    "io.k8s.api.core.v1.PodDNSConfig",
    "DNS settings merged into the ones dnsPolicy gives.",
    (
        dsl.Field("nameservers", 1, dsl.STRING, "Extra name server addresses (at most 3 in all).", repeated=True,
                  list_type="atomic"),
        dsl.Field("searches", 2, dsl.STRING, "Extra search domains (at most 32).", repeated=True, list_type="atomic"),
        dsl.Field("options", 3, POD_DNS_CONFIG_OPTION, "Extra resolver options; these win over the policy's.",
                  repeated=True, list_type="atomic"),
    ),
)


POD_READINESS_GATE = dsl.Message(
    "io.k8s.api.core.v1.PodReadinessGate",
    "A pod condition that must be True, besides container readiness, for the pod to be ready.",
    (
        dsl.Field("conditionType", 1, dsl.STRING, "The condition's type.", required=True),
    ),
)


TOPOLOGY_SPREAD_CONSTRAINT = dsl.Message(
    "io.k8s.api.core.v1.TopologySpreadConstraint",
    "How evenly the pod's group must spread over a topology (nodes, zones, ...).",
    (
        dsl.Field("maxSkew", 1, dsl.INT32, "The largest allowed difference in matching pods between two domains "
                  "(with DoNotSchedule), or the one to aim for (with ScheduleAnyway); at least 1.", required=True),
        dsl.Field("topologyKey", 2, dsl.STRING, "The node label whose values are the domains.", required=True),
        dsl.Field("whenUnsatisfiable", 3, dsl.STRING, "DoNotSchedule (the default) refuses a node that breaks "
                  "maxSkew; ScheduleAnyway only prefers nodes that reduce skew.", required=True,
                  enum=("DoNotSchedule", "ScheduleAnyway")),
        dsl.Field("labelSelector", 4, meta_v1.LABEL_SELECTOR, "Which pods are counted in each domain.", pointer=True),
        dsl.Field("minDomains", 5, dsl.INT32, "With DoNotSchedule: the number of domains assumed to exist, so that "
                  "too few domains count as skew.", pointer=True),
        dsl.Field("nodeAffinityPolicy", 6, dsl.STRING, "Honor (the default) counts only nodes matching the pod's "
                  "node affinity; Ignore counts all.", pointer=True, enum=("Ignore", "Honor")),
        dsl.Field("nodeTaintsPolicy", 7, dsl.STRING, "Honor counts only nodes whose taints the pod tolerates; Ignore "
                  "(the default) counts all.", pointer=True, enum=("Ignore", "Honor")),
        dsl.Field("matchLabelKeys", 8, dsl.STRING, "Label keys of this pod whose values are added to labelSelector.",
                  repeated=True, list_type="atomic"),
    ),
)


POD_OS = dsl.Message(
    "io.k8s.api.core.v1.PodOS",
    "The operating system the pod's containers need.",
    (
        dsl.Field("name", 1, dsl.STRING, "linux or windows.", required=True),
    ),
)


POD_SCHEDULING_GATE = dsl.Message(
    "io.k8s.api.core.v1.PodSchedulingGate",
    "A gate that holds a pod back from scheduling until it is removed.",
    (
        dsl.Field("name", 1, dsl.STRING, "The gate's name, unique in the pod.", required=True),
    ),
)


POD_RESOURCE_CLAIM = dsl.Message(
    "io.k8s.api.core.v1.PodResourceClaim",
    "A ResourceClaim (dynamic resource allocation) the pod needs, named directly or made from a template.",
    (
        dsl.Field("name", 1, dsl.STRING, "The claim's name in the pod, a DNS label; containers refer to it.",
                  required=True),
        dsl.Field("resourceClaimName", 3, dsl.STRING, "An existing ResourceClaim in the pod's namespace.",
                  pointer=True),
        dsl.Field("resourceClaimTemplateName", 4, dsl.STRING, "A ResourceClaimTemplate from which a claim is made "
                  "for the pod (and deleted with it).", pointer=True),
    ),
)


POD_SCHEDULING_GROUP = dsl.Message(
    "io.k8s.api.core.v1.PodSchedulingGroup",
    "The scheduling group (for gang scheduling) the pod belongs to.",
    (
        dsl.Field("podGroupName", 1, dsl.STRING, "The PodGroup object representing the group.", pointer=True),
    ),
)


EVICTION_RESPONDER = dsl.Message(
    "io.k8s.api.core.v1.EvictionResponder",
    "A component that handles evictions of the pod (alpha).",
    (
        dsl.Field("name", 1, dsl.STRING, "The responder's name, a domain-prefixed key such as example.com/drainer.",
                  required=True),
        dsl.Field("priority", 2, dsl.INT32, "Higher-priority responders are asked first.", pointer=True,
                  required=True),
    ),
    map_type="atomic",
)


POD_SPEC = dsl.Message(
    "io.k8s.api.core.v1.PodSpec",
    "The desired state of a pod: its containers, volumes, and how and where it runs.",
    (
        dsl.Field("volumes", 1, volumes.VOLUME, "Volumes the containers can mount.", repeated=True,
                  patch_strategy="merge,retainKeys", merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("initContainers", 20, containers.CONTAINER, "Containers run to completion one after another before "
                  "the app containers start; with restartPolicy Always, sidecars that keep running.", repeated=True,
                  patch_strategy="merge", merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("containers", 2, containers.CONTAINER, "The app containers, at least one. Cannot be added or "
                  "removed.", repeated=True, required=True, patch_strategy="merge", merge_key="name", list_type="map",
                  list_map_keys=("name",)),
        dsl.Field("ephemeralContainers", 34, containers.EPHEMERAL_CONTAINER, "Debugging containers added to the "
                  "running pod through its ephemeralcontainers subresource.", repeated=True, patch_strategy="merge",
                  merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("restartPolicy", 3, dsl.STRING, "When containers are restarted: Always (the default), OnFailure or "
                  "Never.", enum=("Always", "OnFailure", "Never")),
        dsl.Field("terminationGracePeriodSeconds", 4, dsl.INT64, "Seconds between the stop signal and the kill when "
                  "the pod is deleted. Defaults to 30.", pointer=True),
        dsl.Field("activeDeadlineSeconds", 5, dsl.INT64, "Seconds the pod may run on its node before it is marked "
                  "Failed and its containers killed.", pointer=True),
        dsl.Field("dnsPolicy", 6, dsl.STRING, "ClusterFirst (the default: cluster DNS first), "
                  "ClusterFirstWithHostNet, Default (the node's resolv.conf) or None (only dnsConfig).",
                  enum=("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")),
        dsl.Field("nodeSelector", 7, dsl.STRING, "Labels a node must have for the pod to be scheduled on it.",
                  map=True, map_type="atomic"),
        dsl.Field("serviceAccountName", 8, dsl.STRING, "The ServiceAccount the pod runs as. Defaults to default."),
        dsl.Field("serviceAccount", 9, dsl.STRING, "Deprecated alias of serviceAccountName."),
        dsl.Field("automountServiceAccountToken", 21, dsl.BOOL, "Whether to mount the service account's token into "
                  "the containers.", pointer=True),
        dsl.Field("nodeName", 10, dsl.STRING, "The node the pod runs on; set by the scheduler (or by hand, which "
                  "skips scheduling)."),
        dsl.Field("hostNetwork", 11, dsl.BOOL, "Use the node's network namespace. Defaults to false."),
        dsl.Field("hostPID", 12, dsl.BOOL, "Use the node's process namespace. Defaults to false."),
        dsl.Field("hostIPC", 13, dsl.BOOL, "Use the node's IPC namespace. Defaults to false."),
        dsl.Field("shareProcessNamespace", 27, dsl.BOOL, "Share one process namespace between the pod's containers. "
                  "Defaults to false.", pointer=True),
        dsl.Field("securityContext", 14, POD_SECURITY_CONTEXT, "Security settings for the whole pod.", pointer=True),
        dsl.Field("imagePullSecrets", 15, common.LOCAL_OBJECT_REFERENCE, "Secrets with registry credentials for "
                  "pulling the images.", repeated=True, patch_strategy="merge", merge_key="name", list_type="map",
                  list_map_keys=("name",)),
        dsl.Field("hostname", 16, dsl.STRING, "The pod's host name. Defaults to the pod's name."),
        dsl.Field("subdomain", 17, dsl.STRING, "With a headless service of this name, gives the pod the DNS name "
                  "<hostname>.<subdomain>.<namespace>.svc.<cluster domain>."),
        dsl.Field("affinity", 18, AFFINITY, "Scheduling rules relative to nodes and other pods.", pointer=True),
        dsl.Field("schedulerName", 19, dsl.STRING, "The scheduler that places the pod. Defaults to "
                  "default-scheduler."),
        dsl.Field("tolerations", 22, common.TOLERATION, "The taints the pod tolerates.", repeated=True,
                  list_type="atomic"),
        dsl.Field("hostAliases", 23, HOST_ALIAS, "Extra entries for the pod's /etc/hosts.", repeated=True,
                  patch_strategy="merge", merge_key="ip", list_type="map", list_map_keys=("ip",)),
        dsl.Field("priorityClassName", 24, dsl.STRING, "The PriorityClass giving the pod's priority; "
                  "system-node-critical and system-cluster-critical are built in."),
        dsl.Field("priority", 25, dsl.INT32, "The pod's priority, filled from priorityClassName at admission.",
                  pointer=True),
        dsl.Field("dnsConfig", 26, POD_DNS_CONFIG, "DNS settings merged into those dnsPolicy gives.", pointer=True),
        dsl.Field("readinessGates", 28, POD_READINESS_GATE, "Extra conditions that must be True for the pod to be "
                  "ready.", repeated=True, list_type="atomic"),
        dsl.Field("runtimeClassName", 29, dsl.STRING, "The RuntimeClass to run the pod with. Defaults to the node's "
                  "default runtime.", pointer=True),
        dsl.Field("enableServiceLinks", 30, dsl.BOOL, "Put environment variables for the namespace's services into "
                  "the containers, Docker-link style. Defaults to true.", pointer=True),
        dsl.Field("preemptionPolicy", 31, dsl.STRING, "PreemptLowerPriority (the default) or Never.", pointer=True,
                  enum=("PreemptLowerPriority", "Never")),
        dsl.Field("overhead", 32, dsl.QUANTITY, "Resources the pod's runtime uses beyond its containers, filled from "
                  "its RuntimeClass at admission.", map=True),
        dsl.Field("topologySpreadConstraints", 33, TOPOLOGY_SPREAD_CONSTRAINT, "How the pod's group must spread over "
                  "nodes, zones and other domains.", repeated=True, patch_strategy="merge", merge_key="topologyKey",
                  list_type="map", list_map_keys=("topologyKey", "whenUnsatisfiable")),
        dsl.Field("setHostnameAsFQDN", 35, dsl.BOOL, "Set the hostname to the pod's fully qualified domain name. "
                  "Defaults to false.", pointer=True),
        dsl.Field("os", 36, POD_OS, "The operating system the pod needs; restricts which fields are allowed.",
                  pointer=True),
        dsl.Field("hostUsers", 37, dsl.BOOL, "Use the node's user namespace; false gives the pod a user namespace of "
                  "its own. Defaults to true.", pointer=True),
        dsl.Field("schedulingGates", 38, POD_SCHEDULING_GATE, "Gates that hold the pod back from scheduling until "
                  "all are removed.", repeated=True, patch_strategy="merge", merge_key="name", list_type="map",
                  list_map_keys=("name",)),
        dsl.Field("resourceClaims", 39, POD_RESOURCE_CLAIM, "ResourceClaims (dynamic resource allocation) to "
                  "allocate before the pod starts.", repeated=True, patch_strategy="merge,retainKeys",
                  merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("resources", 40, containers.RESOURCE_REQUIREMENTS, "Resources for the pod as a whole, shared by "
                  "its containers (cpu, memory).", pointer=True),
        dsl.Field("hostnameOverride", 41, dsl.STRING, "A host name for the pod that replaces the default and "
                  "hostname/subdomain.", pointer=True),
        dsl.Field("schedulingGroup", 43, POD_SCHEDULING_GROUP, "The scheduling group the pod belongs to (alpha).",
                  pointer=True),
        dsl.Field("evictionResponders", 44, EVICTION_RESPONDER, "Components that handle evictions of the pod "
                  "(alpha).", repeated=True, patch_strategy="merge", merge_key="name", list_type="map",
                  list_map_keys=("name",)),
    ),
)


POD_TEMPLATE_SPEC = dsl.Message(
    "io.k8s.api.core.v1.PodTemplateSpec",
    "The pods a controller creates: their metadata and spec.",
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Labels and annotations of the pods."),
        dsl.Field("spec", 2, POD_SPEC, "The spec of the pods."),
    ),
)


BINDING = dsl.kind(
    "io.k8s.api.core.v1.Binding",
    "Assigns a pod to a node; posted to the pod's binding subresource by the scheduler.",
    dsl.GVK("", "v1", "Binding"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Identifies the pod."),
        dsl.Field("target", 2, common.OBJECT_REFERENCE, "The node to bind the pod to.", required=True),
    ),
)


POD_CONDITION = dsl.Message(
    "io.k8s.api.core.v1.PodCondition",
    "The state of one aspect of a pod.",
    (
        dsl.Field("type", 1, dsl.STRING, "PodScheduled, Initialized, ContainersReady, Ready, or a readiness gate's "
                  "type.", required=True),
        dsl.Field("observedGeneration", 7, dsl.INT64, "The metadata.generation the condition was computed for."),
        dsl.Field("status", 2, dsl.STRING, "True, False or Unknown.", required=True),
        dsl.Field("lastProbeTime", 3, dsl.TIME, "When the condition was last probed."),
        dsl.Field("lastTransitionTime", 4, dsl.TIME, "When status last changed."),
        dsl.Field("reason", 5, dsl.STRING, "A CamelCase, machine-readable reason for the last transition."),
        dsl.Field("message", 6, dsl.STRING, "A human-readable explanation of the last transition."),
    ),
)


HOST_IP = dsl.Message(
    "io.k8s.api.core.v1.HostIP",
    "One address of the pod's node.",
    (
        dsl.Field("ip", 1, dsl.STRING, "The address.", required=True),
    ),
)


POD_IP = dsl.Message(
    "io.k8s.api.core.v1.PodIP",
    "One address of the pod.",
    (
        dsl.Field("ip", 1, dsl.STRING, "The address.", required=True),
    ),
)


CONTAINER_STATE_WAITING = dsl.Message(
    "io.k8s.api.core.v1.ContainerStateWaiting",
    "A container that is not running yet.",
    (
        dsl.Field("reason", 1, dsl.STRING, "Why it is waiting, such as ContainerCreating, ImagePullBackOff or "
                  "CrashLoopBackOff."),
        dsl.Field("message", 2, dsl.STRING, "More about why it is waiting."),
    ),
)


CONTAINER_STATE_RUNNING = dsl.Message(
    "io.k8s.api.core.v1.ContainerStateRunning",
    "A running container.",
    (
        dsl.Field("startedAt", 1, dsl.TIME, "When it last started."),
    ),
)


CONTAINER_STATE_TERMINATED = dsl.Message(
    "io.k8s.api.core.v1.ContainerStateTerminated",
    "A container that has stopped.",
    (
        dsl.Field("exitCode", 1, dsl.INT32, "Its exit code.", required=True),
        dsl.Field("signal", 2, dsl.INT32, "The signal that stopped it, if any."),
        dsl.Field("reason", 3, dsl.STRING, "Why it stopped, such as Completed, Error or OOMKilled."),
        dsl.Field("message", 4, dsl.STRING, "More about why it stopped, such as its termination message."),
        dsl.Field("startedAt", 5, dsl.TIME, "When that run started."),
        dsl.Field("finishedAt", 6, dsl.TIME, "When it stopped."),
        dsl.Field("containerID", 7, dsl.STRING, "The container's ID, as <runtime>://<id>."),
    ),
)


CONTAINER_STATE = dsl.Message(
    "io.k8s.api.core.v1.ContainerState",
    "The state of a container: one of waiting, running or terminated.",
    (
        dsl.Field("waiting", 1, CONTAINER_STATE_WAITING, "Set while the container waits to start.", pointer=True),
        dsl.Field("running", 2, CONTAINER_STATE_RUNNING, "Set while the container runs.", pointer=True),
        dsl.Field("terminated", 3, CONTAINER_STATE_TERMINATED, "Set once the container has stopped.", pointer=True),
    ),
)


IMAGE_VOLUME_STATUS = dsl.Message(
    "io.k8s.api.core.v1.ImageVolumeStatus",
    "The state of an image volume.",
    (
        dsl.Field("imageRef", 1, dsl.STRING, "The digest of the image the volume holds."),
    ),
)


VOLUME_STATUS = dsl.Message(
    "io.k8s.api.core.v1.VolumeStatus",
    "Volume-type-specific state of a mounted volume.",
    (
        dsl.Field("image", 1, IMAGE_VOLUME_STATUS, "The state of an image volume.", pointer=True),
    ),
)


VOLUME_MOUNT_STATUS = dsl.Message(
    "io.k8s.api.core.v1.VolumeMountStatus",
    "The state of one volume mount of a container.",
    (
        dsl.Field("name", 1, dsl.STRING, "The mount's volume name.", required=True),
        dsl.Field("mountPath", 2, dsl.STRING, "The mount's path.", required=True),
        dsl.Field("readOnly", 3, dsl.BOOL, "Whether it is mounted read-only."),
        dsl.Field("recursiveReadOnly", 4, dsl.STRING, "Enabled or Disabled: whether sub-mounts are read-only too.",
                  pointer=True),
        dsl.Field("volumeStatus", 5, VOLUME_STATUS, "Volume-type-specific state.", pointer=True),
    ),
)


LINUX_CONTAINER_USER = dsl.Message(
    "io.k8s.api.core.v1.LinuxContainerUser",
    "The Linux identity a container's first process started with.",
    (
        dsl.Field("uid", 1, dsl.INT64, "Its UID.", required=True),
        dsl.Field("gid", 2, dsl.INT64, "Its primary GID.", required=True),
        dsl.Field("supplementalGroups", 3, dsl.INT64, "Its supplemental GIDs.", repeated=True, list_type="atomic"),
    ),
)


CONTAINER_USER = dsl.Message(
    "io.k8s.api.core.v1.ContainerUser",
    "The identity a container's first process started with.",
    (
        dsl.Field("linux", 1, LINUX_CONTAINER_USER, "On Linux.", pointer=True),
    ),
)


RESOURCE_HEALTH = dsl.Message(
    "io.k8s.api.core.v1.ResourceHealth",
    "The health of one device allocated to a pod.",
    (
        dsl.Field("resourceID", 1, dsl.STRING, "The device's ID.", required=True),
        dsl.Field("health", 2, dsl.STRING, "Healthy, Unhealthy or Unknown."),
        dsl.Field("message", 6, dsl.STRING, "Why, as reported by the device plugin or driver.", pointer=True),
    ),
)


RESOURCE_STATUS = dsl.Message(
    "io.k8s.api.core.v1.ResourceStatus",
    "The health of the devices behind one resource allocated to a pod.",
    (
        dsl.Field("name", 1, dsl.STRING, "The resource (an extended resource name, or claim:<claim>/<request> for "
                  "dynamic allocation).", required=True),
        dsl.Field("resources", 2, RESOURCE_HEALTH, "Each device's health.", repeated=True, list_type="map",
                  list_map_keys=("resourceID",)),
    ),
)


CONTAINER_STATUS = dsl.Message(
    "io.k8s.api.core.v1.ContainerStatus",
    "The observed state of one container.",
    (
        dsl.Field("name", 1, dsl.STRING, "The container's name.", required=True),
        dsl.Field("state", 2, CONTAINER_STATE, "Its current state."),
        dsl.Field("lastState", 3, CONTAINER_STATE, "The state of its previous run, to debug crashes and restarts."),
        dsl.Field("ready", 4, dsl.BOOL, "Whether it passes its readiness probe.", required=True),
        dsl.Field("restartCount", 5, dsl.INT32, "How many times it has been restarted.", required=True),
        dsl.Field("image", 6, dsl.STRING, "The image it runs.", required=True),
        dsl.Field("imageID", 7, dsl.STRING, "The ID (digest) of the image it runs.", required=True),
        dsl.Field("containerID", 8, dsl.STRING, "Its ID, as <runtime>://<id>."),
        dsl.Field("started", 9, dsl.BOOL, "Whether its postStart hook has finished and its startup probe passed.",
                  pointer=True),
        dsl.Field("allocatedResources", 10, dsl.QUANTITY, "The resources the node allocated to it.", map=True),
        dsl.Field("resources", 11, containers.RESOURCE_REQUIREMENTS, "The requests and limits in effect in the "
                  "running container.", pointer=True),
        dsl.Field("volumeMounts", 12, VOLUME_MOUNT_STATUS, "The state of its volume mounts.", repeated=True,
                  patch_strategy="merge", merge_key="mountPath", list_type="map", list_map_keys=("mountPath",)),
        dsl.Field("user", 13, CONTAINER_USER, "The identity its first process started with.", pointer=True),
        dsl.Field("allocatedResourcesStatus", 14, RESOURCE_STATUS, "The health of devices allocated to it.",
                  repeated=True, patch_strategy="merge", merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("stopSignal", 15, dsl.STRING, "The signal that stops it.", pointer=True,
                  enum=("SIGABRT", "SIGALRM", "SIGBUS", "SIGCHLD", "SIGCLD", "SIGCONT", "SIGFPE", "SIGHUP", "SIGILL",
                        "SIGINT", "SIGIO", "SIGIOT", "SIGKILL", "SIGPIPE", "SIGPOLL", "SIGPROF", "SIGPWR", "SIGQUIT",
                        "SIGSEGV", "SIGSTKFLT", "SIGSTOP", "SIGSYS", "SIGTERM", "SIGTRAP", "SIGTSTP", "SIGTTIN",
                        "SIGTTOU", "SIGURG", "SIGUSR1", "SIGUSR2", "SIGVTALRM", "SIGWINCH", "SIGXCPU", "SIGXFSZ",
                        "SIGRTMIN", "SIGRTMIN+1", "SIGRTMIN+2", "SIGRTMIN+3", "SIGRTMIN+4", "SIGRTMIN+5",
                        "SIGRTMIN+6", "SIGRTMIN+7", "SIGRTMIN+8", "SIGRTMIN+9", "SIGRTMIN+10", "SIGRTMIN+11",
                        "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15", "SIGRTMAX-14", "SIGRTMAX-13",
                        "SIGRTMAX-12", "SIGRTMAX-11", "SIGRTMAX-10", "SIGRTMAX-9", "SIGRTMAX-8", "SIGRTMAX-7",
                        "SIGRTMAX-6", "SIGRTMAX-5", "SIGRTMAX-4", "SIGRTMAX-3", "SIGRTMAX-2", "SIGRTMAX-1",
                        "SIGRTMAX")),
    ),
)


POD_RESOURCE_CLAIM_STATUS = dsl.Message(
    "io.k8s.api.core.v1.PodResourceClaimStatus",
    "The ResourceClaim made for one of the pod's claim templates.",
    (
        dsl.Field("name", 1, dsl.STRING, "The entry of spec.resourceClaims.", required=True),
        dsl.Field("resourceClaimName", 2, dsl.STRING, "The name of the ResourceClaim made; unset when none was "
                  "needed.", pointer=True),
    ),
)


CONTAINER_EXTENDED_RESOURCE_REQUEST = dsl.Message(
    "io.k8s.api.core.v1.ContainerExtendedResourceRequest",
    "Which request of the pod's extended-resource claim serves one container's extended resource.",
    (
        dsl.Field("containerName", 1, dsl.STRING, "The container.", required=True),
        dsl.Field("resourceName", 2, dsl.STRING, "The extended resource.", required=True),
        dsl.Field("requestName", 3, dsl.STRING, "The request of the claim.", required=True),
    ),
)


POD_EXTENDED_RESOURCE_CLAIM_STATUS = dsl.Message(
    "io.k8s.api.core.v1.PodExtendedResourceClaimStatus",
    "The ResourceClaim made for the pod's extended resources served by dynamic allocation.",
    (
        dsl.Field("requestMappings", 1, CONTAINER_EXTENDED_RESOURCE_REQUEST, "Which request serves each container's "
                  "extended resource.", repeated=True, required=True, list_type="atomic"),
        dsl.Field("resourceClaimName", 2, dsl.STRING, "The name of the ResourceClaim made.", required=True),
    ),
)


VOLUME_HEALTH_CONDITION = dsl.Message(
    "io.k8s.api.core.v1.VolumeHealthCondition",
    "A health problem of a volume, reported by its CSI driver.",
    (
        dsl.Field("status", 1, dsl.STRING, "The kind of problem, such as Inaccessible or DataLoss.", required=True,
                  enum=("Inaccessible", "DataLoss", "Degraded")),
        dsl.Field("reason", 2, dsl.STRING, "A CamelCase reason.", required=True),
        dsl.Field("message", 3, dsl.STRING, "A human-readable description."),
    ),
)


POD_VOLUME_HEALTH = dsl.Message(
    "io.k8s.api.core.v1.PodVolumeHealth",
    "The health of one of the pod's volumes on its node.",
    (
        dsl.Field("name", 1, dsl.STRING, "The volume.", required=True),
        dsl.Field("healthConditions", 2, VOLUME_HEALTH_CONDITION, "The problems reported.", repeated=True,
                  patch_strategy="merge", merge_key="status", list_type="map", list_map_keys=("status", "reason")),
        dsl.Field("lastTransitionTime", 3, dsl.TIME, "When the current set of problems first appeared."),
    ),
)


POD_STATUS = dsl.Message(
    "io.k8s.api.core.v1.PodStatus",
    "The observed state of a pod, written by its kubelet and the scheduler.",
    (
        dsl.Field("observedGeneration", 17, dsl.INT64, "The metadata.generation the status was computed for."),
        dsl.Field("phase", 1, dsl.STRING, "Pending, Running, Succeeded, Failed or Unknown: where the pod is in its "
                  "lifecycle.", enum=("Pending", "Running", "Succeeded", "Failed", "Unknown")),
        dsl.Field("conditions", 2, POD_CONDITION, "PodScheduled, Initialized, ContainersReady, Ready and readiness "
                  "gates.", repeated=True, patch_strategy="merge", merge_key="type", list_type="map",
                  list_map_keys=("type",)),
        dsl.Field("message", 3, dsl.STRING, "Why the pod is in this state."),
        dsl.Field("reason", 4, dsl.STRING, "A CamelCase reason for the pod's state, such as Evicted."),
        dsl.Field("nominatedNodeName", 11, dsl.STRING, "The node where the scheduler is making room for the pod by "
                  "preemption."),
        dsl.Field("hostIP", 5, dsl.STRING, "The primary address of the pod's node."),
        dsl.Field("hostIPs", 16, HOST_IP, "The addresses of the pod's node; the first is hostIP.", repeated=True,
                  patch_strategy="merge", merge_key="ip", list_type="atomic"),
        dsl.Field("podIP", 6, dsl.STRING, "The pod's primary address."),
        dsl.Field("podIPs", 12, POD_IP, "The pod's addresses (one per family); the first is podIP.", repeated=True,
                  patch_strategy="merge", merge_key="ip", list_type="map", list_map_keys=("ip",)),
        dsl.Field("startTime", 7, dsl.TIME, "When the kubelet accepted the pod.", pointer=True),
        dsl.Field("initContainerStatuses", 10, CONTAINER_STATUS, "The state of each init container.", repeated=True,
                  list_type="atomic"),
        dsl.Field("containerStatuses", 8, CONTAINER_STATUS, "The state of each app container.", repeated=True,
                  list_type="atomic"),
        dsl.Field("qosClass", 9, dsl.STRING, "Guaranteed, Burstable or BestEffort, from the containers' requests and "
                  "limits.", enum=("Guaranteed", "Burstable", "BestEffort")),
        dsl.Field("ephemeralContainerStatuses", 13, CONTAINER_STATUS, "The state of each ephemeral container.",
                  repeated=True, list_type="atomic"),
        dsl.Field("resize", 14, dsl.STRING, "Deprecated: the state of a pending in-place resize; see the "
                  "PodResizePending and PodResizeInProgress conditions."),
        dsl.Field("resourceClaimStatuses", 15, POD_RESOURCE_CLAIM_STATUS, "The ResourceClaims made for the pod's "
                  "claim templates.", repeated=True, patch_strategy="merge,retainKeys", merge_key="name",
                  list_type="map", list_map_keys=("name",)),
        dsl.Field("extendedResourceClaimStatus", 18, POD_EXTENDED_RESOURCE_CLAIM_STATUS, "The ResourceClaim made for "
                  "extended resources served by dynamic allocation.", pointer=True),
        dsl.Field("allocatedResources", 19, dsl.QUANTITY, "The requests the node allocated to the pod.", map=True),
        dsl.Field("resources", 20, containers.RESOURCE_REQUIREMENTS, "The pod-level requests and limits in effect.",
                  pointer=True),
        dsl.Field("nodeAllocatableResourceClaimStatuses", 21, node.NODE_ALLOCATABLE_RESOURCE_CLAIM_STATUS,
                  "Node-allocatable resources allocated to the pod through resource claims.", repeated=True,
                  patch_strategy="merge", merge_key="resourceClaimName", list_type="map",
                  list_map_keys=("resourceClaimName",)),
        dsl.Field("volumeHealth", 22, POD_VOLUME_HEALTH, "The health of the pod's volumes, as the node reports it.",
                  repeated=True, list_type="map", list_map_keys=("name",)),
    ),
)


POD = dsl.kind(
    "io.k8s.api.core.v1.Pod",
    "A group of containers scheduled together onto a node, sharing a network namespace and volumes.",
    dsl.GVK("", "v1", "Pod"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, POD_SPEC, "The desired state: containers, volumes, scheduling and security."),
        dsl.Field("status", 3, POD_STATUS, "The observed state, written by the system. Read-only."),
    ),
)


POD_LIST = meta_v1.list_of(POD)
