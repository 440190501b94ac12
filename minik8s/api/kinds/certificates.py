"""CertificateSigningRequest (certificates.k8s.io/v1): its strategy, validation and printer.

As Kubernetes' pkg/registry/certificates/certificates:
- create records who asked (spec.username, uid, groups, extra) from the request's
  authenticated user, never from the body, and starts with an empty status;
- the main resource changes neither spec nor status;
- /approval changes only the conditions (Approved, Denied), and an approval or a
  denial once given cannot be taken back;
- /status carries the signer's certificate and the Failed condition, but cannot
  approve or deny, and a certificate once issued cannot change.

The request and the certificate are parsed here with `cryptography` (no I/O): a
request that does not parse, or whose signature does not match its key, is a 422.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import re
from typing import Any, Mapping

from cryptography import x509

from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import strategy
from minik8s.api import validation as vc

Obj = dict[str, Any]
View = Mapping[str, Any]
Errors = vc.Errors

GROUP, KIND, PLURAL = "certificates.k8s.io", "CertificateSigningRequest", "certificatesigningrequests"

# Kubernetes' KeyUsage values.
USAGES = frozenset({
    "signing", "digital signature", "content commitment", "key encipherment", "key agreement",
    "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
    "server auth", "client auth", "code signing", "email protection", "s/mime", "ipsec end system",
    "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc"})
APPROVED, DENIED, FAILED = "Approved", "Denied", "Failed"
_SIGNER_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+/[\w.~-]+(/[\w.~-]+)*$")
MIN_EXPIRATION_SECONDS = 600


class InvalidRequest(ValueError):
    pass


def decode_request(obj: View) -> bytes:
    """The PEM request of a CSR object (spec.request is base64, as bytes fields are in JSON)."""
    raw = (obj.get("spec") or {}).get("request")
    if not isinstance(raw, str) or not raw:
        raise InvalidRequest("Required value")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("must be base64-encoded") from None


def parse_request(pem: bytes) -> x509.CertificateSigningRequest:
    """The PKCS#10 request; InvalidRequest unless it parses and its signature matches its key."""
    try:
        csr = x509.load_pem_x509_csr(pem)
    except ValueError as e:
        raise InvalidRequest(f"not a PEM certificate request: {e}") from None
    if not csr.is_signature_valid:
        raise InvalidRequest("the certificate request's signature does not match its key")
    return csr


def _conditions(new: Any, old: list[Obj], now: str) -> list[Obj]:
    if new is None:
        return []
    if not isinstance(new, list):
        return []
    by_type = {c.get("type"): c for c in old if isinstance(c, dict)}
    out = []
    for c in new:
        if not isinstance(c, dict):
            continue
        c = dict(c)
        c.setdefault("status", "True")
        before = by_type.get(c.get("type"))
        c.setdefault("lastUpdateTime", now)
        if before is not None and before.get("status") == c.get("status"):
            c.setdefault("lastTransitionTime", before.get("lastTransitionTime") or now)
        else:
            c.setdefault("lastTransitionTime", now)
        out.append(c)
    return out


def _check(errs: Errors, obj: Obj, old: Obj | None) -> None:
    spec = vc.as_dict(obj.get("spec"))
    try:
        parse_request(decode_request(obj))
    except InvalidRequest as e:
        if str(e) == "Required value":
            errs.required("spec.request")
        else:
            errs.invalid("spec.request", "<request>", str(e))
    signer = spec.get("signerName")
    if not signer:
        errs.required("spec.signerName")
    elif not isinstance(signer, str) or not _SIGNER_RE.match(signer):
        errs.invalid("spec.signerName", signer, "must be a fully qualified domain and path of the form "
                                                "'example.com/signer-name'")
    usages = spec.get("usages")
    if not usages:
        errs.required("spec.usages")
    elif not isinstance(usages, list) or len(set(map(str, usages))) != len(usages):
        errs.invalid("spec.usages", usages, "must be a list without duplicates")
    else:
        for i, u in enumerate(usages):
            if not isinstance(u, str) or u not in USAGES:  # (a list or object is unhashable)
                errs.not_supported(f"spec.usages[{i}]", u, sorted(USAGES))
    expiration = spec.get("expirationSeconds")
    if expiration is not None and (not isinstance(expiration, int) or expiration < MIN_EXPIRATION_SECONDS):
        errs.invalid("spec.expirationSeconds", expiration,
                     f"may not specify a duration less than {MIN_EXPIRATION_SECONDS} seconds")
    status = vc.as_dict(obj.get("status"))
    conditions = [c for c in vc.as_list(status.get("conditions")) if isinstance(c, dict)]
    types = [c.get("type") for c in conditions]
    for i, c in enumerate(conditions):
        if not c.get("type"):
            errs.required(f"status.conditions[{i}].type")
        if c.get("type") in (APPROVED, DENIED) and c.get("status") != "True":
            errs.not_supported(f"status.conditions[{i}].status", c.get("status"), ["True"])
    for t in (APPROVED, DENIED, FAILED):
        if types.count(t) > 1:
            errs.duplicate("status.conditions", t)
    if APPROVED in types and DENIED in types:
        errs.invalid("status.conditions", types, "Approved and Denied conditions are mutually exclusive")
    certificate = status.get("certificate")
    if certificate:
        try:
            x509.load_pem_x509_certificates(base64.b64decode(str(certificate), validate=True))
        except (binascii.Error, ValueError):
            errs.invalid("status.certificate", "<certificate>", "must be base64-encoded PEM CERTIFICATE blocks")
    if old is not None:
        old_status = vc.as_dict(old.get("status"))
        old_types = {c.get("type") for c in vc.as_list(old_status.get("conditions")) if isinstance(c, dict)}
        for t in (APPROVED, DENIED):
            if t in old_types and t not in types:
                errs.forbidden("status.conditions", f"updates may not remove a condition of type {t}")
        if old_status.get("certificate") and certificate != old_status.get("certificate"):
            errs.forbidden("status.certificate", "updates may not modify existing certificate content")
        if certificate and not old_status.get("certificate") and APPROVED not in types:
            errs.forbidden("status.certificate", "certificate may only be set on an approved request")


