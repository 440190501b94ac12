"""One declarative schema per served kind: the single source of truth per type.

From the Messages declared in the group modules below, minik8s derives:
- protobuf decoding and encoding (minik8s.api.protobuf),
- the OpenAPI v2 and v3 documents (minik8s.api.schema.openapi),
- the typed structural check of every write, with fieldValidation's unknown and
  duplicate field handling (minik8s.api.schema.structural),
- the strategic-merge-patch directives (minik8s.api.patch).

A kind is served with a schema when a Message carrying its GVK is declared at
module level in one of `_MODULES`; docs/apiserver.md ("Adding a kind") says how.
"""
from __future__ import annotations

import functools
import types
from collections.abc import Iterator

from minik8s.api.schema import apps_v1
from minik8s.api.schema import authentication_v1
from minik8s.api.schema import authorization_v1
from minik8s.api.schema import autoscaling_v1
from minik8s.api.schema import autoscaling_v2
from minik8s.api.schema import batch_v1
from minik8s.api.schema import certificates_v1
from minik8s.api.schema import coordination_v1
from minik8s.api.schema import dsl
from minik8s.api.schema import events_v1
from minik8s.api.schema import meta_v1
from minik8s.api.schema import policy_v1
from minik8s.api.schema import rbac_v1
from minik8s.api.schema.core_v1 import common
from minik8s.api.schema.core_v1 import containers
from minik8s.api.schema.core_v1 import node
from minik8s.api.schema.core_v1 import objects
from minik8s.api.schema.core_v1 import pod
from minik8s.api.schema.core_v1 import service
from minik8s.api.schema.core_v1 import volumes

_MODULES: tuple[types.ModuleType, ...] = (
    meta_v1, common, volumes, containers, pod, node, service, objects,
    apps_v1, batch_v1, autoscaling_v1, autoscaling_v2, certificates_v1, coordination_v1, policy_v1,
    rbac_v1, authorization_v1, authentication_v1, events_v1,
)

# Kinds every group/version serves with meta/v1's types (Kubernetes registers them in each).
_SHARED_KINDS = (("DeleteOptions", meta_v1.DELETE_OPTIONS), ("WatchEvent", meta_v1.WATCH_EVENT),
                 ("Status", meta_v1.STATUS))


def _declared() -> Iterator[dsl.Message]:
    for module in _MODULES:
        for value in vars(module).values():
            if isinstance(value, dsl.Message):
                yield value


@functools.cache
def _by_gvk() -> dict[tuple[str, str, str], dsl.Message]:
    out: dict[tuple[str, str, str], dsl.Message] = {}
    for msg in _declared():
        for gvk in msg.kinds:
            key = (gvk.group, gvk.version, gvk.kind)
            assert key not in out, f"two schemas for {key}"
            out[key] = msg
    # meta.k8s.io/v1 too: clients may send DeleteOptions under that apiVersion.
    for group, version in {(g, v) for g, v, _ in out} | {("meta.k8s.io", "v1")}:
        for kind_name, msg in _SHARED_KINDS:
            out.setdefault((group, version, kind_name), msg)
    return out


def find(group: str, version: str, kind: str) -> dsl.Message | None:
    """The schema of a kind, or None if minik8s declares none."""
    return _by_gvk().get((group, version, kind))


def for_kind(group: str, version: str, kind: str) -> dsl.Message:
    """The schema of a served kind; KeyError for a kind without one."""
    msg = find(group, version, kind)
    if msg is None:
        raise KeyError(f"no schema for {group or 'core'}/{version} {kind}")
    return msg


def for_api_version(api_version: str, kind: str) -> dsl.Message | None:
    """`find` by apiVersion ("apps/v1", "v1") as objects and protobuf envelopes carry it."""
    group, _, version = api_version.rpartition("/")
    return find(group, version, kind)


def kinds() -> dict[tuple[str, str, str], dsl.Message]:
    """Every (group, version, kind) with a schema."""
    return dict(_by_gvk())


@functools.cache
def definitions() -> dict[str, dsl.Message]:
    """Every Message reachable from a declared one, by its OpenAPI definition name."""
    out: dict[str, dsl.Message] = {}
    todo = list(_declared())
    while todo:
        msg = todo.pop()
        known = out.get(msg.name)
        if known is not None:
            assert known is msg, f"two Messages named {msg.name}"
            continue
        out[msg.name] = msg
        for f in msg.fields:
            sub = f.message
            if sub is not None:
                todo.append(sub)
    return dict(sorted(out.items()))
