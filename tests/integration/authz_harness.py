"""An API server run in the test process, so tests can say who each request is from.

Until authentication (the other half of issue 13) is merged, the API server's
authentication seam is a placeholder that makes everyone system:masters. Here
the test process puts, in that seam, a table of bearer tokens → users: the
fake authenticator a unit test would use, but in front of the real API server,
real etcd, real kubectl and real component processes. Nothing of it is in the
server itself: no option or header a real client could use selects a user.
Requests without a token are anonymous, as the real authenticator makes them.

kubectl sends credentials only over https, so the harness also serves the same
application over TLS on a second port, with a throwaway CA made here (the real
API server's TLS is the authentication half's); Python clients use plain http.
"""
from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import pathlib
import shutil
import subprocess
import ssl
import threading
import uuid
from typing import Any

import yaml
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from minik8s.api import errors
from minik8s.apiserver import server as server_mod
from minik8s.apiserver.authz import filters
from minik8s.apiserver.authz import user as u
from minik8s.client import rest
from minik8s.util import procs

KUBECTL_DIR = "/usr/lib/google-cloud-sdk/bin"


def node(name: str) -> u.UserInfo:
    return u.UserInfo(f"system:node:{name}", groups=(u.NODES_GROUP, u.ALL_AUTHENTICATED))


def person(name: str, *groups: str) -> u.UserInfo:
    return u.UserInfo(name, groups=(*groups, u.ALL_AUTHENTICATED))


TOKENS: dict[str, u.UserInfo] = {
    "admin": person("admin", u.SYSTEM_PRIVILEGED_GROUP),
    "bob": person("bob"),
    "carol": person("carol"),
    "alice": person("alice", "devs"),
    "n1": node("authz-n1"),
    "n2": node("authz-n2"),
    "n3": node("authz-n3"),
    "cm": person(u.KUBE_CONTROLLER_MANAGER),
    "sched": person(u.KUBE_SCHEDULER),
    "proxy": person(u.KUBE_PROXY),
    "dns": person(u.KUBE_DNS),
    "net": person(u.NETWORK_AGENT),
}


def token_authentication(tokens: dict[str, u.UserInfo]) -> Any:
    @web.middleware
    async def authenticate(request: web.Request, handler: Any) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        if not header:
            request[filters.USER_KEY] = u.anonymous()
        elif header.startswith("Bearer ") and header[len("Bearer "):] in tokens:
            request[filters.USER_KEY] = tokens[header[len("Bearer "):]]
        else:
            raise errors.Unauthorized()
        return await handler(request)
    return authenticate


def self_signed(tmp: pathlib.Path) -> tuple[str, str]:
    """(certificate, key) files for 127.0.0.1, the certificate its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "authz-test-apiserver")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "apiserver.crt", tmp / "apiserver.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return str(cert_file), str(key_file)


class InProcessApiServer:
    """The real ApiServer on its own event loop in a thread, on a fresh etcd prefix."""

    def __init__(self, etcd: procs.EtcdProcess, tmp: pathlib.Path) -> None:
        self.tmp = tmp
        self.port = procs.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tls_port = procs.free_port()
        self.cert, self.key = self_signed(tmp)
        self.config = server_mod.Config(etcd_endpoints=[etcd.endpoint], etcd_prefix=f"/authz-{uuid.uuid4().hex[:8]}",
                                        port=self.port, bind_address="127.0.0.1", advertise_address="127.0.0.1",
                                        etcd_timeout=2.0)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="apiserver", daemon=True)
        self.thread.start()
        self.api: server_mod.ApiServer = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(90)

    async def _start(self) -> server_mod.ApiServer:
        api = server_mod.ApiServer(self.config)
        api.authentication = token_authentication(TOKENS)
        await api.start()
        assert api.runner is not None
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        await web.TCPSite(api.runner, "127.0.0.1", self.tls_port, ssl_context=ctx).start()
        return api

    def stop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.api.stop(), self.loop).result(30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    def client(self, token: str | None) -> rest.Client:
        return rest.Client(self.url, token=token)

    def kubeconfig(self, token: str | None) -> str:
        """A kubeconfig for kubectl: https, the test CA, the user's token."""
        path = self.tmp / f"kubeconfig-{token or 'anonymous'}"
        user = {"token": token} if token else {}
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "authz",
            "clusters": [{"name": "authz", "cluster": {"server": f"https://127.0.0.1:{self.tls_port}",
                                                       "certificate-authority": self.cert}}],
            "users": [{"name": "authz", "user": user}],
            "contexts": [{"name": "authz", "context": {"cluster": "authz", "user": "authz"}}]}))
        path.chmod(0o600)
        return str(path)

    def kubectl(self, token: str | None, *args: str, version: str = "1.32", check: bool = True,
                input: str | None = None) -> subprocess.CompletedProcess[str]:
        cache = self.tmp / f"kubecache-{token}-{version}"
        env = dict(os.environ, KUBECONFIG=self.kubeconfig(token), KUBECACHEDIR=str(cache), HOME=str(cache))
        binary = shutil.which(f"kubectl.{version}", path=KUBECTL_DIR) or f"{KUBECTL_DIR}/kubectl.{version}"
        proc = subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=60, input=input)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} as {token} failed ({proc.returncode}):\n"
                                 f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc
