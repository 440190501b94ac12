"""The kubectl verbs' pure parts: argument and manifest parsing, apply's patch, output layout."""
from __future__ import annotations

import copy
import datetime
import io
import json
import pathlib
from typing import Any

import click
import pytest
from click.testing import CliRunner

from minik8s.api import resources
from minik8s.cli.kubectl import verbs as kubectl
from minik8s.cli.kubectl import apply as kubectl_apply
from minik8s.cli.kubectl import args as kubectl_args
from minik8s.cli.kubectl import describe as kubectl_describe
from minik8s.cli.kubectl import describe_parts as kubectl_describe_parts
from minik8s.cli.kubectl import get as kubectl_get
from minik8s.cli.kubectl import cmdutil
from minik8s.cli.kubectl import printers
from minik8s.cli.main import cli
from minik8s.client import kubeconfig

LAST = kubectl_apply.LAST_APPLIED


def res(name: str) -> resources.Resource:
    found = resources.resolve(name)
    assert found is not None
    return found


# ---------------------------------------------------------------------------
# Positional arguments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("args, expected", [
    (["pods"], [("pods", ())]),
    (["po", "x", "y"], [("pods", ("x", "y"))]),
    (["pod", "x", "x"], [("pods", ("x", "x"))]),  # kubectl keeps repeats
    (["pods,svc"], [("pods", ()), ("services", ())]),
    (["svc,po,svc", "web"], [("services", ("web",)), ("pods", ("web",))]),
    (["deploy/web"], [("deployments", ("web",))]),
    (["deployments.apps/web", "deploy/api", "po/x"], [("deployments", ("web", "api")), ("pods", ("x",))]),
    (["Deployment/web"], [("deployments", ("web",))]),
    ([], []),
])
def test_parse_targets(args: list[str], expected: list[tuple[str, tuple[str, ...]]]) -> None:
    targets = kubectl_args.parse_targets(args)
    assert [(t.res.plural, t.names) for t in targets] == expected


def test_all_is_the_all_category_in_discovery_order() -> None:
    targets = kubectl_args.parse_targets(["all"])
    assert [t.res.plural for t in targets] == [r.plural for r in resources.preferred() if "all" in r.categories]
    assert [t.res.plural for t in targets][:2] == ["pods", "services"]
    assert all(not t.res.storage_version for t in targets)  # one HPA, the preferred version


@pytest.mark.parametrize("args, message", [
    (["foo"], 'the server doesn\'t have a resource type "foo"'),
    (["pods,foo"], 'the server doesn\'t have a resource type "foo"'),
    (["foo/x"], 'the server doesn\'t have a resource type "foo"'),
    (["pods", "pod/x"], "there is no need to specify a resource type as a separate argument"),
    (["pod/"], "arguments in resource/name form must have a single resource and name"),
])
def test_parse_targets_errors(args: list[str], message: str) -> None:
    with pytest.raises(kubectl_args.ArgumentError, match=message.replace("(", r"\(")):
        kubectl_args.parse_targets(args)


def test_label_arguments() -> None:
    assert kubectl_args.split_label_args(["pods", "x", "a=1", "b-"]) == (["pods", "x"], ["a=1", "b-"])
    with pytest.raises(kubectl_args.ArgumentError, match="all resources must be specified before label changes: y"):
        kubectl_args.split_label_args(["pods", "x", "a=1", "y"])
    assert kubectl_args.parse_label_changes(["a=1", "b=", "c-"]) == ({"a": "1", "b": ""}, ["c"])
    for spec, message in (("a=b=c", "invalid label spec: a=b=c"), ("a", "unknown label spec: a"),
                          ("a=@", 'invalid label value: "a=@"')):
        with pytest.raises(kubectl_args.ArgumentError, match=message):
            kubectl_args.parse_label_changes([spec])
    with pytest.raises(kubectl_args.ArgumentError, match="can not both modify and remove a label"):
        kubectl_args.parse_label_changes(["a=1", "a-"])


