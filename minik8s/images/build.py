"""Build minik8s's images with docker-py, offline, skipping those already up to date.

Every image starts `FROM scratch` or from another image built here, and builds run
with pull=False, so a build never touches a registry. Each folder beside this file
is one image's sources; some need a file from the host put into the build context
first (the compiled pause binary, the static busybox), so builds run in a temporary
copy of the folder.

An image counts as missing when its tag is absent *or* its `minik8s.source-hash`
label differs from a hash of its current inputs (sources, host files, parent's
hash), so editing a source file is enough to get the image rebuilt by `minik8s up`.

Usage: python -m minik8s.images.build [--force] [TAG ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable

import docker
import docker.errors

PAUSE_IMAGE = "minik8s/pause:3.9"
BUSYBOX_IMAGE = "minik8s/busybox:1"
WEB_IMAGE = "minik8s/web:1"
# The web image with load-making CGIs (CPU, memory, counted requests) for autoscaling.
HPA_EXAMPLE_IMAGE = "minik8s/hpa-example:1"

# Dependency order: an image comes after the image it is built FROM.
IMAGES = [PAUSE_IMAGE, BUSYBOX_IMAGE, WEB_IMAGE, HPA_EXAMPLE_IMAGE]

HASH_LABEL = "minik8s.source-hash"
BUSYBOX_BINARY = "/bin/busybox"

SOURCES = os.path.dirname(os.path.abspath(__file__))


@dataclasses.dataclass(frozen=True)
class _Spec:
    folder: str
    parent: str | None = None
    # Host files the build needs, hashed with the sources.
    host_inputs: tuple[str, ...] = ()
    # Fills the temporary build context (already a copy of `folder`).
    prepare: Callable[[str], None] | None = None


def _compile_pause(context: str) -> None:
    if shutil.which("gcc") is None:
        raise RuntimeError(
            "building minik8s/pause needs gcc (Debian: apt-get install -y gcc libc6-dev)"
        )
    cmd = ["gcc", "-static", "-O2", "-s", "-o", os.path.join(context, "pause"),
           os.path.join(context, "pause.c")]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"compiling pause.c failed ({' '.join(cmd)}):\n{done.stderr}"
            "(a static link needs libc6-dev: apt-get install -y libc6-dev)"
        )


def _is_dynamic_elf(path: str) -> bool:
    """Whether `path` is an ELF64 executable that asks for a dynamic loader (PT_INTERP)."""
    with open(path, "rb") as f:
        header = f.read(64)
        if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            return False  # not little-endian ELF64: leave it to the build to complain
        (phoff,) = struct.unpack_from("<Q", header, 32)
        phentsize, phnum = struct.unpack_from("<HH", header, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    pt_interp = 3
    return any(struct.unpack_from("<I", table, i * phentsize)[0] == pt_interp for i in range(phnum))


def _check_busybox() -> None:
    if not os.path.isfile(BUSYBOX_BINARY):
        raise RuntimeError(
            f"building {BUSYBOX_IMAGE} needs a static busybox at {BUSYBOX_BINARY} "
            "(Debian: apt-get install -y busybox-static)"
        )
    if _is_dynamic_elf(BUSYBOX_BINARY):
        raise RuntimeError(
            f"{BUSYBOX_BINARY} is dynamically linked and cannot run in a scratch image "
            "(Debian: apt-get install -y busybox-static, which replaces package busybox)"
        )


def _copy_busybox(context: str) -> None:
    _check_busybox()
    shutil.copy2(BUSYBOX_BINARY, os.path.join(context, "busybox"))


_SPECS: dict[str, _Spec] = {
    PAUSE_IMAGE: _Spec("pause", prepare=_compile_pause),
    BUSYBOX_IMAGE: _Spec("busybox", host_inputs=(BUSYBOX_BINARY,), prepare=_copy_busybox),
    WEB_IMAGE: _Spec("web", parent=BUSYBOX_IMAGE),
    HPA_EXAMPLE_IMAGE: _Spec("hpa-example", parent=WEB_IMAGE),
}


def _source_files(folder: str) -> list[str]:
    """Relative paths of the image's sources, sorted, without Python's caches."""
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in filenames:
            files.append(os.path.relpath(os.path.join(dirpath, name), folder))
    return sorted(files)


def source_hash(tag: str) -> str:
    """A hash of everything that goes into `tag`: its sources, host inputs and parent."""
    spec = _SPECS[tag]
    folder = os.path.join(SOURCES, spec.folder)
    h = hashlib.sha256()
    for rel in _source_files(folder):
        h.update(rel.encode() + b"\0")
        with open(os.path.join(folder, rel), "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    for path in spec.host_inputs:
        if os.path.isfile(path):
            with open(path, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    if spec.parent is not None:
        h.update(source_hash(spec.parent).encode())
    return h.hexdigest()[:16]


def _up_to_date(client: docker.DockerClient, tag: str) -> bool:
    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return (image.labels or {}).get(HASH_LABEL) == source_hash(tag)


def missing_images(client: docker.DockerClient) -> list[str]:
    """Tags (in IMAGES order) that are absent or built from older sources."""
    return [tag for tag in IMAGES if not _up_to_date(client, tag)]


def _build_one(client: docker.DockerClient, tag: str, log: Callable[[str], None]) -> None:
    spec = _SPECS[tag]
    log(f"building {tag}")
    with tempfile.TemporaryDirectory(prefix="minik8s-image-") as tmp:
        context = os.path.join(tmp, "context")
        shutil.copytree(
            os.path.join(SOURCES, spec.folder),
            context,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        if spec.prepare is not None:
            spec.prepare(context)
        try:
            image, _ = client.images.build(
                path=context,
                tag=tag,
                rm=True,
                forcerm=True,
                pull=False,
                labels={HASH_LABEL: source_hash(tag)},
            )
        except docker.errors.BuildError as e:
            lines = "".join(
                str(chunk.get("stream") or chunk.get("error") or "") for chunk in e.build_log
            )
            raise RuntimeError(f"docker build of {tag} failed: {e.msg}\n{lines}") from e
    log(f"built {tag} ({image.short_id})")


def build_images(
    client: docker.DockerClient,
    names: Iterable[str] | None = None,
    *,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> list[str]:
    """Build the images named (default: all) that are missing or stale; return the tags built.

    `force` rebuilds the named images even when up to date. An image's parent is built
    first when it is missing or stale, never pulled.
    """
    wanted = list(IMAGES if names is None else names)
    unknown = [n for n in wanted if n not in _SPECS]
    if unknown:
        raise ValueError(f"unknown image(s) {unknown}; known: {IMAGES}")

    needed = set(wanted)
    for tag in wanted:
        parent = _SPECS[tag].parent
        while parent is not None:
            needed.add(parent)
            parent = _SPECS[parent].parent

    built: list[str] = []
    for tag in IMAGES:
        if tag not in needed:
            continue
        if (force and tag in wanted) or not _up_to_date(client, tag):
            _build_one(client, tag, log)
            built.append(tag)
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build minik8s's images locally (never pulls).")
    parser.add_argument("tags", nargs="*", help=f"images to build (default: all of {IMAGES})")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    client = docker.from_env()
    try:
        built = build_images(client, args.tags or None, force=args.force)
    except (RuntimeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        client.close()
    print("built: " + (", ".join(built) if built else "nothing (all up to date)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
