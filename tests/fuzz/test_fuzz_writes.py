"""Every write verb of every served kind, with bodies mutated from valid objects.

Per example: a fresh valid object (the kind's seed) is created, then one generated
write goes to it — create, update (PUT), merge / strategic merge / JSON patch (a
diff to a mutated copy, or a malformed document), status PUT and PATCH, scale GET
/ PUT / PATCH, binding, eviction, finalize, delete with DeleteOptions — as JSON,
YAML or protobuf, with any fieldValidation and dryRun, valid or not. Then:
- the answer is below 500 and, if an error, a Status (harness.check_reply);
- a rejected or dry-run write changed nothing: the object reads back with the
  same resourceVersion and content (or is still absent);
- an accepted write left an object that passes the oracle (harness.assert_valid):
  the structural check of its schema, its kind's validation, its Table printer.
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from minik8s.api import protobuf
from minik8s.api import resources
from minik8s.api import schema
from minik8s.api.schema import meta_v1
from tests.fuzz import gen
from tests.fuzz import harness
from tests.fuzz import samples
from tests.fuzz.conftest import fuzz_settings

_names = itertools.count()

# Kinds whose objects have many fields get more examples.
_RICH = {"Pod", "Deployment", "ReplicaSet", "ReplicationController", "Service", "HorizontalPodAutoscaler", "Node"}


def verbs_of(res: resources.Resource) -> list[str]:
    if res.kind in samples.REVIEWS:
        return ["create"]
    out = ["create", "update", "merge", "strategic", "json", "delete"]
    if res.subresource("status") is not None:
        out += ["status-put", "status-patch"]
    if res.subresource("scale") is not None:
        out += ["scale-get", "scale-put", "scale-patch"]
    if res.kind == "Pod":
        out += ["binding", "eviction"]
    if res.kind == "Namespace":
        out += ["finalize"]
    return out


@dataclasses.dataclass
class Options:
    encoding: str
    field_validation: str | None
    dry_run: str | None

    def query(self) -> dict[str, str]:
        q = {}
        if self.field_validation is not None:
            q["fieldValidation"] = self.field_validation
        if self.dry_run is not None:
            q["dryRun"] = self.dry_run
        return q


OPTIONS = st.builds(
    Options,
    encoding=st.sampled_from(["json"] * 6 + ["yaml", "protobuf"]),
    field_validation=st.sampled_from([None] * 4 + ["Strict", "Warn", "Ignore", "", "strict", "Bogus"]),
    dry_run=st.sampled_from([None] * 6 + ["All", "None", ""]),
)


def encode(obj: Any, encoding: str) -> tuple[bytes, str]:
    """A body as a client sends it; protobuf only for what the schema's encoder takes."""
    if encoding == "yaml":
        return yaml.safe_dump(obj).encode(), harness.YAML
    if encoding == "protobuf" and isinstance(obj, dict):
        try:
            return protobuf.encode(obj), harness.PROTOBUF
        except Exception:  # noqa: BLE001 - the client's encoder refuses ill-typed values: send JSON then
            pass
    return gen.dumps(obj), harness.JSON


def ids(res: resources.Resource) -> str:
    return f"{res.group or 'core'}/{res.version}/{res.kind}"


async def _get(api: harness.Api, res: resources.Resource, namespace: str | None, name: Any) -> Any:
    """The stored object, None if there is none. A name longer than any valid name is not
    looked up (its URL could pass the HTTP layer's limit); test_everything_stored_is_valid
    sweeps every stored object whatever its name."""
    if not isinstance(name, str) or not name or len(name) > 1000:
        return None
    got = await api.send("GET", harness.path_of(resources.storage_resource(res), namespace, name))
    return got.body if got.ok else None


DELETE_OPTIONS = {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                  "propagationPolicy": "Background", "preconditions": {}}
DELETE_QUERIES = st.dictionaries(
    st.sampled_from(["gracePeriodSeconds", "propagationPolicy", "orphanDependents", "dryRun"]),
    st.sampled_from(["0", "-1", "30", "abc", "1.5", "99999999999999999999", "Orphan", "Foreground", "Background",
                     "Bogus", "true", "false", "All", ""]), max_size=2)