# ---------------------------------------------------------------------------
# Manifests
# ---------------------------------------------------------------------------

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers: [{{name: c, image: i}}]\n"


def test_multi_document_yaml_skips_empty_documents(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "two.yaml"
    f.write_text("---\n" + POD.format(name="a") + "---\n# only a comment\n---\n" + POD.format(name="b"))
    manifests = kubectl_args.load_manifests([str(f)])
    assert [m.name for m in manifests] == ["a", "b"]
    assert {m.source for m in manifests} == {str(f)}


def test_directory_takes_manifest_extensions_sorted_and_recurses_only_with_r(tmp_path: pathlib.Path) -> None:
    (tmp_path / "b.yaml").write_text(POD.format(name="b"))
    (tmp_path / "a.yml").write_text(POD.format(name="a"))
    (tmp_path / "c.json").write_text(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "c"}}))
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.yaml").write_text(POD.format(name="d"))
    assert [m.name for m in kubectl_args.load_manifests([str(tmp_path)])] == ["a", "b", "c"]
    assert [m.name for m in kubectl_args.load_manifests([str(tmp_path)], recursive=True)] == ["a", "b", "c", "d"]


def test_stdin_and_concatenated_json() -> None:
    text = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j1"}}) + "\n" + \
        json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j2"}})
    manifests = kubectl_args.load_manifests(["-"], stdin=io.StringIO(text))
    assert [(m.name, m.source) for m in manifests] == [("j1", "STDIN"), ("j2", "STDIN")]


def test_lists_are_flattened() -> None:
    doc = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}},
        {"apiVersion": "v1", "kind": "PodList", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b"}}]},
    ]}
    assert [o["metadata"]["name"] for o in kubectl_args.parse_documents(json.dumps(doc), "f")] == ["a", "b"]


@pytest.mark.parametrize("text, message", [
    ("apiVersion: v1\nkind: Pod\nmetadata:\n  labels: [a\n",
     r"^error parsing f.yaml: error converting YAML to JSON: yaml: line \d+: "),
    ("apiVersion: v1\nmetadata: {name: x}\n", r'^error validating "f.yaml": error validating data: kind not set$'),
    ("metadata: {name: x}\n",
     r'^error validating "f.yaml": error validating data: \[apiVersion not set, kind not set\]$'),
    ("- a\n- b\n", r'^error validating "f.yaml": error validating data: the document is a list, not an object$'),
    ('{"apiVersion": "v1", "kind": ', r"^error parsing f.yaml: "),
])
def test_bad_documents_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(kubectl_args.ArgumentError, match=message) as info:
        kubectl_args.parse_documents(text, "f.yaml")
    assert "\n" not in str(info.value)


def test_missing_path_and_unknown_kind(tmp_path: pathlib.Path) -> None:
    with pytest.raises(kubectl_args.ArgumentError, match=r'^the path "/nope.yaml" does not exist$'):
        kubectl_args.load_manifests(["/nope.yaml"])
    m = kubectl_args.Manifest({"apiVersion": "v1", "kind": "Foo", "metadata": {"name": "x"}}, "f.yaml")
    with pytest.raises(kubectl_args.ArgumentError) as info:
        kubectl_args.manifest_resource(m)
    assert str(info.value) == ('resource mapping not found for name: "x" namespace: "" from "f.yaml": '
                               'no matches for kind "Foo" in version "v1"')
    m = kubectl_args.Manifest({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler"}, "f")
    assert kubectl_args.manifest_resource(m).version == "v1"


# ---------------------------------------------------------------------------
# apply: the annotation and the three-way patch
# ---------------------------------------------------------------------------


def test_last_applied_is_compact_sorted_html_safe_json_with_a_newline() -> None:
    obj = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "x", "namespace": "d",
                                                           "annotations": {"note": "<a> & b", LAST: "old"}}}
    modified = kubectl_apply.modified_configuration(obj)
    assert modified["metadata"]["annotations"][LAST] == (
        '{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"note":"\\u003ca\\u003e \\u0026 b"},'
        '"name":"x","namespace":"d"}}\n')
    assert modified["metadata"]["annotations"]["note"] == "<a> & b"
    assert obj["metadata"]["annotations"][LAST] == "old"  # the input is not modified


