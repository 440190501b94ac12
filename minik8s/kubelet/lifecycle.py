"""Container lifecycle hooks: postStart and preStop handlers (pkg/kubelet/lifecycle).

A handler is `exec` (a command in the container, through the runtime),
`httpGet` (a GET to the pod, or `host`, with headers and scheme; 2xx/3xx is
success) or `sleep` (seconds). The caller decides what a failure means:
a failed postStart kills the container (event FailedPostStartHook), a failed
or slow preStop is reported (FailedPreStopHook) and the container is stopped
anyway, the hook's time counting against the grace period.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from minik8s.kubelet import prober
from minik8s.kubelet import runtime

log = logging.getLogger(__name__)

Obj = dict[str, Any]
# An exec hook without a deadline of its own (postStart) still must not hang a pod forever.
DEFAULT_TIMEOUT = 600.0


class HookError(Exception):
    pass


class HandlerRunner:
    def __init__(self, rt: runtime.Runtime) -> None:
        self.runtime = rt

    async def run(self, handler: Obj, container: Obj, container_id: str, pod_ip: str,
                  timeout: float = DEFAULT_TIMEOUT) -> None:
        """Run one handler; raises HookError with what went wrong."""
        if handler.get("exec") is not None:
            command = [str(c) for c in handler["exec"].get("command") or []]
            try:
                result = await self.runtime.exec_sync(container_id, command, timeout)
            except (asyncio.TimeoutError, TimeoutError):
                raise HookError(f"command {command!r} timed out") from None
            except runtime.RuntimeFailure as e:
                raise HookError(e.message) from None
            if result.exit_code != 0:
                output = result.output.decode(errors="replace").strip()
                raise HookError(f"command '{' '.join(command)}' exited with {result.exit_code}: {output}")
            return
        if handler.get("httpGet") is not None:
            await self._http(handler["httpGet"], container, pod_ip, timeout)
            return
        if handler.get("sleep") is not None:
            await asyncio.sleep(min(float(handler["sleep"].get("seconds") or 0), timeout))
            return
        if handler.get("tcpSocket") is not None:
            raise HookError("tcpSocket is not supported in lifecycle hooks")
        raise HookError("the handler names no action")

    async def _http(self, spec: Obj, container: Obj, pod_ip: str, timeout: float) -> None:
        host = spec.get("host") or pod_ip
        try:
            port = prober.resolve_port(spec.get("port"), container)
        except ValueError as e:
            raise HookError(str(e)) from None
        scheme = str(spec.get("scheme") or "HTTP").lower()
        path = str(spec.get("path") or "/")
        if not path.startswith("/"):
            path = "/" + path
        url = f"{scheme}://{host}:{port}{path}"
        headers = {"User-Agent": "kube-lifecycle/1.32"}
        for h in spec.get("httpHeaders") or []:
            headers[str(h.get("name", ""))] = str(h.get("value", ""))
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
                async with session.get(url, headers=headers, ssl=False,
                                       timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                    await resp.read()
                    if not 200 <= resp.status < 400:
                        raise HookError(f"HTTP lifecycle hook ({path}) for Container \"{container.get('name')}\" "
                                        f"failed - error: Get \"{url}\": status code {resp.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            raise HookError(f"Get \"{url}\": {e or type(e).__name__}") from None
