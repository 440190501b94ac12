"""The aiohttp middleware that authenticates every request (authorization follows it).

    error_middleware → authentication (here) → authz.filters (impersonation, authorization) → handler

Authentication order, as kube-apiserver's: the client certificate, then the bearer
token (bootstrap token, then ServiceAccount JWT). A credential that is present but
wrong is a 401 even where anonymous access is allowed (a client that thinks it is
somebody must learn that it is not). With no credential the request is
`system:anonymous` (group system:unauthenticated), which is let through only to
ANONYMOUS_PATHS, where the authorizer still judges it (system:public-info-viewer,
kubeadm's cluster-info Role); everything else is a 401 with a Status body. The user
is left at request[authz.filters.USER_KEY].
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from aiohttp import web

from minik8s.api import errors
from minik8s.apiserver.authn import tls
from minik8s.apiserver.authn import user as user_mod
from minik8s.apiserver.authn import x509
from minik8s.apiserver.authz import filters as authz_filters

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# What anybody may read: health and version (as Kubernetes' system:public-info-viewer)
# and kubeadm's cluster-info ConfigMap, which a joining node reads before it trusts the
# server (it holds only the server URL and the CA certificate, signed with the tokens).
ANONYMOUS_PATHS = ("/healthz", "/livez", "/readyz", "/version")
CLUSTER_INFO_PATH = "/api/v1/namespaces/kube-public/configmaps/cluster-info"


def anonymous_allowed(method: str, path: str) -> bool:
    if method not in ("GET", "HEAD"):
        return False
    path = path.rstrip("/") or "/"
    if path == CLUSTER_INFO_PATH:
        return True
    return any(path == p or path.startswith(p + "/") for p in ANONYMOUS_PATHS)


class TokenAuthenticator(Protocol):
    async def authenticate(self, token: str) -> user_mod.UserInfo | None: ...


@dataclasses.dataclass
class Authentication:
    """The authenticators a server was configured with."""

    certificates: x509.CertificateAuthenticator | None = None
    tokens: Sequence[TokenAuthenticator] = ()

    async def authenticate(self, request: web.Request) -> user_mod.UserInfo | None:
        """The request's user; None when it carries no credentials; errors.Unauthorized for bad ones."""
        der = tls.peer_certificate(request)
        header = request.headers.get("Authorization")
        if der is not None:
            try:
                if self.certificates is None:
                    raise errors.Unauthorized()
                return self.certificates.authenticate(der)
            except errors.Unauthorized:
                # As Kubernetes' union of authenticators: a failed certificate does not end
                # the chain when a token follows; the certificate's reason stands otherwise.
                if header is None:
                    raise
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise errors.Unauthorized()
        for authenticator in self.tokens:
            found = await authenticator.authenticate(token)
            if found is not None:
                return found
        raise errors.Unauthorized()


def authentication_middleware(authn: Authentication) -> Any:
    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        found = await authn.authenticate(request)
        if found is None:
            if not anonymous_allowed(request.method, request.path):
                raise errors.Unauthorized()
            found = user_mod.anonymous()
        request[authz_filters.USER_KEY] = found
        return await handler(request)

    return authenticate
