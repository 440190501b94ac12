"""Server-side apply: field sets, managers and the apply merge, as Kubernetes does them.

Kubernetes records, for every object, which manager (a client or controller, named by
the request's `fieldManager`) last set which fields (`metadata.managedFields`), and
merges `kubectl apply --server-side` configurations with that knowledge: a field set by
another manager is a conflict unless forced, and a field a manager stops applying is
removed when nobody else owns it. The algorithm is sigs.k8s.io/structured-merge-diff
(field paths and sets, typed walks over objects, the updater) plus the wrappers of
k8s.io/apimachinery/pkg/util/managedfields (manager identities, timestamps, the
client-side-apply migration); the modules here follow them:

- `fieldpath`: path elements (`f:`, `k:{...}`, `v:...`, `i:`), sets of paths, FieldsV1.
- `typed`: the types of the API schema as structured-merge-diff sees them (list-type,
  list-map-keys, map-type from minik8s.api.schema) and the walks over objects: field
  set, comparison, merge, removal.
- `merge`: the updater: ownership on update, apply with conflicts and pruning.
- `managedfields`: managedFields entries, manager identities and the chain of
  Kubernetes' field manager (strip metadata, timestamps, capping, before-first-apply,
  the last-applied migration), and the 409 conflict Status.
- `kube`: the field manager of a served resource (its schema, versions and reset fields).

Pure: no I/O; the clock is passed in.
"""
