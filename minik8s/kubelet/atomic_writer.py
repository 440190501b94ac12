"""Publish a set of files into a directory atomically (pkg/volume/util/atomic_writer.go).

ConfigMap, Secret, downwardAPI and projected volumes are directories that a
running container reads while the kubelet updates them. The real kubelet's
AtomicWriter makes every update appear at once, and so does this one:

    <target>/..2024_05_01_12_00_00.123456789/   the payload of one version
    <target>/..data -> ..2024_05_01_12_00_00.123456789
    <target>/<key>  -> ..data/<key>             one symlink per top-level name

An update writes the new payload into a fresh timestamped directory, points a
`..data_tmp` symlink at it and renames that over `..data` (rename(2) is
atomic), then adds symlinks for new top-level names, removes those of names
that are gone, and deletes the old directory. A reader sees either the old
or the new set of files, never a mix; an unchanged payload writes nothing.
Blocking filesystem calls: the kubelet runs this in a thread.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import shutil

log = logging.getLogger(__name__)

DATA_DIR = "..data"
DATA_DIR_TMP = "..data_tmp"


@dataclasses.dataclass(frozen=True)
class FileProjection:
    data: bytes
    mode: int = 0o644


class PayloadError(ValueError):
    """A payload path that would leave the volume or collide with the writer's own names."""


def validate_path(path: str) -> None:
    """validatePath: relative, no `..` element, not starting with `..`, at most 4096 bytes."""
    if not path:
        raise PayloadError("invalid path: must not be empty")
    if len(path.encode()) > 4096:
        raise PayloadError(f"invalid path: must be less than or equal to 4096 characters: {path!r}")
    if os.path.isabs(path):
        raise PayloadError(f"invalid path: must be relative path: {path}")
    if ".." in path.split("/"):
        raise PayloadError(f"invalid path: must not contain '..': {path}")
    if path.startswith(".."):
        raise PayloadError(f"invalid path: must not start with '..': {path}")


def _top_level(path: str) -> str:
    return path.split("/", 1)[0]


class AtomicWriter:
    def __init__(self, target_dir: str, *, log_context: str = "") -> None:
        self.target_dir = target_dir
        self.log_context = log_context

    def _current_dir(self) -> str | None:
        link = os.path.join(self.target_dir, DATA_DIR)
        try:
            target = os.readlink(link)
        except OSError:
            return None
        return os.path.join(self.target_dir, target)

    def _same(self, current: str, payload: dict[str, FileProjection]) -> bool:
        """Whether the published payload already is `payload` (contents and modes)."""
        found: set[str] = set()
        for root, _dirs, files in os.walk(current):
            for name in files:
                full = os.path.join(root, name)
                rel = os.path.relpath(full, current)
                found.add(rel)
                want = payload.get(rel)
                if want is None:
                    return False
                st = os.lstat(full)
                if st.st_mode & 0o7777 != want.mode:
                    return False
                with open(full, "rb") as f:
                    if f.read() != want.data:
                        return False
        return found == set(payload)

    def write(self, payload: dict[str, FileProjection]) -> bool:
        """Publish `payload` (relative path → contents); True if anything changed."""
        for path in payload:
            validate_path(path)
        os.makedirs(self.target_dir, exist_ok=True)
        current = self._current_dir()
        if current is not None and os.path.isdir(current) and self._same(current, payload):
            return False
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("..%Y_%m_%d_%H_%M_%S.%f")
        new_dir = os.path.join(self.target_dir, stamp)
        n = 0
        while os.path.exists(new_dir):
            n += 1
            new_dir = os.path.join(self.target_dir, f"{stamp}{n}")
        os.mkdir(new_dir, 0o755)
        os.chmod(new_dir, 0o755)
        for path, projection in payload.items():
            full = os.path.join(new_dir, path)
            os.makedirs(os.path.dirname(full), mode=0o755, exist_ok=True)
            with open(full, "wb") as f:
                f.write(projection.data)
            os.chmod(full, projection.mode)
        tmp_link = os.path.join(self.target_dir, DATA_DIR_TMP)
        if os.path.lexists(tmp_link):
            os.unlink(tmp_link)
        os.symlink(os.path.basename(new_dir), tmp_link)
        os.rename(tmp_link, os.path.join(self.target_dir, DATA_DIR))
        wanted = {_top_level(p) for p in payload}
        for name in wanted:
            link = os.path.join(self.target_dir, name)
            if not os.path.lexists(link):
                os.symlink(os.path.join(DATA_DIR, name), link)
        for name in os.listdir(self.target_dir):
            if name.startswith(".."):
                continue
            if name not in wanted:
                full = os.path.join(self.target_dir, name)
                if os.path.islink(full):
                    os.unlink(full)
        if current is not None and os.path.isdir(current) and \
                os.path.realpath(current) != os.path.realpath(new_dir):
            shutil.rmtree(current, ignore_errors=True)
        log.debug("%s: published %d files in %s", self.log_context, len(payload), new_dir)
        return True
