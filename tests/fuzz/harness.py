"""The fuzz suite's client and its oracles.

`Api.send` is every request the suite makes: it goes through the test client's
own connection pool (the `client` fixture: whatever transport and credentials
the harness gives it) and checks the properties every answer must have, so no
test can forget them:
- never a 5xx (nor a hang: each request has a deadline);
- every error is a Kubernetes Status whose code is the HTTP status.
`assert_valid` is the oracle for what was stored: the object read back must pass
the typed structural check of its kind's schema with nothing unknown in it, the
kind's own create validation, its update validation against itself (so a client
can always write it back), and print as a Table.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import pathlib
import urllib.parse
from typing import Any

import aiohttp
import orjson
import yarl

from minik8s.api import errors
from minik8s.api import kinds
from minik8s.api import protobuf
from minik8s.api import resources
from minik8s.api.schema import structural
from minik8s.client import rest
from tests.fuzz import gen

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = protobuf.MEDIA_TYPE
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
TIMEOUT = 30.0


class FuzzFailure(AssertionError):
    pass


@dataclasses.dataclass
class Reply:
    method: str
    path: str
    status: int
    content_type: str
    raw: bytes
    warnings: list[str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def body(self) -> Any:
        """The answer decoded: JSON, protobuf (objects, lists and Statuses), else text."""
        if self.content_type.startswith(PROTOBUF) and not self.content_type.endswith("stream=watch"):
            return protobuf.decode(self.raw)
        try:
            return orjson.loads(self.raw) if self.raw else None
        except orjson.JSONDecodeError:
            return self.raw.decode(errors="replace")

    def __str__(self) -> str:
        text = self.raw[:600].decode(errors="replace")
        return f"{self.method} {self.path} -> {self.status} {self.content_type}: {text}"


def quote(segment: str) -> str:
    """A path segment as a client puts a name into a URL."""
    return urllib.parse.quote(segment, safe="")


def path_of(res: resources.Resource, namespace: str | None, name: str | None = None, sub: str | None = None) -> str:
    return res.path(quote(namespace) if namespace and res.namespaced else None, quote(name) if name else None, sub)


# Every request the suite sent in this session, by (kind, verb) ("-" for the uncounted
# ones: seeds, re-reads, clean-up); the conftest prints it at the end of the run.
SESSION: collections.Counter[tuple[str, str]] = collections.Counter()


class Api:
    """Requests with the universal checks, counted per (kind, verb)."""

    def __init__(self, client: rest.Client, log_file: str) -> None:
        self.client = client
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self.log = pathlib.Path(log_file)
        self.log_start = self.log.stat().st_size

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    async def send(self, method: str, path: str, *, body: bytes | None = None, content_type: str | None = None,
                   accept: str = JSON, query: dict[str, str] | str | None = None, count: tuple[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> Reply:
        if query:
            path = f"{path}?{query if isinstance(query, str) else urllib.parse.urlencode(query)}"
        hdrs = {"Accept": accept, **(headers or {})}
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        url = yarl.URL(self.client.server + path, encoded=True)
        try:
            async with self.client.session.request(method, url, data=body, headers=hdrs,
                                                   timeout=_timeout(TIMEOUT)) as resp:
                if resp.status == 200 and method == "GET" and is_watch(path):
                    # A watch streams until its timeout: its first bytes (if any come) are
                    # enough to tell it started; closing the connection ends it.
                    raw = await _first_chunk(resp)
                else:
                    raw = await resp.read()
                reply = Reply(method, path, resp.status, resp.headers.get("Content-Type", ""), raw,
                              resp.headers.getall("Warning", []))
        except TimeoutError as e:
            raise FuzzFailure(f"{method} {path}: no answer within {TIMEOUT:g}s (a hang)") from e
        self.note(count)
        check_reply(reply)
        return reply

    def note(self, count: tuple[str, str] | None) -> None:
        """Count one request (`count` None: one that is not the generated request itself)."""
        if count is not None:
            self.counts[count] += 1
        SESSION[count or ("-", "-")] += 1

    async def json(self, method: str, path: str, obj: Any = None, *, content_type: str = JSON,
                   count: tuple[str, str] | None = None, query: dict[str, str] | None = None) -> Reply:
        body = None if obj is None else orjson.dumps(obj)
        return await self.send(method, path, body=body, content_type=content_type if body is not None else None,
                               count=count, query=query)

    def new_log(self) -> str:
        """What the API server logged since this Api was made."""
        return self.log.read_bytes()[self.log_start:].decode(errors="replace")


def is_watch(path: str) -> bool:
    """Whether the server takes a GET of `path` as a watch (`watch` present and not false, as
    Kubernetes converts a query bool: only "0" and "false" are false)."""
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query, keep_blank_values=True).get("watch")
    return bool(values) and values[0] not in ("0", "false", "False", "FALSE")


async def _first_chunk(resp: aiohttp.ClientResponse) -> bytes:
    try:
        return await asyncio.wait_for(resp.content.readany(), 2)
    except TimeoutError:
        return b""  # a watch with nothing to send yet


def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


def watch_timeout() -> aiohttp.ClientTimeout:
    """A watch stays open: only connecting and each read have a deadline."""
    return aiohttp.ClientTimeout(total=None, sock_connect=TIMEOUT, sock_read=TIMEOUT)


# aiohttp's HTTP parser refuses request lines and header lines longer than this with a
# plain-text 400 before any handler runs (Go's server does the same past 1 MiB with a 431).
HTTP_LINE_LIMIT = 8190


def check_reply(reply: Reply) -> None:
    """The properties of every answer: no 5xx, errors are Statuses with the HTTP code."""
    if reply.status >= 500:
        raise FuzzFailure(f"5xx: {reply}")
    if reply.status == 400 and len(reply.path) > HTTP_LINE_LIMIT - 20:
        return  # refused by the HTTP layer, not by the API
    if reply.status >= 400 and reply.method != "HEAD":
        try:
            body = reply.body
        except errors.StatusError as e:
            raise FuzzFailure(f"error answer does not decode ({e.message}): {reply}") from None
        if not (isinstance(body, dict) and body.get("kind") == "Status" and body.get("code") == reply.status):
            raise FuzzFailure(f"error answer is not a Status with code {reply.status}: {reply}")


def assert_valid(res: resources.Resource, obj: Any, what: str) -> None:
    """The oracle for a stored object (in `res`'s storage shape)."""
    def fail(why: str) -> FuzzFailure:
        return FuzzFailure(f"{what}: stored object invalid on re-read: {why}\n{json.dumps(obj)[:3000]}")

    if not isinstance(obj, dict):
        raise fail("not an object")
    copy = rest_copy(obj)
    try:
        unknown = structural.check(gen.message_of(res), copy)
    except structural.StructuralError as e:
        raise fail(f"ill-typed: {e}") from None
    if unknown:
        raise fail(f"unknown fields stored: {unknown}")
    try:
        kinds.validate(res, rest_copy(obj))
        kinds.validate(res, rest_copy(obj), rest_copy(obj))
    except errors.StatusError as e:
        raise fail(f"{e.code} {e.message}") from None
    except Exception as e:  # any other exception is the validation code failing on it
        raise fail(f"validation raised {type(e).__name__}: {e}") from e
    try:
        kinds.to_table(res, [rest_copy(obj)])
    except Exception as e:  # the printer failing on a stored object is the bug
        raise fail(f"the Table printer raised {type(e).__name__}: {e}") from e


def rest_copy(obj: Any) -> Any:
    return orjson.loads(orjson.dumps(obj))


async def reread(api: Api, res: resources.Resource, namespace: str | None, name: str, what: str) -> Any:
    """GET the object as stored and through `res`'s own version; check it; None if it is gone."""
    storage = resources.storage_resource(res)
    got = await api.send("GET", path_of(storage, namespace, name), count=(storage.kind, "get"))
    if got.status == 404:
        return None
    if got.status != 200:
        raise FuzzFailure(f"{what}: re-read answered {got}")
    obj = got.body
    assert_valid(storage, obj, what)
    if storage is not res:
        view = await api.send("GET", path_of(res, namespace, name), count=(res.kind, "get"))
        if view.status != 200:
            raise FuzzFailure(f"{what}: re-read as {res.api_version} answered {view}")
    return obj


async def purge(api: Api, res: resources.Resource, namespace: str | None, name: str) -> None:
    """Remove an object whatever state the fuzzing left it in (finalizers, grace, a namespace's spec)."""
    res = resources.storage_resource(res)
    path = path_of(res, namespace, name)
    await api.json("PATCH", path, {"metadata": {"finalizers": None}}, content_type=MERGE)
    await api.send("DELETE", path, query={"gracePeriodSeconds": "0"})
    if res.kind == "Namespace":
        got = await api.send("GET", path)
        if got.ok:
            ns = got.body
            ns.setdefault("spec", {})["finalizers"] = []
            await api.json("PUT", path + "/finalize", ns)
    got = await api.send("GET", path)
    if got.status != 404:
        raise FuzzFailure(f"could not remove {res.kind} {namespace}/{name}: {got}")


def assert_unchanged(before: Any, after: Any, what: str) -> None:
    """A rejected (or dry-run) write changes nothing: the same resourceVersion and the same object."""
    if before is None:
        if after is not None:
            raise FuzzFailure(f"{what}: yet an object was stored: {json.dumps(after)[:1500]}")
        return
    if after is None:
        raise FuzzFailure(f"{what}: yet the object is gone")
    rv0, rv1 = before["metadata"].get("resourceVersion"), after["metadata"].get("resourceVersion")
    if rv0 != rv1 or before != after:
        raise FuzzFailure(f"{what}: yet the object changed (resourceVersion {rv0} -> {rv1})")
