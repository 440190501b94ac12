"""`kubectl logs` and `kubectl exec` through the API server to the kubelet (the real kubectl)."""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess

import pytest

from minik8s.images import build
from tests import conftest as root
from tests.integration.kubelet.conftest import Pods, container_state, is_ready

pytestmark = [pytest.mark.docker, pytest.mark.integration]

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ")


@pytest.fixture
async def talker(pods: Pods) -> Pods:
    """A pod whose `talk` container printed three lines and then crashed once, and a web sidecar."""
    await pods.create("talker", [
        {"name": "talk", "image": build.BUSYBOX_IMAGE, "command": ["sh", "-c",
         "if [ -f /state/ran ]; then echo second life; exec sleep 3600; fi; "
         "touch /state/ran; echo one; echo two; echo three; exit 7"],
         "volumeMounts": [{"name": "state", "mountPath": "/state"}]},
        {"name": "web", "image": build.WEB_IMAGE},
    ], volumes=[{"name": "state", "emptyDir": {}}])
    await pods.wait("talker", lambda p: is_ready(p) and container_state(p, "talk").get("restartCount") == 1,
                    what="talker restarted once and ready")
    return pods


async def kubectl(apiserver: root.ApiServerProcess, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return await root.akubectl(apiserver, *args, **kw)  # type: ignore[arg-type]


async def test_logs(talker: Pods, apiserver: root.ApiServerProcess) -> None:
    ns = talker.namespace
    assert (await kubectl(apiserver, "logs", "-n", ns, "talker", "-c", "talk")).stdout == "second life\n"
    previous = (await kubectl(apiserver, "logs", "-n", ns, "talker", "-c", "talk", "--previous")).stdout
    assert previous.splitlines() == ["one", "two", "three"]
    tail = (await kubectl(apiserver, "logs", "-n", ns, "talker", "-c", "talk", "-p", "--tail", "1")).stdout
    assert tail == "three\n"
    stamped = (await kubectl(apiserver, "logs", "-n", ns, "talker", "-c", "talk", "--timestamps")).stdout
    assert TIMESTAMP.match(stamped) and stamped.endswith(" second life\n")
    bad = await kubectl(apiserver, "logs", "-n", ns, "talker", "-c", "nope", check=False)
    assert bad.returncode != 0 and "container nope is not valid for pod talker" in bad.stderr


async def test_logs_follow(talker: Pods, apiserver: root.ApiServerProcess) -> None:
    env = dict(os.environ, KUBECONFIG=apiserver.kubeconfig, KUBECACHEDIR=apiserver.cache_dir,
               HOME=apiserver.cache_dir)
    follower = await asyncio.create_subprocess_exec(
        root.KUBECTL, "logs", "-f", "-n", talker.namespace, "talker", "-c", "talk",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    try:
        assert follower.stdout is not None
        assert await asyncio.wait_for(follower.stdout.readline(), 30) == b"second life\n"
        # A line written now arrives on the open stream.
        await kubectl(apiserver, "exec", "-n", talker.namespace, "talker", "-c", "talk", "--",
                      "sh", "-c", "echo appended > /proc/1/fd/1")
        assert await asyncio.wait_for(follower.stdout.readline(), 30) == b"appended\n"
        assert follower.returncode is None  # still following
    finally:
        follower.kill()
        await follower.wait()


async def test_exec(talker: Pods, apiserver: root.ApiServerProcess) -> None:
    ns = talker.namespace
    done = await kubectl(apiserver, "exec", "-n", ns, "talker", "-c", "web", "--", "sh", "-c",
                         "echo out; echo err >&2; hostname")
    assert done.stdout == "out\ntalker\n" and done.stderr == "err\n"
    failed = await kubectl(apiserver, "exec", "-n", ns, "talker", "-c", "web", "--", "sh", "-c", "exit 42",
                           check=False)
    assert failed.returncode == 42 and "command terminated with exit code 42" in failed.stderr
    piped = await kubectl(apiserver, "exec", "-i", "-n", ns, "talker", "-c", "web", "--", "sh", "-c",
                          "tr a-z A-Z; echo done", input="hello\nworld\n")
    assert piped.stdout == "HELLO\nWORLD\ndone\n"
    # Both containers share the pod's network: the web server answers on localhost from `talk`.
    local = await kubectl(apiserver, "exec", "-n", ns, "talker", "-c", "talk", "--",
                          "wget", "-qO-", "http://localhost:80/")
    assert local.stdout.strip() == "talker"


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a terminal")
async def test_exec_with_a_terminal(talker: Pods, apiserver: root.ApiServerProcess) -> None:
    env = dict(os.environ, KUBECONFIG=apiserver.kubeconfig, KUBECACHEDIR=apiserver.cache_dir,
               HOME=apiserver.cache_dir)
    command = (f"{root.KUBECTL} exec -it -n {talker.namespace} talker -c web -- sh -c "
               "'tty; read line; echo got $line; exit 5'")
    proc = await asyncio.create_subprocess_exec(
        "script", "-qec", command, "/dev/null", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    seen = b""

    async def read_until(token: bytes) -> None:
        nonlocal seen
        while token not in seen:
            chunk = await proc.stdout.read(1024)  # type: ignore[union-attr]
            if not chunk:
                raise AssertionError(f"output ended before {token!r}: {seen!r}")
            seen += chunk

    try:
        await asyncio.wait_for(read_until(b"/dev/pts/"), 30)  # the command runs on a terminal
        proc.stdin.write(b"ping\n")
        await proc.stdin.drain()
        await asyncio.wait_for(read_until(b"got ping"), 30)
        assert await asyncio.wait_for(proc.wait(), 30) == 5
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_pods_without_a_running_container(pods: Pods, apiserver: root.ApiServerProcess) -> None:
    await pods.create("stuck", [{"name": "c", "image": "127.0.0.1:5999/nope:1"}])
    await pods.wait("stuck", lambda p: (container_state(p, "c").get("state") or {}).get("waiting", {}).get("reason")
                    in ("ErrImagePull", "ImagePullBackOff"), what="a pull failure")
    logs = await kubectl(apiserver, "logs", "-n", pods.namespace, "stuck", check=False)
    assert logs.returncode != 0 and 'container "c" in pod "stuck" is waiting to start' in logs.stderr
    ex = await kubectl(apiserver, "exec", "-n", pods.namespace, "stuck", "--", "true", check=False)
    assert ex.returncode != 0
