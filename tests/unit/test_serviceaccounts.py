"""ServiceAccounts without services: admission of pods, TokenRequest, and the two
controllers (default ServiceAccount, kube-root-ca.crt) over the in-memory fake API."""
from __future__ import annotations

import asyncio
import copy
import datetime
from typing import Any

import jwt
import pytest

from minik8s.api import errors
from minik8s.api import identities
from minik8s.api import kinds
from minik8s.api import resources
from minik8s.apiserver import serviceaccounts
from minik8s.apiserver.authn import serviceaccount as sa_tokens
from minik8s.apiserver.authn import user as user_mod
from minik8s.controllers import serviceaccounts as sa_controllers
from minik8s.util import pki
from tests.unit import controller_fakes

Obj = dict[str, Any]
SERVICE_ACCOUNTS = resources.must("", "v1", "serviceaccounts")
PODS = resources.must("", "v1", "pods")
NAMESPACES = resources.must("", "v1", "namespaces")
CONFIGMAPS = resources.must("", "v1", "configmaps")
MOUNT = serviceaccounts.MOUNT_PATH
NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


class Objects:
    """The `Get` seam: objects by (plural, namespace, name), and every lookup recorded."""

    def __init__(self, *objs: tuple[resources.Resource, Obj]) -> None:
        self.objs = {(r.plural, o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for r, o in objs}
        self.asked: list[tuple[str, str, str]] = []

    async def get(self, res: resources.Resource, namespace: str, name: str) -> Obj | None:
        self.asked.append((res.plural, namespace, name))
        found = self.objs.get((res.plural, namespace, name))
        return copy.deepcopy(found) if found is not None else None


def account(name: str = "default", namespace: str = "ns", **fields: Any) -> tuple[resources.Resource, Obj]:
    return SERVICE_ACCOUNTS, {"metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"}, **fields}


def new_pod(**spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"containers": [{"name": "c", "image": "i"}], **spec}}


class Sleeps:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def admit(objects: Objects, pod: Obj) -> tuple[bool, Sleeps]:
    sleeps = Sleeps()
    changed = asyncio.run(serviceaccounts.PodAdmission(objects.get, sleep=sleeps).admit(pod))
    return changed, sleeps


# -- admission ---------------------------------------------------------------------------------------


def test_admission_adds_the_token_volume_to_every_container() -> None:
    pod = new_pod(initContainers=[{"name": "i", "image": "i"}])
    changed, _ = admit(Objects(account()), pod)
    assert changed
    spec = pod["spec"]
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "default"
    [volume] = spec["volumes"]
    assert volume == serviceaccounts.token_volume(volume["name"])
    assert volume["name"].startswith("kube-api-access-") and len(volume["name"]) == len("kube-api-access-") + 5
    assert volume["projected"]["sources"][0] == {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}
    for c in spec["containers"] + spec["initContainers"]:
        assert c["volumeMounts"] == [{"name": volume["name"], "readOnly": True, "mountPath": MOUNT}]
    # What admission made passes the pod's own validation.
    pod["metadata"]["uid"] = "u"
    kinds.apply_defaults(PODS, pod)
    kinds.validate(PODS, pod)


@pytest.mark.parametrize("pod_says, account_says, mounted", [
    (None, None, True), (False, None, False), (None, False, False), (True, False, True), (False, True, False)])
def test_automount_pod_wins_then_service_account(pod_says: bool | None, account_says: bool | None,
                                                  mounted: bool) -> None:
    spec = {} if pod_says is None else {"automountServiceAccountToken": pod_says}
    sa = account() if account_says is None else account(automountServiceAccountToken=account_says)
    pod = new_pod(**spec)
    changed, _ = admit(Objects(sa), pod)
    assert changed == mounted
    assert bool(pod["spec"].get("volumes")) == mounted


