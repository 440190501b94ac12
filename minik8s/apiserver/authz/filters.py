"""The HTTP side of authorization: every request is judged before any handler runs.

Order, as kube-apiserver's handler chain: authentication
(minik8s.apiserver.authn.middleware) attaches the user to the request under USER_KEY → impersonation headers, if
any, switch to the impersonated user (only if allowed) → the request's
attributes (requestinfo) go to the authorizer → a denial is a 403 Status that
names the user, verb and resource, exactly as kubectl expects it; nothing runs
and nothing is written. An allowed request runs with the user in
`context.current_user`, where the registry's write hooks find it.

A request that reaches this filter without a user is a wiring error (no
authenticator in front); it is refused with 401, never let through.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Awaitable, Callable

from aiohttp import web

from minik8s.api import errors
from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import context
from minik8s.apiserver.authz import impersonation
from minik8s.apiserver.authz import requestinfo
from minik8s.apiserver.authz import user as user_mod

log = logging.getLogger(__name__)

# Where authentication leaves the authenticated user on the aiohttp request.
USER_KEY = web.RequestKey("minik8s.user", user_mod.UserInfo)
# Opening a websocket to these is as powerful as creating them (exec into a pod):
# kube-apiserver checks `create` too (AuthorizePodWebsocketUpgradeCreatePermission).
_CONNECT_SUBRESOURCES = frozenset({"exec", "attach", "portforward"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_attributes(request: web.Request, user: user_mod.UserInfo) -> authorizer.Attributes:
    query = {k: request.query.getall(k) for k in request.query.keys()}
    info = requestinfo.new_request_info(request.method, request.path, query)
    return requestinfo.attributes(user, info, query)


def authorize_request(az: authorizer.Authorizer, request: web.Request) -> user_mod.UserInfo:
    """The user the request runs as; raises 401/403/400 as kube-apiserver would."""
    user = request.get(USER_KEY)
    if user is None:
        raise errors.Unauthorized()
    headers = list(request.headers.items())
    if impersonation.has_headers(headers):
        user = impersonation.impersonate(az, user, headers)
        request[USER_KEY] = user
    attrs = request_attributes(request, user)
    decision, reason = az.authorize(attrs)
    if decision is not authorizer.Decision.ALLOW:
        log.debug("denied %s %s for %s: %s", request.method, request.path, user.name, reason)
        raise authorizer.forbidden_error(attrs, reason)
    if (attrs.resource_request and attrs.resource == "pods" and attrs.subresource in _CONNECT_SUBRESOURCES
            and attrs.verb == "get"):
        create = dataclasses.replace(attrs, verb="create")
        decision, reason = az.authorize(create)
        if decision is not authorizer.Decision.ALLOW:
            raise authorizer.forbidden_error(create, reason)
    return user


def middleware(az: authorizer.Authorizer) -> Any:
    @web.middleware
    async def authorization(request: web.Request, handler: Handler) -> web.StreamResponse:
        user = authorize_request(az, request)
        token = context.current_user.set(user)
        try:
            return await handler(request)
        finally:
            context.current_user.reset(token)
    return authorization
