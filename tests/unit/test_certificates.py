"""CertificateSigningRequests: the API's strategy and validation, the approver, the signer, and
the bootstrap-token controllers, with recording fakes for the API client."""
from __future__ import annotations

import base64
import copy
import datetime
from typing import Any

import pytest

from minik8s.api import bootstraptoken
from minik8s.api import errors
from minik8s.api import identities
from minik8s.api import kinds
from minik8s.api import resources
from minik8s.api.kinds import certificates as csr_kind
from minik8s.client import informer as informer_mod
from minik8s.cluster import bootstrap
from minik8s.controllers import bootstrap as bootstrap_controllers
from minik8s.controllers import certificates
from minik8s.util import pki

CSRS = resources.must("certificates.k8s.io", "v1", "certificatesigningrequests")


class strategy:  # the CSR strategy as the registry drives it, verb by verb
    S = csr_kind.CertificateSigningRequestStrategy()

    @classmethod
    def prepare_for_create(cls, obj: dict[str, Any], who: dict[str, Any] | None) -> None:
        cls.S.prepare_for_create(CSRS, obj)
        cls.S.record_requester(CSRS, obj, who)

    @classmethod
    def prepare_for_update(cls, old: dict[str, Any], new: dict[str, Any], sub: str | None) -> dict[str, Any]:
        if sub is not None:
            return cls.S.subresources[sub].prepare_for_update(CSRS, new, old)
        new = copy.deepcopy(new)
        cls.S.prepare_for_update(CSRS, new, old)
        return new

    @classmethod
    def validate(cls, obj: dict[str, Any], old: dict[str, Any] | None, sub: str | None = None) -> None:
        if sub is None:
            kinds.validate(CSRS, obj, old)
        else:
            assert old is not None
            cls.S.subresources[sub].validate_update(CSRS, obj, old).raise_invalid(csr_kind.KIND, "x", csr_kind.GROUP)


def csr(cn: str, orgs: tuple[str, ...] = (), *, signer: str = certificates.KUBELET_CLIENT_SIGNER,
        usages: tuple[str, ...] = ("digital signature", "client auth"), requester: str = "system:bootstrap:abcdef",
        groups: tuple[str, ...] = (identities.BOOTSTRAPPERS, identities.AUTHENTICATED),
        conditions: list[dict[str, Any]] | None = None, dns: tuple[str, ...] = (),
        ips: tuple[str, ...] = ()) -> dict[str, Any]:
    request = pki.make_csr(pki.new_key(), cn, orgs, dns_names=dns, ip_addresses=ips)
    obj: dict[str, Any] = {
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"name": "node-csr-x", "resourceVersion": "1"},
        "spec": {"request": base64.b64encode(request).decode(), "signerName": signer, "usages": list(usages),
                 "username": requester, "groups": list(groups)},
        "status": {}}
    if conditions:
        obj["status"]["conditions"] = conditions
    return obj


APPROVED = {"type": "Approved", "status": "True", "reason": "R"}
SERVING = ("digital signature", "server auth")


