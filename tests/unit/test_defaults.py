"""Server-side defaulting, compared with what kube-apiserver 1.32 stores."""
from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from minik8s.api import kinds
from minik8s.api import resources

Obj = dict[str, Any]

POD = resources.must("", "v1", "pods")
SVC = resources.must("", "v1", "services")
RC = resources.must("", "v1", "replicationcontrollers")
NS = resources.must("", "v1", "namespaces")
NODE = resources.must("", "v1", "nodes")
EP = resources.must("", "v1", "endpoints")
EVENT = resources.must("", "v1", "events")
DEPLOY = resources.must("apps", "v1", "deployments")
RS = resources.must("apps", "v1", "replicasets")
HPA2 = resources.must("autoscaling", "v2", "horizontalpodautoscalers")
HPA1 = resources.must("autoscaling", "v1", "horizontalpodautoscalers")
LEASE = resources.must("coordination.k8s.io", "v1", "leases")

SEED = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: vdata-imp-deployment, labels: {app: vdata-imp}}
spec:
  replicas: 1
  selector: {matchLabels: {app: vdata-imp}}
  template:
    metadata: {labels: {app: vdata-imp}}
    spec:
      containers:
      - name: vdata-imp
        image: vdata-imp:98
        imagePullPolicy: IfNotPresent
        env: [{name: ENV, value: "env"}]
        ports: [{containerPort: 80}]
        resources: {limits: {cpu: 0.3, memory: 400Mi}, requests: {cpu: 0.3, memory: 300Mi}}
        livenessProbe: {httpGet: {path: /swagger-ui/, port: 80}, initialDelaySeconds: 100, periodSeconds: 3}
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 50%, maxSurge: 50%}}
  progressDeadlineSeconds: 150
  minReadySeconds: 100
  revisionHistoryLimit: 3
