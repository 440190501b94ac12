"""Lists in pages: limit, continue tokens and resourceVersion semantics, as kube-apiserver.

A list with `limit` returns at most that many objects and, when more follow, a
`continue` token (storage.EncodeContinue: the key to resume after and the
revision of the first page) and, without selectors, `remainingItemCount`.
Every later page is read at the first page's revision, so the pages together
are one consistent snapshot. When etcd has compacted that revision the answer
is 410 Expired carrying a fresh token that continues at the newest revision
(the client may take it, knowing the result is no longer a snapshot, or start
over), as storage/etcd3's handleCompactedErrorForPaging.

resourceVersion on a list (the API concepts' table): unset, the newest state;
`0`, any state; `N` with resourceVersionMatch=NotOlderThan (or unset, without a
limit), a state at least as new as N, else 504 "Too large resource version";
`N` with Exact (or unset, with a limit: the legacy exact read), the state at
exactly N, or 410 when N has been compacted.
"""
from __future__ import annotations

from typing import Any, Callable

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver import params
from minik8s.apiserver import storage as storage_mod

EXPIRED_LIST = "The resourceVersion for the provided list is too old."
INCONSISTENT_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - "
    "objects that were created, modified, or deleted between the time the first chunk was returned and "
    "now may show up in the list.")


class ExpiredContinue(errors.StatusError):
    """410 whose Status carries a continue token (ListMeta.Continue) to go on at the newest revision."""

    def __init__(self, token: str) -> None:
        super().__init__(410, "Expired", INCONSISTENT_CONTINUE)
        self.token = token

    def status(self) -> dict[str, Any]:
        body = super().status()
        body["metadata"] = {"continue": self.token}
        return body


def too_large_resource_version(wanted: int, current: int) -> errors.StatusError:
    """storage.NewTooLargeResourceVersionError: 504, the client retries after a second."""
    return errors.StatusError(504, "Timeout", f"Timeout: Too large resource version: {wanted}, current: {current}",
                              details={"causes": [{"reason": "ResourceVersionTooLarge",
                                                   "message": "Too large resource version"}],
                                       "retryAfterSeconds": 1})


async def list_objects(store: storage_mod.Storage, res: resources.Resource, namespace: str | None,
                       opts: params.ListOptions, matches: Callable[[dict[str, Any]], bool] | None
                       ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The objects of one list request (one page of them) and the list's metadata.

    `matches` filters (None: no selector, so remainingItemCount can be told)."""
    start: str | None = None
    revision = 0
    at_least = 0
    if opts.continue_token:
        token = params.decode_continue(opts.continue_token)
        if opts.resource_version not in ("", "0"):
            raise errors.BadRequest("specifying resource version is not allowed when using continue")
        start = token.start
        revision = max(token.revision, 0)  # -1: continue at the newest revision
    elif opts.resource_version:
        rv = params.resource_version_number(opts.resource_version)
        if opts.resource_version_match == params.EXACT or \
                (not opts.resource_version_match and opts.paging and rv > 0):
            revision = rv
        else:
            at_least = rv
    try:
        page = await store.list_page(res, namespace, limit=max(opts.limit, 0), start=start, revision=revision,
                                     matches=matches)
    except storage_mod.Compacted:
        if start is not None:
            raise ExpiredContinue(params.encode_continue(start, -1)) from None
        raise errors.Gone(EXPIRED_LIST) from None
    except storage_mod.FutureRevision:
        raise too_large_resource_version(revision, await store.revision()) from None
    if at_least > page.revision:
        raise too_large_resource_version(at_least, page.revision)
    meta: dict[str, Any] = {"resourceVersion": str(page.revision)}
    if page.next_start is not None:
        meta["continue"] = params.encode_continue(page.next_start, page.revision)
        if page.remaining is not None:
            meta["remainingItemCount"] = page.remaining
    return page.items, meta
