"""RBAC escalation prevention: nobody grants what they do not hold.

As Kubernetes' pkg/registry/rbac (the policybased storages and escalation_check.go):
- Writing a Role or ClusterRole needs either the `escalate` verb on it, or
  already holding every permission its rules grant (in the role's namespace,
  cluster-wide for a ClusterRole).
- Writing a RoleBinding or ClusterRoleBinding needs either the `bind` verb on
  the role it references, or already holding every permission of that role
  (in the binding's namespace).
- Members of system:masters skip both (the API server's own identity is one).
An update that grants nothing new (a Role whose rules stay the same, a binding
whose roleRef stays and whose subjects only shrink) is not checked again:
it cannot raise anyone's permissions.
"""
from __future__ import annotations

from typing import Any

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import rbac
from minik8s.apiserver.authz import rules as rules_mod
from minik8s.apiserver.authz import user as user_mod

Obj = dict[str, Any]
ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")


def _forbidden(res: resources.Resource, name: str, why: str) -> errors.StatusError:
    err = errors.Forbidden(f'{res.qualified} "{name}" is forbidden: {why}')
    err.details = {"name": name, "group": res.group, "kind": res.plural}
    return err


def _go_strings(xs: tuple[str, ...] | list[str]) -> str:
    return "[" + " ".join(f'"{x}"' for x in xs) + "]"


def confirm_no_escalation(policy: rbac.Policy, user: user_mod.UserInfo, namespace: str,
                          wanted: tuple[rules_mod.PolicyRule, ...]) -> str | None:
    """None when `user` holds every permission in `wanted` in `namespace`; else why not."""
    owned, resolution_errors = rbac.rules_for(policy, user, namespace)
    covered, missing = rules_mod.covers(owned, wanted)
    if covered:
        return None
    lines = sorted({r.compact() for r in rules_mod.compact(missing)})
    msg = (f'user "{user.name}" (groups={_go_strings(user.groups)}) is attempting to grant RBAC permissions '
           "not currently held:\n" + "\n".join(lines))
    if resolution_errors:
        msg += f"; resolution errors: [{', '.join(resolution_errors)}]"
    return msg


def _who(b: rbac.Binding) -> set[tuple[str, str, str]]:
    # Without apiGroup: an update body may leave the defaulted group out.
    return {(s.kind, s.name, s.namespace) for s in b.subjects}


def _allowed(az: authorizer.Authorizer, attrs: authorizer.Attributes) -> bool:
    return az.authorize(attrs)[0] is authorizer.Decision.ALLOW


def check(az: authorizer.Authorizer, policy: rbac.Policy, user: user_mod.UserInfo, verb: str,
          res: resources.Resource, old: Obj | None, new: Obj | None) -> errors.StatusError | None:
    """The error that forbids this write of an RBAC object, or None."""
    if res.group != rbac.GROUP or new is None or verb not in ("create", "update"):
        return None
    if user_mod.SYSTEM_PRIVILEGED_GROUP in user.groups:
        return None
    meta = new.get("metadata") or {}
    name, namespace = str(meta.get("name") or ""), str(meta.get("namespace") or "")
    if res.kind in ROLE_KINDS:
        wanted = rules_mod.from_list(new.get("rules"))
        if old is not None and rules_mod.from_list(old.get("rules")) == wanted:
            return None
        if _allowed(az, authorizer.Attributes(user, "escalate", True, namespace, rbac.GROUP, "*", res.plural,
                                              name=name)):
            return None
        why = confirm_no_escalation(policy, user, namespace, wanted)
        return _forbidden(res, name, why) if why else None
    if res.kind in BINDING_KINDS:
        binding = rbac.binding_from_object(new)
        ref = binding.role_ref
        if old is not None:
            before = rbac.binding_from_object(old)
            if ((before.role_ref.kind, before.role_ref.name) == (ref.kind, ref.name)
                    and _who(binding) <= _who(before)):
                return None
        target = {"ClusterRole": "clusterroles", "Role": "roles"}.get(ref.kind)
        if target is not None and _allowed(az, authorizer.Attributes(
                user, "bind", True, namespace, ref.api_group or rbac.GROUP, "", target, name=ref.name)):
            return None
        try:
            wanted = policy.role_ref_rules(ref, namespace)
        except LookupError as e:
            return _forbidden(res, name, str(e))
        why = confirm_no_escalation(policy, user, namespace, wanted)
        return _forbidden(res, name, why) if why else None
    return None
