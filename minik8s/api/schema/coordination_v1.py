"""coordination.k8s.io/v1: Lease, used for leader election and node heartbeats.

Field numbers are those of k8s.io/api/coordination/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1

LEASE_SPEC = dsl.Message(
    "io.k8s.api.coordination.v1.LeaseSpec",
    "Who holds a lease, since when, and for how long.",
    (
        dsl.Field("holderIdentity", 1, dsl.STRING, "The identity of the current holder.", pointer=True),
        dsl.Field("leaseDurationSeconds", 2, dsl.INT32, "Seconds after the last renewal before other candidates may "
                  "take the lease.", pointer=True),
        dsl.Field("acquireTime", 3, dsl.MICRO_TIME, "When the current holder acquired the lease.", pointer=True),
        dsl.Field("renewTime", 4, dsl.MICRO_TIME, "When the current holder last renewed the lease.", pointer=True),
        dsl.Field("leaseTransitions", 5, dsl.INT32, "How many times the lease has changed holder.", pointer=True),
        dsl.Field("strategy", 6, dsl.STRING, "For coordinated leader election: how the leader is chosen "
                  "(OldestEmulationVersion). Unset means no coordination.", pointer=True),
        dsl.Field("preferredHolder", 7, dsl.STRING, "For coordinated leader election: a better holder the current "
                  "one should hand the lease to.", pointer=True),
    ),
)


LEASE = dsl.kind(
    "io.k8s.api.coordination.v1.Lease",
    "A lease held by one holder at a time: used for leader election and for node heartbeats (kube-node-lease).",
    dsl.GVK("coordination.k8s.io", "v1", "Lease"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, LEASE_SPEC, "The holder and timing of the lease."),
    ),
)


LEASE_LIST = meta_v1.list_of(LEASE)
