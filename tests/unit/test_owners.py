"""ownerReferences helpers (minik8s/api/owners.py), as metav1's controller_ref.go."""
from __future__ import annotations

from typing import Any

from minik8s.api import owners

RS = {"metadata": {"name": "web", "namespace": "ns", "uid": "uid-rs"}}


def _pod(*refs: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "p", "ownerReferences": list(refs)}}


def test_the_controller_is_the_reference_marked_controller() -> None:
    plain = owners.owner_ref("v1", "Node", "n1", "uid-n1")
    ctrl = owners.new_controller_ref(RS, "apps/v1", "ReplicaSet")
    assert ctrl == {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "uid-rs",
                    "controller": True, "blockOwnerDeletion": True}
    assert owners.controller_ref(_pod(plain, ctrl)) == ctrl
    assert owners.controller_ref(_pod(plain)) is None
    assert owners.controller_ref({"metadata": {}}) is None
    assert owners.is_controlled_by(_pod(plain, ctrl), "uid-rs")
    assert not owners.is_controlled_by(_pod(plain, ctrl), "uid-n1")
    assert owners.refs(_pod(plain, ctrl)) == [plain, ctrl]


def test_a_controller_ref_resolves_only_to_the_same_object() -> None:
    ref = owners.new_controller_ref(RS, "apps/v1", "ReplicaSet")
    successor = {"metadata": {"name": "web", "uid": "uid-other"}}
    assert owners.resolve_controller_ref(ref, "ReplicaSet", {"web": RS}.get) is RS
    assert owners.resolve_controller_ref(ref, "Deployment", {"web": RS}.get) is None
    assert owners.resolve_controller_ref(ref, "ReplicaSet", {"web": successor}.get) is None
    assert owners.resolve_controller_ref(ref, "ReplicaSet", {}.get) is None
    assert owners.resolve_controller_ref(None, "ReplicaSet", {"web": RS}.get) is None


def test_adopt_and_release_patches_carry_the_uid_precondition() -> None:
    ref = owners.new_controller_ref(RS, "apps/v1", "ReplicaSet")
    assert owners.adopt_patch(ref, "uid-p") == {"metadata": {"ownerReferences": [ref], "uid": "uid-p"}}
    assert owners.release_patch("uid-p", ["a", "b"]) == {"metadata": {
        "ownerReferences": [{"$patch": "delete", "uid": "a"}, {"$patch": "delete", "uid": "b"}], "uid": "uid-p"}}
