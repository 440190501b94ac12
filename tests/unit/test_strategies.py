"""Per-kind strategies: every served kind has all its pieces, and the registry runs them.

The first half walks the resource table and checks each kind's strategy: its
defaults, validation on create and update, what /status (and /finalize) may
change, printer columns, conversion hooks and the schema. The second half
checks what the strategies themselves decide (moved out of the registry) and
that the registry's generic verbs call a strategy and nothing else.
"""
from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.api import kinds
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import strategy
from minik8s.api.kinds import hpa_conversion
from minik8s.apiserver import registry as registry_mod

Obj = dict[str, Any]
NOW = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
SERVED = [pytest.param(r, id=f"{r.group or 'core'}/{r.version}/{r.plural}") for r in resources.RESOURCES]
# Kinds a client can read back; the create-only reviews (authorization.k8s.io) are
# answered and never stored, and Kubernetes prints them with no handler of their own.
LISTED = [p for p in SERVED if "list" in p.values[0].verbs]


def res(group: str, version: str, plural: str) -> resources.Resource:
    return resources.must(group, version, plural)


POD = res("", "v1", "pods")
SVC = res("", "v1", "services")
NS = res("", "v1", "namespaces")
NODE = res("", "v1", "nodes")
RC = res("", "v1", "replicationcontrollers")
DEPLOY = res("apps", "v1", "deployments")
HPA1 = res("autoscaling", "v1", "horizontalpodautoscalers")
HPA2 = res("autoscaling", "v2", "horizontalpodautoscalers")
CM = res("", "v1", "configmaps")


def replacing_subresources(r: resources.Resource) -> set[str]:
    """Subresources whose PUT replaces part of the object itself (status, finalize); not scale, log, ..."""
    return {sub.name for sub in r.subresources if sub.kind == r.kind and "update" in sub.verbs}


# ---------------------------------------------------------------------------
# every served kind has every piece


@pytest.mark.parametrize("r", SERVED)
def test_served_resource_has_its_kinds_strategy(r: resources.Resource) -> None:
    s = kinds.for_resource(r)
    assert isinstance(s, strategy.Strategy)
    assert (s.group, s.kind) == (r.group, r.kind)


def test_every_strategy_serves_a_resource() -> None:
    served = {(r.group, r.kind) for r in resources.RESOURCES}
    assert set(kinds.STRATEGIES) == served


@pytest.mark.parametrize("r", SERVED)
def test_defaults_and_validation_run_on_a_bare_object(r: resources.Resource) -> None:
    s = kinds.for_resource(r)
    meta = {"name": "x", "namespace": "default"} if r.namespaced else {"name": "x"}
    obj: Obj = {"apiVersion": r.api_version, "kind": r.kind, "metadata": dict(meta)}
    s.defaults(r, obj, None, strategy.DEFAULT_SETTINGS)
    s.prepare_for_create(r, obj)
    assert isinstance(s.validate(r, obj), strategy.Errors)
    new = copy.deepcopy(obj)
    s.defaults(r, new, obj, strategy.DEFAULT_SETTINGS)
    s.prepare_for_update(r, new, obj)
    assert isinstance(s.validate_update(r, new, obj), strategy.Errors)
    s.canonicalize(r, new)
    # ObjectMeta is checked around the kind's rules: a nameless object is refused.
    with pytest.raises(errors.Invalid) as exc:
        kinds.validate(r, {"metadata": {"namespace": "default"} if r.namespaced else {}})
    assert any(c["field"] == "metadata.name" for c in exc.value.status()["details"]["causes"])


@pytest.mark.parametrize("r", SERVED)
def test_status_rules_match_the_served_subresources(r: resources.Resource) -> None:
    s = kinds.for_resource(r)
    assert set(s.subresources) == replacing_subresources(r)
    for sub in s.subresources.values():
        assert isinstance(sub, strategy.SubresourceStrategy)


