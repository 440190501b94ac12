"""policy/v1: Eviction, the body of the pods/eviction subresource.

Field numbers are those of k8s.io/api/policy/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1

EVICTION = dsl.kind(
    "io.k8s.api.policy.v1.Eviction",
    "A request to evict a pod, honouring its disruption budgets; posted to the pod's eviction subresource.",
    dsl.GVK("policy", "v1", "Eviction"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Identifies the pod to evict."),
        dsl.Field("deleteOptions", 2, meta_v1.DELETE_OPTIONS, "Options for the pod's deletion.", pointer=True),
    ),
)
