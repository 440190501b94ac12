"""The arithmetic and bookkeeping of Deployments, with no I/O.

A transcription of pkg/controller/deployment/util/deployment_util.go (and the
helpers of pkg/controller it uses) onto plain JSON dicts: the pod-template-hash,
template equality, maxSurge/maxUnavailable fenceposts, how many replicas a new
ReplicaSet may have, proportional scaling, revisions and their annotations,
conditions and the status a Deployment reports. Everything here is a pure
function of its arguments (the clock is passed in), so the rollout rules can be
tested as tables.
"""
from __future__ import annotations

import copy
import functools
import math
from typing import Any, Iterable, Sequence

import orjson

from minik8s.api import conditions
from minik8s.api import rfc3339
from minik8s.api import selectors

Obj = dict[str, Any]

# Annotations (k8s.io/kubernetes/pkg/controller/deployment/util).
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
DEPRECATED_ROLLBACK_TO = "deprecated.deployment.rollback.to"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# apps.DefaultDeploymentUniqueLabelKey
POD_TEMPLATE_HASH = "pod-template-hash"

# Condition types and reasons.
AVAILABLE = "Available"
PROGRESSING = "Progressing"
REPLICA_FAILURE = "ReplicaFailure"
REPLICA_SET_UPDATED = "ReplicaSetUpdated"
FAILED_RS_CREATE = "ReplicaSetCreateError"
NEW_REPLICA_SET_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"

ROLLING_UPDATE = "RollingUpdate"
RECREATE = "Recreate"

# revision-history is capped at about 100 entries, as upstream's maxRevHistoryLengthInChars.
MAX_REV_HISTORY_CHARS = 2000
MAX_INT32 = 2**31 - 1

_ANNOTATIONS_TO_SKIP = frozenset({LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
                                  DEPRECATED_ROLLBACK_TO})


# ---------------------------------------------------------------------------
# small accessors

def meta(obj: Obj) -> Obj:
    found: Obj = obj.setdefault("metadata", {})
    return found


def annotations_of(obj: Obj) -> dict[str, str]:
    found: dict[str, str] = meta(obj).get("annotations") or {}
    return found


def replicas(obj: Obj | None) -> int:
    """spec.replicas of a Deployment or ReplicaSet (defaulted to 1 by the API server)."""
    if obj is None:
        return 0
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def status_int(obj: Obj | None, field: str) -> int:
    if obj is None:
        return 0
    return int((obj.get("status") or {}).get(field) or 0)


def uid(obj: Obj | None) -> str:
    return str((obj or {}).get("metadata", {}).get("uid", ""))


def name(obj: Obj) -> str:
    return str(obj["metadata"]["name"])


def strategy_type(d: Obj) -> str:
    return str(((d.get("spec") or {}).get("strategy") or {}).get("type") or ROLLING_UPDATE)


def is_rolling_update(d: Obj) -> bool:
    return strategy_type(d) == ROLLING_UPDATE


def selector_of(d: Obj) -> selectors.LabelSelector:
    return selectors.from_label_selector((d.get("spec") or {}).get("selector"))


def selects_everything(d: Obj) -> bool:
    sel = (d.get("spec") or {}).get("selector")
    return sel is not None and not sel.get("matchLabels") and not sel.get("matchExpressions")


def has_progress_deadline(d: Obj) -> bool:
    value = (d.get("spec") or {}).get("progressDeadlineSeconds")
    return value is not None and int(value) != MAX_INT32


def progress_deadline(d: Obj) -> int:
    return int((d.get("spec") or {}).get("progressDeadlineSeconds") or 0)


def has_revision_history_limit(d: Obj) -> bool:
    value = (d.get("spec") or {}).get("revisionHistoryLimit")
    return value is not None and int(value) != MAX_INT32


def min_ready_seconds(obj: Obj) -> int:
    return int((obj.get("spec") or {}).get("minReadySeconds") or 0)