def test_existing_mounts_and_token_volume_are_kept() -> None:
    pod = new_pod(volumes=[{"name": "kube-api-access-abcde", "emptyDir": {}}])
    pod["spec"]["containers"].append({"name": "d", "image": "i",
                                      "volumeMounts": [{"name": "kube-api-access-abcde", "mountPath": MOUNT}]})
    admit(Objects(account()), pod)
    assert pod["spec"]["volumes"] == [{"name": "kube-api-access-abcde", "emptyDir": {}}]  # reused, not added
    assert pod["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "kube-api-access-abcde", "readOnly": True, "mountPath": MOUNT}]
    assert pod["spec"]["containers"][1]["volumeMounts"] == [{"name": "kube-api-access-abcde", "mountPath": MOUNT}]


def test_generated_volume_name_avoids_taken_names() -> None:
    spec: Obj = {"containers": [{"name": "c"}], "volumes": [{"name": "x"}]}
    names = iter(["aaaaa", "bbbbb"])
    assert serviceaccounts.mount_token(spec, lambda: next(names))
    assert spec["volumes"][-1]["name"] == "kube-api-access-aaaaa"


def test_image_pull_secrets_come_from_the_service_account() -> None:
    pod = new_pod(serviceAccountName="builder")
    admit(Objects(account("builder", imagePullSecrets=[{"name": "regcred"}])), pod)
    assert pod["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    own = new_pod(serviceAccountName="builder", imagePullSecrets=[{"name": "mine"}])
    admit(Objects(account("builder", imagePullSecrets=[{"name": "regcred"}])), own)
    assert own["spec"]["imagePullSecrets"] == [{"name": "mine"}]


def test_missing_service_account_is_forbidden() -> None:
    objects = Objects()
    with pytest.raises(errors.StatusError) as e:
        admit(objects, new_pod(serviceAccountName="ghost"))
    assert e.value.code == 403
    assert e.value.message == ('pods "p" is forbidden: error looking up service account ns/ghost: '
                               'serviceaccount "ghost" not found')
    assert objects.asked == [("serviceaccounts", "ns", "ghost")]  # a named one is looked up once


def test_default_service_account_is_waited_for() -> None:
    objects = Objects()
    sleeps = Sleeps()
    adm = serviceaccounts.PodAdmission(objects.get, sleep=sleeps)
    with pytest.raises(errors.StatusError):
        asyncio.run(adm.admit(new_pod()))
    assert len(objects.asked) == 10 and len(sleeps.slept) == 9
    assert all(0.1 <= s <= 0.2 for s in sleeps.slept)

    # Made by the controller meanwhile: found at a later attempt.
    class Late(Objects):
        async def get(self, res: resources.Resource, namespace: str, name: str) -> Obj | None:
            if len(self.asked) == 3:
                self.objs[("serviceaccounts", "ns", "default")] = account()[1]
            return await super().get(res, namespace, name)
    late = Late()
    assert asyncio.run(serviceaccounts.PodAdmission(late.get, sleep=Sleeps()).admit(new_pod()))
    assert len(late.asked) == 4


def test_mirror_pods_are_left_alone() -> None:
    pod = new_pod()
    pod["metadata"]["annotations"] = {serviceaccounts.MIRROR_POD_ANNOTATION: "x"}
    objects = Objects()
    changed, _ = admit(objects, pod)
    assert not changed and "volumes" not in pod["spec"] and objects.asked == []


# -- TokenRequest ------------------------------------------------------------------------------------


KEY = pki.new_rsa_key()
ISSUER = "https://kubernetes.default.svc.cluster.local"


def issuer(objects: Objects) -> serviceaccounts.TokenRequests:
    return serviceaccounts.TokenRequests(KEY, objects.get, issuer=ISSUER, audiences=[ISSUER], clock=lambda: NOW)


def request(spec: Obj, ns: str = "ns", name: str = "default", user: user_mod.UserInfo | None = None,
            objects: Objects | None = None) -> Obj:
    return asyncio.run(issuer(objects or Objects(account())).create(ns, name, {"spec": spec}, user))


def claims(token: str, audience: str = ISSUER) -> Obj:
    out: Obj = jwt.decode(token, KEY.public_key(), algorithms=["RS256"], audience=audience,
                          options={"verify_exp": False})
    return out


def test_token_request_issues_a_token_the_authenticator_accepts() -> None:
    answer = request({"audiences": []})
    assert answer["kind"] == "TokenRequest" and answer["apiVersion"] == "authentication.k8s.io/v1"
    assert answer["spec"] == {"audiences": [ISSUER], "expirationSeconds": 3600}
    assert answer["status"]["expirationTimestamp"] == "2026-01-02T04:04:05Z"
    c = claims(answer["status"]["token"])
    assert c["sub"] == "system:serviceaccount:ns:default" and c["iss"] == ISSUER
    assert c["exp"] - c["iat"] == 3600 and c["iat"] == int(NOW.timestamp())
    assert c["kubernetes.io"] == {"namespace": "ns", "serviceaccount": {"name": "default", "uid": "uid-default"}}

    objects = Objects(account())
    auth = sa_tokens.ServiceAccountAuthenticator(
        [KEY.public_key()], issuer=ISSUER,
        get_service_account=lambda ns, name: objects.get(SERVICE_ACCOUNTS, ns, name))
    live = serviceaccounts.TokenRequests(KEY, objects.get, issuer=ISSUER, audiences=[ISSUER])  # now, to verify
    token = asyncio.run(live.create("ns", "default", {"spec": {"expirationSeconds": 600}}, None))["status"]["token"]
    who = asyncio.run(auth.authenticate(token))
    assert who is not None and who.name == "system:serviceaccount:ns:default"
    # Its ServiceAccount re-made (another uid) or gone: refused.
    objects.objs[("serviceaccounts", "ns", "default")]["metadata"]["uid"] = "other"
    with pytest.raises(errors.StatusError) as e:
        asyncio.run(auth.authenticate(token))
    assert e.value.code == 401


def test_token_request_audiences_and_pod_binding() -> None:
    pod = {"metadata": {"name": "p", "namespace": "ns", "uid": "pod-uid"}, "spec": {"serviceAccountName": "default"}}
    objects = Objects(account(), (PODS, pod))
    answer = request({"audiences": ["vault"], "expirationSeconds": 7200,
                      "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p"}}, objects=objects)
    assert answer["spec"]["boundObjectRef"] == {"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": "pod-uid"}
    c = claims(answer["status"]["token"], "vault")
    assert c["aud"] == ["vault"] and c["exp"] - c["iat"] == 7200
    assert c["kubernetes.io"]["pod"] == {"name": "p", "uid": "pod-uid"}


@pytest.mark.parametrize("spec, code, words", [
    ({"expirationSeconds": 599}, 422, "less than 10 minutes"),
    ({"expirationSeconds": (1 << 32) + 1}, 422, "larger than 2^32"),
    ({"expirationSeconds": "600"}, 422, "integer"),
    ({"boundObjectRef": {"kind": "Secret", "apiVersion": "v1", "name": "s"}}, 400, "cannot bind token to object"),
    ({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "gone"}}, 404, "not found"),
    ({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": "stale"}}, 409, "does not match"),
    ({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "other"}}, 400, "different serviceaccount"),
])
def test_token_request_refusals(spec: Obj, code: int, words: str) -> None:
    objects = Objects(account(), (PODS, {"metadata": {"name": "p", "namespace": "ns", "uid": "u"},
                                         "spec": {"serviceAccountName": "default"}}),
                      (PODS, {"metadata": {"name": "other", "namespace": "ns", "uid": "u2"},
                              "spec": {"serviceAccountName": "builder"}}))
    with pytest.raises(errors.StatusError) as e:
        request(spec, objects=objects)
    assert e.value.code == code and words in e.value.message, e.value.message


def test_token_request_needs_the_service_account() -> None:
    with pytest.raises(errors.StatusError) as e:
        request({}, name="ghost")
    assert e.value.code == 404


def test_node_gets_tokens_only_bound_to_its_own_pods() -> None:
    objects = Objects(account(), *[(PODS, {"metadata": {"name": n, "namespace": "ns", "uid": f"u-{n}"},
                                          "spec": {"serviceAccountName": "default", "nodeName": n}})
                                   for n in ("n1", "n2")])
    node = user_mod.authenticated(identities.node_user("n1"), groups=(identities.NODES,))

    def ask(spec: Obj) -> Obj:
        return request(spec, user=node, objects=objects)
    assert ask({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "n1", "uid": "u-n1"}})["status"]["token"]
    for spec, why in (({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "n2", "uid": "u-n2"}},
                       "scheduled on a different node"),
                      ({}, "not bound to a pod"),
                      ({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "n1"}}, "without a uid")):
        with pytest.raises(errors.StatusError) as e:
            ask(spec)
        assert e.value.code == 403 and why in e.value.message
        assert e.value.message.startswith('serviceaccounts "default" is forbidden: node requested token')


