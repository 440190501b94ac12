"""The kubectl matrix, pod part: the everyday commands that need running pods, on one `minik8s up`.

One single-node cluster (`minik8s up` with its own state dir and ports, on this host's
Docker) serves every kubectl version; each version runs in its own namespace: wait for
Ready, rollout status (after scale and restart), describe with the kubelet's events,
logs (-f, --tail, of a deployment), exec (with stdin), cp both ways, port-forward to a
pod and a service, attach, run --rm -i, debug -i with an ephemeral container in the
target's process namespace, debug node/ with the node's root at /host, top, and wait
for a deletion. Results go to build/kubectl-matrix/ with the API part's.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import random
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from minik8s.util import procs
from tests.integration import kubectl_matrix as km

pytestmark = pytest.mark.docker

VERSIONS = km.installed_versions()
PENDING: dict[str, str] = {}

MANIFESTS = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: minik8s/web:1
        readinessProbe:
          tcpSocket: {port: 80}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: tools}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: tools
    image: minik8s/busybox:1
    command: ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.3; done"]
"""


@dataclasses.dataclass
class Cluster:
    state: pathlib.Path
    env: dict[str, str]
    kubeconfig: pathlib.Path
    node: str


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("matrix-up")
    state, home = tmp / "state", tmp / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), KUBECACHEDIR=str(tmp / "cache"))
    env.pop("KUBECONFIG", None)
    kubeconfig = tmp / "kubeconfig"
    node = "matrix-up-node"
    minik8s = [sys.executable, "-m", "minik8s"]
    up = [*minik8s, "up", "--state-dir", str(state), "--port", str(procs.free_port()),
          "--etcd-client-port", str(procs.free_port()), "--etcd-peer-port", str(procs.free_port()),
          "--node-ip", "127.0.0.1", "--node-name", node, "--kubeconfig", str(kubeconfig),
          "--set", f"kubelet.port={procs.free_port()}", "--set", f"dns.port={procs.free_port()}",
          "--set", "controller-manager.cluster-cidr=10.243.0.0/16"]
    c = Cluster(state, env, kubeconfig, node)
    try:
        subprocess.run(up, env=env, check=True, capture_output=True, timeout=300)
        yield c
    finally:
        subprocess.run([*minik8s, "down", "--state-dir", str(state)], env=env, check=False, capture_output=True,
                       timeout=120)
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=io.minik8s.node={node}"],
                         capture_output=True, text=True, check=False).stdout
    assert out.strip() == "", "down removes the pods' containers"


# --------------------------------------------------------------------------- steps that drive a process


def _result(argv: list[str], code: int, out: str, err: str, started: float) -> km.Result:
    return km.Result(argv, code, out, err, time.monotonic() - started)


def follow_logs(r: km.Runner) -> km.Result:
    """logs -f: lines written after it started keep arriving."""
    started = time.monotonic()
    proc = r.popen("logs -f tools --tail=1")
    try:
        lines = [km.read_line(proc) for _ in range(3)]
    except (TimeoutError, EOFError) as e:
        return _result(r.argv("logs -f tools"), 1, "", str(e), started)
    finally:
        km.stop(proc)
    numbers = [int(line.split()[1]) for line in lines]
    ok = numbers == sorted(numbers) and numbers[-1] > numbers[0]
    return _result(r.argv("logs -f tools"), 0 if ok else 1, "\n".join(lines), "" if ok else "not following", started)


def attach(r: km.Runner) -> km.Result:
    """attach: the running container's output streams to the terminal."""
    started = time.monotonic()
    proc = r.popen("attach tools")
    try:
        line = km.read_line(proc)
    except (TimeoutError, EOFError) as e:
        return _result(r.argv("attach tools"), 1, "", str(e), started)
    finally:
        km.stop(proc)
    return _result(r.argv("attach tools"), 0 if line.startswith("tick ") else 1, line, "", started)


def forward(target: str, remote: int) -> Callable[[km.Runner], km.Result]:
    """port-forward: connections to a local port reach the pod (a pod/ target named by label)."""
    def run(r: km.Runner) -> km.Result:
        if target.startswith("pod/app="):
            label = target.split("/", 1)[1]
            name = subprocess.run(r.argv(f"get pods -l {label} -o jsonpath={{.items[0].metadata.name}}"),
                                  capture_output=True, text=True, env=r.env, check=False).stdout
            return forward(f"pod/{name}", remote)(r)
        local = procs.free_port()
        started = time.monotonic()
        proc = r.popen(f"port-forward {target} {local}:{remote}")
        argv = r.argv(f"port-forward {target} {local}:{remote}")
        try:
            first = km.read_line(proc)
            if not first.startswith(f"Forwarding from 127.0.0.1:{local}"):
                return _result(argv, 1, first, "unexpected first line", started)
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            bodies = [opener.open(f"http://127.0.0.1:{local}/", timeout=10).read().decode() for _ in range(2)]
            return _result(argv, 0, first + "\n" + "\n".join(bodies), "", started)
        except (TimeoutError, EOFError, OSError) as e:
            return _result(argv, 1, "", str(e), started)
        finally:
            km.stop(proc)
    return run


