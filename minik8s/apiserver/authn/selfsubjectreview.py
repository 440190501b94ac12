"""SelfSubjectReview (authentication.k8s.io): "who am I?", what `kubectl auth whoami` asks.

Create-only and never stored: the answer is the request's own user. Served in
v1, v1beta1 and v1alpha1, because kubectl 1.27 asks v1beta1 (then v1alpha1) and
1.28+ ask v1. The body is not needed (it carries nothing the server reads), so a
protobuf body from newer kubectls needs no decoding.
"""
from __future__ import annotations

from aiohttp import web

from minik8s.api import errors
from minik8s.apiserver import handlers
from minik8s.apiserver.authn import user as user_mod
from minik8s.apiserver.authz import context as authz_context

GROUP = "authentication.k8s.io"
VERSIONS = ("v1", "v1beta1", "v1alpha1")
PATH = "/apis/" + GROUP + "/{version}/selfsubjectreviews"


def review(version: str, who: user_mod.UserInfo) -> dict[str, object]:
    return {"kind": "SelfSubjectReview", "apiVersion": f"{GROUP}/{version}",
            "metadata": {"creationTimestamp": None}, "status": {"userInfo": user_mod.to_api(who)}}


async def create(request: web.Request) -> web.Response:
    version = request.match_info["version"]
    if version not in VERSIONS:
        raise handlers.not_found_path()
    if request.method != "POST":
        raise errors.MethodNotAllowed(f"{request.method} is not supported on selfsubjectreviews")
    await request.read()
    # The user authorization let through (the impersonated one, with --as).
    who = authz_context.current_user.get()
    if who is None:
        raise errors.Unauthorized()
    return handlers.respond(review(version, who), 201)