# ---------------------------------------------------------------------------
# pod-template-hash and template equality

_SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def _prune_empty(value: Any) -> Any:
    """Drop nulls, empty maps and empty lists inside maps.

    apimachinery's Semantic.DeepEqual treats nil and empty maps/slices as equal,
    and kubectl sends `creationTimestamp: null` and `resources: {}`; pruning them
    makes dict equality (and the hash) agree with Kubernetes' notion of "same
    template". List items are kept in place: their positions are meaningful.
    """
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _prune_empty(v)
            if v is None or v == {} or v == []:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_prune_empty(v) for v in value]
    return value


def normalized_template(template: Obj | None) -> Obj:
    """The template as compared and hashed: no pod-template-hash label, no empty fields."""
    t = copy.deepcopy(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH, None)
    pruned = _prune_empty(t)
    assert isinstance(pruned, dict)
    return pruned


def safe_encode_string(s: str) -> str:
    """rand.SafeEncodeString: digits mapped onto consonants and digits, so hashes never spell words."""
    return "".join(_SAFE_ALPHANUMS[ord(c) % len(_SAFE_ALPHANUMS)] for c in s)


def _fnv32a(data: bytes, h: int = 0x811C9DC5) -> int:
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def compute_hash(template: Obj | None, collision_count: int | None) -> str:
    """controller.ComputeHash: FNV-32a of the template, then of the collision count.

    Upstream hashes Go's printed struct; we hash canonical JSON (sorted keys) of
    the normalized template, which is just as stable across processes and
    restarts, so a restarted controller finds the ReplicaSet it created before.
    """
    h = _fnv32a(orjson.dumps(normalized_template(template), option=orjson.OPT_SORT_KEYS))
    if collision_count is not None:
        h = _fnv32a(int(collision_count & 0xFFFFFFFF).to_bytes(4, "little"), h)
    return safe_encode_string(str(h))


def equal_ignore_hash(t1: Obj | None, t2: Obj | None) -> bool:
    """EqualIgnoreHash: templates equal apart from the pod-template-hash label."""
    return normalized_template(t1) == normalized_template(t2)


# ---------------------------------------------------------------------------
# ReplicaSet lists

def _created(rs: Obj) -> float:
    return rfc3339.parse_epoch(meta(rs).get("creationTimestamp")) or 0.0


def by_creation_timestamp(rss: Iterable[Obj]) -> list[Obj]:
    """ReplicaSetsByCreationTimestamp: oldest first, name breaking ties."""
    return sorted(rss, key=lambda rs: (_created(rs), name(rs)))


def _cmp(a: Any, b: Any) -> int:
    return int(a > b) - int(a < b)


def by_size_older(rss: Iterable[Obj]) -> list[Obj]:
    """ReplicaSetsBySizeOlder: largest first; among equals the older first (scaling down)."""
    def cmp(a: Obj, b: Obj) -> int:
        if replicas(a) == replicas(b):
            return _cmp((_created(a), name(a)), (_created(b), name(b)))
        return -_cmp(replicas(a), replicas(b))
    return sorted(rss, key=functools.cmp_to_key(cmp))


def by_size_newer(rss: Iterable[Obj]) -> list[Obj]:
    """ReplicaSetsBySizeNewer: largest first; among equals the newer first (scaling up)."""
    def cmp(a: Obj, b: Obj) -> int:
        if replicas(a) == replicas(b):
            return -_cmp((_created(a), name(a)), (_created(b), name(b)))
        return -_cmp(replicas(a), replicas(b))
    return sorted(rss, key=functools.cmp_to_key(cmp))


def by_revision(rss: Iterable[Obj]) -> list[Obj]:
    """ReplicaSetsByRevision: lowest revision first, creation time breaking ties."""
    def cmp(a: Obj, b: Obj) -> int:
        ra, rb = revision(a), revision(b)
        if ra is None or rb is None or ra == rb:
            return _cmp((_created(a), name(a)), (_created(b), name(b)))
        return _cmp(ra, rb)
    return sorted(rss, key=functools.cmp_to_key(cmp))


