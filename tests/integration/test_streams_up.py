"""logs, exec, cp, port-forward and attach on the `minik8s up` path, with real kubectl and the python client.

One single-node cluster (`minik8s up` with its own state dir and ports) serves the
whole module. Each kubectl version speaks its own protocols: 1.27 and 1.29 use
SPDY/3.1 for exec, attach, cp and port-forward; 1.32 uses websockets for exec and
attach (v5.channel.k8s.io) and SPDY tunnelled in a websocket for port-forward. The
API server logs the protocol of each session, and the tests check that each
version really went the way it is said to go.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import random
import select
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from minik8s.client import kubeconfig as kubeconfig_mod
from minik8s.client import tls as tls_mod
from minik8s.cluster import config
from minik8s.util import procs

pytestmark = pytest.mark.docker

KUBECTL_DIR = pathlib.Path("/usr/lib/google-cloud-sdk/bin")
VERSIONS = ("1.27", "1.29", "1.32")
# What each version speaks (the API server logs it per session).
EXEC_PROTOCOL = {"1.27": "SPDY/3.1 v4.channel.k8s.io", "1.29": "SPDY/3.1 v4.channel.k8s.io",
                 "1.32": "websocket v5.channel.k8s.io"}
PORT_FORWARD_PROTOCOL = {"1.27": "SPDY/3.1", "1.29": "SPDY/3.1", "1.32": "SPDY/3.1 tunnelled in a websocket"}
NS = "streams"
# A hostNetwork pod's server on the node's loopback (a free port of this host).
HOST_PORT = procs.free_port()

MANIFESTS = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {NS}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: ticker, namespace: {NS}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: ticker}}}}
  template:
    metadata: {{labels: {{app: ticker}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: ticker
        image: minik8s/busybox:1
        command: ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.3; done"]
---
apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: {NS}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: minik8s/web:1
---
apiVersion: v1
kind: Pod
metadata: {{name: loopy, namespace: {NS}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: loopy
    image: minik8s/busybox:1
    command: ["sh", "-c", "mkdir -p /tmp/www && echo loopback-only > /tmp/www/index.html &&
              exec httpd -f -p 127.0.0.1:8081 -h /tmp/www"]
---
apiVersion: v1
kind: Pod
metadata: {{name: hostloop, namespace: {NS}}}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: hostloop
    image: minik8s/busybox:1
    command: ["sh", "-c", "mkdir -p /tmp/www && echo on-the-node > /tmp/www/index.html &&
              exec httpd -f -p 127.0.0.1:{HOST_PORT} -h /tmp/www"]
"""


@dataclasses.dataclass
class Cluster:
    state: pathlib.Path
    env: dict[str, str]
    kubeconfig: pathlib.Path
    kubelet_port: int

    def apiserver_log(self) -> str:
        return (self.state / "logs" / "apiserver.log").read_text(errors="replace")


def run(args: list[str], env: dict[str, str], *, input: str | bytes | None = None, check: bool = True,
        timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    data = input.encode() if isinstance(input, str) else input
    proc = subprocess.run(args, input=data, capture_output=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}): {proc.stdout!r}\n{proc.stderr!r}")
    return proc


def kubectl_bin(version: str) -> str:
    path = KUBECTL_DIR / f"kubectl.{version}"
    assert path.exists(), f"{path} is missing (the test needs the versioned kubectl binaries)"
    return str(path)


