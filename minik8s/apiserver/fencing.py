"""Refuse writes from a deposed leader (see minik8s/api/fencing.py for the header).

The check is a linearizable read of the named Lease just before the write is
handled: the watch cache could still show the old holder for a moment after
the new one took over, which is exactly the moment that matters.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from aiohttp import web

from minik8s.api import errors
from minik8s.api import fencing
from minik8s.api import resources
from minik8s.apiserver import storage as storage_mod

LEASES = resources.must("coordination.k8s.io", "v1", "leases")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def middleware(store: storage_mod.Storage) -> Any:
    @web.middleware
    async def fence(request: web.Request, handler: Handler) -> web.StreamResponse:
        value = request.headers.get(fencing.HEADER)
        if value is None or request.method not in WRITES:
            return await handler(request)
        try:
            namespace, name, identity = fencing.parse(value)
        except ValueError as e:
            raise errors.BadRequest(str(e)) from None
        lease = await store.get_or_none(LEASES, namespace, name)
        holder = ((lease or {}).get("spec") or {}).get("holderIdentity") or ""
        if holder != identity:
            raise errors.Conflict(LEASES.qualified, name, f'the lease is held by "{holder}", not by "{identity}": '
                                  "a write from a deposed leader is refused")
        return await handler(request)
    return fence
