"""apps/v1: Deployment, ReplicaSet, DaemonSet and ControllerRevision.

Field numbers are those of k8s.io/api/apps/v1/generated.proto; descriptions are
minik8s's own. Add StatefulSet, ... here (docs/apiserver.md, "Adding a kind").
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1
from minik8s.api.schema.core_v1 import pod

REPLICA_SET_SPEC = dsl.Message(
    "io.k8s.api.apps.v1.ReplicaSetSpec",
    "The desired state of a ReplicaSet.",
    (
        dsl.Field("replicas", 1, dsl.INT32, "How many pods to run. Defaults to 1.", pointer=True),
        dsl.Field("minReadySeconds", 4, dsl.INT32, "Seconds a new pod must be ready, with no container crashing, "
                  "before it counts as available. Defaults to 0."),
        dsl.Field("selector", 2, meta_v1.LABEL_SELECTOR, "Which pods this ReplicaSet counts and manages; must match "
                  "the template's labels. Cannot be changed.", pointer=True, required=True),
        dsl.Field("template", 3, pod.POD_TEMPLATE_SPEC, "The pod created whenever fewer than replicas pods match the "
                  "selector."),
    ),
)


REPLICA_SET_CONDITION = dsl.Message(
    "io.k8s.api.apps.v1.ReplicaSetCondition",
    "The state of one aspect of a ReplicaSet.",
    (
        dsl.Field("type", 1, dsl.STRING, "The condition's type, such as ReplicaFailure."),
        dsl.Field("status", 2, dsl.STRING, "True, False or Unknown."),
        dsl.Field("lastTransitionTime", 3, dsl.TIME, "When status last changed."),
        dsl.Field("reason", 4, dsl.STRING, "A machine-readable reason for the last transition."),
        dsl.Field("message", 5, dsl.STRING, "A human-readable explanation of the last transition."),
    ),
)


REPLICA_SET_STATUS = dsl.Message(
    "io.k8s.api.apps.v1.ReplicaSetStatus",
    "The observed state of a ReplicaSet.",
    (
        dsl.Field("replicas", 1, dsl.INT32, "How many non-terminating pods match the selector.", required=True),
        dsl.Field("fullyLabeledReplicas", 2, dsl.INT32, "How many of those pods carry every label of the template."),
        dsl.Field("readyReplicas", 4, dsl.INT32, "How many of those pods are ready."),
        dsl.Field("availableReplicas", 5, dsl.INT32, "How many of those pods have been ready for at least "
                  "minReadySeconds."),
        dsl.Field("terminatingReplicas", 7, dsl.INT32, "How many matching pods are being deleted but have not "
                  "stopped yet.", pointer=True),
        dsl.Field("observedGeneration", 3, dsl.INT64, "The metadata.generation this status was computed for."),
        dsl.Field("conditions", 6, REPLICA_SET_CONDITION, "The latest observations of the ReplicaSet's state.",
                  repeated=True, patch_strategy="merge", merge_key="type", list_type="map", list_map_keys=("type",)),
    ),
)


REPLICA_SET = dsl.kind(
    "io.k8s.api.apps.v1.ReplicaSet",
    "Keeps a given number of identical pods running, replacing those that fail or are deleted. Usually managed by "
    "a Deployment.",
    dsl.GVK("apps", "v1", "ReplicaSet"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata; labels default to the pod "
                  "template's."),
        dsl.Field("spec", 2, REPLICA_SET_SPEC, "The desired state: replica count, selector and pod template."),
        dsl.Field("status", 3, REPLICA_SET_STATUS, "The observed state, written by the controller. Read-only."),
    ),
)


REPLICA_SET_LIST = meta_v1.list_of(REPLICA_SET)


ROLLING_UPDATE_DEPLOYMENT = dsl.Message(
    "io.k8s.api.apps.v1.RollingUpdateDeployment",
    "Limits of a rolling update.",
    (
        dsl.Field("maxUnavailable", 1, dsl.INT_OR_STRING, "How many pods (a number, or a percentage of replicas, "
                  "rounded down) may be unavailable during the update. Cannot be 0 if maxSurge is 0. Defaults to "
                  "25%.", pointer=True),
        dsl.Field("maxSurge", 2, dsl.INT_OR_STRING, "How many pods (a number, or a percentage of replicas, rounded "
                  "up) may be created above replicas during the update. Cannot be 0 if maxUnavailable is 0. Defaults "
                  "to 25%.", pointer=True),
    ),
)


DEPLOYMENT_STRATEGY = dsl.Message(
    "io.k8s.api.apps.v1.DeploymentStrategy",
    "How a Deployment replaces old pods with new ones.",
    (
        dsl.Field("type", 1, dsl.STRING, "RollingUpdate (the default) replaces pods gradually; Recreate deletes all "
                  "old pods before creating new ones.", enum=("Recreate", "RollingUpdate")),
        dsl.Field("rollingUpdate", 2, ROLLING_UPDATE_DEPLOYMENT, "Limits of a rolling update; only with type "
                  "RollingUpdate.", pointer=True),
    ),
)


DEPLOYMENT_SPEC = dsl.Message(
    "io.k8s.api.apps.v1.DeploymentSpec",
    "The desired state of a Deployment.",
    (
        dsl.Field("replicas", 1, dsl.INT32, "How many pods to run. Defaults to 1.", pointer=True),
        dsl.Field("selector", 2, meta_v1.LABEL_SELECTOR, "Which pods and ReplicaSets this Deployment manages; must "
                  "match the template's labels. Cannot be changed in apps/v1.", pointer=True, required=True),
        dsl.Field("template", 3, pod.POD_TEMPLATE_SPEC, "The pods to run; a change to it starts a new rollout. Its "
                  "restartPolicy must be Always.", required=True),
        dsl.Field("strategy", 4, DEPLOYMENT_STRATEGY, "How old pods are replaced by new ones.",
                  patch_strategy="retainKeys"),
        dsl.Field("minReadySeconds", 5, dsl.INT32, "Seconds a new pod must be ready, with no container crashing, "
                  "before it counts as available. Defaults to 0."),
        dsl.Field("revisionHistoryLimit", 6, dsl.INT32, "How many old ReplicaSets to keep for rollbacks. Defaults to "
                  "10.", pointer=True),
        dsl.Field("paused", 7, dsl.BOOL, "While true, changes to the template do not start a rollout."),
        dsl.Field("progressDeadlineSeconds", 9, dsl.INT32, "Seconds a rollout may go without progress before the "
                  "Progressing condition turns False (reason ProgressDeadlineExceeded). Defaults to 600.",
                  pointer=True),
    ),
)


DEPLOYMENT_CONDITION = dsl.Message(
    "io.k8s.api.apps.v1.DeploymentCondition",
    "The state of one aspect of a Deployment.",
    (
        dsl.Field("type", 1, dsl.STRING, "The condition's type: Available, Progressing or ReplicaFailure."),
        dsl.Field("status", 2, dsl.STRING, "True, False or Unknown."),
        dsl.Field("lastUpdateTime", 6, dsl.TIME, "When the condition was last updated."),
        dsl.Field("lastTransitionTime", 7, dsl.TIME, "When status last changed."),
        dsl.Field("reason", 4, dsl.STRING, "A machine-readable reason for the last transition."),
        dsl.Field("message", 5, dsl.STRING, "A human-readable explanation of the last transition."),
    ),
)


DEPLOYMENT_STATUS = dsl.Message(
    "io.k8s.api.apps.v1.DeploymentStatus",
    "The observed state of a Deployment.",
    (
        dsl.Field("observedGeneration", 1, dsl.INT64, "The metadata.generation the controller last acted on."),
        dsl.Field("replicas", 2, dsl.INT32, "How many non-terminating pods the Deployment selects, across its "
                  "ReplicaSets."),
        dsl.Field("updatedReplicas", 3, dsl.INT32, "How many of them run the current template."),
        dsl.Field("readyReplicas", 7, dsl.INT32, "How many of them are ready."),
        dsl.Field("availableReplicas", 4, dsl.INT32, "How many of them have been ready for at least minReadySeconds."
                  ),
        dsl.Field("unavailableReplicas", 5, dsl.INT32, "How many more pods must become available for the Deployment "
                  "to reach full capacity."),
        dsl.Field("terminatingReplicas", 9, dsl.INT32, "How many selected pods are being deleted but have not "
                  "stopped yet.", pointer=True),
        dsl.Field("conditions", 6, DEPLOYMENT_CONDITION, "The latest observations of the Deployment's state.",
                  repeated=True, patch_strategy="merge", merge_key="type", list_type="map", list_map_keys=("type",)),
        dsl.Field("collisionCount", 8, dsl.INT32, "Counts hash collisions of pod template names; the controller uses "
                  "it to name new ReplicaSets uniquely.", pointer=True),
    ),
)


DEPLOYMENT = dsl.kind(
    "io.k8s.api.apps.v1.Deployment",
    "Runs a replicated set of pods and rolls out changes to their template through ReplicaSets.",
    dsl.GVK("apps", "v1", "Deployment"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, DEPLOYMENT_SPEC, "The desired state: replicas, selector, pod template and rollout "
                  "strategy."),
        dsl.Field("status", 3, DEPLOYMENT_STATUS, "The observed state, written by the controller. Read-only."),
    ),
)


DEPLOYMENT_LIST = meta_v1.list_of(DEPLOYMENT)


ROLLING_UPDATE_DAEMON_SET = dsl.Message(
    "io.k8s.api.apps.v1.RollingUpdateDaemonSet",
    "Limits of a DaemonSet's rolling update.",
    (
        dsl.Field("maxUnavailable", 1, dsl.INT_OR_STRING, "How many nodes (a number, or a percentage of the nodes "
                  "that should run the pod, rounded up) may be without an available pod during the update. Cannot "
                  "be 0 if maxSurge is 0. Defaults to 1.", pointer=True),
        dsl.Field("maxSurge", 2, dsl.INT_OR_STRING, "How many nodes (a number or a percentage, rounded up) may run "
                  "an old and a new pod at once during the update: the new one starts before the old one is "
                  "deleted. Cannot be non-zero if maxUnavailable is. Defaults to 0.", pointer=True),
    ),
)


DAEMON_SET_UPDATE_STRATEGY = dsl.Message(
    "io.k8s.api.apps.v1.DaemonSetUpdateStrategy",
    "How a DaemonSet replaces its pods when the template changes.",
    (
        dsl.Field("type", 1, dsl.STRING, "RollingUpdate (the default) replaces pods node by node; OnDelete only "
                  "creates a new pod where the old one was deleted by someone.", enum=("OnDelete", "RollingUpdate")),
        dsl.Field("rollingUpdate", 2, ROLLING_UPDATE_DAEMON_SET, "Limits of a rolling update; only with type "
                  "RollingUpdate.", pointer=True),
    ),
)


DAEMON_SET_SPEC = dsl.Message(
    "io.k8s.api.apps.v1.DaemonSetSpec",
    "The desired state of a DaemonSet.",
    (
        dsl.Field("selector", 1, meta_v1.LABEL_SELECTOR, "Which pods the DaemonSet manages; must match the "
                  "template's labels. Cannot be changed.", pointer=True, required=True),
        dsl.Field("template", 2, pod.POD_TEMPLATE_SPEC, "The pod run on every eligible node (those its node "
                  "selector and affinity allow, whose taints it tolerates). Its restartPolicy must be Always.",
                  required=True),
        dsl.Field("updateStrategy", 3, DAEMON_SET_UPDATE_STRATEGY, "How pods are replaced when the template "
                  "changes."),
        dsl.Field("minReadySeconds", 4, dsl.INT32, "Seconds a new pod must be ready, with no container crashing, "
                  "before it counts as available. Defaults to 0."),
        dsl.Field("revisionHistoryLimit", 6, dsl.INT32, "How many old ControllerRevisions to keep for rollbacks. "
                  "Defaults to 10.", pointer=True),
    ),
)


DAEMON_SET_CONDITION = dsl.Message(
    "io.k8s.api.apps.v1.DaemonSetCondition",
    "The state of one aspect of a DaemonSet.",
    (
        dsl.Field("type", 1, dsl.STRING, "The condition's type.", required=True),
        dsl.Field("status", 2, dsl.STRING, "True, False or Unknown.", required=True),
        dsl.Field("lastTransitionTime", 3, dsl.TIME, "When status last changed."),
        dsl.Field("reason", 4, dsl.STRING, "A machine-readable reason for the last transition."),
        dsl.Field("message", 5, dsl.STRING, "A human-readable explanation of the last transition."),
    ),
)


DAEMON_SET_STATUS = dsl.Message(
    "io.k8s.api.apps.v1.DaemonSetStatus",
    "The observed state of a DaemonSet.",
    (
        dsl.Field("currentNumberScheduled", 1, dsl.INT32, "Nodes that should run the pod and run at least one.",
                  required=True),
        dsl.Field("numberMisscheduled", 2, dsl.INT32, "Nodes that run the pod but should not.", required=True),
        dsl.Field("desiredNumberScheduled", 3, dsl.INT32, "Nodes that should run the pod.", required=True),
        dsl.Field("numberReady", 4, dsl.INT32, "Nodes that should run the pod and have a ready one.", required=True),
        dsl.Field("observedGeneration", 5, dsl.INT64, "The metadata.generation the controller last acted on."),
        dsl.Field("updatedNumberScheduled", 6, dsl.INT32, "Nodes running a pod of the current template."),
        dsl.Field("numberAvailable", 7, dsl.INT32, "Nodes that should run the pod and have one available (ready for "
                  "minReadySeconds)."),
        dsl.Field("numberUnavailable", 8, dsl.INT32, "Nodes that should run the pod and have none available."),
        dsl.Field("collisionCount", 9, dsl.INT32, "Counts hash collisions of ControllerRevision names; the "
                  "controller uses it to name new revisions uniquely.", pointer=True),
        dsl.Field("conditions", 10, DAEMON_SET_CONDITION, "The latest observations of the DaemonSet's state.",
                  repeated=True, patch_strategy="merge", merge_key="type", list_type="map", list_map_keys=("type",)),
    ),
)


DAEMON_SET = dsl.kind(
    "io.k8s.api.apps.v1.DaemonSet",
    "Runs one copy of a pod on every eligible node, adding it to nodes that join and rolling out template changes.",
    dsl.GVK("apps", "v1", "DaemonSet"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, DAEMON_SET_SPEC, "The desired state: selector, pod template and update strategy."),
        dsl.Field("status", 3, DAEMON_SET_STATUS, "The observed state, written by the controller. Read-only."),
    ),
)


DAEMON_SET_LIST = meta_v1.list_of(DAEMON_SET)


CONTROLLER_REVISION = dsl.kind(
    "io.k8s.api.apps.v1.ControllerRevision",
    "An immutable snapshot of a controller's pod template (DaemonSets, StatefulSets), kept for rollbacks. Only its "
    "metadata can change after creation.",
    dsl.GVK("apps", "v1", "ControllerRevision"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("data", 2, dsl.RAW_EXTENSION, "The snapshot: for a DaemonSet, a strategic merge patch holding its "
                  "spec.template."),
        dsl.Field("revision", 3, dsl.INT64, "The revision number of this snapshot; higher is newer.", required=True),
    ),
)


CONTROLLER_REVISION_LIST = meta_v1.list_of(CONTROLLER_REVISION)