RICH = [r for r in samples.kinds() if r.kind in _RICH]
PLAIN = [r for r in samples.kinds() if r.kind not in _RICH]


@pytest.mark.parametrize("res", RICH, ids=ids)
@fuzz_settings(80)
@given(opts=OPTIONS, data=st.data())
async def test_writes_of_rich_kinds(api: harness.Api, namespace: str, res: resources.Resource, opts: Options,
                                    data: st.DataObject) -> None:
    verb = data.draw(st.sampled_from(verbs_of(res)), label="verb")
    await write_once(api, namespace, res, verb, opts, data)


@pytest.mark.parametrize("res", PLAIN, ids=ids)
@fuzz_settings(16)
@given(opts=OPTIONS, data=st.data())
async def test_writes_of_plain_kinds(api: harness.Api, namespace: str, res: resources.Resource, opts: Options,
                                     data: st.DataObject) -> None:
    verb = data.draw(st.sampled_from(verbs_of(res)), label="verb")
    await write_once(api, namespace, res, verb, opts, data)


async def write_once(api: harness.Api, namespace: str, res: resources.Resource, verb: str, opts: Options,
                     data: st.DataObject) -> None:
    name = f"fz-{res.plural[:10]}-{next(_names)}"
    storage = resources.storage_resource(res)
    ns = namespace if res.namespaced else None
    what = f"{res.kind} {verb}"
    q = opts.query()
    count = (res.kind, verb)
    cleanup: list[Any] = []
    try:
        if verb == "create":
            m = data.draw(gen.mutated(res, samples.sample(res, name, namespace)), label="body")
            body, ctype = encode(m.obj, opts.encoding)
            target = (m.obj.get("metadata") or {}).get("name") if isinstance(m.obj.get("metadata"), dict) else None
            if res.kind in samples.REVIEWS:
                await api.send("POST", harness.path_of(res, ns), body=body, content_type=ctype, query=q, count=count)
                return
            before = await _get(api, res, ns, target)
            reply = await api.send("POST", harness.path_of(res, ns), body=body, content_type=ctype, query=q,
                                   count=count)
            if reply.ok and opts.dry_run is None:
                created = reply.body["metadata"]["name"]
                cleanup.append(created)
                await harness.reread(api, res, ns, created, f"{what} {m.changes}")
            else:
                assert_unchanged(before, await _get(api, res, ns, target),
                                 f"{what} {m.changes} {q} -> {reply.status} (rejected or dry run)")
            return

        created = await api.json("POST", harness.path_of(res, ns), samples.sample(res, name, namespace))
        assert created.status == 201, f"the {res.kind} seed was refused: {created}"
        cleanup.append(name)
        before = await harness.reread(api, res, ns, name, f"{res.kind} seed")
        item = harness.path_of(res, ns, name)
        described: Any = None
        if verb in ("update", "status-put", "finalize"):
            current = await api.send("GET", item)
            m = data.draw(gen.mutated(res, current.body, focus={"update": None, "status-put": "status",
                                                                 "finalize": "spec"}[verb]), label="body")
            described = m.changes
            body, ctype = encode(m.obj, opts.encoding)
            path = item + {"update": "", "status-put": "/status", "finalize": "/finalize"}[verb]
            reply = await api.send("PUT", path, body=body, content_type=ctype, query=q, count=count)
        elif verb in ("merge", "strategic", "json", "status-patch"):
            current = (await api.send("GET", item)).body
            kind = verb if verb != "status-patch" else data.draw(st.sampled_from(["merge", "strategic"]))
            m = data.draw(gen.mutated(res, current, focus="status" if verb == "status-patch" else None),
                          label="target")
            body, how = data.draw(gen.patch_body(kind, current, m.obj), label="patch")
            described = (m.changes, how, body[:300])
            ctype = {"merge": harness.MERGE, "strategic": harness.STRATEGIC, "json": harness.JSON_PATCH}[kind]
            path = item + ("/status" if verb == "status-patch" else "")
            reply = await api.send("PATCH", path, body=body, content_type=ctype, query=q, count=count)
        elif verb.startswith("scale-"):
            scale = await api.send("GET", item + "/scale", count=(res.kind, "scale-get"))
            assert scale.status == 200, str(scale)
            if verb == "scale-get":
                reply = scale
            else:
                scale_msg = schema.for_kind("autoscaling", "v1", "Scale")
                m = data.draw(gen.mutated(scale_msg, scale.body, focus="spec"), label="scale")
                described = m.changes
                if verb == "scale-put":
                    body, ctype = encode(m.obj, opts.encoding)
                    reply = await api.send("PUT", item + "/scale", body=body, content_type=ctype, query=q, count=count)
                else:
                    body, how = data.draw(gen.patch_body(data.draw(st.sampled_from(["merge", "json", "strategic"])),
                                                         scale.body, m.obj), label="patch")
                    ctype = {b"[": harness.JSON_PATCH}.get(body[:1], harness.MERGE)
                    reply = await api.send("PATCH", item + "/scale", body=body, content_type=ctype, query=q,
                                           count=count)
        elif verb == "binding":
            binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name, "namespace": namespace},
                       "target": {"apiVersion": "v1", "kind": "Node", "name": "fz-node"}}
            m = data.draw(gen.mutated(schema.for_kind("", "v1", "Binding"), binding), label="binding")
            described = m.changes
            body, ctype = encode(m.obj, opts.encoding)
            reply = await api.send("POST", item + "/binding", body=body, content_type=ctype, query=q, count=count)
        elif verb == "eviction":
            eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                        "metadata": {"name": name, "namespace": namespace}, "deleteOptions": dict(DELETE_OPTIONS)}
            m = data.draw(gen.mutated(schema.for_kind("policy", "v1", "Eviction"), eviction), label="eviction")
            described = m.changes
            body, ctype = encode(m.obj, opts.encoding)
            reply = await api.send("POST", item + "/eviction", body=body, content_type=ctype, query=q, count=count)
        else:
            assert verb == "delete"
            dq = data.draw(DELETE_QUERIES, label="query")
            body = None
            ctype = None
            if data.draw(st.booleans(), label="with body"):
                m = data.draw(gen.mutated(meta_v1.DELETE_OPTIONS, dict(DELETE_OPTIONS)), label="options")
                described = m.changes
                body, ctype = encode(m.obj, opts.encoding if opts.encoding != "protobuf" else "json")
            described = (described, dq)
            reply = await api.send("DELETE", item, body=body, content_type=ctype, query=dq, count=count)
            q = dq
        after = await _get(api, res, ns, name)
        what = f"{what} {described} {q} -> {reply.status}"
        dry = "dryRun" in q
        if not reply.ok or dry or verb == "scale-get":
            assert_unchanged(before, after, what + " (rejected, dry run or a read)")
        elif after is not None:
            harness.assert_valid(storage, after, what)
            if storage is not res:
                await harness.reread(api, res, ns, name, what)
    finally:
        if not res.namespaced:
            for n in cleanup:
                await harness.purge(api, res, ns, n)


