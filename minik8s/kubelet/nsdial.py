"""Connect a TCP socket from inside another network namespace (port-forward's dial).

`kubectl port-forward` reaches the pod's own loopback, so a server listening only
on 127.0.0.1 inside the pod is reachable too. As the real kubelet's runtimes do,
the socket is created inside the pod sandbox's network namespace: a thread of its
own joins the namespace of the sandbox's process (/proc/<pid>/ns/net, setns(2)),
creates and connects the socket, and goes back. A socket stays in the namespace it
was created in, so the connected socket is then used from the event loop like any
other. setns(CLONE_NEWNET) changes only the calling thread, and the thread is
never a pool thread, so no other work ever runs inside the pod's namespace.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import socket
import threading

CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.setns.argtypes = (ctypes.c_int, ctypes.c_int)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def connect_in_netns(netns_path: str, host: str, port: int, timeout: float = 5.0) -> socket.socket:
    """A non-blocking TCP socket connected to host:port as seen from the namespace at
    `netns_path`. Blocks: call it through `dial`."""
    own = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        finally:
            _setns(own)  # if this failed the thread would stay in the pod: it ends right after anyway
    finally:
        os.close(own)
    sock.setblocking(False)
    return sock


async def dial(netns_path: str, host: str, port: int, timeout: float = 5.0) -> socket.socket:
    """connect_in_netns on a new thread of its own, awaited without blocking the loop."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[socket.socket] = loop.create_future()

    def settle(result: socket.socket | None, error: BaseException | None) -> None:
        if done.cancelled():
            if result is not None:
                result.close()
        elif error is not None:
            done.set_exception(error)
        else:
            assert result is not None
            done.set_result(result)

    def run() -> None:
        try:
            sock = connect_in_netns(netns_path, host, port, timeout)
        except BaseException as e:  # noqa: BLE001 - handed to the awaiting coroutine
            with contextlib.suppress(RuntimeError):  # the loop is gone
                loop.call_soon_threadsafe(settle, None, e)
            return
        try:
            loop.call_soon_threadsafe(settle, sock, None)
        except RuntimeError:
            sock.close()

    threading.Thread(target=run, name=f"netns-dial-{port}", daemon=True).start()
    return await done
