"""Volumes and environment from the API: the atomic writer, configMap/secret/downwardAPI/
projected payloads, tmpfs media, subPath, env from ConfigMaps and Secrets (no Docker)."""
from __future__ import annotations

import asyncio
import base64
import os
import pathlib
from typing import Any

import pytest

from minik8s.kubelet import atomic_writer
from minik8s.kubelet import containers
from minik8s.kubelet import downward
from minik8s.kubelet import mount
from minik8s.kubelet import objects
from minik8s.kubelet import runtime
from minik8s.kubelet import volumes

Obj = dict[str, Any]
FACTS = downward.PodFacts("node-1", "192.0.2.10", "10.244.0.5", {"cpu": "2", "memory": "4Gi"})


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def pod(*vols: Obj, **spec: Any) -> Obj:
    return {"metadata": {"name": "p", "namespace": "ns", "uid": "uid-1", "labels": {"app": "web", "tier": "x"},
                         "annotations": {"note": 'say "hi"'}},
            "spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"memory": "64Mi"}}}],
                     "volumes": list(vols), **spec}}


def source(**objs: Obj) -> objects.StaticObjectSource:
    out = objects.StaticObjectSource()
    for key, obj in objs.items():
        kind, name = key.split("_", 1)
        out.objects[(kind, "ns", name.replace("_", "-"))] = obj
    return out


def files(path: str) -> dict[str, str]:
    """What a container would read: every visible name (following the symlinks)."""
    out = {}
    for root, _dirs, names in os.walk(path, followlinks=True):
        rel_root = os.path.relpath(root, path)
        if rel_root.split("/")[0].startswith(".."):
            continue
        for name in names:
            if name.startswith(".."):
                continue
            rel = os.path.normpath(os.path.join(rel_root, name))
            with open(os.path.join(root, name), encoding="utf-8") as f:
                out[rel] = f.read()
    return out


# -- the atomic writer ----------------------------------------------------------------------


def test_atomic_writer_publishes_swaps_and_prunes(tmp_path: pathlib.Path) -> None:
    target = str(tmp_path / "vol")
    writer = atomic_writer.AtomicWriter(target)
    assert writer.write({"a": atomic_writer.FileProjection(b"1"), "dir/b": atomic_writer.FileProjection(b"2", 0o600)})
    first = os.readlink(os.path.join(target, "..data"))
    assert os.readlink(os.path.join(target, "a")) == "..data/a"
    assert files(target) == {"a": "1", "dir/b": "2"}
    assert os.stat(os.path.join(target, "dir", "b")).st_mode & 0o777 == 0o600
    assert not writer.write({"a": atomic_writer.FileProjection(b"1"),
                             "dir/b": atomic_writer.FileProjection(b"2", 0o600)})  # unchanged: nothing written
    assert writer.write({"a": atomic_writer.FileProjection(b"changed")})
    second = os.readlink(os.path.join(target, "..data"))
    assert second != first and not os.path.exists(os.path.join(target, first))
    assert files(target) == {"a": "changed"} and not os.path.lexists(os.path.join(target, "dir"))
    for bad in ("../escape", "/abs", "..hidden"):
        with pytest.raises(atomic_writer.PayloadError):
            writer.write({bad: atomic_writer.FileProjection(b"")})


def test_an_open_file_keeps_its_version_through_an_update(tmp_path: pathlib.Path) -> None:
    target = str(tmp_path / "vol")
    writer = atomic_writer.AtomicWriter(target)
    writer.write({"k": atomic_writer.FileProjection(b"old")})
    with open(os.path.join(target, "k"), "rb") as held:
        writer.write({"k": atomic_writer.FileProjection(b"new")})
        assert held.read() == b"old"
    assert files(target) == {"k": "new"}


# -- volume sources -----------------------------------------------------------------------------


