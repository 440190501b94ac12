"""Copying images from the host's Docker engine into the nodes' engines (kind's `load docker-image`).

No registry is reachable, so a node never pulls: every image its pods use is
exported once from the host engine (`docker save`, cached by image id under the
state directory) and imported into each node (`docker load`). A node that already
has the image with the same id is skipped, so loading again is cheap.
"""
from __future__ import annotations

import hashlib
import pathlib
from collections.abc import Sequence

import docker
import docker.errors

from minik8s.cluster import host

Exported = dict[str, tuple[str, pathlib.Path]]


def export(client: docker.DockerClient, tags: Sequence[str], cache_dir: pathlib.Path) -> Exported:
    """tag → (image id, tarball), saving each image from the host engine unless cached."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    out: Exported = {}
    for tag in tags:
        try:
            image = client.images.get(tag)
        except docker.errors.ImageNotFound:
            raise host.ClusterError(f"image {tag} is not in the host's Docker engine; build it there first "
                                    "(the project's images: python -m minik8s.images.build)") from None
        # Saved by tag (not id), so the tarball carries the name; the key covers both.
        key = hashlib.sha256(f"{tag}\0{image.id}".encode()).hexdigest()[:20]
        path = cache_dir / f"{key}.tar"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as f:
                for chunk in client.api.get_image(tag):
                    f.write(chunk)
            tmp.replace(path)
        out[tag] = (image.id, path)
    return out


def load(socket: str, exported: Exported) -> list[str]:
    """Load the exported images into the engine at unix socket `socket`; the tags loaded."""
    client = docker.DockerClient(base_url=f"unix://{socket}", timeout=300)
    loaded = []
    try:
        for tag, (image_id, path) in exported.items():
            try:
                if client.images.get(tag).id == image_id:
                    continue
            except docker.errors.ImageNotFound:
                pass
            with open(path, "rb") as f:
                try:
                    client.images.load(f)
                except docker.errors.APIError as e:
                    raise host.ClusterError(f"loading {tag} into the engine at {socket}: {e}") from e
            loaded.append(tag)
    finally:
        client.close()
    return loaded
