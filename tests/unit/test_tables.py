"""Server-side Table rendering: column sets and cell text as Kubernetes' printers."""
from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.api import kinds
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api.kinds import pod as pod_kind

NOW = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def ago(seconds: float) -> str:
    """An RFC 3339 timestamp `seconds` before NOW."""
    t = NOW - datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def res(plural: str, group: str | None = None) -> resources.Resource:
    found = resources.resolve(plural if group is None else f"{plural}.{group}")
    assert found is not None
    return found


def row(resource: resources.Resource, obj: dict[str, Any]) -> list[Any]:
    table = kinds.to_table(resource, [obj], now=NOW)
    return table["rows"][0]["cells"]


def column_names(table: dict[str, Any]) -> list[tuple[str, int]]:
    return [(c["name"], c["priority"]) for c in table["columnDefinitions"]]


# ---------------------------------------------------------------------------
# human_duration / human_age
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seconds,expected", [
    (-3, "<invalid>"),
    (-2, "<invalid>"),
    (-1.5, "0s"),  # within the 2s clock-skew tolerance
    (-1, "0s"),
    (0, "0s"),
    (0.9, "0s"),
    (1, "1s"),
    (5, "5s"),
    (119, "119s"),
    (120, "2m"),
    (123, "2m3s"),
    (599, "9m59s"),
    (600, "10m"),
    (659, "10m"),
    (3 * 3600 - 1, "179m"),
    (3 * 3600, "3h"),
    (3 * 3600 + 4 * 60, "3h4m"),
    (3 * 3600 + 4 * 60 + 59, "3h4m"),
    (8 * 3600 - 1, "7h59m"),
    (8 * 3600, "8h"),
    (48 * 3600 - 1, "47h"),
    (48 * 3600, "2d"),
    (57 * 3600, "2d9h"),
    (8 * 86400 - 1, "7d23h"),
    (8 * 86400, "8d"),
    (730 * 86400 - 1, "729d"),
    (730 * 86400, "2y"),
    (735 * 86400, "2y5d"),
    (3 * 365 * 86400, "3y"),
    (8 * 365 * 86400 - 1, "7y364d"),
    (8 * 365 * 86400, "8y"),
    (20 * 365 * 86400 + 100 * 86400, "20y"),
])
def test_human_duration_matches_apimachinery(seconds: float, expected: str) -> None:
    assert printing.human_duration(seconds) == expected


def test_human_age_translates_timestamps() -> None:
    assert printing.human_age("2024-05-01T11:55:00Z", NOW) == "5m"
    assert printing.human_age("2024-05-01T11:59:58.500000Z", NOW) == "1s"  # MicroTime
    assert printing.human_age("2024-05-01T13:55:00+02:00", NOW) == "5m"
    assert printing.human_age("2024-05-01T12:00:05Z", NOW) == "<invalid>"  # from the future
    assert printing.human_age(None, NOW) == "<unknown>"
    assert printing.human_age("", NOW) == "<unknown>"
    assert printing.human_age("not a time", NOW) == "<unknown>"


# ---------------------------------------------------------------------------
# Table envelope
# ---------------------------------------------------------------------------


def _pod(name: str = "web-1", **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": "u-1", "resourceVersion": "42",
                     "creationTimestamp": ago(300), "labels": {"app": "web"},
                     "annotations": {"a": "b"}},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.25"}], "nodeName": "node-1"},
        "status": {"phase": "Running", **status},
    }


def test_table_envelope_with_partial_object_metadata() -> None:
    pod = _pod()
    table = kinds.to_table(res("pods"), [pod], list_meta={"resourceVersion": "106", "continue": ""}, now=NOW)
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "106"}
    assert table["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": pod["metadata"],
    }
    name_col = table["columnDefinitions"][0]
    assert name_col["name"] == "Name" and name_col["type"] == "string" and name_col["format"] == "name"
    assert set(name_col) == {"name", "type", "format", "description", "priority"}


def test_include_object_none_and_object() -> None:
    pod = _pod()
    none = kinds.to_table(res("pods"), [pod], include_object="None", now=NOW)
    assert "object" not in none["rows"][0]
    full = kinds.to_table(res("pods"), [pod], include_object="Object", now=NOW)
    assert full["rows"][0]["object"] == pod


def test_unknown_include_object_is_bad_request() -> None:
    with pytest.raises(errors.BadRequest):
        kinds.to_table(res("pods"), [_pod()], include_object="Everything", now=NOW)


