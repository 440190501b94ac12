"""The authenticated user of a request, as Kubernetes' user.Info.

Attached to the aiohttp request (`request[user.REQUEST_KEY]`) and to the request
task's context (`user.current()`), so code far from the handler (the CSR strategy
that records who asked, admission) reads it without every signature in between
carrying it: the contextvar is Python's request-scoped context.Context.
"""
from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from minik8s.api import identities

REQUEST_KEY = "minik8s.user"


def _frozen_extra(extra: Mapping[str, Any] | None) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({str(k): tuple(str(v) for v in vs) for k, vs in (extra or {}).items()})


@dataclasses.dataclass(frozen=True)
class UserInfo:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        # Callers may hand in lists and dicts; the record itself must not change.
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "extra", _frozen_extra(self.extra))

    def __hash__(self) -> int:
        return hash((self.name, self.uid, self.groups, tuple(sorted(self.extra.items()))))

    @property
    def anonymous(self) -> bool:
        return self.name == identities.ANONYMOUS

    def in_group(self, group: str) -> bool:
        return group in self.groups

    def with_authenticated(self) -> "UserInfo":
        """As Kubernetes' authenticator union: every authenticated user is in system:authenticated."""
        if identities.AUTHENTICATED in self.groups:
            return self
        return dataclasses.replace(self, groups=(*self.groups, identities.AUTHENTICATED))

    def to_api(self) -> dict[str, Any]:
        """The authentication.k8s.io UserInfo shape (SelfSubjectReview, TokenReview)."""
        out: dict[str, Any] = {"username": self.name}
        if self.uid:
            out["uid"] = self.uid
        if self.groups:
            out["groups"] = list(self.groups)
        if self.extra:
            out["extra"] = {k: list(v) for k, v in self.extra.items()}
        return out


ANONYMOUS = UserInfo(identities.ANONYMOUS, groups=(identities.UNAUTHENTICATED,))

_current: contextvars.ContextVar[UserInfo | None] = contextvars.ContextVar("minik8s_user", default=None)


def current() -> UserInfo | None:
    """The user of the request being served by this task (None outside a request)."""
    return _current.get()


def set_current(user: UserInfo | None) -> contextvars.Token[UserInfo | None]:
    return _current.set(user)


def reset_current(token: contextvars.Token[UserInfo | None]) -> None:
    _current.reset(token)


def of(request: web.Request) -> UserInfo:
    """The user the authentication middleware attached to `request`."""
    found = request.get(REQUEST_KEY)
    if not isinstance(found, UserInfo):
        raise LookupError("the request went past no authentication")
    return found