@pytest.mark.parametrize("r", LISTED)
def test_printer_columns_and_cells(r: resources.Resource) -> None:
    printer = kinds.for_resource(r).printer
    # Kubernetes registers a print handler for every built-in kind; so does minik8s.
    assert printer is not printing.DEFAULT_PRINTER
    assert printer.columns
    assert [c for c in printer.columns if c["format"] == "name"], "a Name column"
    for column in printer.columns:
        assert set(column) == {"name", "type", "format", "description", "priority"}
    obj = {"metadata": {"name": "x", "creationTimestamp": "2024-05-01T11:00:00Z"}}
    assert len(printer.cells(obj, NOW)) == len(printer.columns)


@pytest.mark.parametrize("r", SERVED)
def test_schema_and_conversion_hooks(r: resources.Resource) -> None:
    s = kinds.for_resource(r)
    assert s.schema(r).kinds[0].kind == r.kind
    obj = {"apiVersion": resources.storage_resource(r).api_version, "kind": r.kind, "metadata": {"name": "x"},
           "spec": {}}
    served = s.to_version(r, copy.deepcopy(obj))
    assert served["apiVersion"] == r.api_version
    assert s.from_version(r, served)["apiVersion"] == resources.storage_resource(r).api_version


@pytest.mark.parametrize("r", SERVED)
def test_name_rule(r: resources.Resource) -> None:
    s = kinds.for_resource(r)
    assert s.name_errors("web-1") == []
    # A slash is refused by every rule: RBAC names are path segments
    # (`system:node:n1`), the others DNS names.
    assert s.name_errors("web/1")
    if r.group != "rbac.authorization.k8s.io":
        assert s.name_errors("Web_1")


def test_generation_and_create_on_update_are_kubernetes_own() -> None:
    tracked = {r.plural for r in resources.RESOURCES if kinds.for_resource(r).track_generation}
    assert tracked == {"services", "replicationcontrollers", "deployments", "replicasets",
                       "horizontalpodautoscalers", "daemonsets", "jobs", "cronjobs"}
    creatable = {r.plural for r in resources.RESOURCES if kinds.for_resource(r).allow_create_on_update}
    assert creatable == {"endpoints", "events", "leases"}


def test_unknown_kind() -> None:
    widget = resources.Resource("example.com", "v1", "Widget", "widgets", True)
    with pytest.raises(KeyError):
        kinds.for_resource(widget)
    obj = {"metadata": {"name": "w"}}
    assert kinds.to_version(widget, obj) is obj and kinds.from_version(widget, obj) is obj


# ---------------------------------------------------------------------------
# what the strategies decide


def test_status_strategy_takes_status_and_annotations_only() -> None:
    old = {"metadata": {"name": "p", "labels": {"a": "1"}, "annotations": {"x": "1"}},
           "spec": {"nodeName": "n1"}, "status": {"phase": "Pending"}}
    kept = copy.deepcopy(old)
    new = {"metadata": {"name": "p", "labels": {"a": "2"}, "annotations": {"x": "2"}},
           "spec": {"nodeName": "n2"}, "status": {"phase": "Running"}}
    out = strategy.STATUS.prepare_for_update(POD, new, old)
    assert out["status"] == {"phase": "Running"}
    assert out["spec"] == {"nodeName": "n1"} and out["metadata"]["labels"] == {"a": "1"}
    assert out["metadata"]["annotations"] == {"x": "2"}
    assert old == kept  # the stored object (maybe the watch cache's) is never changed
    cleared = strategy.STATUS.prepare_for_update(POD, {"metadata": {"annotations": {}}}, old)
    assert "annotations" not in cleared["metadata"] and cleared["status"] == {}


