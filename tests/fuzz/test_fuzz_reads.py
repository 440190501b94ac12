"""Reads of every served kind: get, list (selectors, limit/continue), short watches,
deletecollection with options; generated query strings and Accept headers.

A small population (ConfigMaps, Pods, Services, Deployments with known labels) is
created first; then each example sends one generated read. Beyond the universal
checks (no 5xx, errors are Statuses) the answers must be right:
- a list with a label selector made of well-formed requirements returns exactly
  the objects an independent matcher (below, not minik8s's) selects, and a field
  selector on metadata.name exactly the named one;
- following `continue` tokens (when the server pages) yields the unpaged list,
  each object once;
- a watch from resourceVersion 0 first sends the objects the same list returns;
- a deletecollection that is refused or a dry run removes nothing; an accepted one
  removes exactly the selected objects and nothing else.
"""
from __future__ import annotations

import asyncio
import dataclasses
import itertools
import urllib.parse
from typing import Any, AsyncIterator

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minik8s.api import resources
from tests.fuzz import gen
from tests.fuzz import harness
from tests.fuzz import samples
from tests.fuzz.conftest import fuzz_settings

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
ACCEPTS = [harness.JSON, TABLE, f"{harness.PROTOBUF}, {harness.JSON}", f"{TABLE}, {harness.JSON}", "*/*",
           "application/yaml", "text/html", "application/json;as=Table", "application/json;as=Table;v=v2;g=x",
           f"{harness.PROTOBUF};as=Table;v=v1;g=meta.k8s.io", "", "garbage/;;;=", "application/json;q=abc"]

# The population's labels: app in {web, db, cache}, tier in {front, back} or absent, n=<index>.
APPS = ["web", "db", "cache"]
TIERS = ["front", "back", None]
POPULATION = 9
POPULATED = [resources.must("", "v1", "configmaps"), resources.must("", "v1", "pods"),
             resources.must("", "v1", "services"), resources.must("apps", "v1", "deployments")]