def kubectl(cluster: Cluster, version: str, *args: str, input: str | bytes | None = None, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return run([kubectl_bin(version), "--kubeconfig", str(cluster.kubeconfig), "-n", NS, *args], cluster.env,
               input=input, check=check, timeout=timeout)


def popen_kubectl(cluster: Cluster, version: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([kubectl_bin(version), "--kubeconfig", str(cluster.kubeconfig), "-n", NS, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cluster.env)


def read_line(proc: subprocess.Popen[bytes], timeout: float = 30) -> str:
    """One line of the process's stdout, waiting at most `timeout`."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no line from {proc.args} within {timeout}s (got {line!r})")
        ready, _, _ = select.select([proc.stdout], [], [], remaining)
        if ready:
            ch = os.read(proc.stdout.fileno(), 1)
            if not ch:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise AssertionError(f"{proc.args} ended: {line!r} {err}")
            line += ch
    return line.decode().rstrip("\n")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def wait_for(what: str, check: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("streams-up")
    state, home = tmp / "state", tmp / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), KUBECACHEDIR=str(tmp / "cache"))
    env.pop("KUBECONFIG", None)
    kubeconfig = tmp / "kubeconfig"
    kubelet_port = procs.free_port()
    node = "streams-up-node"
    minik8s = [sys.executable, "-m", "minik8s"]
    up = [*minik8s, "up", "--state-dir", str(state), "--port", str(procs.free_port()),
          "--etcd-client-port", str(procs.free_port()), "--etcd-peer-port", str(procs.free_port()),
          "--node-ip", "127.0.0.1", "--node-name", node, "--kubeconfig", str(kubeconfig),
          "--set", f"kubelet.port={kubelet_port}", "--set", f"dns.port={procs.free_port()}",
          "--set", "controller-manager.cluster-cidr=10.242.0.0/16"]
    c = Cluster(state, env, kubeconfig, kubelet_port)
    try:
        run(up, env, timeout=300)
        run([kubectl_bin("1.32"), "--kubeconfig", str(kubeconfig), "apply", "-f", "-"], env, input=MANIFESTS)
        run([kubectl_bin("1.32"), "--kubeconfig", str(kubeconfig), "-n", NS, "wait", "--for=condition=Ready",
             "pod", "--all", "--timeout=120s"], env, timeout=150)
        yield c
    finally:
        run([*minik8s, "down", "--state-dir", str(state)], env, check=False, timeout=120)
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=io.minik8s.node={node}"],
                         capture_output=True, text=True, check=False).stdout
    assert out.strip() == "", "down removes the pods' containers"


def ticker_pod(cluster: Cluster) -> str:
    out = kubectl(cluster, "1.32", "get", "pods", "-l", "app=ticker", "-o", "jsonpath={.items[0].metadata.name}")
    return out.stdout.decode()


# -- the kubelet's door ---------------------------------------------------------------------


def test_up_kubelet_serves_https_to_the_api_servers_certificate_only(cluster: Cluster) -> None:
    etc = cluster.state / "etc"
    kubelet = config.read_options(etc / "kubelet.yaml", "kubelet")
    assert "token" not in kubelet and "kubelet-token" not in config.read_options(etc / "apiserver.yaml", "apiserver")
    assert stat.S_IMODE((etc / "pki" / "kubelet.key").stat().st_mode) == 0o600
    # At the node's address, as the API server dials it: the certificate names that address.
    url = f"https://{kubelet['node-ip']}:{cluster.kubelet_port}/pods"
    ca = (etc / "pki" / "ca.crt").read_bytes()

    def get(cert: bytes | None = None, key: bytes | None = None) -> tuple[int, bytes]:
        ctx = tls_mod.client_context(tls_mod.TLSConfig(ca=ca, cert=cert, key=key))
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))
        try:
            with opener.open(url, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    assert get()[0] == 401
    node = kubeconfig_mod.load(etc / "kubelet.conf")  # the node's own identity is not the API server's
    status, body = get(node.cert, node.key)
    assert status == 403 and json.loads(body)["reason"] == "Forbidden"
    status, body = get((etc / "pki" / "apiserver-kubelet-client.crt").read_bytes(),
                       (etc / "pki" / "apiserver-kubelet-client.key").read_bytes())
    assert status == 200 and json.loads(body)["kind"] == "PodList"
    plain = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url.replace("https://", "http://")],
                cluster.env, check=False)
    assert plain.stdout == b"000", "no plain HTTP: not even a 401 (curl got no HTTP response)"


# -- logs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_logs(cluster: Cluster, version: str) -> None:
    pod = ticker_pod(cluster)
    lines = kubectl(cluster, version, "logs", pod).stdout.decode().splitlines()
    assert lines and all(line.startswith("tick ") for line in lines)
    via_deploy = kubectl(cluster, version, "logs", "deploy/ticker", "--tail=2").stdout.decode().splitlines()
    assert len(via_deploy) == 2 and via_deploy[0].startswith("tick ")
    # -f follows: lines written after it started arrive; it ends when killed.
    last = int(kubectl(cluster, version, "logs", pod, "--tail=1").stdout.split()[1])
    follow = popen_kubectl(cluster, version, "logs", "-f", pod, "--tail=1")
    try:
        seen = [int(read_line(follow).split()[1]) for _ in range(4)]
    finally:
        stop(follow)
    assert seen == sorted(seen) and seen[-1] > last + 1, (last, seen)
    assert follow.returncode is not None


# -- exec -----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_exec(cluster: Cluster, version: str) -> None:
    done = kubectl(cluster, version, "exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 7", check=False)
    assert done.returncode == 7, done
    assert done.stdout == b"out\n" and b"err\n" in done.stderr
    assert kubectl(cluster, version, "exec", "web", "--", "true").returncode == 0
    echoed = kubectl(cluster, version, "exec", "-i", "web", "--", "cat", input="from stdin\n")
    assert echoed.stdout == b"from stdin\n"
    assert f"exec {NS}/web: {EXEC_PROTOCOL[version]}" in cluster.apiserver_log()


# -- cp -------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_cp_both_ways(cluster: Cluster, version: str, tmp_path: pathlib.Path) -> None:
    # Several SPDY windows' worth, so flow control on real kubectl is exercised both ways.
    payload = random.Random(version).randbytes(300 * 1024)
    src = tmp_path / "payload.bin"
    src.write_bytes(payload)
    remote = f"/tmp/payload-{version}.bin"
    kubectl(cluster, version, "cp", str(src), f"web:{remote}")
    size = kubectl(cluster, version, "exec", "web", "--", "wc", "-c", remote).stdout.split()[0]
    assert int(size) == len(payload)
    back = tmp_path / "back.bin"
    kubectl(cluster, version, "cp", f"web:{remote}", str(back))
    assert back.read_bytes() == payload


# -- port-forward ---------------------------------------------------------------------------


def curl(port: int) -> str:
    done = subprocess.run(["curl", "-s", "--max-time", "10", f"http://127.0.0.1:{port}/"], capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode == 0, done
    return done.stdout


@pytest.mark.parametrize("version", VERSIONS)
def test_port_forward(cluster: Cluster, version: str) -> None:
    web_port, loopy_port = procs.free_port(), procs.free_port()
    forward = popen_kubectl(cluster, version, "port-forward", "pod/web", f"{web_port}:80")
    try:
        assert read_line(forward).startswith(f"Forwarding from 127.0.0.1:{web_port} -> 80")
        # The web image answers with the pod's hostname; several connections in turn.
        assert [curl(web_port).strip() for _ in range(3)] == ["web"] * 3
    finally:
        stop(forward)
    # A server that listens on the pod's 127.0.0.1 only: reachable because the
    # kubelet connects from inside the pod's network namespace.
    forward = popen_kubectl(cluster, version, "port-forward", "pod/loopy", f"{loopy_port}:8081")
    try:
        assert read_line(forward).startswith(f"Forwarding from 127.0.0.1:{loopy_port} -> 8081")
        assert curl(loopy_port) == "loopback-only\n"
    finally:
        stop(forward)
    assert f"port-forward {NS}/loopy: {PORT_FORWARD_PROTOCOL[version]}" in cluster.apiserver_log()


def test_port_forward_to_a_host_network_pod(cluster: Cluster) -> None:
    """A hostNetwork pod's localhost is the node's: the kubelet dials its own loopback."""
    local = procs.free_port()
    forward = popen_kubectl(cluster, "1.32", "port-forward", "pod/hostloop", f"{local}:{HOST_PORT}")
    try:
        assert read_line(forward).startswith(f"Forwarding from 127.0.0.1:{local}")
        assert curl(local) == "on-the-node\n"
    finally:
        stop(forward)


# -- attach ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_attach(cluster: Cluster, version: str) -> None:
    pod = ticker_pod(cluster)
    attached = popen_kubectl(cluster, version, "attach", pod)
    try:
        ticks = [int(read_line(attached).split()[1]) for _ in range(2)]
    finally:
        stop(attached)
    assert ticks[1] == ticks[0] + 1
    assert f"attach {NS}/{pod}: {EXEC_PROTOCOL[version]}" in cluster.apiserver_log()
    # `run -i --rm`: stdin goes to the container's main process; its end closes the
    # container's stdin (stdinOnce), the process exits and the pod is deleted.
    name = f"once-{version.replace('.', '-')}"
    done = kubectl(cluster, version, "run", name, "-i", "--rm", "--restart=Never", "--image=minik8s/busybox:1",
                   "--", "sh", "-c", "read line; echo got: $line", input="hello attach\n", timeout=180)
    assert b"got: hello attach" in done.stdout, done
    wait_for(f"pod {name} deleted", lambda: kubectl(cluster, version, "get", "pod", name, check=False).returncode != 0)


# -- the official python client -------------------------------------------------------------


def test_python_client_logs_and_exec(cluster: Cluster) -> None:
    from kubernetes import client as kclient
    from kubernetes import config as kconfig
    from kubernetes import stream

    api = kclient.CoreV1Api(kconfig.new_client_from_config(str(cluster.kubeconfig)))
    log = api.read_namespaced_pod_log(ticker_pod(cluster), NS, tail_lines=3)
    assert len(log.splitlines()) == 3 and log.startswith("tick ")
    out = stream.stream(api.connect_get_namespaced_pod_exec, "web", NS, command=["sh", "-c", "echo py $((6*7))"],
                        stderr=True, stdin=False, stdout=True, tty=False)
    assert out == "py 42\n"
    # Interactive, with the exit code read from the error channel.
    resp = stream.stream(api.connect_get_namespaced_pod_exec, "web", NS, command=["sh", "-c", "cat; exit 3"],
                         stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
    resp.write_stdin("to cat\n")
    got = ""
    deadline = time.monotonic() + 30
    while "to cat" not in got and time.monotonic() < deadline:
        resp.update(timeout=1)
        got += resp.read_stdout()
    resp.close()
    assert "to cat" in got
