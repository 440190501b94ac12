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
    "TODO",
    (
        dsl.Field("namespace", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("name", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("uid", 3, dsl.STRING, "TODO"),
        dsl.Field("resourceVersion", 4, dsl.STRING, "TODO"),
        dsl.Field("kubeletConfigKey", 5, dsl.STRING, "TODO", required=True),
    ),
)


NODE_CONFIG_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.NodeConfigSource",
    "TODO",
    (
        dsl.Field("configMap", 2, CONFIG_MAP_NODE_CONFIG_SOURCE, "TODO", pointer=True),
    ),
)


NODE_POD_PREEMPTION_POLICY = dsl.Message(
    "io.k8s.api.core.v1.NodePodPreemptionPolicy",
    "TODO",
    (
        dsl.Field("disableResizePreemption", 1, dsl.STRING, "TODO", repeated=True, list_type="set"),
    ),
)


NODE_SPEC = dsl.Message(
    "io.k8s.api.core.v1.NodeSpec",
    "TODO",
    (
        dsl.Field("podCIDR", 1, dsl.STRING, "TODO"),
        dsl.Field("podCIDRs", 7, dsl.STRING, "TODO", repeated=True, patch_strategy="merge", list_type="set"),
        dsl.Field("providerID", 3, dsl.STRING, "TODO"),
        dsl.Field("unschedulable", 4, dsl.BOOL, "TODO"),
        dsl.Field("taints", 5, common.TAINT, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("configSource", 6, NODE_CONFIG_SOURCE, "TODO", pointer=True),
        dsl.Field("externalID", 2, dsl.STRING, "TODO"),
        dsl.Field("podPreemptionPolicy", 8, NODE_POD_PREEMPTION_POLICY, "TODO", pointer=True),
    ),
)


NODE_CONDITION = dsl.Message(
    "io.k8s.api.core.v1.NodeCondition",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("status", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("lastHeartbeatTime", 3, dsl.TIME, "TODO"),
        dsl.Field("lastTransitionTime", 4, dsl.TIME, "TODO"),
        dsl.Field("reason", 5, dsl.STRING, "TODO"),
        dsl.Field("message", 6, dsl.STRING, "TODO"),
    ),
)


NODE_ADDRESS = dsl.Message(
    "io.k8s.api.core.v1.NodeAddress",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("address", 2, dsl.STRING, "TODO", required=True),
    ),
)


DAEMON_ENDPOINT = dsl.Message(
    "io.k8s.api.core.v1.DaemonEndpoint",
    "TODO",
    (
        dsl.Field("Port", 1, dsl.INT32, "TODO", required=True),
    ),
)


NODE_DAEMON_ENDPOINTS = dsl.Message(
    "io.k8s.api.core.v1.NodeDaemonEndpoints",
    "TODO",
    (
        dsl.Field("kubeletEndpoint", 1, DAEMON_ENDPOINT, "TODO"),
    ),
)


NODE_SWAP_STATUS = dsl.Message(
    "io.k8s.api.core.v1.NodeSwapStatus",
    "TODO",
    (
        dsl.Field("capacity", 1, dsl.INT64, "TODO", pointer=True),
    ),
)


