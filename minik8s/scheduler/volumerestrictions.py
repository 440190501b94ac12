"""Volume conflicts: the seed's 磁盘卷不可冲突 (Kubernetes' NoDiskConflict / VolumeRestrictions).

Which volumes cannot be shared by two pods on one node: network block devices,
which hold one filesystem that only one writer may mount at a time. Two pods
conflict on a node when they use

  gcePersistentDisk     the same pdName, unless both mount it readOnly;
  awsElasticBlockStore  the same volumeID (EBS attaches to one instance, even read-only);
  iscsi                 the same iqn, unless both mount it readOnly;
  rbd                   the same image in the same pool behind a common Ceph
                        monitor, unless both mount it readOnly.

Everything else is shareable or private by design: emptyDir, configMap,
secret, downwardAPI and projected volumes are per pod; a hostPath is the
node's own directory, which several pods (log shippers, node agents) are
meant to share, and Kubernetes never restricts it; nfs, cephfs and glusterfs
are network filesystems made for many writers.
"""
from __future__ import annotations

from typing import Any

from minik8s.scheduler import framework
from minik8s.scheduler import nodeinfo

Obj = dict[str, Any]
REASON = "node(s) had no available disk"


def volumes_conflict(a: Obj, b: Obj) -> bool:
    """Whether volume `a` of one pod and volume `b` of another may not share a node."""
    if "gcePersistentDisk" in a and "gcePersistentDisk" in b:
        x, y = a["gcePersistentDisk"] or {}, b["gcePersistentDisk"] or {}
        return x.get("pdName") == y.get("pdName") and not (x.get("readOnly") and y.get("readOnly"))
    if "awsElasticBlockStore" in a and "awsElasticBlockStore" in b:
        return (a["awsElasticBlockStore"] or {}).get("volumeID") == (b["awsElasticBlockStore"] or {}).get("volumeID")
    if "iscsi" in a and "iscsi" in b:
        x, y = a["iscsi"] or {}, b["iscsi"] or {}
        return x.get("iqn") == y.get("iqn") and not (x.get("readOnly") and y.get("readOnly"))
    if "rbd" in a and "rbd" in b:
        x, y = a["rbd"] or {}, b["rbd"] or {}
        return (bool(set(x.get("monitors") or ()) & set(y.get("monitors") or ()))
                and (x.get("pool") or "rbd") == (y.get("pool") or "rbd")
                and x.get("image") == y.get("image")
                and not (x.get("readOnly") and y.get("readOnly")))
    return False


@framework.register
class VolumeRestrictions(framework.Plugin):
    NAME = "VolumeRestrictions"

    def pre_filter(self, pod: nodeinfo.PodInfo) -> bool:
        return bool(pod.disks)

    def filter(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> framework.Status:
        for other in node.pods_with_disks.values():
            if other.uid == pod.uid:
                continue
            for mine in pod.disks:
                for theirs in other.disks:
                    if volumes_conflict(mine, theirs):
                        return framework.unschedulable(self.NAME, REASON)
        return framework.SUCCESS
