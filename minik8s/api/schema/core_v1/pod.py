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
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("value", 2, dsl.STRING, "TODO", required=True),
    ),
)


POD_SECURITY_CONTEXT = dsl.Message(
    "io.k8s.api.core.v1.PodSecurityContext",
    "TODO",
    (
        dsl.Field("seLinuxOptions", 1, containers.SE_LINUX_OPTIONS, "TODO", pointer=True),
        dsl.Field("windowsOptions", 8, containers.WINDOWS_SECURITY_CONTEXT_OPTIONS, "TODO", pointer=True),
        dsl.Field("runAsUser", 2, dsl.INT64, "TODO", pointer=True),
        dsl.Field("runAsGroup", 6, dsl.INT64, "TODO", pointer=True),
        dsl.Field("runAsNonRoot", 3, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("supplementalGroups", 4, dsl.INT64, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("supplementalGroupsPolicy", 12, dsl.STRING, "TODO", pointer=True, enum=("Merge", "Strict")),
        dsl.Field("fsGroup", 5, dsl.INT64, "TODO", pointer=True),
        dsl.Field("sysctls", 7, SYSCTL, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("fsGroupChangePolicy", 9, dsl.STRING, "TODO", pointer=True, enum=("OnRootMismatch", "Always")),
        dsl.Field("seccompProfile", 10, containers.SECCOMP_PROFILE, "TODO", pointer=True),
        dsl.Field("appArmorProfile", 11, containers.APP_ARMOR_PROFILE, "TODO", pointer=True),
        dsl.Field("seLinuxChangePolicy", 13, dsl.STRING, "TODO", pointer=True),
    ),
)


PREFERRED_SCHEDULING_TERM = dsl.Message(
    "io.k8s.api.core.v1.PreferredSchedulingTerm",
    "TODO",
    (
        dsl.Field("weight", 1, dsl.INT32, "TODO", required=True),
        dsl.Field("preference", 2, common.NODE_SELECTOR_TERM, "TODO", required=True),
    ),
)


NODE_AFFINITY = dsl.Message(
    "io.k8s.api.core.v1.NodeAffinity",
    "TODO",
    (
        dsl.Field("requiredDuringSchedulingIgnoredDuringExecution", 1, common.NODE_SELECTOR, "TODO", pointer=True),
        dsl.Field("preferredDuringSchedulingIgnoredDuringExecution", 2, PREFERRED_SCHEDULING_TERM, "TODO",
                  repeated=True, list_type="atomic"),
    ),
)


POD_AFFINITY_TERM = dsl.Message(
    "io.k8s.api.core.v1.PodAffinityTerm",
    "TODO",
    (
        dsl.Field("labelSelector", 1, meta_v1.LABEL_SELECTOR, "TODO", pointer=True),
        dsl.Field("namespaces", 2, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("topologyKey", 3, dsl.STRING, "TODO", required=True),
        dsl.Field("namespaceSelector", 4, meta_v1.LABEL_SELECTOR, "TODO", pointer=True),
        dsl.Field("matchLabelKeys", 5, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("mismatchLabelKeys", 6, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
    ),
)


WEIGHTED_POD_AFFINITY_TERM = dsl.Message(
    "io.k8s.api.core.v1.WeightedPodAffinityTerm",
    "TODO",
    (
        dsl.Field("weight", 1, dsl.INT32, "TODO", required=True),
        dsl.Field("podAffinityTerm", 2, POD_AFFINITY_TERM, "TODO", required=True),
    ),
)


POD_AFFINITY = dsl.Message(
    "io.k8s.api.core.v1.PodAffinity",
    "TODO",
    (
        dsl.Field("requiredDuringSchedulingIgnoredDuringExecution", 1, POD_AFFINITY_TERM, "TODO", repeated=True,
                  list_type="atomic"),
        dsl.Field("preferredDuringSchedulingIgnoredDuringExecution", 2, WEIGHTED_POD_AFFINITY_TERM, "TODO",
                  repeated=True, list_type="atomic"),
    ),
)


POD_ANTI_AFFINITY = dsl.Message(
    "io.k8s.api.core.v1.PodAntiAffinity",
    "TODO",
    (
        dsl.Field("requiredDuringSchedulingIgnoredDuringExecution", 1, POD_AFFINITY_TERM, "TODO", repeated=True,
                  list_type="atomic"),
        dsl.Field("preferredDuringSchedulingIgnoredDuringExecution", 2, WEIGHTED_POD_AFFINITY_TERM, "TODO",
                  repeated=True, list_type="atomic"),
    ),
)


AFFINITY = dsl.Message(
    "io.k8s.api.core.v1.Affinity",
    "TODO",
    (
        dsl.Field("nodeAffinity", 1, NODE_AFFINITY, "TODO", pointer=True),
        dsl.Field("podAffinity", 2, POD_AFFINITY, "TODO", pointer=True),
        dsl.Field("podAntiAffinity", 3, POD_ANTI_AFFINITY, "TODO", pointer=True),
    ),
)


HOST_ALIAS = dsl.Message(
    "io.k8s.api.core.v1.HostAlias",
    "TODO",
    (
        dsl.Field("ip", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("hostnames", 2, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
    ),
)


POD_DNS_CONFIG_OPTION = dsl.Message(
    "io.k8s.api.core.v1.PodDNSConfigOption",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO"),
        dsl.Field("value", 2, dsl.STRING, "TODO", pointer=True),
    ),
)


POD_DNS_CONFIG = dsl.Message(
    "io.k8s.api.core.v1.PodDNSConfig",
    "TODO",
    (
        dsl.Field("nameservers", 1, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("searches", 2, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("options", 3, POD_DNS_CONFIG_OPTION, "TODO", repeated=True, list_type="atomic"),
    ),
)


POD_READINESS_GATE = dsl.Message(
    "io.k8s.api.core.v1.PodReadinessGate",
    "TODO",
    (
        dsl.Field("conditionType", 1, dsl.STRING, "TODO", required=True),
    ),
)


TOPOLOGY_SPREAD_CONSTRAINT = dsl.Message(
    "io.k8s.api.core.v1.TopologySpreadConstraint",
    "TODO",
    (
        dsl.Field("maxSkew", 1, dsl.INT32, "TODO", required=True),
        dsl.Field("topologyKey", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("whenUnsatisfiable", 3, dsl.STRING, "TODO", required=True, enum=("DoNotSchedule", "ScheduleAnyway")),
        dsl.Field("labelSelector", 4, meta_v1.LABEL_SELECTOR, "TODO", pointer=True),
        dsl.Field("minDomains", 5, dsl.INT32, "TODO", pointer=True),
        dsl.Field("nodeAffinityPolicy", 6, dsl.STRING, "TODO", pointer=True, enum=("Ignore", "Honor")),
        dsl.Field("nodeTaintsPolicy", 7, dsl.STRING, "TODO", pointer=True, enum=("Ignore", "Honor")),
        dsl.Field("matchLabelKeys", 8, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
    ),
)


POD_OS = dsl.Message(
    "io.k8s.api.core.v1.PodOS",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
    ),
)


POD_SCHEDULING_GATE = dsl.Message(
    "io.k8s.api.core.v1.PodSchedulingGate",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
    ),
)


POD_RESOURCE_CLAIM = dsl.Message(
    "io.k8s.api.core.v1.PodResourceClaim",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("resourceClaimName", 3, dsl.STRING, "TODO", pointer=True),
        dsl.Field("resourceClaimTemplateName", 4, dsl.STRING, "TODO", pointer=True),
    ),
)


POD_SCHEDULING_GROUP = dsl.Message(
    "io.k8s.api.core.v1.PodSchedulingGroup",
    "TODO",
    (
        dsl.Field("podGroupName", 1, dsl.STRING, "TODO", pointer=True),
    ),
)


POD_SPEC = dsl.Message(
    "io.k8s.api.core.v1.PodSpec",
    "TODO",
    (
        dsl.Field("volumes", 1, volumes.VOLUME, "TODO", repeated=True, patch_strategy="merge,retainKeys",
                  merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("initContainers", 20, containers.CONTAINER, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("containers", 2, containers.CONTAINER, "TODO", repeated=True, required=True,
                  patch_strategy="merge", merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("ephemeralContainers", 34, containers.EPHEMERAL_CONTAINER, "TODO", repeated=True,
                  patch_strategy="merge", merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("restartPolicy", 3, dsl.STRING, "TODO", enum=("Always", "OnFailure", "Never")),
        dsl.Field("terminationGracePeriodSeconds", 4, dsl.INT64, "TODO", pointer=True),
        dsl.Field("activeDeadlineSeconds", 5, dsl.INT64, "TODO", pointer=True),
        dsl.Field("dnsPolicy", 6, dsl.STRING, "TODO",
                  enum=("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")),
        dsl.Field("nodeSelector", 7, dsl.STRING, "TODO", map=True, map_type="atomic"),
        dsl.Field("serviceAccountName", 8, dsl.STRING, "TODO"),
        dsl.Field("serviceAccount", 9, dsl.STRING, "TODO"),
        dsl.Field("automountServiceAccountToken", 21, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("nodeName", 10, dsl.STRING, "TODO"),
        dsl.Field("hostNetwork", 11, dsl.BOOL, "TODO"),
        dsl.Field("hostPID", 12, dsl.BOOL, "TODO"),
        dsl.Field("hostIPC", 13, dsl.BOOL, "TODO"),
        dsl.Field("shareProcessNamespace", 27, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("securityContext", 14, POD_SECURITY_CONTEXT, "TODO", pointer=True),
        dsl.Field("imagePullSecrets", 15, common.LOCAL_OBJECT_REFERENCE, "TODO", repeated=True,
                  patch_strategy="merge", merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("hostname", 16, dsl.STRING, "TODO"),
        dsl.Field("subdomain", 17, dsl.STRING, "TODO"),
        dsl.Field("affinity", 18, AFFINITY, "TODO", pointer=True),
        dsl.Field("schedulerName", 19, dsl.STRING, "TODO"),
        dsl.Field("tolerations", 22, common.TOLERATION, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("hostAliases", 23, HOST_ALIAS, "TODO", repeated=True, patch_strategy="merge", merge_key="ip",
                  list_type="map", list_map_keys=("ip",)),
        dsl.Field("priorityClassName", 24, dsl.STRING, "TODO"),
        dsl.Field("priority", 25, dsl.INT32, "TODO", pointer=True),
        dsl.Field("dnsConfig", 26, POD_DNS_CONFIG, "TODO", pointer=True),
        dsl.Field("readinessGates", 28, POD_READINESS_GATE, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("runtimeClassName", 29, dsl.STRING, "TODO", pointer=True),
        dsl.Field("enableServiceLinks", 30, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("preemptionPolicy", 31, dsl.STRING, "TODO", pointer=True, enum=("PreemptLowerPriority", "Never")),
        dsl.Field("overhead", 32, dsl.QUANTITY, "TODO", map=True),
        dsl.Field("topologySpreadConstraints", 33, TOPOLOGY_SPREAD_CONSTRAINT, "TODO", repeated=True,
                  patch_strategy="merge", merge_key="topologyKey", list_type="map",
                  list_map_keys=("topologyKey", "whenUnsatisfiable")),
        dsl.Field("setHostnameAsFQDN", 35, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("os", 36, POD_OS, "TODO", pointer=True),
        dsl.Field("hostUsers", 37, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("schedulingGates", 38, POD_SCHEDULING_GATE, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("resourceClaims", 39, POD_RESOURCE_CLAIM, "TODO", repeated=True, patch_strategy="merge,retainKeys",
                  merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("resources", 40, containers.RESOURCE_REQUIREMENTS, "TODO", pointer=True),
        dsl.Field("hostnameOverride", 41, dsl.STRING, "TODO", pointer=True),
        dsl.Field("schedulingGroup", 43, POD_SCHEDULING_GROUP, "TODO", pointer=True),
        dsl.Field("evictionResponders", 44, volumes.EVICTION_RESPONDER, "TODO", repeated=True,
                  patch_strategy="merge", merge_key="name", list_type="map", list_map_keys=("name",)),
    ),
)


POD_TEMPLATE_SPEC = dsl.Message(
    "io.k8s.api.core.v1.PodTemplateSpec",
    "TODO",
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, POD_SPEC, "TODO"),
    ),
)


BINDING = dsl.kind(
    "io.k8s.api.core.v1.Binding",
    "TODO",
    dsl.GVK("", "v1", "Binding"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("target", 2, common.OBJECT_REFERENCE, "TODO", required=True),
    ),
)


POD_CONDITION = dsl.Message(
    "io.k8s.api.core.v1.PodCondition",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("observedGeneration", 7, dsl.INT64, "TODO"),
        dsl.Field("status", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("lastProbeTime", 3, dsl.TIME, "TODO"),
        dsl.Field("lastTransitionTime", 4, dsl.TIME, "TODO"),
        dsl.Field("reason", 5, dsl.STRING, "TODO"),
        dsl.Field("message", 6, dsl.STRING, "TODO"),
    ),
)


HOST_IP = dsl.Message(
    "io.k8s.api.core.v1.HostIP",
    "TODO",
    (
        dsl.Field("ip", 1, dsl.STRING, "TODO", required=True),
    ),
)


POD_IP = dsl.Message(
    "io.k8s.api.core.v1.PodIP",
    "TODO",
    (
        dsl.Field("ip", 1, dsl.STRING, "TODO", required=True),
    ),
)


CONTAINER_STATE_WAITING = dsl.Message(
    "io.k8s.api.core.v1.ContainerStateWaiting",
    "TODO",
    (
        dsl.Field("reason", 1, dsl.STRING, "TODO"),
        dsl.Field("message", 2, dsl.STRING, "TODO"),
    ),
)


CONTAINER_STATE_RUNNING = dsl.Message(
    "io.k8s.api.core.v1.ContainerStateRunning",
    "TODO",
    (
        dsl.Field("startedAt", 1, dsl.TIME, "TODO"),
    ),
)


CONTAINER_STATE_TERMINATED = dsl.Message(
    "io.k8s.api.core.v1.ContainerStateTerminated",
    "TODO",
    (
        dsl.Field("exitCode", 1, dsl.INT32, "TODO", required=True),
        dsl.Field("signal", 2, dsl.INT32, "TODO"),
        dsl.Field("reason", 3, dsl.STRING, "TODO"),
        dsl.Field("message", 4, dsl.STRING, "TODO"),
        dsl.Field("startedAt", 5, dsl.TIME, "TODO"),
        dsl.Field("finishedAt", 6, dsl.TIME, "TODO"),
        dsl.Field("containerID", 7, dsl.STRING, "TODO"),
    ),
)


CONTAINER_STATE = dsl.Message(
    "io.k8s.api.core.v1.ContainerState",
    "TODO",
    (
        dsl.Field("waiting", 1, CONTAINER_STATE_WAITING, "TODO", pointer=True),
        dsl.Field("running", 2, CONTAINER_STATE_RUNNING, "TODO", pointer=True),
        dsl.Field("terminated", 3, CONTAINER_STATE_TERMINATED, "TODO", pointer=True),
    ),
)


IMAGE_VOLUME_STATUS = dsl.Message(
    "io.k8s.api.core.v1.ImageVolumeStatus",
    "TODO",
    (
        dsl.Field("imageRef", 1, dsl.STRING, "TODO"),
    ),
)


VOLUME_STATUS = dsl.Message(
    "io.k8s.api.core.v1.VolumeStatus",
    "TODO",
    (
        dsl.Field("image", 1, IMAGE_VOLUME_STATUS, "TODO", pointer=True),
    ),
)


VOLUME_MOUNT_STATUS = dsl.Message(
    "io.k8s.api.core.v1.VolumeMountStatus",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("mountPath", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("readOnly", 3, dsl.BOOL, "TODO"),
        dsl.Field("recursiveReadOnly", 4, dsl.STRING, "TODO", pointer=True),
        dsl.Field("volumeStatus", 5, VOLUME_STATUS, "TODO", pointer=True),
    ),
)


LINUX_CONTAINER_USER = dsl.Message(
    "io.k8s.api.core.v1.LinuxContainerUser",
    "TODO",
    (
        dsl.Field("uid", 1, dsl.INT64, "TODO", required=True),
        dsl.Field("gid", 2, dsl.INT64, "TODO", required=True),
        dsl.Field("supplementalGroups", 3, dsl.INT64, "TODO", repeated=True, list_type="atomic"),
    ),
)


CONTAINER_USER = dsl.Message(
    "io.k8s.api.core.v1.ContainerUser",
    "TODO",
    (
        dsl.Field("linux", 1, LINUX_CONTAINER_USER, "TODO", pointer=True),
    ),
)


RESOURCE_HEALTH = dsl.Message(
    "io.k8s.api.core.v1.ResourceHealth",
    "TODO",
    (
        dsl.Field("resourceID", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("health", 2, dsl.STRING, "TODO"),
        dsl.Field("message", 6, dsl.STRING, "TODO", pointer=True),
    ),
)


RESOURCE_STATUS = dsl.Message(
    "io.k8s.api.core.v1.ResourceStatus",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("resources", 2, RESOURCE_HEALTH, "TODO", repeated=True, list_type="map",
                  list_map_keys=("resourceID",)),
    ),
)


CONTAINER_STATUS = dsl.Message(
    "io.k8s.api.core.v1.ContainerStatus",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("state", 2, CONTAINER_STATE, "TODO"),
        dsl.Field("lastState", 3, CONTAINER_STATE, "TODO"),
        dsl.Field("ready", 4, dsl.BOOL, "TODO", required=True),
        dsl.Field("restartCount", 5, dsl.INT32, "TODO", required=True),
        dsl.Field("image", 6, dsl.STRING, "TODO", required=True),
        dsl.Field("imageID", 7, dsl.STRING, "TODO", required=True),
        dsl.Field("containerID", 8, dsl.STRING, "TODO"),
        dsl.Field("started", 9, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("allocatedResources", 10, dsl.QUANTITY, "TODO", map=True),
        dsl.Field("resources", 11, containers.RESOURCE_REQUIREMENTS, "TODO", pointer=True),
        dsl.Field("volumeMounts", 12, VOLUME_MOUNT_STATUS, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="mountPath", list_type="map", list_map_keys=("mountPath",)),
        dsl.Field("user", 13, CONTAINER_USER, "TODO", pointer=True),
        dsl.Field("allocatedResourcesStatus", 14, RESOURCE_STATUS, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("stopSignal", 15, dsl.STRING, "TODO", pointer=True,
                  enum=("SIGABRT", "SIGALRM", "SIGBUS", "SIGCHLD", "SIGCLD", "SIGCONT", "SIGFPE", "SIGHUP", "SIGILL", "SIGINT", "SIGIO", "SIGIOT", "SIGKILL", "SIGPIPE", "SIGPOLL", "SIGPROF", "SIGPWR", "SIGQUIT", "SIGSEGV", "SIGSTKFLT", "SIGSTOP", "SIGSYS", "SIGTERM", "SIGTRAP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGUSR1", "SIGUSR2", "SIGVTALRM", "SIGWINCH", "SIGXCPU", "SIGXFSZ", "SIGRTMIN", "SIGRTMIN+1", "SIGRTMIN+2", "SIGRTMIN+3", "SIGRTMIN+4", "SIGRTMIN+5", "SIGRTMIN+6", "SIGRTMIN+7", "SIGRTMIN+8", "SIGRTMIN+9", "SIGRTMIN+10", "SIGRTMIN+11", "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15", "SIGRTMAX-14", "SIGRTMAX-13", "SIGRTMAX-12", "SIGRTMAX-11", "SIGRTMAX-10", "SIGRTMAX-9", "SIGRTMAX-8", "SIGRTMAX-7", "SIGRTMAX-6", "SIGRTMAX-5", "SIGRTMAX-4", "SIGRTMAX-3", "SIGRTMAX-2", "SIGRTMAX-1", "SIGRTMAX")),
    ),
)


POD_RESOURCE_CLAIM_STATUS = dsl.Message(
    "io.k8s.api.core.v1.PodResourceClaimStatus",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("resourceClaimName", 2, dsl.STRING, "TODO", pointer=True),
    ),
)


CONTAINER_EXTENDED_RESOURCE_REQUEST = dsl.Message(
    "io.k8s.api.core.v1.ContainerExtendedResourceRequest",
    "TODO",
    (
        dsl.Field("containerName", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("resourceName", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("requestName", 3, dsl.STRING, "TODO", required=True),
    ),
)


POD_EXTENDED_RESOURCE_CLAIM_STATUS = dsl.Message(
    "io.k8s.api.core.v1.PodExtendedResourceClaimStatus",
    "TODO",
    (
        dsl.Field("requestMappings", 1, CONTAINER_EXTENDED_RESOURCE_REQUEST, "TODO", repeated=True, required=True,
                  list_type="atomic"),
        dsl.Field("resourceClaimName", 2, dsl.STRING, "TODO", required=True),
    ),
)


VOLUME_HEALTH_CONDITION = dsl.Message(
    "io.k8s.api.core.v1.VolumeHealthCondition",
    "TODO",
    (
        dsl.Field("status", 1, dsl.STRING, "TODO", required=True, enum=("Inaccessible", "DataLoss", "Degraded")),
        dsl.Field("reason", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("message", 3, dsl.STRING, "TODO"),
    ),
)


POD_VOLUME_HEALTH = dsl.Message(
    "io.k8s.api.core.v1.PodVolumeHealth",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("healthConditions", 2, VOLUME_HEALTH_CONDITION, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="status", list_type="map", list_map_keys=("status", "reason")),
        dsl.Field("lastTransitionTime", 3, dsl.TIME, "TODO"),
    ),
)


POD_STATUS = dsl.Message(
    "io.k8s.api.core.v1.PodStatus",
    "TODO",
    (
        dsl.Field("observedGeneration", 17, dsl.INT64, "TODO"),
        dsl.Field("phase", 1, dsl.STRING, "TODO", enum=("Pending", "Running", "Succeeded", "Failed", "Unknown")),
        dsl.Field("conditions", 2, POD_CONDITION, "TODO", repeated=True, patch_strategy="merge", merge_key="type",
                  list_type="map", list_map_keys=("type",)),
        dsl.Field("message", 3, dsl.STRING, "TODO"),
        dsl.Field("reason", 4, dsl.STRING, "TODO"),
        dsl.Field("nominatedNodeName", 11, dsl.STRING, "TODO"),
        dsl.Field("hostIP", 5, dsl.STRING, "TODO"),
        dsl.Field("hostIPs", 16, HOST_IP, "TODO", repeated=True, patch_strategy="merge", merge_key="ip",
                  list_type="atomic"),
        dsl.Field("podIP", 6, dsl.STRING, "TODO"),
        dsl.Field("podIPs", 12, POD_IP, "TODO", repeated=True, patch_strategy="merge", merge_key="ip",
                  list_type="map", list_map_keys=("ip",)),
        dsl.Field("startTime", 7, dsl.TIME, "TODO", pointer=True),
        dsl.Field("initContainerStatuses", 10, CONTAINER_STATUS, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("containerStatuses", 8, CONTAINER_STATUS, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("qosClass", 9, dsl.STRING, "TODO", enum=("Guaranteed", "Burstable", "BestEffort")),
        dsl.Field("ephemeralContainerStatuses", 13, CONTAINER_STATUS, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("resize", 14, dsl.STRING, "TODO"),
        dsl.Field("resourceClaimStatuses", 15, POD_RESOURCE_CLAIM_STATUS, "TODO", repeated=True,
                  patch_strategy="merge,retainKeys", merge_key="name", list_type="map", list_map_keys=("name",)),
        dsl.Field("extendedResourceClaimStatus", 18, POD_EXTENDED_RESOURCE_CLAIM_STATUS, "TODO", pointer=True),
        dsl.Field("allocatedResources", 19, dsl.QUANTITY, "TODO", map=True),
        dsl.Field("resources", 20, containers.RESOURCE_REQUIREMENTS, "TODO", pointer=True),
        dsl.Field("nodeAllocatableResourceClaimStatuses", 21, node.NODE_ALLOCATABLE_RESOURCE_CLAIM_STATUS, "TODO",
                  repeated=True, patch_strategy="merge", merge_key="resourceClaimName", list_type="map",
                  list_map_keys=("resourceClaimName",)),
        dsl.Field("volumeHealth", 22, POD_VOLUME_HEALTH, "TODO", repeated=True, list_type="map",
                  list_map_keys=("name",)),
    ),
)


POD = dsl.kind(
    "io.k8s.api.core.v1.Pod",
    "TODO",
    dsl.GVK("", "v1", "Pod"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, POD_SPEC, "TODO"),
        dsl.Field("status", 3, POD_STATUS, "TODO"),
    ),
)


POD_LIST = meta_v1.list_of(POD)