def labels_of(i: int) -> dict[str, str]:
    out = {"app": APPS[i % 3], "n": str(i)}
    tier = TIERS[(i // 3) % 3]
    if tier:
        out["tier"] = tier
    return out


@pytest.fixture
async def population(api: harness.Api, namespace: str) -> dict[str, list[dict[str, Any]]]:
    """Objects of a few kinds with known labels, by plural."""
    out: dict[str, list[dict[str, Any]]] = {}
    for res in POPULATED:
        # What the namespace holds already (kube-root-ca.crt, from the root-ca-cert-publisher).
        existing = await api.json("GET", harness.path_of(res, namespace))
        assert existing.status == 200, str(existing)
        out[res.plural] = list(existing.body["items"])
        for i in range(POPULATION if res.plural == "configmaps" else 4):
            body = samples.sample(res, f"p-{res.plural[:6]}-{i}", namespace)
            body["metadata"]["labels"] = labels_of(i)
            if res.plural == "deployments":
                body["spec"]["selector"] = {"matchLabels": {"app": labels_of(i)["app"]}}
                body["spec"]["template"]["metadata"]["labels"] = labels_of(i)
            created = await api.json("POST", harness.path_of(res, namespace), body)
            assert created.status == 201, str(created)
            out[res.plural].append(created.body)
    return out


# --------------------------------------------------------------------------- selectors

@dataclasses.dataclass(frozen=True)
class Req:
    """One well-formed label requirement, with its own semantics (independent of minik8s's)."""
    key: str
    op: str  # exists, !, =, ==, !=, in, notin, gt, lt
    values: tuple[str, ...] = ()

    def text(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return f"!{self.key}"
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(self.values)})"
        if self.op in ("gt", "lt"):
            return f"{self.key}{'>' if self.op == 'gt' else '<'}{self.values[0]}"
        return f"{self.key}{self.op}{self.values[0]}"

    def matches(self, labels: dict[str, str]) -> bool:
        has = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        if self.op in ("=", "==", "in"):
            return has and value in self.values
        if self.op in ("!=", "notin"):
            return not has or value not in self.values
        if not has:
            return False
        try:
            number = int(value or "")
        except ValueError:
            return False
        return number > int(self.values[0]) if self.op == "gt" else number < int(self.values[0])


KEYS = st.sampled_from(["app", "tier", "n", "missing", "example.com/x"])
VALUES = st.sampled_from(APPS + ["front", "back", "0", "3", "none", ""])
REQS = st.one_of(
    st.builds(Req, KEYS, st.sampled_from(["exists", "!"])),
    st.builds(Req, KEYS, st.sampled_from(["=", "==", "!="]), st.tuples(VALUES.filter(bool))),
    st.builds(Req, KEYS, st.sampled_from(["in", "notin"]), st.lists(VALUES.filter(bool), min_size=1, max_size=3,
                                                                    unique=True).map(tuple)),
    st.builds(Req, st.just("n"), st.sampled_from(["gt", "lt"]), st.tuples(st.sampled_from(["-1", "2", "5", "10"]))),
)
GARBAGE_LABEL_SELECTORS = st.one_of(st.sampled_from([
    "=", "app=", "=web", "app==", "app in", "app in (", "app in ()", "app notin (a,", "!", "!!app", "app>x", "app<",
    "a b", "app=web,", ",", "app=web,,tier", "app in (a b)", "(app)", "app=a=b", "x" * 70, "é=1", "app=" + "v" * 70,
    "app!=", "app>1.5", "app<99999999999999999999999", "app in (web),tier notin (back),!missing,n>1",
]), gen.STRINGS)
FIELD_SELECTORS = st.one_of(
    st.builds(lambda f, op, v: f"{f}{op}{v}",
              st.sampled_from(["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase", "spec.x",
                               "metadata.labels", "", "involvedObject.name", "type"]),
              st.sampled_from(["=", "==", "!=", "~", ""]),
              st.sampled_from(["p-config-1", "p-pods-2", "x", "", "a\\,b", "a\\=b", "\\", "Running", "名"])),
    st.sampled_from(["metadata.name=a,metadata.name!=b", ",", "=", "metadata.name", "a=b=c", "\\", "metadata.name=\\"]),
)


@dataclasses.dataclass
class ListQuery:
    label: list[Req] | str | None
    field: str | None
    limit: str | None
    extra: dict[str, str]
    accept: str

    def query(self) -> dict[str, str]:
        q = dict(self.extra)
        if isinstance(self.label, list):
            q["labelSelector"] = ",".join(r.text() for r in self.label)
        elif self.label is not None:
            q["labelSelector"] = self.label
        if self.field is not None:
            q["fieldSelector"] = self.field
        if self.limit is not None:
            q["limit"] = self.limit
        return q


EXTRA_PARAMS = st.dictionaries(
    st.sampled_from(["resourceVersion", "resourceVersionMatch", "continue", "timeoutSeconds", "includeObject",
                     "pretty", "allowWatchBookmarks", "sendInitialEvents", "watch", "timeout", "fieldValidation",
                     "bogus", ""]),
    st.sampled_from(["", "0", "1", "-1", "abc", "NotOlderThan", "Exact", "true", "false", "Object", "None",
                     "Metadata", "99999999999999999999", "1s", "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ", "%00", "é"]),
    max_size=2)

LIST_QUERIES = st.builds(
    ListQuery,
    label=st.one_of(st.none(), st.lists(REQS, min_size=1, max_size=3), GARBAGE_LABEL_SELECTORS),
    field=st.one_of(st.none(), st.none(), FIELD_SELECTORS),
    limit=st.sampled_from([None, None, "1", "2", "3", "0", "-1", "abc", "500", "99999999999999999999"]),
    extra=st.one_of(st.just({}), EXTRA_PARAMS),
    accept=st.sampled_from([harness.JSON] * 4 + ACCEPTS),
)


def expected_names(objs: list[dict[str, Any]], reqs: list[Req]) -> set[str]:
    return {o["metadata"]["name"] for o in objs if all(r.matches(o["metadata"].get("labels") or {}) for r in reqs)}


def names(items: list[dict[str, Any]]) -> list[str]:
    return [o["metadata"]["name"] for o in items]


async def list_all(api: harness.Api, path: str, query: dict[str, str], count: tuple[str, str]) -> list[str] | None:
    """The names of a list, following continue tokens; None if the list was refused."""
    q = dict(query)
    out: list[str] = []
    for _ in range(200):
        reply = await api.send("GET", path, query=q, count=count)
        if reply.status != 200:
            return None
        body = reply.body
        out.extend(names(body.get("items") or []))
        token = (body.get("metadata") or {}).get("continue")
        if not token:
            return out
        q["continue"] = token
        q.pop("resourceVersion", None)
        q.pop("resourceVersionMatch", None)
    raise harness.FuzzFailure(f"GET {path}?{query}: more than 200 pages")


def plain(query: ListQuery) -> bool:
    """Whether the query asks only for things whose answer the test can predict."""
    return not query.extra and query.field is None and query.accept == harness.JSON


@pytest.mark.parametrize("res", POPULATED, ids=lambda r: r.plural)
@fuzz_settings(45)
@given(query=LIST_QUERIES)
async def test_list(api: harness.Api, namespace: str, population: dict[str, list[dict[str, Any]]],
                    res: resources.Resource, query: ListQuery) -> None:
    path = harness.path_of(res, namespace)
    reply = await api.send("GET", path, query=query.query(), accept=query.accept, count=(res.kind, "list"))
    if reply.status != 200 or not plain(query):
        return
    got = names(reply.body["items"])
    everything = population[res.plural]
    if isinstance(query.label, list):
        expected = expected_names(everything, query.label)
        paged = await list_all(api, path, query.query(), (res.kind, "list"))
        assert paged is not None and len(paged) == len(set(paged)), f"{query.query()}: pages repeat objects: {paged}"
        assert set(paged) == expected, f"{query.query()}: paged list {sorted(paged)} != expected {sorted(expected)}"
        if query.limit is None:
            assert set(got) == expected, f"{query.query()}: {sorted(got)} != expected {sorted(expected)}"
    elif query.label is None and query.limit is None:
        assert set(got) == set(names(everything)), f"{query.query()}: {sorted(got)}"


@pytest.mark.parametrize("res", POPULATED, ids=lambda r: r.plural)
@fuzz_settings(25)
@given(data=st.data(), accept=st.sampled_from(ACCEPTS),
       extra=st.one_of(st.just({}), EXTRA_PARAMS), name_kind=st.sampled_from(["known", "known", "odd"]))
async def test_get(api: harness.Api, namespace: str, population: dict[str, list[dict[str, Any]]],
                   res: resources.Resource, data: st.DataObject, accept: str, extra: dict[str, str],
                   name_kind: str) -> None:
    if name_kind == "known":
        name = data.draw(st.sampled_from(names(population[res.plural])), label="name")
    else:
        name = data.draw(gen.STRINGS.filter(lambda s: 0 < len(s) < 300), label="name")
    reply = await api.send("GET", harness.path_of(res, namespace, name), query=extra, accept=accept,
                           count=(res.kind, "get"))
    if name_kind == "known" and not extra and accept == harness.JSON:
        assert reply.status == 200 and reply.body["metadata"]["name"] == name, str(reply)


@pytest.mark.parametrize("res", POPULATED, ids=lambda r: r.plural)
@fuzz_settings(6)
@given(reqs=st.lists(REQS, min_size=1, max_size=2))
async def test_watch_from_zero_starts_with_the_list(api: harness.Api, namespace: str,
                                                    population: dict[str, list[dict[str, Any]]],
                                                    res: resources.Resource, reqs: list[Req]) -> None:
    selector = ",".join(r.text() for r in reqs)
    expected = expected_names(population[res.plural], reqs)
    seen: list[str] = []
    query = {"watch": "true", "resourceVersion": "0", "labelSelector": selector, "timeoutSeconds": "5"}
    async for event in watch_events(api, harness.path_of(res, namespace), query, len(expected),
                                    (res.kind, "watch")):
        assert event["type"] == "ADDED", event
        seen.append(event["object"]["metadata"]["name"])
    assert sorted(seen) == sorted(expected), f"watch {selector!r}: {seen} != {sorted(expected)}"


async def watch_events(api: harness.Api, path: str, query: dict[str, str], wanted: int,
                       count: tuple[str, str]) -> AsyncIterator[dict[str, Any]]:
    """The first `wanted` events of a watch (then the connection is closed); the answer is
    checked like every other."""
    url = f"{path}?{urllib.parse.urlencode(query)}"
    api.note(count)
    async with api.client.session.get(api.client.server + url, headers={"Accept": harness.JSON},
                                      timeout=harness.watch_timeout()) as resp:
        if resp.status != 200:
            harness.check_reply(harness.Reply("GET", url, resp.status, resp.headers.get("Content-Type", ""),
                                              await resp.read(), []))
            raise harness.FuzzFailure(f"watch {url}: {resp.status}")
        got = 0
        buf = b""
        while got < wanted:
            chunk = await asyncio.wait_for(resp.content.readany(), 10)
            if not chunk:
                raise harness.FuzzFailure(f"watch {url}: the stream ended after {got} of {wanted} events")
            buf += chunk
            while b"\n" in buf and got < wanted:
                line, buf = buf.split(b"\n", 1)
                if line.strip():
                    got += 1
                    yield orjson.loads(line)


@pytest.mark.parametrize("res", POPULATED, ids=lambda r: r.plural)
@fuzz_settings(6)
@given(query=LIST_QUERIES.filter(lambda q: q.limit is None))
async def test_watch_queries(api: harness.Api, namespace: str, population: dict[str, list[dict[str, Any]]],
                             res: resources.Resource, query: ListQuery) -> None:
    """Generated watch queries: whatever the parameters, a Status or a stream; the stream is
    read for its first event (there is one unless the selector matches nothing)."""
    q = {**query.query(), "watch": "true", "timeoutSeconds": "1"}
    url = f"{harness.path_of(res, namespace)}?{urllib.parse.urlencode(q)}"
    api.note((res.kind, "watch"))
    async with api.client.session.get(api.client.server + url, headers={"Accept": query.accept},
                                      timeout=harness.watch_timeout()) as resp:
        raw = b"" if resp.status == 200 else await resp.read()
        harness.check_reply(harness.Reply("GET", url, resp.status, resp.headers.get("Content-Type", ""), raw, []))
        if resp.status == 200:
            await asyncio.wait_for(resp.content.readany(), 10)


# --------------------------------------------------------------------------- deletecollection

collection_runs = itertools.count()


@pytest.mark.parametrize("res", [POPULATED[0], POPULATED[1]], ids=lambda r: r.plural)
@fuzz_settings(16)
@given(reqs=st.one_of(st.lists(REQS, min_size=1, max_size=2), GARBAGE_LABEL_SELECTORS),
       options=st.one_of(st.none(), st.dictionaries(
           st.sampled_from(["gracePeriodSeconds", "propagationPolicy", "orphanDependents", "dryRun", "preconditions",
                            "kind", "apiVersion", "bogus"]),
           st.sampled_from([0, 30, -1, "x", "Orphan", "Background", "Foreground", "Bogus", ["All"], ["x"], True,
                            None, {"uid": "nope"}, {"resourceVersion": "1"}, "DeleteOptions", "v1", 1.5, []]),
           max_size=3)),
       query=st.dictionaries(st.sampled_from(["dryRun", "gracePeriodSeconds", "propagationPolicy", "fieldSelector"]),
                             st.sampled_from(["All", "0", "x", "Orphan", "metadata.name=c-0", "-5"]), max_size=2))
async def test_deletecollection(api: harness.Api, namespace: str, res: resources.Resource, reqs: list[Req] | str,
                                options: dict[str, Any] | None, query: dict[str, str]) -> None:
    run = next(collection_runs)
    objs = []
    for i in range(4):
        body = samples.sample(res, f"c{run}-{i}", namespace)
        body["metadata"]["labels"] = {**labels_of(i), "run": str(run)}
        created = await api.json("POST", harness.path_of(res, namespace), body)
        assert created.status == 201, str(created)
        objs.append(created.body)
    selector = f"run={run}" + ("," + ",".join(r.text() for r in reqs) if isinstance(reqs, list) else f",{reqs}")
    q = {**query, "labelSelector": selector}
    body = None if options is None else gen.dumps(options)
    path = harness.path_of(res, namespace)
    before = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in await items(api, path, run)}
    reply = await api.send("DELETE", path, body=body, content_type=harness.JSON if body else None, query=q,
                           count=(res.kind, "deletecollection"))
    after = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in await items(api, path, run)}
    dry = "dryRun" in q or (options or {}).get("dryRun") == ["All"]
    if reply.status != 200 or dry:
        assert after == before, f"DELETE {q} {options} -> {reply.status}: changed {before} -> {after}"
        return
    gone = set(before) - set(after)
    deleted = set(names(reply.body.get("items") or []))
    if isinstance(reqs, list) and "fieldSelector" not in q:
        expected = expected_names(objs, reqs)
        assert deleted == expected, f"DELETE {q}: deleted {sorted(deleted)}, selected {sorted(expected)}"
    assert gone <= deleted, f"DELETE {q}: removed {sorted(gone)} but answered {sorted(deleted)}"
    for name in set(before) - deleted:
        assert after.get(name) == before[name], f"DELETE {q}: {name} was not selected, yet it changed"


async def items(api: harness.Api, path: str, run: int) -> list[dict[str, Any]]:
    reply = await api.send("GET", path, query={"labelSelector": f"run={run}"})
    assert reply.status == 200, str(reply)
    return list(reply.body["items"])
