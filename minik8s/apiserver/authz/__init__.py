"""Authorization in the API server: who may do what (issue 13's authorization half).

- user, authorizer, requestinfo: the user record, the attributes of a request
  (Kubernetes' RequestInfoFactory) and the Authorizer protocol with its union.
- rules, rbac, bootstrap: RBAC rule evaluation, the resolver over Roles and
  bindings, the default policy reconciled at start.
- graph, node, noderestriction: the Node authorizer and NodeRestriction admission.
- escalation, admission: the registry's write hook (escalation prevention,
  NodeRestriction), reading the request's user from `context`.
- impersonation, filters, reviews: the HTTP side (Impersonate-* headers, the
  authorization filter, the authorization.k8s.io review resources).
- mirror, service: the caches fed from the watch cache, and the assembly the
  API server wires in.
"""
