"""Fixtures for the kubelet on the real Docker engine, with the real API server and etcd.

- `apiserver` is overridden here: an API server of its own (prefix /kubelet-tests),
  with the kubelet client certificate every test API server has, so `kubectl
  logs/exec` reach the kubelet (which serves HTTPS with a certificate from the test CA) (the shared fixtures `namespace`
  and `client` then use this one for the tests below this directory).
- `kubelet`: one kubelet process shared by the session, with its own node
  name, root dir and pod network: a CNI configuration (what the network agent
  would write) for a bridge of its own on an unused /24, host-local's store
  under its root dir. `start_kubelet` starts more
  (a test that kills one with SIGKILL uses its own).
- `pods`: creates pods for a test and, afterwards, deletes them and waits until
  the kubelet removed their containers.
At the end, everything labelled with a test node's name is removed from the
engine, with the bridges and root dirs; at the start, whatever a run killed
before its clean-up left there is.
"""
from __future__ import annotations

import contextlib
import json
import ipaddress
import pathlib
import random
import shutil
import subprocess
import sys
import uuid
import warnings
from typing import Any, AsyncIterator, Callable, Iterator

import docker
import docker.errors
import pytest

from minik8s.api import errors
from minik8s.api import identities
from minik8s.api import resources
from minik8s.client import rest
from minik8s.images import build
from minik8s.kubelet import runtime
from minik8s.network import cniconfig
from minik8s.util import procs
from tests import conftest as root

DOCKERD_LOG = "/tmp/minik8s-dockerd.log"
REPO = root.REPO

def start_kubelet_apiserver(tmp: pathlib.Path, etcd: procs.EtcdProcess) -> root.ApiServerProcess:
    return root.start_apiserver(tmp, etcd, prefix="/kubelet-tests")


@pytest.fixture(scope="session")
def apiserver(session_tmp: pathlib.Path, etcd: procs.EtcdProcess) -> Iterator[root.ApiServerProcess]:
    server = start_kubelet_apiserver(session_tmp, etcd)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    procs.ensure_dockerd(log_file=DOCKERD_LOG)
    client = docker.DockerClient(base_url=f"unix://{procs.DOCKER_SOCKET}")
    build.build_images(client, log=lambda m: None)
    sweep_test_nodes(client)
    yield client
    client.close()


def remove_containers(client: docker.DockerClient, containers: list[dict[str, Any]]) -> None:
    # Sandboxes last: nothing may still use their namespaces when they go.
    for c in sorted(containers, key=lambda c: c["Labels"].get(runtime.CONTAINER_TYPE) == "podsandbox"):
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(c["Id"], force=True)


BRIDGE_PREFIX = "mk8st"  # the test kubelets' pod bridges


def sweep_test_nodes(client: docker.DockerClient) -> None:
    """Containers, then pod bridges, of test kubelets (`test-node-*`) an interrupted run left behind."""
    def stale(labels: dict[str, str] | None) -> bool:
        return (labels or {}).get(runtime.NODE, "").startswith("test-node-")

    remove_containers(client, [c for c in client.api.containers(all=True, filters={"label": runtime.NODE})
                               if stale(c["Labels"])])
    links = json.loads(subprocess.run(["ip", "-j", "link", "show", "type", "bridge"], capture_output=True,
                                      text=True, check=True).stdout or "[]")
    for link in links:
        if link["ifname"].startswith(BRIDGE_PREFIX):
            subprocess.run(["ip", "link", "del", link["ifname"]], capture_output=True, check=False)


def unused_pod_cidr(client: docker.DockerClient) -> str:
    used = []
    for net in client.api.networks():
        for cfg in (net.get("IPAM") or {}).get("Config") or []:
            if cfg.get("Subnet"):
                used.append(ipaddress.ip_network(cfg["Subnet"], strict=False))
    routes = json.loads(subprocess.run(["ip", "-j", "route", "show"], capture_output=True, text=True,
                                       check=True).stdout or "[]")
    for route in routes:
        if route.get("dst") not in (None, "default"):
            used.append(ipaddress.ip_network(route["dst"], strict=False))
    for _ in range(500):
        candidate = ipaddress.ip_network(f"10.250.{random.randint(0, 255)}.0/24")
        if not any(candidate.overlaps(u) for u in used):
            return str(candidate)
    raise RuntimeError("no unused /24 in 10.250.0.0/16")


