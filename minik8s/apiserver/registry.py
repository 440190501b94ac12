"""What happens to an object on each verb, between HTTP and etcd.

As Kubernetes' generic registry store (k8s.io/apiserver/pkg/registry/generic/
registry/store.go): create fills the system metadata, update keeps what the
system owns, generation follows spec changes, deletion honours grace periods
and finalizers, reads and writes retry on a stale copy. Everything that
differs between kinds is asked of the kind's strategy (minik8s/api/kinds/):
defaults, status on create, what the main resource and each subresource may
change, validation, graceful deletion. Services allocate their cluster IP and
node ports in the same etcd transaction as the write (the allocators table
below). Every rejection happens before the write, so a failed request changes
nothing.
"""
from __future__ import annotations

import asyncio
import datetime
import logging
import random
import re
import uuid
from typing import Any, Awaitable, Callable

import orjson

from minik8s.api import conditions
from minik8s.api import errors
from minik8s.api import kinds
from minik8s.api import patch as patch_mod
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import selectors
from minik8s.api import strategy as strategy_mod
from minik8s.api.kinds import scale as scale_mod
from minik8s.api.schema import meta_v1
from minik8s.api.schema import structural
from minik8s.api.ssa import kube as ssa
from minik8s.apiserver import allocators
from minik8s.apiserver import storage as storage_mod
from minik8s.apiserver.authn import user as authn_user
from minik8s.apiserver.authz import context as authz_context

log = logging.getLogger(__name__)

NAMESPACES = resources.must("", "v1", "namespaces")
PODS = resources.must("", "v1", "pods")
SERVICES = resources.must("", "v1", "services")

# Namespaces that always exist (the API server creates them at start).
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# Checks that need the request's user and both objects (NodeRestriction, RBAC
# escalation): (verb create|update|delete, resource, subresource, stored object,
# new object) → raises the StatusError that forbids the write. Wired by the
# API server (minik8s/apiserver/authz); None in a bare registry.
WriteAdmission = Callable[[str, resources.Resource, str | None, dict[str, Any] | None, dict[str, Any] | None],
                          None]
# Mutating admission of new pods that must read other objects (ServiceAccount admission,
# minik8s/apiserver/serviceaccounts.py): changes the pod in place, True if it did, or
# raises the StatusError that refuses it. None in a bare registry.
PodAdmission = Callable[[dict[str, Any]], Awaitable[bool]]


