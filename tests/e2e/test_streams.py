"""Streams on the multi-node cluster: the API server on the master reaches each node's
kubelet at the node's own address (HTTPS, with its kubelet client certificate, the
kubelet's certificate checked), and port-forward dials inside the pod's network namespace
on that node.

One pod per node serves only on its own 127.0.0.1; kubectl 1.27 (SPDY/3.1) and 1.32
(SPDY tunnelled in a websocket) forward a local port to each, and exec and logs reach
them too.
"""
from __future__ import annotations

import os
import pathlib
import select
import subprocess
import time

from minik8s.util import procs
from tests.e2e.conftest import Cluster
from tests.e2e.test_podnetwork_vxlan import pod_manifest
from tests.e2e.test_podnetwork_vxlan import start_pods

KUBECTL_DIR = pathlib.Path("/usr/lib/google-cloud-sdk/bin")
LOOPBACK_SERVER = ("mkdir -p /tmp/www && hostname > /tmp/www/index.html && echo serving && "
                   "exec httpd -f -p 127.0.0.1:8081 -h /tmp/www")


def forwarded_get(cluster: Cluster, version: str, namespace: str, pod: str) -> str:
    """Run `kubectl port-forward` with kubectl `version` and GET / through it."""
    local = procs.free_port()
    env = dict(os.environ, KUBECONFIG=cluster.kubeconfig, KUBECACHEDIR=cluster.cache_dir)
    proc = subprocess.Popen([str(KUBECTL_DIR / f"kubectl.{version}"), "port-forward", "-n", namespace,
                             f"pod/{pod}", f"{local}:8081"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        line = b""
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([proc.stdout], [], [], max(deadline - time.monotonic(), 0))
            assert ready, f"kubectl {version} port-forward printed nothing"
            ch = os.read(proc.stdout.fileno(), 1)
            assert ch, f"kubectl {version} port-forward ended: {proc.stderr.read() if proc.stderr else b''!r}"
            line += ch
        assert line.startswith(f"Forwarding from 127.0.0.1:{local}".encode()), line
        done = subprocess.run(["curl", "-s", "--max-time", "10", f"http://127.0.0.1:{local}/"], capture_output=True,
                              text=True, timeout=30, check=False)
        assert done.returncode == 0, done
        return done.stdout.strip()
    finally:
        proc.terminate()
        proc.wait(10)


def test_port_forward_exec_and_logs_reach_every_node(cluster: Cluster, namespace: str) -> None:
    manifests = [pod_manifest(f"loopy-{i}", node, command=["sh", "-c", LOOPBACK_SERVER])
                 for i, node in enumerate(sorted(cluster.nodes))]
    pods = start_pods(cluster, namespace, manifests)
    for name, pod in sorted(pods.items()):
        for version in ("1.27", "1.32"):
            assert forwarded_get(cluster, version, namespace, name) == name, (version, pod["spec"]["nodeName"])
        exec_done = cluster.kubectl("exec", "-n", namespace, name, "--", "sh", "-c", "exit 5", check=False)
        assert exec_done.returncode == 5
        assert cluster.kubectl("logs", "-n", namespace, name).stdout == "serving\n"