def test_namespace_finalize_changes_only_spec_finalizers() -> None:
    old = {"metadata": {"name": "ns"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Terminating"}}
    new = {"metadata": {"name": "ns", "labels": {"a": "b"}}, "spec": {"finalizers": []},
           "status": {"phase": "Active"}}
    out = kinds.for_resource(NS).subresources["finalize"].prepare_for_update(NS, new, old)
    assert out == {"metadata": {"name": "ns"}, "spec": {"finalizers": []}, "status": {"phase": "Terminating"}}


def test_namespace_spec_finalizers_change_only_through_finalize_and_are_validated() -> None:
    # Found by the fuzz suite (tests/fuzz/test_fuzz_writes.py, Namespace `update` with
    # spec.finalizers=[""]): a PUT stored a finalizer name that a create refuses.
    old = {"metadata": {"name": "ns"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    new: Obj = {"metadata": {"name": "ns"}, "spec": {"finalizers": [""]}}
    kinds.for_resource(NS).prepare_for_update(NS, new, old)
    assert new["spec"] == {"finalizers": ["kubernetes"]} and new["status"] == {"phase": "Active"}
    finalize = kinds.for_resource(NS).subresources["finalize"]
    bad = finalize.prepare_for_update(NS, {"spec": {"finalizers": ["", "kubernetes"]}}, old)
    assert [c["field"] for c in finalize.validate_update(NS, bad, old).causes] == ["spec.finalizers[0]"] * 2
    good = finalize.prepare_for_update(NS, {"spec": {"finalizers": ["example.com/x"]}}, old)
    assert not finalize.validate_update(NS, good, old)


def test_main_resource_keeps_status_when_status_is_a_subresource() -> None:
    s = kinds.for_resource(DEPLOY)
    new: Obj = {"spec": {"replicas": 2}, "status": {"replicas": 9}}
    s.prepare_for_update(DEPLOY, new, {"spec": {}, "status": {"replicas": 1}})
    assert new["status"] == {"replicas": 1}
    s.prepare_for_update(DEPLOY, new, {"spec": {}})
    assert "status" not in new
    plain: Obj = {"data": {"a": "b"}, "status": {"whatever": 1}}  # no status subresource: nothing kept
    kinds.for_resource(CM).prepare_for_update(CM, plain, {"data": {}})
    assert plain["status"] == {"whatever": 1}


def test_status_on_create() -> None:
    pod: Obj = {"spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Running", "podIP": "1.2.3.4",
                                                                    "nominatedNodeName": "n2"}}
    kinds.for_resource(POD).prepare_for_create(POD, pod)
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort", "nominatedNodeName": "n2"}
    node: Obj = {"status": {"capacity": {"cpu": "2"}}}
    kinds.for_resource(NODE).prepare_for_create(NODE, node)
    assert node["status"] == {"capacity": {"cpu": "2"}}  # a node registers with its kubelet's status
    for r, expected in ((SVC, {"loadBalancer": {}}), (NS, {"phase": "Active"}), (DEPLOY, {}), (HPA2, {})):
        obj: Obj = {"status": {"junk": True}}
        kinds.for_resource(r).prepare_for_create(r, obj)
        assert obj["status"] == expected, r.plural


def test_service_leaving_node_port_drops_its_node_ports() -> None:
    old = {"spec": {"type": "NodePort", "externalTrafficPolicy": "Cluster",
                    "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080}]}}
    new = {"spec": {"type": "ClusterIP", "externalTrafficPolicy": "Cluster",
                    "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080}]}}
    kinds.for_resource(SVC).prepare_for_update(SVC, new, old)
    assert new["spec"] == {"type": "ClusterIP", "ports": [{"port": 80, "protocol": "TCP"}]}


@pytest.mark.parametrize("spec,status,options,expected", [
    ({}, {}, {}, 0),  # unscheduled: nothing runs it
    ({"nodeName": "n"}, {}, {}, 30),
    ({"nodeName": "n", "terminationGracePeriodSeconds": 5}, {}, {}, 5),
    ({"nodeName": "n", "terminationGracePeriodSeconds": 5}, {}, {"gracePeriodSeconds": 1}, 1),
    ({"nodeName": "n"}, {}, {"gracePeriodSeconds": -3}, 0),
    ({"nodeName": "n"}, {"phase": "Succeeded"}, {}, 0),
])
def test_pod_graceful_delete(spec: Obj, status: Obj, options: Obj, expected: int) -> None:
    assert kinds.for_resource(POD).graceful_delete_seconds({"spec": spec, "status": status}, options) == expected
    assert kinds.for_resource(DEPLOY).graceful_delete_seconds({"spec": spec}, options) is None


def test_namespace_deletion() -> None:
    s = kinds.for_resource(NS)
    with pytest.raises(errors.Forbidden):
        s.check_delete(NS, "kube-system")
    s.check_delete(NS, "team-a")
    obj: Obj = {"spec": {"finalizers": ["kubernetes"]}}
    assert s.blocks_removal(obj)
    s.prepare_for_delete(obj)
    assert obj["status"] == {"phase": "Terminating"}
    assert not s.blocks_removal({"spec": {"finalizers": []}})
    assert not kinds.for_resource(POD).blocks_removal(obj)


def test_scale_selector() -> None:
    assert kinds.for_resource(RC).scale_selector({"spec": {"selector": {"b": "2", "a": "1"}}}) == "a=1,b=2"
    sel = {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]}
    assert kinds.for_resource(DEPLOY).scale_selector({"spec": {"selector": sel}}) == "app=web,tier"


def test_hpa_versions() -> None:
    s = kinds.for_resource(HPA1)
    v2 = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
          "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3, "metrics": [
              {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                         "averageUtilization": 50}}}]}}
    assert s.to_version(HPA2, v2) is v2
    v1 = s.to_version(HPA1, v2)
    assert v1 == hpa_conversion.hpa_v2_to_v1(v2)
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 50
    assert s.from_version(HPA1, {k: v for k, v in v1.items() if k != "apiVersion"})["apiVersion"] == \
        "autoscaling/v2"
    with pytest.raises(errors.BadRequest):
        s.from_version(HPA1, dict(v1, apiVersion="autoscaling/v2beta2"))
    assert s.from_version(HPA1, "not an object") == "not an object"


def test_validation_reports_object_meta_before_the_kinds_rules() -> None:
    bad = {"metadata": {"name": "Bad_Name", "namespace": "default"}, "spec": {}}
    kinds.apply_defaults(DEPLOY, bad)
    with pytest.raises(errors.Invalid) as exc:
        kinds.validate(DEPLOY, bad)
    fields = [c["field"] for c in exc.value.status()["details"]["causes"]]
    assert fields[0] == "metadata.name" and "spec.selector" in fields


# ---------------------------------------------------------------------------
# the registry's generic verbs call the strategy


class Recording(strategy.Strategy):
    group, kind = "example.com", "Widget"
    track_generation = True
    subresources = {"status": strategy.STATUS}

    def __init__(self) -> None:
        self.calls: list[str] = []

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        self.calls.append(f"defaults old={old is not None} tolerate={settings.toleration_seconds}")
        obj.setdefault("spec", {}).setdefault("size", 1)

    def prepare_for_create(self, res: resources.Resource, obj: Obj) -> None:
        self.calls.append("prepare_for_create")
        obj["status"] = {"fresh": True}

    def prepare_for_update(self, res: resources.Resource, new: Obj, old: Obj) -> None:
        self.calls.append("prepare_for_update")
        super().prepare_for_update(res, new, old)

    def validate(self, res: resources.Resource, obj: Obj) -> strategy.Errors:
        self.calls.append("validate")
        errs = strategy.Errors()
        if obj["spec"]["size"] > 3:
            errs.invalid("spec.size", obj["spec"]["size"], "too big")
        return errs

    def validate_update(self, res: resources.Resource, obj: Obj, old: Obj) -> strategy.Errors:
        self.calls.append("validate_update")
        return self.validate(res, obj)

    def canonicalize(self, res: resources.Resource, obj: Obj) -> None:
        self.calls.append("canonicalize")


WIDGETS = resources.Resource("example.com", "v1", "Widget", "widgets", True,
                             subresources=(resources.Subresource("status", "Widget", ("get", "patch", "update")),))


@pytest.fixture
def widget_strategy(monkeypatch: pytest.MonkeyPatch) -> Recording:
    recording = Recording()
    monkeypatch.setitem(kinds.STRATEGIES, ("example.com", "Widget"), recording)
    return recording


def registry() -> registry_mod.Registry:
    # prepare_create/prepare_update/_mark_deleting touch neither etcd nor the allocator.
    return registry_mod.Registry(store=None, allocator=None, toleration_seconds=42)  # type: ignore[arg-type]


def test_registry_create_runs_the_strategy_in_order(widget_strategy: Recording,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    obj = registry().prepare_create(WIDGETS, "default", {"metadata": {"name": "w"}, "status": {"old": 1}})
    assert widget_strategy.calls == ["defaults old=False tolerate=42", "prepare_for_create", "validate",
                                     "canonicalize"]
    assert obj["status"] == {"fresh": True} and obj["spec"] == {"size": 1}
    assert obj["metadata"]["generation"] == 1
    monkeypatch.setattr(Recording, "track_generation", False)
    assert "generation" not in registry().prepare_create(WIDGETS, "default", {"metadata": {"name": "w"}})["metadata"]
    with pytest.raises(errors.Invalid):
        registry().prepare_create(WIDGETS, "default", {"metadata": {"name": "w"}, "spec": {"size": 4}})


def test_registry_update_runs_the_strategy(widget_strategy: Recording) -> None:
    old = registry().prepare_create(WIDGETS, "default", {"metadata": {"name": "w"}})
    widget_strategy.calls.clear()
    new = registry().prepare_update(WIDGETS, old, {"metadata": {"name": "w"}, "spec": {"size": 2},
                                                   "status": {"hacked": True}}, None)
    assert widget_strategy.calls == ["defaults old=True tolerate=42", "prepare_for_update", "validate_update",
                                     "validate", "canonicalize"]
    assert new["status"] == {"fresh": True}  # status belongs to /status
    assert new["metadata"]["generation"] == 2  # the spec changed
    widget_strategy.calls.clear()
    status = registry().prepare_update(WIDGETS, new, {"metadata": {"name": "w"}, "spec": {"size": 3},
                                                      "status": {"ready": True}}, "status")
    assert widget_strategy.calls == []  # /status goes to the status strategy only
    assert status["status"] == {"ready": True} and status["spec"] == {"size": 2}
    with pytest.raises(errors.MethodNotAllowed):
        registry().prepare_update(WIDGETS, new, {"metadata": {"name": "w"}}, "finalize")


def test_registry_delete_asks_the_strategy() -> None:
    reg = registry()
    pod = {"metadata": {"name": "p"}, "spec": {"nodeName": "n", "terminationGracePeriodSeconds": 7}}
    marked = reg._mark_deleting(POD, copy.deepcopy(pod), {})
    assert marked is not None and marked["metadata"]["deletionGracePeriodSeconds"] == 7
    assert reg._mark_deleting(POD, {"metadata": {"name": "p"}, "spec": {}}, {}) is None  # unscheduled: at once
    ns = {"metadata": {"name": "team"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    waiting = reg._mark_deleting(NS, copy.deepcopy(ns), {})
    assert waiting is not None and waiting["status"]["phase"] == "Terminating"
    assert not reg._ready_to_remove(NS, waiting)
    assert reg._mark_deleting(DEPLOY, {"metadata": {"name": "d"}, "spec": {}}, {}) is None
