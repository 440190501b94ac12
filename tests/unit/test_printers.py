"""The CLI's printers: exact text, as kubectl prints the same input."""
from __future__ import annotations

import datetime
from typing import Any

import pytest

from minik8s.api import kinds
from minik8s.api import resources
from minik8s.cli.kubectl import printers

NOW = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def col(name: str, priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": "string", "format": fmt, "description": "", "priority": priority}


def meta_row(cells: list[Any], namespace: str = "default", labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": cells[0], "namespace": namespace}
    if labels is not None:
        metadata["labels"] = labels
    return {"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                       "metadata": metadata}}


POD_TABLE = {
    "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": "9"},
    "columnDefinitions": [col("Name", fmt="name"), col("Ready"), col("Status"), col("Restarts"), col("Age"),
                          col("IP", 1), col("Node", 1), col("Nominated Node", 1), col("Readiness Gates", 1)],
    "rows": [
        meta_row(["web-1", "1/1", "Running", "0", "5m", "10.244.1.5", "node-1", "<none>", "<none>"],
                 labels={"app": "web", "pod-template-hash": "5d78cd5c6f"}),
        meta_row(["crash-abc", "0/1", "CrashLoopBackOff", "12 (2m30s ago)", "3d", "10.244.2.9", "node-2",
                  "<none>", "<none>"], namespace="kube-system"),
    ],
}


# ---------------------------------------------------------------------------
# format_table
# ---------------------------------------------------------------------------


def test_default_columns_aligned_like_tabwriter() -> None:
    assert printers.format_table(POD_TABLE) == (
        "NAME        READY   STATUS             RESTARTS         AGE\n"
        "web-1       1/1     Running            0                5m\n"
        "crash-abc   0/1     CrashLoopBackOff   12 (2m30s ago)   3d\n"
    )


def test_wide_shows_priority_columns() -> None:
    assert printers.format_table(POD_TABLE, wide=True) == (
        "NAME        READY   STATUS             RESTARTS         AGE   IP           NODE     NOMINATED NODE   READINESS GATES\n"
        "web-1       1/1     Running            0                5m    10.244.1.5   node-1   <none>           <none>\n"
        "crash-abc   0/1     CrashLoopBackOff   12 (2m30s ago)   3d    10.244.2.9   node-2   <none>           <none>\n"
    )


def test_no_headers() -> None:
    assert printers.format_table(POD_TABLE, no_headers=True) == (
        "web-1       1/1   Running            0                5m\n"
        "crash-abc   0/1   CrashLoopBackOff   12 (2m30s ago)   3d\n"
    )


def test_namespace_column_and_labels() -> None:
    assert printers.format_table(POD_TABLE, namespace_column=True, show_labels=True) == (
        "NAMESPACE     NAME        READY   STATUS             RESTARTS         AGE   LABELS\n"
        "default       web-1       1/1     Running            0                5m    app=web,pod-template-hash=5d78cd5c6f\n"
        "kube-system   crash-abc   0/1     CrashLoopBackOff   12 (2m30s ago)   3d    <none>\n"
    )


def test_kind_prefix_names_like_get_all() -> None:
    table = {
        "columnDefinitions": [col("Name", fmt="name"), col("Ready"), col("Up-to-date"), col("Available"), col("Age"),
                              col("Containers", 1), col("Images", 1), col("Selector", 1)],
        "rows": [meta_row(["web", "3/3", 3, 3, "10m", "nginx", "nginx:1.16", "app=web"])],
    }
    assert printers.format_table(table, kind_prefix="deployment.apps") == (
        "NAME                  READY   UP-TO-DATE   AVAILABLE   AGE\n"
        "deployment.apps/web   3/3     3            3           10m\n"
    )


def test_kind_prefix_uses_the_name_format_column() -> None:
    table = {"columnDefinitions": [col("Last Seen"), col("Message"), col("Name", 1, fmt="name")],
             "rows": [{"cells": ["5s", "hi", "ev1"]}]}
    assert printers.format_table(table, wide=True, kind_prefix="event") == (
        "LAST SEEN   MESSAGE   NAME\n"
        "5s          hi        event/ev1\n"
    )


def test_empty_table_prints_nothing() -> None:
    table = {"columnDefinitions": POD_TABLE["columnDefinitions"], "rows": []}
    assert printers.format_table(table) == ""
    assert printers.format_table(table, no_headers=True) == ""


def test_min_width_and_unpadded_last_column() -> None:
    table = {"columnDefinitions": [col("A"), col("B"), col("C")], "rows": [{"cells": ["x", "y", ""]}]}
    # Every column is at least 6 wide; the last cell is never padded, but an
    # empty last cell leaves the previous column's padding behind, as in Go.
    assert printers.format_table(table) == (
        "A     B     C\n"
        "x     y     \n"
    )


def test_rows_without_objects_get_empty_namespace_and_labels() -> None:
    table = {"columnDefinitions": [col("Name", fmt="name"), col("Age")], "rows": [{"cells": ["a", "1d"]}]}
    assert printers.format_table(table, namespace_column=True, show_labels=True) == (
        "NAMESPACE   NAME   AGE   LABELS\n"
        "            a      1d    \n"
    )


def test_cell_values_print_like_go() -> None:
    table = {"columnDefinitions": [col("Name"), col("Int"), col("Bool"), col("Nil"), col("Float"), col("Big"),
                                   col("Msg")],
             "rows": [{"cells": ["n", 3, True, None, 1.5, 1e6, "first line\nsecond\x1b[31m"]},
                      {"cells": ["m", 0, False, None, 0.25, 2.0, "\x1b[31mred"]}]}
    assert printers.format_table(table) == (
        "NAME   INT   BOOL    NIL   FLOAT   BIG     MSG\n"
        "n      3     true          1.5     1e+06   first line...\n"
        "m      0     false         0.25    2       ^[[31mred\n"
    )


def test_extra_cells_beyond_definitions_are_dropped() -> None:
    table = {"columnDefinitions": [col("Name"), col("Age")], "rows": [{"cells": ["a", "1d", "surprise"]}]}
    assert printers.format_table(table) == "NAME   AGE\na      1d\n"


def test_server_tables_print_like_kubectl_get_services() -> None:
    services = [
        {"metadata": {"name": "kubernetes", "namespace": "default", "creationTimestamp": "2024-04-26T12:00:00Z"},
         "spec": {"type": "ClusterIP", "clusterIPs": ["10.96.0.1"], "ports": [{"port": 443, "protocol": "TCP"}]}},
        {"metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2024-05-01T11:58:00Z"},
         "spec": {"type": "NodePort", "clusterIPs": ["10.96.12.7"], "selector": {"app": "web"},
                  "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30001}]}},
    ]
    svc = resources.resolve("svc")
    assert svc is not None
    table = kinds.to_table(svc, services, list_meta={"resourceVersion": "5"}, now=NOW)
    assert printers.format_table(table, wide=True) == (
        "NAME         TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)        AGE   SELECTOR\n"
        "kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP        5d    <none>\n"
        "web          NodePort    10.96.12.7   <none>        80:30001/TCP   2m    app=web\n"
    )


def test_server_tables_print_like_kubectl_get_nodes() -> None:
    node = {"metadata": {"name": "master", "creationTimestamp": "2024-04-29T03:00:00Z",
                         "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "nodeInfo": {"kubeletVersion": "v1.32.0"}}}
    nodes = resources.resolve("nodes")
    assert nodes is not None
    assert printers.format_table(kinds.to_table(nodes, [node], now=NOW)) == (
        "NAME     STATUS   ROLES           AGE    VERSION\n"
        "master   Ready    control-plane   2d9h   v1.32.0\n"
    )


def test_human_age_is_the_tables_one() -> None:
    assert printers.human_age("2024-05-01T11:59:00Z", NOW) == "60s"


# ---------------------------------------------------------------------------
# format_name
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("plural,expected", [
    ("pods", "pod/x"),
    ("deployments", "deployment.apps/x"),
    ("hpa", "horizontalpodautoscaler.autoscaling/x"),
    ("leases", "lease.coordination.k8s.io/x"),
    ("endpoints", "endpoints/x"),
])
def test_format_name(plural: str, expected: str) -> None:
    res = resources.resolve(plural)
    assert res is not None
    assert printers.format_name(res, {"metadata": {"name": "x"}}) == expected


# ---------------------------------------------------------------------------
# format_json
# ---------------------------------------------------------------------------


def test_json_is_sorted_four_space_indented_with_html_escapes() -> None:
    obj = {"kind": "Pod", "apiVersion": "v1",
           "metadata": {"name": "x", "labels": {}, "annotations": {"note": "<b> & é\u2028"}},
           "spec": {"containers": [{"name": "c", "args": [], "ports": [{"containerPort": 80}]}],
                    "activeDeadlineSeconds": None, "hostNetwork": False},
           "status": {"ratio": 0.5, "whole": 2.0, "tiny": 1e-7, "huge": 1e21, "small": 0.00001}}
    assert printers.format_json(obj) == (
        '{\n'
        '    "apiVersion": "v1",\n'
        '    "kind": "Pod",\n'
        '    "metadata": {\n'
        '        "annotations": {\n'
        '            "note": "\\u003cb\\u003e \\u0026 é\\u2028"\n'
        '        },\n'
        '        "labels": {},\n'
        '        "name": "x"\n'
        '    },\n'
        '    "spec": {\n'
        '        "activeDeadlineSeconds": null,\n'
        '        "containers": [\n'
        '            {\n'
        '                "args": [],\n'
        '                "name": "c",\n'
        '                "ports": [\n'
        '                    {\n'
        '                        "containerPort": 80\n'
        '                    }\n'
        '                ]\n'
        '            }\n'
        '        ],\n'
        '        "hostNetwork": false\n'
        '    },\n'
        '    "status": {\n'
        '        "huge": 1e+21,\n'
        '        "ratio": 0.5,\n'
        '        "small": 0.00001,\n'
        '        "tiny": 1e-7,\n'
        '        "whole": 2\n'
        '    }\n'
        '}\n'
    )


def test_json_escapes_control_characters_like_go() -> None:
    assert printers.format_json({"s": "a\"b\\c\nd\te\x01\b\f"}) == '{\n    "s": "a\\"b\\\\c\\nd\\te\\u0001\\b\\f"\n}\n'


def test_json_of_a_scalar_and_empty_list() -> None:
    assert printers.format_json([]) == "[]\n"
    assert printers.format_json("x") == '"x"\n'


# ---------------------------------------------------------------------------
# format_yaml
# ---------------------------------------------------------------------------


def test_yaml_of_a_deployment() -> None:
    last_applied = '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"}}\n'
    deploy = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "generation": 2, "resourceVersion": "1042",
                     "uid": "3f1e6f8a-7c1b-4b6e-9d0a-5a1c2b3d4e5f",
                     "creationTimestamp": "2024-05-01T10:00:00Z",
                     "labels": {"app": "web"},
                     "annotations": {"deployment.kubernetes.io/revision": "1",
                                     "kubectl.kubernetes.io/last-applied-configuration": last_applied}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx:1.16", "resources": {},
                                                       "args": ["--port", "80"], "env": []}]}},
                 "strategy": {"type": "RollingUpdate",
                              "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}},
        "status": {"conditions": [{"type": "Available", "status": "True",
                                   "lastTransitionTime": "2024-05-01T10:00:05Z",
                                   "message": "Deployment has minimum availability."}],
                   "readyReplicas": 3},
    }
    assert printers.format_yaml(deploy) == (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  annotations:\n"
        "    deployment.kubernetes.io/revision: \"1\"\n"
        "    kubectl.kubernetes.io/last-applied-configuration: |\n"
        "      {\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"}}\n"
        "  creationTimestamp: \"2024-05-01T10:00:00Z\"\n"
        "  generation: 2\n"
        "  labels:\n"
        "    app: web\n"
        "  name: web\n"
        "  namespace: default\n"
        "  resourceVersion: \"1042\"\n"
        "  uid: 3f1e6f8a-7c1b-4b6e-9d0a-5a1c2b3d4e5f\n"
        "spec:\n"
        "  replicas: 3\n"
        "  selector:\n"
        "    matchLabels:\n"
        "      app: web\n"
        "  strategy:\n"
        "    rollingUpdate:\n"
        "      maxSurge: 25%\n"
        "      maxUnavailable: 25%\n"
        "    type: RollingUpdate\n"
        "  template:\n"
        "    metadata:\n"
        "      creationTimestamp: null\n"
        "      labels:\n"
        "        app: web\n"
        "    spec:\n"
        "      containers:\n"
        "      - args:\n"
        "        - --port\n"
        "        - \"80\"\n"
        "        env: []\n"
        "        image: nginx:1.16\n"
        "        name: nginx\n"
        "        resources: {}\n"
        "status:\n"
        "  conditions:\n"
        "  - lastTransitionTime: \"2024-05-01T10:00:05Z\"\n"
        "    message: Deployment has minimum availability.\n"
        "    status: \"True\"\n"
        "    type: Available\n"
        "  readyReplicas: 3\n"
    )


