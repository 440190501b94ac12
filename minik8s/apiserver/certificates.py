"""CertificateSigningRequest (certificates.k8s.io/v1): its strategy and validation.

As Kubernetes' certificates registry:
- create records who asked (spec.username, uid, groups, extra) from the request's
  authenticated user, never from the body, and starts with an empty status;
- the main resource changes neither spec nor status;
- /approval changes only the conditions (Approved, Denied), and an approval or a
  denial once given cannot be taken back;
- /status carries the signer's certificate and the Failed condition, but cannot
  approve or deny, and a certificate once issued cannot change.

Kept apart from the generic registry on purpose (the per-kind code of the registry
is moving into strategies); registry.py calls the three functions below for this
kind only.
"""
from __future__ import annotations

import base64
import binascii
import copy
import re
from typing import Any

from minik8s.api import errors
from minik8s.apiserver.authn import user as user_mod
from minik8s.util import pki

PLURAL = "certificatesigningrequests"
KIND = "CertificateSigningRequest"
GROUP = "certificates.k8s.io"

# Kubernetes' KeyUsage values.
USAGES = frozenset({
    "signing", "digital signature", "content commitment", "key encipherment", "key agreement",
    "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
    "server auth", "client auth", "code signing", "email protection", "s/mime", "ipsec end system",
    "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc"})
APPROVED, DENIED, FAILED = "Approved", "Denied", "Failed"
_SIGNER_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+/[\w.~-]+(/[\w.~-]+)*$")
MIN_EXPIRATION_SECONDS = 600


def prepare_for_create(obj: dict[str, Any], who: user_mod.UserInfo | None, now: str) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    for field in ("username", "uid", "groups", "extra"):
        spec.pop(field, None)
    if who is not None:
        spec["username"] = who.name
        if who.uid:
            spec["uid"] = who.uid
        if who.groups:
            spec["groups"] = list(who.groups)
        if who.extra:
            spec["extra"] = {k: list(v) for k, v in who.extra.items()}
    obj["status"] = {}


def prepare_for_update(old: dict[str, Any], new: dict[str, Any], subresource: str | None,
                       now: str) -> dict[str, Any]:
    result = copy.deepcopy(old)
    old_status = old.get("status") or {}
    new_status = new.get("status") if isinstance(new.get("status"), dict) else {}
    assert isinstance(new_status, dict)
    if subresource is None:
        # Labels, annotations, finalizers may change; spec and status may not.
        meta = new.get("metadata") or {}
        for field in ("labels", "annotations", "finalizers", "ownerReferences"):
            if meta.get(field):
                result["metadata"][field] = meta[field]
            else:
                result["metadata"].pop(field, None)
        return result
    conditions = _conditions(new_status.get("conditions"), old_status.get("conditions") or [], now)
    if subresource == "approval":
        status = dict(old_status)
        status["conditions"] = conditions
    elif subresource == "status":
        status = {k: v for k, v in new_status.items() if k != "conditions"}
        # The approval is /approval's to give: keep the old Approved/Denied, take the rest.
        keep = [c for c in old_status.get("conditions") or [] if c.get("type") in (APPROVED, DENIED)]
        status["conditions"] = keep + [c for c in conditions if c.get("type") not in (APPROVED, DENIED)]
    else:
        raise errors.MethodNotAllowed(f"{PLURAL}/{subresource} cannot be updated")
    if not status.get("conditions"):
        status.pop("conditions", None)
    result["status"] = status
    return result


