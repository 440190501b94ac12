"""NodeRestriction admission: a kubelet writes only what belongs to its own node.

The Node authorizer cannot see request bodies or stored objects, so it allows a
node to create/update Nodes, update pod status and delete pods in general; this
check, run by the registry before every write with the stored and the new
object, narrows that down as Kubernetes' plugin/pkg/admission/noderestriction:
- Node: only its own, and it may not add, change or remove labels under
  `node-restriction.kubernetes.io/` (they steer workloads to trusted nodes), nor
  change its taints after registering.
- Lease: only its own, in kube-node-lease.
- Pods: status only of pods bound to it (and not their labels); delete (and
  evict) only pods bound to it; create only mirror pods bound to it that
  reference no other objects; nothing else.
Users that are not nodes are not restricted here.
"""
from __future__ import annotations

from typing import Any

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver.authz import graph as graph_mod
from minik8s.apiserver.authz import user as user_mod

Obj = dict[str, Any]

NODE_LEASE_NAMESPACE = "kube-node-lease"
RESTRICTED_LABEL_DOMAIN = "node-restriction.kubernetes.io"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"


def forbidden(res: resources.Resource, name: str, why: str) -> errors.StatusError:
    """admission.NewForbidden: `<resource> "<name>" is forbidden: <why>`."""
    head = f'{res.qualified} "{name}"' if name else res.qualified
    err = errors.Forbidden(f"{head} is forbidden: {why}")
    err.details = {"name": name, "group": res.group, "kind": res.plural}
    return err


def _meta(obj: Obj | None) -> Obj:
    meta = (obj or {}).get("metadata")
    return meta if isinstance(meta, dict) else {}


def _spec(obj: Obj | None) -> Obj:
    spec = (obj or {}).get("spec")
    return spec if isinstance(spec, dict) else {}


def _labels(obj: Obj | None) -> dict[str, Any]:
    labels = _meta(obj).get("labels")
    return labels if isinstance(labels, dict) else {}


def admit(user: user_mod.UserInfo, verb: str, res: resources.Resource, subresource: str | None,
          old: Obj | None, new: Obj | None) -> errors.StatusError | None:
    """The error that forbids this write, or None. `verb` is create, update (PUT and
    PATCH alike) or delete; `old` is the stored object (None on create), `new` the
    object to store (None on delete)."""
    node, is_node = user_mod.node_name(user)
    if not is_node:
        return None
    name = str(_meta(new).get("name") or _meta(old).get("name") or "")
    if not node:
        return forbidden(res, name, f'could not determine node from user "{user.name}"')
    if res.group == "" and res.plural == "pods":
        return _pod(node, verb, res, subresource or "", name, old, new)
    if res.group == "" and res.plural == "nodes":
        return _node(node, verb, res, subresource or "", name, old, new)
    if res.group == "coordination.k8s.io" and res.plural == "leases":
        namespace = _meta(new).get("namespace") or _meta(old).get("namespace")
        if namespace != NODE_LEASE_NAMESPACE or name != node:
            return forbidden(res, name, "can only access node lease with the same name as the requesting node")
    return None


def _pod(node: str, verb: str, res: resources.Resource, subresource: str, name: str,
         old: Obj | None, new: Obj | None) -> errors.StatusError | None:
    if subresource == "":
        if verb == "create":
            return _mirror_pod_create(node, res, name, new or {})
        if verb == "delete":
            if _spec(old).get("nodeName") != node:
                return forbidden(res, name, f'node "{node}" can only delete pods with spec.nodeName set to itself')
            return None
        return forbidden(res, name, f'unexpected operation "{verb}", node "{node}" can only create and delete '
                                    "mirror pods")
    if subresource == "status":
        if verb != "update":
            return forbidden(res, name, f'unexpected operation "{verb}"')
        if _spec(old).get("nodeName") != node:
            return forbidden(res, name, f'node "{node}" can only update pod status for pods with spec.nodeName '
                                        "set to itself")
        # A body without labels leaves them as they are (the kubelet sends only status).
        if "labels" in _meta(new) and _labels(old) != _labels(new):
            return forbidden(res, name, f'node "{node}" cannot update labels through pod status')
        return None
    if subresource == "eviction":
        if _spec(old).get("nodeName") != node:
            return forbidden(res, name, f"node {node} can only evict pods with spec.nodeName set to itself")
        return None
    return forbidden(res, name, f"unexpected pod subresource \"{subresource}\", only 'status' and 'eviction' "
                                "are allowed")


