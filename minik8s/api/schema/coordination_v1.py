"""coordination.k8s.io/v1: Lease, used for leader election and node heartbeats.

Field numbers are those of k8s.io/api/coordination/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1

LEASE_SPEC = dsl.Message(
    "io.k8s.api.coordination.v1.LeaseSpec",
    "TODO",
    (
        dsl.Field("holderIdentity", 1, dsl.STRING, "TODO", pointer=True),
        dsl.Field("leaseDurationSeconds", 2, dsl.INT32, "TODO", pointer=True),
        dsl.Field("acquireTime", 3, dsl.MICRO_TIME, "TODO", pointer=True),
        dsl.Field("renewTime", 4, dsl.MICRO_TIME, "TODO", pointer=True),
        dsl.Field("leaseTransitions", 5, dsl.INT32, "TODO", pointer=True),
        dsl.Field("strategy", 6, dsl.STRING, "TODO", pointer=True),
        dsl.Field("preferredHolder", 7, dsl.STRING, "TODO", pointer=True),
    ),
)


LEASE = dsl.kind(
    "io.k8s.api.coordination.v1.Lease",
    "TODO",
    dsl.GVK("coordination.k8s.io", "v1", "Lease"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, LEASE_SPEC, "TODO"),
    ),
)


LEASE_LIST = meta_v1.list_of(LEASE)