NODE_SYSTEM_INFO = dsl.Message(
    "io.k8s.api.core.v1.NodeSystemInfo",
    "TODO",
    (
        dsl.Field("machineID", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("systemUUID", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("bootID", 3, dsl.STRING, "TODO", required=True),
        dsl.Field("kernelVersion", 4, dsl.STRING, "TODO", required=True),
        dsl.Field("osImage", 5, dsl.STRING, "TODO", required=True),
        dsl.Field("containerRuntimeVersion", 6, dsl.STRING, "TODO", required=True),
        dsl.Field("kubeletVersion", 7, dsl.STRING, "TODO", required=True),
        dsl.Field("kubeProxyVersion", 8, dsl.STRING, "TODO", required=True),
        dsl.Field("operatingSystem", 9, dsl.STRING, "TODO", required=True),
        dsl.Field("architecture", 10, dsl.STRING, "TODO", required=True),
        dsl.Field("swap", 11, NODE_SWAP_STATUS, "TODO", pointer=True),
    ),
)


CONTAINER_IMAGE = dsl.Message(
    "io.k8s.api.core.v1.ContainerImage",
    "TODO",
    (
        dsl.Field("names", 1, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("sizeBytes", 2, dsl.INT64, "TODO"),
    ),
)


ATTACHED_VOLUME = dsl.Message(
    "io.k8s.api.core.v1.AttachedVolume",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("devicePath", 2, dsl.STRING, "TODO", required=True),
    ),
)


NODE_CONFIG_STATUS = dsl.Message(
    "io.k8s.api.core.v1.NodeConfigStatus",
    "TODO",
    (
        dsl.Field("assigned", 1, NODE_CONFIG_SOURCE, "TODO", pointer=True),
        dsl.Field("active", 2, NODE_CONFIG_SOURCE, "TODO", pointer=True),
        dsl.Field("lastKnownGood", 3, NODE_CONFIG_SOURCE, "TODO", pointer=True),
        dsl.Field("error", 4, dsl.STRING, "TODO"),
    ),
)


NODE_RUNTIME_HANDLER_FEATURES = dsl.Message(
    "io.k8s.api.core.v1.NodeRuntimeHandlerFeatures",
    "TODO",
    (
        dsl.Field("recursiveReadOnlyMounts", 1, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("userNamespaces", 2, dsl.BOOL, "TODO", pointer=True),
    ),
)


NODE_RUNTIME_HANDLER = dsl.Message(
    "io.k8s.api.core.v1.NodeRuntimeHandler",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO"),
        dsl.Field("features", 2, NODE_RUNTIME_HANDLER_FEATURES, "TODO", pointer=True),
    ),
)


NODE_FEATURES = dsl.Message(
    "io.k8s.api.core.v1.NodeFeatures",
    "TODO",
    (
        dsl.Field("supplementalGroupsPolicy", 1, dsl.BOOL, "TODO", pointer=True),
    ),
)


NODE_STATUS = dsl.Message(
    "io.k8s.api.core.v1.NodeStatus",
    "TODO",
    (
        dsl.Field("capacity", 1, dsl.QUANTITY, "TODO", map=True),
        dsl.Field("allocatable", 2, dsl.QUANTITY, "TODO", map=True),
        dsl.Field("phase", 3, dsl.STRING, "TODO", enum=("Pending", "Running", "Terminated")),
        dsl.Field("conditions", 4, NODE_CONDITION, "TODO", repeated=True, patch_strategy="merge", merge_key="type",
                  list_type="map", list_map_keys=("type",)),
        dsl.Field("addresses", 5, NODE_ADDRESS, "TODO", repeated=True, patch_strategy="merge", merge_key="type",
                  list_type="map", list_map_keys=("type",)),
        dsl.Field("daemonEndpoints", 6, NODE_DAEMON_ENDPOINTS, "TODO"),
        dsl.Field("nodeInfo", 7, NODE_SYSTEM_INFO, "TODO"),
        dsl.Field("images", 8, CONTAINER_IMAGE, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("volumesInUse", 9, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("volumesAttached", 10, ATTACHED_VOLUME, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("config", 11, NODE_CONFIG_STATUS, "TODO", pointer=True),
        dsl.Field("runtimeHandlers", 12, NODE_RUNTIME_HANDLER, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("features", 13, NODE_FEATURES, "TODO", pointer=True),
        dsl.Field("declaredFeatures", 14, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
    ),
)


NODE = dsl.kind(
    "io.k8s.api.core.v1.Node",
    "TODO",
    dsl.GVK("", "v1", "Node"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, NODE_SPEC, "TODO"),
        dsl.Field("status", 3, NODE_STATUS, "TODO"),
    ),
)


NODE_LIST = meta_v1.list_of(NODE)


NODE_ALLOCATABLE_MAPPED_RESOURCES = dsl.Message(
    "io.k8s.api.core.v1.NodeAllocatableMappedResources",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("quantity", 2, dsl.QUANTITY, "TODO", pointer=True, required=True),
    ),
)


NODE_ALLOCATABLE_OVERHEAD_RESOURCES = dsl.Message(
    "io.k8s.api.core.v1.NodeAllocatableOverheadResources",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("perPod", 2, dsl.QUANTITY, "TODO", pointer=True),
        dsl.Field("perContainer", 3, dsl.QUANTITY, "TODO", pointer=True),
    ),
)


NODE_ALLOCATABLE_RESOURCE_CLAIM_STATUS = dsl.Message(
    "io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus",
    "TODO",
    (
        dsl.Field("resourceClaimName", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("containers", 2, dsl.STRING, "TODO", repeated=True, list_type="set"),
        dsl.Field("mapping", 4, NODE_ALLOCATABLE_MAPPED_RESOURCES, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("overhead", 5, NODE_ALLOCATABLE_OVERHEAD_RESOURCES, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="name", list_type="map", list_map_keys=("name",)),
    ),
)
