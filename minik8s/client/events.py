"""Recording Kubernetes Events, aggregated like client-go's recorder.

The same (object, type, reason, message, component) seen again bumps the
existing Event's `count` and `lastTimestamp` instead of creating a new one, so
`kubectl describe` shows "x5 over 2m" rather than a wall of duplicates. Writes
happen in the background: recording an event never blocks or fails a sync.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import Any

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import rest

log = logging.getLogger(__name__)

EVENTS = resources.must("", "v1", "events")


def object_reference(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    ref = {"kind": obj.get("kind", ""), "namespace": meta.get("namespace", ""), "name": meta.get("name", ""),
           "uid": meta.get("uid", ""), "apiVersion": obj.get("apiVersion", ""),
           "resourceVersion": meta.get("resourceVersion", "")}
    return {k: v for k, v in ref.items() if v}


class EventRecorder:
    def __init__(self, client: rest.Client, component: str, host: str = "", *, cache_size: int = 4096) -> None:
        self.client = client
        self.component = component
        self.host = host
        self._seen: collections.OrderedDict[tuple[str, ...], dict[str, Any]] = collections.OrderedDict()
        self._cache_size = cache_size
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    def event(self, obj: dict[str, Any], type_: str, reason: str, message: str, *, field_path: str = "") -> None:
        """Record asynchronously (fire and forget)."""
        try:
            task = asyncio.get_running_loop().create_task(self._record(obj, type_, reason, message, field_path))
        except RuntimeError:
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _record(self, obj: dict[str, Any], type_: str, reason: str, message: str, field_path: str) -> None:
        ref = object_reference(obj)
        if field_path:
            ref["fieldPath"] = field_path
        namespace = ref.get("namespace") or "default"
        key = (ref.get("uid", ""), ref.get("kind", ""), ref.get("name", ""), field_path, type_, reason, message)
        now = rfc3339.now()
        try:
            async with self._lock:
                existing = self._seen.get(key)
            if existing is not None:
                count = int(existing.get("count", 1)) + 1
                try:
                    updated = await self.client.patch(EVENTS, existing["metadata"]["name"],
                                                      {"count": count, "lastTimestamp": now}, namespace)
                    self._remember(key, updated)
                    return
                except errors.NotFound:
                    pass
            base = ref.get("name", "event")
            event = {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": f"{base}.{time.time_ns():x}", "namespace": namespace},
                "involvedObject": ref, "reason": reason, "message": message, "type": type_,
                "source": {"component": self.component, **({"host": self.host} if self.host else {})},
                "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                "reportingComponent": self.component, "reportingInstance": self.host,
            }
            created = await self.client.create(EVENTS, event, namespace)
            self._remember(key, created)
        except errors.StatusError as e:
            log.debug("event %s/%s not recorded: %s", reason, ref.get("name"), e.message)
        except Exception as e:  # noqa: BLE001 - events are best effort
            log.debug("event %s not recorded: %r", reason, e)

    def _remember(self, key: tuple[str, ...], event: dict[str, Any]) -> None:
        self._seen[key] = event
        self._seen.move_to_end(key)
        while len(self._seen) > self._cache_size:
            self._seen.popitem(last=False)