def test_single_object_table_takes_its_resource_version() -> None:
    table = kinds.to_table(res("pods"), [_pod()], now=NOW)
    assert table["metadata"] == {"resourceVersion": "42"}


def test_watch_event_tables_carry_no_definitions() -> None:
    table = kinds.to_table(res("pods"), [_pod()], now=NOW, with_definitions=False)
    assert table["columnDefinitions"] == []
    assert len(table["rows"][0]["cells"]) == 9


def test_to_table_does_not_mutate_objects() -> None:
    pod = _pod()
    before = copy.deepcopy(pod)
    kinds.to_table(res("pods"), [pod], include_object="Object", now=NOW)
    assert pod == before


def test_empty_list_has_definitions_and_no_rows() -> None:
    table = kinds.to_table(res("deployments"), [], list_meta={"resourceVersion": "7"}, now=NOW)
    assert table["rows"] == []
    assert column_names(table)[0] == ("Name", 0)
    assert table["metadata"] == {"resourceVersion": "7"}


# ---------------------------------------------------------------------------
# Pods
# ---------------------------------------------------------------------------


def test_pod_columns() -> None:
    table = kinds.to_table(res("pods"), [], now=NOW)
    assert column_names(table) == [
        ("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0),
        ("IP", 1), ("Node", 1), ("Nominated Node", 1), ("Readiness Gates", 1),
    ]


def test_running_pod_with_one_restart() -> None:
    pod = _pod(
        podIP="10.244.1.5", podIPs=[{"ip": "10.244.1.5"}],
        conditions=[{"type": "Ready", "status": "True"}],
        containerStatuses=[{
            "name": "main", "ready": True, "restartCount": 1, "state": {"running": {"startedAt": ago(100)}},
            "lastState": {"terminated": {"exitCode": 137, "reason": "Error", "finishedAt": ago(125)}},
        }],
    )
    assert row(res("pods"), pod) == ["web-1", "1/1", "Running", "1 (2m5s ago)", "5m",
                                     "10.244.1.5", "node-1", "<none>", "<none>"]


def test_restart_without_termination_time_has_no_ago() -> None:
    pod = _pod(containerStatuses=[{"name": "main", "ready": True, "restartCount": 3, "state": {"running": {}}}])
    assert row(res("pods"), pod)[3] == "3"


def test_crash_loop_back_off_pod() -> None:
    pod = _pod(containerStatuses=[{
        "name": "main", "ready": False, "restartCount": 5,
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(30)}},
    }])
    assert row(res("pods"), pod)[1:4] == ["0/1", "CrashLoopBackOff", "5 (30s ago)"]


@pytest.mark.parametrize("state,expected", [
    ({"waiting": {"reason": "ContainerCreating"}}, "ContainerCreating"),
    ({"waiting": {"reason": "ErrImagePull"}}, "ErrImagePull"),
    ({"waiting": {"reason": "ImagePullBackOff"}}, "ImagePullBackOff"),
    ({"terminated": {"exitCode": 1, "reason": "Error"}}, "Error"),
    ({"terminated": {"exitCode": 3}}, "ExitCode:3"),
    ({"terminated": {"exitCode": 0, "signal": 9}}, "Signal:9"),
    ({"waiting": {}}, "Pending"),
])
def test_container_state_reasons(state: dict[str, Any], expected: str) -> None:
    pod = _pod(containerStatuses=[{"name": "main", "ready": False, "restartCount": 0, "state": state}])
    pod["status"]["phase"] = "Pending"
    assert row(res("pods"), pod)[2] == expected


def test_pending_pod_without_statuses() -> None:
    pod = _pod()
    pod["status"] = {"phase": "Pending"}
    del pod["spec"]["nodeName"]
    assert row(res("pods"), pod) == ["web-1", "0/1", "Pending", "0", "5m", "<none>", "<none>", "<none>", "<none>"]


def test_status_reason_overrides_phase() -> None:
    pod = _pod(reason="Evicted")
    pod["status"]["phase"] = "Failed"
    assert row(res("pods"), pod)[2] == "Evicted"


def test_scheduling_gated_pod() -> None:
    pod = _pod(conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}])
    pod["status"]["phase"] = "Pending"
    assert row(res("pods"), pod)[2] == "SchedulingGated"