def _requested_managed_fields(obj: Any) -> Any:
    """The managedFields a request body carries (a client may set them directly)."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return meta.get("managedFields") if isinstance(meta, dict) else None


def _requester() -> dict[str, Any] | None:
    """The request's user in the authentication.k8s.io UserInfo shape, for strategies that
    record who asked (a CSR's spec.username); None for the API server's own writes."""
    user = authz_context.current_user.get()
    return None if user is None else authn_user.to_api(user)


def _spec_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return orjson.dumps(old.get("spec"), option=orjson.OPT_SORT_KEYS) != \
        orjson.dumps(new.get("spec"), option=orjson.OPT_SORT_KEYS)


class NamespaceMirror:
    """The namespaces as last seen through the watch cache, for the per-create check.

    Like Kubernetes' NamespaceLifecycle admission (an informer), this saves an
    etcd read per create; a namespace too new to be seen here is read from etcd.
    """

    def __init__(self) -> None:
        self.known: dict[str, dict[str, Any]] = {}

    async def run(self, caches: Any) -> None:
        from minik8s.apiserver import watchcache  # local: registry must not need the cache to import

        while True:
            try:
                items, rv = await caches.store.list(NAMESPACES)
                cache = await caches.get(NAMESPACES)
                watcher = cache.subscribe(rv, lambda _obj: True, match_all=True)
            except (errors.StatusError, watchcache.Expired):
                await asyncio.sleep(1)
                continue
            self.known = {ns["metadata"]["name"]: ns for ns in items}
            try:
                while True:
                    ev = await watcher.next(None)
                    if ev is None:
                        continue
                    name = ev.obj["metadata"]["name"]
                    if ev.type == "DELETED":
                        self.known.pop(name, None)
                    else:
                        self.known[name] = ev.obj
            except watchcache.Closed:
                continue


class Registry:
    def __init__(self, store: storage_mod.Storage, allocator: allocators.ServiceAllocator,
                 namespaces: NamespaceMirror | None = None, *, toleration_seconds: int = 300,
                 caches: Any = None) -> None:
        self.store = store
        # The watch caches, when given, supply a first (possibly stale) copy for
        # read-modify-write: the compare-and-swap catches staleness, and most
        # writes then need one etcd round trip instead of two.
        self.caches = caches
        self.allocator = allocator
        # Resources whose writes carry allocations in the same etcd transaction
        # (as Kubernetes wraps the generic store for Services in
        # pkg/registry/core/service/storage): the storage decorators, by resource.
        self.allocators: dict[str, allocators.ServiceAllocator] = {SERVICES.qualified: allocator}
        self.settings = strategy_mod.Settings(toleration_seconds=toleration_seconds)
        self.namespaces = namespaces or NamespaceMirror()
        self.write_admission: WriteAdmission | None = None
        self.pod_admission: PodAdmission | None = None

    # -- helpers ------------------------------------------------------------

    def _check_type(self, res: resources.Resource, obj: Any) -> dict[str, Any]:
        if not isinstance(obj, dict):
            raise errors.BadRequest("the body of the request must be a JSON object")
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if kind and kind != res.kind:
            raise errors.BadRequest(
                f"the kind in the data ({kind}) does not match the expected kind ({res.kind})")
        if api_version and api_version != res.api_version:
            raise errors.BadRequest(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({res.api_version})")
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            raise errors.BadRequest("metadata must be an object")
        # The metadata is read (names, generateName, labels) before the whole object's
        # type check (kinds.validate), so its types are checked first: the schema's ObjectMeta.
        try:
            structural.check(meta_v1.OBJECT_META, orjson.loads(orjson.dumps(meta)))
        except structural.StructuralError as e:
            message = re.sub(r"(Go struct field \w+\.)", r"\1metadata.", str(e), count=1)
            raise errors.BadRequest(f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: '
                                    f"{message}") from None
        except TypeError:  # orjson: an integer beyond 64 bits
            raise errors.BadRequest(f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: '
                                    "metadata holds a number out of range") from None
        return obj

    async def _check_namespace(self, res: resources.Resource, namespace: str | None, name: str) -> None:
        if not res.namespaced:
            return
        if not namespace:
            raise errors.BadRequest("a namespace is required for this resource")
        ns = self.namespaces.known.get(namespace) or await self.store.get_or_none(NAMESPACES, None, namespace)
        if ns is None:
            raise errors.NotFound("namespaces", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            err = errors.Forbidden(
                f'{res.plural} "{name}" is forbidden: unable to create new content in namespace '
                f"{namespace} because it is being terminated")
            # As Kubernetes: a machine-readable cause, so controllers need not parse the message.
            err.details = {"name": name, "kind": res.plural, "causes": [{
                "reason": "NamespaceTerminating", "field": "metadata.namespace",
                "message": f"namespace {namespace} is being terminated"}]}
            raise err

    # -- create ---------------------------------------------------------------

    def prepare_create(self, res: resources.Resource, namespace: str | None, body: Any) -> dict[str, Any]:
        obj = self._check_type(res, body)
        meta = obj["metadata"]
        if res.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise errors.BadRequest("the namespace of the provided object does not match the "
                                        "namespace sent on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            gen = meta.get("generateName")
            if gen:
                meta["name"] = gen + "".join(random.choice(_GENERATE_ALPHABET) for _ in range(5))
        for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
                      "selfLink", "managedFields"):
            meta.pop(field, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = rfc3339.now()
        strategy = kinds.for_resource(res)
        if strategy.track_generation:
            meta["generation"] = 1
        strategy.defaults(res, obj, None, self.settings)
        strategy.prepare_for_create(res, obj)
        strategy.record_requester(res, obj, _requester())
        kinds.validate(res, obj, None)
        strategy.canonicalize(res, obj)
        return obj

    async def create(self, res: resources.Resource, namespace: str | None, body: Any,
                     *, dry_run: bool = False, manager: str | None = None,
                     managed_fields: Any = None) -> dict[str, Any]:
        """Create an object; `manager` (the request's field manager) is recorded in its
        managedFields, None for the API server's own writes, which are not tracked.
        `managed_fields` are stored as given instead (server-side apply computed them)."""
        served, res = res, resources.storage_resource(res)
        requested = _requested_managed_fields(body)
        obj = self.prepare_create(res, namespace, body)
        if managed_fields is not None:
            if managed_fields:
                obj["metadata"]["managedFields"] = managed_fields
        elif manager is not None:
            obj = ssa.track_update(served, None, None, obj, manager, requested)
        await self._check_namespace(res, namespace, obj["metadata"]["name"])
        if self.pod_admission is not None and res is PODS and await self.pod_admission(obj):
            kinds.validate(res, obj, None)  # what admission added is validated as the rest
            kinds.for_resource(res).canonicalize(res, obj)
        if self.write_admission is not None:  # authz hook: create
            self.write_admission("create", res, None, None, obj)
        if dry_run:
            return obj
        allocator = self.allocators.get(res.qualified)
        if allocator is not None:
            return await self._write_allocated(res, allocator, obj, None, None)
        return await self.store.create(res, obj)

    async def _write_allocated(self, res: resources.Resource, allocator: allocators.ServiceAllocator,
                               new: dict[str, Any], old: dict[str, Any] | None,
                               expected_rv: int | None) -> dict[str, Any]:
        """Create or update an object with its allocations in one transaction."""
        for attempt in range(8):
            candidate = storage_mod.deepcopy(new)
            plan = allocator.plan(candidate, old)
            extra = await allocator.resolve(candidate, plan)
            kinds.validate(res, candidate, old)
            try:
                if old is None:
                    return await self.store.create(res, candidate, extra)
                if expected_rv is None:
                    raise errors.StatusError(500, "InternalError", "an update without a resourceVersion")
                return await self.store.update(res, candidate, expected_rv, extra)
            except storage_mod.ExtraConflict:
                err = await allocator.explain_conflict(candidate, plan)
                if err is not None:
                    err.details["name"] = new["metadata"]["name"]
                    raise err from None
                log.info("%s %s: allocation raced, retrying (%d)", res.singular, new["metadata"]["name"], attempt)
        raise errors.Conflict(res.qualified, new["metadata"]["name"], "could not allocate; please retry")

    # -- update ---------------------------------------------------------------

    def prepare_update(self, res: resources.Resource, old: dict[str, Any], body: Any,
                       subresource: str | None) -> dict[str, Any]:
        new = self._check_type(res, body)
        if self.write_admission is not None:  # authz hook: update (PUT, PATCH, scale, status, finalize)
            self.write_admission("update", res, subresource, old, new)
        meta, old_meta = new["metadata"], old["metadata"]
        if meta.get("name") and meta["name"] != old_meta["name"]:
            raise errors.BadRequest(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({old_meta['name']})")
        if res.namespaced and meta.get("namespace") and meta["namespace"] != old_meta.get("namespace"):
            raise errors.BadRequest("the namespace of the provided object does not match the namespace "
                                    "sent on the request")
        if meta.get("uid") and meta["uid"] != old_meta.get("uid"):
            raise errors.Conflict(res.qualified, old_meta["name"],
                                  f"Precondition failed: UID in precondition: {meta['uid']}, "
                                  f"UID in object meta: {old_meta.get('uid')}")
        strategy = kinds.for_resource(res)
        if subresource is not None:
            # /status, /finalize: the subresource's own strategy says what of the request counts.
            sub = strategy.subresources.get(subresource)
            if sub is None:
                raise errors.MethodNotAllowed(f"{res.plural}/{subresource} cannot be updated")
            result = sub.prepare_for_update(res, new, old)
            sub.validate_update(res, result, old).raise_invalid(res.kind, old_meta["name"], res.group)
            kinds.validate_status(res, result)
            return result
        # System-owned metadata always comes from the stored object.
        for field in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "generation"):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        meta.pop("managedFields", None)
        meta.pop("selfLink", None)
        if old_meta.get("deletionTimestamp"):
            # Terminating objects may only lose finalizers, not gain them.
            added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
            if added:
                listed = ", ".join(f'"{f}"' for f in sorted(added))
                raise errors.Invalid(res.kind, old_meta["name"], [errors.field_error(
                    "metadata.finalizers", f"Forbidden: no new finalizers can be added if the object "
                    f"is being deleted, found new finalizers []string{{{listed}}}", "FieldValueForbidden")],
                    group=res.group)
        strategy.defaults(res, new, old, self.settings)
        strategy.prepare_for_update(res, new, old)
        if strategy.track_generation and _spec_changed(old, new):
            meta["generation"] = int(old_meta.get("generation") or 1) + 1
        kinds.validate(res, new, old)
        strategy.canonicalize(res, new)
        return new

    async def update(self, res: resources.Resource, namespace: str | None, name: str, body: Any,
                     *, subresource: str | None = None, dry_run: bool = False,
                     manager: str | None = None) -> tuple[dict[str, Any], bool]:
        """PUT: returns (object, created)."""
        served, res = res, resources.storage_resource(res)
        if not isinstance(body, dict):
            raise errors.BadRequest("the body of the request must be a JSON object")
        if not isinstance(body.get("metadata", {}), dict):
            raise errors.BadRequest("metadata must be an object")
        rv_text = (body.get("metadata") or {}).get("resourceVersion")
        if rv_text is not None and not isinstance(rv_text, str):
            raise errors.BadRequest(f"json: cannot unmarshal {_json_type(rv_text)} into Go struct field "
                                    "ObjectMeta.metadata.resourceVersion of type string")
        expected = _parse_rv(rv_text) if rv_text else None
        cached = self._peek(res, namespace, name) if not dry_run else None
        # A cached copy is only worth trying when it can match the request's resourceVersion.
        if cached is not None and expected is not None and int(cached["metadata"]["resourceVersion"]) != expected:
            cached = None
        old = cached or await self.store.get_or_none(res, namespace, name)
        if old is None:
            if kinds.for_resource(res).allow_create_on_update and subresource is None:
                body.setdefault("metadata", {})["name"] = name
                return await self.create(served, namespace, body, dry_run=dry_run, manager=manager), True
            raise errors.NotFound(res.qualified, name)
        for attempt in range(16):
            from_cache = attempt == 0 and cached is not None
            try:
                if expected is not None and int(old["metadata"]["resourceVersion"]) != expected:
                    raise errors.Conflict(res.qualified, name)
                new = self.prepare_update(res, old, storage_mod.deepcopy(body), subresource)
                if manager is not None:
                    new = ssa.track_update(served, subresource, old, new, manager,
                                           None if subresource else _requested_managed_fields(body))
                if from_cache and _equal_ignoring_rv(old, new):
                    raise errors.Conflict(res.qualified, name)  # "no change" must be judged on a fresh read
                return await self._commit_update(res, old, new, dry_run), False
            except errors.StatusError as e:
                if not from_cache and (expected is not None or not isinstance(e, errors.Conflict)):
                    raise
            old = await self.store.get(res, namespace, name)
        raise errors.Conflict(res.qualified, name, "too many concurrent updates; please retry")

    async def _commit_update(self, res: resources.Resource, old: dict[str, Any], new: dict[str, Any],
                             dry_run: bool) -> dict[str, Any]:
        rv = int(old["metadata"]["resourceVersion"])
        if dry_run:
            return new
        if _equal_ignoring_rv(old, new):
            return old
        if self._ready_to_remove(res, new):
            return await self._remove(res, new, rv)
        allocator = self.allocators.get(res.qualified)
        if allocator is not None:
            return await self._write_allocated(res, allocator, new, old, rv)
        return await self.store.update(res, new, rv)

    def _ready_to_remove(self, res: resources.Resource, obj: dict[str, Any]) -> bool:
        """A terminating object with nothing left to wait for is removed by the write that clears it."""
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp") or meta.get("finalizers"):
            return False
        if kinds.for_resource(res).blocks_removal(obj):
            return False
        return not meta.get("deletionGracePeriodSeconds")

    async def _remove(self, res: resources.Resource, obj: dict[str, Any], rv: int) -> dict[str, Any]:
        meta = obj["metadata"]
        allocator = self.allocators.get(res.qualified)
        extra_for = allocator.release_all if allocator is not None else None
        return await self.store.delete(res, meta.get("namespace"), meta["name"], rv, extra_for=extra_for,
                                       current=obj if meta.get("resourceVersion") == str(rv) else None)

    def _peek(self, res: resources.Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        if self.caches is None:
            return None
        cache = self.caches.caches.get(resources.storage_resource(res).plural)
        return cache.peek(self.store.key(res, namespace, name)) if cache is not None else None

    # -- patch ------------------------------------------------------------------

    async def patch(self, res: resources.Resource, namespace: str | None, name: str, body: bytes,
                    content_type: str, *, subresource: str | None = None, dry_run: bool = False,
                    view: Any = None, manager: str | None = None) -> dict[str, Any]:
        """Apply a patch to the current object, retrying the read-modify-write on conflict.

        `view` = (to_view, from_view) converts between the stored shape and the
        shape the client patches (HPA autoscaling/v1).
        """
        res_storage = resources.storage_resource(res)
        cached = self._peek(res_storage, namespace, name)
        for attempt in range(16):
            from_cache = attempt == 0 and cached is not None
            old = cached if from_cache and cached is not None else await self.store.get(res_storage, namespace, name)
            current = view[0](storage_mod.deepcopy(old)) if view else storage_mod.deepcopy(old)
            # A resourceVersion the patch sets is a precondition (as Kubernetes);
            # otherwise a conflict is just retried. Merge patches are applied to the
            # object without its resourceVersion, so one that comes out was set by the
            # patch; a JSON patch sees it (kubectl's managed-fields migration replaces
            # it) and pins it when an operation names it.
            json_patch = patch_mod.media_type(content_type) == patch_mod.JSON_PATCH
            meta_now = current.get("metadata", {})
            rv_now = meta_now.get("resourceVersion") if json_patch else meta_now.pop("resourceVersion", None)
            rv_text = None
            try:
                patched = patch_mod.apply_patch(current, body, content_type, res.kind)
                if not isinstance(patched, dict):
                    raise errors.BadRequest("the patch did not produce an object")
                if not isinstance(patched.get("metadata", {}), dict):
                    raise errors.BadRequest("metadata must be an object")
                rv_text = (patched.get("metadata") or {}).get("resourceVersion")
                if json_patch and not patch_mod.json_patch_touches(body, "/metadata/resourceVersion"):
                    rv_text = None
                if rv_text and rv_text != rv_now:
                    raise errors.Conflict(res.qualified, name)
                if view:
                    patched = view[1](patched)
                requested = None if subresource else _requested_managed_fields(patched)
                new = self.prepare_update(res_storage, old, patched, subresource)
                if manager is not None:
                    new = ssa.track_update(res, subresource, old, new, manager, requested)
                return await self._commit_update(res_storage, old, new, dry_run)
            except errors.StatusError as e:
                if from_cache:
                    continue  # judged on a possibly stale copy: judge again on a fresh read
                if isinstance(e, errors.Conflict) and not rv_text:
                    continue
                raise
        raise errors.Conflict(res.qualified, name, "too many concurrent updates; please retry")

    # -- server-side apply ---------------------------------------------------------

    async def apply(self, res: resources.Resource, namespace: str | None, name: str, config: Any, *,
                    manager: str, force: bool = False, subresource: str | None = None,
                    dry_run: bool = False) -> tuple[dict[str, Any], bool]:
        """Server-side apply of `config` (in the served version of `res`) by `manager`:
        returns (object, created). Creates the object when it does not exist (not
        through a subresource); 409 with the conflicting fields unless `force`."""
        res_storage = resources.storage_resource(res)
        fm = ssa.field_manager(res, subresource or "")
        if not isinstance(config, dict):
            raise errors.BadRequest("error decoding YAML: the applied configuration must be an object")
        meta = config.get("metadata")
        if not isinstance(meta, dict):
            meta = config["metadata"] = {}
        if meta.get("name") not in (None, "", name):
            raise errors.BadRequest(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
        rv_text = meta.get("resourceVersion")
        cached = self._peek(res_storage, namespace, name)
        for attempt in range(16):
            from_cache = attempt == 0 and cached is not None
            old = cached if from_cache else await self.store.get_or_none(res_storage, namespace, name)
            if old is None:
                if subresource is not None:
                    raise errors.NotFound(res.qualified, name)
                applied = fm.apply(None, storage_mod.deepcopy(config), manager, force)
                applied["metadata"]["name"] = name
                managed = applied["metadata"].pop("managedFields", None)
                try:
                    return await self.create(res, namespace, kinds.from_version(res, applied), dry_run=dry_run,
                                             managed_fields=managed or []), True
                except errors.AlreadyExists:
                    continue
            try:
                if rv_text and rv_text != old["metadata"]["resourceVersion"]:
                    raise errors.Conflict(res.qualified, name)
                current = kinds.to_version(res, storage_mod.deepcopy(old))
                applied = fm.apply(current, storage_mod.deepcopy(config), manager, force)
                managed = applied["metadata"].pop("managedFields", None)
                new = self.prepare_update(res_storage, old, kinds.from_version(res, applied), subresource)
                if managed:
                    new["metadata"]["managedFields"] = managed
                else:
                    new["metadata"].pop("managedFields", None)
                return await self._commit_update(res_storage, old, new, dry_run), False
            except errors.StatusError as e:
                if from_cache:
                    continue  # judged on a possibly stale copy: judge again on a fresh read
                if isinstance(e, errors.Conflict) and not rv_text:
                    continue
                raise
        raise errors.Conflict(res.qualified, name, "too many concurrent updates; please retry")

    # -- delete -----------------------------------------------------------------

    async def delete(self, res: resources.Resource, namespace: str | None, name: str,
                     options: dict[str, Any] | None = None, *, dry_run: bool = False) -> dict[str, Any]:
        res = resources.storage_resource(res)
        options = options or {}
        kinds.for_resource(res).check_delete(res, name)
        cached = self._peek(res, namespace, name)
        for attempt in range(16):
            # The first attempt may use the watch cache's copy: the
            # compare-and-swap on its resourceVersion catches staleness, and
            # anything judged on it is judged again on a fresh read.
            from_cache = attempt == 0 and cached is not None and not dry_run
            obj = cached if from_cache and cached is not None else await self.store.get(res, namespace, name)
            try:
                _check_preconditions(res, obj, options)
                if self.write_admission is not None:  # authz hook: delete (also eviction, deletecollection)
                    self.write_admission("delete", res, None, obj, None)
                rv = int(obj["metadata"]["resourceVersion"])
                new = self._mark_deleting(res, storage_mod.deepcopy(obj), options)
                if dry_run:
                    return new if new is not None else obj
                if new is None:
                    return await self._remove(res, obj, rv)
                if _equal_ignoring_rv(obj, new):
                    if from_cache:
                        continue
                    return obj
                return await self.store.update(res, new, rv)
            except errors.Conflict:
                continue
            except errors.StatusError:
                if from_cache:
                    continue
                raise
        raise errors.Conflict(res.qualified, name, "too many concurrent updates; please retry")

    def _mark_deleting(self, res: resources.Resource, obj: dict[str, Any],
                       options: dict[str, Any]) -> dict[str, Any] | None:
        """The object as it should be stored while deletion waits, or None to remove it now."""
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        policy = options.get("propagationPolicy")
        if policy is None and options.get("orphanDependents") is not None:
            policy = "Orphan" if options["orphanDependents"] else "Background"
        if policy not in (None, "Orphan", "Foreground", "Background"):
            raise errors.BadRequest(f'propagationPolicy: Unsupported value: "{policy}": supported values: '
                                    '"Foreground", "Background", "Orphan"')
        if not meta.get("deletionTimestamp"):
            if policy == "Orphan" and "orphan" not in finalizers:
                finalizers.append("orphan")
            if policy == "Foreground" and "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
        else:
            # A later delete may switch the policy (as Kubernetes allows).
            if policy == "Orphan" and "foregroundDeletion" in finalizers:
                finalizers = [f for f in finalizers if f != "foregroundDeletion"] + ["orphan"]
            elif policy == "Foreground" and "orphan" in finalizers:
                finalizers = [f for f in finalizers if f != "orphan"] + ["foregroundDeletion"]
            elif policy == "Background":
                finalizers = [f for f in finalizers if f not in ("orphan", "foregroundDeletion")]
        strategy = kinds.for_resource(res)
        grace = strategy.graceful_delete_seconds(obj, options)
        waiting = strategy.blocks_removal(obj)
        if not finalizers and not grace and not waiting:
            return None
        meta["finalizers"] = finalizers
        if not finalizers:
            meta.pop("finalizers")
        now = datetime.datetime.now(datetime.timezone.utc)
        if meta.get("deletionTimestamp"):
            if grace is not None and grace < int(meta.get("deletionGracePeriodSeconds") or 0):
                meta["deletionTimestamp"] = rfc3339.format(now + datetime.timedelta(seconds=grace))
                meta["deletionGracePeriodSeconds"] = grace
            if not finalizers and not meta.get("deletionGracePeriodSeconds") and not waiting:
                return None
        else:
            meta["deletionTimestamp"] = rfc3339.format(now + datetime.timedelta(seconds=grace or 0))
            meta["deletionGracePeriodSeconds"] = grace or 0
        strategy.prepare_for_delete(obj)
        return obj

    async def delete_collection(self, res: resources.Resource, namespace: str | None,
                                label_selector: selectors.LabelSelector, field_selector: selectors.FieldSelector,
                                options: dict[str, Any] | None = None, *, dry_run: bool = False) -> list[dict[str, Any]]:
        items, _ = await self.store.list(res, namespace)
        deleted = []
        for obj in items:
            if not label_selector.matches(obj["metadata"].get("labels")) or not field_selector.matches(obj):
                continue
            try:
                deleted.append(await self.delete(res, obj["metadata"].get("namespace"), obj["metadata"]["name"],
                                                 options, dry_run=dry_run))
            except errors.NotFound:
                continue
        return deleted

    # -- subresources -------------------------------------------------------------

    def scale_of(self, res: resources.Resource, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        spec = obj.get("spec") or {}
        selector = kinds.for_resource(res).scale_selector(obj)
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": int(spec.get("replicas", 1))},
            "status": {"replicas": int((obj.get("status") or {}).get("replicas", 0)), "selector": selector},
        }

    async def get_scale(self, res: resources.Resource, namespace: str, name: str) -> dict[str, Any]:
        return self.scale_of(res, await self.store.get(res, namespace, name))

    async def update_scale(self, res: resources.Resource, namespace: str, name: str, scale: Any,
                           *, dry_run: bool = False, manager: str | None = None) -> dict[str, Any]:
        if not isinstance(scale, dict):
            raise errors.BadRequest("the body of the request must be a Scale object")
        scale_mod.validate_scale(scale)
        replicas = int(scale["spec"].get("replicas") or 0) if isinstance(scale.get("spec"), dict) else 0
        rv_text = (scale.get("metadata") or {}).get("resourceVersion")
        for _ in range(16):
            old = await self.store.get(res, namespace, name)
            if rv_text and rv_text != old["metadata"]["resourceVersion"]:
                raise errors.Conflict(res.qualified, name)
            new = storage_mod.deepcopy(old)
            new["spec"]["replicas"] = replicas
            new = self.prepare_update(res, old, new, None)
            if manager is not None:
                new = ssa.track_update(res, "scale", old, new, manager)
            try:
                return self.scale_of(res, await self._commit_update(res, old, new, dry_run))
            except errors.Conflict:
                if rv_text:
                    raise
        raise errors.Conflict(res.qualified, name, "too many concurrent updates; please retry")

    async def patch_scale(self, res: resources.Resource, namespace: str, name: str, body: bytes,
                          content_type: str, *, dry_run: bool = False, manager: str | None = None
                          ) -> dict[str, Any]:
        current = await self.get_scale(res, namespace, name)
        # As for patches of objects: a resourceVersion is a precondition only if the patch sets one.
        current["metadata"].pop("resourceVersion", None)
        patched = patch_mod.apply_patch(current, body, content_type, "Scale")
        return await self.update_scale(res, namespace, name, patched, dry_run=dry_run, manager=manager)

    async def bind(self, namespace: str, name: str, binding: Any, *, dry_run: bool = False) -> None:
        """pods/binding: assign a node once (what the scheduler calls); `dry_run` checks without writing."""
        if not isinstance(binding, dict):
            raise errors.BadRequest("the body of the request must be a Binding object")
        target = binding.get("target")
        if target is not None and not isinstance(target, dict):
            raise errors.BadRequest("json: cannot unmarshal into Go struct field Binding.target of type "
                                    "v1.ObjectReference")
        target = target or {}
        node = target.get("name")
        if node is not None and not isinstance(node, str):
            raise errors.BadRequest("json: cannot unmarshal into Go struct field Binding.target.name of type string")
        if not node:
            raise errors.Invalid("Binding", name, [errors.field_error("target.name", "Required value",
                                                                       "FieldValueRequired")])
        if target.get("kind") not in (None, "", "Node"):
            raise errors.Invalid("Binding", name, [errors.field_error(
                "target.kind", f'Unsupported value: "{target.get("kind")}": supported values: "Node"',
                "FieldValueNotSupported")])
        meta = binding.get("metadata")
        uid = meta.get("uid") if isinstance(meta, dict) else None

        def assign(pod: dict[str, Any]) -> dict[str, Any]:
            if uid and pod["metadata"].get("uid") != uid:
                raise errors.Conflict("pods", name, "the UID in the binding does not match the pod")
            if pod["metadata"].get("deletionTimestamp"):
                raise errors.Conflict("pods", name, "pod is being deleted, cannot be assigned to a host")
            current = (pod.get("spec") or {}).get("nodeName")
            if current:
                raise errors.Conflict("pods", name, f"pod {name} is already assigned to node \"{current}\"")
            pod["spec"]["nodeName"] = node
            conditions.replace(pod.setdefault("status", {}), {
                "type": "PodScheduled", "status": "True", "lastProbeTime": None,
                "lastTransitionTime": rfc3339.now()})
            return pod

        if dry_run:
            assign(storage_mod.deepcopy(await self.store.get(PODS, namespace, name)))
            return
        await self.store.guaranteed_update(PODS, namespace, name, assign, first=self._peek(PODS, namespace, name))

    # -- bootstrap ------------------------------------------------------------------

    async def ensure(self, res: resources.Resource, namespace: str | None, obj: dict[str, Any]) -> dict[str, Any]:
        """Create `obj` unless an object of that name exists (start-up bootstrap)."""
        existing = await self.store.get_or_none(res, namespace, obj["metadata"]["name"])
        if existing is not None:
            return existing
        try:
            return await self.create(res, namespace, obj)
        except errors.AlreadyExists:
            return await self.store.get(res, namespace, obj["metadata"]["name"])


def _json_type(value: Any) -> str:
    return {bool: "bool", int: "number", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), "value")


def _parse_rv(text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise errors.BadRequest(f'invalid resourceVersion "{text}"') from None


def _check_preconditions(res: resources.Resource, obj: dict[str, Any], options: dict[str, Any]) -> None:
    pre = options.get("preconditions") or {}
    meta = obj["metadata"]
    if pre.get("uid") and pre["uid"] != meta.get("uid"):
        raise errors.Conflict(res.qualified, meta["name"],
                              f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: "
                              f"{meta.get('uid')}")
    if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
        raise errors.Conflict(res.qualified, meta["name"],
                              f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                              f"ResourceVersion in object meta: {meta.get('resourceVersion')}")


def _equal_ignoring_rv(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return storage_mod.encode(a) == storage_mod.encode(b) or \
        orjson.dumps(_strip_rv(a), option=orjson.OPT_SORT_KEYS) == orjson.dumps(_strip_rv(b), option=orjson.OPT_SORT_KEYS)


def _strip_rv(obj: dict[str, Any]) -> dict[str, Any]:
    out = dict(obj)
    out["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"}
    return out


async def gather_limited(coros: list[Any], limit: int = 16) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def run(c: Any) -> Any:
        async with sem:
            return await c
    return await asyncio.gather(*(run(c) for c in coros))