@pytest.mark.parametrize("value,expected", [
    ("hello", "hello"),
    ("true", '"true"'),
    ("yes", '"yes"'),
    ("Off", '"Off"'),
    ("null", '"null"'),
    ("~", '"~"'),
    ("", '""'),
    ("123", '"123"'),
    ("1_000", '"1_000"'),
    ("0x1F", '"0x1F"'),
    ("0755", '"0755"'),
    ("08", '"08"'),
    ("1.5", '"1.5"'),
    ("1e3", '"1e3"'),
    (".5", '".5"'),
    (".inf", '".inf"'),
    ("-1", '"-1"'),
    ("1:20", '"1:20"'),
    ("2024-05-01", '"2024-05-01"'),
    ("2024-05-01 10:00:00", '"2024-05-01 10:00:00"'),
    ("2024-13-01", "2024-13-01"),
    ("v1.32.0", "v1.32.0"),
    ("10.0.0.1", "10.0.0.1"),
    ("1.2.3", "1.2.3"),
    ("a: b", "'a: b'"),
    ("- x", "'- x'"),
    ("-", "'-'"),
    ("#x", "'#x'"),
    ("x #y", "'x #y'"),
    ("*", "'*'"),
    ("{a}", "'{a}'"),
    ("it's", "it's"),
    (" lead", "' lead'"),
    ("trail ", "'trail '"),
    ("tab\there", '"tab\\there"'),
    ("containers with unready status: [nginx]", "'containers with unready status: [nginx]'"),
    ("Always", "Always"),
    ("y", '"y"'),
    ("Y", '"Y"'),
    ("é", "é"),
    # The cases below were printed by kubectl 1.32 (`create configmap --dry-run=client -o yaml`).
    ("<<", "<<"),
    ("? q", "'? q'"),
    (":c", ":c"),
    ("a:", "'a:'"),
    ("%percent", "'%percent'"),
    ("@at", "'@at'"),
    ("!bang", "'!bang'"),
    ("|pipe", "'|pipe'"),
    ("---", "'---'"),
    ("   ", "'   '"),
    ("a  b", "a  b"),
    ("ctrl\x01char", '"ctrl\\x01char"'),
    ("line one\r\nline two", '"line one\\r\\nline two"'),
    ("1e+21", '"1e+21"'),
    ("+1", '"+1"'),
    ("Infinity", "Infinity"),
    ("<b>&</b>", "<b>&</b>"),
])
def test_yaml_scalar_quoting_like_go_yaml(value: str, expected: str) -> None:
    assert printers.format_yaml({"k": value}) == f"k: {expected}\n"


