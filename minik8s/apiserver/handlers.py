"""The REST surface: Kubernetes paths and verbs mapped onto the registry.

Paths are parsed by hand from one catch-all route per API root because
Kubernetes' URL space is ambiguous to a pattern router
(`/api/v1/namespaces/x/pods` vs `/api/v1/namespaces/x/status`); the resource
table decides.
"""
from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import logging
import random
import time
import urllib.parse
from typing import Any, Awaitable, Callable

import multidict
import orjson
from aiohttp import web

from minik8s.api import errors
from minik8s.api import kinds
from minik8s.api import patch as patch_mod
from minik8s.api import protobuf
from minik8s.api import resources
from minik8s.api import selectors
from minik8s.api.schema import dsl
from minik8s.apiserver import bodies
from minik8s.apiserver import discovery
from minik8s.apiserver import fieldmanager
from minik8s.apiserver import pagination
from minik8s.apiserver import params
from minik8s.apiserver import registry as registry_mod
from minik8s.apiserver import storage as storage_mod
from minik8s.apiserver import watchcache

log = logging.getLogger(__name__)

JSON = "application/json"
TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"
PROTOBUF = "application/vnd.kubernetes.protobuf"
MAX_BODY = 3 * 1024 * 1024
# `?pretty=true` of the request being answered (each request runs in its own task).
_PRETTY: contextvars.ContextVar[bool] = contextvars.ContextVar("pretty", default=False)


@dataclasses.dataclass(frozen=True)
class Target:
    res: resources.Resource
    namespace: str | None
    name: str | None
    sub: str | None


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2 if _PRETTY.get() else 0)


def respond(obj: Any, status: int = 200, content_type: str = JSON) -> web.Response:
    return web.Response(body=dumps(obj), status=status, headers={"Content-Type": content_type})


def reply(request: web.Request | None, obj: Any, status: int = 200, warnings: list[str] | None = None,
          content_type: str = JSON) -> web.Response:
    """An object in the encoding the client prefers: protobuf when it asks for it and
    the kind has a schema, else JSON; with a Warning header per warning."""
    headers: multidict.CIMultiDict[str] = multidict.CIMultiDict()
    if request is not None and content_type == JSON and bodies.wants_protobuf(request) and protobuf.encodable(obj):
        headers["Content-Type"] = PROTOBUF
        body = protobuf.encode(obj)
    else:
        headers["Content-Type"] = content_type
        body = dumps(obj)
    for name, value in bodies.warning_headers(warnings or []):
        headers.add(name, value)
    return web.Response(body=body, status=status, headers=headers)


def status_response(err: errors.StatusError, request: web.Request | None = None) -> web.Response:
    resp = reply(request, err.status(), err.code)
    # responsewriters.ErrorNegotiated: a Status that says when to retry says it in the header too.
    retry_after = err.details.get("retryAfterSeconds")
    if isinstance(retry_after, int) and retry_after > 0:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def not_found_path() -> errors.StatusError:
    return errors.StatusError(404, "NotFound", "the server could not find the requested resource",
                              details={})


def path_parts(request: web.Request, root: str) -> list[str]:
    """The percent-decoded segments of the path after `root` (/api/ or /apis/).

    Read from the raw path, so an encoded `/` (`%2F`) stays inside its segment
    and an encoded `..` is seen for what it is; an empty inner segment names
    nothing (404)."""
    raw = request.rel_url.raw_path[len(root):].strip("/")
    try:
        parts = [urllib.parse.unquote(p, errors="strict") if "%" in p else p for p in raw.split("/")] if raw else []
    except UnicodeDecodeError:
        raise errors.BadRequest("the request path is not valid UTF-8 once percent-decoded") from None
    if any(not p for p in parts):
        raise not_found_path()
    return parts


def parse_target(group: str, version: str, parts: list[str]) -> Target:
    """Resolve the path after /api/v1 or /apis/<g>/<v> to a resource target."""
    namespace: str | None = None
    if len(parts) >= 3 and parts[0] == "namespaces" and \
            resources.lookup(group, version, parts[2]) is not None:
        namespace = parts[1]
        params.check_path_segment("Namespace", namespace)
        parts = parts[2:]
    if not parts or len(parts) > 3:
        raise not_found_path()
    res = resources.lookup(group, version, parts[0])
    if res is None:
        raise not_found_path()
    if namespace is not None and not res.namespaced:
        raise not_found_path()
    name = parts[1] if len(parts) > 1 else None
    if name is not None:
        params.check_path_segment("Name", name)
    sub = parts[2] if len(parts) > 2 else None
    if sub is not None and res.subresource(sub) is None:
        raise not_found_path()
    return Target(res, namespace, name, sub)


