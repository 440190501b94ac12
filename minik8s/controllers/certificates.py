"""CertificateSigningRequests: the approver and the signer of the controller manager.

How a node gets its client certificates (minik8s.cluster.join): it sends a CSR
with its bootstrap token; `csrapproving` approves what a node may have, and
`csrsigning` signs approved requests with the cluster CA, whose key never leaves
the master.

What is approved, as Kubernetes' sarapprove for kubelets (without its
SubjectAccessReview, which comes with RBAC):
- signer kubernetes.io/kube-apiserver-client-kubelet, subject CN=system:node:<name>,
  O=system:nodes, client usages only, no names: for a requester in
  system:bootstrappers (a joining node), or for the node itself (its renewal);
- minik8s's node agents, which Kubernetes runs as pods with ServiceAccounts:
  signer kubernetes.io/kube-apiserver-client, subject exactly CN=system:kube-proxy
  or CN=system:network-agent with no O, for the same requesters. (k3s hands
  the same certificates to every agent that has the join token.)
- signer kubernetes.io/kubelet-serving, subject CN=system:node:<name>, O=system:nodes,
  server usages, DNS and IP names only: for that node itself (what `minik8s join`
  asks for once the node has its client certificate). Kubernetes leaves these to a
  person or an external approver because it cannot prove the node owns the addresses;
  neither can this approver, but the Node authorizer already lets a node write its own
  status.addresses, which is where the API server dials it, so approving gives the node
  nothing it could not claim anyway. The API server checks the kubelet's certificate
  against the cluster CA and the address it dials.
Anything else waits for a person (`kubectl certificate approve`).

The signer signs the three signers above (a serving certificate with the request's
names, client certificates with none). It never signs a certificate in
system:masters, approved or not.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime
import logging
from typing import Any

from cryptography import x509

from minik8s.api import errors
from minik8s.api import identities
from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base
from minik8s.util import pki

log = logging.getLogger(__name__)

CSRS = resources.must("certificates.k8s.io", "v1", "certificatesigningrequests")

KUBELET_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"
KUBELET_SERVING_SIGNER = "kubernetes.io/kubelet-serving"
SIGNERS = (KUBELET_CLIENT_SIGNER, CLIENT_SIGNER, KUBELET_SERVING_SIGNER)
NODE_AGENTS = (identities.PROXY, identities.NETWORK_AGENT)
CLIENT_USAGES = frozenset({"digital signature", "key encipherment", "client auth"})
SERVING_USAGES = frozenset({"digital signature", "key encipherment", "server auth"})


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(csr: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for c in (csr.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind and c.get("status", "True") == "True":
            return dict(c)
    return None


def parse_request(csr: dict[str, Any]) -> x509.CertificateSigningRequest:
    try:
        return pki.load_csr(base64.b64decode((csr.get("spec") or {}).get("request") or ""))
    except (ValueError, pki.PKIError) as e:
        raise pki.PKIError(f"unreadable request: {e}") from None


def _no_names(req: x509.CertificateSigningRequest) -> bool:
    try:
        req.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return True
    return False


def _node_subject_problem(req: x509.CertificateSigningRequest) -> str | None:
    cn, orgs = pki.subject(req.subject)
    if orgs != (identities.NODES,):
        return f"the subject's organization must be exactly {identities.NODES}, not {list(orgs)}"
    if identities.node_name_of(cn) is None:
        return f"the subject's common name must begin with {identities.NODE_PREFIX}"
    return None


def kubelet_client_problem(csr: dict[str, Any], req: x509.CertificateSigningRequest) -> str | None:
    """Why this is not a kubelet client request (Kubernetes' ValidateKubeletClientCSR), or None."""
    problem = _node_subject_problem(req)
    if problem:
        return problem
    if not _no_names(req):
        return "a kubelet client certificate carries no subject alternative names"
    usages = set((csr.get("spec") or {}).get("usages") or [])
    if "client auth" not in usages or not usages <= CLIENT_USAGES:
        return f"usages must be client auth (with digital signature, key encipherment), not {sorted(usages)}"
    return None


def kubelet_serving_problem(csr: dict[str, Any], req: x509.CertificateSigningRequest) -> str | None:
    """Why this is not a kubelet serving request (Kubernetes' kubelet-serving signer rules), or None."""
    problem = _node_subject_problem(req)
    if problem:
        return problem
    dns, ips, others = pki.request_sans(req)
    if others:
        return "a kubelet serving certificate carries only DNS names and IP addresses"
    if not dns and not ips:
        return "a kubelet serving certificate names at least one DNS name or IP address"
    usages = set((csr.get("spec") or {}).get("usages") or [])
    if "server auth" not in usages or not usages <= SERVING_USAGES:
        return f"usages must be server auth (with digital signature, key encipherment), not {sorted(usages)}"
    return None


def node_agent_problem(csr: dict[str, Any], req: x509.CertificateSigningRequest) -> str | None:
    cn, orgs = pki.subject(req.subject)
    if cn not in NODE_AGENTS or orgs:
        return f"CN={cn} O={list(orgs)} is not one of the node agents {list(NODE_AGENTS)}"
    if not _no_names(req):
        return "a node agent's client certificate carries no subject alternative names"
    usages = set((csr.get("spec") or {}).get("usages") or [])
    if "client auth" not in usages or not usages <= CLIENT_USAGES:
        return f"usages must be client auth, not {sorted(usages)}"
    return None


@dataclasses.dataclass(frozen=True)
class Verdict:
    approve: bool
    message: str


def judge(csr: dict[str, Any]) -> Verdict:
    """Whether csrapproving approves `csr` (it never denies: a person may still approve)."""
    spec = csr.get("spec") or {}
    requester = str(spec.get("username") or "")
    groups = set(spec.get("groups") or [])
    try:
        req = parse_request(csr)
    except pki.PKIError as e:
        return Verdict(False, str(e))
    cn, _ = pki.subject(req.subject)
    bootstrapping = identities.BOOTSTRAPPERS in groups
    node = identities.NODES in groups and identities.node_name_of(requester) is not None
    signer = spec.get("signerName")
    if signer == KUBELET_CLIENT_SIGNER:
        problem = kubelet_client_problem(csr, req)
        if problem:
            return Verdict(False, problem)
        if bootstrapping:
            return Verdict(True, "Auto approving kubelet client certificate after bootstrap token authentication.")
        if node and requester == cn:
            return Verdict(True, "Auto approving self kubelet client certificate renewal.")
        return Verdict(False, f"{requester} may not ask for {cn}'s certificate")
    if signer == KUBELET_SERVING_SIGNER:
        problem = kubelet_serving_problem(csr, req)
        if problem:
            return Verdict(False, problem)
        if node and requester == cn:
            return Verdict(True, "Auto approving the kubelet serving certificate of the node itself.")
        return Verdict(False, f"only {cn} may ask for its serving certificate, not {requester}")
    if signer == CLIENT_SIGNER:
        problem = node_agent_problem(csr, req)
        if problem:
            return Verdict(False, problem)
        if bootstrapping or node:
            return Verdict(True, f"Auto approving the node agent certificate {cn} for {requester}.")
        return Verdict(False, f"{requester} is neither a joining node nor a node")
    return Verdict(False, f"signer {signer} is not auto-approved")


class CSRApprovingController(base.Controller):
    name = "csrapproving"

    def __init__(self, client: rest.Client, factory: informer_mod.InformerFactory) -> None:
        super().__init__()
        self.client = client
        self.csrs = factory.informer(CSRS)
        self.csrs.add_handlers(on_add=self._changed, on_update=lambda _o, n: self._changed(n))

    def _changed(self, csr: dict[str, Any]) -> None:
        if condition(csr, "Approved") is None and condition(csr, "Denied") is None:
            self.enqueue(csr["metadata"]["name"])

    async def sync(self, key: str) -> None:
        csr = self.csrs.get(key)
        if csr is None or condition(csr, "Approved") or condition(csr, "Denied"):
            return
        verdict = judge(csr)
        if not verdict.approve:
            log.info("csr %s (%s for %s): left for a person: %s", key, (csr.get("spec") or {}).get("signerName"),
                     (csr.get("spec") or {}).get("username"), verdict.message)
            return
        status = dict(csr.get("status") or {})
        now = now_rfc3339()
        status["conditions"] = [*(status.get("conditions") or []), {
            "type": "Approved", "status": "True", "reason": "AutoApproved", "message": verdict.message,
            "lastUpdateTime": now, "lastTransitionTime": now}]
        await self.client.update(CSRS, _with_status(csr, status), subresource="approval")
        log.info("csr %s approved: %s", key, verdict.message)


def _with_status(csr: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    out = dict(csr)
    out["status"] = status
    return out


class CSRSigningController(base.Controller):
    name = "csrsigning"

    def __init__(self, client: rest.Client, factory: informer_mod.InformerFactory, *, ca_cert: x509.Certificate,
                 ca_key: pki.PrivateKey, duration: datetime.timedelta = datetime.timedelta(days=365)) -> None:
        super().__init__()
        self.client = client
        self.ca_cert = ca_cert
        self.ca_key = ca_key
        self.duration = duration
        self.csrs = factory.informer(CSRS)
        self.csrs.add_handlers(on_add=self._changed, on_update=lambda _o, n: self._changed(n))

    @classmethod
    def from_files(cls, client: rest.Client, factory: informer_mod.InformerFactory, cert_file: str, key_file: str,
                   duration: datetime.timedelta) -> "CSRSigningController":
        with open(cert_file, "rb") as f:
            cert = pki.load_cert(f.read())
        with open(key_file, "rb") as f:
            key = pki.load_key(f.read())
        if not pki.same_public_key(cert, key):
            raise pki.PKIError(f"{key_file} is not the key of {cert_file}")
        return cls(client, factory, ca_cert=cert, ca_key=key, duration=duration)

    def _changed(self, csr: dict[str, Any]) -> None:
        if self._wanted(csr):
            self.enqueue(csr["metadata"]["name"])

    @staticmethod
    def _wanted(csr: dict[str, Any]) -> bool:
        return ((csr.get("spec") or {}).get("signerName") in SIGNERS and condition(csr, "Approved") is not None
                and condition(csr, "Failed") is None and not (csr.get("status") or {}).get("certificate"))

    def sign(self, csr: dict[str, Any]) -> bytes:
        """The PEM certificate for an approved request, or pki.PKIError saying why not."""
        spec = csr.get("spec") or {}
        req = parse_request(csr)
        signer = spec.get("signerName")
        problem = (kubelet_client_problem(csr, req) if signer == KUBELET_CLIENT_SIGNER
                   else kubelet_serving_problem(csr, req) if signer == KUBELET_SERVING_SIGNER else None)
        if problem:
            raise pki.PKIError(problem)
        cn, orgs = pki.subject(req.subject)
        if identities.MASTERS in orgs:
            raise pki.PKIError(f"this signer never issues certificates in {identities.MASTERS}")
        if not cn:
            raise pki.PKIError("the request names no subject (empty CN)")
        usages = set(spec.get("usages") or [])
        duration = self.duration
        if spec.get("expirationSeconds"):
            duration = min(duration, datetime.timedelta(seconds=int(spec["expirationSeconds"])))
        days = duration.total_seconds() / 86400
        if signer == KUBELET_SERVING_SIGNER:
            dns, ips, _ = pki.request_sans(req)
            cert_spec = pki.CertSpec(cn, orgs, dns_names=tuple(dns), ip_addresses=tuple(ips), client=False,
                                     server=True, days=days)
        else:
            if "client auth" not in usages:
                raise pki.PKIError("this signer issues client certificates: usages must include client auth")
            cert_spec = pki.CertSpec(cn, orgs, client=True, server="server auth" in usages, days=days)
        return pki.cert_pem(pki.issue(self.ca_key, self.ca_cert, pki.csr_public_key(req), cert_spec))

    async def sync(self, key: str) -> None:
        csr = self.csrs.get(key)
        if csr is None or not self._wanted(csr):
            return
        status = dict(csr.get("status") or {})
        try:
            status["certificate"] = base64.b64encode(self.sign(csr)).decode()
            log.info("csr %s signed for %s", key, pki.subject(parse_request(csr).subject)[0])
        except pki.PKIError as e:
            now = now_rfc3339()
            status["conditions"] = [*(status.get("conditions") or []), {
                "type": "Failed", "status": "True", "reason": "SignerValidationFailure", "message": str(e),
                "lastUpdateTime": now, "lastTransitionTime": now}]
            log.info("csr %s not signed: %s", key, e)
        try:
            await self.client.update(CSRS, _with_status(csr, status), subresource="status")
        except errors.Conflict:
            self.enqueue(key)  # changed meanwhile: judge the fresh copy