def _init_pod(*init_states: dict[str, Any], initialized: bool = False) -> dict[str, Any]:
    pod = _pod(
        initContainerStatuses=[
            {"name": f"init-{i}", "ready": False, "restartCount": s.pop("restartCount", 0), "state": s}
            for i, s in enumerate(init_states)
        ],
        containerStatuses=[{"name": "main", "ready": False, "restartCount": 0,
                            "state": {"waiting": {"reason": "PodInitializing"}}}],
        conditions=[{"type": "Initialized", "status": "True" if initialized else "False"}],
    )
    pod["status"]["phase"] = "Pending"
    pod["spec"]["initContainers"] = [{"name": f"init-{i}", "image": "busybox"} for i in range(len(init_states))]
    return pod


def test_init_container_running() -> None:
    pod = _init_pod({"running": {}})
    assert row(res("pods"), pod)[1:4] == ["0/1", "Init:0/1", "0"]


def test_init_container_progress_counts_completed_ones() -> None:
    pod = _init_pod({"terminated": {"exitCode": 0, "reason": "Completed"}},
                    {"waiting": {"reason": "PodInitializing"}})
    assert row(res("pods"), pod)[2] == "Init:1/2"


def test_init_container_crash_loop() -> None:
    pod = _init_pod({"waiting": {"reason": "CrashLoopBackOff"}, "restartCount": 4})
    # While initializing, the init container's restarts are what count.
    assert row(res("pods"), pod)[1:4] == ["0/1", "Init:CrashLoopBackOff", "4"]


@pytest.mark.parametrize("terminated,expected", [
    ({"exitCode": 1, "reason": "Error"}, "Init:Error"),
    ({"exitCode": 2}, "Init:ExitCode:2"),
    ({"exitCode": 1, "signal": 15}, "Init:Signal:15"),
])
def test_init_container_failed(terminated: dict[str, Any], expected: str) -> None:
    assert row(res("pods"), _init_pod({"terminated": terminated}))[2] == expected


def test_pod_initializing_is_not_an_init_reason() -> None:
    pod = _init_pod({"terminated": {"exitCode": 0}}, initialized=True)
    pod["status"]["phase"] = "Pending"
    assert row(res("pods"), pod)[2] == "PodInitializing"