def wants_table(request: web.Request) -> bool:
    return "as=Table" in request.headers.get("Accept", "")


async def read_raw(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise errors.RequestEntityTooLarge(
            f"the request body is too large (limit {MAX_BODY} bytes)") from None


def decode_body(raw: bytes, content_type: str) -> Any:
    return bodies.decode_raw(raw, content_type)


async def read_object(request: web.Request, msg: dsl.Message | None) -> bodies.Decoded:
    """A write's body, type-checked against `msg` with the request's fieldValidation."""
    directive = bodies.field_validation(request)
    return bodies.decode_object(await read_raw(request), request.content_type, directive, msg)


async def read_delete_options(request: web.Request) -> params.DeleteOptions:
    """DeleteOptions from the body (kubectl sends one) or else the query, validated."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise errors.RequestEntityTooLarge(f"the request body is too large (limit {MAX_BODY} bytes)") from None
    body = None
    if raw.strip():
        body = decode_body(raw, request.content_type if request.content_type != "application/octet-stream" else JSON)
    return params.parse_delete_options(request.query, body)


def _write_options(request: web.Request, kind: str) -> params.WriteOptions:
    return params.parse_write_options(request.query, kind)


# serviceaccounts/token: (namespace, ServiceAccount name, TokenRequest body, dry run) → the
# answered TokenRequest (minik8s/apiserver/serviceaccounts.py).
TokenRequestHandler = Callable[[str, str, Any, bool], Awaitable[dict[str, Any]]]


class ResourceHandlers:
    """Request handlers for every resource path."""

    def __init__(self, store: storage_mod.Storage, registry: registry_mod.Registry,
                 caches: watchcache.WatchCaches, *,
                 node_proxy: Callable[[web.Request, Target], Awaitable[web.StreamResponse]] | None = None,
                 watch_timeout: tuple[int, int] = (1800, 3600), bookmark_interval: float = 10.0,
                 token_requests: TokenRequestHandler | None = None) -> None:
        self.token_requests = token_requests
        self.store = store
        self.registry = registry
        self.caches = caches
        self.node_proxy = node_proxy
        self.watch_timeout = watch_timeout
        self.bookmark_interval = bookmark_interval

    async def handle_core(self, request: web.Request) -> web.StreamResponse:
        parts = path_parts(request, "/api/")
        if not parts:
            raise errors.StatusError(404, "NotFound", "the server could not find the requested resource")
        version, rest = parts[0], parts[1:]
        if version != "v1":
            raise not_found_path()
        if not rest:
            return respond(discovery.api_resource_list("", "v1"))
        return await self.dispatch(request, parse_target("", version, rest))

    async def handle_group(self, request: web.Request) -> web.StreamResponse:
        parts = path_parts(request, "/apis/")
        if not parts:
            raise not_found_path()
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
        _PRETTY.set(params.parse_common(request.query))
        if t.sub in ("log", "exec", "attach", "portforward", "proxy"):
            if self.node_proxy is None:
                raise errors.ServiceUnavailable(f"pods/{t.sub} is not available: no node proxy configured")
            return await self.node_proxy(request, t)
        if t.name is None:
            if method == "GET":
                opts = params.parse_list_options(request.query, t.res.plural)
                if opts.watch:
                    return await self.watch(request, t, opts)
                return await self.list(request, t, opts)
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
            dry_run = _write_options(request, "CreateOptions").dry_run
            fieldmanager.manager_of(request)  # checked as on any create, though nothing records it
            decoded = await read_object(request, bodies.expected_schema(t.res, t.sub))
            await self.registry.bind(t.namespace or "", t.name, decoded.obj, dry_run=dry_run)
            return reply(request, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                   "code": 201}, 201, decoded.warnings)
        if t.sub == "token":
            if method != "POST":
                raise errors.MethodNotAllowed("token only supports POST")
            if self.token_requests is None:
                raise errors.ServiceUnavailable("serviceaccounts/token is not available: the API server has no "
                                                "--service-account-signing-key-file")
            dry_run = _write_options(request, "CreateOptions").dry_run
            fieldmanager.manager_of(request)
            decoded = await read_object(request, bodies.expected_schema(t.res, t.sub))
            answer = await self.token_requests(t.namespace or "", t.name, decoded.obj, dry_run)
            return reply(request, answer, 201, decoded.warnings)
        if t.sub == "eviction":
            if method != "POST":
                raise errors.MethodNotAllowed("eviction only supports POST")
            dry_run = _write_options(request, "CreateOptions").dry_run
            fieldmanager.manager_of(request)  # checked as on any create, though nothing records it
            decoded = await read_object(request, bodies.expected_schema(t.res, t.sub))
            body = decoded.obj
            if not isinstance(body, dict):
                raise errors.BadRequest("the body of the request must be an Eviction object")
            delete = params.parse_delete_options({}, body.get("deleteOptions") or {})
            # As upstream's propagateDryRun: the query's dryRun or the eviction's own deleteOptions.dryRun.
            await self.registry.delete(t.res, t.namespace, t.name, delete.options, dry_run=dry_run or delete.dry_run)
            return reply(request, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                   "code": 201}, 201, decoded.warnings)
        if method == "GET":
            if t.sub is None and params.parse_bool(request.query, "watch"):
                opts = params.parse_list_options(request.query, t.res.plural)
                return await self.watch(request, dataclasses.replace(t, name=None), opts, name=t.name)
            params.parse_resource_version(request.query)
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
                   status: int = 200, warnings: list[str] | None = None) -> web.Response:
        obj = kinds.to_version(res, obj)
        if wants_table(request):
            return reply(request, kinds.to_table(res, [obj], include_object=params.parse_include_object(request.query)),
                         status, warnings, TABLE_CONTENT_TYPE)
        return reply(request, obj, status, warnings)

    async def list(self, request: web.Request, t: Target, opts: params.ListOptions) -> web.Response:
        label, fields = opts.label_selector, opts.field_selector
        namespace = t.namespace
        if namespace is None and t.res.namespaced:
            namespace = fields.value_of("metadata.namespace")
        include = params.parse_include_object(request.query) if wants_table(request) else ""
        def selected(o: dict[str, Any]) -> bool:
            return label.matches(o["metadata"].get("labels")) and fields.matches(o)
        # Without selectors the list can tell how many objects follow a page.
        matches = None if label.empty() and fields.empty() else selected
        items, meta = await pagination.list_objects(self.store, t.res, namespace, opts, matches)
        if wants_table(request):
            table = kinds.to_table(t.res, [kinds.to_version(t.res, o) for o in items], list_meta=meta,
                                   include_object=include)
            return respond(table, 200, TABLE_CONTENT_TYPE)
        return reply(request, {"kind": t.res.list_kind, "apiVersion": t.res.api_version, "metadata": meta,
                               "items": [kinds.to_version(t.res, o) for o in items]})

    async def watch(self, request: web.Request, t: Target, opts: params.ListOptions,
                    name: str | None = None) -> web.StreamResponse:
        label, fields = opts.label_selector, opts.field_selector
        if name is not None:
            fields = selectors.FieldSelector(fields.requirements + (
                selectors.FieldRequirement("metadata.name", "=", name),))
        namespace = t.namespace

        def matches(obj: dict[str, Any]) -> bool:
            meta = obj["metadata"]
            return (namespace is None or meta.get("namespace") == namespace) and \
                label.matches(meta.get("labels")) and fields.matches(obj)
        match_all = label.empty() and fields.empty()

        cache = await self.caches.get(t.res)
        rv_text = opts.resource_version
        # Legacy watches without a resourceVersion start with the current state as
        # ADDED events; sendInitialEvents (WatchList) asks for that explicitly, and
        # then a bookmark marks where the initial events end.
        send_initial = opts.send_initial_events if opts.send_initial_events is not None else rv_text in ("", "0")
        initial: list[dict[str, Any]] = []
        expired = ""
        watcher: watchcache.Watcher | None = None
        try:
            if send_initial:
                items, start_rv = await self.store.list(t.res, namespace)
                if rv_text not in ("", "0") and int(rv_text) > start_rv:
                    raise pagination.too_large_resource_version(int(rv_text), start_rv)
                initial = [o for o in items if matches(o)]
            elif rv_text in ("", "0"):
                start_rv = await self.store.revision()
            else:
                start_rv = int(rv_text)
            watcher = cache.subscribe(start_rv, matches, match_all=match_all)
        except watchcache.Expired as e:
            expired = str(e)
        timeout = opts.timeout_seconds
        duration = float(timeout) if timeout else float(random.randint(*self.watch_timeout))
        bookmarks = opts.allow_watch_bookmarks
        as_table = wants_table(request)
        include = params.parse_include_object(request.query)
        if as_table:  # an unknown includeObject is a 400 before the stream starts, not a stream cut short
            kinds.to_table(t.res, [], include_object=include)
        # Protobuf watches (kubectl's typed clients) get length-prefixed WatchEvent frames.
        as_protobuf = not as_table and bodies.wants_protobuf(request) and protobuf.supports(
            t.res.api_version, t.res.kind)

        resp = web.StreamResponse(status=200, headers={
            "Content-Type": protobuf.WATCH_MEDIA_TYPE if as_protobuf else JSON, "Cache-Control": "no-cache"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        first_table = True

        def frame(ev_type: str, obj: dict[str, Any]) -> bytes:
            nonlocal first_table
            obj = kinds.to_version(t.res, obj)
            if as_protobuf:
                return protobuf.encode_watch_event(ev_type, obj)
            if as_table and ev_type in ("ADDED", "MODIFIED", "DELETED"):
                obj = kinds.to_table(t.res, [obj], include_object=include, with_definitions=first_table)
                first_table = False
            return orjson.dumps({"type": ev_type, "object": obj}) + b"\n"

        try:
            if watcher is None:
                await resp.write(frame("ERROR", errors.Gone(expired).status()))
                return resp
            for obj in initial:
                await resp.write(frame("ADDED", obj))
            # A bookmark never goes back behind what this watcher has been sent.
            last_rv = start_rv
            if opts.send_initial_events and bookmarks:
                await resp.write(frame("BOOKMARK", {
                    "kind": t.res.kind, "apiVersion": t.res.api_version,
                    "metadata": {"resourceVersion": str(start_rv),
                                 "annotations": {params.INITIAL_EVENTS_END: "true"}}}))
            deadline = time.monotonic() + duration
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
                    # Sent after every quiet interval, even when no revision moved: it is
                    # also the heartbeat by which a client that asked for bookmarks tells a
                    # quiet watch from a server that hangs or was cut off (rest.Client's
                    # watch_idle_timeout). Clients that did not ask never get one.
                    if bookmarks:
                        last_rv = max(last_rv, cache.revision)
                        await resp.write(frame("BOOKMARK", {
                            "kind": t.res.kind, "apiVersion": t.res.api_version,
                            "metadata": {"resourceVersion": str(last_rv)}}))
                    continue
                # Whatever else is already queued goes out in the same write.
                batch = [ev, *watcher.take_ready(255)]
                last_rv = batch[-1].rv
                if as_table or as_protobuf or t.res.storage_version:
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
        write = _write_options(request, "CreateOptions")
        decoded = await read_object(request, bodies.expected_schema(t.res, None))
        obj = await self.registry.create(t.res, t.namespace, kinds.from_version(t.res, decoded.obj),
                                         dry_run=write.dry_run, manager=fieldmanager.manager_of(request))
        return self.render_one(request, t.res, obj, 201, decoded.warnings)

    async def update(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        if t.sub not in (None, "status", "finalize", "ephemeralcontainers", "approval"):
            raise errors.MethodNotAllowed(f"PUT is not supported on {t.res.plural}/{t.sub}")
        write = _write_options(request, "UpdateOptions")
        decoded = await read_object(request, bodies.expected_schema(t.res, t.sub))
        obj, created = await self.registry.update(t.res, t.namespace, t.name, kinds.from_version(t.res, decoded.obj),
                                                  subresource=t.sub, dry_run=write.dry_run,
                                                  manager=fieldmanager.manager_of(request))
        return self.render_one(request, t.res, obj, 201 if created else 200, decoded.warnings)

    async def patch(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        if t.sub not in (None, "status", "ephemeralcontainers", "approval"):
            raise errors.MethodNotAllowed(f"PATCH is not supported on {t.res.plural}/{t.sub}")
        dry_run = _write_options(request, "PatchOptions").dry_run
        directive = bodies.field_validation(request)
        apply = fieldmanager.is_apply(request.content_type)
        manager = fieldmanager.manager_of(request, apply=apply)
        force = fieldmanager.force_of(request, apply=apply)
        raw = await read_raw(request)
        msg = bodies.expected_schema(t.res, t.sub)
        if apply:
            return await self.apply(request, t, raw, directive, msg, manager, force, dry_run)
        to_view = from_view = None
        if t.res.storage_version:  # a version served from another's storage (autoscaling/v1 HPA)
            to_view = functools.partial(kinds.to_version, t.res)
            from_view = functools.partial(kinds.from_version, t.res)
        view: Any = (to_view, from_view) if to_view else None
        check = None
        if msg is not None:
            check = bodies.PatchCheck(msg, directive, bodies.patch_duplicates(raw, request.content_type, directive),
                                      to_view, from_view, bodies.smp_body(raw, request.content_type))
            view = (check.to_view, check.from_view)
        obj = await self.registry.patch(t.res, t.namespace, t.name, raw, request.content_type,
                                        subresource=t.sub, dry_run=dry_run, view=view, manager=manager)
        return self.render_one(request, t.res, obj, warnings=check.warnings if check else None)

    async def apply(self, request: web.Request, t: Target, raw: bytes, directive: str, msg: dsl.Message | None,
                    manager: str, force: bool, dry_run: bool) -> web.Response:
        """Server-side apply (`application/apply-patch+yaml`): the body is a configuration
        (YAML or JSON), type-checked as a create body is."""
        assert t.name is not None
        decoded = bodies.decode_object(raw, "application/yaml", directive, msg)
        obj, created = await self.registry.apply(t.res, t.namespace, t.name, decoded.obj, manager=manager,
                                                 force=force, subresource=t.sub, dry_run=dry_run)
        return self.render_one(request, t.res, obj, 201 if created else 200, decoded.warnings)

    async def delete(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        delete = await read_delete_options(request)
        obj = await self.registry.delete(t.res, t.namespace, t.name, delete.options, dry_run=delete.dry_run)
        return self.render_one(request, t.res, obj)

    async def delete_collection(self, request: web.Request, t: Target) -> web.Response:
        opts = params.parse_list_options(request.query, t.res.plural, watch=False)
        delete = await read_delete_options(request)
        deleted = await self.registry.delete_collection(t.res, t.namespace, opts.label_selector, opts.field_selector,
                                                        delete.options, dry_run=delete.dry_run)
        return reply(request, {"kind": t.res.list_kind, "apiVersion": t.res.api_version, "metadata": {},
                               "items": [kinds.to_version(t.res, o) for o in deleted]})

    async def scale(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None and t.namespace is not None
        msg = bodies.expected_schema(t.res, "scale")
        if request.method == "GET":
            return reply(request, await self.registry.get_scale(t.res, t.namespace, t.name))
        if request.method == "PUT":
            dry_run = _write_options(request, "UpdateOptions").dry_run
            decoded = await read_object(request, msg)
            return reply(request, await self.registry.update_scale(t.res, t.namespace, t.name, decoded.obj,
                                                                   dry_run=dry_run,
                                                                   manager=fieldmanager.manager_of(request)),
                         warnings=decoded.warnings)
        if request.method == "PATCH":
            dry_run = _write_options(request, "PatchOptions").dry_run
            directive = bodies.field_validation(request)
            raw = await read_raw(request)
            # registry.patch_scale's steps, with the patched Scale type-checked before it is used.
            current = await self.registry.get_scale(t.res, t.namespace, t.name)
            current["metadata"].pop("resourceVersion", None)
            patched = patch_mod.apply_patch(current, raw, request.content_type, "Scale")
            warnings: list[str] = []
            if msg is not None:
                check = bodies.PatchCheck(msg, directive, bodies.patch_duplicates(raw, request.content_type,
                                                                                  directive),
                                          smp_patch=bodies.smp_body(raw, request.content_type))
                patched = check.from_view(patched)
                warnings = check.warnings
            return reply(request, await self.registry.update_scale(t.res, t.namespace, t.name, patched,
                                                                   dry_run=dry_run,
                                                                   manager=fieldmanager.manager_of(request)),
                         warnings=warnings)
        raise errors.MethodNotAllowed(f"{request.method} is not supported on scale")
