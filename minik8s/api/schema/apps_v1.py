"""apps/v1: Deployment and ReplicaSet.

Field numbers are those of k8s.io/api/apps/v1/generated.proto; descriptions are
minik8s's own. Add DaemonSet, StatefulSet, ... here (docs/apiserver.md, "Adding a kind").
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1
from minik8s.api.schema.core_v1 import pod

REPLICA_SET_SPEC = dsl.Message(
    "io.k8s.api.apps.v1.ReplicaSetSpec",
    "TODO",
    (
        dsl.Field("replicas", 1, dsl.INT32, "TODO", pointer=True),
        dsl.Field("minReadySeconds", 4, dsl.INT32, "TODO"),
        dsl.Field("selector", 2, meta_v1.LABEL_SELECTOR, "TODO", pointer=True, required=True),
        dsl.Field("template", 3, pod.POD_TEMPLATE_SPEC, "TODO"),
    ),
)


REPLICA_SET_CONDITION = dsl.Message(
    "io.k8s.api.apps.v1.ReplicaSetCondition",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO"),
        dsl.Field("status", 2, dsl.STRING, "TODO"),
        dsl.Field("lastTransitionTime", 3, dsl.TIME, "TODO"),
        dsl.Field("reason", 4, dsl.STRING, "TODO"),
        dsl.Field("message", 5, dsl.STRING, "TODO"),
    ),
)


REPLICA_SET_STATUS = dsl.Message(
    "io.k8s.api.apps.v1.ReplicaSetStatus",
    "TODO",
    (
        dsl.Field("replicas", 1, dsl.INT32, "TODO", required=True),
        dsl.Field("fullyLabeledReplicas", 2, dsl.INT32, "TODO"),
        dsl.Field("readyReplicas", 4, dsl.INT32, "TODO"),
        dsl.Field("availableReplicas", 5, dsl.INT32, "TODO"),
        dsl.Field("terminatingReplicas", 7, dsl.INT32, "TODO", pointer=True),
        dsl.Field("observedGeneration", 3, dsl.INT64, "TODO"),
        dsl.Field("conditions", 6, REPLICA_SET_CONDITION, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="type", list_type="map", list_map_keys=("type",)),
    ),
)


REPLICA_SET = dsl.kind(
    "io.k8s.api.apps.v1.ReplicaSet",
    "TODO",
    dsl.GVK("apps", "v1", "ReplicaSet"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, REPLICA_SET_SPEC, "TODO"),
        dsl.Field("status", 3, REPLICA_SET_STATUS, "TODO"),
    ),
)


REPLICA_SET_LIST = meta_v1.list_of(REPLICA_SET)


ROLLING_UPDATE_DEPLOYMENT = dsl.Message(
    "io.k8s.api.apps.v1.RollingUpdateDeployment",
    "TODO",
    (
        dsl.Field("maxUnavailable", 1, dsl.INT_OR_STRING, "TODO", pointer=True),
        dsl.Field("maxSurge", 2, dsl.INT_OR_STRING, "TODO", pointer=True),
    ),
)


DEPLOYMENT_STRATEGY = dsl.Message(
    "io.k8s.api.apps.v1.DeploymentStrategy",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", enum=("Recreate", "RollingUpdate")),
        dsl.Field("rollingUpdate", 2, ROLLING_UPDATE_DEPLOYMENT, "TODO", pointer=True),
    ),
)


DEPLOYMENT_SPEC = dsl.Message(
    "io.k8s.api.apps.v1.DeploymentSpec",
    "TODO",
    (
        dsl.Field("replicas", 1, dsl.INT32, "TODO", pointer=True),
        dsl.Field("selector", 2, meta_v1.LABEL_SELECTOR, "TODO", pointer=True, required=True),
        dsl.Field("template", 3, pod.POD_TEMPLATE_SPEC, "TODO", required=True),
        dsl.Field("strategy", 4, DEPLOYMENT_STRATEGY, "TODO", patch_strategy="retainKeys"),
        dsl.Field("minReadySeconds", 5, dsl.INT32, "TODO"),
        dsl.Field("revisionHistoryLimit", 6, dsl.INT32, "TODO", pointer=True),
        dsl.Field("paused", 7, dsl.BOOL, "TODO"),
        dsl.Field("progressDeadlineSeconds", 9, dsl.INT32, "TODO", pointer=True),
    ),
)


DEPLOYMENT_CONDITION = dsl.Message(
    "io.k8s.api.apps.v1.DeploymentCondition",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO"),
        dsl.Field("status", 2, dsl.STRING, "TODO"),
        dsl.Field("lastUpdateTime", 6, dsl.TIME, "TODO"),
        dsl.Field("lastTransitionTime", 7, dsl.TIME, "TODO"),
        dsl.Field("reason", 4, dsl.STRING, "TODO"),
        dsl.Field("message", 5, dsl.STRING, "TODO"),
    ),
)


DEPLOYMENT_STATUS = dsl.Message(
    "io.k8s.api.apps.v1.DeploymentStatus",
    "TODO",
    (
        dsl.Field("observedGeneration", 1, dsl.INT64, "TODO"),
        dsl.Field("replicas", 2, dsl.INT32, "TODO"),
        dsl.Field("updatedReplicas", 3, dsl.INT32, "TODO"),
        dsl.Field("readyReplicas", 7, dsl.INT32, "TODO"),
        dsl.Field("availableReplicas", 4, dsl.INT32, "TODO"),
        dsl.Field("unavailableReplicas", 5, dsl.INT32, "TODO"),
        dsl.Field("terminatingReplicas", 9, dsl.INT32, "TODO", pointer=True),
        dsl.Field("conditions", 6, DEPLOYMENT_CONDITION, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="type", list_type="map", list_map_keys=("type",)),
        dsl.Field("collisionCount", 8, dsl.INT32, "TODO", pointer=True),
    ),
)


DEPLOYMENT = dsl.kind(
    "io.k8s.api.apps.v1.Deployment",
    "TODO",
    dsl.GVK("apps", "v1", "Deployment"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, DEPLOYMENT_SPEC, "TODO"),
        dsl.Field("status", 3, DEPLOYMENT_STATUS, "TODO"),
    ),
)


DEPLOYMENT_LIST = meta_v1.list_of(DEPLOYMENT)
