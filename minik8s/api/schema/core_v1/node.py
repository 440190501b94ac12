"""core/v1: Node, its spec and the status its kubelet reports.

Field numbers are those of k8s.io/api/core/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1
from minik8s.api.schema.core_v1 import common

CONFIG_MAP_NODE_CONFIG_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ConfigMapNodeConfigSource",
    "A ConfigMap holding a kubelet configuration (deprecated dynamic kubelet configuration).",
    (
        dsl.Field("namespace", 1, dsl.STRING, "The ConfigMap's namespace.", required=True),
        dsl.Field("name", 2, dsl.STRING, "The ConfigMap's name.", required=True),
        dsl.Field("uid", 3, dsl.STRING, "The ConfigMap's UID; only in status."),
        dsl.Field("resourceVersion", 4, dsl.STRING, "The ConfigMap's resourceVersion; only in status."),
        dsl.Field("kubeletConfigKey", 5, dsl.STRING, "The key holding the KubeletConfiguration.", required=True),
    ),
)


NODE_CONFIG_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.NodeConfigSource",
    "Where a node's kubelet configuration comes from (deprecated, no longer used).",
    (
        dsl.Field("configMap", 2, CONFIG_MAP_NODE_CONFIG_SOURCE, "A ConfigMap.", pointer=True),
    ),
)


NODE_POD_PREEMPTION_POLICY = dsl.Message(
    "io.k8s.api.core.v1.NodePodPreemptionPolicy",
    "Node-level rules on preempting the node's pods (alpha).",
    (
        dsl.Field("disableResizePreemption", 1, dsl.STRING, "The owners that asked for pods not to be preempted to "
                  "make room for in-place resizes.", repeated=True, list_type="set"),
    ),
)


NODE_SPEC = dsl.Message(
    "io.k8s.api.core.v1.NodeSpec",
    "The desired state of a node.",
    (
        dsl.Field("podCIDR", 1, dsl.STRING, "The pod address range assigned to the node."),
        dsl.Field("podCIDRs", 7, dsl.STRING, "The pod address ranges assigned to the node (one per family); the "
                  "first is podCIDR.", repeated=True, patch_strategy="merge", list_type="set"),
        dsl.Field("providerID", 3, dsl.STRING, "The cloud provider's ID of the node, as <provider>://<id>."),
        dsl.Field("unschedulable", 4, dsl.BOOL, "When true, no new pods are scheduled on the node (kubectl cordon)."),
        dsl.Field("taints", 5, common.TAINT, "Taints that keep pods without matching tolerations off the node.",
                  repeated=True, list_type="atomic"),
        dsl.Field("configSource", 6, NODE_CONFIG_SOURCE, "Deprecated and no longer used.", pointer=True),
        dsl.Field("externalID", 2, dsl.STRING, "Deprecated and no longer used."),
        dsl.Field("podPreemptionPolicy", 8, NODE_POD_PREEMPTION_POLICY, "Node-level rules on preempting the node's "
                  "pods (alpha).", pointer=True),
    ),
)


NODE_CONDITION = dsl.Message(
    "io.k8s.api.core.v1.NodeCondition",
    "The state of one aspect of a node.",
    (
        dsl.Field("type", 1, dsl.STRING, "Ready, MemoryPressure, DiskPressure, PIDPressure or NetworkUnavailable.",
                  required=True),
        dsl.Field("status", 2, dsl.STRING, "True, False or Unknown (the node stopped reporting).", required=True),
        dsl.Field("lastHeartbeatTime", 3, dsl.TIME, "When the kubelet last reported this condition."),
        dsl.Field("lastTransitionTime", 4, dsl.TIME, "When status last changed."),
        dsl.Field("reason", 5, dsl.STRING, "A machine-readable reason for the last transition."),
        dsl.Field("message", 6, dsl.STRING, "A human-readable explanation of the last transition."),
    ),
)


NODE_ADDRESS = dsl.Message(
    "io.k8s.api.core.v1.NodeAddress",
    "One address of a node.",
    (
        dsl.Field("type", 1, dsl.STRING, "Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.",
                  required=True),
        dsl.Field("address", 2, dsl.STRING, "The address.", required=True),
    ),
)


DAEMON_ENDPOINT = dsl.Message(
    "io.k8s.api.core.v1.DaemonEndpoint",
    "A port a node daemon listens on.",
    (
        dsl.Field("Port", 1, dsl.INT32, "The port number.", required=True),
    ),
)


NODE_DAEMON_ENDPOINTS = dsl.Message(
    "io.k8s.api.core.v1.NodeDaemonEndpoints",
    "Ports of the daemons running on a node.",
    (
        dsl.Field("kubeletEndpoint", 1, DAEMON_ENDPOINT, "The kubelet's API port."),
    ),
)


NODE_SWAP_STATUS = dsl.Message(
    "io.k8s.api.core.v1.NodeSwapStatus",
    "A node's swap memory.",
    (
        dsl.Field("capacity", 1, dsl.INT64, "The total swap memory in bytes.", pointer=True),
    ),
)


NODE_SYSTEM_INFO = dsl.Message(
    "io.k8s.api.core.v1.NodeSystemInfo",
    "Identity and software versions of a node, as its kubelet reports them.",
    (
        dsl.Field("machineID", 1, dsl.STRING, "The machine ID (/etc/machine-id), the preferred unique identity.",
                  required=True),
        dsl.Field("systemUUID", 2, dsl.STRING, "The system UUID from the firmware.", required=True),
        dsl.Field("bootID", 3, dsl.STRING, "The ID of the current boot.", required=True),
        dsl.Field("kernelVersion", 4, dsl.STRING, "The kernel version (uname -r).", required=True),
        dsl.Field("osImage", 5, dsl.STRING, "The operating system's name (from /etc/os-release).", required=True),
        dsl.Field("containerRuntimeVersion", 6, dsl.STRING, "The container runtime and its version, such as "
                  "docker://24.0.7.", required=True),
        dsl.Field("kubeletVersion", 7, dsl.STRING, "The kubelet's version.", required=True),
        dsl.Field("kubeProxyVersion", 8, dsl.STRING, "Deprecated and not set.", required=True),
        dsl.Field("operatingSystem", 9, dsl.STRING, "The operating system, such as linux.", required=True),
        dsl.Field("architecture", 10, dsl.STRING, "The CPU architecture, such as amd64.", required=True),
        dsl.Field("swap", 11, NODE_SWAP_STATUS, "The node's swap memory.", pointer=True),
    ),
)


CONTAINER_IMAGE = dsl.Message(
    "io.k8s.api.core.v1.ContainerImage",
    "An image present on a node.",
    (
        dsl.Field("names", 1, dsl.STRING, "The image's names and digests.", repeated=True, list_type="atomic"),
        dsl.Field("sizeBytes", 2, dsl.INT64, "The image's size in bytes."),
    ),
)


ATTACHED_VOLUME = dsl.Message(
    "io.k8s.api.core.v1.AttachedVolume",
    "A volume attached to a node.",
    (
        dsl.Field("name", 1, dsl.STRING, "The volume's unique name.", required=True),
        dsl.Field("devicePath", 2, dsl.STRING, "Where the volume's device appears on the node.", required=True),
    ),
)


NODE_CONFIG_STATUS = dsl.Message(
    "io.k8s.api.core.v1.NodeConfigStatus",
    "The state of a node's dynamic kubelet configuration (deprecated, no longer used).",
    (
        dsl.Field("assigned", 1, NODE_CONFIG_SOURCE, "The configuration the node will try to use.", pointer=True),
        dsl.Field("active", 2, NODE_CONFIG_SOURCE, "The configuration the node uses.", pointer=True),
        dsl.Field("lastKnownGood", 3, NODE_CONFIG_SOURCE, "The configuration the node falls back to.", pointer=True),
        dsl.Field("error", 4, dsl.STRING, "Why the assigned configuration could not be used."),
    ),
)


NODE_RUNTIME_HANDLER_FEATURES = dsl.Message(
    "io.k8s.api.core.v1.NodeRuntimeHandlerFeatures",
    "Features a runtime handler supports.",
    (
        dsl.Field("recursiveReadOnlyMounts", 1, dsl.BOOL, "Recursive read-only mounts.", pointer=True),
        dsl.Field("userNamespaces", 2, dsl.BOOL, "User namespaces, volumes included.", pointer=True),
    ),
)


NODE_RUNTIME_HANDLER = dsl.Message(
    "io.k8s.api.core.v1.NodeRuntimeHandler",
    "A runtime handler (RuntimeClass handler) of a node.",
    (
        dsl.Field("name", 1, dsl.STRING, "The handler's name; empty for the default."),
        dsl.Field("features", 2, NODE_RUNTIME_HANDLER_FEATURES, "The features it supports.", pointer=True),
    ),
)


NODE_FEATURES = dsl.Message(
    "io.k8s.api.core.v1.NodeFeatures",
    "Features the node's container runtime supports.",
    (
        dsl.Field("supplementalGroupsPolicy", 1, dsl.BOOL, "The supplementalGroupsPolicy field and the container "
                  "user status.", pointer=True),
    ),
)


NODE_STATUS = dsl.Message(
    "io.k8s.api.core.v1.NodeStatus",
    "The observed state of a node, reported by its kubelet.",
    (
        dsl.Field("capacity", 1, dsl.QUANTITY, "The node's total resources: cpu, memory, pods, ephemeral-storage, "
                  "...", map=True),
        dsl.Field("allocatable", 2, dsl.QUANTITY, "The resources available to pods: capacity less what the system "
                  "reserves. Defaults to capacity.", map=True),
        dsl.Field("phase", 3, dsl.STRING, "Deprecated and never set.", enum=("Pending", "Running", "Terminated")),
        dsl.Field("conditions", 4, NODE_CONDITION, "Ready and the pressure conditions.", repeated=True,
                  patch_strategy="merge", merge_key="type", list_type="map", list_map_keys=("type",)),
        dsl.Field("addresses", 5, NODE_ADDRESS, "The node's addresses.", repeated=True, patch_strategy="merge",
                  merge_key="type", list_type="map", list_map_keys=("type",)),
        dsl.Field("daemonEndpoints", 6, NODE_DAEMON_ENDPOINTS, "Ports of the node's daemons (the kubelet's)."),
        dsl.Field("nodeInfo", 7, NODE_SYSTEM_INFO, "Identity and software versions of the node."),
        dsl.Field("images", 8, CONTAINER_IMAGE, "Images present on the node.", repeated=True, list_type="atomic"),
        dsl.Field("volumesInUse", 9, dsl.STRING, "Attachable volumes mounted on the node.", repeated=True,
                  list_type="atomic"),
        dsl.Field("volumesAttached", 10, ATTACHED_VOLUME, "Volumes attached to the node.", repeated=True,
                  list_type="atomic"),
        dsl.Field("config", 11, NODE_CONFIG_STATUS, "Deprecated and no longer used.", pointer=True),
        dsl.Field("runtimeHandlers", 12, NODE_RUNTIME_HANDLER, "The runtime handlers the node offers.", repeated=True,
                  list_type="atomic"),
        dsl.Field("features", 13, NODE_FEATURES, "Features the node's container runtime supports.", pointer=True),
        dsl.Field("declaredFeatures", 14, dsl.STRING, "Feature-gated features the node declares it supports.",
                  repeated=True, list_type="atomic"),
    ),
)


NODE = dsl.kind(
    "io.k8s.api.core.v1.Node",
    "A machine that runs pods, registered and kept up to date by its kubelet.",
    dsl.GVK("", "v1", "Node"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, NODE_SPEC, "The desired state: pod address ranges, taints, schedulability."),
        dsl.Field("status", 3, NODE_STATUS, "The observed state, reported by the kubelet. Read-only."),
    ),
)


NODE_LIST = meta_v1.list_of(NODE)


NODE_ALLOCATABLE_MAPPED_RESOURCES = dsl.Message(
    "io.k8s.api.core.v1.NodeAllocatableMappedResources",
    "A node-allocatable resource allocated through devices of a claim.",
    (
        dsl.Field("name", 1, dsl.STRING, "The resource, such as cpu or memory.", required=True),
        dsl.Field("quantity", 2, dsl.QUANTITY, "How much of it the claim's devices take, shared by its containers.",
                  pointer=True, required=True),
    ),
)


NODE_ALLOCATABLE_OVERHEAD_RESOURCES = dsl.Message(
    "io.k8s.api.core.v1.NodeAllocatableOverheadResources",
    "Extra node-allocatable resources a claim's devices need.",
    (
        dsl.Field("name", 1, dsl.STRING, "The resource, such as cpu or memory.", required=True),
        dsl.Field("perPod", 2, dsl.QUANTITY, "A fixed amount for the pod.", pointer=True),
        dsl.Field("perContainer", 3, dsl.QUANTITY, "An amount for each container using the claim.", pointer=True),
    ),
)


NODE_ALLOCATABLE_RESOURCE_CLAIM_STATUS = dsl.Message(
    "io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus",
    "Node-allocatable resources allocated to a pod through one resource claim.",
    (
        dsl.Field("resourceClaimName", 1, dsl.STRING, "The claim.", required=True),
        dsl.Field("containers", 2, dsl.STRING, "The containers that use the claim.", repeated=True, list_type="set"),
        dsl.Field("mapping", 4, NODE_ALLOCATABLE_MAPPED_RESOURCES, "Resources taken by the claim's devices.",
                  repeated=True, patch_strategy="merge", merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("overhead", 5, NODE_ALLOCATABLE_OVERHEAD_RESOURCES, "Extra resources the claim's devices need.",
                  repeated=True, patch_strategy="merge", merge_key="name", list_type="map", list_map_keys=("name",)),
    ),
)
