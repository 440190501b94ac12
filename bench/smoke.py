#!/usr/bin/env python3
"""`make bench-smoke`: every benchmark at a tiny size, then a check that it left nothing.

Runs each bench/*.py (the benchmarks; this file, benchutil.py and benchpki.py aside) with --smoke,
one after another, and fails if one exits non-zero or if anything it made is still
there afterwards: processes it started (found by an environment marker every child
inherits), Docker containers and networks, a Docker Swarm it joined, network
namespaces, temporary directories. A new benchmark is picked up by being in bench/;
it must take --smoke (benchutil.parse_args).

Usage: .venv/bin/python bench/smoke.py [NAME ...]   (names without .py; default: all)
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import psutil

HERE = pathlib.Path(__file__).resolve().parent
NOT_BENCHMARKS = {"smoke", "benchutil", "benchpki"}
MARKER = "MINIK8S_BENCH_SMOKE"
FRESH_ENGINE = {"docker networks": {"bridge", "host", "none"}, "docker swarm": {"inactive"}}


def benchmarks() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if p.stem not in NOT_BENCHMARKS)


def marked_processes(token: str) -> list[str]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if proc.environ().get(MARKER) == token:
                found.append(f"pid {proc.pid}: {' '.join(proc.info['cmdline'] or [])[:200]}")
        except (psutil.Error, OSError):
            continue
    return found


def host_state() -> dict[str, set[str]]:
    """What a benchmark could leave behind on this host, by kind."""
    netns = pathlib.Path("/run/netns")
    state: dict[str, set[str]] = {
        "temporary directories": {p.name for p in pathlib.Path(tempfile.gettempdir()).glob("minik8s-bench-*")},
        "network namespaces": {p.name for p in netns.iterdir()} if netns.is_dir() else set(),
    }
    docker = _docker()
    if docker is not None:
        try:
            state["docker containers"] = {f"{c['Id'][:12]} {c.get('Names')}" for c in docker.api.containers(all=True)}
            state["docker networks"] = {n["Name"] for n in docker.api.networks()}
            state["docker swarm"] = {str(docker.info().get("Swarm", {}).get("LocalNodeState"))}
        finally:
            docker.close()
    return state


def _docker() -> Any:
    sys.path.insert(0, str(HERE.parent))
    from minik8s.util import procs

    if not procs.docker_running():
        return None
    import docker

    return docker.from_env()


def start_host_engine() -> None:
    """Start the host's Docker engine before any benchmark, outside the marker.

    Benchmarks that need it start it if none answers and leave it running (as `minik8s
    cluster up` does); started under one benchmark's marker, it would be counted as that
    benchmark's leftover. .ci/run stops an engine it did not find running.
    """
    sys.path.insert(0, str(HERE.parent))
    from minik8s.util import procs

    if shutil.which("dockerd") is not None:
        procs.ensure_dockerd(log_file="/var/log/minik8s-host-dockerd.log")


def main() -> int:
    names = sys.argv[1:] or benchmarks()
    failed: list[str] = []
    start_host_engine()
    for name in names:
        token = uuid.uuid4().hex
        before = host_state()
        started = time.monotonic()
        print(f"== bench/{name}.py --smoke", flush=True)
        code = subprocess.run([sys.executable, str(HERE / f"{name}.py"), "--smoke"],
                              env={**os.environ, MARKER: token}, check=False).returncode
        took = time.monotonic() - started
        left = marked_processes(token)
        after = host_state()
        # A benchmark may start the engine (and leave it running, as `cluster up` does):
        # then what a fresh engine has is the baseline.
        new = {kind: sorted(after[kind] - before.get(kind, FRESH_ENGINE.get(kind, set()))) for kind in after}
        new = {kind: items for kind, items in new.items() if items}
        if left:
            new["processes"] = left
        verdict = "ok" if code == 0 and not new else "FAILED"
        print(f"== bench/{name}.py --smoke: {verdict} in {took:.1f}s (exit {code})", flush=True)
        for kind, items in new.items():
            print(f"   left behind, {kind}: {', '.join(items)}", flush=True)
        if verdict != "ok":
            failed.append(name)
    print(f"bench-smoke: {len(names) - len(failed)} passed, {len(failed)} failed" +
          (f" ({', '.join(failed)})" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
