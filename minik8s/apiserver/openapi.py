"""Serving /openapi/v2 and /openapi/v3: each document generated once, then cached.

The documents are pure functions of the schema and the resource table
(minik8s.api.schema.openapi), so each is built on first request and kept with an
ETag (the SHA-512 of its bytes, as kube-apiserver computes it). /openapi/v3 lists
every group/version with that hash in its URL; a request carrying the current hash
may be cached forever (`Cache-Control: public, immutable`), one with a stale hash
is redirected to the current URL, and If-None-Match gets 304.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
from typing import Any

import orjson
from aiohttp import web

from minik8s.api import protobuf
from minik8s.api.schema import gnostic
from minik8s.api.schema import openapi as documents

JSON = "application/json"
# kubectl asks for the first; clients before 1.27 asked for the second.
V2_PROTOBUF_TYPES = (gnostic.MEDIA_TYPE, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")


@dataclasses.dataclass(frozen=True)
class Cached:
    body: bytes
    etag: str  # the hash, without quotes


def _cached(body: bytes) -> Cached:
    return Cached(body, hashlib.sha512(body).hexdigest().upper())


class OpenAPI:
    def __init__(self, server_version: str) -> None:
        self.server_version = server_version

    @functools.cached_property
    def _v2_document(self) -> dict[str, Any]:
        return documents.v2_document(self.server_version)

    @functools.cached_property
    def v2_json(self) -> Cached:
        return _cached(orjson.dumps(self._v2_document))

    @functools.cached_property
    def v2_protobuf(self) -> Cached:
        return _cached(protobuf.encode_message(gnostic.to_gnostic(self._v2_document), gnostic.DOCUMENT))

    @functools.cached_property
    def v3(self) -> dict[str, Cached]:
        """Every group/version's document by its key (api/v1, apis/apps/v1)."""
        return {documents.v3_key(g, v): _cached(orjson.dumps(documents.v3_document(g, v, self.server_version)))
                for g, v in documents.served_group_versions()}

    def v3_root(self) -> dict[str, Any]:
        return {"paths": {key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={doc.etag}"}
                          for key, doc in self.v3.items()}}

    # -- handlers ---------------------------------------------------------------

    async def serve_v2(self, request: web.Request) -> web.Response:
        accept = request.headers.get("Accept", "")
        wanted = next((t for t in V2_PROTOBUF_TYPES if t in accept), None)
        if wanted is not None:
            # Not the requested type as Content-Type: its "@" makes it an invalid media type for
            # Go's mime parser, so client-go would refuse the answer.
            return _respond(request, self.v2_protobuf, "application/octet-stream")
        return _respond(request, self.v2_json, JSON)

    async def serve_v3_root(self, request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(self.v3_root()), headers={
            "Content-Type": JSON, "Cache-Control": "no-cache, private"})

    async def serve_v3(self, request: web.Request) -> web.Response:
        key = request.match_info["tail"].strip("/")
        doc = self.v3.get(key)
        if doc is None:
            return web.Response(status=404, body=orjson.dumps({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "the server could not find the requested resource", "reason": "NotFound",
                "details": {}, "code": 404}), headers={"Content-Type": JSON})
        wanted_hash = request.query.get("hash")
        if wanted_hash is not None and wanted_hash != doc.etag:
            raise web.HTTPMovedPermanently(f"/openapi/v3/{key}?hash={doc.etag}")
        cache = "public, immutable" if wanted_hash is not None else "no-cache, private"
        return _respond(request, doc, JSON, cache)


def _respond(request: web.Request, doc: Cached, content_type: str,
             cache_control: str = "no-cache, private") -> web.Response:
    headers = {"Content-Type": content_type, "ETag": f'"{doc.etag}"', "Cache-Control": cache_control,
               "Vary": "Accept"}
    if request.headers.get("If-None-Match", "").strip() in (f'"{doc.etag}"', doc.etag):
        return web.Response(status=304, headers={k: v for k, v in headers.items() if k != "Content-Type"})
    return web.Response(body=doc.body, headers=headers)