def test_last_applied_of_an_object_without_annotations_has_an_empty_map() -> None:
    modified = kubectl_apply.modified_configuration({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}})
    assert modified["metadata"]["annotations"][LAST] == \
        '{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"name":"x"}}\n'
    assert kubectl_apply.original_configuration(modified) == {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"annotations": {}, "name": "x"}}
    assert kubectl_apply.original_configuration({"metadata": {}}) is None


def deployment(image: str = "web:1", *, replicas: int | None = 2, containers: list[dict[str, Any]] | None = None,
               labels: dict[str, str] | None = None, strategy: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers or [
            {"name": "web", "image": image, "ports": [{"containerPort": 80}],
             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
            {"name": "side", "image": "busybox:1"}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    if strategy is not None:
        spec["strategy"] = strategy
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": labels or {"app": "web"}}, "spec": spec}


def live_of(config: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """What the server holds after applying `config`: defaults and status added."""
    live = copy.deepcopy(kubectl_apply.modified_configuration(config))
    live["metadata"].update(uid="u-1", resourceVersion="7", generation=1, creationTimestamp="2024-05-01T12:00:00Z")
    spec = live["spec"]
    spec.setdefault("replicas", 1)
    spec.setdefault("strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    spec.update(revisionHistoryLimit=10, progressDeadlineSeconds=600)
    for c in spec["template"]["spec"]["containers"]:
        c.update(imagePullPolicy="IfNotPresent", terminationMessagePath="/dev/termination-log")
        for p in c.get("ports", []):
            p["protocol"] = "TCP"
    spec["template"]["spec"]["restartPolicy"] = "Always"
    live["status"] = {"replicas": 2, "conditions": [{"type": "Available", "status": "True"}]}
    for path, value in changes.items():
        target = live
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return live


def annotation(config: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"annotations": {LAST: kubectl_apply.modified_configuration(config)["metadata"]["annotations"][LAST]}}}


D1 = deployment()
# Verified against kubectl 1.32's PATCH body for the same three documents.
D2 = deployment(
    "web:2", replicas=3, strategy={"type": "Recreate"}, labels={"app": "web"},
    containers=[{"name": "web", "image": "web:2", "ports": [{"containerPort": 80}, {"containerPort": 443}],
                 "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}])
D1_WITH_TIER = deployment(labels={"app": "web", "tier": "fe"})

APPLY_CASES = [
    pytest.param(D1, D1, live_of(D1), {}, id="unchanged"),
    pytest.param(D1, D1, live_of(D1, spec__replicas=5),
                 {"spec": {"replicas": 2}}, id="config-owned-field-drifted-live"),
    pytest.param(deployment(replicas=None), deployment(replicas=None), live_of(deployment(replicas=None),
                                                                               spec__replicas=5),
                 {}, id="field-not-in-config-is-left-to-others"),
    pytest.param(D1, deployment("web:2"), live_of(D1), {
        **annotation(deployment("web:2")),
        "spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "web"}, {"name": "side"}],
                                       "containers": [{"image": "web:2", "name": "web"}]}}}}, id="image-change"),
    pytest.param(D1_WITH_TIER, D1, live_of(D1_WITH_TIER), {
        "metadata": {**annotation(D1)["metadata"], "labels": {"tier": None}}}, id="removed-label-is-nulled"),
    pytest.param(D1_WITH_TIER, D2, live_of(D1_WITH_TIER), {
        "metadata": {**annotation(D2)["metadata"], "labels": {"tier": None}},
        "spec": {
            "replicas": 3,
            "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
            "template": {"spec": {
                "$setElementOrder/containers": [{"name": "web"}],
                "containers": [
                    {"$setElementOrder/env": [{"name": "B"}, {"name": "C"}],
                     "$setElementOrder/ports": [{"containerPort": 80}, {"containerPort": 443}],
                     "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}, {"$patch": "delete", "name": "A"}],
                     "image": "web:2", "name": "web", "ports": [{"containerPort": 443}]},
                    {"$patch": "delete", "name": "side"}]}}}}, id="kubectl-verified-merge-lists-retain-keys"),
    pytest.param(None, D1, live_of(D1, metadata__annotations={}), {
        **annotation(D1)}, id="no-last-applied-deletes-nothing"),
]


@pytest.mark.parametrize("last, new, live, expected", APPLY_CASES)
def test_three_way_patch(last: dict[str, Any] | None, new: dict[str, Any], live: dict[str, Any],
                         expected: dict[str, Any]) -> None:
    if last is not None:
        live["metadata"]["annotations"][LAST] = kubectl_apply.modified_configuration(last)["metadata"]["annotations"][LAST]
    original = kubectl_apply.original_configuration(live)
    patch = kubectl_apply.three_way_patch(original, kubectl_apply.modified_configuration(new), live, "Deployment")
    assert patch == expected
    # List order is part of what kubectl sends.
    assert json.dumps(patch, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_three_way_patch_replaces_lists_without_a_merge_strategy() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "i", "command": ["sleep", "1"]}]}}
    changed = copy.deepcopy(pod)
    changed["spec"]["containers"][0]["command"] = ["sleep", "2"]
    live = kubectl_apply.modified_configuration(pod)
    patch = kubectl_apply.three_way_patch(kubectl_apply.original_configuration(live),
                                          kubectl_apply.modified_configuration(changed), live, "Pod")
    assert patch["spec"] == {"$setElementOrder/containers": [{"name": "c"}],
                             "containers": [{"command": ["sleep", "2"], "name": "c"}]}


def test_three_way_patch_needs_merge_keys() -> None:
    bad = deployment(containers=[{"image": "no-name"}])
    with pytest.raises(kubectl_apply.PatchError, match="does not contain declared merge key: name"):
        kubectl_apply.three_way_patch(None, bad, live_of(D1), "Deployment")


# ---------------------------------------------------------------------------
# label
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("labels, add, remove, overwrite, patch, verdict", [
    ({"a": "1"}, {"b": "2"}, [], False, {"b": "2"}, "labeled"),
    (None, {"b": "2"}, [], False, {"b": "2"}, "labeled"),
    ({"a": "1"}, {"a": "2"}, [], True, {"a": "2"}, "labeled"),
    ({"a": "1"}, {"a": "1"}, [], True, None, "not labeled"),
    ({"a": "1", "b": "2"}, {}, ["a"], False, {"a": None}, "unlabeled"),
    ({"a": "1", "b": "2"}, {}, ["a"], True, {"a": None}, "labeled"),
    ({"a": "1"}, {}, ["zz"], False, None, "not labeled"),
])
def test_label_change(labels: dict[str, str] | None, add: dict[str, str], remove: list[str], overwrite: bool,
                      patch: dict[str, Any] | None, verdict: str) -> None:
    obj = {"metadata": {"name": "x", **({"labels": labels} if labels is not None else {})}}
    result, got = kubectl.label_change(obj, add, remove, overwrite)
    assert got == verdict
    assert result == (None if patch is None else {"metadata": {"labels": patch}})


def test_label_refuses_to_overwrite() -> None:
    with pytest.raises(kubectl_args.ArgumentError) as info:
        kubectl.label_change({"metadata": {"labels": {"env": "prod"}}}, {"env": "prod"}, [], False)
    assert str(info.value) == "'env' already has a value (prod), and --overwrite is false"


# ---------------------------------------------------------------------------
# get output
# ---------------------------------------------------------------------------


def col(name: str, priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": "string", "format": fmt, "description": "", "priority": priority}


def table(*rows: list[str], defs: bool = True) -> dict[str, Any]:
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {},
            "columnDefinitions": [col("Name", fmt="name"), col("Status"), col("Age"), col("IP", 1)] if defs else [],
            "rows": [{"cells": list(r), "object": {"metadata": {"name": r[0], "namespace": "ns1"}}} for r in rows]}


def test_watch_rows_keep_the_first_tables_widths_and_grow() -> None:
    printer = kubectl_get.TablePrinter(wide=False, no_headers=False, namespace_column=False, show_labels=False)
    first = table(["web-1", "Running", "5m", "10.0.0.1"], ["db", "Pending", "1s", ""])
    assert printer.render(first) == printers.format_table(first)
    assert printer.render(table(["db", "Running", "2s", ""], defs=False)) == "db      Running   2s\n"
    assert printer.render(table(["a-much-longer-name", "Running", "3s", ""], defs=False)) == \
        "a-much-longer-name   Running   3s\n"
    assert printer.render(table(["db", "Running", "4s", ""], defs=False)) == "db                   Running   4s\n"


def test_watch_prints_the_header_with_the_first_row_when_the_list_was_empty() -> None:
    printer = kubectl_get.TablePrinter(wide=True, no_headers=False, namespace_column=True, show_labels=False)
    assert printer.render(table()) == ""
    assert printer.render(table(["x", "Pending", "0s", "<none>"])) == (
        "NAMESPACE   NAME   STATUS    AGE   IP\n"
        "ns1         x      Pending   0s    <none>\n")
    assert printer.render(table(["x", "Running", "1s", "10.1.1.1"], defs=False)) == \
        "ns1         x      Running   1s    10.1.1.1\n"


def test_plain_writer_matches_printers_format_table() -> None:
    t = table(["web-1", "Running", "5m", "10.0.0.1"], ["a-long-name", "CrashLoopBackOff", "3d", ""])
    for kw in ({"wide": True}, {"wide": False, "no_headers": True}, {"namespace_column": True, "show_labels": True}):
        args = {"wide": False, "no_headers": False, "namespace_column": False, "show_labels": False, **kw}
        lines = kubectl_get.table_lines(t, **args)
        assert kubectl_get.RememberingTabWriter().flush(lines) == printers.format_table(t, **args)


def test_objects_render_as_a_list_unless_one_was_named() -> None:
    pod = {"metadata": {"name": "x"}}
    single = kubectl_get.render_objects("json", [(res("pods"), pod)], single=True)
    assert json.loads(single) == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}
    listed = json.loads(kubectl_get.render_objects("json", [(res("pods"), pod)], single=False))
    assert listed == {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
                      "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}]}
    assert kubectl_get.render_objects("yaml", [], single=False) == \
        'apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n'
    assert kubectl_get.render_objects("name", [(res("deploy"), {"metadata": {"name": "web"}}),
                                               (res("po"), pod)], single=False) == "deployment.apps/web\npod/x\n"


# ---------------------------------------------------------------------------
# describe
# ---------------------------------------------------------------------------


def test_tabwriter_blocks_like_go() -> None:
    lines = [["Name:", "x"], ["Labels:", "a=1"], ["", "b=2"], ["Containers:"], ["  c:"], ["    Image:", "i"]]
    assert kubectl_describe_parts.tabwrite(lines) == (
        "Name:    x\nLabels:  a=1\n         b=2\nContainers:\n  c:\n    Image:  i")


def test_describe_pod_layout() -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    ago = (now - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pod = {"metadata": {"name": "x", "namespace": "default", "labels": {"app": "a", "tier": "b"},
                        "annotations": {LAST: "{}"}},
           "spec": {"containers": [{"name": "main", "image": "busybox:1", "command": ["sleep", "3600"],
                                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                    "resources": {"limits": {"cpu": "100m"}},
                                    "env": [{"name": "FOO", "value": "bar"}],
                                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080,
                                                                   "scheme": "HTTP"}}}]},
           "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False"}]}}
    events = [{"type": "Warning", "reason": "FailedScheduling", "message": "no nodes ", "count": 3,
               "firstTimestamp": ago, "lastTimestamp": ago, "source": {"component": "default-scheduler"}}]
    text = kubectl_describe.describe_pod(pod, events)
    # The layout kubectl 1.32 prints for the same pod and event (checked side by side).
    assert text == (
        "Name:         x\n"
        "Namespace:    default\n"
        "Node:         <none>\n"
        "Labels:       app=a\n"
        "              tier=b\n"
        "Annotations:  <none>\n"
        "Status:       Pending\n"
        "IP:           \n"
        "IPs:          <none>\n"
        "Containers:\n"
        "  main:\n"
        "    Image:      busybox:1\n"
        "    Port:       80/TCP\n"
        "    Host Port:  0/TCP\n"
        "    Command:\n"
        "      sleep\n"
        "      3600\n"
        "    Limits:\n"
        "      cpu:      100m\n"
        "    Readiness:  http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3\n"
        "    Environment:\n"
        "      FOO:   bar\n"
        "    Mounts:  <none>\n"
        "Conditions:\n"
        "  Type           Status\n"
        "  PodScheduled   False \n"
        "Volumes:         <none>\n"
        "QoS Class:       Burstable\n"
        "Node-Selectors:  <none>\n"
        "Tolerations:     <none>\n"
        "Events:\n"
        "  Type     Reason            Age              From               Message\n"
        "  ----     ------            ----             ----               -------\n"
        "  Warning  FailedScheduling  5m (x3 over 5m)  default-scheduler  no nodes\n")