def test_sidecar_counts_as_a_container() -> None:
    pod = _pod(
        conditions=[{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
        initContainerStatuses=[{"name": "proxy", "ready": True, "started": True, "restartCount": 2,
                                "state": {"running": {}},
                                "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(600)}}}],
        containerStatuses=[{"name": "main", "ready": True, "restartCount": 0, "state": {"running": {}}}],
    )
    pod["spec"]["initContainers"] = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]
    assert row(res("pods"), pod)[1:4] == ["2/2", "Running", "2 (10m ago)"]


def test_terminating_pod() -> None:
    pod = _pod(containerStatuses=[{"name": "main", "ready": True, "restartCount": 0, "state": {"running": {}}}])
    pod["metadata"]["deletionTimestamp"] = ago(10)
    assert row(res("pods"), pod)[1:3] == ["1/1", "Terminating"]


def test_terminal_pod_being_deleted_keeps_its_status() -> None:
    pod = _pod(containerStatuses=[{"name": "main", "ready": False, "restartCount": 0,
                                   "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}])
    pod["status"]["phase"] = "Succeeded"
    pod["metadata"]["deletionTimestamp"] = ago(10)
    assert row(res("pods"), pod)[2] == "Completed"


def test_node_lost_pod_being_deleted_is_unknown() -> None:
    pod = _pod(reason="NodeLost")
    pod["metadata"]["deletionTimestamp"] = ago(10)
    assert row(res("pods"), pod)[2] == "Unknown"


def test_completed_pod_has_row_condition() -> None:
    pod = _pod(containerStatuses=[{"name": "main", "ready": False, "restartCount": 0,
                                   "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}])
    pod["status"]["phase"] = "Succeeded"
    table = kinds.to_table(res("pods"), [pod], now=NOW)
    assert table["rows"][0]["cells"][1:3] == ["0/1", "Completed"]
    assert table["rows"][0]["conditions"] == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                               "message": "The pod has completed successfully."}]


def test_failed_pod_has_row_condition() -> None:
    pod = _pod(containerStatuses=[{"name": "main", "ready": False, "restartCount": 0,
                                   "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}])
    pod["status"]["phase"] = "Failed"
    table = kinds.to_table(res("pods"), [pod], now=NOW)
    assert table["rows"][0]["cells"][2] == "Error"
    assert table["rows"][0]["conditions"][0]["reason"] == "Failed"


def test_running_pod_has_no_row_conditions() -> None:
    assert "conditions" not in kinds.to_table(res("pods"), [_pod()], now=NOW)["rows"][0]


def _two_container_pod(ready_condition: bool) -> dict[str, Any]:
    pod = _pod(
        conditions=[{"type": "Ready", "status": "True" if ready_condition else "False"}],
        containerStatuses=[
            {"name": "main", "ready": True, "restartCount": 0, "state": {"running": {}}},
            {"name": "job", "ready": False, "restartCount": 0,
             "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        ],
    )
    pod["spec"]["containers"].append({"name": "job", "image": "busybox"})
    return pod


def test_completed_container_next_to_running_one_is_not_ready() -> None:
    assert row(res("pods"), _two_container_pod(ready_condition=False))[1:3] == ["1/2", "NotReady"]


def test_completed_container_next_to_running_one_with_ready_pod() -> None:
    assert row(res("pods"), _two_container_pod(ready_condition=True))[1:3] == ["1/2", "Running"]


def test_readiness_gates_and_nominated_node() -> None:
    pod = _pod(
        nominatedNodeName="node-2",
        conditions=[{"type": "example.com/lb", "status": "True"}, {"type": "example.com/dns", "status": "False"}],
    )
    pod["spec"]["readinessGates"] = [{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"},
                                     {"conditionType": "example.com/other"}]
    assert row(res("pods"), pod)[7:] == ["node-2", "1/3"]


def test_pod_ip_prefers_pod_ips() -> None:
    pod = _pod(podIP="10.0.0.1", podIPs=[{"ip": "10.0.0.2"}, {"ip": "fd00::2"}])
    assert row(res("pods"), pod)[5] == "10.0.0.2"


def test_pod_summary_is_public() -> None:
    summary = pod_kind.pod_summary(_pod(containerStatuses=[
        {"name": "main", "ready": True, "restartCount": 0, "state": {"running": {}}}]), NOW)
    assert summary == pod_kind.PodSummary("1/1", "Running", "0")


# ---------------------------------------------------------------------------
# Nodes
# ---------------------------------------------------------------------------


def _node(name: str = "master", labels: dict[str, str] | None = None, ready: str | None = "True",
          unschedulable: bool = False) -> dict[str, Any]:
    node: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "creationTimestamp": ago(57 * 3600), "labels": labels or {}},
        "spec": {},
        "status": {
            "addresses": [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": "192.168.1.10"}],
            "nodeInfo": {"kubeletVersion": "v1.32.0-minik8s", "osImage": "Ubuntu 22.04.4 LTS",
                         "kernelVersion": "6.5.0-41-generic", "containerRuntimeVersion": "docker://24.0.7"},
            "conditions": [{"type": "MemoryPressure", "status": "False"}],
        },
    }
    if ready is not None:
        node["status"]["conditions"].append({"type": "Ready", "status": ready})
    if unschedulable:
        node["spec"]["unschedulable"] = True
    return node


def test_node_columns() -> None:
    assert column_names(kinds.to_table(res("nodes"), [], now=NOW)) == [
        ("Name", 0), ("Status", 0), ("Roles", 0), ("Age", 0), ("Version", 0), ("Internal-IP", 1),
        ("External-IP", 1), ("OS-Image", 1), ("Kernel-Version", 1), ("Container-Runtime", 1),
    ]


def test_ready_master_node_with_role_label() -> None:
    node = _node(labels={"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "master"})
    assert row(res("nodes"), node) == [
        "master", "Ready", "control-plane", "2d9h", "v1.32.0-minik8s", "192.168.1.10", "<none>",
        "Ubuntu 22.04.4 LTS", "6.5.0-41-generic", "docker://24.0.7",
    ]


def test_node_roles_sorted_from_both_label_styles() -> None:
    node = _node(labels={"node-role.kubernetes.io/worker": "", "kubernetes.io/role": "master",
                         "node-role.kubernetes.io/": "", "node-role.kubernetes.io/etcd": "true"})
    assert row(res("nodes"), node)[2] == "etcd,master,worker"


def test_node_without_roles() -> None:
    assert row(res("nodes"), _node(labels={"kubernetes.io/role": ""}))[2] == "<none>"


def test_not_ready_cordoned_node() -> None:
    assert row(res("nodes"), _node(ready="False", unschedulable=True))[1] == "NotReady,SchedulingDisabled"
    assert row(res("nodes"), _node(ready="Unknown"))[1] == "NotReady"


def test_node_without_ready_condition_is_unknown() -> None:
    assert row(res("nodes"), _node(ready=None))[1] == "Unknown"
    assert row(res("nodes"), _node(ready=None, unschedulable=True))[1] == "Unknown,SchedulingDisabled"


def test_node_missing_info_and_external_ip() -> None:
    node = _node()
    node["status"]["nodeInfo"] = {}
    node["status"]["addresses"].append({"type": "ExternalIP", "address": "203.0.113.7"})
    assert row(res("nodes"), node)[4:] == ["", "192.168.1.10", "203.0.113.7", "<unknown>", "<unknown>", "<unknown>"]


# ---------------------------------------------------------------------------
# Deployments, ReplicaSets, ReplicationControllers
# ---------------------------------------------------------------------------


def _template(*containers: tuple[str, str]) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": n, "image": i} for n, i in containers]}}


def test_deployment_row() -> None:
    deploy = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ago(600)},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": _template(("nginx", "nginx:1.14"), ("sidecar", "busybox"))},
        "status": {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2},
    }
    table = kinds.to_table(res("deployments"), [deploy], now=NOW)
    assert column_names(table) == [("Name", 0), ("Ready", 0), ("Up-to-date", 0), ("Available", 0), ("Age", 0),
                                   ("Containers", 1), ("Images", 1), ("Selector", 1)]
    assert table["rows"][0]["cells"] == ["web", "2/3", 3, 2, "10m", "nginx,sidecar", "nginx:1.14,busybox", "app=web"]


def test_new_deployment_without_status() -> None:
    deploy = {"metadata": {"name": "web", "creationTimestamp": ago(5)},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": _template()}}
    assert row(res("deployments"), deploy)[:5] == ["web", "0/1", 0, 0, "5s"]


def test_deployment_selector_with_expressions_sorted_by_key() -> None:
    deploy = {"metadata": {"name": "web"}, "spec": {"replicas": 0, "template": _template(), "selector": {
        "matchLabels": {"tier": "fe"},
        "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]},
                             {"key": "zone", "operator": "Exists"},
                             {"key": "canary", "operator": "DoesNotExist"},
                             {"key": "app", "operator": "NotIn", "values": ["db"]}]}}}
    assert row(res("deployments"), deploy)[7] == "app notin (db),!canary,env in (dev,prod),tier=fe,zone"
    assert row(res("deployments"), deploy)[4] == "<unknown>"


def test_deployment_with_bad_selector_operator() -> None:
    deploy = {"metadata": {"name": "web"}, "spec": {"template": _template(), "selector": {
        "matchExpressions": [{"key": "a", "operator": "Near"}]}}}
    assert row(res("deployments"), deploy)[7] == "<invalid>"


def test_replicaset_row() -> None:
    rs = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-5d78cd5c6f", "creationTimestamp": ago(3 * 3600 + 240)},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d78cd5c6f"}},
                 "template": _template(("nginx", "nginx:1.16"))},
        "status": {"replicas": 3, "readyReplicas": 1},
    }
    table = kinds.to_table(res("replicasets"), [rs], now=NOW)
    assert column_names(table) == [("Name", 0), ("Desired", 0), ("Current", 0), ("Ready", 0), ("Age", 0),
                                   ("Containers", 1), ("Images", 1), ("Selector", 1)]
    assert [c["type"] for c in table["columnDefinitions"][1:4]] == ["integer"] * 3
    assert table["rows"][0]["cells"] == ["web-5d78cd5c6f", 3, 3, 1, "3h4m", "nginx", "nginx:1.16",
                                         "app=web,pod-template-hash=5d78cd5c6f"]


def test_replicaset_with_empty_selector_prints_none() -> None:
    rs = {"metadata": {"name": "rs"}, "spec": {"replicas": 0, "selector": {}, "template": _template()}}
    assert row(res("replicasets"), rs)[1:4] == [0, 0, 0]
    assert row(res("replicasets"), rs)[7] == "<none>"


def test_replication_controller_row() -> None:
    rc = {
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "nginx", "creationTimestamp": ago(90)},
        "spec": {"replicas": 2, "selector": {"app": "nginx", "env": "prod"}, "template": _template(("nginx", "nginx"))},
        "status": {"replicas": 2, "readyReplicas": 2},
    }
    table = kinds.to_table(res("replicationcontrollers"), [rc], now=NOW)
    assert [n for n, _ in column_names(table)] == ["Name", "Desired", "Current", "Ready", "Age", "Containers",
                                                   "Images", "Selector"]
    assert table["rows"][0]["cells"] == ["nginx", 2, 2, 2, "90s", "nginx", "nginx", "app=nginx,env=prod"]


# ---------------------------------------------------------------------------
# Services and Endpoints
# ---------------------------------------------------------------------------


def _service(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ago(120)},
            "spec": spec, "status": status or {"loadBalancer": {}}}


def test_service_columns() -> None:
    assert column_names(kinds.to_table(res("services"), [], now=NOW)) == [
        ("Name", 0), ("Type", 0), ("Cluster-IP", 0), ("External-IP", 0), ("Port(s)", 0), ("Age", 0), ("Selector", 1),
    ]


def test_cluster_ip_service() -> None:
    svc = _service({"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                    "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                              {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}],
                    "selector": {"k8s-app": "kube-dns"}})
    assert row(res("services"), svc) == ["web", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP", "2m",
                                         "k8s-app=kube-dns"]


def test_node_port_service() -> None:
    svc = _service({"type": "NodePort", "clusterIP": "10.96.12.7", "clusterIPs": ["10.96.12.7"],
                    "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 30001}],
                    "selector": {"app": "web"}})
    assert row(res("services"), svc) == ["web", "NodePort", "10.96.12.7", "<none>", "80:30001/TCP", "2m", "app=web"]


def test_service_external_ips_and_cluster_ip_fallback() -> None:
    svc = _service({"type": "ClusterIP", "clusterIP": "10.96.0.20", "externalIPs": ["1.2.3.4", "5.6.7.8"],
                    "ports": [{"port": 443}]})
    assert row(res("services"), svc)[1:5] == ["ClusterIP", "10.96.0.20", "1.2.3.4,5.6.7.8", "443/TCP"]


def test_headless_service_without_ports_or_selector() -> None:
    svc = _service({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"]})
    assert row(res("services"), svc) == ["web", "ClusterIP", "None", "<none>", "<none>", "2m", "<none>"]


def test_load_balancer_service() -> None:
    pending = _service({"type": "LoadBalancer", "clusterIPs": ["10.96.0.30"],
                        "ports": [{"port": 80, "nodePort": 31000, "protocol": "TCP"}]})
    assert row(res("services"), pending)[3:5] == ["<pending>", "80:31000/TCP"]
    ready = _service(pending["spec"], {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example"},
                                                                    {"ip": "203.0.113.2"}]}})
    assert row(res("services"), ready)[3] == "203.0.113.2,203.0.113.9,lb.example"
    ready["spec"]["externalIPs"] = ["9.9.9.9"]
    assert row(res("services"), ready)[3] == "203.0.113.2,203.0.113.9,lb.example,9.9.9.9"


def test_external_name_service() -> None:
    svc = _service({"type": "ExternalName", "externalName": "db.example.com"})
    assert row(res("services"), svc)[1:5] == ["ExternalName", "<none>", "db.example.com", "<none>"]


def _endpoints(*subsets: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "web", "creationTimestamp": ago(7 * 60)}, "subsets": list(subsets)}


def _addresses(*ips: str) -> list[dict[str, str]]:
    return [{"ip": ip} for ip in ips]


def test_endpoints_columns_and_empty() -> None:
    table = kinds.to_table(res("endpoints"), [_endpoints()], now=NOW)
    assert column_names(table) == [("Name", 0), ("Endpoints", 0), ("Age", 0)]
    assert table["rows"][0]["cells"] == ["web", "<none>", "7m"]


def test_endpoints_list_addresses() -> None:
    ep = _endpoints({"addresses": _addresses("10.0.0.1", "10.0.0.2"), "ports": [{"port": 80, "protocol": "TCP"}]})
    assert row(res("endpoints"), ep)[1] == "10.0.0.1:80,10.0.0.2:80"


def test_endpoints_more_than_three() -> None:
    ep = _endpoints({"addresses": _addresses(*(f"10.0.0.{i}" for i in range(1, 6))), "ports": [{"port": 80}]})
    assert row(res("endpoints"), ep)[1] == "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more..."


def test_endpoints_count_every_port_and_subset() -> None:
    ep = _endpoints(
        {"addresses": _addresses("10.0.0.1", "10.0.0.2"), "ports": [{"port": 80}, {"port": 443}]},
        {"addresses": _addresses("10.0.1.1"), "ports": [{"port": 8080}]},
    )
    assert row(res("endpoints"), ep)[1] == "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more..."


def test_headless_endpoints_without_ports_and_ipv6() -> None:
    assert row(res("endpoints"), _endpoints({"addresses": _addresses("10.0.0.1")}))[1] == "10.0.0.1"
    ep = _endpoints({"addresses": _addresses("fd00::1"), "ports": [{"port": 80}]})
    assert row(res("endpoints"), ep)[1] == "[fd00::1]:80"


# ---------------------------------------------------------------------------
# Events, Namespaces, Leases
# ---------------------------------------------------------------------------


def test_event_row() -> None:
    event = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web-1.17c8d0b1a2b3c4d5", "namespace": "default", "creationTimestamp": ago(600)},
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default",
                           "fieldPath": "spec.containers{main}"},
        "reason": "Pulled", "type": "Normal", "message": "Successfully pulled image \"nginx\"\n",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ago(600), "lastTimestamp": ago(65), "count": 3,
    }
    table = kinds.to_table(res("events"), [event], now=NOW)
    assert column_names(table) == [("Last Seen", 0), ("Type", 0), ("Reason", 0), ("Object", 0), ("Subobject", 1),
                                   ("Source", 1), ("Message", 0), ("First Seen", 1), ("Count", 1), ("Name", 1)]
    assert table["columnDefinitions"][9]["format"] == "name"
    assert table["rows"][0]["cells"] == [
        "65s", "Normal", "Pulled", "pod/web-1", "spec.containers{main}", "kubelet, node-1",
        "Successfully pulled image \"nginx\"", "10m", 3, "web-1.17c8d0b1a2b3c4d5",
    ]


def test_event_without_timestamps_count_or_host() -> None:
    event = {"metadata": {"name": "e"}, "involvedObject": {"kind": "Node"},
             "reason": "Starting", "type": "Normal", "message": "Starting kubelet.",
             "eventTime": "2024-05-01T11:59:30.123456Z", "reportingComponent": "kubelet"}
    cells = row(res("events"), event)
    assert cells[0] == "29s" and cells[7] == "29s"  # last falls back to first, which falls back to eventTime
    assert cells[3] == "node"
    assert cells[5] == "kubelet"
    assert cells[8] == 1


def test_event_series() -> None:
    event = {"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p"},
             "eventTime": ago(3600), "series": {"count": 7, "lastObservedTime": ago(30)}}
    cells = row(res("events"), event)
    assert (cells[0], cells[7], cells[8]) == ("30s", "60m", 7)


def test_event_without_any_time() -> None:
    assert row(res("events"), {"metadata": {"name": "e"}})[0] == "<unknown>"


def test_namespace_row() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "creationTimestamp": ago(86400 * 3)},
          "status": {"phase": "Active"}}
    table = kinds.to_table(res("namespaces"), [ns], now=NOW)
    assert column_names(table) == [("Name", 0), ("Status", 0), ("Age", 0)]
    assert table["rows"][0]["cells"] == ["kube-system", "Active", "3d"]
    ns["status"]["phase"] = "Terminating"
    assert row(res("namespaces"), ns)[1] == "Terminating"


