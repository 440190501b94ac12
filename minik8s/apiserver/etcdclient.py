"""etcd clients over plain HTTP or TLS with a client certificate, as kube-apiserver's
`--etcd-cafile`, `--etcd-certfile` and `--etcd-keyfile`.

aetcd (1.0) only opens insecure gRPC channels; `Client` is aetcd's client whose
channel is a TLS one for `https://` endpoints. An external etcd cluster (kubeadm's
topology, `cluster up --etcd external`) serves its clients only over TLS and only
to certificates its own CA signed, so the API server and `minik8s etcd ...` need
this.

The options are checked before anything connects (`TLS.check`), so a typo in a
path or an https endpoint without a CA is a start-up error naming the option, not
a stream of "etcd unavailable" retries.
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import ssl
import urllib.parse
from typing import Any

import aetcd
import aetcd.rpc
import aetcd.watcher
import grpc

DEFAULT_PORT = 2379


class ConfigError(ValueError):
    """The endpoints and TLS options do not fit together; the message names the option."""


@dataclasses.dataclass(frozen=True)
class TLS:
    """The files a client presents and trusts; empty strings: not given."""

    cafile: str = ""
    certfile: str = ""
    keyfile: str = ""

    @property
    def given(self) -> bool:
        return bool(self.cafile or self.certfile or self.keyfile)

    def check(self, endpoints: list[str], *, names: tuple[str, str, str] = (
            "--etcd-cafile", "--etcd-certfile", "--etcd-keyfile")) -> None:
        """Refuse what cannot work: https without a CA, a certificate without its key (or the
        other way round), files that do not exist or do not load, TLS files with only
        plain-HTTP endpoints, a mix of http and https endpoints. `names`: the options as
        the caller's command line spells them."""
        ca_name, cert_name, key_name = names
        schemes = {scheme(e) for e in endpoints}
        if len(schemes) > 1:
            raise ConfigError(f"the etcd endpoints mix http and https ({', '.join(endpoints)}); use one scheme")
        secure = schemes == {"https"}
        if secure and not self.cafile:
            raise ConfigError(f"https etcd endpoints need {ca_name} (the CA that signed the etcd members' "
                              "serving certificates)")
        if not secure and self.given:
            raise ConfigError(f"{ca_name}/{cert_name}/{key_name} are given but the etcd endpoints are plain http "
                              f"({', '.join(endpoints)}); use https:// endpoints")
        if bool(self.certfile) != bool(self.keyfile):
            raise ConfigError(f"{cert_name} and {key_name} go together (a client certificate and its key)")
        for name, path in ((ca_name, self.cafile), (cert_name, self.certfile), (key_name, self.keyfile)):
            if path and not os.path.isfile(path):
                raise ConfigError(f"{name} {path}: no such file")
        if not secure:
            return
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        try:
            ctx.load_verify_locations(cafile=self.cafile)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"{ca_name} {self.cafile}: not a PEM CA bundle ({e})") from None
        if self.certfile:
            try:
                ctx.load_cert_chain(self.certfile, self.keyfile)
            except (OSError, ssl.SSLError) as e:
                raise ConfigError(f"{cert_name} {self.certfile} / {key_name} {self.keyfile}: not a PEM "
                                  f"certificate and its key ({e})") from None

    def credentials(self) -> grpc.ChannelCredentials:
        """Read at each new client, so renewed files take effect on the next (re)connect."""
        def read(path: str) -> bytes | None:
            if not path:
                return None
            with open(path, "rb") as f:
                return f.read()

        return grpc.ssl_channel_credentials(root_certificates=read(self.cafile), private_key=read(self.keyfile),
                                            certificate_chain=read(self.certfile))


def scheme(endpoint: str) -> str:
    return urllib.parse.urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}").scheme


def host_port(endpoint: str) -> tuple[str, int]:
    ep = endpoint.strip()
    url = urllib.parse.urlsplit(ep if "://" in ep else f"http://{ep}")
    if url.scheme not in ("http", "https"):
        raise ConfigError(f"{endpoint}: an etcd endpoint is http://HOST:PORT or https://HOST:PORT")
    return url.hostname or "127.0.0.1", url.port or DEFAULT_PORT


class Client(aetcd.Client):
    """aetcd's client; over TLS when given channel credentials."""

    def __init__(self, *, credentials: grpc.ChannelCredentials | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self._credentials = credentials

    async def connect(self) -> None:
        if self._credentials is None:
            await super().connect()
            return
        if self._connected.is_set():
            return
        if self._is_connecting:  # type: ignore[has-type]  # aetcd sets it untyped
            await asyncio.wait_for(self._connected.wait(), self._connect_wait_timeout)
            return
        # aetcd's connect() with a secure channel (no username/password: TLS identifies us).
        try:
            self._is_connecting = True
            self.channel = aetcd.rpc.secure_channel(f"{self._host}:{self._port}", self._credentials,
                                                    options=self._options.items())
            self.kvstub = aetcd.rpc.KVStub(self.channel)
            self.clusterstub = aetcd.rpc.ClusterStub(self.channel)
            self.leasestub = aetcd.rpc.LeaseStub(self.channel)
            self.maintenancestub = aetcd.rpc.MaintenanceStub(self.channel)
            self._watcher = aetcd.watcher.Watcher(aetcd.rpc.WatchStub(self.channel), timeout=self._timeout,
                                                  metadata=self.metadata)
            self._connected.set()
        finally:
            self._is_connecting = False


# HTTP/2 pings on a connection with calls in flight (a watch stream always is): a member
# that vanished without a reset (its machine, or namespace, gone) fails the channel's calls
# within about 15 s instead of leaving a watch waiting forever. etcd refuses pings closer
# than its --grpc-keepalive-min-time (5 s) and, by default, pings without calls.
KEEPALIVE = {"grpc.keepalive_time_ms": 10_000, "grpc.keepalive_timeout_ms": 5_000,
             "grpc.keepalive_permit_without_calls": 0}


def new_client(endpoint: str, tls: TLS | None = None, *, timeout: float | None = None,
               options: dict[str, Any] | None = None) -> Client:
    """A client of one endpoint: TLS for https:// (with `tls`'s files), plain for http://."""
    host, port = host_port(endpoint)
    creds = (tls or TLS()).credentials() if scheme(endpoint) == "https" else None
    return Client(host=host, port=port, timeout=timeout, options={**KEEPALIVE, **(options or {})},
                  credentials=creds)