def test_describe_config_map_and_secret_like_kubectl() -> None:
    cm = {"metadata": {"name": "cm2", "namespace": "z"}, "data": {"b": "multi\nline", "a": "x"},
          "binaryData": {"bin": "aGVsbG8="}}
    assert kubectl_describe.describe_config_map(cm, []) == (
        "Name:         cm2\nNamespace:    z\nLabels:       <none>\nAnnotations:  <none>\n\n"
        "Data\n====\na:\n----\nx\n\nb:\n----\nmulti\nline\n\n\nBinaryData\n====\nbin: 5 bytes\n\n"
        "Events:  <none>\n")
    secret = {"metadata": {"name": "sec", "namespace": "z"}, "type": "Opaque",
              "data": {"pw": "aGVsbG8=", "a": "eA=="}}
    assert kubectl_describe.describe_secret(secret) == (
        "Name:         sec\nNamespace:    z\nLabels:       <none>\nAnnotations:  <none>\n\n"
        "Type:  Opaque\n\nData\n====\na:   1 bytes\npw:  5 bytes\n")


@pytest.mark.parametrize("containers, qos", [
    ([{"name": "c"}], "BestEffort"),
    ([{"name": "c", "resources": {"requests": {"cpu": "1"}}}], "Burstable"),
    ([{"name": "c", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}], "Guaranteed"),
    ([{"name": "c", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}}],
     "Burstable"),
])
def test_pod_qos(containers: list[dict[str, Any]], qos: str) -> None:
    assert kubectl_describe.pod_qos({"spec": {"containers": containers}}) == qos


