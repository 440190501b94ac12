"""The control-plane certificates handed to a joining master (minik8s.cluster.copycerts,
minik8s.cluster.controlplane) and their expiry with a bootstrap token (the tokencleaner)."""
from __future__ import annotations

import base64
import datetime
import pathlib
from typing import Any

import pytest

from minik8s.api import bootstraptoken
from minik8s.api import errors
from minik8s.api import rfc3339
from minik8s.client import informer as informer_mod
from minik8s.cluster import bootstrap
from minik8s.cluster import config
from minik8s.cluster import controlplane
from minik8s.cluster import copycerts
from minik8s.controllers import bootstrap as bootstrap_controllers

KEY = bytes(range(32))
FILES = {name: f"-----BEGIN {name}-----\nsecret of {name}\n".encode() for name in copycerts.SHARED_FILES}
FILES[copycerts.CLUSTER_FILE] = b"api_port: 6443\n"


def test_encryption_round_trip_and_a_fresh_nonce_each_time() -> None:
    a = copycerts.encrypt(KEY, "ca.key", b"the CA's key")
    b = copycerts.encrypt(KEY, "ca.key", b"the CA's key")
    assert a != b and b"the CA's key" not in a
    assert copycerts.decrypt(KEY, "ca.key", a) == copycerts.decrypt(KEY, "ca.key", b) == b"the CA's key"


def test_a_wrong_key_or_a_value_under_another_name_does_not_decrypt() -> None:
    blob = copycerts.encrypt(KEY, "ca.key", b"the CA's key")
    with pytest.raises(copycerts.CertsError, match="does not decrypt"):
        copycerts.decrypt(bytes(32), "ca.key", blob)
    with pytest.raises(copycerts.CertsError, match="does not decrypt"):  # the name is associated data
        copycerts.decrypt(KEY, "sa.key", blob)
    with pytest.raises(copycerts.CertsError, match="too short"):
        copycerts.decrypt(KEY, "ca.key", blob[:copycerts.NONCE_BYTES])


@pytest.mark.parametrize("text", ["", "zz" * 32, "00" * 31, "00" * 33, "not hex"])
def test_a_certificate_key_is_64_hex_digits(text: str) -> None:
    with pytest.raises(copycerts.CertsError, match="64 hex digits"):
        copycerts.parse_key(text)


def test_new_keys_parse_and_differ() -> None:
    a, b = copycerts.new_key(), copycerts.new_key()
    assert a != b and len(copycerts.parse_key(a)) == copycerts.KEY_BYTES
    assert copycerts.parse_key(f"  {a.upper()}\n") == bytes.fromhex(a)


def test_the_secret_holds_every_file_encrypted_and_is_owned_by_its_token() -> None:
    owner = {"metadata": {"name": "bootstrap-token-abcdef", "uid": "u-1"}}
    secret = copycerts.certs_secret(FILES, KEY, owner)
    assert secret["metadata"] == {"name": "minik8s-certs", "namespace": "kube-system",
                                  "ownerReferences": [{"apiVersion": "v1", "kind": "Secret",
                                                       "name": "bootstrap-token-abcdef", "uid": "u-1"}]}
    assert secret["type"] == "Opaque" and set(secret["data"]) == set(FILES)
    for name, value in secret["data"].items():
        assert b"secret of" not in base64.b64decode(value), name
    assert copycerts.open_secret(secret, KEY) == FILES
    with pytest.raises(copycerts.CertsError, match="does not decrypt"):
        copycerts.open_secret(secret, bytes(32))
    del secret["data"]["sa.key"]
    with pytest.raises(copycerts.CertsError, match="lacks sa.key"):
        copycerts.open_secret(secret, KEY)


def test_the_ttl_token_expires_and_can_neither_authenticate_nor_sign() -> None:
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    token = copycerts.ttl_token_secret(600, now)
    assert token["type"] == bootstraptoken.SECRET_TYPE
    assert token["metadata"]["name"].startswith(bootstraptoken.SECRET_PREFIX)
    data = {k: base64.b64decode(v).decode() for k, v in token["data"].items()}
    assert rfc3339.parse(data[bootstraptoken.EXPIRATION]) == now + datetime.timedelta(seconds=600)
    assert bootstraptoken.USAGE_AUTHENTICATION not in data and bootstraptoken.USAGE_SIGNING not in data


def test_cluster_settings_round_trip_and_refuse_garbage() -> None:
    s = copycerts.ClusterSettings(api_port=6443, service_cidr="10.96.0.0/12", cluster_cidr="10.244.0.0/16",
                                  node_cidr_mask_size=24, cluster_domain="cluster.local", dns_service_ip="10.96.0.10",
                                  etcd_client_port=2379, etcd_peer_port=2380)
    assert copycerts.ClusterSettings.from_yaml(s.to_yaml()) == s
    with pytest.raises(copycerts.CertsError, match="unreadable"):
        copycerts.ClusterSettings.from_yaml(b"api_port: 6443\n")


