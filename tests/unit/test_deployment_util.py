"""The Deployment rules as tables: fenceposts, new-RS size, proportions, hash, revisions, status."""
from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import pytest

from minik8s.api import rfc3339
from minik8s.controllers.deployment import util

NOW = 1_700_000_000.0


def deployment(replicas: int = 1, surge: Any = "25%", unavailable: Any = "25%", kind: str = "RollingUpdate",
               **spec: Any) -> dict[str, Any]:
    strategy: dict[str, Any] = {"type": kind}
    if kind == "RollingUpdate":
        strategy["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"metadata": {"name": "web", "namespace": "ns", "uid": "d-uid", "generation": 1},
            "spec": {"replicas": replicas, "strategy": strategy, "selector": {"matchLabels": {"app": "web"}},
                     "template": template("nginx:1"), **spec}}


def template(image: str) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": image}]}}


def rs(name: str, replicas: int, *, available: int | None = None, revision: str | None = None,
       created: str = "2024-01-01T00:00:00Z", max_replicas: int | None = None, desired: int | None = None,
       **status: int) -> dict[str, Any]:
    ann: dict[str, str] = {}
    if revision is not None:
        ann[util.REVISION] = revision
    if max_replicas is not None:
        ann[util.MAX_REPLICAS] = str(max_replicas)
    if desired is not None:
        ann[util.DESIRED_REPLICAS] = str(desired)
    st = {"replicas": replicas, "availableReplicas": replicas if available is None else available, **status}
    return {"metadata": {"name": name, "uid": name + "-uid", "creationTimestamp": created, "annotations": ann},
            "spec": {"replicas": replicas}, "status": st}


@pytest.mark.parametrize("replicas,surge,unavailable,want_surge,want_unavailable", [
    (10, "25%", "25%", 3, 2),       # surge rounds up (2.5 -> 3), unavailable down (2.5 -> 2)
    (1, "25%", "25%", 1, 0),
    (1, "50%", "50%", 1, 0),         # the seed's vdata-imp
    (4, "50%", "50%", 2, 2),
    (3, 0, 1, 0, 1),
    (5, 2, "40%", 2, 2),
    (2, "1%", "0%", 1, 0),
    (2, "0%", "1%", 0, 1),           # both round to zero: unavailable becomes 1
    (1, "0%", "1%", 0, 1),
    (10, 0, "100%", 0, 10),
    (3, 5, "200%", 5, 3),            # maxUnavailable never exceeds replicas
])
def test_max_surge_and_unavailable(replicas: int, surge: Any, unavailable: Any, want_surge: int,
                                   want_unavailable: int) -> None:
    d = deployment(replicas, surge, unavailable)
    assert (util.max_surge(d), util.max_unavailable(d)) == (want_surge, want_unavailable)


def test_fenceposts_for_zero_replicas_and_recreate() -> None:
    assert util.max_unavailable(deployment(0)) == 0
    d = deployment(4, kind="Recreate")
    assert (util.max_surge(d), util.max_unavailable(d), util.min_available(d)) == (0, 0, 0)


@pytest.mark.parametrize("value,total,up,want", [
    (3, 10, True, 3), ("25%", 10, True, 3), ("25%", 10, False, 2), ("33%", 3, True, 1), ("33%", 3, False, 0),
    ("100%", 7, False, 7), ("0%", 7, True, 0), (None, 5, True, 0),
])
def test_scaled_value(value: Any, total: int, up: bool, want: int) -> None:
    assert util.scaled_value(value, total, up) == want


def test_scaled_value_rejects_non_percent_strings() -> None:
    with pytest.raises(ValueError):
        util.scaled_value("3", 10, True)