async def test_config_map_and_secret_volumes(tmp_path: pathlib.Path) -> None:
    objs = source(configmap_settings={"data": {"mode": "fast", "size": "3"}, "binaryData": {"blob": b64("\x00\x01")}},
                  secret_creds={"data": {"user": b64("admin"), "pass": b64("s3cret")}})
    mgr = volumes.VolumeManager(str(tmp_path), objects=objs)
    p = pod({"name": "cfg", "configMap": {"name": "settings", "defaultMode": 0o640}},
            {"name": "picked", "configMap": {"name": "settings", "items": [{"key": "mode", "path": "conf/mode",
                                                                            "mode": 0o600}]}},
            {"name": "creds", "secret": {"secretName": "creds", "defaultMode": 0o400}})
    paths = await mgr.prepare(p, FACTS)
    assert paths["cfg"].endswith("pods/uid-1/volumes/kubernetes.io~configmap/cfg")
    assert files(paths["cfg"]) == {"mode": "fast", "size": "3", "blob": "\x00\x01"}
    assert os.stat(os.path.join(paths["cfg"], "mode")).st_mode & 0o777 == 0o640
    assert files(paths["picked"]) == {"conf/mode": "fast"}
    assert os.stat(os.path.join(paths["picked"], "conf", "mode")).st_mode & 0o777 == 0o600
    assert paths["creds"].endswith("kubernetes.io~secret/creds")
    assert files(paths["creds"]) == {"user": "admin", "pass": "s3cret"}
    # The ConfigMap changes: the next sync publishes it.
    objs.objects[("configmap", "ns", "settings")] = {"data": {"mode": "slow"}}
    await mgr.prepare(p, FACTS)
    assert files(paths["cfg"]) == {"mode": "slow"}


@pytest.mark.parametrize("vol,message", [
    ({"name": "v", "configMap": {"name": "missing"}}, 'configmap "missing" not found'),
    ({"name": "v", "secret": {"secretName": "missing"}}, 'secret "missing" not found'),
    ({"name": "v", "configMap": {"name": "present", "items": [{"key": "nope", "path": "x"}]}},
     "configmap references non-existent config key: nope"),
    ({"name": "v", "persistentVolumeClaim": {"claimName": "c"}}, "volume type persistentVolumeClaim is not supported"),
])
async def test_missing_objects_fail_the_mount(tmp_path: pathlib.Path, vol: Obj, message: str) -> None:
    mgr = volumes.VolumeManager(str(tmp_path), objects=source(configmap_present={"data": {"k": "v"}}))
    with pytest.raises(volumes.MountError) as exc:
        await mgr.prepare(pod(vol), FACTS)
    assert exc.value.message.startswith('MountVolume.SetUp failed for volume "v" : ')
    assert message in exc.value.message


async def test_optional_sources_may_be_missing(tmp_path: pathlib.Path) -> None:
    mgr = volumes.VolumeManager(str(tmp_path), objects=source(configmap_present={"data": {"k": "v"}}))
    paths = await mgr.prepare(pod(
        {"name": "a", "configMap": {"name": "missing", "optional": True}},
        {"name": "b", "configMap": {"name": "present", "optional": True, "items": [{"key": "nope", "path": "x"}]}}),
        FACTS)
    assert files(paths["a"]) == {} and files(paths["b"]) == {}


async def test_unreadable_object_is_not_an_absent_one(tmp_path: pathlib.Path) -> None:
    objs = source()
    objs.unavailable.add(("configmap", "ns", "slow"))
    mgr = volumes.VolumeManager(str(tmp_path), objects=objs)
    with pytest.raises(volumes.MountError) as exc:
        await mgr.prepare(pod({"name": "v", "configMap": {"name": "slow", "optional": True}}), FACTS)
    assert "couldn't get configmap ns/slow" in exc.value.message


