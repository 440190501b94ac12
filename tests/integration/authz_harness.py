"""An API server run in the test process, with a client certificate per test user.

The users of the authorization tests (TOKENS: a short name → the user it stands
for) each get a client certificate from the test PKI (tests/conftest.py
test_pki(): CN = user, O = groups), so every request goes through the real
chain: TLS, the x509 authenticator, impersonation, the authorizer. The "token"
arguments below are those short names; a name that is not in TOKENS is sent as
a bearer token, which the real authenticator refuses (401). Requests with no
name are anonymous.

The server runs in this process (not as a `minik8s apiserver` process) so tests
can look at its policy and graph directly.
"""
from __future__ import annotations

import asyncio
import os
import pathlib
import shutil
import subprocess
import threading
import urllib.request
import uuid

from minik8s.api import resources
from minik8s.apiserver import server as server_mod
from minik8s.apiserver.authz import user as u
from minik8s.client import informer as informer_mod
from minik8s.client import kubeconfig as kubeconfig_mod
from minik8s.client import rest
from minik8s.client import tls as tls_mod
from minik8s.controllers import serviceaccounts as sa_controllers
from minik8s.util import procs
from tests import conftest

KUBECTL_DIR = "/usr/lib/google-cloud-sdk/bin"
SERVICE_ACCOUNTS = resources.must("", "v1", "serviceaccounts")


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


def credentials(token: str) -> tuple[str, tuple[str, ...]]:
    """(CN, O) of the certificate standing for TOKENS[token]."""
    user = TOKENS[token]
    return user.name, tuple(g for g in user.groups if g != u.ALL_AUTHENTICATED)


def tls_for(token: str | None) -> tls_mod.TLSConfig:
    """The test CA, and the certificate of TOKENS[token] (none for anonymous or unknown names)."""
    pki = conftest.test_pki()
    if token is None or token not in TOKENS:
        return tls_mod.TLSConfig(ca=pki.ca.cert_pem)
    return pki.tls(*credentials(token))


def opener(token: str | None) -> urllib.request.OpenerDirector:
    """A urllib opener presenting TOKENS[token]'s certificate (none for anonymous or unknown names)."""
    if token is None or token not in TOKENS:
        return conftest.opener(None)
    return conftest.opener(*credentials(token))


class InProcessApiServer:
    """The real ApiServer on its own event loop in a thread, on a fresh etcd prefix."""

    def __init__(self, etcd: procs.EtcdProcess, tmp: pathlib.Path) -> None:
        self.tmp = tmp
        self.port = procs.free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        pki = conftest.test_pki()
        cert, key = pki.serving("127.0.0.1")
        self.config = server_mod.Config(etcd_endpoints=[etcd.endpoint], etcd_prefix=f"/authz-{uuid.uuid4().hex[:8]}",
                                        port=self.port, bind_address="127.0.0.1", advertise_address="127.0.0.1",
                                        etcd_timeout=2.0, tls_cert_file=cert, tls_private_key_file=key,
                                        client_ca_file=pki.ca_file, service_account_key_files=[str(pki.paths.sa_pub)],
                                        service_account_signing_key_file=str(pki.paths.sa_key))
        self._controllers: list[asyncio.Task[None]] = []
        self._factory: informer_mod.InformerFactory | None = None
        self._cm: rest.Client | None = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="apiserver", daemon=True)
        self.thread.start()
        self.api: server_mod.ApiServer = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(90)

    async def _start(self) -> server_mod.ApiServer:
        api = server_mod.ApiServer(self.config)
        await api.start()
        # The controller manager's ServiceAccount controllers, as its own user, as in every
        # cluster: pods are admitted once their namespace's `default` ServiceAccount exists.
        self._cm = self.client("cm")
        self._factory = informer_mod.InformerFactory(self._cm)
        controllers = [sa_controllers.ServiceAccountsController(self._cm, self._factory),
                       sa_controllers.RootCACertPublisher(self._cm, self._factory, conftest.test_pki().ca.cert_pem.decode())]
        self._factory.start()
        await self._factory.wait_synced()
        self._controllers = [asyncio.get_running_loop().create_task(c.run()) for c in controllers]
        return api

    async def _stop_controllers(self) -> None:
        for task in self._controllers:
            task.cancel()
        await asyncio.gather(*self._controllers, return_exceptions=True)
        if self._factory is not None:
            await self._factory.stop()
        if self._cm is not None:
            await self._cm.close()

    def wait_for_service_account(self, namespace: str, timeout: float = 30) -> None:
        procs.wait_for(lambda: asyncio.run_coroutine_threadsafe(self._peek_account(namespace), self.loop).result(10),
                       timeout, what=f"ServiceAccount {namespace}/default")

    async def _peek_account(self, namespace: str) -> bool:
        assert self._cm is not None
        return await self._cm.get_or_none(SERVICE_ACCOUNTS, "default", namespace) is not None

    def stop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self._stop_controllers(), self.loop).result(30)
            asyncio.run_coroutine_threadsafe(self.api.stop(), self.loop).result(30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    def client(self, token: str | None) -> rest.Client:
        bearer = token if token is not None and token not in TOKENS else None
        return rest.Client(self.url, token=bearer, tls=tls_for(token))

    def kubeconfig(self, token: str | None) -> str:
        """A kubeconfig for kubectl and the components: the test CA, TOKENS[token]'s certificate."""
        path = self.tmp / f"kubeconfig-{token or 'anonymous'}"
        if not path.exists():
            tls = tls_for(token)
            bearer = token if token is not None and token not in TOKENS else None
            kubeconfig_mod.write_context(path, "authz", self.url, ca=tls.ca, cert=tls.cert, key=tls.key,
                                         token=bearer)
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