def test_smart_labels_for_generic_describe() -> None:
    assert kubectl_describe._smart_label("creationTimestamp") == "Creation Timestamp"
    assert kubectl_describe._smart_label("apiVersion") == "API Version"
    assert kubectl_describe._smart_label("holderIdentity") == "Holder Identity"
    assert kubectl_describe._smart_label("a.b") == "a.b"


# ---------------------------------------------------------------------------
# The commands without a server: input errors, flags, connection
# ---------------------------------------------------------------------------


def invoke(args: list[str], **kw: Any) -> Any:
    # No kubeconfig: input errors must come out before any connection is set up.
    return CliRunner().invoke(cli, args, catch_exceptions=False, env={"KUBECONFIG": "/nonexistent/kubeconfig"}, **kw)


@pytest.mark.parametrize("args, message", [
    (["get", "foo"], 'error: the server doesn\'t have a resource type "foo"\n'),
    (["get", "pods", "-o", "jsonpath"], 'error: unable to match a printer suitable for the output format '
                                         '"jsonpath", allowed formats are: json,name,wide,yaml\n'),
    (["get", "pods", "x", "-l", "a=b"], "error: name cannot be provided when a selector is specified\n"),
    (["apply"], "error: must specify one of -f and -k\n"),
    (["apply", "-f", "/nope.yaml"], 'error: the path "/nope.yaml" does not exist\n'),
    (["delete"], "error: You must provide one or more resources by argument or filename.\n"),
    (["delete", "pods", "x", "--now", "--grace-period=3"], "error: --now and --grace-period cannot be specified "
                                                             "together\n"),
    (["label", "pods", "x"], "error: at least one label update is required\n"),
    (["scale", "deploy/web"], 'error: required flag(s) "replicas" not set\n'),
])
def test_input_errors_are_one_line(args: list[str], message: str) -> None:
    result = invoke(args)
    assert result.exit_code == 1
    assert result.stderr == message
    assert result.stdout == ""