def filter_active(rss: Iterable[Obj | None]) -> list[Obj]:
    """FilterActiveReplicaSets: those that want at least one pod."""
    return [rs for rs in rss if rs is not None and replicas(rs) > 0]


def replica_count(rss: Iterable[Obj | None]) -> int:
    """GetReplicaCountForReplicaSets: the sum of spec.replicas."""
    return sum(replicas(rs) for rs in rss if rs is not None)


def pod_count_bound(rss: Iterable[Obj | None]) -> int:
    """Pods the ReplicaSets have or may soon have: max(spec.replicas, status.replicas) each.

    Upstream sums spec.replicas alone, so right after an old ReplicaSet is
    scaled down (its pods not yet deleted) the new one may already grow and the
    real pod count briefly exceeds replicas+maxSurge. Counting pods the old
    ReplicaSet still reports makes the new one wait for them to go.
    """
    return sum(max(replicas(rs), status_int(rs, "replicas")) for rs in rss if rs is not None)


def available_bound(rss: Iterable[Obj | None]) -> int:
    """Available pods that will remain: no ReplicaSet keeps more than spec.replicas.

    A ReplicaSet's status can still count pods its last scale-down is about to
    delete; trusting it would let a second scale-down take availability below
    replicas-maxUnavailable.
    """
    return sum(min(status_int(rs, "availableReplicas"), replicas(rs)) for rs in rss if rs is not None)


def actual_replica_count(rss: Iterable[Obj | None]) -> int:
    return sum(status_int(rs, "replicas") for rs in rss if rs is not None)


def ready_replica_count(rss: Iterable[Obj | None]) -> int:
    return sum(status_int(rs, "readyReplicas") for rs in rss if rs is not None)


def available_replica_count(rss: Iterable[Obj | None]) -> int:
    return sum(status_int(rs, "availableReplicas") for rs in rss if rs is not None)


def find_new_replica_set(d: Obj, rs_list: Sequence[Obj]) -> Obj | None:
    """FindNewReplicaSet: the (oldest) ReplicaSet whose template is the Deployment's."""
    template = (d.get("spec") or {}).get("template")
    for rs in by_creation_timestamp(rs_list):
        if equal_ignore_hash((rs.get("spec") or {}).get("template"), template):
            return rs
    return None


def find_old_replica_sets(d: Obj, rs_list: Sequence[Obj]) -> tuple[list[Obj], list[Obj]]:
    """FindOldReplicaSets: (old ones with pods, all old ones)."""
    new_rs = find_new_replica_set(d, rs_list)
    all_old = [rs for rs in rs_list if new_rs is None or uid(rs) != uid(new_rs)]
    return [rs for rs in all_old if replicas(rs) != 0], all_old