def test_yaml_multiline_strings_are_literal_blocks() -> None:
    assert printers.format_yaml({"script": "echo hi\necho bye"}) == "script: |-\n  echo hi\n  echo bye\n"
    assert printers.format_yaml({"script": "echo hi\n"}) == "script: |\n  echo hi\n"


def test_yaml_block_scalar_indicators_match_kubectl() -> None:
    assert printers.format_yaml({"k": "\nlead newline"}) == "k: |2-\n\n  lead newline\n"
    # Even as the document's last value go-yaml writes no "..." after a `|+` block.
    assert printers.format_yaml({"k": "trail\n\n"}) == "k: |+\n  trail\n\n"
    assert printers.format_yaml({"k": " indented\nblock\n"}) == "k: |2\n   indented\n  block\n"


def test_json_escapes_match_kubectl() -> None:
    assert printers.format_json({"k": "<b>&</b>"}) == '{\n    "k": "\\u003cb\\u003e\\u0026\\u003c/b\\u003e"\n}\n'
    assert printers.format_json({"k": "line one\r\nline two"}) == '{\n    "k": "line one\\r\\nline two"\n}\n'


def test_yaml_folds_long_plain_strings_at_80_columns() -> None:
    text = ("Deployment does not have minimum availability because the pods are not ready yet and the "
            "rollout continues")
    assert printers.format_yaml({"message": text}) == (
        "message: Deployment does not have minimum availability because the pods are not ready\n"
        "  yet and the rollout continues\n"
    )


