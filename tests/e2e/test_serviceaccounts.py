"""A pod of the local cluster talks to the API server as its ServiceAccount, with the
official python client's `config.load_incluster_config()`: the token, ca.crt and
namespace that ServiceAccount admission mounts at /var/run/secrets/kubernetes.io/
serviceaccount (the kubelet writes them through TokenRequest and the published
`kube-root-ca.crt`), and KUBERNETES_SERVICE_HOST/PORT, the `kubernetes` Service's
ClusterIP the kubelet puts in every container's environment, reached through the
node's proxy over HTTPS verified with the mounted CA.

The pod runs the host's own python interpreter and this checkout's virtualenv through
read-only hostPath volumes in the locally built busybox image (nothing is pulled):
the local cluster's nodes share the host's filesystem, so this runs on the local
cluster only.
"""
from __future__ import annotations

import json
import pathlib
import sys
import sysconfig
from typing import Any

import pytest

from tests.e2e.conftest import Cluster, wait_until

# What the pod runs: every answer as one JSON line.
SCRIPT = r'''
import base64, json, os
from kubernetes import client, config
config.load_incluster_config()
base = "/var/run/secrets/kubernetes.io/serviceaccount"
ns = open(base + "/namespace").read()
claims = json.loads(base64.urlsafe_b64decode(open(base + "/token").read().split(".")[1] + "=="))
out = {"namespace": ns, "sub": claims["sub"], "pod": claims["kubernetes.io"].get("pod", {}).get("name"),
       "host": os.environ.get("KUBERNETES_SERVICE_HOST"), "port": os.environ.get("KUBERNETES_SERVICE_PORT"),
       "ca": open(base + "/ca.crt").read()}
api = client.CoreV1Api()
for what, call in (("own-pods", lambda: api.list_namespaced_pod(ns)),
                   ("own-secrets", lambda: api.list_namespaced_secret(ns)),
                   ("default-pods", lambda: api.list_namespaced_pod("default"))):
    try:
        call()
        out[what] = 200
    except client.ApiException as e:
        out[what] = e.status
print(json.dumps(out))
'''


def python_pod(name: str, account: str) -> dict[str, Any]:
    prefix = pathlib.Path(sys.base_prefix)
    site = pathlib.Path(sysconfig.get_paths()["purelib"])
    mounts = {"python": str(prefix), "site": str(site), "libs": "/lib/x86_64-linux-gnu", "loader": "/lib64"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "serviceAccountName": account, "restartPolicy": "Never",
        "volumes": [{"name": k, "hostPath": {"path": v, "type": "Directory"}} for k, v in mounts.items()],
        "containers": [{
            "name": "client", "image": "minik8s/busybox:1",
            "command": [str(prefix / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"),
                        "-c", SCRIPT],
            "env": [{"name": "PYTHONPATH", "value": "/opt/site"}, {"name": "PYTHONNOUSERSITE", "value": "1"}],
            "volumeMounts": [{"name": k, "mountPath": "/opt/site" if k == "site" else v, "readOnly": True}
                             for k, v in mounts.items()]}]}}


def test_in_cluster_client_with_the_mounted_token(local_cluster: Cluster, namespace: str) -> None:
    cluster = local_cluster
    if not pathlib.Path("/lib/x86_64-linux-gnu").is_dir() or not pathlib.Path("/lib64").is_dir():
        pytest.skip("the host's python is lent to the pod from /lib/x86_64-linux-gnu and /lib64")
    cluster.kubectl("create", "serviceaccount", "reader", "-n", namespace)
    cluster.kubectl("create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", namespace)
    cluster.kubectl("create", "rolebinding", "reader-reads-pods", "--role=pod-reader",
                    f"--serviceaccount={namespace}:reader", "-n", namespace)
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(python_pod("incluster", "reader")))

    def finished() -> dict[str, Any] | None:
        pod = cluster.get_json("pod", "incluster", "-n", namespace)
        return pod if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") else None
    pod = wait_until(finished, 180, "the in-cluster client pod to finish")
    logs = cluster.kubectl("logs", "incluster", "-n", namespace).stdout
    assert pod["status"]["phase"] == "Succeeded", (pod["status"], logs)
    out = json.loads(logs.strip().splitlines()[-1])

    volume = next(v for v in pod["spec"]["volumes"] if v["name"].startswith("kube-api-access-"))
    assert {"name": volume["name"], "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"} \
        in pod["spec"]["containers"][0]["volumeMounts"]
    kubernetes_svc = cluster.get_json("service", "kubernetes", "-n", "default")
    assert out["host"] == kubernetes_svc["spec"]["clusterIP"] and out["port"] == "443", out
    assert out["namespace"] == namespace
    assert out["sub"] == f"system:serviceaccount:{namespace}:reader" and out["pod"] == "incluster"
    ca = cluster.get_json("configmap", "kube-root-ca.crt", "-n", namespace)["data"]["ca.crt"]
    assert out["ca"] == ca
    # The bound Role's grant, and nothing else.
    assert (out["own-pods"], out["own-secrets"], out["default-pods"]) == (200, 403, 403), out