def test_lease_row() -> None:
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "kube-scheduler", "namespace": "kube-system", "creationTimestamp": ago(40)},
             "spec": {"holderIdentity": "master_8f3c", "leaseDurationSeconds": 15}}
    table = kinds.to_table(res("leases"), [lease], now=NOW)
    assert column_names(table) == [("Name", 0), ("Holder", 0), ("Age", 0)]
    assert table["rows"][0]["cells"] == ["kube-scheduler", "master_8f3c", "40s"]
    del lease["spec"]["holderIdentity"]
    assert row(res("leases"), lease)[1] == ""


# ---------------------------------------------------------------------------
# HorizontalPodAutoscalers
# ---------------------------------------------------------------------------


def _cpu_metric(target: dict[str, Any], name: str = "cpu") -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": name, "target": target}}


def _hpa(metrics: list[dict[str, Any]], current: list[dict[str, Any]] | None = None,
         min_replicas: int | None = 1) -> dict[str, Any]:
    spec: dict[str, Any] = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                            "maxReplicas": 5, "metrics": metrics}
    if min_replicas is not None:
        spec["minReplicas"] = min_replicas
    status: dict[str, Any] = {"currentReplicas": 2, "desiredReplicas": 2}
    if current is not None:
        status["currentMetrics"] = current
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ago(150)},
            "spec": spec, "status": status}