# -- controllers -------------------------------------------------------------------------------------


class Factory:
    def __init__(self, api: controller_fakes.FakeApi) -> None:
        self.api = api

    def informer(self, res: resources.Resource, **_: Any) -> Any:
        return self.api.informer(res)


def namespace(name: str, **status: Any) -> Obj:
    return {"metadata": {"name": name}, "status": {"phase": "Active", **status}}


async def drain(ctrl: Any) -> None:
    await ctrl.drain()


def test_default_service_account_in_every_namespace() -> None:
    api = controller_fakes.FakeApi(lambda: 0.0)
    api.add(NAMESPACES, namespace("old"))  # existed before the controller
    ctrl = sa_controllers.ServiceAccountsController(api, Factory(api))  # type: ignore[arg-type]
    for ns in list(api.informer(NAMESPACES).store.values()):  # the informer's initial list
        ctrl._namespace(ns)
    api.add(NAMESPACES, namespace("new"))
    api.add(NAMESPACES, {"metadata": {"name": "dying", "deletionTimestamp": "2026-01-01T00:00:00Z"},
                         "status": {"phase": "Terminating"}})
    asyncio.run(drain(ctrl))
    assert sorted(n for v, p, n in api.calls if v == "create" and p == "serviceaccounts") == ["default", "default"]
    assert api.get_obj(SERVICE_ACCOUNTS, "default", "old") and api.get_obj(SERVICE_ACCOUNTS, "default", "new")
    assert api.get_obj(SERVICE_ACCOUNTS, "default", "dying") is None
    # Idempotent: another pass creates nothing; a deleted one is made again.
    api.calls.clear()
    ctrl.enqueue("old")
    asyncio.run(drain(ctrl))
    assert api.calls == []
    asyncio.run(api.delete(SERVICE_ACCOUNTS, "default", "old"))
    asyncio.run(drain(ctrl))
    assert api.calls[-1] == ("create", "serviceaccounts", "default")