@pytest.mark.parametrize("replicas,surge,old,new,want", [
    # (deployment replicas, maxSurge, old RS sizes, new RS size, new size allowed)
    (10, "25%", [10], 0, 3),       # 10+3 total, so 3 new
    (10, "25%", [8], 3, 5),        # 11 exist: 2 more
    (10, "25%", [10], 3, 3),       # at 13 already: stays
    (10, "25%", [0], 8, 10),       # never beyond replicas
    (1, "50%", [1], 0, 1),
    (3, 0, [3], 0, 0),             # no surge: the old must shrink first
    (3, 0, [2], 0, 1),
])
def test_new_rs_new_replicas_rolling(replicas: int, surge: Any, old: list[int], new: int, want: int) -> None:
    d = deployment(replicas, surge, 1)
    new_rs = rs("new", new)
    all_rss = [rs(f"old{i}", n) for i, n in enumerate(old)] + [new_rs]
    assert util.new_rs_new_replicas(d, all_rss, new_rs) == want


def test_new_rs_new_replicas_recreate_is_everything_at_once() -> None:
    d = deployment(5, kind="Recreate")
    new_rs = rs("new", 0)
    assert util.new_rs_new_replicas(d, [new_rs], new_rs) == 5


@pytest.mark.parametrize("x,want", [(2.5, 3), (-2.5, -3), (1.5, 2), (0.49, 0), (3.5, 4), (-0.5, -1)])
def test_round_half_away_from_zero(x: float, want: int) -> None:
    assert util.round_half_away(x) == want


def test_proportions_when_scaling_mid_rollout() -> None:
    # 10 replicas at 25% surge mid-rollout (13 pods), scaled to 20: 25 allowed, 12 to hand out.
    d = deployment(20)
    old = rs("old", 8, max_replicas=13)
    new = rs("new", 5, max_replicas=13)
    to_add = 20 + util.max_surge(d) - 13
    assert to_add == 12
    p_old = util.get_proportion(old, d, to_add, 0)
    p_new = util.get_proportion(new, d, to_add, p_old)
    assert (p_old, p_new) == (7, 5)
    # Scaling down to zero takes everything.
    d0 = deployment(0)
    assert util.get_proportion(old, d0, -13, 0) == -8


def test_proportion_never_exceeds_what_is_left() -> None:
    d = deployment(20)
    big = rs("big", 10, max_replicas=13)
    assert util.get_proportion(big, d, 3, 0) == 3        # its fraction would be +9
    small = deployment(2)
    assert util.get_proportion(big, small, -3, 0) == -3  # its fraction would be -8
    assert util.get_proportion(big, d, 3, 3) == 0        # nothing left to hand out


# -- hash and template equality ---------------------------------------------------------

def test_hash_ignores_the_hash_label_and_empty_fields() -> None:
    t = template("nginx:1")
    h = util.compute_hash(t, None)
    assert len(h) <= 10 and set(h) <= set("bcdfghjklmnpqrstvwxz2456789")
    noisy = copy.deepcopy(t)
    noisy["metadata"]["creationTimestamp"] = None
    noisy["metadata"]["labels"][util.POD_TEMPLATE_HASH] = "whatever"
    noisy["spec"]["containers"][0]["resources"] = {}
    assert util.compute_hash(noisy, None) == h
    assert util.equal_ignore_hash(noisy, t)
    assert util.compute_hash(template("nginx:2"), None) != h
    assert not util.equal_ignore_hash(template("nginx:2"), t)