def _mirror_pod_create(node: str, res: resources.Resource, name: str, pod: Obj) -> errors.StatusError | None:
    annotations = _meta(pod).get("annotations")
    if not isinstance(annotations, dict) or MIRROR_POD_ANNOTATION not in annotations:
        return forbidden(res, name, f'pod does not have "{MIRROR_POD_ANNOTATION}" annotation, node "{node}" can '
                                    "only create mirror pods")
    spec = _spec(pod)
    if spec.get("nodeName") != node:
        return forbidden(res, name, f'node "{node}" can only create pods with spec.nodeName set to itself')
    owners = _meta(pod).get("ownerReferences")
    owners = owners if isinstance(owners, list) else []
    if len(owners) != 1 or not isinstance(owners[0], dict):
        return forbidden(res, name, f'node "{node}" can only create pods with a single owner reference set to '
                                    "itself")
    owner = owners[0]
    if owner.get("apiVersion") != "v1" or owner.get("kind") != "Node" or owner.get("name") != node:
        return forbidden(res, name, f'node "{node}" can only create pods with an owner reference set to itself')
    if owner.get("controller") is not True:
        return forbidden(res, name, f'node "{node}" can only create pods with a controller owner reference set '
                                    "to itself")
    if owner.get("blockOwnerDeletion") is True:
        return forbidden(res, name, f'node "{node}" must not set blockOwnerDeletion on an owner reference')
    # A mirror pod may not reach other objects: through the Node authorizer that
    # would give the node access to them.
    if spec.get("serviceAccountName") or spec.get("serviceAccount"):
        return forbidden(res, name, f'node "{node}" can not create pods that reference a service account')
    if graph_mod.secret_names(spec):
        return forbidden(res, name, f'node "{node}" can not create pods that reference secrets')
    if graph_mod.configmap_names(spec):
        return forbidden(res, name, f'node "{node}" can not create pods that reference configmaps')
    if graph_mod.pvc_names(spec):
        return forbidden(res, name, f'node "{node}" can not create pods that reference persistentvolumeclaims')
    return None


def _restricted(label: str) -> bool:
    domain = label.split("/", 1)[0] if "/" in label else ""
    return domain == RESTRICTED_LABEL_DOMAIN or domain.endswith("." + RESTRICTED_LABEL_DOMAIN)


def modified_labels(new: dict[str, Any], old: dict[str, Any]) -> set[str]:
    return {k for k in set(new) | set(old) if new.get(k) != old.get(k) or (k in new) != (k in old)}


def _node(node: str, verb: str, res: resources.Resource, subresource: str, name: str,
          old: Obj | None, new: Obj | None) -> errors.StatusError | None:
    if name != node:
        return forbidden(res, name, f'node "{node}" is not allowed to modify node "{name}"')
    if subresource == "status":
        # Only status changes through /status: labels and taints in the body are
        # ignored there, and may merely be older than the stored ones.
        return None
    if verb == "create":
        bad = sorted(k for k in _labels(new) if _restricted(k))
        if bad:
            return forbidden(res, name, f'node "{node}" is not allowed to set the following labels: '
                                        f"{', '.join(bad)}")
    elif verb == "update":
        if (_spec(new).get("taints") or []) != (_spec(old).get("taints") or []):
            return forbidden(res, name, f'node "{node}" is not allowed to modify taints')
        bad = sorted(k for k in modified_labels(_labels(new), _labels(old)) if _restricted(k))
        if bad:
            return forbidden(res, name, f"is not allowed to modify labels: {', '.join(bad)}")
    return None