def top_pods(r: km.Runner) -> km.Result:
    """top pod: once the metrics pipeline has scraped the pods (every 15 s)."""
    started = time.monotonic()
    deadline = started + 90
    argv = r.argv("top pod tools")
    while True:
        proc = subprocess.run(argv, capture_output=True, text=True, env=r.env, timeout=30, check=False)
        if proc.returncode == 0 and "tools" in proc.stdout:
            return _result(argv, 0, proc.stdout, proc.stderr, started)
        if time.monotonic() > deadline:
            return _result(argv, proc.returncode or 1, proc.stdout, proc.stderr, started)
        time.sleep(2)


def up_steps(r: km.Runner, node: str) -> list[km.Step]:
    S = km.Step
    payload = (r.tmp / "payload.bin")
    payload.write_bytes(random.Random(r.version).randbytes(200 * 1024))
    return [
        S("apply -f (pods)", "apply -f {tmp}/up.yaml", km.ok("deployment.apps/web created", "pod/tools created"),
          group="pods"),
        S("wait --for=condition=Ready", "wait --for=condition=Ready pod --all --timeout=120s", km.ok("condition met"),
          timeout=150),
        S("rollout status", "rollout status deployment/web --timeout=120s", km.ok("successfully rolled out"),
          timeout=150),
        S("get pods -o wide", "get pods -o wide", km.ok("Running", node, "10.243.")),
        S("describe pod", "describe pod tools", km.ok("Events:", "Scheduled", "Pulled", "Created", "Started")),
        S("logs", "logs tools --tail=2", km.matches(r"^tick \d+\ntick \d+$"), group="logs, exec, cp"),
        S("logs deploy/", "logs deployment/web --tail=5", km.exits(0)),
        S("logs -f", "", km.exits(0), action=follow_logs),
        S("exec", "exec tools -- echo hi", km.ok("hi")),
        S("exec -i", "exec -i tools -- cat", km.ok("from stdin"), stdin="from stdin\n"),
        S("exec (exit code)", ["exec", "tools", "--", "sh", "-c", "exit 3"], km.exits(3)),
        S("cp (to the pod)", "cp {tmp}/payload.bin tools:/tmp/payload.bin", km.exits(0)),
        S("cp (from the pod)", "cp tools:/tmp/payload.bin {tmp}/back.bin",
          km.then(km.exits(0), lambda: None if (r.tmp / "back.bin").read_bytes() == payload.read_bytes()
                  else "the copy differs")),
        S("attach", "", km.exits(0), action=attach),
        S("port-forward pod/", "", km.ok("Forwarding from", "web"), action=forward("pod/app=web", 80)),
        S("port-forward svc/", "", km.ok("Forwarding from", "web"), action=forward("svc/web", 80)),
        # The command waits for its stdin, so what it prints cannot go out before kubectl attaches.
        S("run --rm -i", ["run", "once", "--rm", "-i", "--image=minik8s/busybox:1", "--restart=Never", "--",
                          "sh", "-c", "read line; echo hello-$line"],
          km.ok("hello-from-run"), stdin="from-run\n", group="run, debug", timeout=120),
        S("debug -i (ephemeral container)", "debug tools -i --image=minik8s/busybox:1 --target=tools -c dbg -- sh",
          km.ok("tick"), stdin="ps\nexit\n", timeout=120),
        S("debug -i node/", f"debug node/{node} -i --image=minik8s/busybox:1 -- sh",
          km.ok("node-root-ok"), stdin="test -d /host/proc && test -d /host/etc && echo node-root-ok\nexit\n",
          timeout=120),
        S("scale", "scale deployment web --replicas=2", km.ok("scaled"), group="rollout"),
        S("rollout status (scaled)", "rollout status deployment/web --timeout=120s",
          km.ok("successfully rolled out"), timeout=150),
        S("rollout restart", "rollout restart deployment/web", km.ok("restarted")),
        S("rollout status (restarted)", "rollout status deployment/web --timeout=120s",
          km.ok("successfully rolled out"), timeout=150),
        S("top pod", "", km.ok("CPU(cores)", "tools"), action=top_pods, group="top, events, delete"),
        S("top node", "top node", km.ok("CPU(cores)", node)),
        S("events", "events", km.ok("Started")),
        S("delete pod", "delete pod tools --wait=false", km.ok('pod "tools" deleted')),
        S("wait --for=delete", "wait --for=delete pod/tools --timeout=60s", km.exits(0), timeout=90),
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_kubectl_matrix_up(cluster: Cluster, tmp_path: pathlib.Path, version: str) -> None:
    namespace = f"u{version.replace('.', '')}"
    admin = km.Runner(version, str(cluster.kubeconfig), "default", tmp_path / "admin")
    admin.env.update(KUBECACHEDIR=cluster.env["KUBECACHEDIR"])
    subprocess.run(admin.argv(f"create namespace {namespace}"), env=admin.env, check=True, capture_output=True)
    try:
        r = km.Runner(version, str(cluster.kubeconfig), namespace, tmp_path)
        r.file("up.yaml", MANIFESTS)
        outcomes = km.run_steps(r, up_steps(r, cluster.node), PENDING)
        km.record("up", version, outcomes)
    finally:
        subprocess.run(admin.argv(f"delete namespace {namespace} --wait=false"), env=admin.env, check=False,
                       capture_output=True)
    assert not km.failures(outcomes), "\n".join(km.failures(outcomes))