def test_hash_is_stable_across_processes_and_key_order() -> None:
    t = template("nginx:1")
    reordered = {"spec": t["spec"], "metadata": t["metadata"]}
    code = ("from minik8s.controllers.deployment import util as u;"
            "print(u.compute_hash({'metadata': {'labels': {'app': 'web'}}, "
            "'spec': {'containers': [{'image': 'nginx:1', 'name': 'web'}]}}, None))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == util.compute_hash(reordered, None) == util.compute_hash(t, None)


def test_collision_count_changes_the_hash() -> None:
    t = template("nginx:1")
    hashes = {util.compute_hash(t, None), util.compute_hash(t, 0), util.compute_hash(t, 1), util.compute_hash(t, 2)}
    assert len(hashes) == 4


def test_safe_encode_string() -> None:
    # rand.SafeEncodeString maps each byte onto "bcdfghjklmnpqrstvwxz2456789".
    assert util.safe_encode_string("0123456789") == "456789bcdf"


def test_fnv32a_reference_values() -> None:
    assert util._fnv32a(b"") == 0x811C9DC5
    assert util._fnv32a(b"a") == 0xE40C292C
    assert util._fnv32a(b"foobar") == 0xBF9CF968


# -- revisions ---------------------------------------------------------------------------

def test_new_replica_set_gets_revision_and_replica_annotations() -> None:
    d = deployment(3, annotations=None)
    d["metadata"]["annotations"] = {util.CHANGE_CAUSE: "kubectl set image", util.LAST_APPLIED: "{}",
                                    util.REVISION: "7"}
    new = {"metadata": {"name": "web-x"}, "spec": {"replicas": 0}}
    assert util.set_new_replica_set_annotations(d, new, 4, exists=False)
    ann = new["metadata"]["annotations"]
    assert ann == {util.CHANGE_CAUSE: "kubectl set image", util.REVISION: "4",
                   util.DESIRED_REPLICAS: "3", util.MAX_REPLICAS: "4"}


def test_old_template_coming_back_gets_a_new_revision_and_history() -> None:
    d = deployment(1)
    back = rs("web-a", 0, revision="1")
    assert util.set_new_replica_set_annotations(d, back, 3, exists=True)
    assert back["metadata"]["annotations"][util.REVISION] == "3"
    assert back["metadata"]["annotations"][util.REVISION_HISTORY] == "1"
    assert util.set_new_replica_set_annotations(d, back, 5, exists=True)
    assert back["metadata"]["annotations"][util.REVISION_HISTORY] == "1,3"
    # Never lowered (old ReplicaSets deleted since).
    assert not util.set_new_replica_set_annotations(d, back, 2, exists=True)
    assert back["metadata"]["annotations"][util.REVISION] == "5"


def test_revision_history_is_capped() -> None:
    d = deployment(1)
    back = rs("web-a", 0, revision="9")
    back["metadata"]["annotations"][util.REVISION_HISTORY] = "1,2,3,4"
    util.set_new_replica_set_annotations(d, back, 10, exists=True, rev_history_limit_chars=8)
    assert back["metadata"]["annotations"][util.REVISION_HISTORY] == "2,3,4,9"


def test_max_revision_skips_garbage_and_sorting_by_revision() -> None:
    rss = [rs("a", 0, revision="2"), rs("b", 0, revision="x"), rs("c", 0, revision="10"), rs("d", 0)]
    assert util.max_revision(rss) == 10
    assert [r["metadata"]["name"] for r in util.by_revision([rss[0], rss[2], rss[3]])] == ["d", "a", "c"]


# -- ReplicaSet lists --------------------------------------------------------------------

def test_find_new_and_old_replica_sets() -> None:
    d = deployment(2)
    new = rs("web-new", 2)
    new["spec"]["template"] = copy.deepcopy(d["spec"]["template"])
    new["spec"]["template"]["metadata"]["labels"][util.POD_TEMPLATE_HASH] = "abc"
    old = rs("web-old", 1)
    old["spec"]["template"] = template("nginx:0")
    empty = rs("web-older", 0)
    empty["spec"]["template"] = template("nginx:-1")
    assert util.find_new_replica_set(d, [old, new, empty]) is new
    required, all_old = util.find_old_replica_sets(d, [old, new, empty])
    assert required == [old] and all_old == [old, empty]


def test_find_active_or_latest() -> None:
    a = rs("a", 0, created="2024-01-01T00:00:00Z")
    b = rs("b", 0, created="2024-01-02T00:00:00Z")
    assert util.find_active_or_latest(None, [a, b]) is b
    c = rs("c", 3)
    assert util.find_active_or_latest(None, [a, c]) is c
    assert util.find_active_or_latest(rs("n", 1), [c]) is None


def test_size_orderings() -> None:
    old = rs("old", 2, created="2024-01-01T00:00:00Z")
    new = rs("new", 2, created="2024-01-02T00:00:00Z")
    big = rs("big", 5, created="2024-01-03T00:00:00Z")
    assert [util.name(r) for r in util.by_size_newer([old, new, big])] == ["big", "new", "old"]
    assert [util.name(r) for r in util.by_size_older([new, old, big])] == ["big", "old", "new"]


def test_is_saturated() -> None:
    d = deployment(3)
    assert util.is_saturated(d, rs("n", 3, desired=3))
    assert not util.is_saturated(d, rs("n", 3, available=2, desired=3))
    assert not util.is_saturated(d, rs("n", 3))  # no annotation
    assert not util.is_saturated(d, None)


# -- conditions and status -----------------------------------------------------------------

def test_set_condition_keeps_transition_time_and_ignores_same_reason() -> None:
    status: dict[str, Any] = {}
    util.set_condition(status, util.new_condition("Progressing", "True", "A", "m", NOW))
    util.set_condition(status, util.new_condition("Progressing", "True", "A", "m2", NOW + 10))
    assert status["conditions"][0]["message"] == "m"
    util.set_condition(status, util.new_condition("Progressing", "True", "B", "m3", NOW + 20))
    c = status["conditions"][0]
    assert (c["reason"], c["lastTransitionTime"], c["lastUpdateTime"]) == (
        "B", rfc3339.format(NOW), rfc3339.format(NOW + 20))
    util.set_condition(status, util.new_condition("Progressing", "False", "C", "m4", NOW + 30))
    assert status["conditions"][0]["lastTransitionTime"] == rfc3339.format(NOW + 30)


def test_calculate_status() -> None:
    d = deployment(4, 1, 1)
    d["metadata"]["generation"] = 3
    new = rs("new", 2, available=1, readyReplicas=2)
    old = rs("old", 3, available=3, readyReplicas=3)
    status = util.calculate_status([old, new], new, d, NOW)
    assert {k: v for k, v in status.items() if k != "conditions"} == {
        "observedGeneration": 3, "replicas": 5, "updatedReplicas": 2, "readyReplicas": 5,
        "availableReplicas": 4, "unavailableReplicas": 1}
    assert util.get_condition(status, "Available")["reason"] == "MinimumReplicasAvailable"
    low = util.calculate_status([rs("old", 3, available=2)], None, d, NOW)
    cond = util.get_condition(low, "Available")
    assert (cond["status"], cond["reason"]) == ("False", "MinimumReplicasUnavailable")
    assert "updatedReplicas" not in low  # zeros are omitted, as Go's omitempty


def test_deployment_complete_progressing_timed_out() -> None:
    d = deployment(2, progressDeadlineSeconds=60)
    done = {"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2, "observedGeneration": 1}
    assert util.deployment_complete(d, done)
    assert not util.deployment_complete(d, {**done, "replicas": 3})
    d["status"] = {"replicas": 3, "updatedReplicas": 1}
    assert util.deployment_progressing(d, {"replicas": 3, "updatedReplicas": 2})
    assert util.deployment_progressing(d, {"replicas": 2, "updatedReplicas": 1})
    assert not util.deployment_progressing(d, {"replicas": 3, "updatedReplicas": 1})
    status = {"conditions": [util.new_condition("Progressing", "True", "ReplicaSetUpdated", "", NOW)]}
    assert not util.deployment_timed_out(d, status, NOW + 60)
    assert util.deployment_timed_out(d, status, NOW + 61)
    status["conditions"][0]["reason"] = "NewReplicaSetAvailable"
    assert not util.deployment_timed_out(d, status, NOW + 1000)
    d["spec"]["progressDeadlineSeconds"] = util.MAX_INT32
    assert not util.has_progress_deadline(d)


def test_new_rs_waits_for_pods_an_old_replica_set_still_reports() -> None:
    d = deployment(10, "25%", "25%")
    old = rs("old", 8)
    old["status"]["replicas"] = 10  # scaled down, pods not deleted yet
    new = rs("new", 3)
    assert util.new_rs_new_replicas(d, [old, new], new) == 3
    old["status"]["replicas"] = 8
    assert util.new_rs_new_replicas(d, [old, new], new) == 5


def test_available_bound_caps_stale_status_at_spec() -> None:
    old = rs("old", 8, available=10)
    assert util.available_bound([old, rs("new", 5, available=3)]) == 11
    assert util.available_replica_count([old]) == 10
