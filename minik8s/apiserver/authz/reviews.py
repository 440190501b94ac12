"""authorization.k8s.io/v1: questions put to the authorizer, answered, never stored.

- SelfSubjectAccessReview: may *I* do this? (`kubectl auth can-i`, also with --as)
- SelfSubjectRulesReview: what may I do in this namespace? (`kubectl auth can-i --list`)
- SubjectAccessReview: may this user/these groups do this? (needs `create` on it)
- LocalSubjectAccessReview: the same, confined to one namespace (namespace admins have it)
Each is a POST of the object; the answer is the same object with `status`
filled in, 201 Created, as kube-apiserver's create-only REST storages answer.
The question is put to the very authorizer that judges requests, so the answer
is the truth, including the Node authorizer's and system:masters' part.
"""
from __future__ import annotations

from typing import Any, Callable

from aiohttp import web

from minik8s.api import errors
from minik8s.api import schema
from minik8s.api import selectors
from minik8s.api.kinds import rbac as validation_rbac
from minik8s.apiserver import handlers
from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import context
from minik8s.apiserver.authz import user as user_mod

Obj = dict[str, Any]
GROUP = "authorization.k8s.io"
API_VERSION = f"{GROUP}/v1"


def _field_requirements(spec_attrs: Obj, resource: str) -> tuple[authorizer.FieldRequirement, ...]:
    """A review's fieldSelector (rawSelector or requirements) as attributes carry it; what
    cannot be understood does not limit the request (as Kubernetes treats it)."""
    sel = spec_attrs.get("fieldSelector")
    if not isinstance(sel, dict):
        return ()
    raw = sel.get("rawSelector")
    if isinstance(raw, str) and raw:
        try:
            parsed = selectors.parse_field_selector(raw, resource)
        except errors.StatusError:
            return ()
        return tuple(authorizer.FieldRequirement(r.field, r.op, r.value) for r in parsed.requirements)
    out = []
    for req in sel.get("requirements") or []:
        if not isinstance(req, dict):
            continue
        values = req.get("values") or []
        if req.get("operator") in ("In", "NotIn") and isinstance(values, list) and len(values) == 1:
            out.append(authorizer.FieldRequirement(str(req.get("key") or ""),
                                                   "=" if req["operator"] == "In" else "!=", str(values[0])))
    return tuple(out)


def attributes_from(user: user_mod.UserInfo, spec: Obj) -> authorizer.Attributes:
    """ResourceAttributesFrom / NonResourceAttributesFrom."""
    res = spec.get("resourceAttributes")
    if isinstance(res, dict):
        def s(key: str) -> str:
            value = res.get(key)
            return value if isinstance(value, str) else ""
        return authorizer.Attributes(
            user=user, verb=s("verb"), resource_request=True, namespace=s("namespace"), api_group=s("group"),
            api_version=s("version") or "*", resource=s("resource"), subresource=s("subresource"), name=s("name"),
            field_selector=_field_requirements(res, s("resource")))
    non = spec.get("nonResourceAttributes") or {}
    return authorizer.Attributes(user=user, verb=str(non.get("verb") or ""), resource_request=False,
                                 path=str(non.get("path") or ""))


def subject_user(spec: Obj) -> user_mod.UserInfo:
    """The user a (Local)SubjectAccessReview asks about: exactly as given, no groups added."""
    extra = spec.get("extra")
    if not isinstance(extra, dict):
        extra = {}
    return user_mod.UserInfo(str(spec.get("user") or ""), str(spec.get("uid") or ""),
                             tuple(spec.get("groups") or ()), {k: tuple(v or ()) for k, v in extra.items()})


def access_status(decision: authorizer.Decision, reason: str) -> Obj:
    status: Obj = {"allowed": decision is authorizer.Decision.ALLOW}
    if decision is authorizer.Decision.DENY:
        status["denied"] = True
    if reason:
        status["reason"] = reason
    return status


def rules_status(rules: authorizer.Rules) -> Obj:
    def resource_rule(r: authorizer.ResourceRule) -> Obj:
        out: Obj = {"verbs": list(r.verbs)}
        if r.api_groups:
            out["apiGroups"] = list(r.api_groups)
        if r.resources:
            out["resources"] = list(r.resources)
        if r.resource_names:
            out["resourceNames"] = list(r.resource_names)
        return out
    status: Obj = {
        "resourceRules": [resource_rule(r) for r in rules.resource],
        "nonResourceRules": [{"verbs": list(r.verbs), "nonResourceURLs": list(r.non_resource_urls)}
                             for r in rules.non_resource],
        "incomplete": rules.incomplete,
    }
    if rules.error:
        status["evaluationError"] = rules.error
    return status


class Reviews:
    def __init__(self, az: authorizer.Union) -> None:
        self.authorizer = az

    def answer(self, kind: str, body: Obj, requestor: user_mod.UserInfo, url_namespace: str = "") -> Obj:
        """The review with its status: everything but the HTTP around it."""
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.BadRequest("metadata must be an object")
        validation_rbac.check_review_shapes(body)
        if kind == "LocalSubjectAccessReview":
            if meta.get("namespace") and meta["namespace"] != url_namespace:
                raise errors.BadRequest("the namespace of the provided object does not match the namespace sent "
                                        "on the request")
            meta["namespace"] = url_namespace
        validation_rbac.validate_review(kind, body)
        spec = body.get("spec") or {}
        if kind == "SelfSubjectRulesReview":
            status = rules_status(self.authorizer.rules_for(requestor, str(spec.get("namespace") or "")))
        else:
            who = requestor if kind == "SelfSubjectAccessReview" else subject_user(spec)
            status = access_status(*self.authorizer.authorize(attributes_from(who, spec)))
        meta.setdefault("creationTimestamp", None)
        body["status"] = status
        return body

    def handler(self, kind: str) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.Response:
            if request.method != "POST":
                raise errors.MethodNotAllowed(f"{request.method} is not supported on {kind}: it can only be "
                                              "created")
            # Typed and field-validated against the kind's schema like every other write.
            decoded = await handlers.read_object(request, schema.find(validation_rbac.AUTHORIZATION_GROUP, "v1", kind))
            body = decoded.obj
            if not isinstance(body, dict):
                raise errors.BadRequest("the body of the request must be a JSON object")
            if body.get("kind") not in (None, "", kind):
                raise errors.BadRequest(f"the kind in the data ({body.get('kind')}) does not match the expected "
                                        f"kind ({kind})")
            if body.get("apiVersion") not in (None, "", API_VERSION):
                raise errors.BadRequest(f"the API version in the data ({body.get('apiVersion')}) does not match "
                                        f"the expected API version ({API_VERSION})")
            body["apiVersion"], body["kind"] = API_VERSION, kind
            requestor = context.current_user.get()
            if requestor is None:
                raise errors.Unauthorized()
            return handlers.reply(request, self.answer(kind, body, requestor, request.match_info.get("namespace", "")),
                                  201, warnings=decoded.warnings)
        return handle

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Routes ahead of the generic /apis handler (which would store the objects)."""
        base = f"/apis/{API_VERSION}"
        for kind, plural in (("SelfSubjectAccessReview", "selfsubjectaccessreviews"),
                             ("SelfSubjectRulesReview", "selfsubjectrulesreviews"),
                             ("SubjectAccessReview", "subjectaccessreviews")):
            router.add_route("*", f"{base}/{plural}", self.handler(kind))
        router.add_route("*", f"{base}/namespaces/{{namespace}}/localsubjectaccessreviews",
                         self.handler("LocalSubjectAccessReview"))