def serving(node: str, *, usages: tuple[str, ...] = SERVING, requester: str = "system:node:n1",
            groups: tuple[str, ...] = (identities.NODES,), ips: tuple[str, ...] = ("10.0.0.1",),
            conditions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return csr(f"system:node:{node}", (identities.NODES,), signer=certificates.KUBELET_SERVING_SIGNER, usages=usages,
               requester=requester, groups=groups, dns=(node,), ips=ips, conditions=conditions)


# --- the API: strategy and validation -------------------------------------------------------------


def test_create_records_the_requester_not_the_body() -> None:
    obj = csr("system:node:n1", (identities.NODES,), requester="system:masters-wannabe", groups=(identities.MASTERS,))
    obj["status"] = {"certificate": "Zm9v"}
    who = {"username": "system:bootstrap:abcdef", "groups": [identities.BOOTSTRAPPERS, identities.AUTHENTICATED]}
    strategy.prepare_for_create(obj, who)
    assert obj["spec"]["username"] == "system:bootstrap:abcdef"
    assert obj["spec"]["groups"] == [identities.BOOTSTRAPPERS, identities.AUTHENTICATED]
    assert obj["status"] == {}
    strategy.validate(obj, None)


@pytest.mark.parametrize("change,field", [
    (lambda o: o["spec"].update(request="bm90IGEgY3Ny"), "spec.request"),
    (lambda o: o["spec"].update(request="%%%"), "spec.request"),
    (lambda o: o["spec"].pop("signerName"), "spec.signerName"),
    (lambda o: o["spec"].update(signerName="no-domain"), "spec.signerName"),
    (lambda o: o["spec"].update(usages=[]), "spec.usages"),
    (lambda o: o["spec"].update(usages=["client auth", "flying"]), "spec.usages[1]"),
    (lambda o: o["spec"].update(expirationSeconds=60), "spec.expirationSeconds"),
])
def test_invalid_requests_are_422(change: Any, field: str) -> None:
    obj = csr("system:node:n1", (identities.NODES,))
    change(obj)
    with pytest.raises(errors.Invalid) as e:
        strategy.validate(obj, None)
    assert field in [c["field"] for c in e.value.causes]


def test_approval_changes_only_conditions_and_cannot_be_withdrawn() -> None:
    old = csr("system:node:n1", (identities.NODES,))
    new = csr("system:node:evil", (identities.NODES,), conditions=[dict(APPROVED)])
    new["status"]["certificate"] = "Zm9v"
    approved = strategy.prepare_for_update(old, new, "approval")
    strategy.validate(approved, old, "approval")
    assert approved["spec"] == old["spec"] and "certificate" not in approved["status"]
    assert approved["status"]["conditions"][0]["type"] == "Approved"
    assert approved["status"]["conditions"][0]["lastUpdateTime"]
    withdrawn = strategy.prepare_for_update(approved, {"status": {"conditions": []}}, "approval")
    with pytest.raises(errors.Invalid, match="may not remove a condition of type Approved"):
        strategy.validate(withdrawn, approved, "approval")
    both = strategy.prepare_for_update(approved, {"status": {"conditions": [APPROVED, {"type": "Denied"}]}},
                                       "approval")
    with pytest.raises(errors.Invalid, match="mutually exclusive"):
        strategy.validate(both, approved, "approval")


def test_status_cannot_approve_and_a_certificate_needs_approval_and_never_changes() -> None:
    old = csr("system:node:n1", (identities.NODES,))
    cert = base64.b64encode(pki.cert_pem(pki.make_ca()[1])).decode()
    sneaky = strategy.prepare_for_update(old, {"status": {"conditions": [APPROVED], "certificate": cert}},
                                         "status")
    assert not any(c["type"] == "Approved" for c in sneaky["status"].get("conditions") or [])
    with pytest.raises(errors.Invalid, match="only be set on an approved request"):
        strategy.validate(sneaky, old, "status")
    approved = strategy.prepare_for_update(old, {"status": {"conditions": [APPROVED]}}, "approval")
    issued = strategy.prepare_for_update(approved, {"status": {"certificate": cert, "conditions": [APPROVED]}},
                                         "status")
    strategy.validate(issued, approved, "status")
    other = base64.b64encode(pki.cert_pem(pki.make_ca()[1])).decode()
    changed = strategy.prepare_for_update(issued, {"status": {"certificate": other}}, "status")
    with pytest.raises(errors.Invalid, match="may not modify existing certificate"):
        strategy.validate(changed, issued, "status")


def test_main_resource_update_keeps_spec_and_status() -> None:
    old = csr("system:node:n1", (identities.NODES,))
    new = csr("x", conditions=[APPROVED])
    new["metadata"]["labels"] = {"a": "b"}
    kept = strategy.prepare_for_update(old, new, None)
    assert kept["spec"] == old["spec"] and kept["status"] == old["status"]
    assert kept["metadata"]["labels"] == {"a": "b"}


# --- the approver ---------------------------------------------------------------------------------


@pytest.mark.parametrize("obj,approve", [
    (csr("system:node:n1", (identities.NODES,)), True),
    # renewal by the node itself, and only for itself
    (csr("system:node:n1", (identities.NODES,), requester="system:node:n1", groups=(identities.NODES,)), True),
    (csr("system:node:n2", (identities.NODES,), requester="system:node:n1", groups=(identities.NODES,)), False),
    # a kubelet certificate must be a kubelet's
    (csr("system:node:n1", (identities.NODES, identities.MASTERS)), False),
    (csr("admin", (identities.NODES,)), False),
    (csr("system:node:n1", (identities.NODES,), usages=("digital signature", "client auth", "server auth")), False),
    # node agents through the generic client signer
    (csr(identities.PROXY, signer=certificates.CLIENT_SIGNER), True),
    (csr(identities.NETWORK_AGENT, signer=certificates.CLIENT_SIGNER, requester="system:node:n1",
         groups=(identities.NODES,)), True),
    (csr(identities.ADMIN, (identities.MASTERS,), signer=certificates.CLIENT_SIGNER), False),
    (csr(identities.PROXY, (identities.MASTERS,), signer=certificates.CLIENT_SIGNER), False),
    (csr(identities.PROXY, signer=certificates.CLIENT_SIGNER, requester="jane", groups=("dev",)), False),
    (csr("system:node:n1", (identities.NODES,), signer="example.com/other"), False),
    # a kubelet's serving certificate: asked for by that node itself, for names only
    (serving("n1"), True),
    (serving("n2"), False),
    (serving("n1", requester="system:bootstrap:abcdef", groups=(identities.BOOTSTRAPPERS,)), False),
    (serving("n1", usages=("digital signature", "server auth", "client auth")), False),
    (csr("system:node:n1", (identities.NODES,), signer=certificates.KUBELET_SERVING_SIGNER, usages=SERVING,
         requester="system:node:n1", groups=(identities.NODES,)), False),  # no names
    (csr("system:node:n1", (identities.NODES, identities.MASTERS), signer=certificates.KUBELET_SERVING_SIGNER,
         usages=SERVING, requester="system:node:n1", groups=(identities.NODES,), ips=("10.0.0.1",)), False),
])
def test_what_is_auto_approved(obj: dict[str, Any], approve: bool) -> None:
    assert certificates.judge(obj).approve is approve, certificates.judge(obj).message


class RecordingClient:
    def __init__(self) -> None:
        self.updates: list[tuple[dict[str, Any], str | None]] = []
        self.deletes: list[tuple[str, str | None]] = []

    async def update(self, res: Any, obj: dict[str, Any], *, subresource: str | None = None,
                     **_: Any) -> dict[str, Any]:
        self.updates.append((obj, subresource))
        return obj

    async def delete(self, res: Any, name: str, namespace: str | None = None, **_: Any) -> dict[str, Any]:
        self.deletes.append((name, namespace))
        return {}


async def test_approver_approves_through_the_approval_subresource() -> None:
    client = RecordingClient()
    c = certificates.CSRApprovingController(client, informer_mod.InformerFactory(None))  # type: ignore[arg-type]
    c.csrs.store["node-csr-x"] = csr("system:node:n1", (identities.NODES,))
    await c.sync("node-csr-x")
    (obj, sub), = client.updates
    assert sub == "approval" and obj["status"]["conditions"][0]["type"] == "Approved"
    c.csrs.store["node-csr-x"] = obj
    await c.sync("node-csr-x")
    assert len(client.updates) == 1  # already approved: nothing more


async def test_signer_issues_for_the_requested_key_and_refuses_masters() -> None:
    ca_key, ca = pki.make_ca()
    client = RecordingClient()
    c = certificates.CSRSigningController(client, informer_mod.InformerFactory(None),  # type: ignore[arg-type]
                                          ca_cert=ca, ca_key=ca_key, duration=datetime.timedelta(days=30))
    good = csr("system:node:n1", (identities.NODES,), conditions=[APPROVED])
    c.csrs.store["good"] = good
    await c.sync("good")
    (obj, sub), = client.updates
    assert sub == "status"
    cert = pki.load_cert(base64.b64decode(obj["status"]["certificate"]))
    assert pki.signed_by(cert, ca) and pki.subject(cert.subject) == ("system:node:n1", (identities.NODES,))
    request = pki.load_csr(base64.b64decode(good["spec"]["request"]))
    assert cert.public_key().public_numbers() == request.public_key().public_numbers()  # type: ignore[union-attr]
    assert 29 <= pki.remaining(cert).days <= 30
    masters = csr("root", (identities.MASTERS,), signer=certificates.CLIENT_SIGNER, conditions=[APPROVED])
    c.csrs.store["masters"] = masters
    await c.sync("masters")
    obj, _ = client.updates[-1]
    assert "certificate" not in obj["status"]
    assert obj["status"]["conditions"][-1]["type"] == "Failed"
    unapproved = csr("system:node:n1", (identities.NODES,))
    c.csrs.store["pending"] = unapproved
    await c.sync("pending")
    assert len(client.updates) == 2
    # A kubelet serving certificate carries the request's names, for servers only.
    c.csrs.store["serving"] = serving("n1", conditions=[APPROVED])
    await c.sync("serving")
    obj, _ = client.updates[-1]
    cert = pki.load_cert(base64.b64decode(obj["status"]["certificate"]))
    assert pki.sans(cert) == ({"n1"}, {"10.0.0.1"}) and pki.extended_key_usages(cert) == {"server"}
    assert pki.subject(cert.subject) == ("system:node:n1", (identities.NODES,))


# --- bootstrap token controllers ------------------------------------------------------------------------


def _token_secret(token: str, ttl: int) -> dict[str, Any]:
    s = bootstrap.token_secret(token, ttl, "t", pki.utcnow())
    s["metadata"]["uid"] = "uid-" + token[:6]
    return s


async def test_bootstrap_signer_signs_for_valid_tokens_only() -> None:
    client = RecordingClient()
    c = bootstrap_controllers.BootstrapSigner(client, informer_mod.InformerFactory(None))  # type: ignore[arg-type]
    content = bootstrap.public_kubeconfig("https://10.0.0.1:6443", b"ca")
    c.configmaps.store["kube-public/cluster-info"] = {
        "metadata": {"name": "cluster-info", "namespace": "kube-public"},
        "data": {"kubeconfig": content, "jws-kubeconfig-zzzzzz": "stale..sig"}}
    c.secrets.store["kube-system/bootstrap-token-abcdef"] = _token_secret("abcdef.0123456789abcdef", 3600)
    c.secrets.store["kube-system/bootstrap-token-expird"] = _token_secret("expird.0123456789abcdef", 0)
    c.secrets.store["kube-system/bootstrap-token-expird"]["data"]["expiration"] = base64.b64encode(
        b"2020-01-01T00:00:00Z").decode()
    await c.sync(c.KEY)
    (obj, _), = client.updates
    data = obj["data"]
    assert set(data) == {"kubeconfig", "jws-kubeconfig-abcdef"}
    assert bootstraptoken.verify_detached_signature(content, data["jws-kubeconfig-abcdef"], "abcdef",
                                                    "0123456789abcdef")
    c.configmaps.store["kube-public/cluster-info"] = obj
    await c.sync(c.KEY)
    assert len(client.updates) == 1  # up to date: no write


async def test_token_cleaner_deletes_expired_tokens_only() -> None:
    client = RecordingClient()
    c = bootstrap_controllers.TokenCleaner(client, informer_mod.InformerFactory(None))  # type: ignore[arg-type]
    live = _token_secret("abcdef.0123456789abcdef", 3600)
    dead = _token_secret("expird.0123456789abcdef", 3600)
    dead["data"]["expiration"] = base64.b64encode(b"2020-01-01T00:00:00Z").decode()
    forever = _token_secret("foreve.0123456789abcdef", 0)
    for s in (live, dead, forever):
        c.secrets.store[f"kube-system/{s['metadata']['name']}"] = s
    for s in (live, dead, forever):
        await c.sync(f"kube-system/{s['metadata']['name']}")
    assert client.deletes == [("bootstrap-token-expird", "kube-system")]