def find_active_or_latest(new_rs: Obj | None, old_rss: Sequence[Obj]) -> Obj | None:
    """The only active ReplicaSet, or the newest when none is active; None when several are."""
    if new_rs is None and not old_rss:
        return None
    newest_first = list(reversed(by_creation_timestamp(old_rss)))
    active = filter_active([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    if len(active) == 1:
        return active[0]
    return None


# ---------------------------------------------------------------------------
# maxSurge / maxUnavailable

def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: "25%" of total, rounded as asked."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        raise ValueError(f"invalid value for IntOrString: invalid type: string is not a percentage: {text!r}")
    pct = int(text[:-1])
    if round_up:
        return -(-pct * total // 100)
    return pct * total // 100


def resolve_fenceposts(max_surge: int | str | None, max_unavailable: int | str | None,
                       desired: int) -> tuple[int, int]:
    """ResolveFenceposts: surge rounds up, unavailable rounds down; never both zero.

    When both resolve to zero (validation forbids that only for explicit zeros;
    rounding down can still get there) unavailable becomes 1, on the theory that
    surging may be impossible because of quota.
    """
    surge = scaled_value(max_surge, desired, True)
    unavailable = scaled_value(max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rolling(d: Obj) -> Obj:
    return (((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {})


def max_surge(d: Obj) -> int:
    if not is_rolling_update(d):
        return 0
    surge, _ = resolve_fenceposts(_rolling(d).get("maxSurge"), _rolling(d).get("maxUnavailable"), replicas(d))
    return surge


def max_unavailable(d: Obj) -> int:
    if not is_rolling_update(d) or replicas(d) == 0:
        return 0
    _, unavailable = resolve_fenceposts(_rolling(d).get("maxSurge"), _rolling(d).get("maxUnavailable"),
                                        replicas(d))
    return min(unavailable, replicas(d))


def min_available(d: Obj) -> int:
    if not is_rolling_update(d):
        return 0
    return replicas(d) - max_unavailable(d)


def new_rs_new_replicas(d: Obj, all_rss: Sequence[Obj | None], new_rs: Obj) -> int:
    """NewRSNewReplicas: how big the new ReplicaSet may be now.

    RollingUpdate: grow it by what keeps all ReplicaSets together within
    replicas+maxSurge, and never beyond replicas. Recreate: all at once (old
    ones are at zero by the time this is asked).
    """
    kind = strategy_type(d)
    if kind == ROLLING_UPDATE:
        surge = scaled_value(_rolling(d).get("maxSurge"), replicas(d), True)
        current = pod_count_bound(all_rss)
        max_total = replicas(d) + surge
        if current >= max_total:
            return replicas(new_rs)
        scale_up = min(max_total - current, replicas(d) - replicas(new_rs))
        return replicas(new_rs) + scale_up
    if kind == RECREATE:
        return replicas(d)
    raise ValueError(f"deployment type {kind} isn't supported")


def is_saturated(d: Obj, rs: Obj | None) -> bool:
    """The new ReplicaSet owns all desired replicas, believes so, and they are all available."""
    if rs is None:
        return False
    try:
        desired = int(annotations_of(rs).get(DESIRED_REPLICAS, ""))
    except ValueError:
        return False
    return replicas(rs) == replicas(d) and desired == replicas(d) and status_int(rs, "availableReplicas") == replicas(d)


def _int_annotation(rs: Obj, key: str) -> int | None:
    try:
        return int(annotations_of(rs)[key])
    except (KeyError, ValueError):
        return None


def desired_replicas_annotation(rs: Obj) -> int | None:
    return _int_annotation(rs, DESIRED_REPLICAS)


def round_half_away(x: float) -> int:
    """Go's math.Round (and integer.RoundToInt32): halves away from zero, unlike Python's round."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def replica_set_fraction(rs: Obj, d: Obj) -> int:
    """getReplicaSetFraction: how many replicas this ReplicaSet gains (or loses) in a resize."""
    if replicas(d) == 0:
        return -replicas(rs)
    deployment_replicas = replicas(d) + max_surge(d)
    annotated = _int_annotation(rs, MAX_REPLICAS)
    if annotated is None:
        # Without the annotation fall back to the current size; getProportion's
        # min/max still keeps the result within bounds.
        annotated = status_int(d, "replicas")
    if annotated == 0:
        return 0
    return round_half_away(replicas(rs) * deployment_replicas / annotated) - replicas(rs)


def get_proportion(rs: Obj | None, d: Obj, to_add: int, added: int) -> int:
    """GetProportion: this ReplicaSet's share of a resize, bounded by what is left to hand out."""
    if rs is None or replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = replica_set_fraction(rs, d)
    allowed = to_add - added
    if to_add > 0:
        return min(fraction, allowed)
    return max(fraction, allowed)


# ---------------------------------------------------------------------------
# revisions and annotations

def revision(obj: Obj) -> int | None:
    """The revision annotation as a number; 0 when absent, None when unparsable."""
    value = annotations_of(obj).get(REVISION)
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        return None


def max_revision(rss: Iterable[Obj]) -> int:
    best = 0
    for rs in rss:
        v = revision(rs)
        if v is not None and v > best:
            best = v
    return best


def set_replicas_annotations(rs: Obj, desired: int, max_replicas: int) -> bool:
    ann = meta(rs).setdefault("annotations", {})
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(max_replicas))):
        if ann.get(key) != value:
            ann[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: Obj, desired: int, max_replicas: int) -> bool:
    ann = annotations_of(rs)
    return ann.get(DESIRED_REPLICAS) != str(desired) or ann.get(MAX_REPLICAS) != str(max_replicas)


def copy_deployment_annotations(d: Obj, rs: Obj) -> bool:
    """Copy the Deployment's annotations (change-cause, ...) but not the controller's own."""
    ann = meta(rs).setdefault("annotations", {})
    changed = False
    for k, v in annotations_of(d).items():
        if k in _ANNOTATIONS_TO_SKIP or (k in ann and ann[k] == v):
            continue
        ann[k] = v
        changed = True
    return changed


def set_new_replica_set_annotations(d: Obj, rs: Obj, new_revision: int, exists: bool,
                                    rev_history_limit_chars: int = MAX_REV_HISTORY_CHARS) -> bool:
    """SetNewReplicaSetAnnotations; True if the ReplicaSet's annotations changed.

    The new ReplicaSet's revision must be the highest. When an existing one gets
    a higher revision, the template it serves came back (a rollback), and its
    previous revision is kept in revision-history.
    """
    changed = copy_deployment_annotations(d, rs)
    ann = meta(rs).setdefault("annotations", {})
    old_text: str | None = ann.get(REVISION)
    try:
        old_revision = int(old_text) if old_text else 0
    except ValueError:
        return False
    if old_revision < new_revision:
        ann[REVISION] = str(new_revision)
        changed = True
        if old_text is not None:
            history = ann.get(REVISION_HISTORY, "")
            old_revisions = history.split(",")
            if not old_revisions[0]:
                ann[REVISION_HISTORY] = old_text
            else:
                total = len(history) + len(old_text) + 1
                start = 0
                while total > rev_history_limit_chars and start < len(old_revisions):
                    total -= len(old_revisions[start]) + 1
                    start += 1
                if total <= rev_history_limit_chars:
                    ann[REVISION_HISTORY] = ",".join([*old_revisions[start:], old_text])
    if not exists and set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)):
        changed = True
    return changed


def set_deployment_revision(d: Obj, value: str) -> bool:
    ann = meta(d).setdefault("annotations", {})
    if ann.get(REVISION) != value:
        ann[REVISION] = value
        return True
    return False


# ---------------------------------------------------------------------------
# conditions

def new_condition(type_: str, status: str, reason: str, message: str, now: float) -> Obj:
    ts = rfc3339.format(now)
    return {"type": type_, "status": status, "lastUpdateTime": ts, "lastTransitionTime": ts,
            "reason": reason, "message": message}


def get_condition(status: Obj | None, type_: str) -> Obj | None:
    cond: Obj | None = conditions.find((status or {}).get("conditions"), type_)
    return cond


def set_condition(status: Obj, cond: Obj) -> None:
    """SetDeploymentCondition: a no-op for the same status and reason; keeps the
    transition time while the status stays the same."""
    current = get_condition(status, cond["type"])
    if current is not None and current.get("status") == cond["status"] and current.get("reason") == cond["reason"]:
        return
    cond = dict(cond)
    if current is not None and current.get("status") == cond["status"]:
        cond["lastTransitionTime"] = current.get("lastTransitionTime")
    conditions.replace(status, cond)


def remove_condition(status: Obj, type_: str) -> None:
    conds = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    if conds:
        status["conditions"] = conds
    else:
        status.pop("conditions", None)


def replica_set_to_deployment_condition(cond: Obj) -> Obj:
    return {"type": cond.get("type"), "status": cond.get("status"),
            "lastUpdateTime": cond.get("lastTransitionTime"), "lastTransitionTime": cond.get("lastTransitionTime"),
            "reason": cond.get("reason"), "message": cond.get("message")}


# ---------------------------------------------------------------------------
# status

def _put(status: Obj, key: str, value: int) -> None:
    # Go's omitempty: zero counts are not serialised.
    if value:
        status[key] = value


def calculate_status(all_rss: Sequence[Obj | None], new_rs: Obj | None, d: Obj, now: float) -> Obj:
    """calculateStatus: counts from the ReplicaSets, the Available condition from maxUnavailable."""
    available = available_replica_count(all_rss)
    total = replica_count(all_rss)
    unavailable = max(total - available, 0)
    old = d.get("status") or {}
    status: Obj = {}
    _put(status, "observedGeneration", int(meta(d).get("generation") or 0))
    _put(status, "replicas", actual_replica_count(all_rss))
    _put(status, "updatedReplicas", actual_replica_count([new_rs]))
    _put(status, "readyReplicas", ready_replica_count(all_rss))
    _put(status, "availableReplicas", available)
    _put(status, "unavailableReplicas", unavailable)
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = [dict(c) for c in old["conditions"]]
    if available >= replicas(d) - max_unavailable(d):
        set_condition(status, new_condition(AVAILABLE, "True", MINIMUM_REPLICAS_AVAILABLE,
                                            "Deployment has minimum availability.", now))
    else:
        set_condition(status, new_condition(AVAILABLE, "False", MINIMUM_REPLICAS_UNAVAILABLE,
                                            "Deployment does not have minimum availability.", now))
    return status


def deployment_complete(d: Obj, status: Obj) -> bool:
    """All desired replicas are updated and available, and no old pods run."""
    want = replicas(d)
    return (int(status.get("updatedReplicas") or 0) == want and int(status.get("replicas") or 0) == want
            and int(status.get("availableReplicas") or 0) == want
            and int(status.get("observedGeneration") or 0) >= int(meta(d).get("generation") or 0))


def deployment_progressing(d: Obj, new_status: Obj) -> bool:
    """Progress: more updated, ready or available pods, or fewer old ones, than last recorded."""
    old = d.get("status") or {}

    def g(s: Obj, k: str) -> int:
        return int(s.get(k) or 0)
    old_old = g(old, "replicas") - g(old, "updatedReplicas")
    new_old = g(new_status, "replicas") - g(new_status, "updatedReplicas")
    return (g(new_status, "updatedReplicas") > g(old, "updatedReplicas") or new_old < old_old
            or g(new_status, "readyReplicas") > g(old, "readyReplicas")
            or g(new_status, "availableReplicas") > g(old, "availableReplicas"))


def deployment_timed_out(d: Obj, new_status: Obj, now: float) -> bool:
    """No progress reported within progressDeadlineSeconds of the last Progressing update."""
    if not has_progress_deadline(d):
        return False
    cond = get_condition(new_status, PROGRESSING)
    if cond is None:
        return False
    # A finished rollout followed by a resync before the new ReplicaSet's
    # condition lands must not look like a timeout.
    if cond.get("reason") == NEW_RS_AVAILABLE:
        return False
    if cond.get("reason") == TIMED_OUT:
        return True
    since = rfc3339.parse_epoch(cond.get("lastUpdateTime"))
    if since is None:
        return False
    return since + progress_deadline(d) < now


def status_equal(a: Obj | None, b: Obj | None) -> bool:
    return bool(_prune_empty(a or {}) == _prune_empty(b or {}))