def test_root_ca_published_and_repaired() -> None:
    api = controller_fakes.FakeApi(lambda: 0.0)
    ctrl = sa_controllers.RootCACertPublisher(api, Factory(api), "CA PEM")  # type: ignore[arg-type]
    api.add(NAMESPACES, namespace("a"))
    asyncio.run(drain(ctrl))
    cm = api.get_obj(CONFIGMAPS, "kube-root-ca.crt", "a")
    assert cm is not None and cm["data"] == {"ca.crt": "CA PEM"}
    assert cm["metadata"]["annotations"]["kubernetes.io/description"].startswith("Contains a CA bundle")
    api.calls.clear()
    ctrl.enqueue("a")
    asyncio.run(drain(ctrl))
    assert api.calls == []
    asyncio.run(api.update(CONFIGMAPS, {**copy.deepcopy(cm), "data": {"ca.crt": "forged", "x": "y"}}))
    asyncio.run(drain(ctrl))
    assert api.get_obj(CONFIGMAPS, "kube-root-ca.crt", "a")["data"] == {"ca.crt": "CA PEM"}  # type: ignore[index]
    asyncio.run(api.delete(CONFIGMAPS, "kube-root-ca.crt", "a"))
    asyncio.run(drain(ctrl))
    assert api.get_obj(CONFIGMAPS, "kube-root-ca.crt", "a") is not None
    # Other ConfigMaps are none of its business.
    api.calls.clear()
    api.add(CONFIGMAPS, {"metadata": {"name": "other", "namespace": "a"}, "data": {}})
    asyncio.run(api.update(CONFIGMAPS, {**api.get_obj(CONFIGMAPS, "other", "a"), "data": {"k": "v"}}))  # type: ignore[dict-item]
    asyncio.run(drain(ctrl))
    assert [c for c in api.calls if c[2] == "kube-root-ca.crt"] == []