def assert_unchanged(before: Any, after: Any, what: str) -> None:
    harness.assert_unchanged(before, after, what)


STORED = [r for r in samples.stored() if not r.storage_version]


@pytest.mark.parametrize("res", STORED, ids=ids)
async def test_everything_stored_is_valid(api: harness.Api, res: resources.Resource) -> None:
    """After the fuzzing (this runs last in the module), every object of the kind in every
    namespace, whatever name it got, passes the oracle, and lists as Table and protobuf."""
    listed = await api.send("GET", harness.path_of(res, None), count=(res.kind, "list"))
    assert listed.status == 200, str(listed)
    for obj in listed.body["items"]:
        harness.assert_valid(res, obj, f"{res.kind} {obj['metadata'].get('namespace')}/{obj['metadata']['name']}")
    table = await api.send("GET", harness.path_of(res, None), accept="application/json;as=Table;v=v1;g=meta.k8s.io",
                           count=(res.kind, "list"))
    assert table.status == 200 and len(table.body["rows"]) >= len(listed.body["items"]), str(table)
    proto = await api.send("GET", harness.path_of(res, None), accept=f"{harness.PROTOBUF}, {harness.JSON}",
                           count=(res.kind, "list"))
    assert proto.status == 200, str(proto)
    if proto.content_type.startswith(harness.PROTOBUF):
        assert len(proto.body.get("items") or []) >= len(listed.body["items"])  # protobuf omits an empty list
