"""certificates.k8s.io/v1: CertificateSigningRequest, how a joining node gets its client certificate.

Field numbers are those of k8s.io/api/certificates/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1

_PKG = "io.k8s.api.certificates.v1"

CSR_SPEC = dsl.Message(
    f"{_PKG}.CertificateSigningRequestSpec",
    "The certificate asked for: the PKCS#10 request, the signer, the usages. Who asked "
    "(username, uid, groups, extra) is set by the API server from the request's user.",
    (
        dsl.Field("request", 1, dsl.BYTES, "The PEM-encoded PKCS#10 certificate request (base64 in JSON).",
                  required=True),
        dsl.Field("signerName", 7, dsl.STRING, "The signer asked to sign, such as "
                  "kubernetes.io/kube-apiserver-client-kubelet.", required=True),
        dsl.Field("expirationSeconds", 8, dsl.INT32, "The validity asked for; the signer may give less.",
                  pointer=True),
        dsl.Field("usages", 5, dsl.STRING, "The key usages asked for (client auth, digital signature, ...).",
                  repeated=True, list_type="atomic"),
        dsl.Field("username", 2, dsl.STRING, "Who created the request (set by the API server)."),
        dsl.Field("uid", 3, dsl.STRING, "The uid of who created the request (set by the API server)."),
        dsl.Field("groups", 4, dsl.STRING, "The groups of who created the request (set by the API server).",
                  repeated=True, list_type="atomic"),
        # map<string, ExtraValue> on the wire (ExtraValue: repeated string); free JSON here,
        # which is what it is in JSON (a map of string lists).
        dsl.Field("extra", 6, dsl.RAW_EXTENSION, "Further attributes of who created the request "
                                                 "(set by the API server)."),
    ),
)

CSR_CONDITION = dsl.Message(
    f"{_PKG}.CertificateSigningRequestCondition",
    "One verdict on the request: Approved, Denied or Failed.",
    (
        dsl.Field("type", 1, dsl.STRING, "Approved, Denied or Failed.", required=True),
        dsl.Field("status", 6, dsl.STRING, "True, False or Unknown (Approved and Denied are always True).",
                  required=True),
        dsl.Field("reason", 2, dsl.STRING, "A machine-readable reason."),
        dsl.Field("message", 3, dsl.STRING, "A human-readable explanation."),
        dsl.Field("lastUpdateTime", 4, dsl.TIME, "When the condition was last updated."),
        dsl.Field("lastTransitionTime", 5, dsl.TIME, "When status last changed."),
    ),
)

CSR_STATUS = dsl.Message(
    f"{_PKG}.CertificateSigningRequestStatus",
    "The verdicts and, once signed, the certificate.",
    (
        dsl.Field("conditions", 1, CSR_CONDITION, "Approved/Denied (through /approval) and Failed.",
                  repeated=True, list_type="map", list_map_keys=("type",)),
        dsl.Field("certificate", 2, dsl.BYTES, "The issued PEM certificate (base64 in JSON), set by the signer."),
    ),
)

CSR = dsl.kind(
    f"{_PKG}.CertificateSigningRequest",
    "A request for a certificate signed by a named signer; approved or denied, then signed "
    "(the join of a node: its kubelet client certificate).",
    dsl.GVK("certificates.k8s.io", "v1", "CertificateSigningRequest"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, CSR_SPEC, "The certificate asked for.", required=True),
        dsl.Field("status", 3, CSR_STATUS, "The verdicts and the certificate."),
    ),
)

CSR_LIST = meta_v1.list_of(CSR)
