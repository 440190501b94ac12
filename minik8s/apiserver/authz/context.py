"""The user of the request being served, for code that has no request object.

The registry's write hooks (NodeRestriction, escalation checks) run deep below
the HTTP handler, as Kubernetes' admission reads the user from the request
context. aiohttp serves each request in its own task, whose context is its own,
so a value set by the authorization filter is seen only by that request.
Code that runs outside any request (start-up bootstrap, the API server's own
loops) sees None: the API server itself, which nothing restricts.
"""
from __future__ import annotations

import contextvars

from minik8s.apiserver.authz import user as user_mod

current_user: contextvars.ContextVar[user_mod.UserInfo | None] = contextvars.ContextVar(
    "minik8s_request_user", default=None)