class FakeClient:
    """Secrets in kube-system, as the API server would keep them."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        self.uids = 0

    async def create(self, res: Any, obj: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        name = obj["metadata"]["name"]
        if name in self.objects:
            raise errors.AlreadyExists("secrets", name)
        self.uids += 1
        obj = {**obj, "metadata": {**obj["metadata"], "uid": f"uid-{self.uids}", "resourceVersion": str(self.uids)}}
        self.objects[name] = obj
        return obj

    async def get(self, res: Any, name: str, namespace: str | None = None) -> dict[str, Any]:
        if name not in self.objects:
            raise errors.NotFound("secrets", name)
        return self.objects[name]

    async def update(self, res: Any, obj: dict[str, Any]) -> dict[str, Any]:
        name = obj["metadata"]["name"]
        assert obj["metadata"]["resourceVersion"] == self.objects[name]["metadata"]["resourceVersion"]
        self.objects[name] = obj
        return obj

    async def delete(self, res: Any, name: str, namespace: str | None = None, **_: Any) -> dict[str, Any]:
        self.deleted.append(name)
        return self.objects.pop(name)


async def test_upload_then_download_and_an_upload_replaces_the_last() -> None:
    client = FakeClient()
    await copycerts.upload(client, FILES, KEY, ttl=60)  # type: ignore[arg-type]
    secret = client.objects["minik8s-certs"]
    (ref,) = secret["metadata"]["ownerReferences"]
    assert client.objects[ref["name"]]["metadata"]["uid"] == ref["uid"]
    assert await copycerts.download(client, KEY) == FILES  # type: ignore[arg-type]
    with pytest.raises(copycerts.CertsError, match="does not decrypt"):
        await copycerts.download(client, bytes(32))  # type: ignore[arg-type]

    other = bytes(reversed(KEY))
    await copycerts.upload(client, FILES, other, ttl=60)  # type: ignore[arg-type]
    (new_ref,) = client.objects["minik8s-certs"]["metadata"]["ownerReferences"]
    assert new_ref["uid"] != ref["uid"]  # owned by the new upload's token only
    assert await copycerts.download(client, other) == FILES  # type: ignore[arg-type]
    with pytest.raises(copycerts.CertsError, match="ttl must be positive"):
        await copycerts.upload(client, FILES, KEY, ttl=0)  # type: ignore[arg-type]


async def test_download_says_when_nothing_was_uploaded() -> None:
    with pytest.raises(copycerts.CertsError, match="does not exist: it expired or was never uploaded"):
        await copycerts.download(FakeClient(), KEY)  # type: ignore[arg-type]


def test_shared_files_are_written_with_private_keys_private(tmp_path: pathlib.Path) -> None:
    files = {name: FILES[name] for name in copycerts.SHARED_FILES}
    written = copycerts.write_shared(tmp_path, files)
    assert sorted(p.name for p in written) == sorted(copycerts.SHARED_FILES)
    for path in written:
        private = copycerts.SHARED_FILES[path.name]
        assert (path.stat().st_mode & 0o077 == 0) is private, path
    assert copycerts.read_shared(tmp_path) == files
    (tmp_path / "pki" / "sa.key").unlink()
    with pytest.raises(copycerts.CertsError, match="sa.key"):
        copycerts.read_shared(tmp_path)


# --- the tokencleaner deletes the upload with its token -----------------------------------------


def _cleaner(client: FakeClient) -> bootstrap_controllers.TokenCleaner:
    return bootstrap_controllers.TokenCleaner(client, informer_mod.InformerFactory(None))  # type: ignore[arg-type]


def _cache(c: bootstrap_controllers.TokenCleaner, client: FakeClient) -> None:
    c.secrets.store.clear()
    for obj in client.objects.values():
        c.secrets.store[f"kube-system/{obj['metadata']['name']}"] = obj


async def test_the_certificates_go_when_their_token_goes() -> None:
    client = FakeClient()
    await copycerts.upload(client, FILES, KEY, ttl=60)  # type: ignore[arg-type]
    (ref,) = client.objects["minik8s-certs"]["metadata"]["ownerReferences"]
    c = _cleaner(client)
    _cache(c, client)
    await c.sync("kube-system/minik8s-certs")
    assert client.deleted == []  # its token is alive
    # Expired: the token goes first, then what it owns.
    expired = rfc3339.format(datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    client.objects[ref["name"]]["data"][bootstraptoken.EXPIRATION] = base64.b64encode(expired.encode()).decode()
    _cache(c, client)
    await c.sync(f"kube-system/{ref['name']}")
    assert client.deleted == [ref["name"]]
    _cache(c, client)
    await c.sync("kube-system/minik8s-certs")
    assert client.deleted == [ref["name"], "minik8s-certs"]


async def test_the_certificates_stay_while_a_token_of_that_name_and_uid_is_live() -> None:
    client = FakeClient()
    await copycerts.upload(client, FILES, KEY, ttl=60)  # type: ignore[arg-type]
    (ref,) = client.objects["minik8s-certs"]["metadata"]["ownerReferences"]
    c = _cleaner(client)
    _cache(c, client)
    del c.secrets.store[f"kube-system/{ref['name']}"]  # not in the cache yet, but live
    await c.sync("kube-system/minik8s-certs")
    assert client.deleted == []
    # A token of the same name but another uid is not the owner.
    client.objects[ref["name"]]["metadata"]["uid"] = "someone-else"
    _cache(c, client)
    await c.sync("kube-system/minik8s-certs")
    assert client.deleted == ["minik8s-certs"]


async def test_a_secret_with_another_owner_too_is_left_to_it() -> None:
    client = FakeClient()
    secret = copycerts.certs_secret(FILES, KEY, {"metadata": {"name": "bootstrap-token-gone00", "uid": "x"}})
    secret["metadata"]["ownerReferences"].append({"apiVersion": "v1", "kind": "ConfigMap", "name": "keep",
                                                  "uid": "y"})
    await client.create(bootstrap.SECRETS, secret)
    c = _cleaner(client)
    _cache(c, client)
    await c.sync("kube-system/minik8s-certs")
    assert client.deleted == []


# --- etcd membership --------------------------------------------------------------------------------


TLS = controlplane.EtcdTLS("ca", "crt", "key")


def _member(ident: int, name: str, ip: str) -> dict[str, Any]:
    return {"ID": ident, "name": name, "peerURLs": [f"https://{ip}:2380"]}


def test_add_member_adds_once_and_names_the_new_member(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, ...]] = []
    members = [_member(1, "minik8s", "10.0.0.11")]

    def etcdctl(endpoints: Any, tls: Any, *args: str, timeout: float = 10) -> dict[str, Any]:
        calls.append(args)
        if args[:2] == ("member", "list"):
            return {"members": members}
        members.append({"ID": 2, "peerURLs": ["https://10.0.0.12:2380"]})  # added: no name until it starts
        return {"member": {"ID": 2}, "members": members}

    monkeypatch.setattr(controlplane, "etcdctl", etcdctl)
    got = controlplane.add_member(["https://10.0.0.11:2379"], TLS, "master2", "https://10.0.0.12:2380")
    assert got == [("minik8s", "10.0.0.11"), ("master2", "10.0.0.12")]
    assert calls == [("member", "list"), ("member", "add", "master2", "--peer-urls=https://10.0.0.12:2380")]
    # A second attempt (the first died before writing its files) finds its member added.
    calls.clear()
    got = controlplane.add_member(["https://10.0.0.11:2379"], TLS, "master2", "https://10.0.0.12:2380")
    assert got == [("minik8s", "10.0.0.11"), ("master2", "10.0.0.12")] and calls == [("member", "list")]


def test_another_added_but_unstarted_member_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    members = [_member(1, "minik8s", "10.0.0.11"), {"ID": 3, "peerURLs": ["https://10.0.0.13:2380"]}]

    def etcdctl(endpoints: Any, tls: Any, *args: str, timeout: float = 10) -> dict[str, Any]:
        if args[:2] == ("member", "list"):
            return {"members": members}
        return {"member": {"ID": 2}, "members": [*members, {"ID": 2, "peerURLs": ["https://10.0.0.12:2380"]}]}

    monkeypatch.setattr(controlplane, "etcdctl", etcdctl)
    with pytest.raises(controlplane.JoinError, match="was added but never started"):
        controlplane.add_member(["https://10.0.0.11:2379"], TLS, "master2", "https://10.0.0.12:2380")


def test_an_unhealthy_cluster_is_retried_until_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    tries = []

    def etcdctl(endpoints: Any, tls: Any, *args: str, timeout: float = 10) -> dict[str, Any]:
        if args[:2] == ("member", "list"):
            return {"members": [_member(1, "minik8s", "10.0.0.11")]}
        tries.append(args)
        if len(tries) < 3:
            raise controlplane.JoinError("etcdctl member add: etcdserver: unhealthy cluster")
        return {"member": {"ID": 2}, "members": [_member(1, "minik8s", "10.0.0.11"),
                                                 {"ID": 2, "peerURLs": ["https://10.0.0.12:2380"]}]}

    monkeypatch.setattr(controlplane, "etcdctl", etcdctl)
    monkeypatch.setattr(controlplane.time, "sleep", lambda _s: None)
    got = controlplane.add_member(["e"], TLS, "master2", "https://10.0.0.12:2380", timeout=60)
    assert len(tries) == 3 and got[-1] == ("master2", "10.0.0.12")


# --- rendering ---------------------------------------------------------------------------------------


def test_init_renders_a_growable_one_member_etcd() -> None:
    m = config.growable(config.MasterConfig(advertise_address="10.0.0.11", etcd_data_dir="/var/lib/minik8s/etcd"))
    etcd = config.master_files(m)["etcd.yaml"]
    assert etcd["listen-client-urls"] == "http://127.0.0.1:2379,https://10.0.0.11:2379"
    assert etcd["advertise-client-urls"] == "https://10.0.0.11:2379"
    assert etcd["listen-peer-urls"] == etcd["initial-advertise-peer-urls"] == "https://10.0.0.11:2380"
    assert etcd["initial-cluster"] == "minik8s=https://10.0.0.11:2380"
    assert etcd["initial-cluster-state"] == "new"
    tls = etcd["client-transport-security"]
    assert tls == {"cert-file": "/etc/minik8s/pki/etcd-server.crt", "key-file": "/etc/minik8s/pki/etcd-server.key",
                   "trusted-ca-file": "/etc/minik8s/pki/etcd-ca.crt", "client-cert-auth": True}
    assert etcd["peer-transport-security"]["trusted-ca-file"] == "/etc/minik8s/pki/etcd-ca.crt"
    assert etcd["peer-transport-security"]["client-cert-auth"] is True
    # The API server beside it keeps the plain loopback URL.
    assert config.master_files(m)["apiserver.yaml"]["apiserver"]["etcd-endpoints"] == "http://127.0.0.1:2379"


def test_a_joined_master_renders_an_existing_member_with_the_first_masters_settings(tmp_path: pathlib.Path) -> None:
    first = config.growable(config.MasterConfig(
        advertise_address="10.0.0.11", api_port=7443, service_cluster_ip_range="10.100.0.0/16",
        cluster_cidr="10.50.0.0/16", dns_service_ip="10.100.0.10", etcd_client_port=12379, etcd_peer_port=12380,
        config_dir=str(tmp_path)))
    config.write_files(tmp_path, config.master_files(first))
    settings = controlplane.settings_of(tmp_path)
    assert (settings.api_port, settings.service_cidr, settings.cluster_cidr, settings.dns_service_ip,
            settings.etcd_client_port, settings.etcd_peer_port) == (7443, "10.100.0.0/16", "10.50.0.0/16",
                                                                    "10.100.0.10", 12379, 12380)
    m = controlplane.master_config(settings, address="10.0.0.12", etcd_name="master2",
                                   etcd_data_dir="/var/lib/minik8s/etcd", members=[("minik8s", "10.0.0.11"),
                                                                                   ("master2", "10.0.0.12")],
                                   config_dir="/etc/minik8s", overrides={})
    files = config.master_files(m)
    etcd = files["etcd.yaml"]
    assert etcd["name"] == "master2" and etcd["initial-cluster-state"] == "existing"
    assert etcd["initial-cluster"] == "minik8s=https://10.0.0.11:12380,master2=https://10.0.0.12:12380"
    assert etcd["listen-client-urls"] == "http://127.0.0.1:12379,https://10.0.0.12:12379"
    assert etcd["initial-advertise-peer-urls"] == "https://10.0.0.12:12380"
    api = files["apiserver.yaml"]["apiserver"]
    assert api["port"] == 7443 and api["service-cluster-ip-range"] == "10.100.0.0/16"
    assert api["advertise-address"] == "10.0.0.12"
    assert files["controller-manager.yaml"]["controller-manager"]["cluster-cidr"] == "10.50.0.0/16"
    assert files["dns.yaml"]["dns"]["service-ip"] == "10.100.0.10"


async def test_a_deleted_token_queues_what_it_owns() -> None:
    """`minik8s token delete` of the upload's token: the tokencleaner looks at the certificates at once."""
    client = FakeClient()
    await copycerts.upload(client, FILES, KEY, ttl=60)  # type: ignore[arg-type]
    (ref,) = client.objects["minik8s-certs"]["metadata"]["ownerReferences"]
    c = _cleaner(client)
    _cache(c, client)
    token = client.objects.pop(ref["name"])
    del c.secrets.store[f"kube-system/{ref['name']}"]
    c._deleted(token)
    assert len(c.queue) == 1 and await c.queue.get() == "kube-system/minik8s-certs"
    await c.sync("kube-system/minik8s-certs")
    assert client.deleted == ["minik8s-certs"]
    c._deleted(client.objects.get("minik8s-certs") or {"metadata": {"name": "other", "uid": "z"}})
    assert len(c.queue) == 0  # not a token: nothing to follow
