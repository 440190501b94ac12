"""authentication.k8s.io/v1: TokenRequest, the body of the serviceaccounts/token subresource.

Field numbers are those of k8s.io/api/authentication/v1/generated.proto; descriptions
are minik8s's own. (SelfSubjectReview, also of this group, is answered without a
schema: its body carries nothing the server reads.)
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1

BOUND_OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.authentication.v1.BoundObjectReference",
    "The object a token is bound to: the token stops working when that object is gone.",
    (
        dsl.Field("kind", 1, dsl.STRING, "Pod or Secret."),
        dsl.Field("apiVersion", 2, dsl.STRING, "The object's API version (v1)."),
        dsl.Field("name", 3, dsl.STRING, "The object's name."),
        dsl.Field("uid", 4, dsl.STRING, "The object's UID."),
    ),
)

TOKEN_REQUEST_SPEC = dsl.Message(
    "io.k8s.api.authentication.v1.TokenRequestSpec",
    "What token is asked for.",
    (
        dsl.Field("audiences", 1, dsl.STRING, "Who the token is meant for; empty means the API server's own "
                  "audiences.", repeated=True, required=True),
        dsl.Field("expirationSeconds", 4, dsl.INT64, "How long the token should last (at least 600 seconds).",
                  pointer=True),
        dsl.Field("boundObjectRef", 3, BOUND_OBJECT_REFERENCE, "An object (a pod) whose deletion ends the "
                  "token.", pointer=True),
    ),
)

TOKEN_REQUEST_STATUS = dsl.Message(
    "io.k8s.api.authentication.v1.TokenRequestStatus",
    "The token issued.",
    (
        dsl.Field("token", 1, dsl.STRING, "The signed token (a JWT).", required=True),
        dsl.Field("expirationTimestamp", 2, dsl.TIME, "When the token expires.", required=True),
    ),
)

TOKEN_REQUEST = dsl.kind(
    "io.k8s.api.authentication.v1.TokenRequest",
    "Asks for a token of a ServiceAccount; posted to the ServiceAccount's token subresource, answered, never "
    "stored.",
    dsl.GVK("authentication.k8s.io", "v1", "TokenRequest"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, TOKEN_REQUEST_SPEC, "What token is asked for.", required=True),
        dsl.Field("status", 3, TOKEN_REQUEST_STATUS, "The token issued."),
    ),
)
