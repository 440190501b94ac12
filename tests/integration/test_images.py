"""The locally built images do what the kubelet and the e2e tests rely on."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import docker
import docker.errors
import docker.models.containers
import pytest

from minik8s.images import build
from minik8s.util import procs

pytestmark = pytest.mark.docker

LABEL = {"minik8s.test": "test_images"}
DOCKERD_LOG = "/tmp/minik8s-dockerd.log"

# Containers are reached on the docker bridge; never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

Container = docker.models.containers.Container
Run = Callable[..., Container]


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    # Leaves a daemon it had to start running: later tests and sessions reuse it.
    procs.ensure_dockerd(log_file=DOCKERD_LOG)
    client = docker.DockerClient(base_url=f"unix://{procs.DOCKER_SOCKET}")
    try:
        build.build_images(client)
        yield client
    finally:
        for c in client.containers.list(all=True, filters={"label": "minik8s.test=test_images"}):
            c.remove(force=True)
        client.close()


@pytest.fixture
def run(docker_client: docker.DockerClient) -> Iterator[Run]:
    """`run(image, command=None, **kwargs)`: a detached, labelled container, removed afterwards."""
    started: list[Container] = []

    def _run(image: str, command: str | list[str] | None = None, **kwargs: Any) -> Container:
        c = docker_client.containers.run(image, command, detach=True, labels=LABEL, **kwargs)
        started.append(c)
        return c

    yield _run
    for c in reversed(started):
        try:
            c.remove(force=True)
        except docker.errors.NotFound:
            pass


def _wait_running(c: Container) -> None:
    def running() -> bool:
        c.reload()
        return c.status == "running"

    procs.wait_for(running, 10, what=f"{c.name} running")


def _finish(c: Container, timeout: float = 30) -> tuple[int, str]:
    status = c.wait(timeout=timeout)["StatusCode"]
    return status, c.logs().decode()


def _ip(c: Container) -> str:
    def address() -> str:
        c.reload()
        return str(c.attrs["NetworkSettings"]["IPAddress"])

    return procs.wait_for(address, 10, what=f"an IP for {c.name}")


def _get(url: str) -> tuple[int, str]:
    try:
        with _OPENER.open(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _serving(url: str) -> bool:
    try:
        return _get(url)[0] == 200
    except OSError:
        return False


def test_build_is_idempotent(docker_client: docker.DockerClient) -> None:
    assert build.missing_images(docker_client) == []
    assert build.build_images(docker_client, log=lambda _: None) == []
    for tag in build.IMAGES:
        labels = docker_client.images.get(tag).labels
        assert labels[build.HASH_LABEL] == build.source_hash(tag)


def test_build_rejects_unknown_names(docker_client: docker.DockerClient) -> None:
    with pytest.raises(ValueError, match="unknown image"):
        build.build_images(docker_client, ["docker.io/library/busybox:latest"])


def test_forced_build_rebuilds_only_what_was_named(docker_client: docker.DockerClient) -> None:
    built = build.build_images(docker_client, [build.PAUSE_IMAGE], force=True, log=lambda _: None)
    assert built == [build.PAUSE_IMAGE]


def test_pause_exits_0_on_sigterm(run: Run) -> None:
    c = run(build.PAUSE_IMAGE)
    _wait_running(c)
    c.stop(timeout=10)
    c.reload()
    state = c.attrs["State"]
    # Killed after the timeout it would be 137; 0 means its SIGTERM handler ran.
    assert state["ExitCode"] == 0, state
    assert "shutting down" in c.logs().decode()


def test_pause_reaps_orphans(run: Run) -> None:
    pause = run(build.PAUSE_IMAGE)
    _wait_running(pause)
    # In pause's PID namespace an orphan is reparented to pause (PID 1); unless pause
    # waits for it, it stays in /proc as a zombie after it exits.
    script = """
        [ "$(cat /proc/1/comm)" = pause ] || { echo "PID 1 is $(cat /proc/1/comm)"; exit 2; }
        sh -c 'sleep 1 & echo $! > /tmp/orphan'
        p=$(cat /tmp/orphan)
        ppid=$(cut -d' ' -f4 /proc/$p/stat)
        [ "$ppid" = 1 ] || { echo "orphan's parent is $ppid"; exit 3; }
        i=0
        while [ -e /proc/$p ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
        [ -e /proc/$p ] && { echo "not reaped: $(cat /proc/$p/stat)"; exit 1; }
        echo reaped
    """
    c = run(build.BUSYBOX_IMAGE, ["sh", "-c", script], pid_mode=f"container:{pause.id}")
    status, logs = _finish(c)
    assert (status, logs.strip()) == (0, "reaped")


def test_busybox_has_what_tests_need(run: Run) -> None:
    c = run(
        build.BUSYBOX_IMAGE,
        [
            "sh",
            "-c",
            (
                "echo hi; for a in sh httpd nc wget sleep; do which $a >/dev/null || echo missing $a;"
                " done; stat -c %a /tmp; id -un"
            ),
        ],
    )
    status, logs = _finish(c)
    assert status == 0
    assert logs.split() == ["hi", "1777", "root"]


def test_busybox_default_command_is_sh(docker_client: docker.DockerClient) -> None:
    config = docker_client.images.get(build.BUSYBOX_IMAGE).attrs["Config"]
    assert config["Cmd"] == ["sh"]


def test_web_answers_hostname_and_probes(run: Run) -> None:
    c = run(build.WEB_IMAGE, hostname="web-test-a")
    base = f"http://{_ip(c)}"
    procs.wait_for(lambda: _serving(f"{base}/"), 15, what="web serving")

    assert _get(f"{base}/") == (200, "web-test-a\n")
    assert _get(f"{base}/healthz") == (200, "ok\n")
    assert _get(f"{base}/cgi-bin/healthz")[0] == 200
    assert _get(f"{base}/cgi-bin/readyz")[0] == 200

    # The liveness toggle from inside (as an exec probe or kubectl exec would) ...
    assert c.exec_run(["touch", "/tmp/unhealthy"]).exit_code == 0
    assert _get(f"{base}/cgi-bin/healthz") == (500, "unhealthy\n")
    assert _get(f"{base}/cgi-bin/readyz")[0] == 200
    assert c.exec_run(["rm", "/tmp/unhealthy"]).exit_code == 0
    assert _get(f"{base}/cgi-bin/healthz")[0] == 200

    # ... and over HTTP, for tests that cannot exec.
    assert _get(f"{base}/cgi-bin/set?unready")[0] == 200
    assert _get(f"{base}/cgi-bin/readyz") == (500, "unready\n")
    assert _get(f"{base}/cgi-bin/healthz")[0] == 200
    assert _get(f"{base}/cgi-bin/clear?unready")[0] == 200
    assert _get(f"{base}/cgi-bin/readyz")[0] == 200
    assert _get(f"{base}/cgi-bin/set?bogus")[0] == 400

    c.stop(timeout=10)
    c.reload()
    assert c.attrs["State"]["ExitCode"] == 0, "web ignored SIGTERM and was killed"


def test_web_port_from_env(run: Run) -> None:
    c = run(build.WEB_IMAGE, hostname="web-test-b", environment={"PORT": "8080"})
    base = f"http://{_ip(c)}:8080"
    procs.wait_for(lambda: _serving(f"{base}/"), 15, what="web serving on 8080")
    assert _get(f"{base}/") == (200, "web-test-b\n")
