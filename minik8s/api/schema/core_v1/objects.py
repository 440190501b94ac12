"""core/v1: Namespace, Event, ConfigMap, Secret, ServiceAccount and ReplicationController.

Field numbers are those of k8s.io/api/core/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1
from minik8s.api.schema.core_v1 import common
from minik8s.api.schema.core_v1 import pod

SECRET = dsl.kind(
    "io.k8s.api.core.v1.Secret",
    "Sensitive data (passwords, tokens, keys) for pods to use as files or environment variables.",
    dsl.GVK("", "v1", "Secret"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("immutable", 5, dsl.BOOL, "When true, data cannot be changed, only metadata; the Secret must be "
                  "deleted and re-created.", pointer=True),
        dsl.Field("data", 2, dsl.BYTES, "The data, each value base64-encoded; keys are made of letters, digits, '-', "
                  "'_' and '.'.", map=True),
        dsl.Field("stringData", 4, dsl.STRING, "Write-only convenience: values given as plain strings, merged into "
                  "data (winning on clashes) when stored.", map=True),
        dsl.Field("type", 3, dsl.STRING, "What the Secret holds, such as Opaque (the default), kubernetes.io/tls or "
                  "kubernetes.io/dockerconfigjson; some types require certain keys."),
    ),
)


SECRET_LIST = meta_v1.list_of(SECRET)


SERVICE_ACCOUNT = dsl.kind(
    "io.k8s.api.core.v1.ServiceAccount",
    "An identity for the processes in pods: pods run as a ServiceAccount of their namespace and are given a "
    "short-lived token for it.",
    dsl.GVK("", "v1", "ServiceAccount"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("secrets", 2, common.OBJECT_REFERENCE, "Secrets in the same namespace that pods running as this "
                  "account may use (legacy; tokens now come from the TokenRequest API).", repeated=True,
                  patch_strategy="merge", merge_key="name"),
        dsl.Field("imagePullSecrets", 3, common.LOCAL_OBJECT_REFERENCE, "Secrets in the same namespace added to "
                  "the image pull secrets of every pod running as this account.", repeated=True),
        dsl.Field("automountServiceAccountToken", 4, dsl.BOOL, "Whether pods running as this account get its API "
                  "token mounted, unless the pod says otherwise.", pointer=True),
    ),
)


SERVICE_ACCOUNT_LIST = meta_v1.list_of(SERVICE_ACCOUNT)


CONFIG_MAP = dsl.kind(
    "io.k8s.api.core.v1.ConfigMap",
    "Non-confidential configuration for pods to use as files, environment variables or command arguments.",
    dsl.GVK("", "v1", "ConfigMap"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("immutable", 4, dsl.BOOL, "When true, data cannot be changed, only metadata; the ConfigMap must be "
                  "deleted and re-created.", pointer=True),
        dsl.Field("data", 2, dsl.STRING, "Text data; keys are made of letters, digits, '-', '_' and '.' and may not "
                  "also be in binaryData.", map=True),
        dsl.Field("binaryData", 3, dsl.BYTES, "Binary data, each value base64-encoded.", map=True),
    ),
)


CONFIG_MAP_LIST = meta_v1.list_of(CONFIG_MAP)


EVENT_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.EventSource",
    "The component that reported an event.",
    (
        dsl.Field("component", 1, dsl.STRING, "The component's name, such as kubelet or default-scheduler."),
        dsl.Field("host", 2, dsl.STRING, "The node the event comes from."),
    ),
)


EVENT_SERIES = dsl.Message(
    "io.k8s.api.core.v1.EventSeries",
    "A recurring event, counted rather than repeated.",
    (
        dsl.Field("count", 1, dsl.INT32, "How many times it happened up to lastObservedTime."),
        dsl.Field("lastObservedTime", 2, dsl.MICRO_TIME, "When it last happened."),
    ),
)


EVENT = dsl.kind(
    "io.k8s.api.core.v1.Event",
    "A report of something that happened to an object, shown by kubectl describe; kept for a limited time.",
    dsl.GVK("", "v1", "Event"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata.", required=True),
        dsl.Field("involvedObject", 2, common.OBJECT_REFERENCE, "The object the event is about.", required=True),
        dsl.Field("reason", 3, dsl.STRING, "A short CamelCase reason, such as Scheduled, Pulled or BackOff."),
        dsl.Field("message", 4, dsl.STRING, "A human-readable description."),
        dsl.Field("source", 5, EVENT_SOURCE, "The component that reported it."),
        dsl.Field("firstTimestamp", 6, dsl.TIME, "When the event was first seen."),
        dsl.Field("lastTimestamp", 7, dsl.TIME, "When the event was last seen."),
        dsl.Field("count", 8, dsl.INT32, "How many times the event was seen."),
        dsl.Field("type", 9, dsl.STRING, "Normal or Warning."),
        dsl.Field("eventTime", 10, dsl.MICRO_TIME, "When the event was first seen, with microseconds (newer "
                  "reporters)."),
        dsl.Field("series", 11, EVENT_SERIES, "For recurring events: how often and when last.", pointer=True),
        dsl.Field("action", 12, dsl.STRING, "What was done or failed, such as Binding."),
        dsl.Field("related", 13, common.OBJECT_REFERENCE, "A second object the event involves.", pointer=True),
        dsl.Field("reportingComponent", 14, dsl.STRING, "The reporting controller, such as kubernetes.io/kubelet."),
        dsl.Field("reportingInstance", 15, dsl.STRING, "The reporting controller's instance, such as its node."),
    ),
)


EVENT_LIST = meta_v1.list_of(EVENT)


NAMESPACE_SPEC = dsl.Message(
    "io.k8s.api.core.v1.NamespaceSpec",
    "The desired state of a namespace.",
    (
        dsl.Field("finalizers", 1, dsl.STRING, "Components (kubernetes) that must finish deleting the namespace's "
                  "contents before it is removed.", repeated=True, list_type="atomic"),
    ),
)


NAMESPACE_CONDITION = dsl.Message(
    "io.k8s.api.core.v1.NamespaceCondition",
    "The state of one aspect of a namespace's deletion.",
    (
        dsl.Field("type", 1, dsl.STRING, "NamespaceDeletionDiscoveryFailure, NamespaceDeletionContentFailure, "
                  "NamespaceContentRemaining, NamespaceFinalizersRemaining, ...", required=True),
        dsl.Field("status", 2, dsl.STRING, "True, False or Unknown.", required=True),
        dsl.Field("lastTransitionTime", 4, dsl.TIME, "When status last changed."),
        dsl.Field("reason", 5, dsl.STRING, "A CamelCase reason for the last transition."),
        dsl.Field("message", 6, dsl.STRING, "A human-readable explanation of the last transition."),
    ),
)


NAMESPACE_STATUS = dsl.Message(
    "io.k8s.api.core.v1.NamespaceStatus",
    "The observed state of a namespace.",
    (
        dsl.Field("phase", 1, dsl.STRING, "Active, or Terminating while its contents are deleted.",
                  enum=("Active", "Terminating")),
        dsl.Field("conditions", 2, NAMESPACE_CONDITION, "What is holding its deletion up.", repeated=True,
                  patch_strategy="merge", merge_key="type", list_type="map", list_map_keys=("type",)),
    ),
)


NAMESPACE = dsl.kind(
    "io.k8s.api.core.v1.Namespace",
    "A scope for names: most objects live in a namespace, and deleting it deletes them.",
    dsl.GVK("", "v1", "Namespace"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, NAMESPACE_SPEC, "The finalizers that must run before the namespace is removed."),
        dsl.Field("status", 3, NAMESPACE_STATUS, "Its phase and deletion state. Read-only."),
    ),
)


NAMESPACE_LIST = meta_v1.list_of(NAMESPACE)


REPLICATION_CONTROLLER_SPEC = dsl.Message(
    "io.k8s.api.core.v1.ReplicationControllerSpec",
    "The desired state of a ReplicationController.",
    (
        dsl.Field("replicas", 1, dsl.INT32, "How many pods to run. Defaults to 1.", pointer=True),
        dsl.Field("minReadySeconds", 4, dsl.INT32, "Seconds a new pod must be ready, with no container crashing, "
                  "before it counts as available. Defaults to 0."),
        dsl.Field("selector", 2, dsl.STRING, "Labels of the pods the controller counts and manages (equality only). "
                  "Defaults to the template's labels.", map=True, map_type="atomic"),
        dsl.Field("template", 3, pod.POD_TEMPLATE_SPEC, "The pod created whenever fewer than replicas pods match the "
                  "selector.", pointer=True),
    ),
)


REPLICATION_CONTROLLER_CONDITION = dsl.Message(
    "io.k8s.api.core.v1.ReplicationControllerCondition",
    "The state of one aspect of a ReplicationController.",
    (
        dsl.Field("type", 1, dsl.STRING, "The condition's type, such as ReplicaFailure.", required=True),
        dsl.Field("status", 2, dsl.STRING, "True, False or Unknown.", required=True),
        dsl.Field("lastTransitionTime", 3, dsl.TIME, "When status last changed."),
        dsl.Field("reason", 4, dsl.STRING, "A machine-readable reason for the last transition."),
        dsl.Field("message", 5, dsl.STRING, "A human-readable explanation of the last transition."),
    ),
)


REPLICATION_CONTROLLER_STATUS = dsl.Message(
    "io.k8s.api.core.v1.ReplicationControllerStatus",
    "The observed state of a ReplicationController.",
    (
        dsl.Field("replicas", 1, dsl.INT32, "How many pods match the selector.", required=True),
        dsl.Field("fullyLabeledReplicas", 2, dsl.INT32, "How many of those pods carry every label of the template."),
        dsl.Field("readyReplicas", 4, dsl.INT32, "How many of those pods are ready."),
        dsl.Field("availableReplicas", 5, dsl.INT32, "How many of those pods have been ready for at least "
                  "minReadySeconds."),
        dsl.Field("observedGeneration", 3, dsl.INT64, "The metadata.generation this status was computed for."),
        dsl.Field("conditions", 6, REPLICATION_CONTROLLER_CONDITION, "The latest observations of the controller's "
                  "state.", repeated=True, patch_strategy="merge", merge_key="type", list_type="map",
                  list_map_keys=("type",)),
    ),
)


REPLICATION_CONTROLLER = dsl.kind(
    "io.k8s.api.core.v1.ReplicationController",
    "Keeps a given number of pods running (the predecessor of ReplicaSet, with equality-only selectors).",
    dsl.GVK("", "v1", "ReplicationController"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata; labels default to the pod "
                  "template's."),
        dsl.Field("spec", 2, REPLICATION_CONTROLLER_SPEC, "The desired state: replica count, selector and pod "
                  "template."),
        dsl.Field("status", 3, REPLICATION_CONTROLLER_STATUS, "The observed state, written by the controller. "
                  "Read-only."),
    ),
)


REPLICATION_CONTROLLER_LIST = meta_v1.list_of(REPLICATION_CONTROLLER)