def test_hpa_columns_and_unknown_current() -> None:
    table = kinds.to_table(res("horizontalpodautoscalers"),
                            [_hpa([_cpu_metric({"type": "Utilization", "averageUtilization": 50})])], now=NOW)
    assert column_names(table) == [("Name", 0), ("Reference", 0), ("Targets", 0), ("MinPods", 0), ("MaxPods", 0),
                                   ("Replicas", 0), ("Age", 0)]
    assert table["rows"][0]["cells"] == ["web", "Deployment/web", "cpu: <unknown>/50%", "1", 5, 2, "2m30s"]


def test_hpa_with_current_utilization() -> None:
    hpa = _hpa([_cpu_metric({"type": "Utilization", "averageUtilization": 50})],
               [{"type": "Resource", "resource": {"name": "cpu",
                                                  "current": {"averageUtilization": 30, "averageValue": "150m"}}}])
    assert row(res("horizontalpodautoscalers"), hpa)[2] == "cpu: 30%/50%"


def test_hpa_memory_average_value() -> None:
    hpa = _hpa([_cpu_metric({"type": "AverageValue", "averageValue": "200Mi"}, name="memory")],
               [{"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "100Mi"}}}])
    assert row(res("horizontalpodautoscalers"), hpa)[2] == "memory: 100Mi/200Mi"


def test_hpa_without_target_utilization_is_auto() -> None:
    hpa = _hpa([_cpu_metric({"type": "Utilization"})])
    assert row(res("horizontalpodautoscalers"), hpa)[2] == "cpu: <unknown>/<auto>"


def test_hpa_pods_object_external_and_more() -> None:
    hpa = _hpa(
        [{"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
         {"type": "Object", "object": {"metric": {"name": "hits"}, "target": {"type": "Value", "value": "10"}}},
         {"type": "External", "external": {"metric": {"name": "queue"},
                                           "target": {"type": "AverageValue", "averageValue": "30"}}}],
        [{"type": "Pods", "pods": {"current": {"averageValue": "500"}}}],
    )
    assert row(res("horizontalpodautoscalers"), hpa)[2] == "500/1k, <unknown>/10 + 1 more..."
    hpa["spec"]["metrics"] = hpa["spec"]["metrics"][1:]
    hpa["status"]["currentMetrics"] = [{"type": "Object", "object": {"current": {"value": "12"}}},
                                       {"type": "External", "external": {"current": {"averageValue": "25"}}}]
    assert row(res("horizontalpodautoscalers"), hpa)[2] == "12/10, 25/30 (avg)"


def test_hpa_without_metrics_or_min_replicas() -> None:
    hpa = _hpa([], min_replicas=None)
    assert row(res("horizontalpodautoscalers"), hpa)[2:4] == ["<none>", "<unset>"]


def test_hpa_v1_resource_renders_v2_and_v1_shapes() -> None:
    v1 = resources.must("autoscaling", "v1", "horizontalpodautoscalers")
    v2_obj = _hpa([_cpu_metric({"type": "Utilization", "averageUtilization": 80})])
    assert row(v1, v2_obj)[:3] == ["web", "Deployment/web", "cpu: <unknown>/80%"]
    v1_obj = {"metadata": {"name": "web"},
              "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5,
                       "targetCPUUtilizationPercentage": 50},
              "status": {"currentReplicas": 1, "currentCPUUtilizationPercentage": 12}}
    assert row(v1, v1_obj)[2:6] == ["cpu: 12%/50%", "1", 5, 1]


# ---------------------------------------------------------------------------
# Anything else
# ---------------------------------------------------------------------------


def test_other_resources_get_name_and_age() -> None:
    widget = resources.Resource("example.com", "v1", "Widget", "widgets", True)
    table = kinds.to_table(widget, [{"metadata": {"name": "w", "creationTimestamp": ago(3)}}], now=NOW)
    assert column_names(table) == [("Name", 0), ("Age", 0)]
    assert table["rows"][0]["cells"] == ["w", "3s"]


def test_every_served_resource_renders_a_row_per_column() -> None:
    for resource in resources.RESOURCES:
        table = kinds.to_table(resource, [{"metadata": {"name": "x"}}], now=NOW)
        assert len(table["rows"][0]["cells"]) == len(table["columnDefinitions"]), resource.plural


def test_format_labels() -> None:
    assert printing.format_labels({"b": "2", "a": "1"}) == "a=1,b=2"
    assert printing.format_labels({}) == "<none>"
    assert printing.format_labels(None) == "<none>"
