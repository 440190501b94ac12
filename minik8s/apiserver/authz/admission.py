"""The registry's write hook: the checks that need both the user and the objects.

The registry calls the hook once per create, update (PUT, PATCH, scale, status)
and delete, after its own checks and before anything is written, with the
stored and the new object. Two checks run there, each as Kubernetes runs it
below authorization: NodeRestriction (a kubelet writes only its own things) and
RBAC escalation prevention (nobody grants what they do not hold).
"""
from __future__ import annotations

from typing import Any

from minik8s.api import resources
from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import context
from minik8s.apiserver.authz import escalation
from minik8s.apiserver.authz import noderestriction
from minik8s.apiserver.authz import rbac

Obj = dict[str, Any]


class WriteAdmission:
    def __init__(self, az: authorizer.Authorizer, policy: rbac.Policy) -> None:
        self.authorizer = az
        self.policy = policy

    def __call__(self, verb: str, res: resources.Resource, subresource: str | None,
                 old: Obj | None, new: Obj | None) -> None:
        """Raise the StatusError that forbids this write; return if it may go ahead."""
        user = context.current_user.get()
        if user is None:
            return  # the API server's own writes (bootstrap)
        err = noderestriction.admit(user, verb, res, subresource, old, new)
        if err is None:
            err = escalation.check(self.authorizer, self.policy, user, verb, res, old, new)
        if err is not None:
            raise err
