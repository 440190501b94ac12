"""The authenticated user as the authenticators hand it to authorization.

The record is authorization's own (minik8s.apiserver.authz.user.UserInfo,
Kubernetes' user.Info): authentication only builds it. What is added here is
what only authentication needs: every authenticated user is in
system:authenticated (as Kubernetes' authenticator union adds it), and the
authentication.k8s.io UserInfo shape that SelfSubjectReview answers with.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from minik8s.apiserver.authz import user as authz_user

UserInfo = authz_user.UserInfo


def authenticated(name: str, *, uid: str = "", groups: Iterable[str] = (),
                  extra: Mapping[str, Sequence[str]] | None = None) -> UserInfo:
    """A user the chain authenticated: its groups plus system:authenticated."""
    gs = tuple(groups)
    if authz_user.ALL_AUTHENTICATED not in gs:
        gs = (*gs, authz_user.ALL_AUTHENTICATED)
    return UserInfo(name, uid=uid, groups=gs, extra={k: tuple(v) for k, v in (extra or {}).items()})


def anonymous() -> UserInfo:
    return authz_user.anonymous()


def to_api(user: UserInfo) -> dict[str, Any]:
    """The authentication.k8s.io UserInfo shape (SelfSubjectReview, TokenReview)."""
    out: dict[str, Any] = {"username": user.name}
    if user.uid:
        out["uid"] = user.uid
    if user.groups:
        out["groups"] = list(user.groups)
    if user.extra:
        out["extra"] = {k: list(v) for k, v in user.extra.items()}
    return out