def test_yaml_key_order_is_go_yaml_natural_order() -> None:
    obj = {"z10": 1, "z9": 2, "Zeta": 3, "_x": 4, "alpha": 5, "a.b": 6, "a": 7, "B": 8}
    # Upper-case letters sort before lower-case ones; non-letters before letters.
    assert printers.format_yaml(obj) == "_x: 4\nB: 8\nZeta: 3\na: 7\na.b: 6\nalpha: 5\nz9: 2\nz10: 1\n"


def test_yaml_numbers_booleans_and_nulls() -> None:
    obj = {"i": 3, "neg": -2, "f": 0.25, "whole": 2.0, "big": 1234567.5, "t": True, "n": None}
    # go-yaml v2 reads a bare `n` as a YAML 1.1 boolean, so even the key is quoted.
    assert printers.format_yaml(obj) == (
        'big: 1.2345675e+06\nf: 0.25\ni: 3\n"n": null\nneg: -2\nt: true\nwhole: 2\n')


def test_yaml_never_uses_anchors_for_shared_values() -> None:
    shared = {"app": "web"}
    assert printers.format_yaml({"a": shared, "b": shared}) == "a:\n  app: web\nb:\n  app: web\n"


def test_yaml_lists_of_lists_and_top_level_list() -> None:
    assert printers.format_yaml({"m": [[1, 2], []]}) == "m:\n- - 1\n  - 2\n- []\n"
    assert printers.format_yaml([{"a": 1}]) == "- a: 1\n"
    assert printers.format_yaml("x") == "x\n"


def test_goyaml_resolve() -> None:
    assert printers.goyaml_resolve("2024-05-01T10:00:00.5+02:00") == "tag:yaml.org,2002:timestamp"
    assert printers.goyaml_resolve("-0b101") == "tag:yaml.org,2002:int"
    assert printers.goyaml_resolve("+") == "tag:yaml.org,2002:str"
    assert printers.goyaml_resolve("0o17") == "tag:yaml.org,2002:int"
    assert printers.goyaml_resolve("99999999999999999999") == "tag:yaml.org,2002:float"
    assert printers.goyaml_resolve("NaN") == "tag:yaml.org,2002:str"
