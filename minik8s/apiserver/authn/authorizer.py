"""The seam between authentication and authorization: Kubernetes' authorizer.Attributes and Authorizer.

The API server calls one `Authorizer` for every request, anonymous ones included,
with the request's attributes (requestinfo.attributes); anything but ALLOW is
answered 403 with the reason. RBAC and the Node authorizer plug in here
(minik8s.apiserver.authz). Until they are wired in, the server is built with
`AlwaysAllow`: that is the server's wiring, not an option anybody can set.
"""
from __future__ import annotations

import dataclasses
import enum
from typing import Protocol

from minik8s.apiserver.authn import user as user_mod

READ_VERBS = frozenset({"get", "list", "watch"})


@dataclasses.dataclass(frozen=True, slots=True)
class Attributes:
    """What a request does, as Kubernetes' authorizer.AttributesRecord."""

    user: user_mod.UserInfo
    verb: str  # get list watch create update patch delete deletecollection (resources); get post ... (paths)
    resource_request: bool
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""  # the URL path; what non-resource rules match

    @property
    def read_only(self) -> bool:
        return self.verb in READ_VERBS


class Verdict(enum.Enum):
    ALLOW = "Allow"
    DENY = "Deny"
    NO_OPINION = "NoOpinion"


@dataclasses.dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW


ALLOW = Decision(Verdict.ALLOW)
NO_OPINION = Decision(Verdict.NO_OPINION)


class Authorizer(Protocol):
    async def authorize(self, attributes: Attributes) -> Decision: ...


class AlwaysAllow:
    """Allows everything an authenticated (or anonymous-but-permitted) request asks."""

    async def authorize(self, attributes: Attributes) -> Decision:
        return ALLOW


class Union:
    """Kubernetes' union authorizer: the first ALLOW or DENY wins; NoOpinion asks the next."""

    def __init__(self, *authorizers: Authorizer) -> None:
        self.authorizers = authorizers

    async def authorize(self, attributes: Attributes) -> Decision:
        reasons = []
        for a in self.authorizers:
            d = await a.authorize(attributes)
            if d.verdict is not Verdict.NO_OPINION:
                return d
            if d.reason:
                reasons.append(d.reason)
        return Decision(Verdict.NO_OPINION, "; ".join(reasons))


def forbidden_message(a: Attributes, reason: str = "") -> str:
    """Kubernetes' wording of a 403, so kubectl users see what they would on a real cluster."""
    who = f'User "{a.user.name}"'
    if not a.resource_request:
        msg = f'forbidden: {who} cannot {a.verb} path "{a.path}"'
    else:
        resource = a.resource + (f"/{a.subresource}" if a.subresource else "")
        target = f'{a.resource}.{a.api_group}' if a.api_group else a.resource
        if a.name:
            target += f' "{a.name}"'
        where = f' in the namespace "{a.namespace}"' if a.namespace else " at the cluster scope"
        msg = (f'{target} is forbidden: {who} cannot {a.verb} resource "{resource}" '
               f'in API group "{a.api_group}"{where}')
    return f"{msg}: {reason}" if reason else msg