def test_bad_yaml_is_one_line_and_nothing_is_sent(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n")
    # No server at this address: the file is rejected before any request.
    result = invoke(["apply", "-f", str(f), "-s", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: error parsing {f}: error converting YAML to JSON: yaml: line ")
    assert result.stderr.count("\n") == 1


def test_boolean_flags_accept_kubectl_spelling() -> None:
    seen: list[tuple[bool, bool]] = []

    @click.command(cls=cmdutil.KubectlCommand)
    @click.option("--wait/--no-wait", default=True)
    @click.option("--overwrite", is_flag=True)
    @click.argument("args", nargs=-1)
    def cmd(wait: bool, overwrite: bool, args: tuple[str, ...]) -> None:
        seen.append((wait, overwrite))

    for argv, expected in ((["--wait=false"], (False, False)), (["--wait=true", "--overwrite=true"], (True, True)),
                           (["--overwrite=false", "x"], (True, False)), (["--no-wait"], (False, False))):
        CliRunner().invoke(cmd, argv, catch_exceptions=False)
        assert seen[-1] == expected


def test_connection_flags_override_the_kubeconfig(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kc = tmp_path / "config"
    kubeconfig.write_context(kc, "ctx", "http://10.0.0.1:6443", token="t0", namespace="team")
    monkeypatch.setenv("KUBECONFIG", str(kc))
    assert cmdutil.Connection().resolve() == ("http://10.0.0.1:6443", "t0", "team")
    assert cmdutil.Connection(server="http://h:1", token="t1", namespace="n").resolve() == ("http://h:1", "t1", "n")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    assert cmdutil.Connection(server="http://h:1").resolve() == ("http://h:1", None, "default")
    with pytest.raises(cmdutil.KubectlError, match="no kubeconfig found"):
        cmdutil.Connection().resolve()


def test_every_option_has_an_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    # The output format comes from MINIK8S_GET_OUTPUT; an invalid one proves it was read.
    monkeypatch.setenv("MINIK8S_GET_OUTPUT", "bogus")
    result = invoke(["get", "pods"])
    assert result.exit_code == 1 and '"bogus"' in result.stderr
    config = tmp_path / "m.yaml"
    config.write_text("get:\n  output: fromfile\n")
    monkeypatch.delenv("MINIK8S_GET_OUTPUT")
    result = invoke(["--config", str(config), "get", "pods"])
    assert result.exit_code == 1 and '"fromfile"' in result.stderr
