"""/healthz, /livez and /readyz as kube-apiserver serves them (k8s.io/apiserver/pkg/server/healthz).

Each endpoint runs named checks. A passing endpoint answers 200 `ok`, or with
`?verbose` one line per check (`[+]etcd ok`) and `readyz check passed`; a
failing one answers 500 with every check listed (`[-]etcd failed: reason
withheld`) and `readyz check failed`; the reason goes to the log, not to the
anonymous caller. `?exclude=NAME` (repeatable) skips a check, and
`/readyz/NAME` runs one check alone.

The `etcd` check is a linearizable read, which etcd only answers with a
quorum, under its own short deadline (kube-apiserver's
--etcd-readycheck-timeout, 2 s): a load balancer or `minik8s cluster status`
sees an API server without etcd as not ready instead of waiting on it.
`shutdown` fails from the moment the server starts stopping, so traffic moves
away before the port closes.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

CheckFn = Callable[[], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    run: CheckFn


async def ping() -> None:
    return None


def etcd_check(probe: Callable[[], Awaitable[object]], timeout: float) -> CheckFn:
    """Fail unless `probe` (a quorum read) answers within `timeout` seconds."""
    async def check() -> None:
        try:
            await asyncio.wait_for(probe(), timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f"etcd did not answer within {timeout:g}s") from None
    return check


class Health:
    def __init__(self, endpoints: dict[str, list[Check]]) -> None:
        self.endpoints = endpoints

    def add_routes(self, router: web.UrlDispatcher) -> None:
        for endpoint in self.endpoints:
            router.add_get(f"/{endpoint}", self.handle_all)
            router.add_get(f"/{endpoint}/{{check}}", self.handle_one)

    async def _run(self, check: Check) -> str | None:
        """None when the check passes, else why it failed."""
        try:
            await check.run()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - any failure of a check is a failed check
            return str(e) or type(e).__name__
        return None

    async def handle_all(self, request: web.Request) -> web.Response:
        endpoint = request.path.strip("/")
        excluded = set(request.query.getall("exclude", []))
        checks = [c for c in self.endpoints[endpoint] if c.name not in excluded]
        results = await asyncio.gather(*(self._run(c) for c in checks))
        failed = any(r is not None for r in results)
        verbose = "verbose" in request.query
        lines = []
        for check, reason in zip(checks, results):
            if reason is None:
                lines.append(f"[+]{check.name} ok")
            else:
                log.warning("%s check failed: %s: %s", endpoint, check.name, reason)
                lines.append(f"[-]{check.name} failed: reason withheld")
        for name in sorted(excluded - {c.name for c in self.endpoints[endpoint]}):
            lines.append(f"warn: some health checks cannot be excluded: no matches for \"{name}\"")
        for name in sorted(excluded & {c.name for c in self.endpoints[endpoint]}):
            lines.append(f"[+]{name} excluded: ok")
        if failed:
            return _text(500, "\n".join(lines) + f"\n{endpoint} check failed\n")
        if verbose:
            return _text(200, "\n".join(lines) + f"\n{endpoint} check passed\n")
        return _text(200, "ok")

    async def handle_one(self, request: web.Request) -> web.Response:
        endpoint = request.path.strip("/").split("/")[0]
        name = request.match_info["check"]
        check = next((c for c in self.endpoints.get(endpoint, []) if c.name == name), None)
        if check is None:
            return _text(404, "404 page not found\n")
        reason = await self._run(check)
        if reason is not None:
            log.warning("%s check failed: %s: %s", endpoint, name, reason)
            return _text(500, f"internal server error: {reason}\n")
        return _text(200, "ok")


def _text(status: int, body: str) -> web.Response:
    return web.Response(status=status, text=body, content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})