async def test_downward_api_and_projected_volumes(tmp_path: pathlib.Path) -> None:
    objs = source(configmap_settings={"data": {"mode": "fast"}}, secret_creds={"data": {"user": b64("admin")}})
    mgr = volumes.VolumeManager(str(tmp_path), objects=objs)
    items = [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
             {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
             {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
             {"path": "mem", "resourceFieldRef": {"containerName": "c", "resource": "limits.memory",
                                                  "divisor": "1Mi"}},
             {"path": "cpu", "resourceFieldRef": {"containerName": "c", "resource": "limits.cpu", "divisor": "1m"}}]
    p = pod({"name": "info", "downwardAPI": {"items": items}},
            {"name": "all", "projected": {"defaultMode": 0o444, "sources": [
                {"configMap": {"name": "settings"}},
                {"secret": {"name": "creds", "items": [{"key": "user", "path": "secret/user"}]}},
                {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}]}})
    paths = await mgr.prepare(p, FACTS)
    assert files(paths["info"]) == {"labels": 'app="web"\ntier="x"', "annotations": 'note="say \\"hi\\""',
                                    "name": "p", "mem": "64", "cpu": "2000"}  # cpu: the node's, unlimited
    assert files(paths["all"]) == {"mode": "fast", "secret/user": "admin", "ns": "ns"}
    assert os.stat(os.path.join(paths["all"], "mode")).st_mode & 0o777 == 0o444


class Tokens:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str, int]] = []

    async def token(self, pod: Obj, service_account: str, audience: str, expiration_seconds: int) -> str:
        self.asked.append((service_account, audience, expiration_seconds))
        return "header.payload.signature"


async def test_service_account_token_source_seam(tmp_path: pathlib.Path) -> None:
    vol = {"name": "api", "projected": {"sources": [{"serviceAccountToken": {"path": "token", "audience": "vault",
                                                                             "expirationSeconds": 600}}]}}
    tokens = Tokens()
    mgr = volumes.VolumeManager(str(tmp_path), tokens=tokens)
    paths = await mgr.prepare(pod(vol, serviceAccountName="robot"), FACTS)
    assert files(paths["api"]) == {"token": "header.payload.signature"}
    assert tokens.asked == [("robot", "vault", 600)]
    with pytest.raises(volumes.MountError) as exc:
        await volumes.VolumeManager(str(tmp_path / "none")).prepare(pod(vol), FACTS)
    assert "TokenRequest" in exc.value.message
    assert objects.ApiTokenSource.served()  # the API server serves serviceaccounts/token (TokenRequest)