"""


def defaulted(res: resources.Resource, obj: Obj, old: Obj | None = None) -> Obj:
    obj = copy.deepcopy(obj)
    kinds.apply_defaults(res, obj, old)
    return obj


def pod(**container: Any) -> Obj:
    c = {"name": "c", "image": "nginx:1.25", **container}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [c]}}


def deployment(template_spec: Obj | None = None, **spec: Any) -> Obj:
    tspec = template_spec or {"containers": [{"name": "c", "image": "nginx"}]}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"app": "d"}},
                     "template": {"metadata": {"labels": {"app": "d"}}, "spec": tspec}, **spec}}


def test_seed_deployment() -> None:
    obj = defaulted(DEPLOY, yaml.safe_load(SEED))
    spec = obj["spec"]
    # what the user set survives
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "50%", "maxSurge": "50%"}}
    assert spec["revisionHistoryLimit"] == 3
    assert spec["progressDeadlineSeconds"] == 150
    tspec = spec["template"]["spec"]
    assert tspec["restartPolicy"] == "Always"
    assert tspec["terminationGracePeriodSeconds"] == 30
    assert tspec["dnsPolicy"] == "ClusterFirst"
    assert tspec["schedulerName"] == "default-scheduler"
    assert tspec["securityContext"] == {}
    c = tspec["containers"][0]
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["terminationMessagePath"] == "/dev/termination-log"
    assert c["terminationMessagePolicy"] == "File"
    assert c["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert c["resources"] == {"limits": {"cpu": "300m", "memory": "400Mi"}, "requests": {"cpu": "300m", "memory": "300Mi"}}
    assert c["livenessProbe"] == {"httpGet": {"path": "/swagger-ui/", "port": 80, "scheme": "HTTP"},
                                  "initialDelaySeconds": 100, "periodSeconds": 3, "timeoutSeconds": 1,
                                  "successThreshold": 1, "failureThreshold": 3}
    # pod-only defaults stay off templates
    assert "enableServiceLinks" not in tspec
    assert "priority" not in tspec
    assert "tolerations" not in tspec
    assert "namespace" not in obj["metadata"]


def test_deployment_defaults() -> None:
    spec = defaulted(DEPLOY, deployment())["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["template"]["spec"]["restartPolicy"] == "Always"


@pytest.mark.parametrize("strategy, expected", [
    ({"type": "Recreate"}, {"type": "Recreate"}),
    ({"rollingUpdate": {"maxSurge": 1}}, {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}}),
    ({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
     {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}}),
])
def test_deployment_strategy(strategy: Obj, expected: Obj) -> None:
    assert defaulted(DEPLOY, deployment(strategy=strategy))["spec"]["strategy"] == expected


@pytest.mark.parametrize("replicas", [0, 5])
def test_explicit_replicas_kept(replicas: int) -> None:
    assert defaulted(DEPLOY, deployment(replicas=replicas))["spec"]["replicas"] == replicas
    assert defaulted(RS, deployment(replicas=replicas))["spec"]["replicas"] == replicas


def test_replica_set() -> None:
    obj = defaulted(RS, deployment())
    assert obj["spec"]["replicas"] == 1
    assert obj["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert "strategy" not in obj["spec"]


def test_replication_controller_selector_from_template() -> None:
    rc = {"metadata": {"name": "r"}, "spec": {"template": {"metadata": {"labels": {"app": "r"}},
                                                          "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    obj = defaulted(RC, rc)
    assert obj["spec"]["selector"] == {"app": "r"}
    assert obj["metadata"]["labels"] == {"app": "r"}
    assert obj["spec"]["replicas"] == 1
    assert obj["spec"]["template"]["spec"]["restartPolicy"] == "Always"


def test_replication_controller_keeps_given_selector_and_labels() -> None:
    rc = {"metadata": {"name": "r", "labels": {"team": "x"}},
          "spec": {"selector": {"app": "r"}, "template": {"metadata": {"labels": {"app": "r", "v": "1"}}}}}
    obj = defaulted(RC, rc)
    assert obj["spec"]["selector"] == {"app": "r"}
    assert obj["metadata"]["labels"] == {"team": "x"}


def test_replication_controller_without_template() -> None:
    obj = defaulted(RC, {"metadata": {"name": "r"}, "spec": {}})
    assert obj["spec"] == {"replicas": 1}


@pytest.mark.parametrize("image, policy", [
    ("nginx", "Always"),
    ("nginx:latest", "Always"),
    ("library/nginx", "Always"),
    ("localhost:5000/nginx", "Always"),
    ("registry.example.com:5000/team/app:latest", "Always"),
    ("nginx:1.25", "IfNotPresent"),
    ("vdata-imp:98", "IfNotPresent"),
    ("localhost:5000/nginx:v1", "IfNotPresent"),
    ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
    ("nginx:latest@sha256:" + "a" * 64, "Always"),
    ("Nginx", "IfNotPresent"),  # unparsable reference: no tag found
    ("", "IfNotPresent"),
])
def test_image_pull_policy(image: str, policy: str) -> None:
    c = defaulted(POD, pod(image=image))["spec"]["containers"][0]
    assert c["imagePullPolicy"] == policy


def test_explicit_pull_policy_kept() -> None:
    c = defaulted(POD, pod(image="nginx", imagePullPolicy="Never"))["spec"]["containers"][0]
    assert c["imagePullPolicy"] == "Never"


def test_pod_defaults() -> None:
    spec = defaulted(POD, pod())["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["securityContext"] == {}
    assert spec["enableServiceLinks"] is True
    c = spec["containers"][0]
    assert c["terminationMessagePath"] == "/dev/termination-log"
    assert c["terminationMessagePolicy"] == "File"


def test_pod_admission_defaults_on_create() -> None:
    spec = defaulted(POD, pod())["spec"]
    assert spec["priority"] == 0
    assert spec["preemptionPolicy"] == "PreemptLowerPriority"
    assert spec["serviceAccountName"] == "default"
    assert spec["serviceAccount"] == "default"
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    ]


def test_pod_admission_skipped_on_update() -> None:
    old = defaulted(POD, pod())
    spec = defaulted(POD, pod(), old=old)["spec"]
    for key in ("priority", "preemptionPolicy", "tolerations", "serviceAccountName"):
        assert key not in spec


@pytest.mark.parametrize("tolerations, added", [
    ([{"operator": "Exists"}], 0),
    ([{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}], 1),
    ([{"key": "node.kubernetes.io/unreachable", "operator": "Exists"}], 1),
    ([{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoSchedule"}], 2),
    ([{"key": "gpu", "operator": "Exists"}], 2),
])
def test_default_tolerations(tolerations: list[Obj], added: int) -> None:
    p = pod()
    p["spec"]["tolerations"] = tolerations
    spec = defaulted(POD, p)["spec"]
    assert spec["tolerations"][:len(tolerations)] == tolerations
    assert len(spec["tolerations"]) == len(tolerations) + added


@pytest.mark.parametrize("class_name, priority", [
    ("system-node-critical", 2000001000), ("system-cluster-critical", 2000000000), ("custom", None),
])
def test_priority_from_class(class_name: str, priority: int | None) -> None:
    p = pod()
    p["spec"]["priorityClassName"] = class_name
    assert defaulted(POD, p)["spec"].get("priority") == priority


def test_requests_default_to_limits_on_pods_only() -> None:
    resources_ = {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m"}}
    c = defaulted(POD, pod(resources=resources_))["spec"]["containers"][0]
    assert c["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}
    c = defaulted(POD, pod(resources={"limits": {"cpu": 1}}))["spec"]["containers"][0]
    assert c["resources"] == {"limits": {"cpu": "1"}, "requests": {"cpu": "1"}}
    tmpl = defaulted(DEPLOY, deployment({"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": 1}}}]}))
    assert tmpl["spec"]["template"]["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "1"}}


@pytest.mark.parametrize("raw, stored", [
    (0.3, "300m"), ("0.3", "300m"), ("1u", "1m"), (2, "2"), ("1024Mi", "1Gi"), ("abc", "abc"),
])
def test_resource_quantities_canonical(raw: object, stored: str) -> None:
    c = defaulted(POD, pod(resources={"requests": {"cpu": raw}}))["spec"]["containers"][0]
    assert c["resources"]["requests"]["cpu"] == stored


def test_probe_defaults() -> None:
    c = defaulted(POD, pod(readinessProbe={"tcpSocket": {"port": 80}, "timeoutSeconds": 0},
                           startupProbe={"httpGet": {"port": "http"}, "failureThreshold": 30},
                           livenessProbe={"grpc": {"port": 9000}}))["spec"]["containers"][0]
    assert c["readinessProbe"] == {"tcpSocket": {"port": 80}, "timeoutSeconds": 1, "periodSeconds": 10,
                                   "successThreshold": 1, "failureThreshold": 3}
    assert c["startupProbe"]["httpGet"] == {"port": "http", "path": "/", "scheme": "HTTP"}
    assert c["startupProbe"]["failureThreshold"] == 30
    assert c["livenessProbe"]["grpc"] == {"port": 9000, "service": ""}


def test_lifecycle_http_get_defaults() -> None:
    c = defaulted(POD, pod(lifecycle={"preStop": {"httpGet": {"port": 80}}}))["spec"]["containers"][0]
    assert c["lifecycle"]["preStop"]["httpGet"] == {"port": 80, "path": "/", "scheme": "HTTP"}


def test_env_and_ports() -> None:
    c = defaulted(POD, pod(env=[{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                           ports=[{"containerPort": 53, "protocol": "UDP"}, {"containerPort": 80}]))
    c = c["spec"]["containers"][0]
    assert c["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "spec.nodeName", "apiVersion": "v1"}
    assert [p["protocol"] for p in c["ports"]] == ["UDP", "TCP"]


def test_init_containers_defaulted() -> None:
    p = pod()
    p["spec"]["initContainers"] = [{"name": "init", "image": "busybox", "ports": [{"containerPort": 1}]}]
    c = defaulted(POD, p)["spec"]["initContainers"][0]
    assert c["imagePullPolicy"] == "Always"
    assert c["terminationMessagePolicy"] == "File"
    assert c["ports"][0]["protocol"] == "TCP"


def test_host_network_host_ports() -> None:
    p = pod(ports=[{"containerPort": 8080}, {"containerPort": 9090, "hostPort": 9091}])
    p["spec"]["hostNetwork"] = True
    ports = defaulted(POD, p)["spec"]["containers"][0]["ports"]
    assert [port["hostPort"] for port in ports] == [8080, 9091]


@pytest.mark.parametrize("volume, expected", [
    ({"name": "v"}, {"name": "v", "emptyDir": {}}),
    ({"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}),
    ({"name": "v", "hostPath": {"path": "/data"}}, {"name": "v", "hostPath": {"path": "/data", "type": ""}}),
    ({"name": "v", "hostPath": {"path": "/d", "type": "Directory"}},
     {"name": "v", "hostPath": {"path": "/d", "type": "Directory"}}),
    ({"name": "v", "secret": {"secretName": "s"}}, {"name": "v", "secret": {"secretName": "s", "defaultMode": 420}}),
    ({"name": "v", "configMap": {"name": "c", "defaultMode": 256}},
     {"name": "v", "configMap": {"name": "c", "defaultMode": 256}}),
    ({"name": "v", "downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]}},
     {"name": "v", "downwardAPI": {"defaultMode": 420, "items": [
         {"path": "n", "fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v1"}}]}}),
    ({"name": "v", "persistentVolumeClaim": {"claimName": "c"}},
     {"name": "v", "persistentVolumeClaim": {"claimName": "c"}}),
])
def test_volumes(volume: Obj, expected: Obj) -> None:
    p = pod()
    p["spec"]["volumes"] = [volume]
    assert defaulted(POD, p)["spec"]["volumes"] == [expected]


def svc(**spec: Any) -> Obj:
    return {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}], **spec}}


def test_service_defaults() -> None:
    spec = defaulted(SVC, svc(selector={"app": "x"}))["spec"]
    assert spec == {"selector": {"app": "x"}, "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                    "type": "ClusterIP", "sessionAffinity": "None", "internalTrafficPolicy": "Cluster",
                    "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]}


@pytest.mark.parametrize("port, expected", [
    ({"port": 80}, {"port": 80, "protocol": "TCP", "targetPort": 80}),
    ({"port": 80, "targetPort": 0}, {"port": 80, "protocol": "TCP", "targetPort": 80}),
    ({"port": 80, "targetPort": ""}, {"port": 80, "protocol": "TCP", "targetPort": 80}),
    ({"port": 80, "targetPort": 8080}, {"port": 80, "protocol": "TCP", "targetPort": 8080}),
    ({"port": 80, "targetPort": "http"}, {"port": 80, "protocol": "TCP", "targetPort": "http"}),
    ({"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "UDP", "targetPort": 53}),
])
def test_service_ports(port: Obj, expected: Obj) -> None:
    assert defaulted(SVC, svc(ports=[port]))["spec"]["ports"] == [expected]


@pytest.mark.parametrize("type_, external, internal", [
    ("ClusterIP", None, "Cluster"),
    ("NodePort", "Cluster", "Cluster"),
    ("LoadBalancer", "Cluster", "Cluster"),
    ("ExternalName", None, None),
])
def test_service_traffic_policies(type_: str, external: str | None, internal: str | None) -> None:
    spec = defaulted(SVC, svc(type=type_))["spec"]
    assert spec.get("externalTrafficPolicy") == external
    assert spec.get("internalTrafficPolicy") == internal


def test_cluster_ip_service_with_external_ips_gets_external_policy() -> None:
    spec = defaulted(SVC, svc(externalIPs=["192.0.2.10"]))["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster"


def test_explicit_traffic_policy_kept() -> None:
    spec = defaulted(SVC, svc(type="NodePort", externalTrafficPolicy="Local"))["spec"]
    assert spec["externalTrafficPolicy"] == "Local"


def test_external_name_service_has_no_ip_families() -> None:
    spec = defaulted(SVC, svc(type="ExternalName", externalName="example.com"))["spec"]
    assert "ipFamilies" not in spec and "ipFamilyPolicy" not in spec


def test_load_balancer_service() -> None:
    obj = svc(type="LoadBalancer")
    obj["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}, {"hostname": "lb.example.com"}]}}
    obj = defaulted(SVC, obj)
    assert obj["spec"]["allocateLoadBalancerNodePorts"] is True
    assert obj["status"]["loadBalancer"]["ingress"] == [{"ip": "192.0.2.1", "ipMode": "VIP"},
                                                        {"hostname": "lb.example.com"}]


@pytest.mark.parametrize("spec, expected", [
    ({"sessionAffinity": "ClientIP"}, {"clientIP": {"timeoutSeconds": 10800}}),
    ({"sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}},
     {"clientIP": {"timeoutSeconds": 60}}),
    ({"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}}, None),
])
def test_session_affinity(spec: Obj, expected: Obj | None) -> None:
    assert defaulted(SVC, svc(**spec))["spec"].get("sessionAffinityConfig") == expected


def test_cluster_ip_not_allocated_here() -> None:
    spec = defaulted(SVC, svc(type="NodePort"))["spec"]
    assert "clusterIP" not in spec
    assert "nodePort" not in spec["ports"][0]


def test_endpoints_protocol() -> None:
    ep = {"metadata": {"name": "e"}, "subsets": [{"addresses": [{"ip": "10.0.0.1"}],
                                                  "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}]}
    assert [p["protocol"] for p in defaulted(EP, ep)["subsets"][0]["ports"]] == ["TCP", "UDP"]


def test_namespace_on_create() -> None:
    ns = defaulted(NS, {"metadata": {"name": "team"}})
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team"}


def test_namespace_keeps_other_finalizers() -> None:
    ns = defaulted(NS, {"metadata": {"name": "team"}, "spec": {"finalizers": ["example.com/x"]}})
    assert ns["spec"]["finalizers"] == ["example.com/x", "kubernetes"]


def test_namespace_update_does_not_restore_finalizer() -> None:
    old = {"metadata": {"name": "team"}, "spec": {}, "status": {"phase": "Terminating"}}
    ns = defaulted(NS, {"metadata": {"name": "team", "labels": {"a": "b"}}, "status": {"phase": "Terminating"}},
                   old=old)
    assert "finalizers" not in ns["spec"]
    assert ns["status"]["phase"] == "Terminating"
    assert ns["metadata"]["labels"] == {"a": "b", "kubernetes.io/metadata.name": "team"}


def test_node_allocatable_from_capacity() -> None:
    node = defaulted(NODE, {"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "4", "memory": "8192Mi"}}})
    assert node["status"]["allocatable"] == {"cpu": "4", "memory": "8Gi"}
    assert node["status"]["capacity"] == {"cpu": "4", "memory": "8Gi"}
    assert defaulted(NODE, {"metadata": {"name": "n"}}) == {"metadata": {"name": "n"}}


def test_hpa_v2() -> None:
    hpa = {"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "maxReplicas": 5}}
    spec = defaulted(HPA2, hpa)["spec"]
    assert spec["minReplicas"] == 1
    assert spec["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    assert "behavior" not in spec


def test_hpa_v2_behavior_filled_when_given() -> None:
    hpa = {"metadata": {"name": "h"}, "spec": {"maxReplicas": 5, "minReplicas": 2,
                                               "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}}
    spec = defaulted(HPA2, hpa)["spec"]
    assert spec["minReplicas"] == 2
    assert spec["behavior"]["scaleDown"] == {"stabilizationWindowSeconds": 60, "selectPolicy": "Max",
                                             "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}
    assert spec["behavior"]["scaleUp"]["policies"][0] == {"type": "Pods", "value": 4, "periodSeconds": 15}
    assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0


def test_hpa_v2_metric_quantities_canonical() -> None:
    hpa = {"metadata": {"name": "h"}, "spec": {"maxReplicas": 5, "metrics": [
        {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1024Mi"}}}]}}
    target = defaulted(HPA2, hpa)["spec"]["metrics"][0]["resource"]["target"]
    assert target["averageValue"] == "1Gi"


def test_hpa_v1() -> None:
    hpa = {"metadata": {"name": "h"}, "spec": {"maxReplicas": 5, "targetCPUUtilizationPercentage": 50}}
    spec = defaulted(HPA1, hpa)["spec"]
    assert spec == {"maxReplicas": 5, "targetCPUUtilizationPercentage": 50, "minReplicas": 1}


@pytest.mark.parametrize("res, obj", [
    (EVENT, {"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "Started"}),
    (LEASE, {"metadata": {"name": "l"}, "spec": {"holderIdentity": "a"}}),
])
def test_untouched_kinds(res: resources.Resource, obj: Obj) -> None:
    assert defaulted(res, obj) == obj


@pytest.mark.parametrize("res, obj", [
    (POD, pod(resources={"limits": {"cpu": 0.5}}, livenessProbe={"exec": {"command": ["true"]}})),
    (DEPLOY, yaml.safe_load(SEED)),
    (SVC, svc(type="LoadBalancer")),
    (RC, {"metadata": {"name": "r"}, "spec": {"template": {"metadata": {"labels": {"a": "b"}}}}}),
    (NS, {"metadata": {"name": "n"}}),
    (HPA2, {"metadata": {"name": "h"}, "spec": {"maxReplicas": 1, "behavior": {}}}),
])
def test_idempotent(res: resources.Resource, obj: Obj) -> None:
    once = defaulted(res, obj)
    assert defaulted(res, once) == once


def test_namespace_is_not_set() -> None:
    assert "namespace" not in defaulted(POD, pod())["metadata"]
    assert "namespace" not in defaulted(SVC, svc())["metadata"]


@pytest.mark.parametrize("res", [POD, DEPLOY, RS, RC, SVC, EP, NS, NODE, HPA2, HPA1])
@pytest.mark.parametrize("junk", [
    {"spec": "x"}, {"spec": {"containers": "x", "template": 3, "ports": [1, None]}}, {"metadata": None},
    {"spec": {"containers": [None, {"ports": "x", "resources": []}]}},
])
def test_wrong_types_do_not_crash(res: resources.Resource, junk: Obj) -> None:
    defaulted(res, junk)
