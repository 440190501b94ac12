"""ownerReferences: who controls an object, and the references and patches that say so.

One home for what metav1's controller_ref.go and the controllers' ref managers do
(GetControllerOf, IsControlledBy, NewControllerRef, resolveControllerRef, the
adopt and release patches), so the controllers, the garbage collector, the
kubelet, the scheduler and the CLI agree on what "controlled by" means.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

Obj = dict[str, Any]


def refs(obj: Mapping[str, Any]) -> list[Obj]:
    """The object's ownerReferences (none: an empty list)."""
    return list((obj.get("metadata") or {}).get("ownerReferences") or [])


def controller_ref(obj: Mapping[str, Any]) -> Obj | None:
    """The ownerReference with controller=true, if any (metav1.GetControllerOf)."""
    for ref in refs(obj):
        if ref.get("controller"):
            return ref
    return None


def is_controlled_by(obj: Mapping[str, Any], owner_uid: str) -> bool:
    """Whether the object's controller is the owner with uid `owner_uid` (metav1.IsControlledBy)."""
    ref = controller_ref(obj)
    return ref is not None and ref.get("uid") == owner_uid


def owner_ref(api_version: str, kind: str, name: str, uid: str) -> Obj:
    """A plain (non-controller) ownerReference, e.g. a node's Lease to its Node."""
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid}


def new_controller_ref(owner: Obj, api_version: str, kind: str) -> Obj:
    """The ownerReference a controller puts on what it creates or adopts (metav1.NewControllerRef):
    the owner's deletion waits for it under foreground deletion."""
    meta = owner["metadata"]
    return {**owner_ref(api_version, kind, meta["name"], meta.get("uid", "")),
            "controller": True, "blockOwnerDeletion": True}


def resolve_controller_ref(ref: Obj | None, kind: str, get_by_name: Callable[[str], Obj | None]) -> Obj | None:
    """The owner of `kind` that `ref` names, if it still is that object (same uid; a
    same-named successor is not the owner), as the controllers' resolveControllerRef."""
    if ref is None or ref.get("kind") != kind:
        return None
    owner = get_by_name(ref.get("name", ""))
    if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
        return None
    return owner


def adopt_patch(ref: Obj, uid: str) -> Obj:
    """Strategic merge patch adding `ref` (merge key: uid); the object's uid makes it a
    precondition, so a same-named replacement is never adopted by mistake."""
    return {"metadata": {"ownerReferences": [dict(ref)], "uid": uid}}


def release_patch(uid: str, owner_uids: Iterable[str]) -> Obj:
    """Strategic merge patch removing the ownerReferences to `owner_uids`, with the
    object's uid as a precondition."""
    return {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": u} for u in owner_uids], "uid": uid}}