async def test_memory_media_and_cleanup(tmp_path: pathlib.Path) -> None:
    mounter = mount.FakeMounter()
    mgr = volumes.VolumeManager(str(tmp_path), objects=source(secret_s={"data": {}}), mounter=mounter)
    paths = await mgr.prepare(pod({"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
                                  {"name": "disk", "emptyDir": {}}, {"name": "s", "secret": {"secretName": "s"}}),
                              FACTS)
    assert mounter.mounted == {paths["cache"]: 16 * 1024 * 1024, paths["s"]: None}
    assert os.stat(paths["disk"]).st_mode & 0o777 == 0o777
    await mgr.prepare(pod({"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}}), FACTS)
    assert len(mounter.mounted) == 2  # mounted once
    mgr.cleanup("uid-1")
    assert mounter.mounted == {} and not os.path.exists(mgr.pod_dir("uid-1"))


def test_mountinfo_parsing() -> None:
    text = ("36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw\n"
            "37 35 0:22 / /var/lib/kubelet/pods/u/volumes/x rw - tmpfs tmpfs rw\n")
    assert mount.mountpoints(text) == ["/mnt/with space", "/var/lib/kubelet/pods/u/volumes/x"]


async def test_sub_paths(tmp_path: pathlib.Path) -> None:
    mgr = volumes.VolumeManager(str(tmp_path), objects=source(configmap_c={"data": {"app.conf": "x=1"}}))
    p = pod({"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "c"}})
    paths = await mgr.prepare(p, FACTS)
    container = {"name": "c", "volumeMounts": [
        {"name": "data", "mountPath": "/logs", "subPathExpr": "$(POD)/logs"},
        {"name": "cfg", "mountPath": "/etc/app.conf", "subPath": "app.conf"}]}
    mounts = containers.container_mounts(container, paths, {"POD": "p"})
    resolved = mgr.ensure_sub_paths(mounts, paths)
    assert resolved[0].host_path == os.path.join(paths["data"], "p", "logs") and os.path.isdir(resolved[0].host_path)
    # A configMap subPath is the file itself, not the symlink: it does not follow updates, as upstream.
    assert ".." in resolved[1].host_path and open(resolved[1].host_path).read() == "x=1"
    for bad in ({"subPath": "/etc"}, {"subPath": "../../escape"}):
        with pytest.raises(containers.ConfigError):
            containers.container_mounts({"volumeMounts": [{"name": "data", "mountPath": "/x", **bad}]}, paths)
    os.symlink("/etc", os.path.join(paths["data"], "out"))
    with pytest.raises(volumes.MountError):
        mgr.ensure_sub_paths(containers.container_mounts(
            {"volumeMounts": [{"name": "data", "mountPath": "/x", "subPath": "out"}]}, paths), paths)


# -- environment ----------------------------------------------------------------------------------


def ctx(objs: dict[tuple[str, str], Any], warnings: list[tuple[str, str]] | None = None) -> containers.PodContext:
    return containers.PodContext("node-1", "192.0.2.10", "10.244.0.5", {}, {"cpu": "2", "memory": "4Gi"}, objs,
                                 warn=(lambda r, m: warnings.append((r, m))) if warnings is not None else None)


def test_env_from_config_maps_and_secrets() -> None:
    warnings: list[tuple[str, str]] = []
    objs = {("configmap", "settings"): {"data": {"MODE": "fast", "LEVEL": "3", "bad=key": "x"}},
            ("secret", "creds"): {"data": {"PASSWORD": b64("s3cret")}}, ("configmap", "gone"): None}
    container = {"name": "c", "resources": {"limits": {"cpu": "500m"}},
                 "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "APP_"},
                             {"configMapRef": {"name": "gone", "optional": True}}],
                 "env": [{"name": "USER_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "PASSWORD"}}},
                         {"name": "MSG", "value": "mode=$(APP_MODE)"},
                         {"name": "OPT", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "k",
                                                                           "optional": True}}},
                         {"name": "CPU_M", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu",
                                                                              "divisor": "1m"}}},
                         {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                                            "divisor": "1Mi"}}},
                         {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                         {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}]}
    env = dict(containers.container_env(pod(), container, ctx(objs, warnings)))
    assert env == {"APP_MODE": "fast", "APP_LEVEL": "3", "USER_PASSWORD": "s3cret", "MSG": "mode=fast",
                   "CPU_M": "500", "MEM": "4096", "IP": "10.244.0.5", "APP": "web"}
    assert warnings == [("InvalidEnvironmentVariableNames",
                         "Keys [APP_bad=key] from the EnvFrom configMap ns/settings were skipped since they are "
                         "considered invalid environment variable names.")]


@pytest.mark.parametrize("env,objs,message", [
    ({"name": "X", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "k"}}}, {("configmap", "gone"): None},
     'configmap "gone" not found'),
    ({"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}, {("secret", "s"): {"data": {}}},
     "couldn't find key k in Secret ns/s"),
    ({"name": "X", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}, {("configmap", "c"): {"data": {}}},
     "couldn't find key k in ConfigMap ns/c"),
    ({"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.volumes"}}}, {}, "unsupported fieldPath"),
])
def test_env_errors_are_config_errors(env: Obj, objs: dict[tuple[str, str], Any], message: str) -> None:
    with pytest.raises(containers.ConfigError) as exc:
        containers.container_env(pod(), {"name": "c", "env": [env]}, ctx(objs))
    assert exc.value.reason == "CreateContainerConfigError" and message in exc.value.message


