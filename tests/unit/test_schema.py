"""The API schema: one declaration per type, complete for every served kind and self-consistent."""
from __future__ import annotations

import pytest

from minik8s.api import resources, schema
from minik8s.api.schema import dsl, meta_v1


def all_messages() -> list[dsl.Message]:
    return list(schema.definitions().values())


def test_every_served_kind_its_list_and_its_subresources_have_a_schema() -> None:
    for res in resources.RESOURCES:
        msg = schema.for_kind(res.group, res.version, res.kind)
        assert msg.kinds[0] == dsl.GVK(res.group, res.version, res.kind)
        if "list" in res.verbs:  # the create-only reviews have no List type, as in Kubernetes
            items = schema.for_kind(res.group, res.version, res.list_kind).field("items")
            assert items.message is msg and items.repeated
        for sub in res.subresources:
            if sub.name in ("log", "exec", "attach", "portforward", "proxy"):
                continue  # streams, not objects
            assert schema.find(sub.group or res.group, sub.version or res.version, sub.kind) is not None, \
                f"{res.plural}/{sub.name}"


def test_shared_meta_kinds_are_served_in_every_group_version() -> None:
    for group, version, _ in list(schema.kinds()):
        assert schema.for_kind(group, version, "DeleteOptions") is meta_v1.DELETE_OPTIONS
        assert schema.for_kind(group, version, "WatchEvent") is meta_v1.WATCH_EVENT


def test_lookup_by_api_version_and_unknown_kinds() -> None:
    assert schema.for_api_version("apps/v1", "Deployment") is schema.for_kind("apps", "v1", "Deployment")
    assert schema.for_api_version("v1", "Pod") is schema.for_kind("", "v1", "Pod")
    assert schema.find("apps", "v1", "NoSuchKind") is None
    with pytest.raises(KeyError, match="no schema for apps/v1 NoSuchKind"):
        schema.for_kind("apps", "v1", "NoSuchKind")


@pytest.mark.parametrize("msg", all_messages(), ids=lambda m: m.name)
def test_each_message_is_well_formed(msg: dsl.Message) -> None:
    assert msg.description and msg.description[0].isupper() and msg.description.endswith((".", ")"))
    numbers = [f.number for f in msg.fields if f.number]
    assert len(numbers) == len(set(numbers)), "duplicate field numbers"
    names = [f.name for f in msg.fields if not f.inline]
    assert len(names) == len(set(names)), "duplicate JSON names"
    for f in msg.fields:
        where = f"{msg.name}.{f.name}"
        if f.inline:
            assert f.message is not None and not f.repeated and not f.map, where
            continue
        assert f.description, f"{where} has no description"
        assert f.message is not None or f.scalar in dsl.SCALARS | dsl.SPECIALS, where
        assert not (f.repeated and f.map), where
        assert f.number or f.name in ("apiVersion", "kind"), f"{where} has no protobuf number"
        if f.merge_key:
            assert "merge" in f.patch_strategy.split(","), where
            assert f.message is not None and f.merge_key in f.message.json_fields, where
        for key in f.list_map_keys:
            assert f.list_type == "map" and f.message is not None and key in f.message.json_fields, where
        assert f.list_type in ("", "atomic", "set", "map"), where
        assert not f.list_type or f.repeated, where
        assert f.map_type in ("", "atomic", "granular"), where
        assert set(f.patch_strategy.split(",")) <= {"", "merge", "replace", "retainKeys"}, where


def test_definition_names_are_unique_and_follow_kubernetes() -> None:
    defs = schema.definitions()
    assert "io.k8s.api.core.v1.PodSpec" in defs
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in defs
    assert "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec" in defs
    assert "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec" in defs
    assert all(name.startswith("io.k8s.") for name in defs)


@pytest.mark.parametrize("path, number", [
    # Spot checks against upstream generated.proto (and the captured kubectl bodies).
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta.name", 1),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta.creationTimestamp", 8),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta.labels", 11),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta.managedFields", 17),
    ("io.k8s.api.core.v1.PodSpec.containers", 2),
    ("io.k8s.api.core.v1.PodSpec.initContainers", 20),
    ("io.k8s.api.core.v1.PodSpec.ephemeralContainers", 34),
    ("io.k8s.api.core.v1.Container.imagePullPolicy", 14),
    ("io.k8s.api.core.v1.Container.envFrom", 19),
    ("io.k8s.api.core.v1.ServicePort.targetPort", 4),
    ("io.k8s.api.core.v1.ServiceSpec.clusterIPs", 18),
    ("io.k8s.api.apps.v1.DeploymentSpec.progressDeadlineSeconds", 9),
    ("io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec.targetCPUUtilizationPercentage", 4),
    ("io.k8s.api.coordination.v1.LeaseSpec.renewTime", 4),
    ("io.k8s.api.core.v1.Secret.data", 2),
    ("io.k8s.api.core.v1.ConfigMap.binaryData", 3),
])
def test_field_numbers(path: str, number: int) -> None:
    name, _, member = path.rpartition(".")
    assert schema.definitions()[name].field(member).number == number


def test_types_pointers_and_semantics_of_well_known_fields() -> None:
    spec = schema.definitions()["io.k8s.api.apps.v1.DeploymentSpec"]
    assert spec.field("replicas").scalar == dsl.INT32 and spec.field("replicas").pointer
    assert spec.field("selector").required and spec.field("template").required
    assert spec.field("strategy").patch_strategy == "retainKeys"
    pod_spec = schema.definitions()["io.k8s.api.core.v1.PodSpec"]
    containers = pod_spec.field("containers")
    assert (containers.repeated, containers.required, containers.patch_strategy, containers.merge_key,
            containers.list_type, containers.list_map_keys) == (True, True, "merge", "name", "map", ("name",))
    assert pod_spec.field("volumes").patch_strategy == "merge,retainKeys"
    assert pod_spec.field("restartPolicy").enum == ("Always", "OnFailure", "Never")
    assert pod_spec.field("nodeSelector").map and pod_spec.field("nodeSelector").map_type == "atomic"
    resources_ = schema.definitions()["io.k8s.api.core.v1.ResourceRequirements"]
    assert resources_.field("limits").map and resources_.field("limits").scalar == dsl.QUANTITY
    port = schema.definitions()["io.k8s.api.core.v1.ContainerPort"]
    assert port.field("containerPort").required and not port.field("name").required
    # Inline members (Go embedded structs) sit in the parent's JSON.
    volume = schema.definitions()["io.k8s.api.core.v1.Volume"]
    assert {"name", "hostPath", "emptyDir", "configMap", "secret"} <= set(volume.json_fields)
    selector = schema.definitions()["io.k8s.api.core.v1.ConfigMapKeySelector"]
    assert set(selector.json_fields) == {"name", "key", "optional"}
    assert schema.definitions()["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"].map_type == "atomic"


def test_the_container_types_agree() -> None:
    # EphemeralContainerCommon is a copy of Container's fields, number for number.
    defs = schema.definitions()
    container = {f.name: f.number for f in defs["io.k8s.api.core.v1.Container"].fields}
    common = {f.name: f.number for f in defs["io.k8s.api.core.v1.EphemeralContainerCommon"].fields}
    assert container == common


def test_top_level_kinds_carry_type_meta_and_lists_list_meta() -> None:
    for (_group, _version, kind), msg in schema.kinds().items():
        if kind in ("DeleteOptions", "WatchEvent"):
            continue
        assert msg.field("apiVersion").number == 0 and msg.field("kind").number == 0, kind
        if kind.endswith("List"):
            assert msg.field("metadata").message is meta_v1.LIST_META