def _conditions(new: Any, old: list[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    if new is None:
        return []
    if not isinstance(new, list) or not all(isinstance(c, dict) for c in new):
        raise errors.BadRequest("status.conditions must be a list of objects")
    by_type = {c.get("type"): c for c in old}
    out = []
    for c in new:
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


def decode_request(obj: dict[str, Any]) -> bytes:
    """The PEM request of a CSR object (spec.request is base64, as bytes fields are in JSON)."""
    raw = (obj.get("spec") or {}).get("request")
    if not isinstance(raw, str) or not raw:
        raise ValueError("Required value")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64-encoded") from None


def validate(obj: dict[str, Any], old: dict[str, Any] | None, subresource: str | None = None) -> None:
    name = str((obj.get("metadata") or {}).get("name") or "")
    causes: list[dict[str, str]] = []

    def bad(field: str, message: str, reason: str = "FieldValueInvalid") -> None:
        causes.append(errors.field_error(field, message, reason))

    spec = obj.get("spec") or {}
    try:
        pki.load_csr(decode_request(obj))
    except ValueError as e:
        bad("spec.request", str(e), "FieldValueRequired" if str(e) == "Required value" else "FieldValueInvalid")
    except pki.PKIError as e:
        bad("spec.request", f"Invalid value: {e}")
    signer = spec.get("signerName")
    if not signer:
        bad("spec.signerName", "Required value", "FieldValueRequired")
    elif not isinstance(signer, str) or not _SIGNER_RE.match(signer):
        bad("spec.signerName", f'Invalid value: "{signer}": must be a fully qualified domain and path of the '
                               "form 'example.com/signer-name'")
    usages = spec.get("usages")
    if not usages:
        bad("spec.usages", "Required value", "FieldValueRequired")
    elif not isinstance(usages, list) or len(set(map(str, usages))) != len(usages):
        bad("spec.usages", "Invalid value: must be a list without duplicates")
    else:
        for i, u in enumerate(usages):
            if u not in USAGES:
                bad(f"spec.usages[{i}]", f'Unsupported value: "{u}"', "FieldValueNotSupported")
    expiration = spec.get("expirationSeconds")
    if expiration is not None and (not isinstance(expiration, int) or expiration < MIN_EXPIRATION_SECONDS):
        bad("spec.expirationSeconds", f"Invalid value: {expiration}: may not specify a duration less than "
                                      f"{MIN_EXPIRATION_SECONDS} seconds")
    status = obj.get("status") or {}
    types = [c.get("type") for c in status.get("conditions") or []]
    for i, c in enumerate(status.get("conditions") or []):
        if not c.get("type"):
            bad(f"status.conditions[{i}].type", "Required value", "FieldValueRequired")
        if c.get("type") in (APPROVED, DENIED) and c.get("status") != "True":
            bad(f"status.conditions[{i}].status", f'Unsupported value: "{c.get("status")}": supported values: '
                                                  '"True"', "FieldValueNotSupported")
    for t in (APPROVED, DENIED, FAILED):
        if types.count(t) > 1:
            bad("status.conditions", f"Duplicate value: {t}", "FieldValueDuplicate")
    if APPROVED in types and DENIED in types:
        bad("status.conditions", "Invalid value: Approved and Denied conditions are mutually exclusive")
    certificate = status.get("certificate")
    if certificate:
        try:
            pki.load_certs(base64.b64decode(certificate, validate=True))
        except (binascii.Error, ValueError, pki.PKIError):
            bad("status.certificate", "Invalid value: must be base64-encoded PEM CERTIFICATE blocks")
    if old is not None:
        old_status = old.get("status") or {}
        old_types = {c.get("type") for c in old_status.get("conditions") or []}
        for t in (APPROVED, DENIED):
            if t in old_types and t not in types:
                bad("status.conditions", f"Forbidden: updates may not remove a condition of type {t:s}",
                    "FieldValueForbidden")
        if old_status.get("certificate") and certificate != old_status.get("certificate"):
            bad("status.certificate", "Forbidden: updates may not modify existing certificate content",
                "FieldValueForbidden")
        if certificate and not old_status.get("certificate") and APPROVED not in types:
            bad("status.certificate", "Forbidden: certificate may only be set on an approved request",
                "FieldValueForbidden")
    if causes:
        raise errors.Invalid(KIND, name, causes, group=GROUP)