class KubeletProcess:
    def __init__(self, apiserver: root.ApiServerProcess, docker_client: docker.DockerClient, tmp: pathlib.Path,
                 *, extra: list[str] | None = None) -> None:
        self.apiserver = apiserver
        self.docker = docker_client
        self.node = "test-node-" + uuid.uuid4().hex[:6]
        self.cidr = unused_pod_cidr(docker_client)
        self.bridge = BRIDGE_PREFIX + self.node[-6:]
        self.root = tmp / self.node
        self.cni_conf_dir = self.root / "net.d"
        self.ipam_dir = self.root / "ipam"
        # What the network agent writes on a node (kubelet tests run no agent).
        cniconfig.write(str(self.cni_conf_dir), cniconfig.conflist(self.cidr, bridge=self.bridge,
                                                                   data_dir=str(self.ipam_dir)))
        self.port = procs.free_port()
        self.log_file = tmp / f"{self.node}.log"
        self.extra = extra or []
        self.proc: subprocess.Popen[bytes] | None = None

    def argv(self) -> list[str]:
        kubeconfig = self.apiserver.kubeconfig_for(identities.node_user(self.node), (identities.NODES,))
        return [sys.executable, "-m", "minik8s", "kubelet", "--kubeconfig", kubeconfig,
                "--node-name", self.node, "--node-ip", "127.0.0.1", "--pod-cidr", self.cidr,
                "--cni-conf-dir", str(self.cni_conf_dir), "--port", str(self.port),
                *root.test_pki().kubelet_args(self.node, "127.0.0.1"),
                "--root-dir", str(self.root), "--docker-host", f"unix://{procs.DOCKER_SOCKET}",
                "--backoff-base", "1", "--backoff-max", "4", "--lease-interval", "1",
                "--node-status-update-interval", "1", "--housekeeping-interval", "1", *self.extra]

    def start(self) -> "KubeletProcess":
        with open(self.log_file, "ab") as out:
            self.proc = subprocess.Popen(self.argv(), stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO))
        proc = self.proc

        def up() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"kubelet exited ({proc.returncode}):\n{self.log()[-3000:]}")
            try:
                with root.opener(None).open(f"https://127.0.0.1:{self.port}/healthz", timeout=1) as resp:
                    return resp.status == 200
            except OSError:
                return False

        procs.wait_for(up, 60, what=f"kubelet {self.node}")
        return self

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            procs.stop_pid(self.proc.pid, timeout=15)
            self.proc.wait(timeout=5)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def containers(self, uid: str | None = None) -> list[dict[str, Any]]:
        labels = [f"{runtime.NODE}={self.node}"]
        if uid:
            labels.append(f"{runtime.POD_UID}={uid}")
        return self.docker.api.containers(all=True, filters={"label": labels})

    def cleanup(self) -> None:
        self.stop()
        remove_containers(self.docker, self.containers())
        out = subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, text=True, check=False)
        if out.returncode != 0 and "Cannot find device" not in out.stderr:
            warnings.warn(f"pod bridge {self.bridge} not removed: {out.stderr.strip()}", stacklevel=2)
        shutil.rmtree(self.root, ignore_errors=True)

    def reserved(self) -> dict[str, str]:
        """host-local's reservations: pod IP -> sandbox container id."""
        store = self.ipam_dir / cniconfig.NETWORK_NAME
        if not store.exists():
            return {}
        return {p.name: p.read_text().split()[0] for p in store.iterdir()
                if p.name[0].isdigit() and p.read_text().strip()}


@pytest.fixture(scope="session")
def start_kubelet(apiserver: root.ApiServerProcess, docker_client: docker.DockerClient,
                  session_tmp: pathlib.Path) -> Iterator[Callable[..., KubeletProcess]]:
    started: list[KubeletProcess] = []

    def _start(**kw: Any) -> KubeletProcess:
        k = KubeletProcess(apiserver, docker_client, session_tmp, **kw)
        started.append(k)
        return k.start()

    yield _start
    for k in started:
        k.cleanup()


@pytest.fixture(scope="session")
def kubelet(start_kubelet: Callable[..., KubeletProcess]) -> KubeletProcess:
    return start_kubelet()


PODS = resources.must("", "v1", "pods")


class Pods:
    """Creates pods for one test; on teardown deletes them and waits for their containers to go."""

    def __init__(self, client: rest.Client, namespace: str, node: KubeletProcess) -> None:
        self.client = client
        self.namespace = namespace
        self.node = node
        self.created: dict[str, tuple[str, KubeletProcess]] = {}  # name -> (uid, node)

    async def create(self, name: str, containers: list[dict[str, Any]], node: KubeletProcess | None = None,
                     **spec: Any) -> dict[str, Any]:
        spec.setdefault("terminationGracePeriodSeconds", 2)
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": self.namespace},
                "spec": {"nodeName": (node or self.node).node, "containers": containers, **spec}}
        pod = await self.client.create(PODS, body, self.namespace)
        self.created[name] = (pod["metadata"]["uid"], node or self.node)
        return pod

    async def get(self, name: str) -> dict[str, Any] | None:
        return await self.client.get_or_none(PODS, name, self.namespace)

    async def wait(self, name: str, predicate: Callable[[dict[str, Any]], Any], timeout: float = 60,
                   what: str = "") -> dict[str, Any]:
        last: list[dict[str, Any] | None] = [None]

        async def check() -> dict[str, Any] | None:
            pod = last[0] = await self.get(name)
            return pod if pod is not None and predicate(pod) else None
        try:
            return await procs.wait_for_async(check, timeout, interval=0.1, what=what or f"pod {name}")
        except TimeoutError as e:
            status = json.dumps((last[0] or {}).get("status"), indent=1)
            raise TimeoutError(f"{e}; the pod's last status: {status}\nkubelet log:\n{self.node.log()[-3000:]}") \
                from None

    async def cleanup(self) -> None:
        for name in self.created:
            try:
                await self.client.delete(PODS, name, self.namespace)
            except errors.NotFound:
                pass
        for name in self.created:
            await procs.wait_for_async(lambda n=name: self.gone(n), 60, interval=0.2, what=f"pod {name} deleted")
        for uid, node in self.created.values():
            await procs.wait_for_async(lambda u=uid, n=node: not n.containers(u), 30, interval=0.2,
                                       what=f"containers of pod {uid} removed")

    async def gone(self, name: str) -> bool:
        return await self.get(name) is None


@pytest.fixture
async def pods(client: rest.Client, namespace: str, kubelet: KubeletProcess) -> AsyncIterator[Pods]:
    p = Pods(client, namespace, kubelet)
    yield p
    await p.cleanup()


def container_state(pod: dict[str, Any], name: str) -> dict[str, Any]:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs["name"] == name:
            return cs
    return {}


def is_ready(pod: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])
