"""Impersonation: acting as another user, for those allowed to (`kubectl --as`).

As Kubernetes' WithImpersonation filter, run after authentication: the
Impersonate-User, Impersonate-Group, Impersonate-Uid and Impersonate-Extra-<key>
headers each ask to act as something, and each one needs the `impersonate` verb
on it (users, groups and serviceaccounts in the core group; uids and
userextras/<key> in authentication.k8s.io). A user name of the form
system:serviceaccount:<ns>:<name> is the ServiceAccount <name> in <ns>.
cluster-admin holds all of these; a namespace `edit`/`admin` may impersonate
the namespace's ServiceAccounts. The impersonated user is authenticated
(system:authenticated is added unless the groups say otherwise); requests then
run entirely as that user.
"""
from __future__ import annotations

import urllib.parse
from typing import Iterable

from minik8s.api import errors
from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import user as user_mod

USER_HEADER = "impersonate-user"
GROUP_HEADER = "impersonate-group"
UID_HEADER = "impersonate-uid"
EXTRA_PREFIX = "impersonate-extra-"
AUTHENTICATION_GROUP = "authentication.k8s.io"


def has_headers(headers: Iterable[tuple[str, str]]) -> bool:
    return any(k.lower().startswith("impersonate-") for k, _ in headers)


def impersonate(az: authorizer.Authorizer, requestor: user_mod.UserInfo,
                headers: Iterable[tuple[str, str]]) -> user_mod.UserInfo:
    """The user to act as: `requestor` itself without impersonation headers.

    Raises Forbidden (403) if any part is not allowed, BadRequest (400) for
    groups, a uid or extras asked for without a user.
    """
    pairs = [(k.lower(), v) for k, v in headers]
    requested_user = next((v for k, v in pairs if k == USER_HEADER and v), "")
    groups_asked = [v for k, v in pairs if k == GROUP_HEADER]
    uid = next((v for k, v in pairs if k == UID_HEADER and v), "")
    extras = [(urllib.parse.unquote(k[len(EXTRA_PREFIX):]), v) for k, v in pairs if k.startswith(EXTRA_PREFIX)]
    if not requested_user and not groups_asked and not uid and not extras:
        return requestor
    if not requested_user:
        # kube-apiserver answers 500 here; a malformed request is the client's error.
        raise errors.BadRequest("requested impersonation of groups, a uid or extra fields without impersonating "
                                "a user")

    def check(resource: str, name: str, group: str = "", namespace: str = "", subresource: str = "") -> None:
        attrs = authorizer.Attributes(requestor, "impersonate", True, namespace=namespace, api_group=group,
                                      resource=resource, subresource=subresource, name=name)
        decision, reason = az.authorize(attrs)
        if decision is not authorizer.Decision.ALLOW:
            raise authorizer.forbidden_error(attrs, reason)

    groups: list[str] = []
    sa = user_mod.split_service_account(requested_user)
    if sa is not None:
        check("serviceaccounts", sa[1], namespace=sa[0])
        if not groups_asked:
            # A ServiceAccount's groups follow from it.
            groups.extend(user_mod.service_account_groups(sa[0]))
    else:
        check("users", requested_user)
    for g in groups_asked:
        check("groups", g)
        groups.append(g)
    extra: dict[str, list[str]] = {}
    for key, value in extras:
        check("userextras", value, group=AUTHENTICATION_GROUP, subresource=key)
        extra.setdefault(key, []).append(value)
    if uid:
        check("uids", uid, group=AUTHENTICATION_GROUP)
    if requested_user != user_mod.ANONYMOUS:
        if not any(g in (user_mod.ALL_AUTHENTICATED, user_mod.ALL_UNAUTHENTICATED) for g in groups):
            groups.append(user_mod.ALL_AUTHENTICATED)
    elif user_mod.ALL_UNAUTHENTICATED not in groups:
        groups.append(user_mod.ALL_UNAUTHENTICATED)
    return user_mod.UserInfo(requested_user, uid, tuple(groups), extra)