class _ApprovalStrategy(strategy.SubresourceStrategy):
    """/approval: the Approved and Denied conditions, nothing else."""

    def prepare_for_update(self, res: resources.Resource, new: Obj, old: Obj) -> Obj:
        result = strategy.json_copy(old)
        old_status = vc.as_dict(old.get("status"))
        new_status = vc.as_dict(new.get("status"))
        status = dict(old_status)
        status["conditions"] = _conditions(new_status.get("conditions"), old_status.get("conditions") or [],
                                           rfc3339.now())
        if not status["conditions"]:
            status.pop("conditions")
        result["status"] = status
        return result

    def validate_update(self, res: resources.Resource, new: Obj, old: Obj) -> Errors:
        errs = Errors()
        _check(errs, new, old)
        return errs


class _StatusStrategy(strategy.SubresourceStrategy):
    """/status: the certificate and the Failed condition; the verdicts stay /approval's."""

    def prepare_for_update(self, res: resources.Resource, new: Obj, old: Obj) -> Obj:
        result = strategy.json_copy(old)
        old_status = vc.as_dict(old.get("status"))
        new_status = vc.as_dict(new.get("status"))
        conditions = _conditions(new_status.get("conditions"), old_status.get("conditions") or [], rfc3339.now())
        status = {k: v for k, v in new_status.items() if k != "conditions"}
        keep = [c for c in old_status.get("conditions") or [] if c.get("type") in (APPROVED, DENIED)]
        status["conditions"] = keep + [c for c in conditions if c.get("type") not in (APPROVED, DENIED)]
        if not status["conditions"]:
            status.pop("conditions")
        result["status"] = status
        return result

    def validate_update(self, res: resources.Resource, new: Obj, old: Obj) -> Errors:
        errs = Errors()
        _check(errs, new, old)
        return errs


# ---------------------------------------------------------------------------
# printer (printCertificateSigningRequest)


COLUMNS = (
    printing.name_column(),
    printing.age_column(),
    printing.column("SignerName", desc="The signer asked to sign the certificate."),
    printing.column("Requestor", desc="Who created the request."),
    printing.column("RequestedDuration", desc="The validity asked for."),
    printing.column("Condition", desc="The request's verdicts."),
)


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int):
        return "<none>"
    return printing.human_duration(seconds)


def condition_summary(obj: View) -> str:
    status = obj.get("status") or {}
    types = [str(c.get("type")) for c in status.get("conditions") or [] if isinstance(c, dict)]
    verdict = [t for t in types if t in (APPROVED, DENIED)]
    parts = verdict or ["Pending"]
    if status.get("certificate"):
        parts.append("Issued")
    if FAILED in types:
        parts.append(FAILED)
    return ",".join(parts)


def _cells(obj: View, now: datetime.datetime) -> printing.Cells:
    spec = obj.get("spec") or {}
    return [printing.name(obj), printing.age(obj, now), spec.get("signerName") or "",
            spec.get("username") or "", _duration(spec.get("expirationSeconds")), condition_summary(obj)]


class CertificateSigningRequestStrategy(strategy.Strategy):
    group, kind = GROUP, KIND
    subresources = {"status": _StatusStrategy(), "approval": _ApprovalStrategy()}
    printer = printing.Printer(COLUMNS, _cells)

    def prepare_for_create(self, res: resources.Resource, obj: Obj) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            spec = obj["spec"] = {}
        for field in ("username", "uid", "groups", "extra"):
            spec.pop(field, None)
        obj["status"] = {}

    def record_requester(self, res: resources.Resource, obj: Obj, user: Obj | None) -> None:
        if user is None:
            return
        spec = obj.setdefault("spec", {})
        for field in ("username", "uid", "groups", "extra"):
            if user.get(field):
                spec[field] = user[field]

    def prepare_for_update(self, res: resources.Resource, new: Obj, old: Obj) -> None:
        # Labels, annotations, finalizers may change; spec and status may not.
        for field in ("spec", "status"):
            if field in old:
                new[field] = old[field]
            else:
                new.pop(field, None)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        _check(errs, obj, old)