def test_referenced_objects() -> None:
    p = pod({"name": "a", "configMap": {"name": "cm1"}}, {"name": "b", "secret": {"secretName": "s1"}},
            {"name": "c", "projected": {"sources": [{"configMap": {"name": "cm2"}}, {"secret": {"name": "s2"}}]}})
    p["spec"]["initContainers"] = [{"name": "i", "envFrom": [{"secretRef": {"name": "s3"}}]}]
    p["spec"]["containers"][0]["env"] = [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm3", "key": "k"}}}]
    assert objects.referenced(p) == {("configmap", "ns", n) for n in ("cm1", "cm2", "cm3")} | \
        {("secret", "ns", n) for n in ("s1", "s2", "s3")}


def test_runtime_mount_is_a_record() -> None:
    assert runtime.Mount("/a", "/b").read_only is False


class WatchClient:
    """list/watch/get of name-pinned ConfigMaps, as the API server answers them."""

    def __init__(self) -> None:
        self.objects: dict[str, Obj] = {"settings": {"metadata": {"name": "settings", "namespace": "ns",
                                                                  "resourceVersion": "1"}, "data": {"k": "v"}}}
        self.lists: list[str | None] = []
        self.gets: list[str] = []
        self.events: "asyncio.Queue[Obj]" = asyncio.Queue()

    async def list(self, res: Any, namespace: str | None = None, *, label_selector: str | None = None,
                   field_selector: str | None = None) -> Obj:
        self.lists.append(field_selector)
        name = (field_selector or "").split("=", 1)[1]
        items = [self.objects[name]] if name in self.objects else []
        return {"metadata": {"resourceVersion": "1"}, "items": items}

    async def list_all(self, res: Any, namespace: str | None = None, *, label_selector: str | None = None,
                       field_selector: str | None = None, page_size: int = 500) -> Obj:
        return await self.list(res, namespace, label_selector=label_selector, field_selector=field_selector)

    async def watch(self, res: Any, namespace: str | None = None, **kw: Any) -> Any:
        while True:
            yield await self.events.get()

    async def get(self, res: Any, name: str, namespace: str | None = None) -> Obj:
        self.gets.append(name)
        if name not in self.objects:
            raise objects.errors.NotFound("configmaps", name)
        return self.objects[name]


async def test_watching_object_source_pins_watches_to_names() -> None:
    client = WatchClient()
    changed: list[set[str]] = []
    src = objects.WatchingObjectSource(client, lambda uids: changed.append(set(uids)),  # type: ignore[arg-type]
                                       max_watches=1, clock=lambda: 0.0)
    p = pod({"name": "cfg", "configMap": {"name": "settings"}})
    other = pod({"name": "cfg", "configMap": {"name": "other"}})
    other["metadata"]["uid"] = "uid-2"
    src.register_pod(p)
    src.register_pod(other)
    assert await src.get("configmap", "ns", "settings") == client.objects["settings"]
    assert client.lists == ["metadata.name=settings"]  # one list, pinned to the name
    # Past max_watches, an object is read by GET (cached for poll_ttl).
    assert await src.get("configmap", "ns", "other") is None
    assert client.gets == ["other"] and src.watching() == 1
    await client.events.put({"type": "MODIFIED", "object": {
        "metadata": {"name": "settings", "namespace": "ns", "resourceVersion": "2"}, "data": {"k": "w"}}})
    await procs_wait(lambda: changed)
    assert changed == [{"uid-1"}]
    assert (await src.get("configmap", "ns", "settings"))["data"] == {"k": "w"}  # type: ignore[index]
    src.unregister_pod("uid-1")
    src.unregister_pod("uid-2")
    assert src.watching() == 0
    await src.stop()


async def procs_wait(fn: Any) -> None:
    for _ in range(100):
        if fn():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met")


async def test_immutable_objects_are_not_watched_once_read() -> None:
    client = WatchClient()
    client.objects["settings"]["immutable"] = True
    src = objects.WatchingObjectSource(client, lambda uids: None)  # type: ignore[arg-type]
    src.register_pod(pod({"name": "cfg", "configMap": {"name": "settings"}}))
    assert (await src.get("configmap", "ns", "settings"))["data"] == {"k": "v"}  # type: ignore[index]
    await procs_wait(lambda: src.watching() == 0)
    assert (await src.get("configmap", "ns", "settings"))["data"] == {"k": "v"}  # type: ignore[index]
    assert client.gets == [] and client.lists == ["metadata.name=settings"]
    await src.stop()
