"""The REST surface: Kubernetes paths and verbs mapped onto the registry.

Paths are parsed by hand from one catch-all route per API root because
Kubernetes' URL space is ambiguous to a pattern router
(`/api/v1/namespaces/x/pods` vs `/api/v1/namespaces/x/status`); the resource
table decides.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from typing import Any, Awaitable, Callable

import orjson
import yaml
from aiohttp import web

from minik8s.api import convert
from minik8s.api import errors
from minik8s.api import protobuf
from minik8s.api import resources
from minik8s.api import selectors
from minik8s.apiserver import discovery
from minik8s.apiserver import registry as registry_mod
from minik8s.apiserver import storage as storage_mod
from minik8s.apiserver import tables
from minik8s.apiserver import watchcache

log = logging.getLogger(__name__)

JSON = "application/json"
TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"
PROTOBUF = "application/vnd.kubernetes.protobuf"
MAX_BODY = 3 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Target:
    res: resources.Resource
    namespace: str | None
    name: str | None
    sub: str | None


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def respond(obj: Any, status: int = 200, content_type: str = JSON) -> web.Response:
    return web.Response(body=dumps(obj), status=status, headers={"Content-Type": content_type})


def status_response(err: errors.StatusError) -> web.Response:
    return respond(err.status(), err.code)


def not_found_path() -> errors.StatusError:
    return errors.StatusError(404, "NotFound", "the server could not find the requested resource",
                              details={})


def parse_target(group: str, version: str, parts: list[str]) -> Target:
    """Resolve the path after /api/v1 or /apis/<g>/<v> to a resource target."""
    namespace: str | None = None
    if len(parts) >= 3 and parts[0] == "namespaces" and \
            resources.lookup(group, version, parts[2]) is not None:
        namespace = parts[1]
        parts = parts[2:]
    if not parts or len(parts) > 3:
        raise not_found_path()
    res = resources.lookup(group, version, parts[0])
    if res is None:
        raise not_found_path()
    if namespace is not None and not res.namespaced:
        raise not_found_path()
    name = parts[1] if len(parts) > 1 else None
    sub = parts[2] if len(parts) > 2 else None
    if sub is not None and res.subresource(sub) is None:
        raise not_found_path()
    return Target(res, namespace, name, sub)


def wants_table(request: web.Request) -> bool:
    return "as=Table" in request.headers.get("Accept", "")


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1", "")


def _is_watch(request: web.Request) -> bool:
    return "watch" in request.query and _truthy(request.query["watch"])


def _to_client(res: resources.Resource, obj: dict[str, Any]) -> dict[str, Any]:
    """Stored shape → the shape of the requested version (autoscaling/v1 HPA)."""
    if res.storage_version and res.plural == "horizontalpodautoscalers":
        return convert.hpa_v2_to_v1(obj)
    return obj


def _from_client(res: resources.Resource, obj: Any) -> Any:
    if res.storage_version and res.plural == "horizontalpodautoscalers" and isinstance(obj, dict):
        if obj.get("apiVersion") not in (None, "", res.api_version):
            raise errors.BadRequest(f"the API version in the data ({obj.get('apiVersion')}) does not match "
                                    f"the expected API version ({res.api_version})")
        obj = dict(obj)
        obj.setdefault("apiVersion", res.api_version)
        obj.setdefault("kind", res.kind)
        return convert.hpa_v1_to_v2(obj)
    return obj


async def read_body(request: web.Request) -> Any:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise errors.RequestEntityTooLarge(
            f"the request body is too large (limit {MAX_BODY} bytes)") from None
    return decode_body(raw, request.content_type)


def decode_body(raw: bytes, content_type: str) -> Any:
    if content_type == PROTOBUF:
        return protobuf.decode(raw)
    if not raw.strip():
        raise errors.BadRequest("the request body is empty")
    if content_type in ("application/yaml", "application/x-yaml", "text/yaml"):
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as e:
            raise errors.BadRequest(f"error decoding YAML: {e}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise errors.BadRequest(f"couldn't get version/kind; json parse error: {e}") from None


async def read_options(request: web.Request) -> dict[str, Any]:
    """DeleteOptions from the body (kubectl sends one) and the query."""
    options: dict[str, Any] = {}
    raw = await request.read()
    if raw.strip():
        body = decode_body(raw, request.content_type if request.content_type != "application/octet-stream" else JSON)
        if not isinstance(body, dict):
            raise errors.BadRequest("the DeleteOptions body must be an object")
        options.update(body)
    q = request.query
    if "gracePeriodSeconds" in q:
        try:
            options["gracePeriodSeconds"] = int(q["gracePeriodSeconds"])
        except ValueError:
            raise errors.BadRequest("gracePeriodSeconds must be an integer") from None
    if "propagationPolicy" in q:
        options["propagationPolicy"] = q["propagationPolicy"]
    if "orphanDependents" in q:
        options["orphanDependents"] = _truthy(q["orphanDependents"])
    return options


def _dry_run(request: web.Request) -> bool:
    value = request.query.get("dryRun")
    if value is None:
        return False
    if value != "All":
        raise errors.BadRequest(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return True


class ResourceHandlers:
    """Request handlers for every resource path."""

    def __init__(self, store: storage_mod.Storage, registry: registry_mod.Registry,
                 caches: watchcache.WatchCaches, *,
                 node_proxy: Callable[[web.Request, Target], Awaitable[web.StreamResponse]] | None = None,
                 watch_timeout: tuple[int, int] = (1800, 3600), bookmark_interval: float = 10.0) -> None:
        self.store = store
        self.registry = registry
        self.caches = caches
        self.node_proxy = node_proxy
        self.watch_timeout = watch_timeout
        self.bookmark_interval = bookmark_interval

    async def handle_core(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.match_info["tail"].split("/") if p]
        if not parts:
            raise errors.StatusError(404, "NotFound", "the server could not find the requested resource")
        version, rest = parts[0], parts[1:]
        if version != "v1":
            raise not_found_path()
        if not rest:
            return respond(discovery.api_resource_list("", "v1"))
        return await self.dispatch(request, parse_target("", version, rest))

    async def handle_group(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.match_info["tail"].split("/") if p]
        group = parts[0]
        if len(parts) == 1:
            doc = discovery.api_group(group)
            if doc is None:
                raise not_found_path()
            return respond(doc)
        version, rest = parts[1], parts[2:]
        if not rest:
            doc = discovery.api_resource_list(group, version)
            if doc is None:
                raise not_found_path()
            return respond(doc)
        return await self.dispatch(request, parse_target(group, version, rest))

    async def dispatch(self, request: web.Request, t: Target) -> web.StreamResponse:
        method = request.method
        if t.sub in ("log", "exec", "attach", "portforward", "proxy"):
            if self.node_proxy is None:
                raise errors.ServiceUnavailable(f"pods/{t.sub} is not available: no node proxy configured")
            return await self.node_proxy(request, t)
        if t.name is None:
            if method == "GET":
                if _is_watch(request):
                    return await self.watch(request, t)
                return await self.list(request, t)
            if method == "POST":
                return await self.create(request, t)
            if method == "DELETE":
                return await self.delete_collection(request, t)
            raise errors.MethodNotAllowed(f"{method} is not supported on a collection")
        if t.sub == "scale":
            return await self.scale(request, t)
        if t.sub == "binding":
            if method != "POST":
                raise errors.MethodNotAllowed("binding only supports POST")
            await self.registry.bind(t.namespace or "", t.name, await read_body(request))
            return respond({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                            "code": 201}, 201)
        if t.sub == "eviction":
            if method != "POST":
                raise errors.MethodNotAllowed("eviction only supports POST")
            body = await read_body(request)
            await self.registry.delete(t.res, t.namespace, t.name, (body or {}).get("deleteOptions") or {})
            return respond({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                            "code": 201}, 201)
        if method == "GET":
            if t.sub is None and _is_watch(request):
                return await self.watch(request, dataclasses.replace(t, name=None),
                                        name=t.name)
            obj = await self.store.get(t.res, t.namespace, t.name)
            return self.render_one(request, t.res, obj)
        if method == "PUT":
            return await self.update(request, t)
        if method == "PATCH":
            return await self.patch(request, t)
        if method == "DELETE":
            if t.sub is not None:
                raise errors.MethodNotAllowed(f"DELETE is not supported on {t.res.plural}/{t.sub}")
            return await self.delete(request, t)
        raise errors.MethodNotAllowed(f"{method} is not supported")

    # -- reads ------------------------------------------------------------------

    def render_one(self, request: web.Request, res: resources.Resource, obj: dict[str, Any],
                   status: int = 200) -> web.Response:
        obj = _to_client(res, obj)
        if wants_table(request):
            return respond(tables.to_table(res, [obj], include_object=request.query.get("includeObject", "Metadata")),
                           status, TABLE_CONTENT_TYPE)
        return respond(obj, status)

    def _selectors(self, request: web.Request, t: Target, name: str | None = None
                   ) -> tuple[selectors.LabelSelector, selectors.FieldSelector]:
        label = selectors.parse_label_selector(request.query.get("labelSelector"))
        fields = selectors.parse_field_selector(request.query.get("fieldSelector"), t.res.plural)
        if name is not None:
            fields = selectors.FieldSelector(fields.requirements + (
                selectors.FieldRequirement("metadata.name", "=", name),))
        return label, fields

    async def list(self, request: web.Request, t: Target) -> web.Response:
        label, fields = self._selectors(request, t)
        namespace = t.namespace
        if namespace is None and t.res.namespaced:
            namespace = fields.value_of("metadata.namespace")
        items, rv = await self.store.list(t.res, namespace)
        items = [o for o in items if label.matches(o["metadata"].get("labels")) and fields.matches(o)]
        meta = {"resourceVersion": str(rv)}
        if wants_table(request):
            table = tables.to_table(t.res, [_to_client(t.res, o) for o in items], list_meta=meta,
                                    include_object=request.query.get("includeObject", "Metadata"))
            return respond(table, 200, TABLE_CONTENT_TYPE)
        return respond({"kind": t.res.list_kind, "apiVersion": t.res.api_version, "metadata": meta,
                        "items": [_to_client(t.res, o) for o in items]})

    async def watch(self, request: web.Request, t: Target, name: str | None = None) -> web.StreamResponse:
        label, fields = self._selectors(request, t, name)
        namespace = t.namespace

        def matches(obj: dict[str, Any]) -> bool:
            meta = obj["metadata"]
            return (namespace is None or meta.get("namespace") == namespace) and \
                label.matches(meta.get("labels")) and fields.matches(obj)
        match_all = label.empty() and fields.empty()

        cache = await self.caches.get(t.res)
        rv_text = request.query.get("resourceVersion", "")
        initial: list[dict[str, Any]] = []
        try:
            if rv_text in ("", "0"):
                items, list_rv = await self.store.list(t.res, namespace)
                initial = [o for o in items if matches(o)]
                watcher = cache.subscribe(list_rv, matches, match_all=match_all)
            else:
                watcher = cache.subscribe(registry_mod._parse_rv(rv_text), matches, match_all=match_all)
        except watchcache.Expired as e:
            watcher = None
            expired = str(e)
        timeout = request.query.get("timeoutSeconds")
        try:
            duration = float(timeout) if timeout else float(random.randint(*self.watch_timeout))
        except ValueError:
            raise errors.BadRequest("timeoutSeconds must be a number") from None
        bookmarks = "allowWatchBookmarks" in request.query and _truthy(request.query["allowWatchBookmarks"])
        as_table = wants_table(request)
        include = request.query.get("includeObject", "Metadata")

        resp = web.StreamResponse(status=200, headers={"Content-Type": JSON, "Cache-Control": "no-cache"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        first_table = True

        def frame(ev_type: str, obj: dict[str, Any]) -> bytes:
            nonlocal first_table
            obj = _to_client(t.res, obj)
            if as_table and ev_type in ("ADDED", "MODIFIED", "DELETED"):
                obj = tables.to_table(t.res, [obj], include_object=include, with_definitions=first_table)
                first_table = False
            return orjson.dumps({"type": ev_type, "object": obj}) + b"\n"

        try:
            if watcher is None:
                err = errors.Gone(expired)
                await resp.write(orjson.dumps({"type": "ERROR", "object": err.status()}) + b"\n")
                return resp
            for obj in initial:
                await resp.write(frame("ADDED", obj))
            deadline = time.monotonic() + duration
            last_rv = 0
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                wait = min(remaining, self.bookmark_interval) if bookmarks else remaining
                try:
                    ev = await watcher.next(wait)
                except watchcache.Closed:
                    break
                if ev is None:
                    if bookmarks and cache.revision > last_rv:
                        last_rv = cache.revision
                        await resp.write(orjson.dumps({"type": "BOOKMARK", "object": {
                            "kind": t.res.kind, "apiVersion": t.res.api_version,
                            "metadata": {"resourceVersion": str(cache.revision)}}}) + b"\n")
                    continue
                # Whatever else is already queued goes out in the same write.
                batch = [ev, *watcher.take_ready(255)]
                last_rv = batch[-1].rv
                if as_table or t.res.storage_version:
                    await resp.write(b"".join(frame(e.type, e.obj) for e in batch))
                else:
                    await resp.write(b"".join(e.json_line() for e in batch))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            if watcher is not None:
                watcher.close()
        return resp

    # -- writes -----------------------------------------------------------------

    async def create(self, request: web.Request, t: Target) -> web.Response:
        body = _from_client(t.res, await read_body(request))
        obj = await self.registry.create(t.res, t.namespace, body, dry_run=_dry_run(request))
        return self.render_one(request, t.res, obj, 201)

    async def update(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        if t.sub not in (None, "status", "finalize", "approval"):
            raise errors.MethodNotAllowed(f"PUT is not supported on {t.res.plural}/{t.sub}")
        body = _from_client(t.res, await read_body(request))
        obj, created = await self.registry.update(t.res, t.namespace, t.name, body, subresource=t.sub,
                                                  dry_run=_dry_run(request))
        return self.render_one(request, t.res, obj, 201 if created else 200)

    async def patch(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        if t.sub not in (None, "status", "approval"):
            raise errors.MethodNotAllowed(f"PATCH is not supported on {t.res.plural}/{t.sub}")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise errors.RequestEntityTooLarge(f"the request body is too large (limit {MAX_BODY} bytes)") from None
        view = None
        if t.res.storage_version and t.res.plural == "horizontalpodautoscalers":
            view = (convert.hpa_v2_to_v1, convert.hpa_v1_to_v2)
        obj = await self.registry.patch(t.res, t.namespace, t.name, raw, request.content_type,
                                        subresource=t.sub, dry_run=_dry_run(request), view=view)
        return self.render_one(request, t.res, obj)

    async def delete(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        options = await read_options(request)
        obj = await self.registry.delete(t.res, t.namespace, t.name, options, dry_run=_dry_run(request))
        return self.render_one(request, t.res, obj)

    async def delete_collection(self, request: web.Request, t: Target) -> web.Response:
        label, fields = self._selectors(request, t)
        options = await read_options(request)
        deleted = await self.registry.delete_collection(t.res, t.namespace, label, fields, options,
                                                        dry_run=_dry_run(request))
        return respond({"kind": t.res.list_kind, "apiVersion": t.res.api_version, "metadata": {},
                        "items": [_to_client(t.res, o) for o in deleted]})

    async def scale(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None and t.namespace is not None
        if request.method == "GET":
            return respond(await self.registry.get_scale(t.res, t.namespace, t.name))
        if request.method == "PUT":
            return respond(await self.registry.update_scale(t.res, t.namespace, t.name, await read_body(request),
                                                            dry_run=_dry_run(request)))
        if request.method == "PATCH":
            raw = await request.read()
            return respond(await self.registry.patch_scale(t.res, t.namespace, t.name, raw, request.content_type,
                                                           dry_run=_dry_run(request)))
        raise errors.MethodNotAllowed(f"{request.method} is not supported on scale")
